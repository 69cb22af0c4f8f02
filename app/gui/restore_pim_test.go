package gui

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
	"github.com/lifeboat-backup/lifeboat/engine/repo"
	"github.com/lifeboat-backup/lifeboat/ui"
)

// pimPhoto is a contact's photo (a real PNG, so the card can show it).
var pimPhoto = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99=\x1d\x00\x00\x00\x00IEND\xaeB`\x82")

// newPIMRestoreEnv backs up Alice's meeting and her supplier's contact,
// deletes both in the simulator and backs up again.
func newPIMRestoreEnv(t *testing.T) *restoreEnv {
	t.Helper()
	tn := simtest.SmallTenant(t)
	zone := "W. Europe Standard Time"
	m := m365sim.EventProps{Subject: "Flour supplier meeting", Body: m365sim.ItemBody{ContentType: "text", Content: "Prices for next year"},
		Start: m365sim.DateTimeTimeZone{DateTime: "2026-03-04T14:00:00", TimeZone: zone}, End: m365sim.DateTimeTimeZone{DateTime: "2026-03-04T15:00:00", TimeZone: zone}}
	m.Location.DisplayName = "Bakery back office"
	var at m365sim.EventAttendee
	at.Type, at.EmailAddress.Name, at.EmailAddress.Address = "required", "Carol", "carol@fabrikam.example"
	m.Attendees = append(m.Attendees, at)
	ev, err := tn.CreateEvent(simtest.Alice, "", m)
	if err != nil {
		t.Fatal(err)
	}
	sup, err := tn.AddContactFolder(simtest.Alice, "", "Suppliers")
	if err != nil {
		t.Fatal(err)
	}
	props := m365sim.ContactProps{GivenName: "Mila", Surname: "Jansen", CompanyName: "Flour & Co", JobTitle: "Sales", MobilePhone: "+31 6 5555 0102"}
	b, _ := json.Marshal(props)
	var raw map[string]any
	_ = json.Unmarshal(b, &raw)
	raw["emailAddresses"] = []map[string]string{{"name": "Mila Jansen", "address": "mila@flour.example"}}
	b, _ = json.Marshal(raw)
	_ = json.Unmarshal(b, &props)
	c, err := tn.AddContact(simtest.Alice, sup.ID, props, pimPhoto)
	if err != nil {
		t.Fatal(err)
	}
	e := &restoreEnv{t: t}
	e.srv = simtest.Start(t, tn, m365sim.Options{})
	e.tn = e.srv.Tenant()
	e.r = repo.TestRepository(t)
	if e.cat, err = catalog.Open(t.Context(), filepath.Join(t.TempDir(), "catalog.db"), catalog.Options{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.cat.Close() })
	e.acct = catalog.Account{HomeID: "home-alice", UPN: simtest.Alice, DisplayName: "Alice Archer", Kind: catalog.AccountWork}
	e.backup()
	if err := e.tn.DeleteEvent(simtest.Alice, ev.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.tn.DeleteContact(simtest.Alice, c.ID); err != nil {
		t.Fatal(err)
	}
	e.backup()
	e.svc = e.restoreService(0)
	return e
}

// The wizard's service finds a deleted meeting and contact beside emails
// and files, previews them, says in the review that the meeting comes
// back as an appointment, and puts both back without an invitation.
func TestGUIRestoreFindsAndPutsBackEventsAndContacts(t *testing.T) {
	e := newPIMRestoreEnv(t)
	ctx := t.Context()
	found, err := e.svc.Search(ctx, ui.RestoreSearch{Text: "flour supplier", Kind: ui.ItemEvent, Limit: 10})
	if err != nil || len(found) != 1 {
		t.Fatalf("events about a flour supplier: %+v %v", found, err)
	}
	meeting := found[0]
	if all := e.find("flour supplier"); all.Kind != ui.ItemEvent && all.Kind != ui.ItemContact {
		t.Errorf("searching everything: %+v", all)
	}
	if meeting.Kind != ui.ItemEvent || meeting.Folder != "Calendar" || meeting.Deleted.IsZero() || !strings.Contains(meeting.From, "Alice") {
		t.Errorf("the meeting's row: %+v", meeting)
	}
	pv, err := e.svc.Preview(ctx, meeting)
	if err != nil || pv.Kind != ui.ItemEvent || pv.Event == nil {
		t.Fatalf("meeting preview: %+v %v", pv, err)
	}
	if ep := pv.Event; ep.Location != "Bakery back office" || len(ep.Attendees) != 1 || ep.Attendees[0] != "Carol <carol@fabrikam.example>" ||
		ep.Start.Format("15:04") != "14:00" || ep.TimeZone != "W. Europe Standard Time" || ep.Body != "Prices for next year" {
		t.Errorf("meeting preview: %+v", ep)
	}
	items, err := e.svc.Search(ctx, ui.RestoreSearch{Text: "mila", Kind: ui.ItemContact, Limit: 10})
	if err != nil || len(items) != 1 {
		t.Fatalf("contacts named mila: %+v %v", items, err)
	}
	contact := items[0]
	if contact.Kind != ui.ItemContact || contact.From != "Flour & Co" || contact.Folder != "Contacts/Suppliers" {
		t.Errorf("the contact's row: %+v", contact)
	}
	pv, err = e.svc.Preview(ctx, contact)
	if err != nil || pv.Contact == nil || !bytes.Equal(pv.Contact.Photo, pimPhoto) || pv.Contact.Company != "Flour & Co" || pv.Contact.Emails[0] != "mila@flour.example" {
		t.Fatalf("contact card: %+v %v", pv.Contact, err)
	}
	deleted, err := e.svc.RecentlyDeleted(ctx, 50)
	if err != nil || !containsName(deleted, "Flour supplier meeting") || !containsName(deleted, "Mila Jansen") {
		t.Errorf("recently deleted: %+v %v", deleted, err)
	}
	versions, err := e.svc.Versions(ctx, meeting)
	if err != nil || len(versions) != 1 || versions[0].Kind != ui.ItemEvent {
		t.Errorf("versions: %+v %v", versions, err)
	}

	req := ui.RestoreRequest{Items: []ui.RestoreItem{meeting, contact}, To: ui.ToOriginal}
	plan, err := e.svc.Plan(ctx, req)
	if err != nil || len(plan.Steps) != 2 {
		t.Fatalf("plan: %+v %v", plan, err)
	}
	for _, s := range plan.Steps {
		switch s.Kind {
		case ui.ItemEvent:
			if s.Where != "the calendar “Calendar”" || s.Note != meetingNote {
				t.Errorf("the meeting's step: %+v", s)
			}
		case ui.ItemContact:
			if s.Where != "the contact folder “Suppliers”" || s.Note != "" {
				t.Errorf("the contact's step: %+v", s)
			}
		}
	}
	sent := len(e.tn.SentMessages())
	out, err := e.svc.Restore(ctx, req, func(ui.RestoreProgress) {})
	if err != nil || out.Restored != 2 || len(out.Failed) != 0 || out.WebURL != "https://outlook.office.com/calendar/" {
		t.Fatalf("restore: %+v %v", out, err)
	}
	if n := len(e.tn.SentMessages()); n != sent {
		t.Fatalf("the restore sent %d messages", n-sent)
	}
	back, _ := e.tn.FindEvents(simtest.Alice, "Flour supplier meeting")
	if len(back) != 1 || len(back[0].Props.Attendees) != 0 {
		t.Errorf("the meeting is back as %+v", back)
	}
	folders, _ := e.tn.ContactFolders(simtest.Alice)
	for _, f := range folders {
		if f.Name == "Suppliers" {
			cs, _ := e.tn.Contacts(simtest.Alice, f.ID)
			if len(cs) != 1 || !bytes.Equal(cs[0].Photo, pimPhoto) {
				t.Errorf("Suppliers holds %+v", cs)
			}
		}
	}
}

// The dashboard counts events and contacts with emails and files.
func TestDashboardCountsEventsAndContacts(t *testing.T) {
	e, srv, _, _ := testGUIEnv(t, m365sim.Options{AutoApprove: 10 * time.Millisecond})
	tn := srv.Tenant()
	upn := tn.Users()[0].UPN
	for _, s := range []string{"Oven check", "Tax adviser"} {
		p := m365sim.EventProps{Subject: s, Start: m365sim.DateTimeTimeZone{DateTime: "2026-03-04T14:00:00", TimeZone: "UTC"},
			End: m365sim.DateTimeTimeZone{DateTime: "2026-03-04T15:00:00", TimeZone: "UTC"}}
		if _, err := tn.CreateEvent(upn, "", p); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := tn.AddContact(upn, "", m365sim.ContactProps{GivenName: "Noor", Surname: "de Vries"}, nil); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if err := (accounts{e}).SignIn(ctx, func(ui.SignInUpdate) {}); err != nil {
		t.Fatal(err)
	}
	if st, err := (status{e}).Status(ctx); err == nil && st.Holds != nil {
		t.Errorf("before any backup the dashboard counts %+v", st.Holds)
	}
	dir := filepath.Join(t.TempDir(), "backup")
	if _, err := (destinations{e}).Create(ctx, dir); err != nil {
		t.Fatal(err)
	}
	if res := (backupRunner{e}).Backup(ctx, func(ui.Progress) {}); res.Outcome != ui.OutcomeDone {
		t.Fatalf("backup: %+v", res)
	}
	st, err := (status{e}).Status(ctx)
	if err != nil || st.Holds == nil {
		t.Fatalf("status: %+v %v", st, err)
	}
	if st.Holds.Events != 2 || st.Holds.Contacts != 1 || st.Holds.Emails == 0 || st.Holds.Files == 0 {
		t.Errorf("the dashboard counts %+v", *st.Holds)
	}
}
