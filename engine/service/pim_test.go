package service

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
	"github.com/lifeboat-backup/lifeboat/engine/restore"
)

// pimWorld is Alice's weekly meeting (one changed and one cancelled
// occurrence), an appointment in a second calendar and two contacts (one
// with a photo), backed up through the service.
type pimWorld struct {
	svc    *Service
	tn     *m365sim.Tenant
	dir    string
	photo  []byte
	weekly m365sim.Event
}

func withContactEmail(t *testing.T, p m365sim.ContactProps, name, addr string) m365sim.ContactProps {
	t.Helper()
	b, _ := json.Marshal(p)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	m["emailAddresses"] = []map[string]string{{"name": name, "address": addr}}
	b, _ = json.Marshal(m)
	var out m365sim.ContactProps
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func newPIMWorld(t *testing.T) *pimWorld {
	t.Helper()
	svc, srv := simService(t)
	w := &pimWorld{svc: svc, tn: srv.Tenant(), dir: filepath.Join(t.TempDir(), "backup")}
	if _, err := svc.InitBackup(t.Context(), w.dir, true); err != nil {
		t.Fatal(err)
	}
	tn, upn := w.tn, simtest.Alice
	zone := "W. Europe Standard Time"
	weekly := m365sim.EventProps{Subject: "Weekly planning", Body: m365sim.ItemBody{ContentType: "html", Content: "<p>Orders and the rota</p>"},
		Start: m365sim.DateTimeTimeZone{DateTime: "2026-03-02T09:00:00", TimeZone: zone}, End: m365sim.DateTimeTimeZone{DateTime: "2026-03-02T10:00:00", TimeZone: zone},
		Categories: []string{"Blue category"}, IsReminderOn: true, ReminderMinutesBeforeStart: 15}
	weekly.Location.DisplayName = "Bakery back office"
	var at m365sim.EventAttendee
	at.Type, at.EmailAddress.Name, at.EmailAddress.Address = "required", "Carol", "carol@fabrikam.example"
	weekly.Attendees = append(weekly.Attendees, at)
	weekly.Recurrence = &m365sim.PatternedRecurrence{}
	weekly.Recurrence.Pattern.Type, weekly.Recurrence.Pattern.Interval = "weekly", 1
	weekly.Recurrence.Pattern.DaysOfWeek, weekly.Recurrence.Pattern.FirstDayOfWeek = []string{"monday"}, "monday"
	weekly.Recurrence.Range.Type, weekly.Recurrence.Range.StartDate, weekly.Recurrence.Range.NumberOfOccurrences = "numbered", "2026-03-02", 6
	weekly.Recurrence.Range.RecurrenceTimeZone = zone
	var err error
	if w.weekly, err = tn.CreateEvent(upn, "", weekly); err != nil {
		t.Fatal(err)
	}
	occ, err := tn.Occurrences(upn, w.weekly.ID, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC))
	if err != nil || len(occ) != 6 {
		t.Fatalf("%d occurrences, %v", len(occ), err)
	}
	if _, err := tn.UpdateOccurrence(upn, occ[1].ID, map[string]json.RawMessage{"subject": json.RawMessage(`"Weekly planning (with the accountant)"`)}); err != nil {
		t.Fatal(err)
	}
	if err := tn.DeleteEvent(upn, occ[2].ID); err != nil {
		t.Fatal(err)
	}
	team, err := tn.AddCalendar(upn, "Team holidays")
	if err != nil {
		t.Fatal(err)
	}
	trip := m365sim.EventProps{Subject: "Supplier fair in Lyon", Start: m365sim.DateTimeTimeZone{DateTime: "2026-04-10T00:00:00", TimeZone: "Romance Standard Time"},
		End: m365sim.DateTimeTimeZone{DateTime: "2026-04-11T00:00:00", TimeZone: "Romance Standard Time"}, IsAllDay: true}
	if _, err := tn.CreateEvent(upn, team.ID, trip); err != nil {
		t.Fatal(err)
	}
	sup, err := tn.AddContactFolder(upn, "", "Suppliers")
	if err != nil {
		t.Fatal(err)
	}
	w.photo = append([]byte("\xff\xd8\xff\xe0JFIF"), bytes.Repeat([]byte{7}, 400)...)
	mila := m365sim.ContactProps{GivenName: "Mila", Surname: "Jansen", CompanyName: "Flour & Co", JobTitle: "Sales", MobilePhone: "+31 6 5555 0102"}
	mila.BusinessAddress.Street, mila.BusinessAddress.City = "Molenstraat 1", "Utrecht"
	if _, err := tn.AddContact(upn, sup.ID, withContactEmail(t, mila, "Mila Jansen", "mila@flour.example"), w.photo); err != nil {
		t.Fatal(err)
	}
	if _, err := tn.AddContact(upn, "", m365sim.ContactProps{GivenName: "Noor", Surname: "de Vries"}, nil); err != nil {
		t.Fatal(err)
	}
	w.backup(t)
	return w
}

func (w *pimWorld) backup(t *testing.T) BackupSummary {
	t.Helper()
	sum, err := w.svc.Backup(t.Context(), BackupRequest{Dir: w.dir})
	if err != nil {
		t.Fatalf("backup: %v", err)
	}
	return sum
}

func (w *pimWorld) browser(t *testing.T) *Browser {
	t.Helper()
	b, err := w.svc.OpenBrowser(t.Context(), w.dir, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return b
}

// Events and contacts are found, browsed and previewed like mail.
func TestBrowseFindAndPreviewEventsAndContacts(t *testing.T) {
	w := newPIMWorld(t)
	b := w.browser(t)
	ctx := t.Context()
	acct, err := b.Account(ctx, simtest.Alice)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []catalog.ItemKind{catalog.KindEvent, catalog.KindContact} {
		if ts, err := b.Backups(ctx, acct.HomeID, k); err != nil || len(ts) != 1 {
			t.Errorf("%s backups: %v %v", k, ts, err)
		}
	}
	cal, err := b.List(ctx, acct.HomeID, catalog.KindEvent, "", Point{})
	if err != nil || !slices.Contains(cal.Folders, "Calendar") || !slices.Contains(cal.Folders, "Team holidays") {
		t.Fatalf("calendars: %+v %v", cal.Folders, err)
	}
	con, err := b.List(ctx, acct.HomeID, catalog.KindContact, "Contacts", Point{})
	if err != nil || !slices.Contains(con.Folders, "Contacts/Suppliers") || len(con.Items) != 1 || con.Items[0].Name != "Noor de Vries" {
		t.Fatalf("contact folders: %+v %v", con, err)
	}

	// Find by a person, a place, a company, a phone number.
	for q, want := range map[string]string{"carol": "Weekly planning", "back office": "Weekly planning", "Flour": "Mila Jansen", "Lyon": "Supplier fair in Lyon"} {
		hits, err := b.Find(ctx, FindRequest{Text: q, AsTyped: true})
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, h := range hits {
			found = found || h.Version.Name == want
		}
		if !found {
			t.Errorf("find %q: %d hits, not %q", q, len(hits), want)
		}
	}
	hits, err := b.Find(ctx, FindRequest{Text: "planning", Kind: catalog.KindEvent})
	if err != nil || len(hits) != 1 {
		t.Fatalf("find events: %d %v", len(hits), err)
	}
	ev := hits[0].Version
	if got := SummarizePIM(ev); !strings.Contains(got, "alice") && !strings.Contains(got, "Alice") {
		t.Errorf("a meeting's row names its organizer: %q", got)
	}
	pv, err := b.Preview(ctx, ev.ID)
	if err != nil || pv.Event == nil {
		t.Fatalf("preview: %+v %v", pv, err)
	}
	e := pv.Event
	if pv.Kind != catalog.KindEvent || pv.Name != "Weekly planning" || pv.Folder != "Calendar" || e.Location != "Bakery back office" ||
		e.TimeZone != "W. Europe Standard Time" || e.Start.Format("2006-01-02 15:04") != "2026-03-02 09:00" || e.End.Format("15:04") != "10:00" ||
		e.Repeats != "Every Monday, 6 times" || e.Changed != 1 || e.Cancelled != 1 || !slices.Equal(e.Attendees, []string{"Carol <carol@fabrikam.example>"}) ||
		e.Body != "Orders and the rota" {
		t.Errorf("event preview: %+v %+v", pv, e)
	}
	hits, err = b.Find(ctx, FindRequest{Text: "Lyon", Kind: catalog.KindEvent})
	if err != nil || len(hits) != 1 {
		t.Fatalf("find the all-day event: %d %v", len(hits), err)
	}
	if pv, err = b.Preview(ctx, hits[0].Version.ID); err != nil || pv.Event == nil || !pv.Event.AllDay ||
		pv.Event.Start.Format(time.DateOnly) != "2026-04-10" || pv.Event.End.Format(time.DateOnly) != "2026-04-11" || pv.Event.Repeats != "" {
		t.Errorf("all-day preview: %+v %v", pv.Event, err)
	}

	hits, err = b.Find(ctx, FindRequest{Text: "mila", Kind: catalog.KindContact})
	if err != nil || len(hits) != 1 {
		t.Fatalf("find contacts: %d %v", len(hits), err)
	}
	if got := SummarizePIM(hits[0].Version); got != "Flour & Co" {
		t.Errorf("a contact's row: %q", got)
	}
	pv, err = b.Preview(ctx, hits[0].Version.ID)
	if err != nil || pv.Contact == nil {
		t.Fatalf("contact preview: %+v %v", pv, err)
	}
	c := pv.Contact
	if pv.Folder != "Contacts/Suppliers" || c.Company != "Flour & Co" || c.JobTitle != "Sales" || !slices.Equal(c.Emails, []string{"mila@flour.example"}) ||
		!slices.Equal(c.Phones, []string{"+31 6 5555 0102"}) || c.Address != "Molenstraat 1, Utrecht" || !bytes.Equal(c.Photo, w.photo) {
		t.Errorf("contact card: %+v (photo %d bytes)", c, len(c.Photo))
	}
}

// Deleted in Microsoft 365, found as deleted and restored through the
// service where they were, into a new "Restored by Lifeboat" calendar and
// contact folder, and to disk; nobody gets an invitation.
func TestRestoreEventsAndContactsThroughTheService(t *testing.T) {
	w := newPIMWorld(t)
	tn, upn := w.tn, simtest.Alice
	evs, _ := tn.FindEvents(upn, "")
	for _, e := range evs {
		if e.Type != m365sim.EventExceptionTy && e.Type != m365sim.EventOccurrence {
			if err := tn.DeleteEvent(upn, e.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	cs, _ := tn.Contacts(upn, "")
	for _, c := range cs {
		if err := tn.DeleteContact(upn, c.ID); err != nil {
			t.Fatal(err)
		}
	}
	w.backup(t)
	b := w.browser(t)
	ctx := t.Context()
	var items []catalog.VersionInfo
	for _, k := range []catalog.ItemKind{catalog.KindEvent, catalog.KindContact} {
		hits, err := b.Find(ctx, FindRequest{DeletedOnly: true, Kind: k})
		if err != nil || len(hits) != 2 {
			t.Fatalf("deleted %s: %d %v", k, len(hits), err)
		}
		for _, h := range hits {
			items = append(items, h.Version)
		}
	}
	recent, err := b.RecentlyDeleted(ctx, 10)
	if err != nil || len(recent) != 4 {
		t.Errorf("recently deleted: %d %v", len(recent), err)
	}
	sent := len(tn.SentMessages())

	pl, err := b.PlanRestore(ctx, RestoreRequest{Items: items, To: ToOriginal})
	if err != nil || pl.Items != 4 || len(pl.Groups[0].Plan.Failures) != 0 {
		t.Fatalf("plan: %+v %v", pl, err)
	}
	noted := false
	for _, s := range pl.Groups[0].Plan.Steps {
		noted = noted || s.Item.Name == "Weekly planning" && s.Reason == restore.MeetingNote
	}
	if !noted {
		t.Error("the review does not say the meeting comes back as an appointment")
	}
	res, err := b.RunRestore(ctx, pl, RestoreEvents{})
	pl.Close()
	if err != nil || res.Restored != 4 || len(res.Failures) != 0 {
		t.Fatalf("restore to the original place: %+v %v", res, err)
	}
	cals, _ := tn.Calendars(upn)
	back, _ := tn.FindEvents(upn, "")
	got := map[string]string{}
	for _, e := range back {
		if e.Type != m365sim.EventOccurrence && e.Type != m365sim.EventExceptionTy {
			got[e.Props.Subject] = calendarName(cals, e.CalendarID)
			if e.Props.Subject == "Weekly planning" && (len(e.Props.Attendees) != 0 || e.Props.Recurrence == nil || len(e.Cancelled) != 1 ||
				!strings.Contains(e.Props.Body.Content, "carol@fabrikam.example")) {
				t.Errorf("the series came back as %+v (cancelled %v)", e.Props, e.Cancelled)
			}
		}
	}
	if got["Weekly planning"] != "Calendar" || got["Supplier fair in Lyon"] != "Team holidays" {
		t.Errorf("events back in %v", got)
	}
	folders, _ := tn.ContactFolders(upn)
	cs, _ = tn.Contacts(upn, "")
	if len(cs) != 2 {
		t.Fatalf("%d contacts back", len(cs))
	}
	for _, c := range cs {
		if c.Props.DisplayName == "Mila Jansen" && (folderName(folders, c.FolderID) != "Suppliers" || !bytes.Equal(c.Photo, w.photo)) {
			t.Errorf("Mila came back in %q with a %d-byte photo", folderName(folders, c.FolderID), len(c.Photo))
		}
	}

	// Into a new "Restored by Lifeboat DATE" calendar and contact folder.
	pl, err = b.PlanRestore(ctx, RestoreRequest{Items: items, To: ToNewFolder})
	if err != nil {
		t.Fatal(err)
	}
	if res, err = b.RunRestore(ctx, pl, RestoreEvents{}); err != nil || res.Restored != 4 || len(res.Failures) != 0 {
		t.Fatalf("restore to a new calendar: %+v %v", res, err)
	}
	pl.Close()
	name := restore.NewFolderName(time.Now())
	cals, _ = tn.Calendars(upn)
	n := 0
	back, _ = tn.FindEvents(upn, "")
	for _, e := range back {
		if calendarName(cals, e.CalendarID) == name && e.Type != m365sim.EventOccurrence && e.Type != m365sim.EventExceptionTy {
			n++
		}
	}
	folders, _ = tn.ContactFolders(upn)
	var inNew int
	for _, f := range folders {
		if f.Name == name {
			in, _ := tn.Contacts(upn, f.ID)
			inNew = len(in)
		}
	}
	if n != 2 || inNew != 2 {
		t.Errorf("%d events in the calendar %q, %d contacts in the folder", n, name, inNew)
	}
	if now := tn.SentMessages(); len(now) != sent {
		t.Fatalf("the restores sent %d messages: %+v", len(now)-sent, now[sent:])
	}

	// To disk: an .ics per event and a .vcf per contact.
	out := filepath.Join(t.TempDir(), "out")
	pl, err = b.PlanRestore(ctx, RestoreRequest{Items: items, To: ToDir, Dir: out})
	if err != nil {
		t.Fatal(err)
	}
	if res, err = b.RunRestore(ctx, pl, RestoreEvents{}); err != nil || res.Restored != 4 {
		t.Fatalf("restore to disk: %+v %v", res, err)
	}
	pl.Close()
	for _, f := range []string{"Calendar/Calendar/Weekly planning.ics", "Calendar/Team holidays/Supplier fair in Lyon.ics", "Contacts/Suppliers/Mila Jansen.vcf", "Contacts/Noor de Vries.vcf"} {
		b, err := os.ReadFile(filepath.Join(out, filepath.FromSlash(f)))
		if err != nil || !(bytes.HasPrefix(b, []byte("BEGIN:VCALENDAR")) || bytes.HasPrefix(b, []byte("BEGIN:VCARD"))) {
			t.Errorf("%s: %v %.40q", f, err, b)
		}
	}
}

// Export writes a .ics per calendar and a .vcf per contact folder as the
// backup of a time held them, and never into a folder holding something.
func TestExportCalendarsAndContacts(t *testing.T) {
	w := newPIMWorld(t)
	first := time.Now()
	time.Sleep(10 * time.Millisecond)
	if _, err := w.tn.AddContact(simtest.Alice, "", m365sim.ContactProps{GivenName: "Late", Surname: "Comer"}, nil); err != nil {
		t.Fatal(err)
	}
	w.backup(t)
	b := w.browser(t)
	ctx := t.Context()
	acct, _ := b.Account(ctx, simtest.Alice)
	dir := t.TempDir()
	got, err := b.Export(ctx, ExportRequest{Account: acct.HomeID, Dir: dir})
	if err != nil || len(got) != 1 {
		t.Fatalf("export: %+v %v", got, err)
	}
	ea := got[0]
	slices.Sort(ea.Files)
	if want := []string{"Calendar.ics", "Contacts - Suppliers.vcf", "Contacts.vcf", "Team holidays.ics"}; !slices.Equal(ea.Files, want) ||
		ea.Calendars != 2 || ea.Events != 2 || ea.ContactFolders != 2 || ea.Contacts != 3 || ea.Dir != filepath.Join(dir, simtest.Alice) {
		t.Fatalf("export wrote %+v, want %q", ea, want)
	}
	vcf, _ := os.ReadFile(filepath.Join(ea.Dir, "Contacts.vcf"))
	if bytes.Count(vcf, []byte("BEGIN:VCARD")) != 2 || !bytes.Contains(vcf, []byte("Late")) {
		t.Errorf("Contacts.vcf:\n%s", vcf)
	}
	ics, _ := os.ReadFile(filepath.Join(ea.Dir, "Calendar.ics"))
	if !bytes.Contains(ics, []byte("RRULE:FREQ=WEEKLY")) || !bytes.Contains(ics, []byte("BEGIN:VTIMEZONE")) {
		t.Errorf("Calendar.ics:\n%s", ics)
	}
	// Again into the same folder: refused, the first export untouched.
	if _, err := b.Export(ctx, ExportRequest{Account: acct.HomeID, Dir: dir}); !isInput(err) {
		t.Errorf("exporting over an earlier export: %v", err)
	}
	// As the first backup held them: without the late contact.
	old := t.TempDir()
	got, err = b.Export(ctx, ExportRequest{Account: acct.HomeID, Dir: old, At: Point{At: first}, Kinds: []catalog.ItemKind{catalog.KindContact}})
	if err != nil || len(got) != 1 || got[0].Contacts != 2 || len(got[0].Files) != 2 {
		t.Fatalf("export as of the first backup: %+v %v", got, err)
	}
	if vcf, _ := os.ReadFile(filepath.Join(got[0].Dir, "Contacts.vcf")); bytes.Contains(vcf, []byte("Late")) {
		t.Error("the export of the first backup has the contact added later")
	}
	if _, err := b.Export(ctx, ExportRequest{Dir: "relative"}); !isInput(err) {
		t.Errorf("a relative folder: %v", err)
	}
}

func isInput(err error) bool {
	var in *InputError
	return err != nil && errors.As(err, &in)
}

func calendarName(cs []m365sim.Calendar, id string) string {
	for _, c := range cs {
		if c.ID == id {
			return c.Name
		}
	}
	return ""
}

func folderName(fs []m365sim.ContactFolder, id string) string {
	for _, f := range fs {
		if f.ID == id {
			return f.Name
		}
	}
	return "Contacts"
}
