package graph

import (
	"container/heap"
	"context"
	"sort"
	"sync"
	"time"
)

// ResourceKind says which of Graph's throttling budgets a request spends.
type ResourceKind int

// Resource kinds.
const (
	ResourceOther   ResourceKind = iota // directory queries: concurrency only
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

// Defaults of PacerConfig: Microsoft's documented limits (DESIGN.md
// section 5) and a retry policy.
const (
	DefaultMailboxConcurrency = 4
	DefaultMailboxRequests    = 10_000
	DefaultMailboxWindow      = 10 * time.Minute
	DefaultDriveUnits         = 1200
	DefaultDriveWindow        = time.Minute
	DefaultDriveConcurrency   = 8
	DefaultOtherConcurrency   = 4
	DefaultMaxAttempts        = 8
	DefaultBaseBackoff        = time.Second
	DefaultMaxBackoff         = time.Minute
	DefaultMaxRetryAfter      = 10 * time.Minute
)

// PacerConfig configures a Pacer. Zero fields take the defaults above. All
// durations are real time.
type PacerConfig struct {
	// MailboxConcurrency is the most requests in flight to one mailbox.
	MailboxConcurrency int
	// MailboxRequests per MailboxWindow (sliding) is the request budget of
	// one mailbox. Every attempt counts, retries and throttled ones included.
	MailboxRequests int
	MailboxWindow   time.Duration
	// DriveUnits per DriveWindow (sliding) is the OneDrive resource-unit
	// budget of the tenant.
	DriveUnits  int
	DriveWindow time.Duration
	// DriveConcurrency bounds OneDrive requests in flight per tenant
	// (OneDrive documents no limit; this keeps connections reasonable).
	DriveConcurrency int
	// OtherConcurrency bounds other requests in flight.
	OtherConcurrency int
	// MaxAttempts bounds how often one request is sent (first try
	// included) before its error is returned.
	MaxAttempts int
	// BaseBackoff and MaxBackoff bound the exponential backoff (with
	// jitter) between retries of errors that carry no Retry-After.
	BaseBackoff time.Duration
	MaxBackoff  time.Duration
	// MaxRetryAfter caps a Retry-After the pacer honours; a longer one is
	// waited for only this long.
	MaxRetryAfter time.Duration
}

// OnClock is c, defaults filled in, with the rate windows and the longest
// Retry-After honoured divided by speedup: the same limits on a clock that
// runs speedup times faster, as a simulated tenant's graph-fast mode does.
// A speedup of 1 or less changes nothing.
func (c PacerConfig) OnClock(speedup float64) PacerConfig {
	c = c.withDefaults()
	if speedup <= 1 {
		return c
	}
	scale := func(d *time.Duration) { *d = time.Duration(float64(*d) / speedup) }
	scale(&c.MailboxWindow)
	scale(&c.DriveWindow)
	scale(&c.MaxRetryAfter)
	return c
}

func (c PacerConfig) withDefaults() PacerConfig {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defD := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.MailboxConcurrency, DefaultMailboxConcurrency)
	def(&c.MailboxRequests, DefaultMailboxRequests)
	defD(&c.MailboxWindow, DefaultMailboxWindow)
	def(&c.DriveUnits, DefaultDriveUnits)
	defD(&c.DriveWindow, DefaultDriveWindow)
	def(&c.DriveConcurrency, DefaultDriveConcurrency)
	def(&c.OtherConcurrency, DefaultOtherConcurrency)
	def(&c.MaxAttempts, DefaultMaxAttempts)
	defD(&c.BaseBackoff, DefaultBaseBackoff)
	defD(&c.MaxBackoff, DefaultMaxBackoff)
	defD(&c.MaxRetryAfter, DefaultMaxRetryAfter)
	return c
}

// Pacer admits requests so that each resource stays within its limits. One
// Pacer may be shared by several Clients (several accounts of one tenant,
// or one per mailbox); resources are told apart by key. It is safe for
// concurrent use.
type Pacer struct {
	cfg PacerConfig
	mu  sync.Mutex
	res map[string]*resourceState
}

// NewPacer returns a pacer for cfg, defaults filled in.
func NewPacer(cfg PacerConfig) *Pacer {
	return &Pacer{cfg: cfg.withDefaults(), res: map[string]*resourceState{}}
}

// Config returns the configuration in effect.
func (p *Pacer) Config() PacerConfig { return p.cfg }

type charge struct {
	at    time.Time
	units int
}

// chargeHeap is a min-heap of finished charges by time.
type chargeHeap []charge

func (h chargeHeap) Len() int           { return len(h) }
func (h chargeHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h chargeHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *chargeHeap) Push(x any)        { *h = append(*h, x.(charge)) }
func (h *chargeHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// resourceState is one resource's limits and use. A request's charge is
// recorded when it finishes (a time no earlier than the service saw it),
// and counts as used from admission on, so the sliding window can never
// hold more than the budget whatever the latency.
type resourceState struct {
	kind        ResourceKind
	concurrency int
	budget      int // units per window; 0 = no rate limit
	window      time.Duration

	inFlight int
	used     int // units in log plus units in flight
	log      chargeHeap
	blocked  time.Time // Retry-After: nothing is admitted before
	signal   chan struct{}

	// statistics
	admitted  int64
	peak      int
	throttled int64
}

func (p *Pacer) stateLocked(key string, kind ResourceKind) *resourceState {
	rs := p.res[key]
	if rs != nil {
		return rs
	}
	rs = &resourceState{kind: kind, signal: make(chan struct{})}
	switch kind {
	case ResourceMailbox:
		rs.concurrency, rs.budget, rs.window = p.cfg.MailboxConcurrency, p.cfg.MailboxRequests, p.cfg.MailboxWindow
	case ResourceDrive:
		rs.concurrency, rs.budget, rs.window = p.cfg.DriveConcurrency, p.cfg.DriveUnits, p.cfg.DriveWindow
	default:
		rs.concurrency = p.cfg.OtherConcurrency
	}
	p.res[key] = rs
	return rs
}

func (rs *resourceState) broadcastLocked() {
	close(rs.signal)
	rs.signal = make(chan struct{})
}

func (rs *resourceState) pruneLocked(now time.Time) {
	for len(rs.log) > 0 && !rs.log[0].at.After(now.Add(-rs.window)) {
		c := heap.Pop(&rs.log).(charge)
		rs.used -= c.units
	}
}

// ticket is an admitted request; done must be called once it has finished
// (response body read or closed).
type ticket struct {
	p     *Pacer
	rs    *resourceState
	units int
	once  sync.Once
}

func (t *ticket) done() {
	t.once.Do(func() {
		t.p.mu.Lock()
		defer t.p.mu.Unlock()
		t.rs.inFlight--
		if t.rs.budget > 0 {
			heap.Push(&t.rs.log, charge{at: time.Now(), units: t.units})
		}
		t.rs.broadcastLocked()
	})
}

// acquire waits until a request costing units may be sent to the resource.
func (p *Pacer) acquire(ctx context.Context, key string, kind ResourceKind, units int) (*ticket, error) {
	units = max(units, 1)
	for {
		p.mu.Lock()
		rs := p.stateLocked(key, kind)
		now := time.Now()
		var wait time.Duration // 0: wait for a signal only
		ready := false
		switch {
		case now.Before(rs.blocked):
			wait = rs.blocked.Sub(now)
		case rs.inFlight >= rs.concurrency:
		default:
			if rs.budget > 0 {
				rs.pruneLocked(now)
				if rs.used > 0 && rs.used+units > rs.budget {
					if len(rs.log) > 0 {
						wait = rs.log[0].at.Add(rs.window).Sub(now) + time.Millisecond
					}
					break
				}
			}
			ready = true
		}
		if ready {
			rs.inFlight++
			rs.used += units
			rs.admitted++
			rs.peak = max(rs.peak, rs.inFlight)
			p.mu.Unlock()
			return &ticket{p: p, rs: rs, units: units}, nil
		}
		ch := rs.signal
		p.mu.Unlock()
		var timer *time.Timer
		var fire <-chan time.Time
		if wait > 0 {
			timer = time.NewTimer(wait)
			fire = timer.C
		}
		select {
		case <-ctx.Done():
		case <-ch:
		case <-fire:
		}
		if timer != nil {
			timer.Stop()
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
}

// block holds back every request to the resource until until (Retry-After).
func (p *Pacer) block(key string, kind ResourceKind, until time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	rs := p.stateLocked(key, kind)
	rs.throttled++
	if until.After(rs.blocked) {
		rs.blocked = until
		rs.broadcastLocked()
	}
}

// ResourceStats is what the pacer saw of one resource.
type ResourceStats struct {
	Key          string
	Kind         ResourceKind
	Admitted     int64 // requests sent (retries included)
	InFlight     int
	PeakInFlight int
	Throttled    int64 // responses that carried Retry-After
	BlockedUntil time.Time
}

// Stats returns a snapshot per resource, sorted by key.
func (p *Pacer) Stats() []ResourceStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]ResourceStats, 0, len(p.res))
	for k, rs := range p.res {
		out = append(out, ResourceStats{Key: k, Kind: rs.kind, Admitted: rs.admitted, InFlight: rs.inFlight,
			PeakInFlight: rs.peak, Throttled: rs.throttled, BlockedUntil: rs.blocked})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}
