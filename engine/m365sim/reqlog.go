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
var idSegment = regexp.MustCompile(`^(?:[0-9a-fA-F-]{36}|b!.*|AAMk.*|01.*|[^@]+@[^@]+|tok-.*)$`)

func routeOf(r *http.Request) string {
	parts := strings.Split(r.URL.Path, "/")
	for i, p := range parts {
		if idSegment.MatchString(p) {
			parts[i] = "{id}"
		}
	}
	return r.Method + " " + strings.Join(parts, "/")
}
