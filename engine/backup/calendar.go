package backup

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/graph"
	"github.com/lifeboat-backup/lifeboat/engine/pim"
	"github.com/lifeboat-backup/lifeboat/engine/repo"
)

// backupCalendars backs up every calendar of the mailbox. Graph v1.0 has
// no per-calendar events delta, so each calendar's events are listed with
// their changeKeys (one request per calendar of up to 1000 events) and
// only events whose changeKey moved are fetched; an event gone from every
// calendar is deleted. A series master comes with its exceptions and
// cancelled occurrences (which change the master's changeKey).
func (ru *run) backupCalendars(ctx context.Context) error {
	cals, err := ru.g.ListCalendars(ctx, ru.o.User)
	if err != nil {
		if fatal(ctx, err) && !forbidden(err) {
			return fmt.Errorf("backup: listing calendars: %w", err)
		}
		ru.warn("calendars were not backed up: %v", permissionHint(err, "calendars"))
		return nil
	}
	prev := ru.previous(KindCalendar)
	s, err := ru.openStream(ctx, catalog.SnapshotCalendar, prev)
	if err != nil {
		return err
	}
	defer s.close()
	old := map[string]*calendarEntry{}
	oldEvents := map[string]*Event{} // by id, from every calendar
	oldCal := map[string]string{}    // event id → calendar id
	if prev != nil && !prev.Root.IsZero() {
		rt, err := loadPIMRoot(ctx, ru.r, prev.Root)
		if err != nil {
			return repoError{err}
		}
		for i := range rt.Calendars {
			c := &rt.Calendars[i]
			old[c.ID] = c
			for _, pid := range c.Pages {
				p, err := loadPIMPage(ctx, ru.r, pid)
				if err != nil {
					return repoError{err}
				}
				for j := range p.Events {
					e := p.Events[j]
					oldEvents[e.ID], oldCal[e.ID] = &e, c.ID
				}
			}
		}
	}
	ru.prog.update(true, func(p *Progress) { p.Phase = ru.phase(PhaseMail); p.Current = "calendars" })
	rt := &pimRoot{Format: pimRootFormat, Kind: KindCalendar, Account: ru.o.Account.UPN}
	seen := map[string]bool{}
	for _, cal := range cals {
		entry := calendarEntry{ID: cal.ID, Name: cal.Name, IsDefault: cal.IsDefault}
		stamps, err := ru.g.ListEventStamps(ctx, ru.o.User, cal.ID)
		if err != nil {
			if fatal(ctx, err) {
				return fmt.Errorf("backup: calendar %s: %w", cal.Name, err)
			}
			ru.warn("calendar %q was not completely backed up: %v", cal.Name, err)
			// Keep what the last backup had of it, so nothing looks deleted.
			if o := old[cal.ID]; o != nil {
				entry.Pages, entry.Count = o.Pages, o.Count
				for id, c := range oldCal {
					if c == cal.ID {
						seen[id] = true
					}
				}
			}
			rt.Calendars = append(rt.Calendars, entry)
			continue
		}
		evs := map[string]*Event{}
		type job struct {
			stamp graph.EventStamp
			ev    *Event
			info  *pim.Event
			err   error
		}
		var jobs []*job
		for _, st := range stamps {
			if st.ID == "" || seen[st.ID] {
				continue
			}
			seen[st.ID] = true
			if o := oldEvents[st.ID]; o != nil && o.ChangeKey == st.ChangeKey && stored(ru.r, o.Content) && oldCal[st.ID] == cal.ID {
				evs[st.ID] = o
				continue
			}
			jobs = append(jobs, &job{stamp: st})
		}
		ru.prog.update(false, func(p *Progress) { p.ItemsTotal += int64(len(jobs)); p.Current = "calendar " + cal.Name })
		err = ru.parallel(ctx, len(jobs), func(ctx context.Context, i int) error {
			j := jobs[i]
			j.ev, j.info, j.err = ru.fetchEvent(ctx, j.stamp.ID)
			if j.err != nil && fatal(ctx, j.err) {
				return j.err
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("backup: calendar %s: %w", cal.Name, err)
		}
		for _, j := range jobs {
			if j.err != nil {
				reason := j.err.Error()
				if errors.Is(j.err, graph.ErrNotFound) {
					continue // deleted since the listing: the next run sees it gone
				}
				if o := oldEvents[j.stamp.ID]; o != nil {
					evs[o.ID] = o // keep the last good copy
				}
				if err := ru.skip(ctx, "calendar "+cal.Name+": event "+j.stamp.ID, reason, 0); err != nil {
					return err
				}
				continue
			}
			evs[j.ev.ID] = j.ev
			if err := s.upsert(eventVersion(ru.o.Account.HomeID, cal.Name, j.ev, j.info)); err != nil {
				return err
			}
			ru.prog.update(false, func(p *Progress) { p.ItemsDone++ })
		}
		// An event that moved here from another calendar keeps its content
		// but is filed under this calendar now.
		for id, e := range evs {
			if c, ok := oldCal[id]; ok && c != cal.ID {
				if err := ru.refile(ctx, s, cal.Name, e); err != nil {
					return err
				}
			}
		}
		pages, err := saveEvents(context.WithoutCancel(ctx), ru.r, evs)
		if err != nil {
			return repoError{err}
		}
		entry.Pages, entry.Count = pages, len(evs)
		rt.Calendars = append(rt.Calendars, entry)
	}
	for id, e := range oldEvents {
		if !seen[id] {
			if err := s.delete(id, e.Content.Size); err != nil {
				return err
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	_, err = s.saveAs(ctx, KindCalendar, rt, map[string]string{})
	return err
}

// refile records an unchanged event under another calendar name.
func (ru *run) refile(ctx context.Context, s *stream, calName string, e *Event) error {
	rc := ru.r.OpenStream(ctx, e.Content)
	defer rc.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(rc); err != nil {
		return repoError{err}
	}
	info, err := pim.ParseEvent(buf.Bytes())
	if err != nil {
		return nil // indexed as it was; nothing better to say of it
	}
	return s.upsert(eventVersion(ru.o.Account.HomeID, calName, e, info))
}

// fetchEvent downloads an event (with its exceptions) and its
// attachments and stores them. An event Graph serves unreadable or too
// large comes back as an error that skips it, with the reason.
func (ru *run) fetchEvent(ctx context.Context, id string) (*Event, *pim.Event, error) {
	raw, err := ru.g.GetEvent(ctx, ru.o.User, id)
	if err != nil {
		return nil, nil, err
	}
	info, err := pim.ParseEvent(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", errItemJSON, err)
	}
	ev := &Event{ID: info.ID, ChangeKey: info.ChangeKey, Type: info.Type, Subject: info.Subject}
	ev.Start, _ = info.StartTime()
	ev.End, _ = info.EndTime()
	holders := []*pim.Event{info}
	for i := range info.ExceptionOccurrences {
		holders = append(holders, &info.ExceptionOccurrences[i])
	}
	for _, h := range holders {
		if !h.HasAttachments {
			continue
		}
		atts, err := ru.g.GetEventAttachments(ctx, ru.o.User, h.ID)
		if err != nil {
			return nil, nil, err
		}
		if len(ev.Attachments)+len(atts) > maxAttachmentsPI {
			return nil, nil, fmt.Errorf("%w: more than %d attachments", errItemJSON, maxAttachmentsPI)
		}
		for _, a := range atts {
			var meta struct {
				ID           string `json:"id"`
				Name         string `json:"name"`
				ContentType  string `json:"contentType"`
				Size         int64  `json:"size"`
				IsInline     bool   `json:"isInline"`
				ContentBytes string `json:"contentBytes"`
			}
			if err := json.Unmarshal(a, &meta); err != nil || meta.ID == "" {
				return nil, nil, fmt.Errorf("%w: an attachment: %v", errItemJSON, err)
			}
			if _, err := base64.StdEncoding.DecodeString(meta.ContentBytes); err != nil {
				return nil, nil, fmt.Errorf("%w: attachment %q has unreadable content", errItemJSON, meta.Name)
			}
			ref, err := ru.saveBytes(ctx, a)
			if err != nil {
				return nil, nil, err
			}
			ev.Attachments = append(ev.Attachments, EventAttachment{ID: meta.ID, EventID: h.ID, Name: meta.Name, ContentType: meta.ContentType,
				Size: meta.Size, IsInline: meta.IsInline, Content: ref})
		}
	}
	if ev.Content, err = ru.saveBytes(ctx, raw); err != nil {
		return nil, nil, err
	}
	return ev, info, nil
}

// saveBytes stores a small item's bytes (JSON, a photo).
func (ru *run) saveBytes(ctx context.Context, b []byte) (repo.ContentRef, error) {
	ref, err := ru.r.SaveStream(context.WithoutCancel(ctx), bytes.NewReader(b))
	if err != nil {
		return ref, repoError{err}
	}
	ru.mu.Lock()
	ru.res.Downloads++
	ru.mu.Unlock()
	ru.prog.update(false, func(p *Progress) { p.BytesDone += int64(len(b)) })
	return ref, nil
}

// EventMetadata is an event's catalog metadata: what a preview shows and a
// restore needs beside the content.
type EventMetadata struct {
	CalendarName string            `json:"calendar"`
	Type         string            `json:"type,omitempty"`
	Start        string            `json:"start,omitempty"` // RFC 3339 in the event's zone
	End          string            `json:"end,omitempty"`
	TimeZone     string            `json:"timeZone,omitempty"`
	IsAllDay     bool              `json:"isAllDay,omitempty"`
	Location     string            `json:"location,omitempty"`
	Organizer    Person            `json:"organizer,omitzero"`
	Attendees    []Person          `json:"attendees,omitempty"`
	Categories   []string          `json:"categories,omitempty"`
	Recurrence   string            `json:"recurrence,omitempty"` // e.g. "weekly"
	Exceptions   int               `json:"exceptions,omitempty"`
	Cancelled    int               `json:"cancelled,omitempty"`
	ChangeKey    string            `json:"changeKey,omitempty"`
	Attachments  []EventAttachment `json:"attachments,omitempty"`
}

func eventVersion(account, calName string, ev *Event, info *pim.Event) catalog.Version {
	loc, zone := info.Zone()
	st, _ := info.StartTime()
	en, _ := info.EndTime()
	meta := EventMetadata{CalendarName: calName, Type: info.Type, Start: st.In(loc).Format("2006-01-02T15:04:05Z07:00"),
		End: en.In(loc).Format("2006-01-02T15:04:05Z07:00"), TimeZone: zone, IsAllDay: info.IsAllDay, Location: info.Location.DisplayName,
		Categories: info.Categories, Exceptions: len(info.ExceptionOccurrences), Cancelled: len(info.CancelledOccurrences),
		ChangeKey: info.ChangeKey, Attachments: ev.Attachments}
	if info.Organizer != nil {
		meta.Organizer = Person(info.Organizer.EmailAddress)
	}
	for _, a := range info.Attendees {
		meta.Attendees = append(meta.Attendees, Person(a.EmailAddress))
	}
	if info.Recurrence != nil {
		meta.Recurrence = info.Recurrence.Pattern.Type
	}
	b, _ := json.Marshal(meta)
	v := catalog.Version{
		Item:     catalog.ItemRef{Account: account, Kind: catalog.KindEvent, ID: ev.ID},
		Content:  encodeContent(ev.Content),
		Size:     ev.Content.Size,
		Name:     info.Subject,
		Folder:   calName,
		Time:     st,
		Metadata: b,
		Body:     strings.TrimSpace(info.BodyText() + "\n" + info.Location.DisplayName),
	}
	for _, p := range info.People() {
		v.People = append(v.People, catalog.Person{Name: p.Name, Address: p.Address})
	}
	for _, a := range ev.Attachments {
		v.Attachments = append(v.Attachments, a.Name)
	}
	slices.Sort(v.Attachments)
	return v
}

// forbidden says whether Graph refused for want of a permission (403), as
// for an account signed in before Lifeboat asked for calendars and
// contacts: a warning, not a failed run.
func forbidden(err error) bool {
	var ge *graph.Error
	return errors.As(err, &ge) && ge.Status == 403
}

// permissionHint says in plain words why Graph refused, when it did.
func permissionHint(err error, what string) string {
	var ge *graph.Error
	if errors.As(err, &ge) && ge.Status == 403 {
		return "Lifeboat is not allowed to read " + what + " yet; sign in again to give it permission"
	}
	return err.Error()
}

// ParseEventMetadata reads an event Version's Metadata.
func ParseEventMetadata(b []byte) (EventMetadata, error) {
	var m EventMetadata
	if len(b) == 0 {
		return m, nil
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("backup: event metadata: %w", err)
	}
	return m, nil
}
