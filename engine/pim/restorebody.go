package pim

import (
	"encoding/json"
	"html"
	"strings"
	"time"
)

// AppointmentNote is what a restored meeting's body says, before the
// attendee list: the restore made it an appointment so nobody was invited.
const AppointmentNote = "Restored by Lifeboat as an appointment, so no invitation was sent. It was a meeting with:"

// attendeeLines lists the organizer and attendees, one per line.
func (e *Event) attendeeLines() []string {
	var lines []string
	if e.Organizer != nil && e.Organizer.EmailAddress.Address != "" {
		lines = append(lines, "Organizer: "+person(e.Organizer.EmailAddress))
	}
	for _, a := range e.Attendees {
		kind := a.Type
		if kind == "" {
			kind = "required"
		}
		lines = append(lines, person(a.EmailAddress)+" ("+kind+")")
	}
	return lines
}

func person(a EmailAddress) string {
	switch {
	case a.Name != "" && a.Address != "" && !strings.EqualFold(a.Name, a.Address):
		return a.Name + " <" + a.Address + ">"
	case a.Address != "":
		return a.Address
	}
	return a.Name
}

// restoredBody is the body with, for a meeting, the attendee list after it.
func (e *Event) restoredBody() map[string]any {
	ct, content := strings.ToLower(e.Body.ContentType), e.Body.Content
	if ct != "html" {
		ct = "text"
	}
	if e.IsMeeting() {
		lines := e.attendeeLines()
		if ct == "html" {
			var b strings.Builder
			b.WriteString(content)
			b.WriteString("<hr><p>" + html.EscapeString(AppointmentNote) + "</p><ul>")
			for _, l := range lines {
				b.WriteString("<li>" + html.EscapeString(l) + "</li>")
			}
			b.WriteString("</ul>")
			content = b.String()
		} else {
			content = strings.TrimRight(content, "\n") + "\n\n" + AppointmentNote + "\n" + strings.Join(lines, "\n")
		}
	}
	return map[string]any{"contentType": ct, "content": content}
}

func wall(t time.Time) string { return t.Format("2006-01-02T15:04:05.0000000") }

// times are start and end in the zones the event was made in.
func (e *Event) times() (map[string]any, map[string]any) {
	_, sz := e.Zone()
	_, ez := e.EndZone()
	return map[string]any{"dateTime": wall(e.LocalStart()), "timeZone": sz}, map[string]any{"dateTime": wall(e.LocalEnd()), "timeZone": ez}
}

// common is what an event and an exception both carry back.
func (e *Event) common() map[string]any {
	start, end := e.times()
	out := map[string]any{
		"subject": e.Subject, "body": e.restoredBody(), "start": start, "end": end, "isAllDay": e.IsAllDay,
		"categories": orEmpty(e.Categories), "isReminderOn": e.IsReminderOn, "reminderMinutesBeforeStart": e.ReminderMinutesBeforeStart,
	}
	if len(e.RawLocation) > 0 && string(e.RawLocation) != "null" {
		out["location"] = json.RawMessage(e.RawLocation)
	}
	for k, v := range map[string]string{"importance": e.Importance, "sensitivity": e.Sensitivity, "showAs": e.ShowAs} {
		if v != "" {
			out[k] = v
		}
	}
	return out
}

func orEmpty(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

// RestoreBody is the JSON a restore posts to create the event again, as an
// appointment: no attendees (creating an event with attendees sends them
// invitations, and nothing turns that off), the attendee list written into
// the body instead, times in the zones it was made in, its recurrence, and
// the transactionId that makes the create safe to repeat.
func (e *Event) RestoreBody(transactionID string) map[string]any {
	out := e.common()
	out["transactionId"] = transactionID
	if e.Recurrence != nil {
		r := *e.Recurrence
		if r.Range.RecurrenceTimeZone == "" {
			_, r.Range.RecurrenceTimeZone = e.Zone()
		}
		out["recurrence"] = r
	}
	return out
}

// ExceptionPatch is the PATCH that turns an occurrence of the restored
// series into this exception.
func (e *Event) ExceptionPatch() map[string]any { return e.common() }
