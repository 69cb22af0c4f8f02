package m365sim

// Calendars and events of Outlook in Graph v1.0, as the simulator keeps them.
//
// Documented behaviour modelled here (learn.microsoft.com/graph/api/resources/event,
// /resources/calendar, /api/user-post-events, /api/event-update, /api/event-delete,
// /api/event-cancel, /api/event-list-instances, /api/user-list-calendarview,
// /api/event-delta):
//   - a mailbox has several calendars; one is the default ("Calendar",
//     isDefaultCalendar), reached as /calendar;
//   - an event is a singleInstance, a seriesMaster (with recurrence), an
//     occurrence of a series or an exception (an occurrence that was
//     changed). Event lists (/events, /calendars/{id}/events) hold single
//     instances and series masters; calendarView and instances expand series
//     into occurrences and exceptions; a cancelled (deleted) occurrence is
//     listed in its master's cancelledOccurrences ("OID.{masterId}.{date}");
//   - exceptions are kept inside their series master in Exchange (MS-OXOCAL
//     2.2.10: Exception Attachment objects of the master), so changing or
//     cancelling an occurrence changes the master's changeKey too;
//   - start and end are answered in UTC unless the request says
//     Prefer: outlook.timezone; originalStartTimeZone and
//     originalEndTimeZone keep the zones the event was made in (Windows
//     names);
//   - transactionId: a POST with the transactionId of an event the
//     calendar already has answers that event and creates nothing;
//   - messages the service sends: creating an event with attendees sends an
//     invitation to each; an organizer's update of a meeting sends an
//     update; deleting (or cancelling) a meeting, or an occurrence of one,
//     on the organizer's calendar sends a cancellation. An event without
//     attendees (an appointment) sends nothing. Every such message is
//     recorded (SentMessages) so tests can prove a restore sent none.

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/wintz"
)

// Calendar is one calendar of a mailbox.
type Calendar struct {
	ID        string
	Name      string
	Color     string
	IsDefault bool
	Seq       int64
}

// Event types, as Graph's event.type says them.
const (
	EventSingle      = "singleInstance"
	EventSeries      = "seriesMaster"
	EventOccurrence  = "occurrence"
	EventExceptionTy = "exception"
)

// Event is a single instance, a series master or an exception (an
// occurrence with changes; its ID is the occurrence's).
type Event struct {
	ID            string
	CalendarID    string
	Type          string
	Props         EventProps
	SeriesMaster  string    // exceptions: the master's ID
	OriginalStart time.Time // exceptions: the occurrence's start as the series had it (UTC)
	ICalUID       string
	Created       time.Time
	Modified      time.Time
	ChangeKey     string
	Seq           int64
	Attachments   []Attachment
	// Cancelled holds a master's cancelled occurrences by their original
	// start (UTC).
	Cancelled []time.Time
}

// userPIM is a mailbox's calendars and address book.
type userPIM struct {
	calendars   map[string]*Calendar
	events      map[string]*Event
	eventsGone  []eventTombstone
	cfolders    map[string]*ContactFolder
	rootCFolder string
	contacts    map[string]*Contact
	contactGone []tombstone
}

// eventTombstone remembers a deleted event for calendarView delta; a
// deleted series keeps a copy so its occurrences can be reported removed.
type eventTombstone struct {
	ev  Event
	seq int64
}

// pimLocked returns u's calendars and contacts, creating the default
// calendar and Contacts folder on first use.
func (t *Tenant) pimLocked(u *User) *userPIM {
	if u.pim != nil {
		return u.pim
	}
	p := &userPIM{calendars: map[string]*Calendar{}, events: map[string]*Event{}, cfolders: map[string]*ContactFolder{}, contacts: map[string]*Contact{}}
	c := &Calendar{ID: t.newItemID("AAMkCal"), Name: "Calendar", Color: "auto", IsDefault: true, Seq: t.bump()}
	p.calendars[c.ID] = c
	root := &ContactFolder{ID: t.newItemID("AAMkCFolder"), Name: "Contacts", Seq: t.bump()}
	p.cfolders[root.ID] = root
	p.rootCFolder = root.ID
	u.pim = p
	return p
}

func (p *userPIM) defaultCalendar() *Calendar {
	for _, c := range p.calendars {
		if c.IsDefault {
			return c
		}
	}
	return nil
}

// calendarLocked resolves a calendar ID ("" is the default calendar).
func (p *userPIM) calendarLocked(id string) (*Calendar, error) {
	if id == "" {
		return p.defaultCalendar(), nil
	}
	if c, ok := p.calendars[id]; ok {
		return c, nil
	}
	return nil, fmt.Errorf("%w: calendar %s", ErrNoItem, id)
}

func (p *userPIM) sortedCalendars() []*Calendar {
	out := make([]*Calendar, 0, len(p.calendars))
	for _, c := range p.calendars {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].IsDefault != out[j].IsDefault {
			return out[i].IsDefault
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// AddCalendar creates a calendar in a mailbox.
func (t *Tenant) AddCalendar(user, name string) (*Calendar, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	u, err := t.userLocked(user)
	if err != nil {
		return nil, err
	}
	return t.addCalendarLocked(u, name)
}

func (t *Tenant) addCalendarLocked(u *User, name string) (*Calendar, error) {
	p := t.pimLocked(u)
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 255 {
		return nil, invalid("ErrorInvalidRequest", "The calendar name is missing or too long.")
	}
	for _, c := range p.calendars {
		if strings.EqualFold(c.Name, name) {
			return nil, fmt.Errorf("m365sim: calendar %q: %w", name, ErrConflict)
		}
	}
	c := &Calendar{ID: t.newItemID("AAMkCal"), Name: name, Color: "auto", Seq: t.bump()}
	p.calendars[c.ID] = c
	return c, nil
}

// Calendars returns a mailbox's calendars, the default one first.
func (t *Tenant) Calendars(user string) ([]Calendar, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	u, err := t.userLocked(user)
	if err != nil {
		return nil, err
	}
	var out []Calendar
	for _, c := range t.pimLocked(u).sortedCalendars() {
		out = append(out, *c)
	}
	return out, nil
}

// DefaultCalendar returns a mailbox's default calendar.
func (t *Tenant) DefaultCalendar(user string) (Calendar, error) {
	cs, err := t.Calendars(user)
	if err != nil {
		return Calendar{}, err
	}
	return cs[0], nil
}

func (e *Event) touch(seq int64, now time.Time) {
	e.Seq = seq
	e.Modified = now
	e.ChangeKey = fmt.Sprintf("DwAAABYAAAC%08d", seq)
}

// CreateEvent adds an event to a calendar ("" = the default one) as the
// mailbox owner, following the same rules as POST /events: a meeting sends
// invitations; a transactionId already used answers the event made with it.
func (t *Tenant) CreateEvent(user, calendarID string, p EventProps) (Event, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	u, err := t.userLocked(user)
	if err != nil {
		return Event{}, err
	}
	e, _, err := t.createEventLocked(u, calendarID, p)
	if err != nil {
		return Event{}, err
	}
	return *e, nil
}

// createEventLocked reports created=false when transactionId matched an
// existing event.
func (t *Tenant) createEventLocked(u *User, calendarID string, p EventProps) (*Event, bool, error) {
	pim := t.pimLocked(u)
	c, err := pim.calendarLocked(calendarID)
	if err != nil {
		return nil, false, err
	}
	if p.TransactionID != "" {
		for _, e := range pim.events {
			if e.CalendarID == c.ID && e.Props.TransactionID == p.TransactionID && e.Type != EventExceptionTy {
				return e, false, nil
			}
		}
	}
	if err := validateEventProps(&p); err != nil {
		return nil, false, err
	}
	now := t.now().UTC()
	e := &Event{ID: t.newItemID("AAMkEvt"), CalendarID: c.ID, Type: EventSingle, Props: p, Created: now}
	if p.Recurrence != nil {
		e.Type = EventSeries
	}
	e.ICalUID = "040000008200E00074C5B7101A82E008" + strings.ToUpper(strings.ReplaceAll(newGUID(), "-", ""))
	e.Props.Organizer = &recipientJSON{}
	e.Props.Organizer.EmailAddress.Name, e.Props.Organizer.EmailAddress.Address = u.DisplayName, u.UPN
	for i := range e.Props.Attendees {
		a := &e.Props.Attendees[i]
		a.Status = &struct {
			Response string `json:"response"`
			Time     string `json:"time"`
		}{Response: "none", Time: "0001-01-01T00:00:00Z"}
	}
	e.touch(t.bump(), now)
	pim.events[e.ID] = e
	t.sendLocked(u, e, "invitation", attendeeAddresses(e.Props.Attendees))
	return e, true, nil
}

func attendeeAddresses(as []EventAttendee) []string {
	var out []string
	for _, a := range as {
		if a.EmailAddress.Address != "" && a.Type != "resource" {
			out = append(out, a.EmailAddress.Address)
		}
	}
	return out
}

// sendLocked records a message the service sends for an event; nothing
// goes out without recipients.
func (t *Tenant) sendLocked(u *User, e *Event, kind string, to []string) {
	if len(to) == 0 {
		return
	}
	t.outbox = append(t.outbox, SentMessage{Kind: kind, From: u.UPN, To: append([]string(nil), to...), Subject: e.Props.Subject, EventID: e.ID, Time: t.now().UTC()})
}

// SentMessages returns every invitation, update and cancellation the
// service sent, oldest first.
func (t *Tenant) SentMessages() []SentMessage {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return append([]SentMessage(nil), t.outbox...)
}

// validateEventProps applies the create and update rules Graph enforces.
func validateEventProps(p *EventProps) error {
	p.Subject = strings.TrimSpace(p.Subject)
	if len(p.Subject) > 255 {
		return invalid("ErrorInvalidRequest", "The subject is too long.")
	}
	if len(p.Body.Content) > maxJSONBody {
		return invalid("ErrorRequestEntityTooLarge", "The body is too large.")
	}
	switch strings.ToLower(p.Body.ContentType) {
	case "":
		p.Body.ContentType = "text"
	case "text", "html":
		p.Body.ContentType = strings.ToLower(p.Body.ContentType)
	default:
		return invalid("ErrorInvalidRequest", "Unknown body contentType %q.", truncateMsg(p.Body.ContentType))
	}
	start, err := p.Start.instant()
	if err != nil {
		return invalid("ErrorInvalidRequest", "start: %v", err)
	}
	end, err := p.End.instant()
	if err != nil {
		return invalid("ErrorInvalidRequest", "end: %v", err)
	}
	// Graph keeps and answers times as "2006-01-02T15:04:05.0000000".
	ls, _ := p.Start.local()
	le, _ := p.End.local()
	p.Start.DateTime, p.End.DateTime = graphDateTime(ls), graphDateTime(le)
	if end.Before(start) {
		return invalid("ErrorInvalidRequest", "The end of the event is before its start.")
	}
	if p.IsAllDay {
		ls, _ := p.Start.local()
		le, _ := p.End.local()
		if ls.Hour()+ls.Minute()+ls.Second() != 0 || le.Hour()+le.Minute()+le.Second() != 0 || !end.After(start) {
			return invalid("ErrorInvalidRequest", "An all-day event's start and end must be midnight, at least a day apart.")
		}
	}
	if len(p.Attendees) > maxRecipients || len(p.Categories) > maxCategories || len(p.Locations) > maxRecipients {
		return invalid("ErrorInvalidRequest", "Too many attendees, categories or locations.")
	}
	if p.Importance == "" {
		p.Importance = "normal"
	}
	if p.Sensitivity == "" {
		p.Sensitivity = "normal"
	}
	if p.ShowAs == "" {
		p.ShowAs = "busy"
	}
	if p.Categories == nil {
		p.Categories = []string{}
	}
	if p.Recurrence != nil {
		if _, err := p.Recurrence.rule(p.Start); err != nil {
			return invalid("ErrorInvalidRequest", "recurrence: %v", err)
		}
	}
	return nil
}

// local is the wall-clock time in its zone.
func (d DateTimeTimeZone) local() (time.Time, error) {
	loc, err := wintz.LoadLocation(d.TimeZone)
	if err != nil {
		return time.Time{}, fmt.Errorf("unknown time zone %q", truncateMsg(d.TimeZone))
	}
	s := d.DateTime
	if i := strings.IndexByte(s, '.'); i >= 0 {
		s = s[:i]
	}
	t, err := time.ParseInLocation("2006-01-02T15:04:05", s, loc)
	if err != nil {
		return time.Time{}, fmt.Errorf("dateTime %q is not a date and time", truncateMsg(d.DateTime))
	}
	return t, nil
}

// instant is the moment the time stands for.
func (d DateTimeTimeZone) instant() (time.Time, error) {
	t, err := d.local()
	return t.UTC(), err
}

// graphDateTime formats a wall-clock time as Graph does.
func graphDateTime(t time.Time) string { return t.Format("2006-01-02T15:04:05.0000000") }

// in renders an instant in zone (Windows or IANA name) for a response.
func inZone(t time.Time, zone string) DateTimeTimeZone {
	loc, err := wintz.LoadLocation(zone)
	if err != nil || zone == "" {
		return DateTimeTimeZone{DateTime: graphDateTime(t.UTC()), TimeZone: "UTC"}
	}
	return DateTimeTimeZone{DateTime: graphDateTime(t.In(loc)), TimeZone: zone}
}

// EventsIn returns copies of a calendar's events ("" = default) — single
// instances, series masters and exceptions — oldest change first.
func (t *Tenant) EventsIn(user, calendarID string) ([]Event, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	u, err := t.userLocked(user)
	if err != nil {
		return nil, err
	}
	p := t.pimLocked(u)
	c, err := p.calendarLocked(calendarID)
	if err != nil {
		return nil, err
	}
	var out []Event
	for _, e := range p.events {
		if e.CalendarID == c.ID {
			out = append(out, *e)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	return out, nil
}

// FindEvents returns the single instances and series masters of every
// calendar whose subject contains substr (case-insensitive).
func (t *Tenant) FindEvents(user, substr string) ([]Event, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	u, err := t.userLocked(user)
	if err != nil {
		return nil, err
	}
	var out []Event
	for _, e := range t.pimLocked(u).events {
		if e.Type != EventExceptionTy && strings.Contains(strings.ToLower(e.Props.Subject), strings.ToLower(substr)) {
			out = append(out, *e)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	return out, nil
}

// UpdateEvent changes an event's properties as its organizer would (PATCH):
// a meeting's attendees get an update.
func (t *Tenant) UpdateEvent(user, id string, patch map[string]json.RawMessage) (Event, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	u, err := t.userLocked(user)
	if err != nil {
		return Event{}, err
	}
	e, err := t.updateEventLocked(u, id, patch)
	if err != nil {
		return Event{}, err
	}
	return *e, nil
}

// eventWritable are the event properties PATCH accepts.
var eventWritable = map[string]bool{
	"subject": true, "body": true, "start": true, "end": true, "isAllDay": true, "location": true, "locations": true,
	"attendees": true, "categories": true, "importance": true, "sensitivity": true, "showAs": true, "isReminderOn": true,
	"reminderMinutesBeforeStart": true, "responseRequested": true, "allowNewTimeProposals": true, "hideAttendees": true,
	"isOnlineMeeting": true, "recurrence": true,
}

func (t *Tenant) updateEventLocked(u *User, id string, patch map[string]json.RawMessage) (*Event, error) {
	p := t.pimLocked(u)
	e, err := t.eventOrOccurrenceLocked(u, id, true)
	if err != nil {
		return nil, err
	}
	for k := range patch {
		if !eventWritable[k] {
			return nil, invalid("ErrorInvalidProperty", "The property '%s' does not exist on type 'microsoft.graph.event' or cannot be changed.", truncateMsg(k))
		}
	}
	cur, _ := json.Marshal(e.Props)
	var m map[string]json.RawMessage
	_ = json.Unmarshal(cur, &m)
	for k, v := range patch {
		m[k] = v
	}
	merged, _ := json.Marshal(m)
	np := e.Props
	np.Recurrence = nil
	np.Attendees, np.Locations, np.Categories = nil, nil, nil
	if err := json.Unmarshal(merged, &np); err != nil {
		return nil, invalid("ErrorInvalidRequest", "The request body is not a valid event: %s", truncateMsg(err.Error()))
	}
	if e.Type == EventExceptionTy {
		np.Recurrence = nil
	}
	if err := validateEventProps(&np); err != nil {
		return nil, err
	}
	before := attendeeAddresses(e.Props.Attendees)
	e.Props = np
	if e.Type == EventSingle && np.Recurrence != nil {
		e.Type = EventSeries
	}
	now := t.now().UTC()
	e.touch(t.bump(), now)
	if e.Type == EventExceptionTy {
		if m, ok := p.events[e.SeriesMaster]; ok {
			m.touch(t.bump(), now)
		}
	}
	after := attendeeAddresses(e.Props.Attendees)
	t.sendLocked(u, e, "update", intersect(before, after))
	t.sendLocked(u, e, "invitation", minus(after, before))
	t.sendLocked(u, e, "cancellation", minus(before, after))
	return e, nil
}

func intersect(a, b []string) []string {
	var out []string
	for _, x := range a {
		for _, y := range b {
			if strings.EqualFold(x, y) {
				out = append(out, x)
				break
			}
		}
	}
	return out
}

func minus(a, b []string) []string {
	var out []string
	for _, x := range a {
		if len(intersect([]string{x}, b)) == 0 {
			out = append(out, x)
		}
	}
	return out
}

// DeleteEvent deletes an event, a whole series, an exception or an
// occurrence (which cancels it in its series). Deleting a meeting on the
// organizer's calendar sends its attendees a cancellation.
func (t *Tenant) DeleteEvent(user, id string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	u, err := t.userLocked(user)
	if err != nil {
		return err
	}
	return t.deleteEventLocked(u, id, "cancellation")
}

func (t *Tenant) deleteEventLocked(u *User, id, kind string) error {
	p := t.pimLocked(u)
	now := t.now().UTC()
	if e, ok := p.events[id]; ok && e.Type != EventExceptionTy {
		delete(p.events, id)
		for xid, x := range p.events {
			if x.SeriesMaster == id {
				delete(p.events, xid)
			}
		}
		p.eventsGone = append(p.eventsGone, eventTombstone{ev: *e, seq: t.bump()})
		t.sendLocked(u, e, kind, attendeeAddresses(e.Props.Attendees))
		return nil
	}
	master, orig, ok := p.occurrenceLocked(id)
	if !ok {
		return fmt.Errorf("%w: event %s", ErrNoItem, id)
	}
	if x, ok := p.events[id]; ok {
		delete(p.events, id)
		p.eventsGone = append(p.eventsGone, eventTombstone{ev: *x, seq: t.bump()})
	}
	master.Cancelled = append(master.Cancelled, orig)
	master.touch(t.bump(), now)
	t.sendLocked(u, master, kind, attendeeAddresses(master.Props.Attendees))
	return nil
}

// UpdateOccurrence changes one occurrence of a series, making it an
// exception (or changing the exception it already is).
func (t *Tenant) UpdateOccurrence(user, occurrenceID string, patch map[string]json.RawMessage) (Event, error) {
	return t.UpdateEvent(user, occurrenceID, patch)
}

// Occurrences lists a series' occurrences (and exceptions) that start in
// [from, to), as /instances does.
func (t *Tenant) Occurrences(user, masterID string, from, to time.Time) ([]Event, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	u, err := t.userLocked(user)
	if err != nil {
		return nil, err
	}
	p := t.pimLocked(u)
	m, ok := p.events[masterID]
	if !ok || m.Type != EventSeries {
		return nil, fmt.Errorf("%w: series %s", ErrNoItem, masterID)
	}
	return p.instancesLocked(m, from, to), nil
}
