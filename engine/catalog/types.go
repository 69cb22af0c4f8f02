package catalog

import (
	"encoding/json"
	"fmt"
	"time"
)

// AccountKind says what sort of Microsoft account an account is.
type AccountKind string

// Account kinds.
const (
	AccountWork     AccountKind = "work"     // Microsoft Entra ID (work or school)
	AccountPersonal AccountKind = "personal" // Microsoft account (outlook.com)
)

// Account is one signed-in Microsoft 365 identity whose data is backed up.
type Account struct {
	HomeID      string // MSAL home account id: the stable key
	UPN         string // user principal name, e.g. paul@contoso.com
	DisplayName string
	Kind        AccountKind
}

// SnapshotKind is what a snapshot covers.
type SnapshotKind string

// Snapshot kinds.
const (
	SnapshotMail      SnapshotKind = "mail"
	SnapshotOneDrive  SnapshotKind = "onedrive"
	SnapshotCalendar  SnapshotKind = "calendar"  // every calendar of a mailbox
	SnapshotContacts  SnapshotKind = "contacts"  // every contact folder of a mailbox
	SnapshotTeams     SnapshotKind = "teams"     // every channel conversation of a team
	SnapshotGroupMail SnapshotKind = "groupmail" // a Microsoft 365 group's conversations
)

// ItemKind is the kind of a catalogued item.
type ItemKind string

// Item kinds. Mail items live in mail snapshots, files in onedrive snapshots.
const (
	KindMail    ItemKind = "mail"
	KindFile    ItemKind = "file"
	KindEvent   ItemKind = "event"   // in calendar snapshots
	KindContact ItemKind = "contact" // in contacts snapshots
	// KindChatMessage is a channel message or reply, in teams snapshots.
	KindChatMessage ItemKind = "chatmessage"
	// KindGroupPost is a post of a group conversation, in groupmail snapshots.
	KindGroupPost ItemKind = "grouppost"
)

// SnapshotKind returns the kind of snapshot items of kind k belong to.
func (k ItemKind) SnapshotKind() (SnapshotKind, error) {
	switch k {
	case KindMail:
		return SnapshotMail, nil
	case KindFile:
		return SnapshotOneDrive, nil
	case KindEvent:
		return SnapshotCalendar, nil
	case KindContact:
		return SnapshotContacts, nil
	case KindChatMessage:
		return SnapshotTeams, nil
	case KindGroupPost:
		return SnapshotGroupMail, nil
	}
	return "", fmt.Errorf("%w: item kind %q", ErrInvalid, k)
}

// ItemKind returns the kind of items a snapshot of kind k holds.
func (k SnapshotKind) ItemKind() (ItemKind, error) {
	switch k {
	case SnapshotMail:
		return KindMail, nil
	case SnapshotOneDrive:
		return KindFile, nil
	case SnapshotCalendar:
		return KindEvent, nil
	case SnapshotContacts:
		return KindContact, nil
	case SnapshotTeams:
		return KindChatMessage, nil
	case SnapshotGroupMail:
		return KindGroupPost, nil
	}
	return "", fmt.Errorf("%w: snapshot kind %q", ErrInvalid, k)
}

// SnapshotStatus is where a snapshot is in its life.
type SnapshotStatus string

// Snapshot statuses.
const (
	// SnapshotPending: a run is writing it; not yet saved in the repository.
	SnapshotPending SnapshotStatus = "pending"
	// SnapshotComplete: saved in the repository under RepoID.
	SnapshotComplete SnapshotStatus = "complete"
)

// Snapshot is the catalog's record of one repository snapshot.
type Snapshot struct {
	Seq     int64  // assigned by the catalog, increasing
	RepoID  string // the repository snapshot ID (hex); empty while pending
	Account string // Account.HomeID
	Kind    SnapshotKind
	Time    time.Time
	Status  SnapshotStatus
	Parent  string // repository ID of the previous snapshot of the stream
	RunID   int64  // the run that made it, 0 if unknown (e.g. rebuilt)
}

// RunStatus is the outcome of a backup run.
type RunStatus string

// Run statuses.
const (
	RunRunning               RunStatus = "running"
	RunCompleted             RunStatus = "completed"
	RunCompletedWithWarnings RunStatus = "completed-with-warnings"
	RunFailed                RunStatus = "failed"
	RunCancelled             RunStatus = "cancelled"
)

// Counts are what a run did.
type Counts struct {
	ItemsNew, ItemsChanged, ItemsDeleted, ItemsSkipped int64
	BytesNew, BytesChanged, BytesDeleted, BytesSkipped int64
}

// RunResult is what FinishRun records.
type RunResult struct {
	Ended    time.Time // default: Options.Now()
	Status   RunStatus
	Counts   Counts
	Warnings []string
	Error    string
}

// Run is one backup run as recorded in the catalog.
type Run struct {
	ID      int64
	Started time.Time
	RunResult
	Skipped []SkippedItem
}

// SkippedItem is an item a run could not back up.
type SkippedItem struct {
	Account  string // Account.HomeID; may be empty
	ItemRef  string // e.g. the Graph id or path, as shown to the user
	Reason   string
	Attempts int // how many runs in a row skipped it; 0 = work it out
}

// ItemRef names an item: its Graph identity within an account.
type ItemRef struct {
	Account string   // Account.HomeID
	Kind    ItemKind // KindMail or KindFile
	ID      string   // Graph message id or drive item id
}

// Person is a sender or recipient.
type Person struct {
	Name    string `json:"name,omitempty"`
	Address string `json:"address,omitempty"`
}

// Version is one state of an item, as a backup run saw it.
//
// Content, Size, Name, Folder, Time and Metadata are the versioned state:
// if any differs from the item's current version, a new version starts.
// People, Attachments and Body are only indexed for search; when they are
// empty and Content is unchanged the previously indexed text is kept (a
// metadata-only change need not fetch the message again), and an
// unchanged version keeps the text it was indexed with.
type Version struct {
	Item              ItemRef
	InternetMessageID string // mail only

	Content  string          // where the bytes are in the repository (opaque to the catalog)
	Size     int64           // content size in bytes
	Name     string          // mail subject or file name
	Folder   string          // mail folder path or the file's parent path, "/"-separated
	Time     time.Time       // received (mail) or last modified (file)
	Metadata json.RawMessage // any JSON; compared byte for byte after compacting

	People      []Person // from, to, cc
	Attachments []string // attachment file names
	Body        string   // plain body text
}

// Change says what Upsert did.
type Change int

// Changes.
const (
	Unchanged Change = iota // same as the current version; its range extends
	Added                   // a new item
	Modified                // a new version of an existing item
	Restored                // an item that had been deleted is back
	Removed                 // Delete closed the item's current version
)

func (c Change) String() string {
	switch c {
	case Unchanged:
		return "unchanged"
	case Added:
		return "added"
	case Modified:
		return "modified"
	case Restored:
		return "restored"
	case Removed:
		return "removed"
	}
	return fmt.Sprintf("Change(%d)", int(c))
}

// VersionInfo is a stored version with its snapshot range.
type VersionInfo struct {
	ID     int64 // version id
	ItemID int64
	Item   ItemRef

	InternetMessageID string
	Content           string
	Size              int64
	Name              string
	Folder            string
	Time              time.Time
	Metadata          json.RawMessage

	First int64 // first snapshot seq the version existed in
	Last  int64 // last snapshot seq it existed in (the stream's latest while current)
	End   int64 // the snapshot that replaced or deleted it; 0 while current
}

// Current reports whether the version is its item's current state.
func (v VersionInfo) Current() bool { return v.End == 0 }

// Deleted is an item that is gone, with its last version.
type Deleted struct {
	VersionInfo
	DeletedSeq int64     // the snapshot in which it was found gone
	DeletedAt  time.Time // that snapshot's time
}
