package restore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/backup"
	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/graph"
	"github.com/lifeboat-backup/lifeboat/engine/pim"
)

// PIM is the part of Graph a restore of events and contacts uses
// (*graph.Client).
type PIM interface {
	EnsureCalendar(ctx context.Context, user, name string) (graph.Calendar, error)
	CreateEvent(ctx context.Context, user, calendarID string, body map[string]any) ([]byte, error)
	UpdateEvent(ctx context.Context, user, eventID string, patch map[string]any) error
	DeleteEvent(ctx context.Context, user, eventID string) error
	ListInstances(ctx context.Context, user, masterID string, from, to time.Time) ([]graph.Instance, error)
	AddEventAttachment(ctx context.Context, user, eventID string, have int, att map[string]any) error
	EnsureContactFolder(ctx context.Context, user, name string) (graph.ContactFolder, error)
	CreateContact(ctx context.Context, user, folderID string, body map[string]any) (string, error)
	SetContactPhoto(ctx context.Context, user, contactID string, photo []byte, contentType string) error
}

// WithCalendarsAndContacts lets a ToOriginal or ToNewFolder destination
// restore events and contacts too, through p.
func WithCalendarsAndContacts(d Destination, p PIM) Destination {
	if g, ok := d.(*graphDest); ok {
		g.pim = p
	}
	return d
}

// contentUser is a destination that reads more than an item's main
// content (attachments, photos); Execute hands it the content source.
type contentUser interface{ useContent(ContentSource) }

func (g *graphDest) useContent(c ContentSource) { g.content = c }

// maxPIMContent bounds what is read of an event's or contact's JSON.
const maxPIMContent = pim.MaxItemJSON

// MeetingNote is what the review step says of a meeting.
const MeetingNote = "a meeting: it comes back as an appointment in your calendar with its attendee list in the description, so nobody is invited"

func (g *graphDest) planPIM(v catalog.VersionInfo) (Step, error) {
	folder := v.Folder
	if g.top != "" {
		folder = g.top
	}
	s := Step{Item: v, Action: ActionCreate, Folder: folder, Name: v.Name, Path: strings.TrimPrefix(folder+"/"+v.Name, "/")}
	if g.pim == nil {
		return s, problem("restore: no calendar or address book to restore %q into", v.Name)
	}
	if v.Item.Kind == catalog.KindEvent {
		if m, err := backup.ParseEventMetadata(v.Metadata); err == nil && len(m.Attendees) > 0 {
			s.Reason = MeetingNote
		}
	}
	return s, nil
}

// transactionID is the same for the same version restored to the same
// place, so a restore run again after an interruption (or a create whose
// answer was lost) never makes a second copy.
func (g *graphDest) transactionID(v catalog.VersionInfo, calendarID string) string {
	h := sha256.Sum256([]byte(g.key() + "\x00" + v.Item.Account + "\x00" + v.Item.ID + "\x00" + fmt.Sprint(v.ID) + "\x00" + calendarID))
	x := hex.EncodeToString(h[:16])
	return x[0:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:32]
}

func readAllBounded(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxPIMContent+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxPIMContent {
		return nil, errors.New("the item is too large")
	}
	return b, nil
}

func (g *graphDest) ensureCalendar(ctx context.Context, name string) (string, error) {
	g.ensureMu.Lock()
	defer g.ensureMu.Unlock()
	key := "cal:" + foldKey(name)
	if id, ok := g.ensured[key]; ok {
		return id, nil
	}
	c, err := g.pim.EnsureCalendar(ctx, g.user, name)
	if err != nil {
		return "", err
	}
	if g.ensured == nil {
		g.ensured = map[string]string{}
	}
	g.ensured[key] = c.ID
	return c.ID, nil
}

func (g *graphDest) writeEvent(ctx context.Context, s *Step, content io.Reader) error {
	raw, err := readAllBounded(content)
	if err != nil {
		return fmt.Errorf("restore: event %q: %w", s.Name, err)
	}
	ev, err := pim.ParseEvent(raw)
	if err != nil {
		return fmt.Errorf("restore: event %q: %w", s.Name, err)
	}
	meta, err := backup.ParseEventMetadata(s.Item.Metadata)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	name := s.Folder
	if name == "" {
		name = "Calendar"
	}
	calID, err := g.ensureCalendar(ctx, name)
	if err != nil {
		return fmt.Errorf("restore: calendar %q: %w", name, err)
	}
	created, err := g.pim.CreateEvent(ctx, g.user, calID, ev.RestoreBody(g.transactionID(s.Item, calID)))
	if err != nil {
		return fmt.Errorf("restore: event %q: %w", s.Name, err)
	}
	var made struct {
		ID             string `json:"id"`
		HasAttachments bool   `json:"hasAttachments"`
	}
	if json.Unmarshal(created, &made) != nil || made.ID == "" {
		return fmt.Errorf("restore: event %q: the calendar did not say what it created", s.Name)
	}
	// Exceptions and cancelled occurrences are changes of the new series'
	// occurrences, found by their original start.
	ids := map[string]string{ev.ID: made.ID}
	if ev.Recurrence != nil && (len(ev.ExceptionOccurrences) > 0 || len(ev.CancelledOccurrences) > 0) {
		if err := g.applyExceptions(ctx, ev, made.ID, ids); err != nil {
			return fmt.Errorf("restore: event %q: %w", s.Name, err)
		}
	}
	if made.HasAttachments {
		// The transactionId matched an event an earlier, interrupted run
		// of this restore made, attachments and all.
		return nil
	}
	for _, a := range meta.Attachments {
		target, ok := ids[a.EventID]
		if !ok {
			continue // its exception was not there to attach it to
		}
		if err := g.attach(ctx, target, a); err != nil {
			return fmt.Errorf("restore: event %q: attachment %q: %w", s.Name, a.Name, err)
		}
	}
	return nil
}

func (g *graphDest) applyExceptions(ctx context.Context, ev *pim.Event, masterID string, ids map[string]string) error {
	loc, _ := ev.Zone()
	start := ev.LocalStart().Add(-24 * time.Hour)
	end := start.Add(48 * time.Hour)
	for _, x := range ev.ExceptionOccurrences {
		if x.OriginalStart != nil && x.OriginalStart.After(end) {
			end = x.OriginalStart.Add(48 * time.Hour)
		}
	}
	dates := ev.CancelledDates()
	for _, d := range dates {
		if t, err := time.ParseInLocation(time.DateOnly, d, loc); err == nil && t.After(end) {
			end = t.Add(48 * time.Hour)
		}
	}
	inst, err := g.pim.ListInstances(ctx, g.user, masterID, start, end)
	if err != nil {
		return err
	}
	byStart := map[int64]string{}
	byDate := map[string]string{}
	for _, in := range inst {
		byStart[in.OriginalStart.Unix()] = in.ID
		byDate[in.OriginalStart.In(loc).Format(time.DateOnly)] = in.ID
	}
	for i := range ev.ExceptionOccurrences {
		x := &ev.ExceptionOccurrences[i]
		if x.OriginalStart == nil {
			continue
		}
		id, ok := byStart[x.OriginalStart.Unix()]
		if !ok {
			return fmt.Errorf("the changed occurrence of %s is not in the restored series", x.OriginalStart.In(loc).Format(time.DateOnly))
		}
		if err := g.pim.UpdateEvent(ctx, g.user, id, x.ExceptionPatch()); err != nil {
			return err
		}
		ids[x.ID] = id
	}
	for _, d := range dates {
		if id, ok := byDate[d]; ok {
			// An occurrence of an appointment: deleting it sends nothing.
			if err := g.pim.DeleteEvent(ctx, g.user, id); err != nil {
				return err
			}
		}
	}
	return nil
}

// attach adds a backed-up attachment (its JSON as Graph served it).
func (g *graphDest) attach(ctx context.Context, eventID string, a backup.EventAttachment) error {
	if g.content == nil {
		return errors.New("no backup to read the attachment from")
	}
	rc := g.content.OpenStream(ctx, a.Content)
	raw, err := readAllBounded(rc)
	rc.Close()
	if err != nil {
		return err
	}
	var in struct {
		Name         string `json:"name"`
		ContentType  string `json:"contentType"`
		ContentBytes string `json:"contentBytes"`
		IsInline     bool   `json:"isInline"`
		ContentID    string `json:"contentId"`
	}
	if err := json.Unmarshal(raw, &in); err != nil {
		return fmt.Errorf("the backed-up attachment is unreadable: %w", err)
	}
	body := map[string]any{"@odata.type": "#microsoft.graph.fileAttachment", "name": in.Name, "contentType": in.ContentType,
		"contentBytes": in.ContentBytes, "isInline": in.IsInline}
	if in.ContentID != "" {
		body["contentId"] = in.ContentID
	}
	// Each attachment goes onto a new event, so "have" is what this
	// restore already put there.
	g.mu.Lock()
	if g.attached == nil {
		g.attached = map[string]int{}
	}
	have := g.attached[eventID]
	g.mu.Unlock()
	if err := g.pim.AddEventAttachment(ctx, g.user, eventID, have, body); err != nil {
		return err
	}
	g.mu.Lock()
	g.attached[eventID]++
	g.mu.Unlock()
	return nil
}

func (g *graphDest) writeContact(ctx context.Context, s *Step, content io.Reader) error {
	raw, err := readAllBounded(content)
	if err != nil {
		return fmt.Errorf("restore: contact %q: %w", s.Name, err)
	}
	c, err := pim.ParseContact(raw)
	if err != nil {
		return fmt.Errorf("restore: contact %q: %w", s.Name, err)
	}
	meta, err := backup.ParseContactMetadata(s.Item.Metadata)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	// "Contacts" is the default folder; "Contacts/Suppliers/…" goes into a
	// top-level folder named after its first level below it.
	folderID := ""
	name := ""
	if g.top != "" {
		name = g.top
	} else if rest, ok := strings.CutPrefix(s.Folder, "Contacts/"); ok {
		name, _, _ = strings.Cut(rest, "/")
	}
	if name != "" {
		g.ensureMu.Lock()
		key := "contacts:" + foldKey(name)
		id, ok := g.ensured[key]
		if !ok {
			f, err := g.pim.EnsureContactFolder(ctx, g.user, name)
			if err != nil {
				g.ensureMu.Unlock()
				return fmt.Errorf("restore: contact folder %q: %w", name, err)
			}
			if g.ensured == nil {
				g.ensured = map[string]string{}
			}
			id = f.ID
			g.ensured[key] = id
		}
		g.ensureMu.Unlock()
		folderID = id
	}
	id, err := g.pim.CreateContact(ctx, g.user, folderID, c.RestoreBody())
	if err != nil {
		return fmt.Errorf("restore: contact %q: %w", s.Name, err)
	}
	if meta.Photo == "" {
		return nil
	}
	photo, err := readRef(ctx, g.content, meta.Photo)
	if err != nil {
		return fmt.Errorf("restore: the photo of %q: %w", s.Name, err)
	}
	if err := g.pim.SetContactPhoto(ctx, g.user, id, photo, meta.PhotoType); err != nil {
		return fmt.Errorf("restore: the photo of %q: %w", s.Name, err)
	}
	return nil
}

// readRef reads a catalog content reference from the backup, bounded.
func readRef(ctx context.Context, src ContentSource, ref string) ([]byte, error) {
	if src == nil {
		return nil, errors.New("no backup to read from")
	}
	r, err := backup.DecodeContent(ref)
	if err != nil {
		return nil, err
	}
	rc := src.OpenStream(ctx, r)
	defer rc.Close()
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, io.LimitReader(rc, maxPIMContent+1)); err != nil {
		return nil, err
	}
	if buf.Len() > maxPIMContent {
		return nil, errors.New("too large")
	}
	return buf.Bytes(), nil
}
