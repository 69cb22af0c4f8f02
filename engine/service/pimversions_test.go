package service

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
)

// Point in time through the service: an event edited three times has four
// versions, and each restores (to disk, and by "as it was then") as what
// the event was at its backup.
func TestEventVersionsThroughTheService(t *testing.T) {
	w := newPIMWorld(t)
	subjects := []string{"Supplier fair in Lyon"}
	times := []time.Time{time.Now()}
	evs, _ := w.tn.FindEvents(simtest.Alice, "Supplier fair in Lyon")
	for _, s := range []string{"Supplier fair in Lyon (stand B12)", "Supplier fair in Lyon (moved)", "Supplier fair in Lyon (last call)"} {
		time.Sleep(5 * time.Millisecond)
		if _, err := w.tn.UpdateEvent(simtest.Alice, evs[0].ID, map[string]json.RawMessage{"subject": json.RawMessage(`"` + s + `"`)}); err != nil {
			t.Fatal(err)
		}
		w.backup(t)
		subjects, times = append(subjects, s), append(times, time.Now())
	}
	b := w.browser(t)
	ctx := t.Context()
	hits, err := b.Find(ctx, FindRequest{Text: "Lyon", Kind: catalog.KindEvent})
	if err != nil || len(hits) != 1 {
		t.Fatalf("find: %d %v", len(hits), err)
	}
	vs, err := b.Versions(ctx, hits[0].Version.Item)
	if err != nil || len(vs) != 4 {
		t.Fatalf("%d versions, %v", len(vs), err)
	}
	for i, at := range times {
		items, err := b.Select(ctx, []Selection{{Version: hits[0].Version.ID, ItemAt: Point{At: at}}})
		if err != nil || len(items) != 1 || items[0].Name != subjects[i] {
			t.Fatalf("as of backup %d: %+v %v", i, items, err)
		}
		out := filepath.Join(t.TempDir(), "out")
		pl, err := b.PlanRestore(ctx, RestoreRequest{Items: items, To: ToDir, Dir: out})
		if err != nil {
			t.Fatal(err)
		}
		if res, err := b.RunRestore(ctx, pl, RestoreEvents{}); err != nil || res.Restored != 1 {
			t.Fatalf("restore version %d: %+v %v", i, res, err)
		}
		pl.Close()
		ics, err := os.ReadFile(filepath.Join(out, "Calendar", "Team holidays", items[0].Name+".ics"))
		if err != nil || !strings.Contains(string(ics), "SUMMARY:"+strings.ReplaceAll(subjects[i], ",", "\\,")) {
			t.Errorf("version %d on disk: %v\n%s", i, err, ics)
		}
	}
}
