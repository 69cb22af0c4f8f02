package m365sim

import (
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// LoggedRequest is one entry of the request log. It holds the path but
// never the query string or headers, which carry codes and tokens.
type LoggedRequest struct {
	Time     time.Time
	Method   string
	Route    string // path with IDs replaced by {id}, e.g. "GET /v1.0/users/{id}/mailFolders"
	Path     string
	Status   int
	Bytes    int64
	Duration time.Duration
	// Resource is what the throttling model charged the request against
	// (Kind ResourceOther for requests it does not meter).
	Resource Resource
}

// resourceSlot carries the resource a request was charged against from
// the throttling middleware back out to the request log.
type resourceSlot struct{ res Resource }

type resourceSlotKey struct{}

// noteResource records res for the request log, if the request is logged.
func noteResource(r *http.Request, res Resource) {
	if slot, ok := r.Context().Value(resourceSlotKey{}).(*resourceSlot); ok {
		slot.res = res
	}
}

// Workload is the work the logged requests did, for
// Throttle.MinimumDuration: the successful (status below 400) metered
// requests with their response bytes, per mailbox and for the drives.
// Throttled and failed requests are left out: they are the cost of a
// client's pacing, not work the run needed. driveConcurrency is the
// client's number of drive requests in flight (see Workload).
func (l *RequestLog) Workload(driveConcurrency int) Workload {
	l.mu.Lock()
	defer l.mu.Unlock()
	w := Workload{DriveConcurrency: driveConcurrency}
	boxes := map[string]*MailboxWork{}
	var keys []string
	for _, e := range l.entries {
		if e.Status >= 400 {
			continue
		}
		switch e.Resource.Kind {
		case ResourceMailbox:
			m := boxes[e.Resource.Key]
			if m == nil {
				m = &MailboxWork{}
				boxes[e.Resource.Key] = m
				keys = append(keys, e.Resource.Key)
			}
			m.Requests++
			m.Bytes += e.Bytes
		case ResourceDrive:
			w.DriveRequests++
			w.DriveUnits += e.Resource.Units
			w.DriveBytes += e.Bytes
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		w.Mailboxes = append(w.Mailboxes, *boxes[k])
	}
	return w
}

// maxLogged bounds the log's memory; counts keep growing past it.
const maxLogged = 100000

// RequestLog counts requests per route so tests can assert how many calls
// a run made.
type RequestLog struct {
	mu      sync.Mutex
	entries []LoggedRequest
	counts  map[string]int
	total   int
}

func newRequestLog() *RequestLog { return &RequestLog{counts: map[string]int{}} }

func (l *RequestLog) add(e LoggedRequest) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.entries) < maxLogged {
		l.entries = append(l.entries, e)
	}
	l.counts[e.Route]++
	l.total++
}

// Reset clears the log.
func (l *RequestLog) Reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.entries = nil
	l.counts = map[string]int{}
	l.total = 0
}

// Total is the number of requests since the last Reset.
func (l *RequestLog) Total() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.total
}

// Counts returns requests per route.
func (l *RequestLog) Counts() map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[string]int, len(l.counts))
	for k, v := range l.counts {
		out[k] = v
	}
	return out
}

// Count returns the number of requests whose route contains substr.
func (l *RequestLog) Count(substr string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for k, v := range l.counts {
		if strings.Contains(k, substr) {
			n += v
		}
	}
	return n
}

// Entries returns a copy of the logged requests, oldest first.
func (l *RequestLog) Entries() []LoggedRequest {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]LoggedRequest(nil), l.entries...)
}

// Summary returns "route count" lines sorted by route.
func (l *RequestLog) Summary() []string {
	c := l.Counts()
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		out = append(out, k+" "+strconv.Itoa(c[k]))
	}
	return out
}

// Path segments that are IDs rather than names of Graph navigation
// properties or functions.
var idSegment = regexp.MustCompile(`^(?:[0-9a-fA-F-]{36}|b!.*|AAMk.*|AAQk.*|01.*|[^@]+@[^@]+|tok-.*|[0-9]{13}|aWQ9.*|[^,/]+\.sharepoint\.com,.*)$`)

func routeOf(r *http.Request) string {
	parts := strings.Split(r.URL.Path, "/")
	for i, p := range parts {
		if idSegment.MatchString(p) {
			parts[i] = "{id}"
		}
	}
	return r.Method + " " + strings.Join(parts, "/")
}
