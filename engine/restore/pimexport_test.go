package restore

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/backup"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
)

// pyParse reads every .ics with python3-icalendar and every .vcf with
// python3-vobject (Debian's packages, installed by installer/deps.sh) and
// prints what they found as JSON.
const pyParse = `
import json, sys, os, datetime
import icalendar, vobject
out = {"calendars": {}, "contacts": {}}
d = sys.argv[1]
for name in sorted(os.listdir(d)):
    p = os.path.join(d, name)
    if name.endswith(".ics"):
        cal = icalendar.Calendar.from_ical(open(p, "rb").read())
        evs = []
        for c in cal.walk("VEVENT"):
            s = c.decoded("dtstart")
            e = {"summary": str(c.get("summary")), "uid": str(c.get("uid")),
                 "start": s.isoformat(), "allday": not isinstance(s, datetime.datetime),
                 "utc": s.astimezone(datetime.timezone.utc).isoformat() if isinstance(s, datetime.datetime) else "",
                 "rrule": c.get("rrule").to_ical().decode() if c.get("rrule") else "",
                 "exdates": [], "recurrenceId": "", "attendees": [str(a) for a in (c.get("attendee") if isinstance(c.get("attendee"), list) else ([c.get("attendee")] if c.get("attendee") else []))],
                 "attachments": 0, "alarm": len(c.walk("VALARM"))}
            ex = c.get("exdate")
            for x in (ex if isinstance(ex, list) else ([ex] if ex else [])):
                e["exdates"] += [dt.dt.astimezone(datetime.timezone.utc).isoformat() for dt in x.dts]
            if c.get("recurrence-id"):
                e["recurrenceId"] = c.decoded("recurrence-id").astimezone(datetime.timezone.utc).isoformat()
            at = c.get("attach")
            e["attachments"] = len(at) if isinstance(at, list) else (1 if at else 0)
            evs.append(e)
        out["calendars"][name] = {"events": evs, "timezones": [str(t.get("tzid")) for t in cal.walk("VTIMEZONE")]}
    elif name.endswith(".vcf"):
        cards = []
        for card in vobject.readComponents(open(p, encoding="utf-8").read()):
            cards.append({"fn": card.fn.value, "emails": [e.value for e in card.contents.get("email", [])],
                          "tels": [t.value for t in card.contents.get("tel", [])],
                          "org": list(card.org.value) if "org" in card.contents else [],
                          "photo": len(card.photo.value) if "photo" in card.contents else 0})
        out["contacts"][name] = cards
print(json.dumps(out))
`

type pyEvent struct {
	Summary, UID, Start, UTC, RRULE, RecurrenceID string
	AllDay                                        bool `json:"allday"`
	Exdates, Attendees                            []string
	Attachments, Alarm                            int
}

type pyResult struct {
	Calendars map[string]struct {
		Events    []pyEvent
		Timezones []string
	}
	Contacts map[string][]struct {
		FN     string
		Emails []string
		Tels   []string
		Org    []string
		Photo  int
	}
}

// The .ics and .vcf exports open in other people's software: Debian's
// python3-icalendar and python3-vobject read back the same events and
// contacts, with their key fields.
func TestExportsParseWithIndependentParsers(t *testing.T) {
	py := "/usr/bin/python3"
	if out, err := exec.Command(py, "-c", "import icalendar, vobject").CombinedOutput(); err != nil {
		t.Fatalf("python3-icalendar and python3-vobject are needed (installer/deps.sh installs them): %v\n%s", err, out)
	}
	e := newSimEnv(t, simtest.SmallTenant(t))
	f := buildPIMFixture(t, e)
	res := e.backup()
	dir := t.TempDir()
	var files []string
	for _, kind := range []string{backup.KindCalendar, backup.KindContacts} {
		c, err := backup.ReadPIMSnapshot(t.Context(), e.r, res.Snapshots[kind])
		if err != nil {
			t.Fatal(err)
		}
		fs, err := ExportPIM(t.Context(), e.r, c, dir, time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, fs...)
	}
	slices.Sort(files)
	if want := []string{"Calendar.ics", "Contacts - Suppliers.vcf", "Contacts.vcf", "Team holidays.ics"}; !slices.Equal(files, want) {
		t.Fatalf("exported %q, want %q", files, want)
	}
	script := filepath.Join(t.TempDir(), "parse.py")
	if err := os.WriteFile(script, []byte(pyParse), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(py, script, dir).CombinedOutput()
	if err != nil {
		b, _ := os.ReadFile(filepath.Join(dir, "Calendar.ics"))
		t.Fatalf("the parsers refused the export: %v\n%s\n%s", err, out, b)
	}
	var got pyResult
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}

	cal := got.Calendars["Calendar.ics"]
	// The series, its two exceptions and the one-off visit.
	if len(cal.Events) != 4 {
		t.Fatalf("Calendar.ics: %d events, want 4: %+v", len(cal.Events), cal.Events)
	}
	if !slices.Contains(cal.Timezones, "Europe/Berlin") || !slices.Contains(cal.Timezones, "Europe/London") {
		t.Errorf("time zones %v", cal.Timezones)
	}
	var series *pyEvent
	var exceptions []pyEvent
	for i, ev := range cal.Events {
		switch {
		case ev.Summary == "Weekly planning" && ev.RecurrenceID == "":
			series = &cal.Events[i]
		case ev.RecurrenceID != "":
			exceptions = append(exceptions, ev)
		case ev.Summary == "Oven maintenance visit":
			if ev.Attachments != 1 || ev.UTC != "2026-03-05T14:00:00+00:00" {
				t.Errorf("visit %+v", ev)
			}
		}
	}
	if series == nil {
		t.Fatalf("no series in %+v", cal.Events)
	}
	if series.Start != "2026-03-02T09:00:00+01:00" || series.UID != f.weekly.ICalUID || !strings.Contains(series.RRULE, "FREQ=WEEKLY") ||
		!strings.Contains(series.RRULE, "COUNT=8") || !strings.Contains(series.RRULE, "BYDAY=MO") || series.Alarm != 1 || len(series.Attendees) != 2 {
		t.Errorf("series %+v", series)
	}
	if !slices.Equal(series.Exdates, []string{"2026-03-16T08:00:00+00:00"}) {
		t.Errorf("exdates %v, want the cancelled 16 March", series.Exdates)
	}
	slices.SortFunc(exceptions, func(a, b pyEvent) int { return strings.Compare(a.RecurrenceID, b.RecurrenceID) })
	if len(exceptions) != 2 || exceptions[0].RecurrenceID != "2026-03-09T08:00:00+00:00" || exceptions[0].Summary != "Weekly planning (with the accountant)" ||
		exceptions[1].RecurrenceID != "2026-03-23T08:00:00+00:00" || exceptions[1].UTC != "2026-03-23T10:00:00+00:00" || exceptions[0].UID != series.UID {
		t.Errorf("exceptions %+v", exceptions)
	}
	team := got.Calendars["Team holidays.ics"]
	if len(team.Events) != 1 || !team.Events[0].AllDay || team.Events[0].Start != "2026-04-10" {
		t.Errorf("all-day event %+v", team.Events)
	}
	sup := got.Contacts["Contacts - Suppliers.vcf"]
	if len(sup) != 1 || sup[0].FN != "Mila Jansen" || !slices.Equal(sup[0].Emails, []string{"mila@flour.example"}) || len(sup[0].Tels) != 2 ||
		len(sup[0].Org) == 0 || sup[0].Org[0] != "Flour & Co" || sup[0].Photo != len(f.photoA) {
		t.Errorf("Suppliers.vcf %+v", sup)
	}
	if def := got.Contacts["Contacts.vcf"]; len(def) != 1 || def[0].FN != "Noor de Vries" || def[0].Photo != len(f.photoB) {
		t.Errorf("Contacts.vcf %+v", def)
	}
}
