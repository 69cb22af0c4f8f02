package m365sim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
)

// fakeClock is a ThrottleClock that moves only when told to (Advance) or
// when something sleeps on it. With a gate, sleepers block until the gate
// is opened, which holds requests in flight for as long as a test needs.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
	gate   chan struct{}
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.sleeps = append(c.sleeps, d)
	gate := c.gate
	c.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	c.Advance(d)
	return nil
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func (c *fakeClock) Sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

func (c *fakeClock) TotalSlept() time.Duration {
	var sum time.Duration
	for _, d := range c.Sleeps() {
		sum += d
	}
	return sum
}

// graphResponse is one raw Graph response, read in full.
type graphResponse struct {
	Status     int
	Header     http.Header
	Body       []byte
	ErrCode    string
	ErrMessage string
}

// sim is a simulator for one test with a raw HTTP client that trusts it.
type sim struct {
	*m365sim.Server
	hc *http.Client
}

// startSim starts a simulator on SmallTenant. The raw client's idle
// connections are closed before the server, which otherwise waits for the
// HTTP/2 connections to go away.
func startSim(t *testing.T, opts m365sim.Options) *sim {
	t.Helper()
	srv := simtest.Start(t, nil, opts)
	s := &sim{Server: srv, hc: srv.HTTPClient()}
	t.Cleanup(s.hc.CloseIdleConnections)
	return s
}

// get sends GET base/v1.0+path as upn with the raw client, without any
// retry, so the test sees the exact status.
func get(t *testing.T, srv *sim, upn, path string) graphResponse {
	t.Helper()
	resp, err := do(t, srv.hc, srv.Server, upn, path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return resp
}

// do is get that returns every error, for goroutines and for tests that
// expect a transport error.
func do(t *testing.T, hc *http.Client, srv *m365sim.Server, upn, path string) (graphResponse, error) {
	url := srv.BaseURL() + path
	if strings.HasPrefix(path, "/") && !strings.HasPrefix(path, "/_") {
		url = srv.GraphURL() + path
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		return graphResponse{}, err
	}
	if upn != "" {
		tok, _, err := srv.IssueAccessToken(upn)
		if err != nil {
			return graphResponse{}, err
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return graphResponse{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	out := graphResponse{Status: resp.StatusCode, Header: resp.Header, Body: body}
	if err != nil {
		return out, err
	}
	var e struct {
		Error struct{ Code, Message string }
	}
	if resp.StatusCode >= 400 && json.Unmarshal(body, &e) == nil {
		out.ErrCode, out.ErrMessage = e.Error.Code, e.Error.Message
	}
	return out, nil
}

func retryAfter(t *testing.T, r graphResponse) int {
	t.Helper()
	v := r.Header.Get("Retry-After")
	n, err := strconv.Atoi(v)
	if err != nil {
		t.Fatalf("Retry-After %q is not an integer (status %d)", v, r.Status)
	}
	return n
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestParseThrottleMode(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want m365sim.ThrottleMode
		err  bool
	}{
		{"off", m365sim.ThrottleOff, false},
		{"graph", m365sim.ThrottleGraph, false},
		{"graph-fast", m365sim.ThrottleGraphFast, false},
		{" Graph-Fast ", m365sim.ThrottleGraphFast, false},
		{"", 0, true},
		{"fast", 0, true},
		{"realistic", 0, true},
	} {
		got, err := m365sim.ParseThrottleMode(tc.in)
		if tc.err {
			if err == nil || !strings.Contains(err.Error(), "off, graph, graph-fast") {
				t.Errorf("ParseThrottleMode(%q) error = %v, want one listing the valid modes", tc.in, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseThrottleMode(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
		if err == nil && got.String() != strings.ToLower(strings.TrimSpace(tc.in)) {
			t.Errorf("%v.String() = %q", got, got.String())
		}
	}
}

func TestThrottleDefaultsAreMicrosofts(t *testing.T) {
	c := m365sim.NewThrottle(m365sim.ThrottleConfig{Mode: m365sim.ThrottleGraph}).Config()
	if c.MailboxConcurrency != 4 || c.MailboxRequests != 10000 || c.MailboxWindow != 10*time.Minute ||
		c.DriveUnitsPerMinute != 1200 || c.Speedup != 60 || c.Latency <= 0 || c.Bandwidth != 12_500_000 || c.Clock == nil {
		t.Fatalf("defaults: %+v", c)
	}
}

// Four requests in flight to Alice's mailbox (held by a gated clock in
// their service latency): the fifth is answered 429 at once, while Bob's
// mailbox, with its own limits, still admits a request.
func TestThrottleMailboxConcurrencyIsPerMailbox(t *testing.T) {
	clk := newFakeClock()
	clk.gate = make(chan struct{})
	srv := startSim(t, m365sim.Options{Throttle: m365sim.ThrottleConfig{Mode: m365sim.ThrottleGraph, Clock: clk}})
	alice := simtest.GraphClient(t, srv.Server, simtest.Alice)
	bob := simtest.GraphClient(t, srv.Server, simtest.Bob)
	model := srv.ThrottleModel()

	errs := make(chan error, 5)
	for range 4 {
		go func() {
			u, err := alice.Me().Get(t.Context(), nil)
			if err == nil && *u.GetUserPrincipalName() != simtest.Alice {
				err = io.ErrUnexpectedEOF
			}
			errs <- err
		}()
	}
	waitFor(t, "4 requests in flight", func() bool { return model.Snapshot().InFlight == 4 })

	r := get(t, srv, simtest.Alice, "/me")
	if r.Status != http.StatusTooManyRequests || r.ErrCode != "ApplicationThrottled" || !strings.Contains(r.ErrMessage, "MailboxConcurrency") {
		t.Fatalf("5th concurrent request: %d %s %q, want 429 ApplicationThrottled MailboxConcurrency", r.Status, r.ErrCode, r.ErrMessage)
	}
	if ra := retryAfter(t, r); ra < 1 {
		t.Fatalf("Retry-After %d", ra)
	}

	go func() {
		_, err := bob.Me().Get(t.Context(), nil)
		errs <- err
	}()
	waitFor(t, "Bob's request admitted", func() bool { return model.Snapshot().InFlight == 5 })
	close(clk.gate)
	for range 5 {
		if err := <-errs; err != nil {
			t.Fatalf("admitted request failed: %v", err)
		}
	}
	st := model.Snapshot()
	if st.MailboxAdmitted != 5 || st.MailboxThrottled != 1 || st.MailboxConcurrencyThrottled != 1 || st.PeakMailboxInFlight != 4 || st.InFlight != 0 {
		t.Fatalf("stats: %v (in flight %d)", st, st.InFlight)
	}
}

// windowScenario spends a 3-request window in three requests a model
// minute apart, then asks a fourth time. It returns the Retry-After of the
// 429 and checks the request succeeds after waiting exactly that long.
func windowScenario(t *testing.T, mode m365sim.ThrottleMode) int {
	clk := newFakeClock()
	srv := startSim(t, m365sim.Options{Throttle: m365sim.ThrottleConfig{
		Mode: mode, Speedup: 60, MailboxRequests: 3, MailboxWindow: 10 * time.Minute,
		Latency: -1, Bandwidth: -1, Clock: clk,
	}})
	model := srv.ThrottleModel()
	for i := range 3 {
		if r := get(t, srv, simtest.Alice, "/me"); r.Status != http.StatusOK {
			t.Fatalf("request %d: %d %s", i+1, r.Status, r.Body)
		}
		clk.Advance(model.RealDuration(time.Minute))
	}
	r := get(t, srv, simtest.Alice, "/me")
	if r.Status != http.StatusTooManyRequests || r.ErrCode != "ApplicationThrottled" {
		t.Fatalf("request 4: %d %s, want 429 ApplicationThrottled", r.Status, r.ErrCode)
	}
	ra := retryAfter(t, r)
	if b := get(t, srv, simtest.Bob, "/me"); b.Status != http.StatusOK {
		t.Fatalf("Bob while Alice is throttled: %d", b.Status)
	}
	clk.Advance(time.Duration(ra) * time.Second)
	if r := get(t, srv, simtest.Alice, "/me"); r.Status != http.StatusOK {
		t.Fatalf("after waiting Retry-After %ds: %d %s", ra, r.Status, r.ErrCode)
	}
	st := model.Snapshot()
	if st.MailboxThrottled != 1 || st.MailboxConcurrencyThrottled != 0 || st.MailboxAdmitted != 5 {
		t.Fatalf("stats: %v", st)
	}
	return ra
}

// The 4th request in a 3-per-10-minutes window, 3 minutes in, must wait
// for the second request to leave the window (at 11 minutes): the 429'd
// request itself counts, as Microsoft documents, so the first leaving is
// not enough. The fast clock gives the same answer 60× smaller.
func TestThrottleMailboxWindowAndFastClock(t *testing.T) {
	slow := windowScenario(t, m365sim.ThrottleGraph)
	if slow != 8*60 {
		t.Errorf("graph mode Retry-After = %ds, want 480", slow)
	}
	fast := windowScenario(t, m365sim.ThrottleGraphFast)
	if fast != 8 {
		t.Errorf("graph-fast Retry-After = %ds, want 8", fast)
	}
}

// Latency and transfer time scale with the fast clock (measured on the
// injected clock), and in real time a fast-clock request takes its scaled
// latency, not the model's.
func TestThrottleFastClockScalesLatencyAndTransfer(t *testing.T) {
	body := bytes.Repeat([]byte("x"), 1<<20)
	measure := func(mode m365sim.ThrottleMode) (latency, transfer time.Duration) {
		clk := newFakeClock()
		th := m365sim.NewThrottle(m365sim.ThrottleConfig{Mode: mode, Latency: 6 * time.Second, Bandwidth: 100_000, Clock: clk})
		if err := th.ServiceDelay(t.Context()); err != nil {
			t.Fatal(err)
		}
		latency = clk.TotalSlept()
		rec := httptest.NewRecorder()
		w := th.Pace(t.Context(), rec)
		if _, err := w.Write(body); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(rec.Body.Bytes(), body) {
			t.Fatal("paced body differs")
		}
		return latency, clk.TotalSlept() - latency
	}
	lat, xfer := measure(m365sim.ThrottleGraph)
	if lat != 6*time.Second {
		t.Errorf("graph latency %v, want 6s", lat)
	}
	want := time.Duration(float64(len(body)) / 100_000 * float64(time.Second))
	if d := xfer - want; d < -10*time.Millisecond || d > 10*time.Millisecond {
		t.Errorf("graph transfer %v, want %v", xfer, want)
	}
	flat, fxfer := measure(m365sim.ThrottleGraphFast)
	if flat != 100*time.Millisecond {
		t.Errorf("graph-fast latency %v, want 100ms", flat)
	}
	if d := fxfer - want/60; d < -3*time.Millisecond || d > 3*time.Millisecond {
		t.Errorf("graph-fast transfer %v, want %v", fxfer, want/60)
	}

	// Real time: a 12 s model latency is 200 ms on the fast clock.
	srv := startSim(t, m365sim.Options{Throttle: m365sim.ThrottleConfig{Mode: m365sim.ThrottleGraphFast, Latency: 12 * time.Second}})
	start := time.Now()
	if r := get(t, srv, simtest.Alice, "/me"); r.Status != http.StatusOK {
		t.Fatalf("status %d", r.Status)
	}
	if el := time.Since(start); el < 200*time.Millisecond || el > 6*time.Second {
		t.Fatalf("fast-clock request took %v, want about 200ms", el)
	}
}

// The real msgraph-sdk-go client honours the model's Retry-After on a real
// (fast) clock: a window of 2 requests per model minute (1 s real) makes
// the third request wait and then succeed.
func TestThrottleGraphSDKHonoursRetryAfter(t *testing.T) {
	srv := startSim(t, m365sim.Options{Throttle: m365sim.ThrottleConfig{
		Mode: m365sim.ThrottleGraphFast, MailboxRequests: 2, MailboxWindow: time.Minute, Latency: -1,
	}})
	client := simtest.GraphClient(t, srv.Server, simtest.Alice)
	for i := range 3 {
		if _, err := client.Me().Get(t.Context(), nil); err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
	}
	st := srv.ThrottleModel().Snapshot()
	if st.MailboxThrottled < 1 || st.MailboxAdmitted != 3 {
		t.Fatalf("stats: %v", st)
	}
}

// OneDrive requests spend the app's resource units: a delta without a
// token costs 2, with a token 1, a children listing 2, a single item 1,
// a download URL 1; over budget the answer is 429 activityLimitReached
// with the Retry-After until enough units leave the minute.
func TestThrottleDriveResourceUnits(t *testing.T) {
	clk := newFakeClock()
	srv := startSim(t, m365sim.Options{Throttle: m365sim.ThrottleConfig{
		Mode: m365sim.ThrottleGraph, DriveUnitsPerMinute: 6, Latency: -1, Bandwidth: -1, Clock: clk,
	}})
	model := srv.ThrottleModel()
	steps := []struct {
		path  string
		units int64
	}{
		{"/me/drive/root/delta", 2},
		{"/me/drive/root/delta?token=abc", 1},
		{"/me/drive/items/x/children", 2},
		{"/_download/x", 1},
	}
	var total int64
	for _, s := range steps {
		upn := simtest.Alice
		if strings.HasPrefix(s.path, "/_") {
			upn = ""
		}
		r := get(t, srv, upn, s.path)
		if r.Status == http.StatusTooManyRequests {
			t.Fatalf("%s throttled early: %s", s.path, r.Body)
		}
		total += s.units
		if got := model.Snapshot().DriveUnits; got != total {
			t.Fatalf("after %s: %d units charged, want %d", s.path, got, total)
		}
		clk.Advance(10 * time.Second)
	}
	// 6 units spent at 0, 10, 20, 30 s; now at 40 s a single item (1 unit)
	// is over budget and is charged anyway (7): room for another one
	// returns once the 2-unit delta at 0 s leaves the minute, at 60 s.
	r := get(t, srv, simtest.Alice, "/me/drive/items/x")
	if r.Status != http.StatusTooManyRequests || r.ErrCode != "activityLimitReached" {
		t.Fatalf("over budget: %d %s, want 429 activityLimitReached", r.Status, r.ErrCode)
	}
	if ra := retryAfter(t, r); ra != 20 {
		t.Fatalf("Retry-After %d, want 20", ra)
	}
	// Mail has its own limits.
	if r := get(t, srv, simtest.Alice, "/me"); r.Status != http.StatusOK {
		t.Fatalf("mailbox while drive budget is spent: %d", r.Status)
	}
	clk.Advance(20 * time.Second)
	if r := get(t, srv, simtest.Alice, "/me/drive/items/x"); r.Status == http.StatusTooManyRequests {
		t.Fatalf("after Retry-After: still throttled")
	}
	st := model.Snapshot()
	if st.DriveThrottled != 1 || st.DriveAdmitted != 5 || st.DriveUnits != 8 {
		t.Fatalf("stats: %v", st)
	}
}

// Write requests and permission operations cost more, per SharePoint's
// table.
func TestThrottleDriveUnitCosts(t *testing.T) {
	srv := startSim(t, m365sim.Options{Throttle: m365sim.ThrottleConfig{Mode: m365sim.ThrottleGraph, Latency: -1}})
	model := srv.ThrottleModel()
	tok, _, err := srv.IssueAccessToken(simtest.Alice)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		method, path string
		units        int64
	}{
		{"GET", "/me/drive/root/delta(token='abc')", 1},
		{"GET", "/me/drive/root/delta?token=latest", 1},
		{"GET", "/me/drive/items/x?$expand=permissions", 5},
		{"PUT", "/me/drive/items/x/content", 2},
		{"DELETE", "/me/drive/items/x", 2},
		{"GET", "/me/drive", 1},
	} {
		before := model.Snapshot().DriveUnits
		req, _ := http.NewRequestWithContext(t.Context(), tc.method, srv.GraphURL()+tc.path, strings.NewReader(""))
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := srv.hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := model.Snapshot().DriveUnits - before; got != tc.units {
			t.Errorf("%s %s cost %d units, want %d", tc.method, tc.path, got, tc.units)
		}
	}
}

// Off mode admits everything at once: no concurrency limit, no latency,
// and Pace hands back the writer it was given.
func TestThrottleOffAdmitsEverything(t *testing.T) {
	srv := startSim(t, m365sim.Options{})
	model := srv.ThrottleModel()
	var wg sync.WaitGroup
	results := make(chan error, 12)
	for range 12 {
		wg.Go(func() {
			r, err := do(t, srv.hc, srv.Server, simtest.Alice, "/me")
			if err == nil && r.Status != http.StatusOK {
				err = errors.New("status " + strconv.Itoa(r.Status))
			}
			results <- err
		})
	}
	wg.Wait()
	close(results)
	for err := range results {
		if err != nil {
			t.Fatalf("off mode: %v", err)
		}
	}
	if st := model.Snapshot(); st.MailboxAdmitted != 12 || st.MailboxThrottled != 0 {
		t.Fatalf("stats %v", st)
	}
	rec := httptest.NewRecorder()
	if w := model.Pace(t.Context(), rec); w != http.ResponseWriter(rec) {
		t.Fatal("Pace wraps the writer in off mode")
	}
	if err := model.ServiceDelay(t.Context()); err != nil {
		t.Fatal(err)
	}
	if d := model.MinimumDuration(m365sim.Workload{Mailboxes: []m365sim.MailboxWork{{Requests: 100}}}); d != 0 {
		t.Fatalf("MinimumDuration in off mode = %v", d)
	}
}

func TestThrottlePacedWriterIsAFlusher(t *testing.T) {
	th := m365sim.NewThrottle(m365sim.ThrottleConfig{Mode: m365sim.ThrottleGraph, Clock: newFakeClock()})
	rec := httptest.NewRecorder()
	w := th.Pace(t.Context(), rec)
	f, ok := w.(http.Flusher)
	if !ok {
		t.Fatal("paced writer is not an http.Flusher")
	}
	_, _ = io.WriteString(w, "hello")
	f.Flush()
	if !rec.Flushed || rec.Body.String() != "hello" {
		t.Fatalf("flushed %v body %q", rec.Flushed, rec.Body.String())
	}
	if err := http.NewResponseController(w).Flush(); err != nil {
		t.Fatalf("ResponseController.Flush: %v", err)
	}
}

func TestThrottleMinimumDuration(t *testing.T) {
	const L = 40 * time.Millisecond
	graph := m365sim.NewThrottle(m365sim.ThrottleConfig{Mode: m365sim.ThrottleGraph, Latency: L})
	fast := m365sim.NewThrottle(m365sim.ThrottleConfig{Mode: m365sim.ThrottleGraphFast, Latency: L})
	mb := func(reqs int, bytes int64) m365sim.Workload {
		return m365sim.Workload{Mailboxes: []m365sim.MailboxWork{{Requests: reqs, Bytes: bytes}}}
	}
	for _, tc := range []struct {
		name string
		th   *m365sim.Throttle
		w    m365sim.Workload
		want time.Duration
	}{
		{"nothing", graph, m365sim.Workload{}, 0},
		{"one request is one latency", graph, mb(1, 0), L},
		{"one request with 12.5 MB adds a second of transfer", graph, mb(1, 12_500_000), L + time.Second},
		{"4 requests run in parallel", graph, mb(4, 0), L},
		{"8 requests take two rounds", graph, mb(8, 0), 2 * L},
		{"1000 requests: concurrency bound", graph, mb(1000, 0), 250 * L},
		{"bytes spread over 4 streams", graph, mb(4, 50_000_000), L + time.Second},
		{"20,000 requests: two windows", graph, mb(20000, 0), 10*time.Minute + L},
		{"10,001 requests: the last waits a window", graph, mb(10001, 0), 10*time.Minute + L},
		{"mailboxes in parallel: the slowest", graph, m365sim.Workload{Mailboxes: []m365sim.MailboxWork{{Requests: 8}, {Requests: 20000}, {Requests: 1}}}, 10*time.Minute + L},
		{"1200 drive units fit in a minute", graph, m365sim.Workload{DriveUnits: 1200, DriveRequests: 1200}, L},
		{"1201 drive units need a second minute", graph, m365sim.Workload{DriveUnits: 1201, DriveRequests: 1201}, time.Minute + L},
		{"drive transfer at the client's concurrency", graph, m365sim.Workload{DriveUnits: 10, DriveRequests: 10, DriveBytes: 125_000_000, DriveConcurrency: 2}, (10*L + 10*time.Second) / 2},
		{"fast clock: 20,000 requests", fast, mb(20000, 0), 10*time.Second + L/60},
		{"fast clock: one request", fast, mb(1, 0), L / 60},
	} {
		got := tc.th.MinimumDuration(tc.w)
		if d := got - tc.want; d < -time.Microsecond || d > time.Microsecond {
			t.Errorf("%s: MinimumDuration = %v, want %v", tc.name, got, tc.want)
		}
	}
}
