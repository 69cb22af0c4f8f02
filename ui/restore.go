// The restore wizard (issue #7): find something, choose its version, choose
// where it goes, review, and put it back.
//
// For the dashboard's "Restore…" button (the exact signatures):
//
//	func NewRestoreWizard(win fyne.Window, svc RestoreService, opts RestoreWizardOptions) fyne.CanvasObject
//	func ShowRestoreWindow(a fyne.App, svc RestoreService, opts RestoreWizardOptions) fyne.Window
//
// NewRestoreWizard returns the wizard as content for win (win is used for the
// folder picker and error dialogs); ShowRestoreWindow opens it in a window of
// its own, sized for 800×600 and up, closed by the wizard's Close button.
// The wizard calls svc only from background goroutines and updates itself
// with fyne.Do, so a slow backup drive never freezes the window. The app's
// implementation of RestoreService is in app/guirestore.go.

package ui

import (
	"context"
	"time"

	"fyne.io/fyne/v2"
)

// RestoreService is what the restore wizard needs from the engine. All
// methods are called off the UI goroutine and must honour ctx (a new query
// cancels the one before it).
type RestoreService interface {
	// Accounts lists the people whose mail and files the backup holds.
	Accounts(ctx context.Context) ([]RestoreAccount, error)
	// Backups lists the times a backup of the account's mail or files was
	// made, newest first: the points in time the owner can browse.
	Backups(ctx context.Context, account string, kind ItemKind) ([]time.Time, error)
	// Browse lists one folder as it was at a backup.
	Browse(ctx context.Context, q BrowseRequest) (FolderListing, error)
	// Search looks through everything the backup holds, newest first.
	Search(ctx context.Context, q RestoreSearch) ([]RestoreItem, error)
	// RecentlyDeleted lists what was deleted, most recently deleted first.
	RecentlyDeleted(ctx context.Context, limit int) ([]RestoreItem, error)
	// Versions lists every version of the item the backup holds, newest
	// first.
	Versions(ctx context.Context, item RestoreItem) ([]ItemVersion, error)
	// Preview describes one version: an email's text and attachments, or a
	// file's details.
	Preview(ctx context.Context, item RestoreItem) (ItemPreview, error)
	// Plan is a dry run: what Restore would do, changing nothing.
	Plan(ctx context.Context, req RestoreRequest) (RestorePlan, error)
	// Restore puts things back, reporting progress (from any goroutine)
	// until it returns. Cancelling ctx stops it; what was done stays done.
	Restore(ctx context.Context, req RestoreRequest, progress func(RestoreProgress)) (RestoreOutcome, error)
}

// ItemKind is an email, a file, a calendar event or a contact.
type ItemKind int

// Item kinds.
const (
	ItemEmail ItemKind = iota + 1
	ItemFile
	ItemEvent   // a calendar event (a series with its exceptions is one)
	ItemContact // a contact of an address book
)

// RestoreAccount is one person in the backup.
type RestoreAccount struct {
	ID    string // the service's handle
	Name  string // "Paul Baker"
	Email string
}

// RestoreItem is one version of an email or a file, or a folder in a
// FolderListing.
type RestoreItem struct {
	// ID is the service's handle of this version; Item of the item all
	// its versions share.
	ID, Item string
	Kind     ItemKind
	Account  RestoreAccount
	Name     string // an email's subject or a file's name
	From     string // an email's sender, as shown ("Paul Baker <paul@…>")
	Folder   string // mail folder or the file's folder, "/"-separated
	Date     time.Time
	Size     int64
	// Deleted is when the backup found it gone; zero if it still exists.
	Deleted time.Time
	// IsFolder marks a folder row of a FolderListing (Folder is its full
	// path).
	IsFolder bool
	// Attachment is set when an email has attachments.
	Attachment bool
}

// BrowseRequest selects a folder at a backup.
type BrowseRequest struct {
	Account string
	Kind    ItemKind
	At      time.Time // one of Backups; zero for the newest
	Folder  string    // "" is the top
}

// FolderListing is a folder's contents at a backup: subfolders first.
type FolderListing struct {
	At      time.Time // the backup actually used
	Folders []RestoreItem
	Items   []RestoreItem
}

// RestoreSearch is what the search box asks for.
type RestoreSearch struct {
	Text  string
	Kind  ItemKind // 0 for both
	Limit int
}

// ItemVersion is one version of an item.
type ItemVersion struct {
	RestoreItem
	// Seen and Until are the first and last backups that held this
	// version; Current marks the version that still exists.
	Seen, Until time.Time
	Current     bool
}

// ItemPreview describes one version of an item.
type ItemPreview struct {
	Kind ItemKind
	// Email: header lines and the plain text of the body.
	Subject, From, To, Cc string
	Date                  time.Time
	Body                  string
	BodyTruncated         bool
	Attachments           []PreviewAttachment
	// File: details.
	Name, Folder, Type string
	Size               int64
	Modified, Created  time.Time
	// Event: when, where, who (Name and Folder: subject and calendar).
	Event *EventPreview
	// Contact: the card (Name and Folder: name and contact folder).
	Contact *ContactPreview
}

// EventPreview is what the preview of a calendar event shows.
type EventPreview struct {
	Start, End time.Time // in the event's own time zone
	AllDay     bool
	TimeZone   string // as Outlook names it ("W. Europe Standard Time")
	Location   string
	Organizer  string   // "Zoë Bakker <zoe@…>"
	Attendees  []string // as shown
	Repeats    string   // "Every week, 8 times", "" for a single event
	Changed    int      // occurrences changed from the series
	Cancelled  int      // occurrences cancelled
	Body       string
	// Attachments are files attached to the event.
	Attachments []PreviewAttachment
}

// ContactPreview is a contact card.
type ContactPreview struct {
	Company, JobTitle string
	Emails, Phones    []string
	Address           string
	Photo             []byte // JPEG or PNG, nil when the contact has none
	Notes             string
}

// PreviewAttachment is an email attachment as listed in a preview.
type PreviewAttachment struct {
	Name string
	Size int64
}

// RestoreTarget is where restored things go.
type RestoreTarget int

// Restore targets.
const (
	ToOriginal  RestoreTarget = iota // back where it was
	ToNewFolder                      // a new folder in the mailbox or OneDrive
	ToComputer                       // a folder on this computer
)

// ConflictMode says what happens when something with the same name is
// already there.
type ConflictMode int

// Conflict modes.
const (
	ConflictKeepBoth  ConflictMode = iota // restore next to it under a new name
	ConflictOverwrite                     // replace it with the backed-up version
	ConflictSkip                          // leave it and do not restore this one
)

// FolderChoice is a whole folder as it was at a backup.
type FolderChoice struct {
	Account string
	Kind    ItemKind
	Folder  string
	At      time.Time
}

// RestoreRequest is what to put back, where, and what to do on conflicts.
type RestoreRequest struct {
	Items    []RestoreItem // each a chosen version
	Folders  []FolderChoice
	To       RestoreTarget
	Dir      string // ToComputer: the folder on this computer
	Conflict ConflictMode
}

// PlanAction is what a restore does with one item.
type PlanAction int

// Plan actions.
const (
	PlanCreate    PlanAction = iota // put back; nothing was in the way
	PlanRename                      // something was there; the restored one gets NewName
	PlanOverwrite                   // something was there and is replaced
	PlanSkip                        // something was there; this one is not restored
	PlanDone                        // an earlier, stopped attempt already put it back
)

// PlanStep is what a restore would do with one item.
type PlanStep struct {
	Action  PlanAction
	Kind    ItemKind
	Name    string // subject or file name
	Where   string // the destination folder as a person knows it ("Inbox/Invoices", "OneDrive/Documents", "/home/paul/Restored")
	NewName string // PlanRename: the name the restored one gets
	// Note says something the owner should know about this item (a
	// meeting comes back as an appointment, nobody is invited).
	Note string
}

// RestorePlan is the dry run.
type RestorePlan struct {
	Steps []PlanStep
	Bytes int64
}

// RestoreProgress is reported while a restore runs.
type RestoreProgress struct {
	Done, Total           int
	BytesDone, BytesTotal int64
	Current               string // what is being put back now
}

// RestoreOutcome is what a finished restore did.
type RestoreOutcome struct {
	Restored, Renamed, Overwritten, Skipped int
	Failed                                  []RestoreFailure
	// Places the owner can open: a web address (Outlook or OneDrive on the
	// web) and a folder on this computer; either may be empty.
	WebURL, LocalDir string
	// Where says where things went, as a person knows it.
	Where string
}

// RestoreFailure is one item that could not be put back.
type RestoreFailure struct {
	Name, Reason string
}

// RestoreProblem is an error with words for the owner: what went wrong and
// what to do. A RestoreService returns it (or wraps it) so the wizard can
// say something better than the error text.
type RestoreProblem struct {
	What, Todo string
	Err        error
}

func (p *RestoreProblem) Error() string {
	if p.Err != nil {
		return p.What + ": " + p.Err.Error()
	}
	return p.What
}

func (p *RestoreProblem) Unwrap() error { return p.Err }

// RestoreWizardOptions tunes the wizard.
type RestoreWizardOptions struct {
	// Do runs f on the UI goroutine (default fyne.DoAndWait). Tests pass
	// a queue they drain themselves, so only one goroutine touches widgets.
	Do func(f func())
	// OnClose is called by the Close button.
	OnClose func()
	// Debounce is how long typing must pause before a search runs
	// (default 200 ms).
	Debounce time.Duration
	// Now is the clock for "today"/"yesterday" labels (default time.Now).
	Now func() time.Time
	// OpenURL opens a web address or a local folder (default the app's
	// OpenURL).
	OpenURL func(u string) error
	// ChooseFolder shows a folder picker (default Fyne's folder dialog
	// on win); it calls done with the chosen path, or "" when cancelled.
	ChooseFolder func(done func(path string))
	// Before, when set, starts the Mail or Files tab (BeforeKind) at the
	// newest backup from before then: the wizard's offer after a wipe
	// alarm (restore_before.go).
	Before     time.Time
	BeforeKind ItemKind
}

// NewRestoreWizard returns the restore wizard as content for win.
func NewRestoreWizard(win fyne.Window, svc RestoreService, opts RestoreWizardOptions) fyne.CanvasObject {
	return newRestoreWizard(win, svc, opts).root
}

// ShowRestoreWindow opens the restore wizard in a window of its own and
// returns it; the wizard's Close button closes it, and closing it calls
// opts.OnClose (if set).
func ShowRestoreWindow(a fyne.App, svc RestoreService, opts RestoreWizardOptions) fyne.Window {
	w := a.NewWindow("Lifeboat — Get something back")
	onClose := opts.OnClose
	opts.OnClose = w.Close
	rw := newRestoreWizard(w, svc, opts)
	w.SetOnClosed(func() {
		rw.stop() // a restore in progress stops after its current item
		if onClose != nil {
			onClose()
		}
	})
	w.SetContent(rw.root)
	w.Resize(fyne.NewSize(1000, 680))
	w.Show()
	return w
}
