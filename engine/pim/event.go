package pim

import (
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"regexp"
	"strings"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/wintz"
)

// Bounds on one item's JSON and its parts.
const (
	MaxItemJSON   = 16 << 20
	maxExceptions = 2000
	maxPeople     = 1000
	maxListItems  = 1000
)

// ErrInvalid wraps every reason an item's JSON is refused.
var ErrInvalid = errors.New("the item's data is not a valid Outlook item")

// DateTimeTimeZone is Graph's dateTimeTimeZone.
type DateTimeTimeZone struct {
	DateTime string `json:"dateTime"`
	TimeZone string `json:"timeZone"`
}

// EmailAddress is Graph's emailAddress.
type EmailAddress struct {
	Name    string `json:"name"`
	Address string `json:"address"`
}

// Attendee is Graph's attendee.
type Attendee struct {
	Type         string       `json:"type"`
	EmailAddress EmailAddress `json:"emailAddress"`
}

// Location is Graph's location (the parts kept).
type Location struct {
	DisplayName string `json:"displayName"`
}

// Recurrence is Graph's patternedRecurrence.
type Recurrence struct {
	Pattern struct {
		Type           string   `json:"type"`
		Interval       int      `json:"interval"`
		Month          int      `json:"month"`
		DayOfMonth     int      `json:"dayOfMonth"`
		DaysOfWeek     []string `json:"daysOfWeek"`
		FirstDayOfWeek string   `json:"firstDayOfWeek"`
		Index          string   `json:"index"`
	} `json:"pattern"`
	Range struct {
		Type                string `json:"type"`
		StartDate           string `json:"startDate"`
		EndDate             string `json:"endDate"`
		RecurrenceTimeZone  string `json:"recurrenceTimeZone"`
		NumberOfOccurrences int    `json:"numberOfOccurrences"`
	} `json:"range"`
}

// Event is an event as Graph serves it (the parts Lifeboat uses).
type Event struct {
	ID             string `json:"id"`
	Type           string `json:"type"`
	ChangeKey      string `json:"changeKey"`
	ICalUID        string `json:"iCalUId"`
	SeriesMasterID string `json:"seriesMasterId"`
	Subject        string `json:"subject"`
	Body           struct {
		ContentType string `json:"contentType"`
		Content     string `json:"content"`
	} `json:"body"`
	Start                 DateTimeTimeZone  `json:"start"`
	End                   DateTimeTimeZone  `json:"end"`
	OriginalStartTimeZone string            `json:"originalStartTimeZone"`
	OriginalEndTimeZone   string            `json:"originalEndTimeZone"`
	OriginalStart         *time.Time        `json:"originalStart"`
	IsAllDay              bool              `json:"isAllDay"`
	Location              Location          `json:"location"`
	Locations             []json.RawMessage `json:"locations"`
	Attendees             []Attendee        `json:"attendees"`
	Organizer             *struct {
		EmailAddress EmailAddress `json:"emailAddress"`
	} `json:"organizer"`
	Categories                 []string    `json:"categories"`
	Importance                 string      `json:"importance"`
	Sensitivity                string      `json:"sensitivity"`
	ShowAs                     string      `json:"showAs"`
	IsReminderOn               bool        `json:"isReminderOn"`
	ReminderMinutesBeforeStart int         `json:"reminderMinutesBeforeStart"`
	HasAttachments             bool        `json:"hasAttachments"`
	Recurrence                 *Recurrence `json:"recurrence"`
	CancelledOccurrences       []string    `json:"cancelledOccurrences"`
	ExceptionOccurrences       []Event     `json:"exceptionOccurrences"`
	LastModified               time.Time   `json:"lastModifiedDateTime"`
	Created                    time.Time   `json:"createdDateTime"`

	// RawLocation keeps the location object whole for a restore.
	RawLocation json.RawMessage `json:"-"`
}

// ParseEvent reads an event's JSON as Graph served it. It never panics;
// anything unusable is an error wrapping ErrInvalid with the reason.
func ParseEvent(raw []byte) (*Event, error) {
	if len(raw) > MaxItemJSON {
		return nil, fmt.Errorf("%w: %d bytes is more than the %d MiB an event may have", ErrInvalid, len(raw), MaxItemJSON>>20)
	}
	var e Event
	if err := json.Unmarshal(raw, &e); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	var loc struct {
		Location   json.RawMessage `json:"location"`
		Exceptions []struct {
			Location json.RawMessage `json:"location"`
		} `json:"exceptionOccurrences"`
	}
	_ = json.Unmarshal(raw, &loc)
	e.RawLocation = loc.Location
	for i := range e.ExceptionOccurrences {
		if i < len(loc.Exceptions) {
			e.ExceptionOccurrences[i].RawLocation = loc.Exceptions[i].Location
		}
	}
	if err := e.check(0); err != nil {
		return nil, err
	}
	return &e, nil
}

func (e *Event) check(depth int) error {
	if e.ID == "" {
		return fmt.Errorf("%w: the event has no id", ErrInvalid)
	}
	if depth > 0 && len(e.ExceptionOccurrences) > 0 {
		return fmt.Errorf("%w: an exception has exceptions of its own", ErrInvalid)
	}
	if len(e.ExceptionOccurrences) > maxExceptions || len(e.Attendees) > maxPeople || len(e.Categories) > maxListItems ||
		len(e.CancelledOccurrences) > maxExceptions || len(e.Locations) > maxListItems {
		return fmt.Errorf("%w: the event has too many attendees, categories or exceptions", ErrInvalid)
	}
	if _, err := e.StartTime(); err != nil {
		return fmt.Errorf("%w: start: %v", ErrInvalid, err)
	}
	if _, err := e.EndTime(); err != nil {
		return fmt.Errorf("%w: end: %v", ErrInvalid, err)
	}
	for i := range e.ExceptionOccurrences {
		if err := e.ExceptionOccurrences[i].check(depth + 1); err != nil {
			return err
		}
	}
	return nil
}

// parseDateTime reads a dateTimeTimeZone as the instant it stands for.
func parseDateTime(d DateTimeTimeZone) (time.Time, error) {
	zone := d.TimeZone
	if zone == "" {
		zone = "UTC"
	}
	loc, err := wintz.LoadLocation(zone)
	if err != nil {
		return time.Time{}, err
	}
	s := d.DateTime
	if i := strings.IndexByte(s, '.'); i >= 0 {
		s = s[:i]
	}
	t, err := time.ParseInLocation("2006-01-02T15:04:05", s, loc)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a date and time", truncate(d.DateTime, 40))
	}
	return t, nil
}

// StartTime and EndTime are the event's start and end instants.
func (e *Event) StartTime() (time.Time, error) { return parseDateTime(e.Start) }

// EndTime is the event's end instant.
func (e *Event) EndTime() (time.Time, error) { return parseDateTime(e.End) }

// Zone is the zone the event was made in (originalStartTimeZone), UTC
// when Graph names none Go knows (e.g. "tzone://Microsoft/Custom").
func (e *Event) Zone() (*time.Location, string) {
	for _, z := range []string{e.OriginalStartTimeZone, e.Start.TimeZone} {
		if loc, err := wintz.LoadLocation(z); err == nil && z != "" {
			return loc, z
		}
	}
	return time.UTC, "UTC"
}

// EndZone is the zone of the event's end (originalEndTimeZone).
func (e *Event) EndZone() (*time.Location, string) {
	if loc, err := wintz.LoadLocation(e.OriginalEndTimeZone); err == nil && e.OriginalEndTimeZone != "" {
		return loc, e.OriginalEndTimeZone
	}
	return e.Zone()
}

// LocalStart and LocalEnd are the start and end in the event's own zones.
func (e *Event) LocalStart() time.Time {
	t, _ := e.StartTime()
	loc, _ := e.Zone()
	return t.In(loc)
}

// LocalEnd is the end in the event's own end zone.
func (e *Event) LocalEnd() time.Time {
	t, _ := e.EndTime()
	loc, _ := e.EndZone()
	return t.In(loc)
}

// People are the organizer and the attendees.
func (e *Event) People() []EmailAddress {
	var out []EmailAddress
	if e.Organizer != nil && e.Organizer.EmailAddress.Address != "" {
		out = append(out, e.Organizer.EmailAddress)
	}
	for _, a := range e.Attendees {
		if a.EmailAddress.Address != "" || a.EmailAddress.Name != "" {
			out = append(out, a.EmailAddress)
		}
	}
	return out
}

var tagRE = regexp.MustCompile(`(?s)<(script|style)[^>]*>.*?</(script|style)>|<[^>]*>`)

// BodyText is the body as plain text.
func (e *Event) BodyText() string { return bodyText(e.Body.ContentType, e.Body.Content) }

func bodyText(contentType, content string) string {
	if strings.EqualFold(contentType, "html") {
		content = html.UnescapeString(tagRE.ReplaceAllString(content, " "))
	}
	return strings.TrimSpace(strings.Join(strings.FieldsFunc(content, func(r rune) bool { return r == ' ' || r == '\t' || r == '\r' }), " "))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}

// IsMeeting says whether the event has attendees (a restore turns it into
// an appointment).
func (e *Event) IsMeeting() bool { return len(e.Attendees) > 0 }

// CancelledDates returns the dates (in the series' zone) of the
// occurrences cancelledOccurrences names ("OID.{masterId}.{yyyy-mm-dd}").
func (e *Event) CancelledDates() []string {
	var out []string
	for _, c := range e.CancelledOccurrences {
		i := strings.LastIndexByte(c, '.')
		if i < 0 {
			continue
		}
		if _, err := time.Parse(time.DateOnly, c[i+1:]); err == nil {
			out = append(out, c[i+1:])
		}
	}
	return out
}
