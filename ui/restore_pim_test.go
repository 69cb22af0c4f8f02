package ui

import (
	"context"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
)

// pimFake is the fake restore service with a calendar event and a contact.
type pimFake struct{ *fakeRestore }

var berlin = time.FixedZone("CET", 3600)

func newPIMFake() *pimFake {
	f := &pimFake{newFakeRestore()}
	f.items = append(f.items,
		RestoreItem{ID: "v-weekly", Item: "e-weekly", Kind: ItemEvent, Account: paul, Name: "Weekly planning", From: "Mon 2 Mar 09:00",
			Folder: "Calendar", Date: time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC), Size: 4100, Deleted: testNow.Add(-26 * time.Hour)},
		RestoreItem{ID: "v-mila", Item: "c-mila", Kind: ItemContact, Account: paul, Name: "Mila Jansen", From: "Flour & Co",
			Folder: "Contacts/Suppliers", Date: testNow.Add(-100 * time.Hour), Size: 900},
	)
	return f
}

// tinyPNG is a 1×1 PNG, a contact's photo.
var tinyPNG = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99=\x1d\x00\x00\x00\x00IEND\xaeB`\x82")

func (f *pimFake) Preview(ctx context.Context, it RestoreItem) (ItemPreview, error) {
	switch it.Kind {
	case ItemEvent:
		return ItemPreview{Kind: ItemEvent, Name: it.Name, Folder: it.Folder, Event: &EventPreview{
			Start: time.Date(2026, 3, 2, 9, 0, 0, 0, berlin), End: time.Date(2026, 3, 2, 10, 0, 0, 0, berlin), TimeZone: "W. Europe Standard Time",
			Location: "Bakery back office", Organizer: "Paul Baker <paul@contoso.test>",
			Attendees: []string{"Carol <carol@fabrikam.example>", "Dan <dan@fabrikam.example>"},
			Repeats:   "Every Monday, 8 times", Changed: 2, Cancelled: 1, Body: "Agenda: orders, rota.",
			Attachments: []PreviewAttachment{{Name: "rota.xlsx", Size: 12000}}}}, nil
	case ItemContact:
		return ItemPreview{Kind: ItemContact, Name: it.Name, Folder: it.Folder, Contact: &ContactPreview{Company: "Flour & Co", JobTitle: "Sales",
			Emails: []string{"mila@flour.example"}, Phones: []string{"+31 20 555 0101"}, Address: "Molenstraat 1, Utrecht", Photo: tinyPNG}}, nil
	}
	return f.fakeRestore.Preview(ctx, it)
}

func (f *pimFake) Plan(ctx context.Context, req RestoreRequest) (RestorePlan, error) {
	p, err := f.fakeRestore.Plan(ctx, req)
	for i := range p.Steps {
		if p.Steps[i].Kind == ItemEvent {
			p.Steps[i].Where = "the calendar Calendar"
			p.Steps[i].Note = "it was a meeting: it comes back as an appointment with its attendee list in the description, so nobody is invited"
		}
	}
	return p, err
}

func newPIMHarness(t *testing.T, svc *pimFake) *harness {
	t.Helper()
	h := newHarness(t, svc.fakeRestore)
	h.w.svc = svc
	return h
}

// The restore wizard finds calendar events beside emails and files,
// previews when, where and who, and says in the review step that a
// meeting comes back as an appointment.
func TestRestoreFindsAndPreviewsAnEvent(t *testing.T) {
	svc := newPIMFake()
	h := newPIMHarness(t, svc)
	h.search("planning")
	h.mustShow("1 match for “planning”.", "Weekly planning", "Mon 2 Mar 09:00")
	h.w.find.results.list.Select(0)
	h.settle()
	h.mustShow("When: Monday 2 March 2026, 09:00–10:00 (W. Europe Standard Time)",
		"Repeats: Every Monday, 8 times; 2 meetings were changed; 1 was cancelled",
		"Where: Bakery back office", "Calendar: Calendar (Paul Baker's)",
		"With: Carol <carol@fabrikam.example>, Dan <dan@fabrikam.example>",
		"This was a meeting. It will come back as an appointment in the calendar, with the people above written in its description, so nobody gets an invitation.",
		"rota.xlsx (12 KB)", "Agenda: orders, rota.")
	if h.w.next.Disabled() {
		t.Fatal("Next is disabled with an event selected")
	}
	h.tap(h.w.next)
	h.tap(h.w.next)
	h.mustShow("Into the calendar “Calendar” in Paul Baker's calendars. If that calendar no longer exists, Lifeboat makes it again.",
		"Lifeboat makes a calendar called “Restored by Lifeboat” with today's date, so nothing in the calendars now is touched.",
		"Each event is saved as an .ics file, which Outlook, Apple Calendar and Google Calendar open.")
	h.tap(h.w.next)
	h.mustShow("Lifeboat will restore 1 calendar event (4 KB).", "1 calendar event will be put back in the calendar Calendar",
		"Weekly planning: it was a meeting: it comes back as an appointment with its attendee list in the description, so nobody is invited")
	h.tap(h.w.next)
	h.mustShow("Done", "1 calendar event was put back.", "Meetings came back as appointments, so nobody was sent an invitation.")
}

// A contact shows as a card: photo, job and company, e-mail, phone.
func TestRestoreFindsAndPreviewsAContact(t *testing.T) {
	svc := newPIMFake()
	h := newPIMHarness(t, svc)
	h.search("mila")
	h.mustShow("Mila Jansen", "Flour & Co")
	h.w.find.results.list.Select(0)
	h.settle()
	h.mustShow("Sales, Flour & Co", "E-mail: mila@flour.example", "Phone: +31 20 555 0101", "Address: Molenstraat 1, Utrecht",
		"In: Suppliers in Paul Baker's address book")
	photo := false
	var walk func(o fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		switch x := o.(type) {
		case *canvas.Image:
			photo = true
		case *fyne.Container:
			for _, c := range x.Objects {
				walk(c)
			}
		}
	}
	walk(h.w.find.preview.box)
	if !photo {
		t.Error("the contact's photo is not shown")
	}
}
