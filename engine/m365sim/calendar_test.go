package m365sim_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
)

func meeting(subject string, attendees ...string) map[string]any {
	var as []map[string]any
	for _, a := range attendees {
		as = append(as, map[string]any{"type": "required", "emailAddress": map[string]any{"address": a, "name": a}})
	}
	return map[string]any{
		"subject":   subject,
		"body":      map[string]any{"contentType": "html", "content": "<p>Agenda</p>"},
		"start":     map[string]any{"dateTime": "2026-03-02T09:00:00", "timeZone": "W. Europe Standard Time"},
		"end":       map[string]any{"dateTime": "2026-03-02T10:00:00", "timeZone": "W. Europe Standard Time"},
		"attendees": as,
	}
}

func weekly(m map[string]any) map[string]any {
	m["recurrence"] = map[string]any{
		"pattern": map[string]any{"type": "weekly", "interval": 1, "daysOfWeek": []string{"monday"}, "firstDayOfWeek": "monday"},
		"range":   map[string]any{"type": "numbered", "startDate": "2026-03-02", "numberOfOccurrences": 10, "recurrenceTimeZone": "W. Europe Standard Time"},
	}
	return m
}

// Creating, updating and deleting a meeting sends invitations, an update
// and cancellations (user-post-events, event-update, event-delete); an
// appointment sends nothing.
func TestMeetingMessagesAreRecorded(t *testing.T) {
	srv := simtest.Start(t, simtest.SmallTenant(t), m365sim.Options{})
	c := newWriteRaw(t, srv)
	ten := srv.Tenant()
	appt := c.must(201, "POST", "/me/events", meeting("Dentist"))
	if n := len(ten.SentMessages()); n != 0 {
		t.Fatalf("an appointment sent %d messages", n)
	}
	c.must(200, "PATCH", "/me/events/"+appt["id"].(string), map[string]any{"subject": "Dentist (moved)"})
	c.must(204, "DELETE", "/me/events/"+appt["id"].(string), nil)
	if n := len(ten.SentMessages()); n != 0 {
		t.Fatalf("changing an appointment sent %d messages", n)
	}
	m := c.must(201, "POST", "/me/events", meeting("Planning", "carol@example.com", "dan@example.com"))
	id := m["id"].(string)
	c.must(200, "PATCH", "/me/events/"+id, map[string]any{"subject": "Planning (new room)"})
	c.must(204, "DELETE", "/me/events/"+id, nil)
	var kinds []string
	for _, s := range ten.SentMessages() {
		kinds = append(kinds, s.Kind+":"+strings.Join(s.To, ","))
	}
	want := "invitation:carol@example.com,dan@example.com update:carol@example.com,dan@example.com cancellation:carol@example.com,dan@example.com"
	if strings.Join(kinds, " ") != want {
		t.Fatalf("sent %v, want %s", kinds, want)
	}
}

// A POST with a transactionId already used answers the first event.
func TestTransactionIDMakesCreateIdempotent(t *testing.T) {
	srv := simtest.Start(t, simtest.SmallTenant(t), m365sim.Options{})
	c := newWriteRaw(t, srv)
	body := meeting("Board")
	body["transactionId"] = "7E163156-7762-4BEB-A1C6-729EA81755A7"
	a := c.must(201, "POST", "/me/events", body)
	b := c.must(201, "POST", "/me/events", body)
	if a["id"] != b["id"] {
		t.Fatalf("a repeated create made a second event: %v %v", a["id"], b["id"])
	}
	evs, _ := srv.Tenant().EventsIn(simtest.Alice, "")
	if len(evs) != 1 || b["transactionId"] != body["transactionId"] {
		t.Fatalf("%d events, transactionId %v", len(evs), b["transactionId"])
	}
}

// Times come back in UTC unless Prefer: outlook.timezone says otherwise;
// originalStartTimeZone keeps the zone the event was made in.
func TestEventTimesAndZones(t *testing.T) {
	srv := simtest.Start(t, simtest.SmallTenant(t), m365sim.Options{})
	c := newWriteRaw(t, srv)
	e := c.must(201, "POST", "/me/events", meeting("Standup"))
	start := e["start"].(map[string]any)
	if start["dateTime"] != "2026-03-02T08:00:00.0000000" || start["timeZone"] != "UTC" || e["originalStartTimeZone"] != "W. Europe Standard Time" {
		t.Fatalf("start %v, original zone %v", start, e["originalStartTimeZone"])
	}
	g := c.must(200, "GET", "/me/events/"+e["id"].(string), nil, "Prefer", `outlook.timezone="Pacific Standard Time"`)
	if s := g["start"].(map[string]any); s["dateTime"] != "2026-03-02T00:00:00.0000000" || s["timeZone"] != "Pacific Standard Time" {
		t.Fatalf("start in Pacific time: %v", s)
	}
	bad := meeting("Nowhere")
	bad["start"] = map[string]any{"dateTime": "2026-03-02T09:00:00", "timeZone": "Mars Standard Time"}
	c.wantError(400, "ErrorInvalidRequest", "POST", "/me/events", bad)
}

// A series: instances, an exception (which changes the master), a
// cancelled occurrence (listed in cancelledOccurrences), and the list of
// events holding only the master.
func TestRecurringSeries(t *testing.T) {
	srv := simtest.Start(t, simtest.SmallTenant(t), m365sim.Options{})
	c := newWriteRaw(t, srv)
	m := c.must(201, "POST", "/me/events", weekly(meeting("Weekly sync")))
	id := m["id"].(string)
	if m["type"] != "seriesMaster" {
		t.Fatalf("type %v", m["type"])
	}
	window := "?startDateTime=2026-03-01T00:00:00Z&endDateTime=2026-06-01T00:00:00Z"
	inst := c.must(200, "GET", "/me/events/"+id+"/instances"+window+"&$top=50", nil)["value"].([]any)
	if len(inst) != 10 {
		t.Fatalf("%d instances, want 10", len(inst))
	}
	c.wantError(400, "ErrorInvalidParameter", "GET", "/me/events/"+id+"/instances", nil)
	second := inst[1].(map[string]any)
	if second["type"] != "occurrence" || second["seriesMasterId"] != id {
		t.Fatalf("occurrence %v", second)
	}
	c.must(200, "PATCH", "/me/events/"+second["id"].(string), map[string]any{"subject": "Weekly sync (offsite)"})
	after := c.must(200, "GET", "/me/events/"+id+"?$expand=exceptionOccurrences", nil)
	if after["changeKey"] == m["changeKey"] {
		t.Fatal("changing an occurrence did not change the series master")
	}
	ex := after["exceptionOccurrences"].([]any)
	if len(ex) != 1 || ex[0].(map[string]any)["subject"] != "Weekly sync (offsite)" || ex[0].(map[string]any)["type"] != "exception" {
		t.Fatalf("exceptions %v", ex)
	}
	third := inst[2].(map[string]any)
	c.must(204, "DELETE", "/me/events/"+third["id"].(string), nil)
	after = c.must(200, "GET", "/me/events/"+id, nil)
	co := after["cancelledOccurrences"].([]any)
	if len(co) != 1 || co[0] != "OID."+id+".2026-03-16" {
		t.Fatalf("cancelledOccurrences %v", co)
	}
	inst = c.must(200, "GET", "/me/events/"+id+"/instances"+window+"&$top=50", nil)["value"].([]any)
	if len(inst) != 9 {
		t.Fatalf("%d instances after a cancellation, want 9", len(inst))
	}
	list := c.must(200, "GET", "/me/events?$top=100", nil)["value"].([]any)
	if len(list) != 1 {
		t.Fatalf("events list holds %d, want only the series master", len(list))
	}
	if n := len(srv.Tenant().SentMessages()); n != 0 {
		t.Fatalf("a series without attendees sent %d messages", n)
	}
}

// calendarView delta of the primary calendar: start and end required, a
// no-change round is one empty page, a cancelled occurrence is @removed;
// events/delta is beta only.
func TestCalendarViewDelta(t *testing.T) {
	srv := simtest.Start(t, simtest.SmallTenant(t), m365sim.Options{})
	c := newWriteRaw(t, srv)
	m := c.must(201, "POST", "/me/events", weekly(meeting("Weekly sync")))
	c.must(201, "POST", "/me/events", meeting("One-off"))
	c.wantError(400, "ErrorInvalidParameter", "GET", "/me/calendarView/delta", nil)
	c.wantError(400, "BadRequest", "GET", "/me/events/delta", nil)
	link := "/me/calendarView/delta?startDateTime=2026-03-01T00:00:00Z&endDateTime=2026-06-01T00:00:00Z"
	var got []any
	for link != "" {
		p := c.must(200, "GET", link, nil, "Prefer", "odata.maxpagesize=4")
		got = append(got, p["value"].([]any)...)
		next, _ := p["@odata.nextLink"].(string)
		dl, _ := p["@odata.deltaLink"].(string)
		link = next
		if dl != "" {
			link = ""
			u, _ := url.Parse(dl)
			t.Cleanup(func() {})
			got2 := c.must(200, "GET", u.String(), nil)
			if v := got2["value"].([]any); len(v) != 0 {
				t.Fatalf("a no-change round returned %d entries", len(v))
			}
			inst := c.must(200, "GET", "/me/events/"+m["id"].(string)+"/instances?startDateTime=2026-03-01T00:00:00Z&endDateTime=2026-04-01T00:00:00Z", nil)["value"].([]any)
			cancelled := inst[0].(map[string]any)["id"].(string)
			c.must(204, "DELETE", "/me/events/"+cancelled, nil)
			got3 := c.must(200, "GET", got2["@odata.deltaLink"].(string), nil)["value"].([]any)
			removed := false
			for _, e := range got3 {
				e := e.(map[string]any)
				if _, ok := e["@removed"]; ok && e["id"] == cancelled {
					removed = true
				}
			}
			if !removed {
				t.Fatalf("the cancelled occurrence was not reported removed: %v", got3)
			}
		}
	}
	if len(got) != 11 {
		t.Fatalf("initial round: %d events, want 10 occurrences and 1 single", len(got))
	}
}

func TestContactsFoldersDeltaAndPhotos(t *testing.T) {
	srv := simtest.Start(t, simtest.SmallTenant(t), m365sim.Options{})
	c := newWriteRaw(t, srv)
	f := c.must(201, "POST", "/me/contactFolders", map[string]any{"displayName": "Suppliers"})
	if f["parentFolderId"] == "" {
		t.Fatal("a contact folder has no parent (the default Contacts folder)")
	}
	fid := f["id"].(string)
	ct := c.must(201, "POST", "/me/contactFolders/"+fid+"/contacts", map[string]any{
		"givenName": "Mila", "surname": "Jansen", "companyName": "Flour & Co",
		"emailAddresses": []map[string]any{{"name": "Mila Jansen", "address": "mila@flour.example"}},
		"businessPhones": []string{"+31 20 555 0101"},
	})
	if ct["displayName"] != "Mila Jansen" {
		t.Fatalf("displayName %v", ct["displayName"])
	}
	id := ct["id"].(string)
	c.wantError(404, "ImageNotFound", "GET", "/me/contacts/"+id+"/photo/$value", nil)
	photo := []byte("\xff\xd8\xff\xe0 a jpeg")
	c.must(200, "PUT", "/me/contacts/"+id+"/photo/$value", photo, "Content-Type", "image/jpeg")
	r := c.send("GET", "/me/contactFolders/"+fid+"/contacts/"+id+"/photo/$value", nil)
	if r.status != 200 || string(r.body) != string(photo) || r.header.Get("Content-Type") != "image/jpeg" {
		t.Fatalf("photo %d %q", r.status, r.body)
	}
	d := c.must(200, "GET", "/me/contactFolders/"+fid+"/contacts/delta", nil)
	if len(d["value"].([]any)) != 1 {
		t.Fatalf("initial delta %v", d["value"])
	}
	d = c.must(200, "GET", d["@odata.deltaLink"].(string), nil)
	if len(d["value"].([]any)) != 0 {
		t.Fatal("a photo change (or nothing) showed in delta")
	}
	c.must(204, "DELETE", "/me/contacts/"+id, nil)
	d = c.must(200, "GET", d["@odata.deltaLink"].(string), nil)
	v := d["value"].([]any)
	if len(v) != 1 || v[0].(map[string]any)["@removed"] == nil {
		t.Fatalf("deletion delta %v", v)
	}
}

// The demo company has calendars and address books: a series with an
// exception and a cancelled occurrence, a second calendar, supplier
// contacts with photos — and sent nobody anything making them.
func TestDemoCalendarsAndContacts(t *testing.T) {
	tn, err := m365sim.GenerateDemo(7, m365sim.DemoOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range tn.Users() {
		cals, _ := tn.Calendars(u.UPN)
		if len(cals) != 2 || !cals[0].IsDefault {
			t.Fatalf("%s: calendars %+v", u.UPN, cals)
		}
		evs, _ := tn.EventsIn(u.UPN, "")
		var series, exceptions int
		for _, e := range evs {
			switch e.Type {
			case m365sim.EventSeries:
				series++
				if len(e.Cancelled) != 1 {
					t.Errorf("%s: the series has %d cancelled occurrences", u.UPN, len(e.Cancelled))
				}
			case m365sim.EventExceptionTy:
				exceptions++
			}
		}
		if series != 1 || exceptions != 1 || len(evs) < 6 {
			t.Errorf("%s: %d events, %d series, %d exceptions", u.UPN, len(evs), series, exceptions)
		}
		folders, _ := tn.ContactFolders(u.UPN)
		contacts, _ := tn.Contacts(u.UPN, "")
		photos := 0
		for _, c := range contacts {
			if len(c.Photo) > 0 {
				photos++
			}
		}
		if len(folders) != 2 || len(contacts) < 8 || photos == 0 {
			t.Errorf("%s: %d folders, %d contacts, %d photos", u.UPN, len(folders), len(contacts), photos)
		}
	}
	if n := len(tn.SentMessages()); n != 0 {
		t.Errorf("making the demo sent %d messages", n)
	}
}

// The control API deletes and edits events and contacts and counts what
// the service sent.
func TestControlCalendarAndContacts(t *testing.T) {
	srv := simtest.Start(t, simtest.SmallTenant(t), m365sim.Options{})
	c := newWriteRaw(t, srv)
	c.must(201, "POST", "/me/events", meeting("Budget review", "carol@example.com"))
	c.must(201, "POST", "/me/contacts", map[string]any{"givenName": "Mila", "surname": "Jansen"})
	cc, err := m365sim.NewControlClient(srv.Profile())
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if _, err := cc.Call(ctx, "events/edit", m365sim.ControlRequest{User: simtest.Alice, Subject: "budget", NewName: "Budget review (Q3)"}); err != nil {
		t.Fatal(err)
	}
	if _, err := cc.Call(ctx, "events/delete", m365sim.ControlRequest{User: simtest.Alice, Subject: "Q3"}); err != nil {
		t.Fatal(err)
	}
	if _, err := cc.Call(ctx, "contacts/delete", m365sim.ControlRequest{User: simtest.Alice, Subject: "mila"}); err != nil {
		t.Fatal(err)
	}
	res, err := cc.Call(ctx, "sent", m365sim.ControlRequest{})
	if err != nil || res.Counts["invitation"] != 1 || res.Counts["update"] != 1 || res.Counts["cancellation"] != 1 {
		t.Fatalf("sent %v, %v", res.Counts, err)
	}
	if evs, _ := srv.Tenant().FindEvents(simtest.Alice, ""); len(evs) != 0 {
		t.Errorf("%d events left", len(evs))
	}
	if cs, _ := srv.Tenant().Contacts(simtest.Alice, ""); len(cs) != 0 {
		t.Errorf("%d contacts left", len(cs))
	}
}
