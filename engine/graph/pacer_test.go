package graph

import (
	"bytes"
	"context"
	"io"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
)

func statsFor(p *Pacer, key string) ResourceStats {
	for _, s := range p.Stats() {
		if s.Key == key {
			return s
		}
	}
	return ResourceStats{}
}

// fetchMIME fetches a message and checks it against the tenant.
func fetchMIME(t *testing.T, c *Client, srv *m365sim.Server, user string, m m365sim.Message) {
	t.Helper()
	rc, _, err := c.OpenMIME(context.Background(), user, m.ID)
	if err != nil {
		t.Error(err)
		return
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Error(err)
		return
	}
	if !bytes.Equal(b, m.MIME) {
		t.Errorf("message %s differs", m.ID)
	}
}

func TestPacerKeepsMailboxConcurrency(t *testing.T) {
	// 3 model seconds of latency are 50 ms on the fast clock.
	srv := simtest.Start(t, nil, m365sim.Options{Throttle: m365sim.ThrottleConfig{Mode: m365sim.ThrottleGraphFast, Latency: 3 * time.Second}})
	c, _, _ := newClient(t, srv, simtest.Alice, nil)
	msgs, _ := srv.Tenant().Messages(simtest.Alice, "")
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fetchMIME(t, c, srv, "me", msgs[i%len(msgs)])
		}()
	}
	wg.Wait()
	snap := srv.ThrottleModel().Snapshot()
	if snap.PeakMailboxInFlight > 4 || snap.MailboxThrottled != 0 {
		t.Errorf("simulator saw %v", snap)
	}
	st := statsFor(c.Pacer(), "mailbox:"+simtest.Alice)
	if st.PeakInFlight != 4 || st.Admitted != 40 {
		t.Errorf("pacer stats %+v, want 40 admitted at 4 in flight", st)
	}
}

// peakOverlap is the most requests whose route contains substr that the
// simulator was serving at once.
func peakOverlap(entries []m365sim.LoggedRequest, substr string) int {
	type edge struct {
		at    time.Time
		delta int
	}
	var edges []edge
	for _, e := range entries {
		if strings.Contains(e.Route, substr) {
			edges = append(edges, edge{e.Time, 1}, edge{e.Time.Add(e.Duration), -1})
		}
	}
	sort.Slice(edges, func(i, j int) bool {
		if !edges[i].at.Equal(edges[j].at) {
			return edges[i].at.Before(edges[j].at)
		}
		return edges[i].delta < edges[j].delta
	})
	cur, peak := 0, 0
	for _, e := range edges {
		cur += e.delta
		peak = max(peak, cur)
	}
	return peak
}

func TestPacerMailboxesInParallel(t *testing.T) {
	srv := simtest.Start(t, nil, m365sim.Options{Throttle: m365sim.ThrottleConfig{Mode: m365sim.ThrottleGraphFast, Latency: 3 * time.Second}})
	pacer := NewPacer(fastRetries)
	alice, _, _ := newClient(t, srv, simtest.Alice, func(o *Options) { o.Pacer = pacer })
	bob, _, _ := newClient(t, srv, simtest.Bob, func(o *Options) { o.Pacer = pacer })
	aMsgs, _ := srv.Tenant().Messages(simtest.Alice, "")
	bMsgs, _ := srv.Tenant().Messages(simtest.Bob, "")
	var wg sync.WaitGroup
	for i := range 24 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			fetchMIME(t, alice, srv, "me", aMsgs[i%len(aMsgs)])
		}()
		go func() {
			defer wg.Done()
			fetchMIME(t, bob, srv, "me", bMsgs[0])
		}()
	}
	wg.Wait()
	snap := srv.ThrottleModel().Snapshot()
	if snap.PeakMailboxInFlight > 4 || snap.MailboxThrottled != 0 {
		t.Errorf("simulator saw %v", snap)
	}
	a, b := statsFor(pacer, "mailbox:"+simtest.Alice), statsFor(pacer, "mailbox:"+simtest.Bob)
	if a.PeakInFlight != 4 || b.PeakInFlight != 4 {
		t.Errorf("per-mailbox peaks: alice %d, bob %d; want 4 each", a.PeakInFlight, b.PeakInFlight)
	}
	if p := peakOverlap(srv.Requests().Entries(), "$value"); p <= 4 {
		t.Errorf("at most %d requests served at once across two mailboxes; they did not run in parallel", p)
	}
}

func TestPacerKeepsRequestWindow(t *testing.T) {
	// 20 requests per model minute: one real second on the fast clock.
	srv := simtest.Start(t, nil, m365sim.Options{Throttle: m365sim.ThrottleConfig{
		Mode: m365sim.ThrottleGraphFast, MailboxRequests: 20, MailboxWindow: time.Minute,
	}})
	window := srv.ThrottleModel().RealDuration(time.Minute)
	cfg := fastRetries
	cfg.MailboxRequests, cfg.MailboxWindow = 20, window
	c, _, _ := newClient(t, srv, simtest.Alice, func(o *Options) { o.PacerConfig = cfg })
	msgs, _ := srv.Tenant().Messages(simtest.Alice, "")
	start := time.Now()
	var wg sync.WaitGroup
	for i := range 45 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fetchMIME(t, c, srv, "me", msgs[i%len(msgs)])
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if snap := srv.ThrottleModel().Snapshot(); snap.MailboxThrottled != 0 || snap.MailboxAdmitted != 45 {
		t.Errorf("simulator saw %v", snap)
	}
	if elapsed < 2*window-100*time.Millisecond {
		t.Errorf("45 requests at 20 per %v took only %v", window, elapsed)
	}
}

func TestPacerKeepsDriveUnits(t *testing.T) {
	srv := simtest.Start(t, nil, m365sim.Options{Throttle: m365sim.ThrottleConfig{
		Mode: m365sim.ThrottleGraphFast, DriveUnitsPerMinute: 20,
	}})
	window := srv.ThrottleModel().RealDuration(time.Minute)
	cfg := fastRetries
	cfg.DriveUnits, cfg.DriveWindow = 20, window
	c, _, _ := newClient(t, srv, simtest.Alice, func(o *Options) { o.PacerConfig = cfg })
	ctx := ctxT(t)
	start := time.Now()
	d, err := c.GetDrive(ctx, "me") // 1 unit
	if err != nil {
		t.Fatal(err)
	}
	items, _ := collectDrive(t, c, d.ID, "") // 2 units
	it, _ := itemByName(items, "todo.txt")
	var wg sync.WaitGroup
	for range 30 { // 30 units
		wg.Add(1)
		go func() {
			defer wg.Done()
			rc, err := c.OpenDownload(ctx, it.DownloadURL, 0)
			if err != nil {
				t.Error(err)
				return
			}
			b, _ := io.ReadAll(rc)
			rc.Close()
			if string(b) != "buy milk\n" {
				t.Errorf("download = %q", b)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	snap := srv.ThrottleModel().Snapshot()
	if snap.DriveThrottled != 0 || snap.DriveUnits != 33 {
		t.Errorf("simulator saw %v", snap)
	}
	if elapsed < window-100*time.Millisecond {
		t.Errorf("33 units at 20 per %v took only %v", window, elapsed)
	}
}

// ---- unit tests of the pacer alone ----

func TestPacerWindowAndBlock(t *testing.T) {
	p := NewPacer(PacerConfig{MailboxRequests: 3, MailboxWindow: 150 * time.Millisecond, MailboxConcurrency: 2})
	ctx := ctxT(t)
	var ts []*ticket
	for range 2 {
		tk, err := p.acquire(ctx, "m", ResourceMailbox, 1)
		if err != nil {
			t.Fatal(err)
		}
		ts = append(ts, tk)
	}
	// Concurrency: the third waits for a release.
	got := make(chan time.Time, 1)
	go func() {
		tk, err := p.acquire(ctx, "m", ResourceMailbox, 1)
		if err == nil {
			got <- time.Now()
			tk.done()
		}
	}()
	time.Sleep(30 * time.Millisecond)
	select {
	case <-got:
		t.Fatal("a third request was admitted with two in flight")
	default:
	}
	released := time.Now()
	ts[0].done()
	ts[1].done()
	if at := <-got; at.Before(released) {
		t.Fatal("admitted before a release")
	}
	// Window: three used; the fourth waits until the first leaves it.
	start := time.Now()
	tk, err := p.acquire(ctx, "m", ResourceMailbox, 1)
	if err != nil {
		t.Fatal(err)
	}
	tk.done()
	if w := time.Since(start); w < 100*time.Millisecond {
		t.Errorf("fourth request in the window admitted after %v", w)
	}
	// Block: one resource waits, another does not.
	p.block("m", ResourceMailbox, time.Now().Add(120*time.Millisecond))
	start = time.Now()
	tk, err = p.acquire(ctx, "other-mailbox", ResourceMailbox, 1)
	if err != nil {
		t.Fatal(err)
	}
	tk.done()
	if w := time.Since(start); w > 100*time.Millisecond {
		t.Errorf("an unblocked mailbox waited %v", w)
	}
	cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := p.acquire(cctx, "m", ResourceMailbox, 1); err == nil {
		t.Error("a blocked mailbox was admitted")
	}
}

// TestPacerConfigOnClock: the same limits on a faster clock shrink the
// windows and the longest wait, not the budgets or concurrency.
func TestPacerConfigOnClock(t *testing.T) {
	got := PacerConfig{DriveConcurrency: 8}.OnClock(60)
	if got.MailboxWindow != 10*time.Second || got.DriveWindow != time.Second || got.MaxRetryAfter != 10*time.Second {
		t.Errorf("windows on a 60× clock: %+v", got)
	}
	if got.MailboxRequests != DefaultMailboxRequests || got.DriveUnits != DefaultDriveUnits || got.DriveConcurrency != 8 ||
		got.MailboxConcurrency != DefaultMailboxConcurrency {
		t.Errorf("budgets changed: %+v", got)
	}
	if real := (PacerConfig{}).OnClock(0); real != (PacerConfig{}).withDefaults() {
		t.Errorf("real time: %+v", real)
	}
}
