package m365sim

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// FaultKind is one kind of injected failure.
type FaultKind int

// Fault kinds. Every request through the Graph and download middleware may
// get one, chosen by FaultConfig.Rate.
const (
	FaultNone FaultKind = iota
	// Fault429 starts a 429 storm on the request's resource (mailbox or
	// drive budget): this request and the next FaultConfig.Storm requests
	// to the same resource are answered 429 with Retry-After.
	Fault429
	// Fault503 answers 503 serviceNotAvailable with Retry-After.
	Fault503
	// Fault504 answers 504 as Graph's gateway does on a timeout.
	Fault504
	// FaultReset aborts the connection (HTTP/2: the stream) before any
	// response byte.
	FaultReset
	// FaultTruncate (content responses only) sends the headers, with the
	// full Content-Length, and part of the body, then aborts.
	FaultTruncate
	// FaultGone (content responses only: a message's $value or a file
	// download) deletes the item from the tenant, as if someone deleted it
	// between listing and download, then answers 404.
	FaultGone
	// FaultLost carries the request out, then aborts the connection before
	// any response byte: the client cannot tell whether it happened, as
	// when a gateway gives up on a request the service went on to finish.
	FaultLost
)

// faultKinds lists the kinds in the order Pick tries them; faultNames
// are their names in a fault spec.
var (
	faultKinds = []FaultKind{Fault429, Fault503, Fault504, FaultReset, FaultTruncate, FaultGone, FaultLost}
	faultNames = map[FaultKind]string{
		Fault429: "429", Fault503: "503", Fault504: "504",
		FaultReset: "reset", FaultTruncate: "truncate", FaultGone: "gone", FaultLost: "lost",
	}
)

func (k FaultKind) String() string {
	if k == FaultNone {
		return "none"
	}
	if n, ok := faultNames[k]; ok {
		return n
	}
	return fmt.Sprintf("FaultKind(%d)", int(k))
}

// contentOnly says whether a kind applies only to content responses.
func (k FaultKind) contentOnly() bool { return k == FaultTruncate || k == FaultGone }

// DefaultFaultStorm is the number of further 429s after a storm starts.
const DefaultFaultStorm = 3

// DefaultFaultRetryAfter is the model Retry-After of injected 429s and 503s.
const DefaultFaultRetryAfter = time.Second

// FaultConfig configures fault injection. The zero value injects nothing.
type FaultConfig struct {
	// Seed makes the choice of faults repeatable: the same seed and the
	// same sequence of requests give the same faults.
	Seed int64
	// Rate is the probability, per request, of each fault kind; together
	// at most 1.
	Rate map[FaultKind]float64
	// Storm is how many further requests to the same resource get 429
	// after a Fault429: 0 means DefaultFaultStorm, negative means none.
	Storm int
	// RetryAfter is the model Retry-After of injected 429s and 503s
	// (scaled like the throttling model's); 0 means DefaultFaultRetryAfter.
	RetryAfter time.Duration
	// TokenEarlyExpiry, when > 0, is how long access tokens are really
	// accepted although their expires_in says longer. The identity
	// provider reads it through Faults.TokenEarlyExpiry.
	TokenEarlyExpiry time.Duration
	// Only, when set, limits faults to requests whose path or route (as in
	// the request log, e.g. "GET /v1.0/users/{id}/messages/{id}/$value")
	// contains it.
	Only string
}

// Validate reports rates outside [0, 1], rates that add up to more than
// 1, and unknown kinds.
func (c FaultConfig) Validate() error {
	sum := 0.0
	for k, r := range c.Rate {
		if _, ok := faultNames[k]; !ok {
			return fmt.Errorf("unknown fault kind %d", int(k))
		}
		if !(r >= 0 && r <= 1) {
			return fmt.Errorf("fault rate %s=%v is outside [0,1]", k, r)
		}
		sum += r
	}
	if sum > 1+1e-9 {
		return fmt.Errorf("fault rates add up to %v, more than 1", sum)
	}
	if c.TokenEarlyExpiry < 0 {
		return fmt.Errorf("token-expiry %v is negative", c.TokenEarlyExpiry)
	}
	if c.RetryAfter < 0 {
		return fmt.Errorf("retry-after %v is negative", c.RetryAfter)
	}
	return nil
}

// faultSpecKeys are the keys ParseFaults accepts besides the kind names.
var faultSpecKeys = []string{"seed", "storm", "retry-after", "token-expiry", "only"}

// ParseFaults parses a fault spec: comma-separated key=value pairs,
//
//	429=0.05,503=0.02,504=0.01,reset=0.01,truncate=0.02,gone=0.01,lost=0.01,
//	token-expiry=30s,seed=7,storm=3,retry-after=2s,only=/content
//
// where the kind names take a probability in [0,1] (together at most 1),
// storm is the number of further 429s after one (0 for none), and
// "", "none" and "off" mean no faults.
func ParseFaults(spec string) (FaultConfig, error) {
	var c FaultConfig
	spec = strings.TrimSpace(spec)
	if spec == "" || spec == "none" || spec == "off" {
		return c, nil
	}
	seen := map[string]bool{}
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		key, val, ok := strings.Cut(part, "=")
		key, val = strings.ToLower(strings.TrimSpace(key)), strings.TrimSpace(val)
		if !ok {
			return FaultConfig{}, fmt.Errorf("fault spec: %q is not key=value", part)
		}
		if seen[key] {
			return FaultConfig{}, fmt.Errorf("fault spec: %s given twice", key)
		}
		seen[key] = true
		if kind, ok := faultKindByName(key); ok {
			r, err := strconv.ParseFloat(val, 64)
			if err != nil || !(r >= 0 && r <= 1) {
				return FaultConfig{}, fmt.Errorf("fault spec: %s=%s: the rate must be a number in [0,1]", key, val)
			}
			if c.Rate == nil {
				c.Rate = map[FaultKind]float64{}
			}
			c.Rate[kind] = r
			continue
		}
		var err error
		switch key {
		case "seed":
			if c.Seed, err = strconv.ParseInt(val, 10, 64); err != nil {
				err = errors.New("not an integer")
			}
		case "storm":
			n, aerr := strconv.Atoi(val)
			switch {
			case aerr != nil:
				err = errors.New("not an integer")
			case n < 0:
				err = errors.New("must not be negative")
			case n == 0:
				c.Storm = -1
			default:
				c.Storm = n
			}
		case "retry-after":
			c.RetryAfter, err = parseSpecDuration(val)
		case "token-expiry":
			c.TokenEarlyExpiry, err = parseSpecDuration(val)
		case "only":
			c.Only = val
		default:
			valid := make([]string, 0, len(faultKinds)+len(faultSpecKeys))
			for _, k := range faultKinds {
				valid = append(valid, k.String())
			}
			valid = append(valid, faultSpecKeys...)
			return FaultConfig{}, fmt.Errorf("fault spec: unknown key %q (valid: %s)", key, strings.Join(valid, ", "))
		}
		if err != nil {
			return FaultConfig{}, fmt.Errorf("fault spec: %s=%s: %v", key, val, err)
		}
	}
	if err := c.Validate(); err != nil {
		return FaultConfig{}, fmt.Errorf("fault spec: %w", err)
	}
	return c, nil
}

func faultKindByName(name string) (FaultKind, bool) {
	for k, n := range faultNames {
		if n == name {
			return k, true
		}
	}
	return FaultNone, false
}

func parseSpecDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, errors.New("not a duration like 30s or 2m")
	}
	if d < 0 {
		return 0, errors.New("must not be negative")
	}
	return d, nil
}

// String returns the spec ParseFaults reads back into c.
func (c FaultConfig) String() string {
	var parts []string
	for _, k := range faultKinds {
		if r := c.Rate[k]; r > 0 {
			parts = append(parts, k.String()+"="+strconv.FormatFloat(r, 'g', -1, 64))
		}
	}
	if c.Storm < 0 {
		parts = append(parts, "storm=0")
	} else if c.Storm > 0 {
		parts = append(parts, "storm="+strconv.Itoa(c.Storm))
	}
	if c.RetryAfter > 0 {
		parts = append(parts, "retry-after="+c.RetryAfter.String())
	}
	if c.TokenEarlyExpiry > 0 {
		parts = append(parts, "token-expiry="+c.TokenEarlyExpiry.String())
	}
	if c.Only != "" {
		parts = append(parts, "only="+c.Only)
	}
	if len(parts) == 0 {
		return "none"
	}
	if c.Seed != 0 {
		parts = append(parts, "seed="+strconv.FormatInt(c.Seed, 10))
	}
	return strings.Join(parts, ",")
}

// Faults is the fault injector. It is safe for concurrent use.
type Faults struct {
	mu       sync.Mutex
	cfg      FaultConfig
	rng      *rand.Rand
	active   bool           // some rate > 0 or forced faults pending
	storms   map[string]int // resource key → 429s still to come
	forced   []FaultKind    // faults forced by Force, in order
	injected map[FaultKind]int
}

// NewFaults returns an injector for cfg. An invalid cfg (see Validate) is
// clamped: rates to [0,1], then scaled down to add up to at most 1.
func NewFaults(cfg FaultConfig) *Faults {
	f := &Faults{injected: map[FaultKind]int{}}
	f.SetConfig(cfg)
	return f
}

// SetConfig replaces the configuration at runtime: the random source is
// re-seeded and storms in progress and forced faults end. Counts stay.
func (f *Faults) SetConfig(cfg FaultConfig) {
	rates := map[FaultKind]float64{}
	sum := 0.0
	for _, k := range faultKinds {
		r := min(max(cfg.Rate[k], 0), 1) // NaN → 0
		if r > 0 {
			rates[k] = r
			sum += r
		}
	}
	if sum > 1 {
		for k := range rates {
			rates[k] /= sum
		}
	}
	cfg.Rate = rates
	if cfg.Storm == 0 {
		cfg.Storm = DefaultFaultStorm
	}
	if cfg.RetryAfter <= 0 {
		cfg.RetryAfter = DefaultFaultRetryAfter
	}
	cfg.TokenEarlyExpiry = max(cfg.TokenEarlyExpiry, 0)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cfg = cfg
	seed := uint64(cfg.Seed)
	f.rng = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	f.storms = map[string]int{}
	f.forced = nil
	f.active = len(rates) > 0
}

// Config returns the configuration in effect (defaults filled in).
func (f *Faults) Config() FaultConfig {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.cfg
	c.Rate = make(map[FaultKind]float64, len(f.cfg.Rate))
	for k, r := range f.cfg.Rate {
		c.Rate[k] = r
	}
	return c
}

// TokenEarlyExpiry is how long access tokens are really accepted, when
// tokens are to expire early (0: they last as long as they say).
func (f *Faults) TokenEarlyExpiry() time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cfg.TokenEarlyExpiry
}

// Force makes the next n requests that kind applies to (content requests
// for truncate and gone; any request otherwise) and that match Only get
// kind, whatever the rates, so a test can say "the next download is
// truncated". Forced faults queue up in order.
func (f *Faults) Force(kind FaultKind, n int) {
	if _, ok := faultNames[kind]; !ok || n <= 0 {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for range n {
		f.forced = append(f.forced, kind)
	}
	f.active = true
}

// Injected returns how many faults of each kind were injected, storm
// 429s included.
func (f *Faults) Injected() map[FaultKind]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[FaultKind]int, len(f.injected))
	for k, n := range f.injected {
		out[k] = n
	}
	return out
}

// Pick chooses the fault, if any, for a request charged to res.
func (f *Faults) Pick(r *http.Request, res Resource) FaultKind {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.active && len(f.storms) == 0 {
		return FaultNone
	}
	if f.cfg.Only != "" && !strings.Contains(r.URL.Path, f.cfg.Only) && !strings.Contains(routeOf(r), f.cfg.Only) {
		return FaultNone
	}
	kind := FaultNone
	if n := f.storms[res.Key]; n > 0 {
		if n == 1 {
			delete(f.storms, res.Key)
		} else {
			f.storms[res.Key] = n - 1
		}
		f.injected[Fault429]++
		return Fault429
	}
	for i, k := range f.forced {
		if !k.contentOnly() || res.Content {
			kind = k
			f.forced = append(f.forced[:i], f.forced[i+1:]...)
			break
		}
	}
	if kind == FaultNone && len(f.cfg.Rate) > 0 {
		u := f.rng.Float64()
		cum := 0.0
		for _, k := range faultKinds {
			cum += f.cfg.Rate[k]
			if u < cum {
				if !k.contentOnly() || res.Content {
					kind = k
				}
				break
			}
		}
	}
	f.active = len(f.cfg.Rate) > 0 || len(f.forced) > 0
	if kind == FaultNone {
		return FaultNone
	}
	if kind == Fault429 && f.cfg.Storm > 0 {
		f.storms[res.Key] = f.cfg.Storm
	}
	f.injected[kind]++
	return kind
}

// int64n returns a pseudo-random number in [0, n) from the seeded source.
func (f *Faults) int64n(n int64) int64 {
	if n <= 0 {
		return 0
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.rng.Int64N(n)
}

func (f *Faults) retryAfter() time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cfg.RetryAfter
}

// applyFault carries out fault f for a request. It returns true when the
// fault answered the request (or aborted it), false when the request
// should be served normally.
func (s *Server) applyFault(f FaultKind, w http.ResponseWriter, r *http.Request, res Resource, next http.Handler) bool {
	retryAfter := func() {
		w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds(s.throttle.RealDuration(s.faults.retryAfter()))))
	}
	switch f {
	case Fault429:
		retryAfter()
		switch res.Kind {
		case ResourceDrive:
			writeGraphError(w, http.StatusTooManyRequests, "activityLimitReached", "The request has been throttled")
		case ResourceMailbox:
			writeGraphError(w, http.StatusTooManyRequests, "ApplicationThrottled", "Application is over its request rate limit.")
		default:
			writeGraphError(w, http.StatusTooManyRequests, "TooManyRequests", "Too many requests.")
		}
		return true
	case Fault503:
		retryAfter()
		writeGraphError(w, http.StatusServiceUnavailable, "serviceNotAvailable", "The service is temporarily unavailable. Please retry later.")
		return true
	case Fault504:
		if res.Kind == ResourceDrive {
			writeGraphError(w, http.StatusGatewayTimeout, "gatewayTimeout", "The operation timed out.")
		} else {
			writeGraphError(w, http.StatusGatewayTimeout, "UnknownError", "")
		}
		return true
	case FaultReset:
		s.logAborted(r, 0, 0)
		panic(http.ErrAbortHandler)
	case FaultTruncate:
		if r.Method == http.MethodHead {
			return false // no body to cut
		}
		tw := &truncatingWriter{ResponseWriter: w, faults: s.faults}
		s.serveThrottled(tw, r, res, next)
		if !tw.cutting() {
			return true // not a successful response: nothing to truncate
		}
		tw.Flush()
		s.logAborted(r, tw.status, tw.written)
		panic(http.ErrAbortHandler)
	case FaultLost:
		var lost lostResponse
		s.serveThrottled(&lost, r, res, next)
		s.logAborted(r, lost.status, 0)
		panic(http.ErrAbortHandler)
	case FaultGone:
		s.deleteRequestedItem(r, res)
		if res.Kind == ResourceDrive {
			writeGraphError(w, http.StatusNotFound, "itemNotFound", "The resource could not be found.")
		} else {
			writeGraphError(w, http.StatusNotFound, "ErrorItemNotFound", "The specified object was not found in the store.")
		}
		return true
	}
	return false
}

// logAborted records a request that ends in an aborted connection, which
// the request log's own middleware never sees finish. Status 0 means no
// response at all.
func (s *Server) logAborted(r *http.Request, status int, bytes int64) {
	s.reqlog.add(LoggedRequest{Time: time.Now(), Method: r.Method, Route: routeOf(r), Path: r.URL.Path, Status: status, Bytes: bytes})
}

// errTruncated is what the handler's writes return once the cut is reached.
var errTruncated = errors.New("m365sim: response truncated by fault injection")

// truncatingWriter passes a successful response's headers through, then
// only part of its body. Writes past the cut fail, so the handler stops;
// applyFault then aborts the connection.
type truncatingWriter struct {
	http.ResponseWriter
	faults  *Faults
	status  int
	cut     int64 // bytes of body to let through; -1 = not truncating
	written int64
}

func (t *truncatingWriter) WriteHeader(code int) {
	if t.status != 0 {
		return
	}
	t.status = code
	t.cut = -1
	if code >= 200 && code < 300 {
		// With a Content-Length, cut strictly inside the body; without one
		// (a chunked stream), somewhere in its first 4 KiB or at its end.
		if cl, err := strconv.ParseInt(t.Header().Get("Content-Length"), 10, 64); err == nil {
			if cl > 0 {
				t.cut = t.faults.int64n(cl)
			}
		} else {
			t.cut = 1 + t.faults.int64n(4096)
		}
	}
	t.ResponseWriter.WriteHeader(code)
}

func (t *truncatingWriter) Write(p []byte) (int, error) {
	if t.status == 0 {
		t.WriteHeader(http.StatusOK)
	}
	if t.cut < 0 {
		n, err := t.ResponseWriter.Write(p)
		t.written += int64(n)
		return n, err
	}
	room := t.cut - t.written
	if int64(len(p)) <= room {
		n, err := t.ResponseWriter.Write(p)
		t.written += int64(n)
		return n, err
	}
	n, err := t.ResponseWriter.Write(p[:room])
	t.written += int64(n)
	if err != nil {
		return n, err
	}
	return n, errTruncated
}

// cutting says whether the response is one being truncated.
func (t *truncatingWriter) cutting() bool { return t.status != 0 && t.cut >= 0 }

func (t *truncatingWriter) Flush() {
	if f, ok := t.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (t *truncatingWriter) Unwrap() http.ResponseWriter { return t.ResponseWriter }

// deleteRequestedItem deletes the message or drive item a content request
// names, as another client would between listing and download. It
// understands Graph's paths (…/messages/{id}/$value, /drives/{d}/items/{id}/content,
// …/drive/items/{id}/content, …/drive/root:/{path}:/content) and, for
// pre-authenticated download URLs, any path segment or query value that is
// an item ID in some drive.
func (s *Server) deleteRequestedItem(r *http.Request, res Resource) {
	p := strings.TrimPrefix(r.URL.Path, "/v1.0")
	parts := strings.Split(strings.Trim(p, "/"), "/")
	var users []*User
	if len(parts) >= 2 && parts[0] == "users" {
		if u, err := s.tenant.User(unescapeSegment(parts[1])); err == nil {
			users = []*User{u}
		}
	} else if len(parts) >= 1 && parts[0] == "me" {
		if sess := sessionFrom(r.Context()); sess != nil && sess.User != nil {
			users = []*User{sess.User}
		}
	}
	if users == nil {
		users = s.tenant.Users()
	}
	if res.Kind == ResourceMailbox {
		if len(parts) >= 2 && parts[len(parts)-1] == "$value" {
			id := unescapeSegment(parts[len(parts)-2])
			for _, u := range users {
				if s.tenant.DeleteMessage(u.ID, id) == nil {
					return
				}
			}
		}
		return
	}
	// Path-based addressing: …/root:/folder/file.txt:/content.
	if _, after, ok := strings.Cut(p, "root:"); ok {
		if path, _, ok := strings.Cut(after, ":"); ok {
			for _, u := range users {
				if it, err := s.tenant.DriveItemByPath(u.ID, path); err == nil && s.tenant.DeleteDriveItem(u.ID, it.ID) == nil {
					return
				}
			}
		}
	}
	var candidates []string
	for i := len(parts) - 1; i >= 0; i-- {
		candidates = append(candidates, unescapeSegment(parts[i]))
	}
	q := r.URL.Query()
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		candidates = append(candidates, q[k]...)
	}
	for _, id := range candidates {
		if id == "" {
			continue
		}
		for _, u := range users {
			if s.tenant.DeleteDriveItem(u.ID, id) == nil {
				return
			}
		}
	}
}

func unescapeSegment(s string) string {
	if u, err := url.PathUnescape(s); err == nil {
		return u
	}
	return s
}

// lostResponse takes a response nobody will receive (FaultLost).
type lostResponse struct {
	h      http.Header
	status int
}

func (l *lostResponse) Header() http.Header {
	if l.h == nil {
		l.h = http.Header{}
	}
	return l.h
}

func (l *lostResponse) WriteHeader(code int) {
	if l.status == 0 {
		l.status = code
	}
}

func (l *lostResponse) Write(p []byte) (int, error) {
	l.WriteHeader(http.StatusOK)
	return len(p), nil
}
