package m365sim

// Recurring series: Graph's patternedRecurrence expanded into occurrences
// (learn.microsoft.com/graph/api/resources/patternedrecurrence,
// /resources/recurrencepattern, /resources/recurrencerange). The pattern is
// turned into an RFC 5545 rule and expanded by teambition/rrule-go in the
// series' own zone, so an occurrence keeps its wall-clock time across
// daylight saving changes as Outlook's do.

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/teambition/rrule-go"

	"github.com/lifeboat-backup/lifeboat/engine/wintz"
)

// maxOccurrences bounds an expansion (a daily series without end over a
// century-wide window would otherwise be millions).
const maxOccurrences = 5000

var weekdays = map[string]rrule.Weekday{
	"sunday": rrule.SU, "monday": rrule.MO, "tuesday": rrule.TU, "wednesday": rrule.WE,
	"thursday": rrule.TH, "friday": rrule.FR, "saturday": rrule.SA,
}

var weekIndex = map[string]int{"first": 1, "second": 2, "third": 3, "fourth": 4, "last": -1}

// rule turns the recurrence of a series starting at start into a rule.
func (r *PatternedRecurrence) rule(start DateTimeTimeZone) (*rrule.RRule, error) {
	first, err := start.local()
	if err != nil {
		return nil, err
	}
	loc := first.Location()
	if z := r.Range.RecurrenceTimeZone; z != "" {
		if l, err := wintz.LoadLocation(z); err == nil {
			loc = l
			first = first.In(loc)
		}
	}
	sd, err := time.ParseInLocation(time.DateOnly, r.Range.StartDate, loc)
	if err != nil {
		return nil, fmt.Errorf("range.startDate %q is not a date", truncateMsg(r.Range.StartDate))
	}
	dtstart := time.Date(sd.Year(), sd.Month(), sd.Day(), first.Hour(), first.Minute(), first.Second(), 0, loc)
	p := r.Pattern
	o := rrule.ROption{Dtstart: dtstart, Interval: max(p.Interval, 1)}
	if p.Interval < 0 || p.Interval > 99 {
		return nil, errors.New("pattern.interval must be between 1 and 99")
	}
	days := func() ([]rrule.Weekday, error) {
		if len(p.DaysOfWeek) == 0 || len(p.DaysOfWeek) > 7 {
			return nil, errors.New("pattern.daysOfWeek is required")
		}
		var out []rrule.Weekday
		for _, d := range p.DaysOfWeek {
			w, ok := weekdays[strings.ToLower(d)]
			if !ok {
				return nil, fmt.Errorf("unknown day %q", truncateMsg(d))
			}
			out = append(out, w)
		}
		return out, nil
	}
	index := func() ([]int, error) {
		if p.Index == "" {
			return []int{1}, nil
		}
		i, ok := weekIndex[strings.ToLower(p.Index)]
		if !ok {
			return nil, fmt.Errorf("unknown index %q", truncateMsg(p.Index))
		}
		return []int{i}, nil
	}
	switch p.Type {
	case "daily":
		o.Freq = rrule.DAILY
	case "weekly":
		o.Freq = rrule.WEEKLY
		if o.Byweekday, err = days(); err != nil {
			return nil, err
		}
		o.Wkst = rrule.SU
		if w, ok := weekdays[strings.ToLower(p.FirstDayOfWeek)]; ok {
			o.Wkst = w
		}
	case "absoluteMonthly":
		o.Freq = rrule.MONTHLY
		if p.DayOfMonth < 1 || p.DayOfMonth > 31 {
			return nil, errors.New("pattern.dayOfMonth must be 1 to 31")
		}
		o.Bymonthday = []int{p.DayOfMonth}
	case "relativeMonthly":
		o.Freq = rrule.MONTHLY
		if o.Byweekday, err = days(); err != nil {
			return nil, err
		}
		if o.Bysetpos, err = index(); err != nil {
			return nil, err
		}
	case "absoluteYearly":
		o.Freq = rrule.YEARLY
		if p.Month < 1 || p.Month > 12 || p.DayOfMonth < 1 || p.DayOfMonth > 31 {
			return nil, errors.New("pattern.month and pattern.dayOfMonth are required")
		}
		o.Bymonth, o.Bymonthday = []int{p.Month}, []int{p.DayOfMonth}
	case "relativeYearly":
		o.Freq = rrule.YEARLY
		if p.Month < 1 || p.Month > 12 {
			return nil, errors.New("pattern.month is required")
		}
		o.Bymonth = []int{p.Month}
		if o.Byweekday, err = days(); err != nil {
			return nil, err
		}
		if o.Bysetpos, err = index(); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("unknown pattern.type %q", truncateMsg(p.Type))
	}
	switch r.Range.Type {
	case "endDate":
		ed, err := time.ParseInLocation(time.DateOnly, r.Range.EndDate, loc)
		if err != nil {
			return nil, fmt.Errorf("range.endDate %q is not a date", truncateMsg(r.Range.EndDate))
		}
		if ed.Before(sd) {
			return nil, errors.New("range.endDate is before range.startDate")
		}
		o.Until = ed.Add(24*time.Hour - time.Second)
	case "numbered":
		if r.Range.NumberOfOccurrences < 1 || r.Range.NumberOfOccurrences > 999 {
			return nil, errors.New("range.numberOfOccurrences must be 1 to 999")
		}
		o.Count = r.Range.NumberOfOccurrences
	case "noEnd":
	default:
		return nil, fmt.Errorf("unknown range.type %q", truncateMsg(r.Range.Type))
	}
	return rrule.NewRRule(o)
}

// occurrenceID names the occurrence of a series that starts at orig.
func occurrenceID(masterID string, orig time.Time) string {
	return masterID + "_OCC_" + orig.UTC().Format("20060102T150405Z")
}

func parseOccurrenceID(id string) (masterID string, orig time.Time, ok bool) {
	m, ts, found := strings.Cut(id, "_OCC_")
	if !found {
		return "", time.Time{}, false
	}
	t, err := time.Parse("20060102T150405Z", ts)
	return m, t, err == nil
}

// cancelledOccurrenceID is how cancelledOccurrences names an occurrence:
// "OID.{seriesMasterId}.{date of the occurrence}".
func cancelledOccurrenceID(m *Event, orig time.Time) string {
	loc := time.UTC
	if l, err := wintz.LoadLocation(m.Props.Start.TimeZone); err == nil {
		loc = l
	}
	return "OID." + m.ID + "." + orig.In(loc).Format(time.DateOnly)
}

func (m *Event) duration() time.Duration {
	s, err1 := m.Props.Start.instant()
	e, err2 := m.Props.End.instant()
	if err1 != nil || err2 != nil {
		return 0
	}
	return e.Sub(s)
}

func (m *Event) cancelled(orig time.Time) bool {
	for _, c := range m.Cancelled {
		if c.Equal(orig) {
			return true
		}
	}
	return false
}

// originals returns the original starts (UTC) of a series' occurrences
// in [from, to), cancelled ones included.
func (m *Event) originals(from, to time.Time) []time.Time {
	if m.Props.Recurrence == nil {
		return nil
	}
	r, err := m.Props.Recurrence.rule(m.Props.Start)
	if err != nil {
		return nil
	}
	var out []time.Time
	it := r.Iterator()
	for {
		t, ok := it()
		if !ok || !t.Before(to) || len(out) >= maxOccurrences {
			break
		}
		if !t.Before(from) {
			out = append(out, t.UTC())
		}
	}
	return out
}

// isOccurrence says whether orig is an occurrence of the series.
func (m *Event) isOccurrence(orig time.Time) bool {
	for _, t := range m.originals(orig, orig.Add(time.Second)) {
		if t.Equal(orig) {
			return true
		}
	}
	return false
}

// occurrence synthesises the occurrence of m starting at orig.
func (m *Event) occurrence(orig time.Time) Event {
	o := *m
	o.ID = occurrenceID(m.ID, orig)
	o.Type = EventOccurrence
	o.SeriesMaster = m.ID
	o.OriginalStart = orig
	o.Props.Recurrence = nil
	o.Cancelled = nil
	o.Attachments = nil
	o.Props.Start = inZone(orig, m.Props.Start.TimeZone)
	o.Props.End = inZone(orig.Add(m.duration()), m.Props.End.TimeZone)
	return o
}

// instancesLocked lists the occurrences and exceptions of series m whose
// original start is in [from, to), without the cancelled ones.
func (p *userPIM) instancesLocked(m *Event, from, to time.Time) []Event {
	var out []Event
	for _, orig := range m.originals(from, to) {
		if m.cancelled(orig) {
			continue
		}
		if x, ok := p.events[occurrenceID(m.ID, orig)]; ok {
			out = append(out, *x)
			continue
		}
		out = append(out, m.occurrence(orig))
	}
	return out
}

// occurrenceLocked resolves an occurrence (or exception) ID to its series
// and original start.
func (p *userPIM) occurrenceLocked(id string) (*Event, time.Time, bool) {
	mid, orig, ok := parseOccurrenceID(id)
	if !ok {
		return nil, time.Time{}, false
	}
	m, found := p.events[mid]
	if !found || m.Type != EventSeries || m.cancelled(orig) || !m.isOccurrence(orig) {
		return nil, time.Time{}, false
	}
	return m, orig, true
}

// eventOrOccurrenceLocked finds an event by ID, or an occurrence, which
// materialize turns into an exception (to be changed).
func (t *Tenant) eventOrOccurrenceLocked(u *User, id string, materialize bool) (*Event, error) {
	p := t.pimLocked(u)
	if e, ok := p.events[id]; ok {
		return e, nil
	}
	m, orig, ok := p.occurrenceLocked(id)
	if !ok {
		return nil, fmt.Errorf("%w: event %s", ErrNoItem, id)
	}
	o := m.occurrence(orig)
	if !materialize {
		return &o, nil
	}
	o.Type = EventExceptionTy
	o.Created = t.now().UTC()
	p.events[o.ID] = &o
	return &o, nil
}
