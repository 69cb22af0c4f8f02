package backup

import (
	"sync"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/graph"
)

// Phase is what a run is doing.
type Phase string

// Phases, in order.
const (
	PhaseStarting Phase = "starting"
	PhaseMail     Phase = "mail"
	PhaseOneDrive Phase = "onedrive"
	// PhaseMailAndOneDrive: both at once (a run of both scopes).
	PhaseMailAndOneDrive Phase = "mail+onedrive"
	PhaseCatalog         Phase = "catalog" // storing the catalog copy
	PhaseDone            Phase = "done"
)

// Progress is a snapshot of a run's progress, reported through
// Options.OnProgress.
type Progress struct {
	Account string
	Phase   Phase
	// ItemsDone counts items processed (stored, reused or skipped) in this
	// run; ItemsTotal is an estimate (the folders' item counts on a first
	// run, the changes seen so far on later ones), 0 when unknown.
	ItemsDone, ItemsTotal int64
	// BytesDone counts content bytes downloaded; BytesTotal is an
	// estimate (the drive's used quota on a first run), 0 when unknown.
	BytesDone, BytesTotal int64
	Skipped               int64
	// Current names the item being worked on (a subject or a path).
	Current string
	// Throttled is the owner-facing sentence while Microsoft asks Lifeboat
	// to slow down ("Microsoft asked us to slow down, continuing in 30 s"),
	// empty otherwise.
	Throttled string
	// ETA is the estimated time left, 0 when unknown.
	ETA     time.Duration
	Elapsed time.Duration
}

// Monitor turns Graph's pacer events into the throttling state shown in
// Progress. Pass its Observe method as graph.Options.OnEvent and the
// Monitor as Options.Monitor. It is safe for concurrent use.
type Monitor struct {
	mu    sync.Mutex
	last  graph.Event
	until time.Time
	count int
	// onWait, set by a run, reports progress at once when a wait begins:
	// while every request waits no other progress would say why.
	onWait func()
}

// listen sets (or with nil clears) the function Observe calls when a wait
// begins.
func (m *Monitor) listen(f func()) {
	if m == nil {
		return
	}
	m.mu.Lock()
	m.onWait = f
	m.mu.Unlock()
}

// NewMonitor returns a Monitor.
func NewMonitor() *Monitor { return &Monitor{} }

// Observe records a Graph event.
func (m *Monitor) Observe(e graph.Event) {
	m.mu.Lock()
	m.last = e
	m.until = time.Now().Add(e.Wait)
	if e.Kind == graph.EventThrottled {
		m.count++
	}
	onWait := m.onWait
	m.mu.Unlock()
	if onWait != nil && e.Wait > 0 {
		onWait()
	}
}

// State returns the current throttling sentence, or "" when no wait is in
// progress.
func (m *Monitor) State() string {
	if m == nil {
		return ""
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.last.Kind == 0 || time.Now().After(m.until) {
		return ""
	}
	e := m.last
	e.Wait = time.Until(m.until)
	return e.String()
}

// Throttles is how many times Microsoft asked to slow down.
func (m *Monitor) Throttles() int {
	if m == nil {
		return 0
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.count
}

// tracker accumulates progress and reports it at most every interval
// (and always on phase changes).
type tracker struct {
	mu       sync.Mutex
	callMu   sync.Mutex // OnProgress is called by one goroutine at a time
	p        Progress
	start    time.Time
	last     time.Time
	fn       func(Progress)
	mon      *Monitor
	interval time.Duration
}

func (t *tracker) update(force bool, f func(p *Progress)) {
	if t == nil {
		return
	}
	t.mu.Lock()
	f(&t.p)
	now := time.Now()
	if t.fn == nil || (!force && now.Sub(t.last) < t.interval) {
		t.mu.Unlock()
		return
	}
	t.last = now
	p := t.p.reported()
	t.mu.Unlock()
	p.Elapsed = now.Sub(t.start)
	p.Throttled = t.mon.State()
	p.ETA = eta(p)
	t.callMu.Lock()
	defer t.callMu.Unlock()
	t.fn(p)
}

// reported is p as the owner sees it: a total the work has outgrown was
// an underestimate (a first run learns what is there as it goes), so it
// is reported as unknown rather than as "156 of 143".
func (p Progress) reported() Progress {
	if p.ItemsDone > p.ItemsTotal {
		p.ItemsTotal = 0
	}
	if p.BytesDone > p.BytesTotal {
		p.BytesTotal = 0
	}
	return p
}

// eta estimates the time left from the rate so far, by bytes when a byte
// total is known, else by items.
func eta(p Progress) time.Duration {
	if p.Elapsed < time.Second {
		return 0
	}
	frac := 0.0
	switch {
	case p.BytesTotal > 0 && p.BytesDone > 0:
		frac = float64(p.BytesDone) / float64(p.BytesTotal)
	case p.ItemsTotal > 0 && p.ItemsDone > 0:
		frac = float64(p.ItemsDone) / float64(p.ItemsTotal)
	}
	if frac <= 0 || frac >= 1 {
		return 0
	}
	return time.Duration(float64(p.Elapsed) * (1 - frac) / frac).Round(time.Second)
}
