package graph

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

// EventKind says what an Event reports.
type EventKind int

// Event kinds.
const (
	// EventThrottled: Microsoft answered 429 (or 503) with Retry-After; the
	// resource waits that long, other resources go on.
	EventThrottled EventKind = iota + 1
	// EventRetrying: a transient failure (5xx, reset, truncated body) is
	// about to be retried after a backoff.
	EventRetrying
)

func (k EventKind) String() string {
	switch k {
	case EventThrottled:
		return "throttled"
	case EventRetrying:
		return "retrying"
	}
	return fmt.Sprintf("EventKind(%d)", int(k))
}

// Event reports the pacer slowing down, for progress displays.
type Event struct {
	Kind         EventKind
	Resource     string // pacer key, e.g. "mailbox:alice@contoso.com" or "drive:tenant"
	ResourceKind ResourceKind
	Status       int    // HTTP status, 0 for a connection failure
	Code         string // Graph's error code, if any
	Wait         time.Duration
	Attempt      int   // the attempt that failed (1 = the first try)
	Err          error // the failure, for EventRetrying
}

// String is the sentence for the owner, e.g. "Microsoft asked us to slow
// down, continuing in 30 s".
func (e Event) String() string {
	in := humanWait(e.Wait)
	switch e.Kind {
	case EventThrottled:
		return "Microsoft asked us to slow down, continuing in " + in
	case EventRetrying:
		what := "a connection problem"
		if e.Status != 0 {
			what = fmt.Sprintf("an error (HTTP %d)", e.Status)
		}
		return "Microsoft's service had " + what + ", trying again in " + in
	}
	return e.Kind.String()
}

func humanWait(d time.Duration) string {
	s := int((d + time.Second - 1) / time.Second)
	if s < 1 {
		s = 1
	}
	if s >= 120 {
		return fmt.Sprintf("%d min", (s+59)/60)
	}
	return fmt.Sprintf("%d s", s)
}

// reqClass is how a request is paced.
type reqClass struct {
	key   string
	kind  ResourceKind
	units int
	auth  bool // send the access token
}

// isGraphURL says whether u is below the Graph base URL (the only place
// access tokens go).
func (c *Client) isGraphURL(u *url.URL) bool {
	return strings.EqualFold(u.Scheme, c.base.Scheme) && strings.EqualFold(u.Host, c.base.Host) &&
		strings.HasPrefix(u.Path, c.base.Path+"/")
}

// mailboxKey names a mailbox's pacer resource.
func (c *Client) mailboxKey(user string) string {
	u := strings.ToLower(strings.TrimSpace(user))
	if u == "" || u == "me" || u == meToken {
		u = "me"
		if c.opts.Account != "" {
			u = strings.ToLower(c.opts.Account)
		}
	}
	return "mailbox:" + u
}

func (c *Client) driveKey() string { return "drive:" + c.opts.Tenant }

// classify decides which budget a request spends, following Microsoft's
// rules as the simulator models them: /me and /users/{u} are the mailbox's
// Outlook resources, except their drive paths; /drives and any URL outside
// Graph (download URLs) spend the tenant's OneDrive resource units.
func (c *Client) classify(r *http.Request) reqClass {
	if !c.isGraphURL(r.URL) {
		return reqClass{key: c.driveKey(), kind: ResourceDrive, units: 1}
	}
	rest := strings.TrimPrefix(r.URL.Path, c.base.Path+"/")
	parts := strings.Split(strings.Trim(rest, "/"), "/")
	user := ""
	tail := parts
	switch {
	case len(parts) >= 2 && parts[0] == "users":
		user, tail = parts[1], parts[2:]
		if u, err := url.PathUnescape(user); err == nil {
			user = u
		}
	case parts[0] == "me":
		user, tail = "me", parts[1:]
	case parts[0] == "drives":
	default:
		return reqClass{key: "other", kind: ResourceOther, units: 1, auth: true}
	}
	if parts[0] == "drives" || len(tail) > 0 && (tail[0] == "drive" || tail[0] == "drives") {
		return reqClass{key: c.driveKey(), kind: ResourceDrive, units: driveUnits(r, parts), auth: true}
	}
	return reqClass{key: c.mailboxKey(user), kind: ResourceMailbox, units: 1, auth: true}
}

// driveUnits is a OneDrive request's cost: 1 for one item, a download or a
// delta with a token; 2 for a delta without a token, a multi-item query or
// a write; 5 for permissions.
func driveUnits(r *http.Request, parts []string) int {
	last := parts[len(parts)-1]
	q := r.URL.Query()
	switch {
	case slices.Contains(parts, "permissions") || strings.Contains(strings.ToLower(q.Get("$expand")), "permissions"):
		return 5
	case r.Method != http.MethodGet && r.Method != http.MethodHead:
		return 2
	case strings.HasPrefix(last, "delta"):
		if q.Get("token") != "" || strings.HasPrefix(last, "delta(token=") {
			return 1
		}
		return 2
	case last == "children":
		return 2
	}
	return 1
}

// maxMetadataBody bounds a buffered (metadata) response.
const maxMetadataBody = 64 << 20

// roundTripper is the bottom of msgraph-sdk-go's middleware chain.
type roundTripper struct{ c *Client }

func (rt roundTripper) RoundTrip(r *http.Request) (*http.Response, error) {
	return rt.c.send(r, false)
}

// send paces, authenticates, sends and retries one request. A stream's
// response body is handed back unread (its pacer slot is held until the
// body is read to the end or closed); any other response is read whole
// within the attempt so a truncated body is retried like a reset. Failed
// responses come back as *Error.
func (c *Client) send(req *http.Request, stream bool) (*http.Response, error) {
	ctx := req.Context()
	cl := c.classify(req)
	if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
		// msgraph-sdk-go's bodies (small JSON) cannot be rewound: keep a
		// copy so a retry sends them again.
		b, err := io.ReadAll(io.LimitReader(req.Body, maxMetadataBody+1))
		_ = req.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("graph: read request body: %w", err)
		}
		if len(b) > maxMetadataBody {
			return nil, errors.New("graph: request body larger than 64 MiB")
		}
		req = req.Clone(ctx)
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
		req.Body, _ = req.GetBody()
	}
	cfg := c.pacer.cfg
	// A request that creates something is not repeated after a failure
	// that may have come after the server acted on it: its caller checks
	// and decides (a repeat could make a second copy).
	once := ctx.Value(onceKey{}) != nil
	authRetried := false
	claims := ""
	for attempt := 1; ; attempt++ {
		t, err := c.pacer.acquire(ctx, cl.key, cl.kind, cl.units)
		if err != nil {
			return nil, err
		}
		var actx context.Context
		var cancel context.CancelFunc
		if stream {
			actx, cancel = context.WithCancel(ctx)
		} else {
			actx, cancel = context.WithTimeout(ctx, c.opts.RequestTimeout)
		}
		r := req.Clone(actx)
		if req.Body != nil && req.GetBody != nil {
			if r.Body, err = req.GetBody(); err != nil {
				t.done()
				cancel()
				return nil, fmt.Errorf("graph: rewind request body: %w", err)
			}
		}
		if cl.kind == ResourceMailbox && cl.auth {
			preferImmutableIDs(r.Header)
		}
		r.Header.Del("Authorization")
		if cl.auth {
			tok, err := c.token(actx, r.URL, claims)
			if err != nil {
				t.done()
				cancel()
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				return nil, &Error{Kind: ErrAuth, Err: err, Attempts: attempt}
			}
			r.Header.Set("Authorization", "Bearer "+tok)
		}
		start := time.Now()
		var headerTimer *time.Timer
		if stream {
			// A stream has no overall timeout, but its response headers
			// must come within RequestTimeout (then StallTimeout applies).
			headerTimer = time.AfterFunc(c.opts.RequestTimeout, cancel)
		}
		resp, err := c.transport.RoundTrip(r)
		if headerTimer != nil && !headerTimer.Stop() && err == nil {
			_ = resp.Body.Close()
			err = errors.New("response headers arrived after the request timed out")
		}
		if err == nil && resp.StatusCode < 400 {
			if stream {
				resp.Body = newTrackedBody(resp.Body, t, cancel, c.opts.StallTimeout)
				c.logRequest(r, resp.StatusCode, attempt, start)
				return resp, nil
			}
			var body []byte
			body, err = io.ReadAll(io.LimitReader(resp.Body, maxMetadataBody+1))
			_ = resp.Body.Close()
			if err == nil && len(body) > maxMetadataBody {
				err = errors.New("response larger than 64 MiB")
			}
			if err == nil {
				t.done()
				cancel()
				c.logRequest(r, resp.StatusCode, attempt, start)
				resp.Body = io.NopCloser(bytes.NewReader(body))
				resp.ContentLength = int64(len(body))
				resp.Header.Del("Content-Length")
				return resp, nil
			}
		}
		t.done()
		if err != nil {
			cancel()
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			e := &Error{Kind: ErrTransient, Err: cleanErr(err), Attempts: attempt}
			c.log.Debug("graph request failed", "method", r.Method, "url", redact(r.URL), "attempt", attempt, "err", e.Err)
			if once && !unsent(err) {
				e.Uncertain = true
				return nil, e
			}
			if attempt >= cfg.MaxAttempts {
				return nil, e
			}
			wait := c.backoff(attempt)
			c.emit(Event{Kind: EventRetrying, Resource: cl.key, ResourceKind: cl.kind, Wait: wait, Attempt: attempt, Err: e.Err})
			if err := sleepCtx(ctx, wait); err != nil {
				return nil, err
			}
			continue
		}
		e := responseError(resp)
		cancel()
		e.Attempts = attempt
		c.logRequest(r, resp.StatusCode, attempt, start)
		switch {
		case resp.StatusCode == http.StatusUnauthorized && cl.auth && !authRetried:
			// The token may have been revoked or expired early: ask for
			// a fresh one (with the claims challenge, if any) once.
			authRetried = true
			claims = claimsChallenge(resp.Header.Get("WWW-Authenticate"))
			if inv, ok := c.opts.Auth.(TokenInvalidator); ok {
				inv.InvalidateToken(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
			}
			continue
		case (resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden) && !cl.auth:
			// A pre-authenticated download URL that no longer works.
			e.Kind = ErrExpiredURL
			return nil, e
		case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable && e.RetryAfter > 0:
			wait := e.RetryAfter
			if wait <= 0 {
				wait = c.backoff(attempt)
			}
			wait = min(wait, cfg.MaxRetryAfter)
			c.pacer.block(cl.key, cl.kind, time.Now().Add(wait))
			if attempt >= cfg.MaxAttempts {
				return nil, e
			}
			c.emit(Event{Kind: EventThrottled, Resource: cl.key, ResourceKind: cl.kind, Status: e.Status, Code: e.Code, Wait: wait, Attempt: attempt})
			// acquire waits for the block to end.
			continue
		case resp.StatusCode == http.StatusInternalServerError, resp.StatusCode == http.StatusBadGateway,
			resp.StatusCode == http.StatusServiceUnavailable, resp.StatusCode == http.StatusGatewayTimeout:
			// (A 429, or a 503 with Retry-After, was refused unprocessed
			// and is repeated above whatever the method.)
			if once {
				e.Uncertain = true
				return nil, e
			}
			if attempt >= cfg.MaxAttempts {
				return nil, e
			}
			wait := c.backoff(attempt)
			c.emit(Event{Kind: EventRetrying, Resource: cl.key, ResourceKind: cl.kind, Status: e.Status, Code: e.Code, Wait: wait, Attempt: attempt})
			if err := sleepCtx(ctx, wait); err != nil {
				return nil, err
			}
			continue
		}
		return nil, e
	}
}

// ErrExpiredURL: a pre-authenticated download URL was refused (it expired
// after about an hour); ask Graph for the item's current downloadUrl.
var ErrExpiredURL = errors.New("the download link expired")

func (c *Client) token(ctx context.Context, u *url.URL, claims string) (string, error) {
	var extra map[string]any
	if claims != "" {
		extra = map[string]any{"claims": claims}
	}
	tok, err := c.opts.Auth.GetAuthorizationToken(ctx, u, extra)
	if err != nil {
		return "", err
	}
	if tok == "" {
		return "", fmt.Errorf("the token provider gave no token for %s (is the Graph host allowed?)", u.Host)
	}
	return tok, nil
}

var claimsRE = regexp.MustCompile(`claims="([^"]*)"`)

func claimsChallenge(h string) string {
	if m := claimsRE.FindStringSubmatch(h); m != nil {
		return m[1]
	}
	return ""
}

// backoff is the wait before retry number attempt: exponential from
// BaseBackoff, capped at MaxBackoff, with jitter in [d/2, d].
func (c *Client) backoff(attempt int) time.Duration {
	cfg := c.pacer.cfg
	d := cfg.BaseBackoff
	for i := 1; i < attempt && d < cfg.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, cfg.MaxBackoff)
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

func sleepCtx(ctx context.Context, d time.Duration) error {
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

func (c *Client) emit(e Event) {
	lvl := slog.LevelInfo
	if e.Kind == EventRetrying {
		lvl = slog.LevelDebug
	}
	c.log.Log(context.Background(), lvl, e.String(), "resource", e.Resource, "status", e.Status, "code", e.Code, "attempt", e.Attempt)
	if c.opts.OnEvent != nil {
		c.opts.OnEvent(e)
	}
}

func (c *Client) logRequest(r *http.Request, status, attempt int, start time.Time) {
	c.log.Debug("graph request", "method", r.Method, "url", redact(r.URL), "status", status, "attempt", attempt, "duration", time.Since(start))
}

// redact is a URL for logs: without its query string, which carries delta
// tokens and, on download URLs, a tempauth credential.
func redact(u *url.URL) string {
	if u == nil {
		return ""
	}
	v := *u
	v.RawQuery, v.ForceQuery, v.User, v.Fragment = "", false, nil, ""
	return v.String()
}

// cleanErr drops the *url.Error wrapper (its message holds the whole URL,
// query string included).
func cleanErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// trackedBody releases a stream's pacer slot once the body is read to the
// end, fails or is closed, and aborts a stream that delivers nothing for
// the stall timeout.
type trackedBody struct {
	rc     io.ReadCloser
	t      *ticket
	cancel context.CancelFunc
	stall  time.Duration
	timer  *time.Timer
	once   sync.Once
}

func newTrackedBody(rc io.ReadCloser, t *ticket, cancel context.CancelFunc, stall time.Duration) *trackedBody {
	b := &trackedBody{rc: rc, t: t, cancel: cancel, stall: stall}
	if stall > 0 {
		b.timer = time.AfterFunc(stall, cancel)
	}
	return b
}

func (b *trackedBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if b.timer != nil && n > 0 {
		b.timer.Reset(b.stall)
	}
	if err != nil {
		b.finish()
	}
	return n, err
}

func (b *trackedBody) Close() error {
	err := b.rc.Close()
	b.finish()
	return err
}

func (b *trackedBody) finish() {
	b.once.Do(func() {
		if b.timer != nil {
			b.timer.Stop()
		}
		b.t.done()
		b.cancel()
	})
}

// onceKey marks a context whose POSTs are sent once (sendOnce).
type onceKey struct{}

// sendOnce returns ctx for requests that must not be repeated blindly: a
// request sent with it that fails in a way the server may have acted on
// returns an *Error with Uncertain set instead of being sent again.
func sendOnce(ctx context.Context) context.Context {
	return context.WithValue(ctx, onceKey{}, true)
}

// unsent says whether a transport error happened before any of the request
// left this computer (no connection could be made), so repeating it is safe.
func unsent(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns)
}
