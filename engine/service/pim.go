package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/backup"
	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/pim"
)

// EventPreview is what the preview of a calendar event shows: when, where
// and who.
type EventPreview struct {
	// Start and End are in the event's own time zone.
	Start, End time.Time
	AllDay     bool
	// TimeZone is the zone as Outlook names it ("W. Europe Standard Time").
	TimeZone  string
	Location  string
	Organizer string
	Attendees []string
	// Repeats describes a series ("Every Monday, 8 times"); "" for a
	// single event. Changed and Cancelled count its exceptions.
	Repeats            string
	Changed, Cancelled int
	Body               string
	Attachments        []PreviewAttachment
}

// ContactPreview is a contact card.
type ContactPreview struct {
	Company, JobTitle string
	Emails, Phones    []string
	Address           string
	// Photo is the contact's picture (PhotoType its media type), nil
	// when it has none.
	Photo     []byte
	PhotoType string
	Notes     string
}

// maxPreviewPhoto bounds the photo a contact card reads.
const maxPreviewPhoto = 4 << 20

// previewPIM reads an event or a contact from the backup for its preview.
func (b *Browser) previewPIM(ctx context.Context, v catalog.VersionInfo) (Preview, error) {
	pv := Preview{Kind: v.Item.Kind, Name: v.Name, Folder: v.Folder, Size: v.Size, Date: v.Time}
	raw, err := b.readContent(ctx, v.Content, pim.MaxItemJSON)
	if err != nil {
		return pv, fmt.Errorf("reading %q from the backup: %w", v.Name, err)
	}
	if v.Item.Kind == catalog.KindEvent {
		ev, err := pim.ParseEvent(raw)
		if err != nil {
			return pv, fmt.Errorf("the backed-up event %q: %w", v.Name, err)
		}
		meta, err := backup.ParseEventMetadata(v.Metadata)
		if err != nil {
			b.s.o.Logger.Warn("event metadata unreadable", "version", v.ID, "err", err)
		}
		pv.Event = eventPreview(ev, meta)
		return pv, nil
	}
	c, err := pim.ParseContact(raw)
	if err != nil {
		return pv, fmt.Errorf("the backed-up contact %q: %w", v.Name, err)
	}
	meta, err := backup.ParseContactMetadata(v.Metadata)
	if err != nil {
		b.s.o.Logger.Warn("contact metadata unreadable", "version", v.ID, "err", err)
	}
	cp := contactPreview(c)
	if meta.Photo != "" {
		// A photo that cannot be read only costs the card its picture.
		if photo, err := b.readContent(ctx, meta.Photo, maxPreviewPhoto); err == nil {
			cp.Photo, cp.PhotoType = photo, meta.PhotoType
		} else {
			b.s.o.Logger.Warn("contact photo unreadable", "version", v.ID, "err", err)
		}
	}
	pv.Contact = cp
	return pv, nil
}

// readContent reads a catalog content reference from the backup, at most
// limit bytes.
func (b *Browser) readContent(ctx context.Context, content string, limit int64) ([]byte, error) {
	ref, err := backup.DecodeContent(content)
	if err != nil {
		return nil, err
	}
	rc := b.r.OpenStream(ctx, ref)
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, errors.New("it is too large to show")
	}
	return data, nil
}

func eventPreview(ev *pim.Event, meta backup.EventMetadata) *EventPreview {
	_, zone := ev.Zone()
	e := &EventPreview{Start: ev.LocalStart(), End: ev.LocalEnd(), AllDay: ev.IsAllDay, TimeZone: zone, Location: ev.Location.DisplayName,
		Repeats: Repeats(ev.Recurrence), Changed: len(ev.ExceptionOccurrences), Cancelled: len(ev.CancelledOccurrences)}
	if ev.Organizer != nil {
		e.Organizer = PersonText(ev.Organizer.EmailAddress.Name, ev.Organizer.EmailAddress.Address)
	}
	for _, a := range ev.Attendees {
		if p := PersonText(a.EmailAddress.Name, a.EmailAddress.Address); p != "" {
			e.Attendees = append(e.Attendees, p)
		}
	}
	body := ev.BodyText()
	if len(body) > maxPreviewBody {
		body = body[:maxPreviewBody] + "…"
	}
	e.Body = body
	for _, a := range meta.Attachments {
		e.Attachments = append(e.Attachments, PreviewAttachment{Name: a.Name, Size: a.Size})
	}
	return e
}

func contactPreview(c *pim.Contact) *ContactPreview {
	cp := &ContactPreview{Company: c.CompanyName, JobTitle: c.JobTitle, Phones: c.Phones(), Notes: c.PersonalNotes}
	for _, e := range c.EmailAddresses {
		if e.Address != "" {
			cp.Emails = append(cp.Emails, e.Address)
		}
	}
	for _, a := range []pim.Address{c.BusinessAddress, c.HomeAddress, c.OtherAddress} {
		city := strings.TrimSpace(a.PostalCode + " " + a.City)
		var parts []string
		for _, p := range []string{a.Street, city, a.State, a.CountryOrRegion} {
			if p = strings.TrimSpace(p); p != "" {
				parts = append(parts, p)
			}
		}
		if len(parts) > 0 {
			cp.Address = strings.Join(parts, ", ")
			break
		}
	}
	return cp
}

// Repeats describes a recurrence in words: "Every Monday, 8 times",
// "Every 2 weeks on Monday and Thursday, until 30 June 2026", "Every
// month on the first Friday"; "" for none.
func Repeats(r *pim.Recurrence) string {
	if r == nil || r.Pattern.Type == "" {
		return ""
	}
	p := r.Pattern
	n := max(p.Interval, 1)
	every := func(one, many string) string {
		if n == 1 {
			return "Every " + one
		}
		return "Every " + strconv.Itoa(n) + " " + many
	}
	days := dayList(p.DaysOfWeek)
	var s string
	switch p.Type {
	case "daily":
		s = every("day", "days")
	case "weekly":
		switch {
		case n == 1 && days != "":
			s = "Every " + days
		case days != "":
			s = every("week", "weeks") + " on " + days
		default:
			s = every("week", "weeks")
		}
	case "absoluteMonthly":
		s = every("month", "months") + " on day " + strconv.Itoa(p.DayOfMonth)
	case "relativeMonthly":
		s = every("month", "months") + " on the " + p.Index + " " + days
	case "absoluteYearly":
		s = every("year", "years") + " on " + strconv.Itoa(p.DayOfMonth) + " " + monthName(p.Month)
	case "relativeYearly":
		s = every("year", "years") + " on the " + p.Index + " " + days + " of " + monthName(p.Month)
	default:
		s = "Repeats"
	}
	switch r.Range.Type {
	case "numbered":
		if r.Range.NumberOfOccurrences > 0 {
			s += ", " + strconv.Itoa(r.Range.NumberOfOccurrences) + " times"
		}
	case "endDate":
		if t, err := time.Parse(time.DateOnly, r.Range.EndDate); err == nil {
			s += ", until " + t.Format("2 January 2006")
		}
	}
	return strings.TrimSpace(s)
}

func dayList(days []string) string {
	var out []string
	for _, d := range days {
		if d == "" {
			continue
		}
		out = append(out, strings.ToUpper(d[:1])+strings.ToLower(d[1:]))
	}
	switch len(out) {
	case 0:
		return ""
	case 1:
		return out[0]
	}
	return strings.Join(out[:len(out)-1], ", ") + " and " + out[len(out)-1]
}

func monthName(m int) string {
	if m < 1 || m > 12 {
		return ""
	}
	return time.Month(m).String()
}

// SummarizePIM is what a list row of an event or a contact shows in the
// sender's place: a meeting's organizer; a contact's company, else its
// first e-mail address. It is "" for other items (the row then shows the
// calendar or contact folder).
func SummarizePIM(v catalog.VersionInfo) string {
	switch v.Item.Kind {
	case catalog.KindEvent:
		m, err := backup.ParseEventMetadata(v.Metadata)
		if err != nil || len(m.Attendees) == 0 {
			return ""
		}
		return PersonText(m.Organizer.Name, m.Organizer.Address)
	case catalog.KindContact:
		m, err := backup.ParseContactMetadata(v.Metadata)
		if err != nil {
			return ""
		}
		if m.Company != "" {
			return m.Company
		}
		if len(m.Emails) > 0 {
			return m.Emails[0].Address
		}
	}
	return ""
}

// Holdings counts what the chosen backup holds now (the items of
// everyone that still exist), by kind; nil before a first backup.
func (s *Service) Holdings(ctx context.Context) (map[catalog.ItemKind]int64, error) {
	c, err := s.chosenCatalog(ctx)
	if err != nil || c == nil {
		return nil, err
	}
	defer c.Close()
	return c.CurrentCounts(ctx)
}
