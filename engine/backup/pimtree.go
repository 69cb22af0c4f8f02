package backup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/repo"
)

// Snapshot kinds of calendars and contacts (FORMAT.md).
const (
	KindCalendar = "calendar"
	KindContacts = "contacts"
)

// Tree formats of calendar and contacts snapshots. They are new formats
// rather than new fields of the mail ones, so that an older Lifeboat's
// prune refuses these snapshots instead of freeing what they reference.
const (
	pimRootFormat = "lifeboat-backup-pim-root/1"
	pimPageFormat = "lifeboat-backup-pim-page/1"
)

// State keys of calendar and contacts snapshots.
const (
	stateContactFolderPrefix = "contacts.folder." // + folder ID: contact delta link
)

// Bounds on what Graph serves for one item: larger or unreadable items are
// skipped with the reason.
const (
	maxItemJSON      = 16 << 20
	maxAttachmentsPI = 250
)

// pimRoot is the root tree of a calendar or contacts snapshot.
type pimRoot struct {
	Format    string          `json:"format"`
	Kind      string          `json:"kind"`
	Account   string          `json:"account,omitempty"`
	Calendars []calendarEntry `json:"calendars,omitempty"`
	Folders   []cfolderEntry  `json:"contactFolders,omitempty"`
}

// calendarEntry is one calendar of a calendar root.
type calendarEntry struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	IsDefault bool      `json:"isDefault,omitempty"`
	Count     int       `json:"count"`
	Pages     []repo.ID `json:"pages,omitempty"`
}

// cfolderEntry is one contact folder of a contacts root.
type cfolderEntry struct {
	ID       string    `json:"id"`
	ParentID string    `json:"parentId,omitempty"`
	Name     string    `json:"name"`
	Path     string    `json:"path"`
	Count    int       `json:"count"`
	Pages    []repo.ID `json:"pages,omitempty"`
}

type pimPage struct {
	Format   string    `json:"format"`
	Events   []Event   `json:"events,omitempty"`
	Contacts []Contact `json:"contacts,omitempty"`
}

// Event is one event (a single instance or a series master with its
// exceptions) as a snapshot records it: Content is the JSON Graph served
// (exceptionOccurrences expanded), Attachments the files attached to it
// or to its exceptions.
type Event struct {
	ID          string            `json:"id"`
	ChangeKey   string            `json:"changeKey,omitempty"`
	Type        string            `json:"type,omitempty"`
	Subject     string            `json:"subject,omitempty"`
	Start       time.Time         `json:"start,omitzero"`
	End         time.Time         `json:"end,omitzero"`
	Content     repo.ContentRef   `json:"content"`
	Attachments []EventAttachment `json:"attachments,omitempty"`
}

// EventAttachment is a file attached to an event or to one of its
// exceptions (EventID); Content is the attachment's JSON as Graph served
// it, contentBytes included.
type EventAttachment struct {
	ID          string          `json:"id"`
	EventID     string          `json:"eventId"`
	Name        string          `json:"name"`
	ContentType string          `json:"contentType,omitempty"`
	Size        int64           `json:"size"`
	IsInline    bool            `json:"isInline,omitempty"`
	Content     repo.ContentRef `json:"content"`
}

// Contact is one contact as a snapshot records it: its JSON as Graph
// served it and its photo.
type Contact struct {
	ID          string           `json:"id"`
	ChangeKey   string           `json:"changeKey,omitempty"`
	DisplayName string           `json:"displayName,omitempty"`
	Content     repo.ContentRef  `json:"content"`
	PhotoType   string           `json:"photoType,omitempty"`
	Photo       *repo.ContentRef `json:"photo,omitempty"`
}

func pimRefs(tree []byte, format string) ([]repo.ID, error) {
	var ids []repo.ID
	switch format {
	case pimRootFormat:
		var rt pimRoot
		if err := json.Unmarshal(tree, &rt); err != nil {
			return nil, fmt.Errorf("backup: calendar or contacts root: %w", err)
		}
		for _, c := range rt.Calendars {
			ids = append(ids, c.Pages...)
		}
		for _, f := range rt.Folders {
			ids = append(ids, f.Pages...)
		}
	case pimPageFormat:
		var p pimPage
		if err := json.Unmarshal(tree, &p); err != nil {
			return nil, fmt.Errorf("backup: calendar or contacts page: %w", err)
		}
		for _, e := range p.Events {
			ids = append(ids, e.Content.Chunks...)
			for _, a := range e.Attachments {
				ids = append(ids, a.Content.Chunks...)
			}
		}
		for _, c := range p.Contacts {
			ids = append(ids, c.Content.Chunks...)
			if c.Photo != nil {
				ids = append(ids, c.Photo.Chunks...)
			}
		}
	}
	return ids, nil
}

func loadPIMRoot(ctx context.Context, r *repo.Repository, id repo.ID) (*pimRoot, error) {
	b, err := r.LoadBlob(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("backup: loading snapshot tree: %w", err)
	}
	var rt pimRoot
	if err := json.Unmarshal(b, &rt); err != nil {
		return nil, fmt.Errorf("backup: snapshot tree %s: %w", id.Short(), err)
	}
	if rt.Format != pimRootFormat {
		return nil, fmt.Errorf("backup: snapshot tree %s: %w (format %q)", id.Short(), ErrUnknownTree, rt.Format)
	}
	return &rt, nil
}

func loadPIMPage(ctx context.Context, r *repo.Repository, id repo.ID) (*pimPage, error) {
	b, err := r.LoadBlob(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("backup: loading tree page: %w", err)
	}
	var p pimPage
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("backup: tree page %s: %w", id.Short(), err)
	}
	if p.Format != pimPageFormat {
		return nil, fmt.Errorf("backup: tree page %s: %w (format %q)", id.Short(), ErrUnknownTree, p.Format)
	}
	return &p, nil
}

func saveEvents(ctx context.Context, r *repo.Repository, evs map[string]*Event) ([]repo.ID, error) {
	list := make([]Event, 0, len(evs))
	for _, e := range evs {
		list = append(list, *e)
	}
	slices.SortFunc(list, func(a, b Event) int { return strings.Compare(a.ID, b.ID) })
	var ids []repo.ID
	for _, p := range splitPages(list, func(e Event) string { return e.ID }) {
		id, err := saveTree(ctx, r, pimPage{Format: pimPageFormat, Events: p})
		if err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, nil
}

func saveContacts(ctx context.Context, r *repo.Repository, cs map[string]*Contact) ([]repo.ID, error) {
	list := make([]Contact, 0, len(cs))
	for _, c := range cs {
		list = append(list, *c)
	}
	slices.SortFunc(list, func(a, b Contact) int { return strings.Compare(a.ID, b.ID) })
	var ids []repo.ID
	for _, p := range splitPages(list, func(c Contact) string { return c.ID }) {
		id, err := saveTree(ctx, r, pimPage{Format: pimPageFormat, Contacts: p})
		if err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// PIMContents is what a calendar or contacts snapshot holds.
type PIMContents struct {
	Kind      string
	Account   string
	Calendars []CalendarContents
	Folders   []ContactFolderContents
}

// CalendarContents is one calendar of a snapshot with its events.
type CalendarContents struct {
	ID, Name  string
	IsDefault bool
	Events    []Event
}

// ContactFolderContents is one contact folder of a snapshot.
type ContactFolderContents struct {
	ID, ParentID, Name, Path string
	Contacts                 []Contact
}

// ReadPIMSnapshot loads a calendar or contacts snapshot's whole tree.
func ReadPIMSnapshot(ctx context.Context, r *repo.Repository, id repo.ID) (*PIMContents, error) {
	s, err := r.LoadSnapshot(ctx, id)
	if err != nil {
		return nil, err
	}
	rt, err := loadPIMRoot(ctx, r, s.Root)
	if err != nil {
		return nil, err
	}
	out := &PIMContents{Kind: rt.Kind, Account: rt.Account}
	for _, c := range rt.Calendars {
		cc := CalendarContents{ID: c.ID, Name: c.Name, IsDefault: c.IsDefault}
		for _, pid := range c.Pages {
			p, err := loadPIMPage(ctx, r, pid)
			if err != nil {
				return nil, err
			}
			cc.Events = append(cc.Events, p.Events...)
		}
		out.Calendars = append(out.Calendars, cc)
	}
	for _, f := range rt.Folders {
		fc := ContactFolderContents{ID: f.ID, ParentID: f.ParentID, Name: f.Name, Path: f.Path}
		for _, pid := range f.Pages {
			p, err := loadPIMPage(ctx, r, pid)
			if err != nil {
				return nil, err
			}
			fc.Contacts = append(fc.Contacts, p.Contacts...)
		}
		out.Folders = append(out.Folders, fc)
	}
	return out, nil
}

var errItemJSON = errors.New("the data Microsoft sent for this item cannot be read")
