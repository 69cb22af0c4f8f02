package m365sim_test

import (
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
)

// TestRequestLogWorkload: the request log charges each successful request
// to the resource the throttling model metered, so MinimumDuration can be
// computed for exactly what a run did; throttled requests are left out.
func TestRequestLogWorkload(t *testing.T) {
	s := startSim(t, m365sim.Options{Throttle: m365sim.ThrottleConfig{Mode: m365sim.ThrottleGraph, MailboxRequests: 3, MailboxWindow: time.Hour}})
	for range 4 { // the fourth is throttled
		get(t, s, simtest.Alice, "/me/mailFolders")
	}
	get(t, s, simtest.Bob, "/me/mailFolders")
	get(t, s, simtest.Alice, "/me/drive/root/children") // 2 units
	get(t, s, simtest.Alice, "/me/drive/root")          // 1 unit
	get(t, s, simtest.Alice, "/users")                  // not metered

	w := s.Requests().Workload(3)
	if len(w.Mailboxes) != 2 {
		t.Fatalf("mailboxes %+v", w.Mailboxes)
	}
	reqs := w.Mailboxes[0].Requests + w.Mailboxes[1].Requests
	if reqs != 4 || w.Mailboxes[0].Bytes == 0 {
		t.Errorf("mailbox work %+v: want 3 + 1 admitted requests with their bytes", w.Mailboxes)
	}
	if w.DriveRequests != 2 || w.DriveUnits != 3 || w.DriveBytes == 0 || w.DriveConcurrency != 3 {
		t.Errorf("drive work %+v", w)
	}
	if d := s.ThrottleModel().MinimumDuration(w); d <= 0 {
		t.Errorf("minimum duration %v", d)
	}
}
