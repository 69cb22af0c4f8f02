package restore

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
)

// A mail restore larger than Outlook's upload allowance (150 MB per 5
// minutes per mailbox, here scaled down on the simulator's fast clock)
// paces itself: Outlook never has to refuse an upload, and Progress says
// in a sentence why the restore waits.
func TestMailRestorePacesUploadsAndSaysWhy(t *testing.T) {
	const limit = 16_000
	e := newSimEnvWith(t, nil, m365sim.Options{Throttle: m365sim.ThrottleConfig{
		Mode: m365sim.ThrottleGraphFast, Speedup: 300, MailboxUploadBytes: limit, // 5 model minutes: 1 s
	}})
	e.backup()
	mail := e.all(catalog.KindMail)
	var (
		mu       sync.Mutex
		waiting  []string
		finished Progress
	)
	r := New(Options{Content: e.r, MailUploadLimit: limit, MailUploadWindow: time.Second, ProgressInterval: time.Millisecond,
		OnProgress: func(p Progress) {
			mu.Lock()
			defer mu.Unlock()
			if p.Waiting != "" && (len(waiting) == 0 || waiting[len(waiting)-1] != p.Waiting) {
				waiting = append(waiting, p.Waiting)
			}
			finished = p
		}})
	pl, err := r.Plan(t.Context(), ToNewFolder(e.g, e.g, "me", e.acct.HomeID, "Restored"), mail)
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.Execute(t.Context(), pl)
	if err != nil || len(res.Failures) != 0 || len(res.Done) != len(mail) {
		t.Fatalf("%v: %d of %d restored, failures %v", err, len(res.Done), len(mail), res.Failures)
	}
	if n := e.srv.ThrottleModel().Snapshot().MailboxUploadThrottled; n != 0 {
		t.Errorf("Outlook refused %d uploads for the upload volume: the restore did not pace itself", n)
	}
	if len(waiting) == 0 || !strings.Contains(waiting[0], "MB of restored email every") || !strings.Contains(waiting[0], "continuing in") {
		t.Errorf("no wait was explained: %q", waiting)
	}
	if finished.Waiting != "" {
		t.Errorf("the last progress still says %q", finished.Waiting)
	}
}
