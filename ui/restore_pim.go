package ui

import (
	"bytes"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// rwPIMPreviewObjects lays out the preview of a calendar event (when,
// where, who) or a contact (a card with its photo). lead holds what comes
// before the heading's details (the "Deleted" notice).
func rwPIMPreviewObjects(it RestoreItem, pv ItemPreview, now time.Time, lead []fyne.CanvasObject) []fyne.CanvasObject {
	name := pv.Name
	if name == "" {
		name = it.Name
	}
	out := []fyne.CanvasObject{rwHeading(rwOrNone(name))}
	out = append(out, lead...)
	line := func(label, value string) {
		if strings.TrimSpace(value) == "" {
			return
		}
		l := widget.NewLabel(label + ": " + value)
		l.Wrapping = fyne.TextWrapWord
		out = append(out, l)
	}
	if pv.Kind == ItemEvent && pv.Event != nil {
		e := pv.Event
		line("When", rwEventWhen(e))
		line("Repeats", rwEventRepeats(e))
		line("Where", e.Location)
		cal := strings.Trim(pv.Folder, "/")
		if cal == "" {
			cal = "Calendar"
		}
		if who := rwPossessive(it.Account); who != "" {
			cal += " (" + who + ")"
		}
		line("Calendar", cal)
		line("Organizer", e.Organizer)
		if len(e.Attendees) > 0 {
			line("With", strings.Join(e.Attendees, ", "))
			n := widget.NewLabel("This was a meeting. It will come back as an appointment in the calendar, with the people above written in its description, so nobody gets an invitation.")
			n.Wrapping = fyne.TextWrapWord
			n.Importance = widget.MediumImportance
			out = append(out, n)
		}
		if len(e.Attachments) > 0 {
			out = append(out, widget.NewLabelWithStyle(rwAttachmentsTitle(len(e.Attachments)), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
			for _, a := range e.Attachments {
				l := widget.NewLabel(a.Name + " (" + rwSize(a.Size) + ")")
				l.Truncation = fyne.TextTruncateEllipsis
				out = append(out, container.NewBorder(nil, nil, widget.NewIcon(theme.FileIcon()), nil, l))
			}
		}
		if strings.TrimSpace(e.Body) != "" {
			out = append(out, widget.NewSeparator())
			b := widget.NewLabel(e.Body)
			b.Wrapping = fyne.TextWrapWord
			out = append(out, b)
		}
		return out
	}
	c := pv.Contact
	if c == nil {
		c = &ContactPreview{}
	}
	var card []fyne.CanvasObject
	if len(c.Photo) > 0 {
		img := canvas.NewImageFromReader(bytes.NewReader(c.Photo), "photo")
		img.FillMode = canvas.ImageFillContain
		img.SetMinSize(fyne.NewSize(72, 72))
		card = append(card, img)
	} else {
		card = append(card, widget.NewIcon(theme.AccountIcon()))
	}
	who := strings.TrimSpace(strings.Join([]string{c.JobTitle, c.Company}, ", "))
	who = strings.Trim(who, ", ")
	if who != "" {
		card = append(card, widget.NewLabel(who))
	}
	out = append(out, container.NewHBox(card...))
	for _, e := range c.Emails {
		line("E-mail", e)
	}
	for _, p := range c.Phones {
		line("Phone", p)
	}
	line("Address", c.Address)
	line("In", rwFolderText(pv.Folder, ItemContact)+rwWhoseSuffix(it.Account, ItemContact))
	if strings.TrimSpace(c.Notes) != "" {
		n := widget.NewLabel(c.Notes)
		n.Wrapping = fyne.TextWrapWord
		out = append(out, widget.NewSeparator(), n)
	}
	return out
}

// rwEventWhen is "Monday 2 March 2026, 09:00–10:00 (W. Europe Standard
// Time)" or "Friday 10 April 2026, all day".
func rwEventWhen(e *EventPreview) string {
	if e.Start.IsZero() {
		return ""
	}
	day := e.Start.Format("Monday 2 January 2006")
	if e.AllDay {
		last := e.End.AddDate(0, 0, -1)
		if !e.End.IsZero() && last.After(e.Start) {
			return day + " to " + last.Format("Monday 2 January 2006") + ", all day"
		}
		return day + ", all day"
	}
	s := day + ", " + e.Start.Format("15:04")
	if !e.End.IsZero() {
		if rwSameDay(e.Start, e.End) {
			s += "–" + e.End.Format("15:04")
		} else {
			s += " to " + e.End.Format("Monday 2 January 2006, 15:04")
		}
	}
	if e.TimeZone != "" {
		s += " (" + e.TimeZone + ")"
	}
	return s
}

func rwEventRepeats(e *EventPreview) string {
	if e.Repeats == "" {
		return ""
	}
	s := e.Repeats
	if e.Changed > 0 {
		s += "; " + rwItoa(e.Changed) + rwPick(e.Changed, " meeting was changed", " meetings were changed")
	}
	if e.Cancelled > 0 {
		s += "; " + rwItoa(e.Cancelled) + rwPick(e.Cancelled, " was cancelled", " were cancelled")
	}
	return s
}

// The where step's explanations of a new folder and of this computer.
const (
	rwNewFolderText = "Lifeboat makes a folder called “Restored by Lifeboat” with today's date in the mailbox " +
		"(for emails) or the OneDrive (for files), so nothing that is there now is touched."
	rwComputerText = "Emails are saved as .eml files that open in Outlook or Thunderbird; files keep their dates. " +
		"Folders are kept as they were."
)

// rwContainerNoun is what holds items of a kind: a folder, a calendar, a
// contact folder.
func rwContainerNoun(k ItemKind) string {
	switch k {
	case ItemEvent:
		return "calendar"
	case ItemContact:
		return "contact folder"
	}
	return "folder"
}

// describePIM words the where step's choices for calendar events and
// contacts when they are among what was chosen.
func (s *rwWhereStep) describePIM(items []RestoreItem, folders []FolderChoice) {
	kinds := map[ItemKind]bool{}
	for _, it := range items {
		kinds[it.Kind] = true
	}
	for _, f := range folders {
		kinds[f.Kind] = true
	}
	newFolder, computer := rwNewFolderText, rwComputerText
	switch {
	case len(kinds) == 1 && kinds[ItemEvent]:
		newFolder = "Lifeboat makes a calendar called “Restored by Lifeboat” with today's date, so nothing in the calendars now is touched."
		computer = "Each event is saved as an .ics file, which Outlook, Apple Calendar and Google Calendar open."
	case len(kinds) == 1 && kinds[ItemContact]:
		newFolder = "Lifeboat makes a contact folder called “Restored by Lifeboat” with today's date, so nothing in the address book now is touched."
		computer = "Each contact is saved as a .vcf file (a contact card), which Outlook, Apple Contacts and Google Contacts open."
	case kinds[ItemEvent] || kinds[ItemContact]:
		newFolder = "Lifeboat makes a folder, calendar or contact folder called “Restored by Lifeboat” with today's date where each " +
			"thing belongs, so nothing that is there now is touched."
		computer = "Emails are saved as .eml files, calendar events as .ics files and contacts as .vcf files, which Outlook and " +
			"most other programs open; files keep their dates. Folders are kept as they were."
	}
	s.newFolder.SetText(newFolder)
	s.computer.SetText(computer)
}
