package m365sim

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The throttling model follows Microsoft's documented limits:
//
//   - Outlook (mail), per app ID and mailbox: at most 4 concurrent requests
//     ("Application is over its MailboxConcurrency limit.") and 10,000 API
//     requests in a 10 minute period; throttled requests get 429 with
//     Retry-After. One mailbox over its limits does not affect another.
//     (learn.microsoft.com/graph/throttling-limits#outlook-service-limits)
//   - OneDrive and SharePoint, per app per tenant: a budget of resource units
//     per minute (1,200 for tenants under 1,000 licences). A single-item
//     request, a delta with a token and a file download cost 1 unit; a
//     multi-item request (children), a delta without a token and any write
//     cost 2; permission operations (including $expand=permissions) cost 5.
//     Throttled requests get 429 activityLimitReached with Retry-After.
//     (learn.microsoft.com/sharepoint/dev/general-development/how-to-avoid-getting-throttled-or-blocked-in-sharepoint-online)
//
// Throttled requests count: SharePoint's page says "throttled requests count
// towards usage limits, so failure to honor Retry-After may result in more
// throttling", and Graph's general guidance says to avoid immediate retries
// "because all requests accrue against your usage limits". The model follows
// both: a request answered 429 is still recorded in its mailbox's request
// window and still charged its resource units, and the Retry-After it gets
// already accounts for that. A client that honours Retry-After is admitted
// when it comes back; one that hammers the service pushes its own admission
// further out.
//
// On top of the limits the model adds a service latency per request and a
// transfer time per response stream (Bandwidth), so that the shortest
// possible duration of a workload can be computed (MinimumDuration).
//
// In graph-fast mode every model duration — windows, latency, transfer time,
// Retry-After — is divided by Speedup, so that a run that takes an hour
// against Microsoft takes a minute against the simulator while spending its
// budgets in the same proportions. Retry-After travels in whole seconds, at
// least 1, so in fast mode short waits round up: a client that keeps within
// the limits is never throttled and never sees that rounding.

// ResourceKind says which Graph throttling budget a request spends.
type ResourceKind int

// Resource kinds.
const (
	ResourceOther   ResourceKind = iota // not throttled (directory queries)
	ResourceMailbox                     // Outlook limits per app and mailbox
	ResourceDrive                       // OneDrive resource units per app and tenant
)

func (k ResourceKind) String() string {
	switch k {
	case ResourceMailbox:
		return "mailbox"
	case ResourceDrive:
		return "drive"
	default:
		return "other"
	}
}

// Resource is what one request is charged against.
type Resource struct {
	Kind    ResourceKind
	Key     string // app+mailbox for mail, app+tenant for drives
	Units   int    // OneDrive resource units
	Content bool   // the response is file or MIME content
}

// Decision is the throttling model's answer to a request.
type Decision struct {
	OK bool
	// RetryAfter is the real (not model) time after which the request
	// would be admitted; the middleware rounds it up to whole seconds.
	RetryAfter time.Duration
	Code       string // Graph error code of the 429
	Message    string
}

// ThrottleMode selects the throttling model.
type ThrottleMode int

// Throttle modes.
const (
	ThrottleOff       ThrottleMode = iota // admit everything, no latency, no bandwidth limit
	ThrottleGraph                         // Microsoft's limits in real time
	ThrottleGraphFast                     // Microsoft's limits on a clock Speedup times faster
)

var throttleModeNames = []string{"off", "graph", "graph-fast"}

func (m ThrottleMode) String() string {
	if m >= 0 && int(m) < len(throttleModeNames) {
		return throttleModeNames[m]
	}
	return fmt.Sprintf("ThrottleMode(%d)", int(m))
}

// ParseThrottleMode parses "off", "graph" or "graph-fast".
func ParseThrottleMode(s string) (ThrottleMode, error) {
	for i, n := range throttleModeNames {
		if strings.EqualFold(strings.TrimSpace(s), n) {
			return ThrottleMode(i), nil
		}
	}
	return ThrottleOff, fmt.Errorf("unknown throttle mode %q (valid: %s)", s, strings.Join(throttleModeNames, ", "))
}

// MarshalText implements encoding.TextMarshaler.
func (m ThrottleMode) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (m *ThrottleMode) UnmarshalText(b []byte) error {
	v, err := ParseThrottleMode(string(b))
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// Defaults of ThrottleConfig. The limits are Microsoft's documented ones;
// latency and bandwidth are typical of Graph from a small office.
const (
	DefaultThrottleSpeedup     = 60
	DefaultServiceLatency      = 40 * time.Millisecond
	DefaultStreamBandwidth     = 12_500_000 // bytes/s, 100 Mbit/s
	DefaultMailboxConcurrency  = 4
	DefaultMailboxRequests     = 10_000
	DefaultMailboxWindow       = 10 * time.Minute
	DefaultDriveUnitsPerMinute = 1200
)

// concurrencyRetryAfter is the model Retry-After of a 429 for the
// MailboxConcurrency limit: a slot frees as soon as a request in flight
// finishes, so the shortest wait Retry-After can express.
const concurrencyRetryAfter = time.Second

// ThrottleConfig configures the throttling model. Zero fields take the
// defaults above; all durations are model durations (scaled in fast mode).
type ThrottleConfig struct {
	Mode ThrottleMode
	// Speedup is how many model seconds pass per real second in
	// graph-fast mode (default 60). Ignored in other modes.
	Speedup float64
	// Latency is the service time of each request before its response
	// starts (default 40 ms); negative means none.
	Latency time.Duration
	// Bandwidth limits each response stream, in bytes per second
	// (default 12.5 MB/s); negative means unlimited.
	Bandwidth int64
	// MailboxConcurrency is the number of requests an app may have in
	// flight to one mailbox (default 4).
	MailboxConcurrency int
	// MailboxRequests per MailboxWindow is the rate limit per app and
	// mailbox (default 10,000 per 10 minutes).
	MailboxRequests int
	MailboxWindow   time.Duration
	// DriveUnitsPerMinute is the OneDrive resource-unit budget per app and
	// tenant per sliding minute (default 1,200).
	DriveUnitsPerMinute int
	// MailboxUploadBytes per MailboxUploadWindow is the upload volume per
	// app and mailbox (default 150 MB per 5 minutes; uploadvolume.go).
	MailboxUploadBytes  int64
	MailboxUploadWindow time.Duration
	// Clock is the time source (default the system clock). Tests inject
	// one to make the model deterministic.
	Clock ThrottleClock
}

// ThrottleClock is the time source of the throttling model.
type ThrottleClock interface {
	Now() time.Time
	// Sleep waits for d or until ctx is done, whichever is first, and
	// returns ctx.Err() in the latter case.
	Sleep(ctx context.Context, d time.Duration) error
}

// SystemClock is the real clock.
type SystemClock struct{}

// Now implements ThrottleClock.
func (SystemClock) Now() time.Time { return time.Now() }

// Sleep implements ThrottleClock.
func (SystemClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c ThrottleConfig) withDefaults() ThrottleConfig {
	if c.Speedup <= 0 {
		c.Speedup = DefaultThrottleSpeedup
	}
	if c.Latency == 0 {
		c.Latency = DefaultServiceLatency
	}
	if c.Bandwidth == 0 {
		c.Bandwidth = DefaultStreamBandwidth
	}
	if c.MailboxConcurrency <= 0 {
		c.MailboxConcurrency = DefaultMailboxConcurrency
	}
	if c.MailboxRequests <= 0 {
		c.MailboxRequests = DefaultMailboxRequests
	}
	if c.MailboxWindow <= 0 {
		c.MailboxWindow = DefaultMailboxWindow
	}
	if c.DriveUnitsPerMinute <= 0 {
		c.DriveUnitsPerMinute = DefaultDriveUnitsPerMinute
	}
	if c.Clock == nil {
		c.Clock = SystemClock{}
	}
	return c
}

// ThrottleStats counts what the model decided, for tests and the request
// log. Throttled requests are those answered 429 by the model (not by
// injected faults).
type ThrottleStats struct {
	MailboxAdmitted  int64
	MailboxThrottled int64
	// MailboxConcurrencyThrottled is the part of MailboxThrottled that hit
	// the concurrency limit rather than the request window.
	MailboxConcurrencyThrottled int64
	// MailboxUploadThrottled counts 429s for the upload volume limit.
	MailboxUploadThrottled int64
	DriveAdmitted          int64
	DriveThrottled         int64
	// DriveUnits is the resource units charged, throttled requests included.
	DriveUnits    int64
	OtherAdmitted int64
	// InFlight is the number of admitted mailbox requests not yet finished
	// (not tracked when throttling is off).
	InFlight int
	// PeakMailboxInFlight is the highest number of requests seen in flight
	// to any one mailbox.
	PeakMailboxInFlight int
}

func (s ThrottleStats) String() string {
	return fmt.Sprintf("mailbox %d admitted, %d throttled (%d concurrency); drive %d admitted, %d throttled, %d units; other %d; peak mailbox concurrency %d",
		s.MailboxAdmitted, s.MailboxThrottled, s.MailboxConcurrencyThrottled,
		s.DriveAdmitted, s.DriveThrottled, s.DriveUnits, s.OtherAdmitted, s.PeakMailboxInFlight)
}

// Throttle is the throttling model. It is safe for concurrent use.
type Throttle struct {
	cfg   ThrottleConfig // defaults filled, model durations
	clock ThrottleClock
	speed float64 // model seconds per real second

	// Real-time equivalents of the model parameters.
	latency   time.Duration
	window    time.Duration
	minute    time.Duration
	bandwidth float64 // bytes per real second; 0 = unlimited

	otherAdmitted atomic.Int64

	mu        sync.Mutex
	mailboxes map[string]*mailboxState
	drives    map[string]*driveState
	stats     ThrottleStats
	uploads   map[string][]uploadCharge // by mailbox key (uploadvolume.go)
}

type mailboxState struct {
	inFlight int
	log      []time.Time // request times within the window, oldest first
}

type unitCharge struct {
	at    time.Time
	units int
}

type driveState struct {
	log  []unitCharge // charges within the minute, oldest first
	used int
}

// NewThrottle returns the model for cfg, with defaults filled in.
func NewThrottle(cfg ThrottleConfig) *Throttle {
	cfg = cfg.withDefaults()
	t := &Throttle{
		cfg:       cfg,
		clock:     cfg.Clock,
		speed:     1,
		mailboxes: map[string]*mailboxState{},
		drives:    map[string]*driveState{},
	}
	if cfg.Mode == ThrottleGraphFast {
		t.speed = cfg.Speedup
	}
	t.latency = max(t.RealDuration(cfg.Latency), 0)
	t.window = t.RealDuration(cfg.MailboxWindow)
	t.minute = t.RealDuration(time.Minute)
	if cfg.Bandwidth > 0 {
		t.bandwidth = float64(cfg.Bandwidth) * t.speed
	}
	return t
}

// Config returns the configuration in effect, defaults filled in.
func (t *Throttle) Config() ThrottleConfig { return t.cfg }

// Mode returns the throttling mode.
func (t *Throttle) Mode() ThrottleMode { return t.cfg.Mode }

// RealDuration converts a model duration to real time: divided by Speedup
// in graph-fast mode, unchanged otherwise.
func (t *Throttle) RealDuration(model time.Duration) time.Duration {
	if t.speed == 1 {
		return model
	}
	return time.Duration(math.Round(float64(model) / t.speed))
}

// Admit decides whether a request may proceed. When d.OK, the caller must
// call done once the response is complete (it releases the concurrency
// slot); when not, done is a no-op and the request must be answered 429
// with d's Retry-After, code and message.
func (t *Throttle) Admit(res Resource) (done func(), d Decision) {
	if t.cfg.Mode == ThrottleOff || res.Kind == ResourceOther {
		if res.Kind == ResourceOther {
			t.otherAdmitted.Add(1)
			return noop, Decision{OK: true}
		}
		t.mu.Lock()
		if res.Kind == ResourceMailbox {
			t.stats.MailboxAdmitted++
		} else {
			t.stats.DriveAdmitted++
			t.stats.DriveUnits += int64(max(res.Units, 1))
		}
		t.mu.Unlock()
		return noop, Decision{OK: true}
	}
	now := t.clock.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if res.Kind == ResourceDrive {
		return noop, t.admitDrive(res, now)
	}
	return t.admitMailbox(res, now)
}

func noop() {}

func (t *Throttle) admitMailbox(res Resource, now time.Time) (func(), Decision) {
	mb := t.mailboxes[res.Key]
	if mb == nil {
		mb = &mailboxState{}
		t.mailboxes[res.Key] = mb
	}
	cut := 0
	for cut < len(mb.log) && !mb.log[cut].After(now.Add(-t.window)) {
		cut++
	}
	mb.log = mb.log[cut:]
	limit := t.cfg.MailboxRequests
	full := len(mb.log) >= limit
	// Every request counts against the window, throttled ones included.
	mb.log = append(mb.log, now)
	switch {
	case full:
		t.stats.MailboxThrottled++
		// The next request is admitted once enough entries have left the
		// window for the count to drop below the limit.
		free := mb.log[len(mb.log)-limit].Add(t.window)
		return noop, Decision{
			RetryAfter: free.Sub(now),
			Code:       "ApplicationThrottled",
			Message:    "Application is over its request rate limit.",
		}
	case mb.inFlight >= t.cfg.MailboxConcurrency:
		t.stats.MailboxThrottled++
		t.stats.MailboxConcurrencyThrottled++
		return noop, Decision{
			RetryAfter: t.RealDuration(concurrencyRetryAfter),
			Code:       "ApplicationThrottled",
			Message:    "Application is over its MailboxConcurrency limit.",
		}
	}
	mb.inFlight++
	t.stats.MailboxAdmitted++
	t.stats.InFlight++
	t.stats.PeakMailboxInFlight = max(t.stats.PeakMailboxInFlight, mb.inFlight)
	var once sync.Once
	return func() {
		once.Do(func() {
			t.mu.Lock()
			mb.inFlight--
			t.stats.InFlight--
			t.mu.Unlock()
		})
	}, Decision{OK: true}
}

func (t *Throttle) admitDrive(res Resource, now time.Time) Decision {
	ds := t.drives[res.Key]
	if ds == nil {
		ds = &driveState{}
		t.drives[res.Key] = ds
	}
	cut := 0
	for cut < len(ds.log) && !ds.log[cut].at.After(now.Add(-t.minute)) {
		ds.used -= ds.log[cut].units
		cut++
	}
	ds.log = ds.log[cut:]
	units := max(res.Units, 1)
	budget := t.cfg.DriveUnitsPerMinute
	// A request costing more than the whole budget is admitted on an empty
	// budget rather than never.
	over := ds.used+units > budget && ds.used > 0
	// Throttled requests are charged too.
	ds.log = append(ds.log, unitCharge{at: now, units: units})
	ds.used += units
	t.stats.DriveUnits += int64(units)
	if !over {
		t.stats.DriveAdmitted++
		return Decision{OK: true}
	}
	t.stats.DriveThrottled++
	// Retry-After: when enough charges have left the minute for another
	// request of the same cost to fit.
	retry := t.minute
	freed := 0
	for _, c := range ds.log {
		freed += c.units
		if ds.used-freed+units <= budget || ds.used-freed == 0 {
			retry = c.at.Add(t.minute).Sub(now)
			break
		}
	}
	return Decision{
		RetryAfter: retry,
		Code:       "activityLimitReached",
		Message:    "The request has been throttled",
	}
}

// ServiceDelay waits the (scaled) service latency of one request, or until
// ctx is done.
func (t *Throttle) ServiceDelay(ctx context.Context) error {
	if t.cfg.Mode == ThrottleOff || t.latency <= 0 {
		return nil
	}
	return t.clock.Sleep(ctx, t.latency)
}

// Pace returns a writer that delivers the response body no faster than the
// (scaled) per-stream Bandwidth. It returns w itself when throttling is off.
func (t *Throttle) Pace(ctx context.Context, w http.ResponseWriter) http.ResponseWriter {
	if t.cfg.Mode == ThrottleOff || t.bandwidth <= 0 {
		return w
	}
	return &pacedWriter{ResponseWriter: w, ctx: ctx, t: t}
}

// pacedWriter sleeps so that the bytes written by time T never exceed
// Bandwidth × (T − first write).
type pacedWriter struct {
	http.ResponseWriter
	ctx   context.Context
	t     *Throttle
	start time.Time
	sent  int64
}

// paceChunk bounds the bytes written between two pacing decisions, so one
// large Write still flows at the set rate.
const paceChunk = 64 << 10

// paceSlack is how far ahead of schedule a stream may run before it sleeps,
// so that fast streams don't sleep for microseconds at a time.
const paceSlack = 2 * time.Millisecond

func (p *pacedWriter) Write(b []byte) (int, error) {
	if p.start.IsZero() {
		p.start = p.t.clock.Now()
	}
	written := 0
	for len(b) > 0 {
		n := min(len(b), paceChunk)
		m, err := p.ResponseWriter.Write(b[:n])
		written += m
		p.sent += int64(m)
		if err != nil {
			return written, err
		}
		b = b[n:]
		due := p.start.Add(time.Duration(float64(p.sent) / p.t.bandwidth * float64(time.Second)))
		if ahead := due.Sub(p.t.clock.Now()); ahead > paceSlack {
			if err := p.t.clock.Sleep(p.ctx, ahead); err != nil {
				return written, err
			}
		}
	}
	return written, nil
}

func (p *pacedWriter) Flush() {
	if f, ok := p.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (p *pacedWriter) Unwrap() http.ResponseWriter { return p.ResponseWriter }

// Snapshot returns the counts so far.
func (t *Throttle) Snapshot() ThrottleStats {
	t.mu.Lock()
	s := t.stats
	t.mu.Unlock()
	s.OtherAdmitted = t.otherAdmitted.Load()
	return s
}

// Reset forgets all windows, budgets and counts. Requests in flight keep
// their slots until they finish.
func (t *Throttle) Reset() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for k, mb := range t.mailboxes {
		if mb.inFlight == 0 {
			delete(t.mailboxes, k)
		} else {
			mb.log = nil
		}
	}
	clear(t.drives)
	inFlight := t.stats.InFlight
	t.stats = ThrottleStats{InFlight: inFlight}
	t.otherAdmitted.Store(0)
}

// Workload describes a run for MinimumDuration.
type Workload struct {
	// Mailboxes lists the work per mailbox; mailboxes proceed in parallel.
	Mailboxes []MailboxWork
	// DriveUnits is the resource units all drive requests cost together
	// (see Resource.Units), DriveRequests their number and DriveBytes the
	// bytes they return.
	DriveUnits    int
	DriveRequests int
	DriveBytes    int64
	// DriveConcurrency is how many drive requests the client keeps in
	// flight. OneDrive documents no concurrency limit, so this is the
	// client's choice; 0 means unbounded, which leaves only the resource-unit
	// budget and one service latency as the drive's bound.
	DriveConcurrency int
}

// MailboxWork is the requests one mailbox needs and the response bytes
// they return.
type MailboxWork struct {
	Requests int
	Bytes    int64
}

// MinimumDuration is the shortest real time in which any client could
// complete w under this model: a lower bound that a client pacing itself
// perfectly approaches. It is 0 when throttling is off. With L the service
// latency, BW the per-stream bandwidth, C the mailbox concurrency, N
// requests per window W, U resource units per minute M (all scaled to real
// time in fast mode):
//
//	mailbox (R requests, B bytes):
//	  busy   = R×L + B/BW                       total service + transfer time
//	  Tconc  = max(⌈R/C⌉×L, busy/min(C,R))      C streams in parallel, each at BW
//	  Twin   = ⌊(R−1)/N⌋×W + L                  request k may start only once
//	                                            request k−N has left the window
//	  Tmbx   = max(Tconc, Twin)
//	drive (D units, Q requests, Bd bytes, client concurrency P):
//	  Tru    = ⌊(D−1)/U⌋×M + L                  at most U units in any minute
//	  Tdconc = (Q×L + Bd/BW)/P                  (only when P > 0)
//	  Tdrive = max(Tru, Tdconc)
//	total = max over all mailboxes and the drive (they run in parallel).
func (t *Throttle) MinimumDuration(w Workload) time.Duration {
	if t.cfg.Mode == ThrottleOff {
		return 0
	}
	L := t.latency.Seconds()
	transfer := func(b int64) float64 {
		if t.bandwidth <= 0 || b <= 0 {
			return 0
		}
		return float64(b) / t.bandwidth
	}
	var total float64
	for _, m := range w.Mailboxes {
		if m.Requests <= 0 {
			continue
		}
		R := float64(m.Requests)
		C := t.cfg.MailboxConcurrency
		busy := R*L + transfer(m.Bytes)
		conc := math.Max(math.Ceil(R/float64(C))*L, busy/float64(min(C, m.Requests)))
		win := float64((m.Requests-1)/t.cfg.MailboxRequests)*t.window.Seconds() + L
		total = math.Max(total, math.Max(conc, win))
	}
	if w.DriveUnits > 0 || w.DriveRequests > 0 {
		var d float64
		if w.DriveUnits > 0 {
			d = float64((w.DriveUnits-1)/t.cfg.DriveUnitsPerMinute)*t.minute.Seconds() + L
		} else {
			d = L
		}
		if w.DriveConcurrency > 0 {
			Q := float64(w.DriveRequests)
			d = math.Max(d, (Q*L+transfer(w.DriveBytes))/float64(w.DriveConcurrency))
		}
		total = math.Max(total, d)
	}
	return time.Duration(math.Round(total * float64(time.Second)))
}
