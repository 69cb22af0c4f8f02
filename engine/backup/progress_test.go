package backup

import (
	"sync"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
)

// TestProgressNeverPastItsTotal: a first backup of mail and OneDrive
// together learns the totals as it goes (folder counts, the drive's used
// space) while the mail downloads count towards the same bytes: what is
// reported never says more is done than the total ("156/143 items").
func TestProgressNeverPastItsTotal(t *testing.T) {
	tn := simtest.SmallTenant(t)
	// Much more mail than the OneDrive holds, so the bytes downloaded
	// outgrow the drive's used space, the only byte total known.
	for i := range 40 {
		if _, err := tn.AddMessage(simtest.Alice, "inbox", simtest.MIMEMessage(100+i), m365sim.MessageOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	e := newEnv(t, tn, simtest.Alice)
	var mu sync.Mutex
	var reports []Progress
	e.mustRun(func(o *Options) {
		o.ProgressInterval = time.Nanosecond
		o.OnProgress = func(p Progress) {
			mu.Lock()
			reports = append(reports, p)
			mu.Unlock()
		}
	})
	var outgrew bool
	for _, p := range reports {
		if p.ItemsTotal > 0 && p.ItemsDone > p.ItemsTotal {
			t.Errorf("reported %d of %d items", p.ItemsDone, p.ItemsTotal)
		}
		if p.BytesTotal > 0 && p.BytesDone > p.BytesTotal {
			t.Errorf("reported %d of %d bytes", p.BytesDone, p.BytesTotal)
		}
		outgrew = outgrew || (p.BytesTotal == 0 && p.BytesDone > 0)
	}
	if len(reports) < 10 || !outgrew {
		t.Fatalf("%d reports; the byte estimate was never outgrown (the case this test is about)", len(reports))
	}
}

func TestReportedDropsOutgrownTotals(t *testing.T) {
	p := Progress{ItemsDone: 156, ItemsTotal: 143, BytesDone: 10, BytesTotal: 100}.reported()
	if p.ItemsTotal != 0 || p.BytesTotal != 100 {
		t.Fatalf("reported %+v", p)
	}
}
