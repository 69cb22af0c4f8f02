package restore

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
)

// pimFixture is Alice's calendars and address book as the acceptance test
// of issue 15 describes them.
type pimFixture struct {
	weekly, allDay, visit m365sim.Event
	photoA, photoB        []byte
	attachment            []byte
}

func raw(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

func buildPIMFixture(t *testing.T, e *simEnv) pimFixture {
	t.Helper()
	tn := e.tn
	var f pimFixture
	mk := func(subject, day, from, to, zone string) m365sim.EventProps {
		p := m365sim.EventProps{Subject: subject, Body: m365sim.ItemBody{ContentType: "html", Content: "<p>Agenda for " + subject + "</p>"},
			Start: m365sim.DateTimeTimeZone{DateTime: day + "T" + from, TimeZone: zone}, End: m365sim.DateTimeTimeZone{DateTime: day + "T" + to, TimeZone: zone},
			Categories: []string{"Blue category"}, IsReminderOn: true, ReminderMinutesBeforeStart: 15}
		p.Location.DisplayName = "Bakery back office"
		return p
	}
	weekly := mk("Weekly planning", "2026-03-02", "09:00:00", "10:00:00", "W. Europe Standard Time")
	for _, a := range []string{"carol@fabrikam.example", "dan@fabrikam.example"} {
		var at m365sim.EventAttendee
		at.Type, at.EmailAddress.Name, at.EmailAddress.Address = "required", strings.Split(a, "@")[0], a
		weekly.Attendees = append(weekly.Attendees, at)
	}
	weekly.Recurrence = &m365sim.PatternedRecurrence{}
	weekly.Recurrence.Pattern.Type, weekly.Recurrence.Pattern.Interval = "weekly", 1
	weekly.Recurrence.Pattern.DaysOfWeek, weekly.Recurrence.Pattern.FirstDayOfWeek = []string{"monday"}, "monday"
	weekly.Recurrence.Range.Type, weekly.Recurrence.Range.StartDate, weekly.Recurrence.Range.NumberOfOccurrences = "numbered", "2026-03-02", 8
	weekly.Recurrence.Range.RecurrenceTimeZone = "W. Europe Standard Time"
	w, err := tn.CreateEvent(e.upn, "", weekly)
	if err != nil {
		t.Fatal(err)
	}
	occ, err := tn.Occurrences(e.upn, w.ID, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC))
	if err != nil || len(occ) != 8 {
		t.Fatalf("%d occurrences, %v", len(occ), err)
	}
	if _, err := tn.UpdateOccurrence(e.upn, occ[1].ID, map[string]json.RawMessage{"subject": raw("Weekly planning (with the accountant)")}); err != nil {
		t.Fatal(err)
	}
	if _, err := tn.UpdateOccurrence(e.upn, occ[3].ID, map[string]json.RawMessage{
		"start":    raw(map[string]string{"dateTime": "2026-03-23T11:00:00", "timeZone": "W. Europe Standard Time"}),
		"end":      raw(map[string]string{"dateTime": "2026-03-23T12:30:00", "timeZone": "W. Europe Standard Time"}),
		"location": raw(map[string]string{"displayName": "Café across the street"}),
	}); err != nil {
		t.Fatal(err)
	}
	if err := tn.DeleteEvent(e.upn, occ[2].ID); err != nil {
		t.Fatal(err)
	}
	team, err := tn.AddCalendar(e.upn, "Team holidays")
	if err != nil {
		t.Fatal(err)
	}
	ad := mk("Supplier fair in Tokyo", "2026-04-10", "00:00:00", "00:00:00", "Tokyo Standard Time")
	ad.End.DateTime = "2026-04-11T00:00:00"
	ad.IsAllDay, ad.ShowAs = true, "free"
	if f.allDay, err = tn.CreateEvent(e.upn, team.ID, ad); err != nil {
		t.Fatal(err)
	}
	if f.visit, err = tn.CreateEvent(e.upn, "", mk("Oven maintenance visit", "2026-03-05", "14:00:00", "15:00:00", "GMT Standard Time")); err != nil {
		t.Fatal(err)
	}
	f.attachment = bytes.Repeat([]byte("service checklist\n"), 300)
	if err := e.g.AddEventAttachment(t.Context(), "me", f.visit.ID, 0, map[string]any{"@odata.type": "#microsoft.graph.fileAttachment",
		"name": "checklist.txt", "contentType": "text/plain", "contentBytes": base64.StdEncoding.EncodeToString(f.attachment)}); err != nil {
		t.Fatal(err)
	}
	if f.weekly, err = eventBySubject(tn, e.upn, "Weekly planning"); err != nil {
		t.Fatal(err)
	}
	sup, err := tn.AddContactFolder(e.upn, "", "Suppliers")
	if err != nil {
		t.Fatal(err)
	}
	f.photoA, f.photoB = append([]byte("\xff\xd8\xff\xe0JFIF-A"), bytes.Repeat([]byte{1}, 500)...), append([]byte("\xff\xd8\xff\xe0JFIF-B"), bytes.Repeat([]byte{2}, 700)...)
	mila := m365sim.ContactProps{GivenName: "Mila", Surname: "Jansen", CompanyName: "Flour & Co", JobTitle: "Sales",
		BusinessPhones: []string{"+31 20 555 0101"}, MobilePhone: "+31 6 5555 0102"}
	mila.EmailAddresses = append(mila.EmailAddresses, m365sim.ContactProps{}.EmailAddresses...)
	if _, err := tn.AddContact(e.upn, sup.ID, withEmail(mila, "Mila Jansen", "mila@flour.example"), f.photoA); err != nil {
		t.Fatal(err)
	}
	if _, err := tn.AddContact(e.upn, "", withEmail(m365sim.ContactProps{GivenName: "Noor", Surname: "de Vries", CompanyName: "Milk Farm"}, "Noor", "noor@milk.example"), f.photoB); err != nil {
		t.Fatal(err)
	}
	return f
}

func withEmail(p m365sim.ContactProps, name, addr string) m365sim.ContactProps {
	b, _ := json.Marshal(p)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	m["emailAddresses"] = []map[string]string{{"name": name, "address": addr}}
	b, _ = json.Marshal(m)
	var out m365sim.ContactProps
	_ = json.Unmarshal(b, &out)
	return out
}

func eventBySubject(tn *m365sim.Tenant, upn, subject string) (m365sim.Event, error) {
	evs, err := tn.FindEvents(upn, subject)
	if err != nil {
		return m365sim.Event{}, err
	}
	for _, e := range evs {
		if e.Props.Subject == subject {
			return e, nil
		}
	}
	return m365sim.Event{}, catalog.ErrNotFound
}

// deletedPIM lists the events and contacts the catalog found deleted.
func (e *simEnv) deletedPIM() []catalog.VersionInfo {
	e.t.Helper()
	del, err := e.c.RecentlyDeleted(e.t.Context(), e.acct.HomeID, 1000)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []catalog.VersionInfo
	for _, d := range del {
		if d.Item.Kind == catalog.KindEvent || d.Item.Kind == catalog.KindContact {
			out = append(out, d.VersionInfo)
		}
	}
	return out
}

// The round trip of issue 15: calendars and contacts are backed up,
// deleted in the simulator and restored to where they were; what they
// were comes back, and the restore sent nobody anything.
func TestCalendarsAndContactsRoundTrip(t *testing.T) {
	e := newSimEnv(t, simtest.SmallTenant(t))
	f := buildPIMFixture(t, e)
	e.backup()
	for _, ev := range []m365sim.Event{f.weekly, f.allDay, f.visit} {
		if err := e.tn.DeleteEvent(e.upn, ev.ID); err != nil {
			t.Fatal(err)
		}
	}
	cs, _ := e.tn.Contacts(e.upn, "")
	for _, c := range cs {
		if err := e.tn.DeleteContact(e.upn, c.ID); err != nil {
			t.Fatal(err)
		}
	}
	e.backup()
	items := e.deletedPIM()
	if len(items) != 5 {
		t.Fatalf("%d deleted events and contacts in the catalog, want 5", len(items))
	}
	sentBefore := len(e.tn.SentMessages())

	r := New(Options{Content: e.r})
	dest := WithCalendarsAndContacts(ToOriginal(e.g, e.g, "me", e.acct.HomeID), e.g)
	pl, err := r.Plan(t.Context(), dest, items)
	if err != nil {
		t.Fatal(err)
	}
	said := false
	for _, s := range pl.Steps {
		if s.Item.Name == "Weekly planning" && s.Reason == MeetingNote {
			said = true
		}
	}
	if !said {
		t.Errorf("the review step does not say the meeting comes back as an appointment: %+v", pl.Steps)
	}
	res, err := r.Execute(t.Context(), pl)
	if err != nil || len(res.Failures) > 0 {
		t.Fatalf("restore: %v %+v", err, res.Failures)
	}
	if sent := e.tn.SentMessages(); len(sent) != sentBefore {
		t.Fatalf("the restore sent %d messages: %+v", len(sent)-sentBefore, sent[sentBefore:])
	}

	// The series: subject, body, times and zone, recurrence, exceptions,
	// the cancelled occurrence, categories and reminder.
	got, err := eventBySubject(e.tn, e.upn, "Weekly planning")
	if err != nil {
		t.Fatal(err)
	}
	if got.ID == f.weekly.ID {
		t.Fatal("the restored series has the deleted one's id")
	}
	if len(got.Props.Attendees) != 0 {
		t.Error("the restored meeting has attendees (they would have been invited)")
	}
	if !strings.HasPrefix(got.Props.Body.Content, f.weekly.Props.Body.Content) || !strings.Contains(got.Props.Body.Content, "carol@fabrikam.example") ||
		!strings.Contains(got.Props.Body.Content, "dan@fabrikam.example") {
		t.Errorf("body %q", got.Props.Body.Content)
	}
	if got.Props.Start != f.weekly.Props.Start || got.Props.End != f.weekly.Props.End {
		t.Errorf("start/end %v %v, want %v %v", got.Props.Start, got.Props.End, f.weekly.Props.Start, f.weekly.Props.End)
	}
	gr, wr := got.Props.Recurrence, f.weekly.Props.Recurrence
	if gr == nil || gr.Pattern.Type != wr.Pattern.Type || !slices.Equal(gr.Pattern.DaysOfWeek, wr.Pattern.DaysOfWeek) || gr.Range.NumberOfOccurrences != 8 ||
		gr.Range.StartDate != wr.Range.StartDate || gr.Range.RecurrenceTimeZone != wr.Range.RecurrenceTimeZone {
		t.Errorf("recurrence %+v, want %+v", gr, wr)
	}
	if !slices.Equal(got.Props.Categories, f.weekly.Props.Categories) || !got.Props.IsReminderOn || got.Props.ReminderMinutesBeforeStart != 15 {
		t.Errorf("categories %v reminder %v %d", got.Props.Categories, got.Props.IsReminderOn, got.Props.ReminderMinutesBeforeStart)
	}
	if len(got.Cancelled) != 1 || !got.Cancelled[0].Equal(time.Date(2026, 3, 16, 8, 0, 0, 0, time.UTC)) {
		t.Errorf("cancelled %v, want 16 March", got.Cancelled)
	}
	occ, _ := e.tn.Occurrences(e.upn, got.ID, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC))
	var exceptions []string
	for _, o := range occ {
		if o.Type == m365sim.EventExceptionTy {
			exceptions = append(exceptions, o.Props.Subject+"@"+o.Props.Start.DateTime+"@"+o.Props.Location.DisplayName)
		}
	}
	want := []string{"Weekly planning (with the accountant)@2026-03-09T09:00:00.0000000@Bakery back office",
		"Weekly planning@2026-03-23T11:00:00.0000000@Café across the street"}
	if len(occ) != 7 || !slices.Equal(exceptions, want) {
		t.Errorf("%d occurrences, exceptions %q, want 7 and %q", len(occ), exceptions, want)
	}

	// The all-day event in another zone, in its own calendar.
	ad, err := eventBySubject(e.tn, e.upn, "Supplier fair in Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	team, _ := e.tn.Calendars(e.upn)
	if !ad.Props.IsAllDay || ad.Props.Start != f.allDay.Props.Start || ad.Props.End != f.allDay.Props.End || calName(team, ad.CalendarID) != "Team holidays" || ad.Props.ShowAs != "free" {
		t.Errorf("all-day event %+v in %q", ad.Props, calName(team, ad.CalendarID))
	}
	// The attachment.
	v, err := eventBySubject(e.tn, e.upn, "Oven maintenance visit")
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Attachments) != 1 || v.Attachments[0].Name != "checklist.txt" || !bytes.Equal(v.Attachments[0].Content, f.attachment) {
		t.Errorf("attachments %+v", v.Attachments)
	}
	// Contacts with their photos, in their folders.
	folders, _ := e.tn.ContactFolders(e.upn)
	restored, _ := e.tn.Contacts(e.upn, "")
	if len(restored) != 2 {
		t.Fatalf("%d contacts restored", len(restored))
	}
	for _, c := range restored {
		folder := ""
		for _, fo := range folders {
			if fo.ID == c.FolderID {
				folder = fo.Name
			}
		}
		switch c.Props.DisplayName {
		case "Mila Jansen":
			if folder != "Suppliers" || !bytes.Equal(c.Photo, f.photoA) || c.Props.CompanyName != "Flour & Co" || c.Props.MobilePhone != "+31 6 5555 0102" ||
				len(c.Props.EmailAddresses) != 1 || c.Props.EmailAddresses[0].Address != "mila@flour.example" {
				t.Errorf("Mila: folder %q, %+v, photo %d bytes", folder, c.Props, len(c.Photo))
			}
		case "Noor de Vries":
			if folder != "Contacts" || !bytes.Equal(c.Photo, f.photoB) {
				t.Errorf("Noor: folder %q, photo %d bytes", folder, len(c.Photo))
			}
		default:
			t.Errorf("unexpected contact %q", c.Props.DisplayName)
		}
	}

	// Restoring the events again (an interrupted restore run once more,
	// without its journal) makes no second copy: the transactionId
	// answers the event the first run made.
	var evItems []catalog.VersionInfo
	for _, v := range items {
		if v.Item.Kind == catalog.KindEvent {
			evItems = append(evItems, v)
		}
	}
	before, _ := e.tn.FindEvents(e.upn, "")
	pl, err = r.Plan(t.Context(), dest, evItems)
	if err != nil {
		t.Fatal(err)
	}
	if res, err := r.Execute(t.Context(), pl); err != nil || len(res.Failures) > 0 {
		t.Fatalf("second restore: %v %+v", err, res.Failures)
	}
	after, _ := e.tn.FindEvents(e.upn, "")
	v2, _ := eventBySubject(e.tn, e.upn, "Oven maintenance visit")
	if len(after) != len(before) || len(v2.Attachments) != 1 {
		t.Errorf("restoring again: %d events (was %d), %d attachments", len(after), len(before), len(v2.Attachments))
	}
	if sent := e.tn.SentMessages(); len(sent) != sentBefore {
		t.Fatalf("the second restore sent %d messages", len(sent)-sentBefore)
	}
}

func calName(cs []m365sim.Calendar, id string) string {
	for _, c := range cs {
		if c.ID == id {
			return c.Name
		}
	}
	return ""
}
