package restore

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
)

// Point in time: an event edited three times restores as each of its four
// versions, into a new "Restored by Lifeboat" calendar and to disk as .ics.
func TestEventRestoresAsEachVersion(t *testing.T) {
	e := newSimEnv(t, simtest.SmallTenant(t))
	p := m365sim.EventProps{Subject: "Cake tasting", Body: m365sim.ItemBody{ContentType: "text", Content: "Bring the samples."},
		Start: m365sim.DateTimeTimeZone{DateTime: "2026-06-05T15:00:00", TimeZone: "Romance Standard Time"},
		End:   m365sim.DateTimeTimeZone{DateTime: "2026-06-05T16:00:00", TimeZone: "Romance Standard Time"}}
	ev, err := e.tn.CreateEvent(e.upn, "", p)
	if err != nil {
		t.Fatal(err)
	}
	e.backup()
	subjects := []string{"Cake tasting", "Cake tasting (lemon)", "Cake tasting (lemon, moved)", "Cake tasting (cancelled lemon)"}
	for _, s := range subjects[1:] {
		b, _ := json.Marshal(s)
		if _, err := e.tn.UpdateEvent(e.upn, ev.ID, map[string]json.RawMessage{"subject": b}); err != nil {
			t.Fatal(err)
		}
		e.backup()
	}
	vs, err := e.c.Versions(t.Context(), catalog.ItemRef{Account: e.acct.HomeID, Kind: catalog.KindEvent, ID: ev.ID})
	if err != nil || len(vs) != 4 {
		t.Fatalf("%d versions, %v", len(vs), err)
	}
	folder := NewFolderName(time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC))
	r := New(Options{Content: e.r})
	pl, err := r.Plan(t.Context(), WithCalendarsAndContacts(ToNewFolder(e.g, e.g, "me", e.acct.HomeID, folder), e.g), vs)
	if err != nil {
		t.Fatal(err)
	}
	if res, err := r.Execute(t.Context(), pl); err != nil || len(res.Failures) > 0 || len(res.Done) != 4 {
		t.Fatalf("restore: %v %+v, %d done", err, res.Failures, len(res.Done))
	}
	cals, _ := e.tn.Calendars(e.upn)
	var restored []string
	for _, c := range cals {
		if c.Name != folder {
			continue
		}
		evs, _ := e.tn.EventsIn(e.upn, c.ID)
		for _, x := range evs {
			restored = append(restored, x.Props.Subject)
		}
	}
	slices.Sort(restored)
	want := slices.Clone(subjects)
	slices.Sort(want)
	if !slices.Equal(restored, want) {
		t.Fatalf("restored into %q: %q, want every version %q", folder, restored, want)
	}

	dir := t.TempDir()
	d, err := ToDir(dir, DirOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	pl, err = r.Plan(t.Context(), d, vs[len(vs)-1:])
	if err != nil {
		t.Fatal(err)
	}
	if res, err := r.Execute(t.Context(), pl); err != nil || len(res.Failures) > 0 {
		t.Fatalf("restore to disk: %v %+v", err, res.Failures)
	}
	b, err := os.ReadFile(filepath.Join(dir, "Calendar", "Calendar", "Cake tasting.ics"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "SUMMARY:Cake tasting\r\n") || !strings.Contains(string(b), "DTSTART;TZID=Europe/Paris:20260605T150000") {
		t.Errorf("the first version on disk:\n%s", b)
	}
}
