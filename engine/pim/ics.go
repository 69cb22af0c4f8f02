package pim

import (
	"encoding/base64"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-ical"
)

// ICSAttachment is a file attached to an event (or to one of its
// exceptions, EventID) for the export.
type ICSAttachment struct {
	EventID     string
	Name        string
	ContentType string
	Content     []byte
}

// ICSEvent is one backed-up event to export: a single instance or a series
// master (its exceptions are inside it) with its attachments.
type ICSEvent struct {
	Event       *Event
	Attachments []ICSAttachment
}

// maxICSAttachment is the largest attachment written into an .ics (as
// base64 inside the file); larger ones are named in the description.
const maxICSAttachment = 4 << 20

// WriteICS writes one calendar as an RFC 5545 VCALENDAR: a VEVENT per
// event, series with their RRULE, cancelled occurrences as EXDATE,
// exceptions as VEVENTs with RECURRENCE-ID, and a VTIMEZONE for every zone
// used (built from the time zone database for the Windows zone names
// Outlook uses). stamp is the DTSTAMP of every event.
func WriteICS(w io.Writer, calendarName string, events []ICSEvent, stamp time.Time) error {
	cal := ical.NewCalendar()
	cal.Props.SetText(ical.PropVersion, "2.0")
	cal.Props.SetText(ical.PropProductID, "-//Lifeboat//Lifeboat backup//EN")
	cal.Props.SetText("X-WR-CALNAME", calendarName)
	zones := map[string]*time.Location{}
	var years [2]int
	note := func(t time.Time) {
		if t.Location() != time.UTC {
			zones[t.Location().String()] = t.Location()
		}
		if years[0] == 0 || t.Year() < years[0] {
			years[0] = t.Year()
		}
		if t.Year() > years[1] {
			years[1] = t.Year()
		}
	}
	var vevents []*ical.Component
	for _, ie := range events {
		e := ie.Event
		byEvent := map[string][]ICSAttachment{}
		for _, a := range ie.Attachments {
			byEvent[a.EventID] = append(byEvent[a.EventID], a)
		}
		v := vevent(e, e, stamp, byEvent[e.ID], note)
		if e.Recurrence != nil {
			if rule, err := rruleOf(e); err == nil {
				v.Props.Set(&ical.Prop{Name: ical.PropRecurrenceRule, Params: ical.Params{}, Value: rule})
			}
			for _, d := range e.CancelledDates() {
				if t, ok := occurrenceOn(e, d); ok {
					p := ical.NewProp(ical.PropExceptionDates)
					setTime(p, t, e.IsAllDay)
					v.Props.Add(p)
				}
			}
		}
		vevents = append(vevents, v)
		for i := range e.ExceptionOccurrences {
			x := &e.ExceptionOccurrences[i]
			xv := vevent(x, e, stamp, byEvent[x.ID], note)
			if x.OriginalStart != nil {
				loc, _ := e.Zone()
				p := ical.NewProp(ical.PropRecurrenceID)
				setTime(p, x.OriginalStart.In(loc), e.IsAllDay)
				xv.Props.Set(p)
			}
			vevents = append(vevents, xv)
		}
	}
	names := make([]string, 0, len(zones))
	for n := range zones {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		cal.Children = append(cal.Children, vtimezone(zones[n], years[0]-1, years[1]+1))
	}
	cal.Children = append(cal.Children, vevents...)
	return ical.NewEncoder(w).Encode(cal)
}

func setTime(p *ical.Prop, t time.Time, allDay bool) {
	if allDay {
		p.SetDate(t)
		return
	}
	p.SetDateTime(t)
}

// vevent renders e (master is its series master, or e itself).
func vevent(e, master *Event, stamp time.Time, atts []ICSAttachment, note func(time.Time)) *ical.Component {
	v := ical.NewComponent(ical.CompEvent)
	uid := master.ICalUID
	if uid == "" {
		uid = master.ID
	}
	v.Props.SetText(ical.PropUID, uid)
	v.Props.SetDateTime(ical.PropDateTimeStamp, stamp.UTC())
	start, end := e.LocalStart(), e.LocalEnd()
	if e.IsAllDay {
		// An all-day event is a run of dates in the zone it was made in.
		start = time.Date(start.Year(), start.Month(), start.Day(), 0, 0, 0, 0, time.UTC)
		end = time.Date(end.Year(), end.Month(), end.Day(), 0, 0, 0, 0, time.UTC)
	} else {
		note(start)
		note(end)
	}
	note(start.UTC())
	ps := ical.NewProp(ical.PropDateTimeStart)
	setTime(ps, start, e.IsAllDay)
	v.Props.Set(ps)
	pe := ical.NewProp(ical.PropDateTimeEnd)
	setTime(pe, end, e.IsAllDay)
	v.Props.Set(pe)
	v.Props.SetText(ical.PropSummary, e.Subject)
	desc := e.BodyText()
	for _, a := range atts {
		if len(a.Content) > maxICSAttachment {
			desc += "\n[attachment not included in this file: " + a.Name + "]"
		}
	}
	if desc != "" {
		v.Props.SetText(ical.PropDescription, desc)
	}
	if e.Location.DisplayName != "" {
		v.Props.SetText(ical.PropLocation, e.Location.DisplayName)
	}
	if len(e.Categories) > 0 {
		p := ical.NewProp(ical.PropCategories)
		p.SetTextList(e.Categories)
		v.Props.Set(p)
	}
	switch e.Sensitivity {
	case "private", "confidential":
		v.Props.SetText(ical.PropClass, "PRIVATE")
	}
	if e.ShowAs == "free" {
		v.Props.SetText(ical.PropTransparency, "TRANSPARENT")
	}
	if e.Organizer != nil && e.Organizer.EmailAddress.Address != "" {
		v.Props.Set(calAddress(ical.PropOrganizer, e.Organizer.EmailAddress, ""))
	}
	for _, a := range e.Attendees {
		if a.EmailAddress.Address == "" {
			continue
		}
		role := "REQ-PARTICIPANT"
		switch a.Type {
		case "optional":
			role = "OPT-PARTICIPANT"
		case "resource":
			role = "NON-PARTICIPANT"
		}
		v.Props.Add(calAddress(ical.PropAttendee, a.EmailAddress, role))
	}
	for _, a := range atts {
		if len(a.Content) > maxICSAttachment {
			continue
		}
		p := &ical.Prop{Name: ical.PropAttach, Params: ical.Params{}}
		p.Params.Set(ical.ParamValue, string(ical.ValueBinary))
		p.Params.Set(ical.ParamEncoding, "BASE64")
		if a.ContentType != "" {
			p.Params.Set(ical.ParamFormatType, a.ContentType)
		}
		p.Params.Set("X-FILENAME", a.Name)
		p.Value = base64.StdEncoding.EncodeToString(a.Content)
		v.Props.Add(p)
	}
	if e.IsReminderOn {
		alarm := ical.NewComponent(ical.CompAlarm)
		alarm.Props.SetText(ical.PropAction, "DISPLAY")
		alarm.Props.SetText(ical.PropDescription, "Reminder")
		tr := ical.NewProp(ical.PropTrigger)
		tr.SetDuration(-time.Duration(e.ReminderMinutesBeforeStart) * time.Minute)
		alarm.Props.Set(tr)
		v.Children = append(v.Children, alarm)
	}
	return v
}

func calAddress(name string, a EmailAddress, role string) *ical.Prop {
	p := &ical.Prop{Name: name, Params: ical.Params{}}
	if a.Name != "" {
		p.Params.Set(ical.ParamCommonName, a.Name)
	}
	if role != "" {
		p.Params.Set(ical.ParamRole, role)
	}
	p.SetURI(&url.URL{Scheme: "mailto", Opaque: a.Address})
	return p
}

var rruleDays = map[string]string{"sunday": "SU", "monday": "MO", "tuesday": "TU", "wednesday": "WE", "thursday": "TH", "friday": "FR", "saturday": "SA"}
var rruleIndex = map[string]string{"first": "1", "second": "2", "third": "3", "fourth": "4", "last": "-1"}

// rruleOf turns a Graph recurrence into an RFC 5545 RRULE value.
func rruleOf(e *Event) (string, error) {
	r := e.Recurrence
	p := r.Pattern
	var parts []string
	days := func() string {
		var ds []string
		for _, d := range p.DaysOfWeek {
			if x, ok := rruleDays[strings.ToLower(d)]; ok {
				ds = append(ds, x)
			}
		}
		return strings.Join(ds, ",")
	}
	switch p.Type {
	case "daily":
		parts = append(parts, "FREQ=DAILY")
	case "weekly":
		parts = append(parts, "FREQ=WEEKLY", "BYDAY="+days())
		if w, ok := rruleDays[strings.ToLower(p.FirstDayOfWeek)]; ok {
			parts = append(parts, "WKST="+w)
		}
	case "absoluteMonthly":
		parts = append(parts, "FREQ=MONTHLY", "BYMONTHDAY="+strconv.Itoa(p.DayOfMonth))
	case "relativeMonthly":
		parts = append(parts, "FREQ=MONTHLY", "BYDAY="+days(), "BYSETPOS="+orDefault(rruleIndex[strings.ToLower(p.Index)], "1"))
	case "absoluteYearly":
		parts = append(parts, "FREQ=YEARLY", "BYMONTH="+strconv.Itoa(p.Month), "BYMONTHDAY="+strconv.Itoa(p.DayOfMonth))
	case "relativeYearly":
		parts = append(parts, "FREQ=YEARLY", "BYMONTH="+strconv.Itoa(p.Month), "BYDAY="+days(), "BYSETPOS="+orDefault(rruleIndex[strings.ToLower(p.Index)], "1"))
	default:
		return "", fmt.Errorf("pim: unknown recurrence pattern %q", p.Type)
	}
	if p.Interval > 1 {
		parts = append(parts, "INTERVAL="+strconv.Itoa(p.Interval))
	}
	switch r.Range.Type {
	case "numbered":
		parts = append(parts, "COUNT="+strconv.Itoa(r.Range.NumberOfOccurrences))
	case "endDate":
		loc, _ := e.Zone()
		d, err := time.ParseInLocation(time.DateOnly, r.Range.EndDate, loc)
		if err != nil {
			return "", err
		}
		parts = append(parts, "UNTIL="+d.Add(24*time.Hour-time.Second).UTC().Format("20060102T150405Z"))
	}
	return strings.Join(parts, ";"), nil
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// occurrenceOn is the start of the series' occurrence on date (in its zone).
func occurrenceOn(e *Event, date string) (time.Time, bool) {
	loc, _ := e.Zone()
	d, err := time.ParseInLocation(time.DateOnly, date, loc)
	if err != nil {
		return time.Time{}, false
	}
	s := e.LocalStart()
	return time.Date(d.Year(), d.Month(), d.Day(), s.Hour(), s.Minute(), s.Second(), 0, loc), true
}

// vtimezone describes loc from fromYear to toYear: one STANDARD or
// DAYLIGHT observance per offset change the zone database records (RFC
// 5545 3.6.5 allows explicit onsets instead of rules).
func vtimezone(loc *time.Location, fromYear, toYear int) *ical.Component {
	tz := ical.NewComponent(ical.CompTimezone)
	tz.Props.SetText(ical.PropTimezoneID, loc.String())
	t := time.Date(fromYear, 1, 1, 0, 0, 0, 0, loc)
	end := time.Date(toYear+1, 1, 1, 0, 0, 0, 0, loc)
	_, prevOff := t.Add(-time.Second).Zone()
	added := 0
	for t.Before(end) && added < 400 {
		start, next := t.ZoneBounds()
		name, off := t.Zone()
		if start.IsZero() || start.Before(time.Date(fromYear, 1, 1, 0, 0, 0, 0, loc)) {
			start = time.Date(fromYear, 1, 1, 0, 0, 0, 0, loc)
		}
		kind := ical.CompTimezoneStandard
		if t.IsDST() {
			kind = ical.CompTimezoneDaylight
		}
		o := ical.NewComponent(kind)
		// DTSTART is the onset in the local time in force before it.
		onset := start.UTC().Add(time.Duration(prevOff) * time.Second)
		o.Props.Set(&ical.Prop{Name: ical.PropDateTimeStart, Params: ical.Params{}, Value: onset.Format("20060102T150405")})
		o.Props.Set(&ical.Prop{Name: ical.PropTimezoneOffsetFrom, Params: ical.Params{}, Value: utcOffset(prevOff)})
		o.Props.Set(&ical.Prop{Name: ical.PropTimezoneOffsetTo, Params: ical.Params{}, Value: utcOffset(off)})
		if name != "" {
			o.Props.SetText(ical.PropTimezoneName, name)
		}
		tz.Children = append(tz.Children, o)
		added++
		prevOff = off
		if next.IsZero() {
			break
		}
		t = next
	}
	return tz
}

func utcOffset(secs int) string {
	sign := "+"
	if secs < 0 {
		sign, secs = "-", -secs
	}
	return fmt.Sprintf("%s%02d%02d", sign, secs/3600, secs/60%60)
}
