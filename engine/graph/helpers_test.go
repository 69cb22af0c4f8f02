package graph

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
)

// fastRetries keeps backoffs short in tests.
var fastRetries = PacerConfig{BaseBackoff: 5 * time.Millisecond, MaxBackoff: 50 * time.Millisecond}

// cachedToken is a token provider that, like MSAL, keeps handing out the
// same access token until it is told otherwise, so the simulator's
// ExpireAccessTokens shows as a 401.
type cachedToken struct {
	srv *m365sim.Server
	upn string
	mu  sync.Mutex
	tok string
}

func (c *cachedToken) token(context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tok == "" {
		tok, _, err := c.srv.IssueAccessToken(c.upn)
		if err != nil {
			return "", err
		}
		c.tok = tok
	}
	return c.tok, nil
}

// recorder remembers which requests carried an Authorization header.
type recorder struct {
	next http.RoundTripper
	mu   sync.Mutex
	auth map[string]int // path prefix class → requests with Authorization
	all  map[string]int
	// first message delta request's query and Prefer header
	deltaQuery, deltaPrefer string
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	class := "graph"
	if strings.HasPrefix(req.URL.Path, "/_download/") {
		class = "download"
	}
	r.mu.Lock()
	if strings.Contains(req.URL.Path, "/messages/delta") && r.deltaQuery == "" {
		r.deltaQuery, r.deltaPrefer = req.URL.RawQuery, req.Header.Get("Prefer")
	}
	r.all[class]++
	if req.Header.Get("Authorization") != "" {
		r.auth[class]++
	}
	r.mu.Unlock()
	return r.next.RoundTrip(req)
}

type eventLog struct {
	mu     sync.Mutex
	events []Event
	notify chan Event
}

func (l *eventLog) add(e Event) {
	l.mu.Lock()
	l.events = append(l.events, e)
	ch := l.notify
	l.mu.Unlock()
	if ch != nil {
		select {
		case ch <- e:
		default:
		}
	}
}

func (l *eventLog) list() []Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Event(nil), l.events...)
}

// newClient returns a Client for upn against srv. mod may change the
// options before New.
func newClient(t testing.TB, srv *m365sim.Server, upn string, mod func(*Options)) (*Client, *recorder, *eventLog) {
	t.Helper()
	rec := &recorder{next: srv.HTTPClient().Transport, auth: map[string]int{}, all: map[string]int{}}
	events := &eventLog{}
	tp := &cachedToken{srv: srv, upn: upn}
	opts := Options{
		GraphURL:    srv.GraphURL(),
		HTTPClient:  &http.Client{Transport: rec},
		Auth:        TokenFunc(tp.token),
		Account:     upn,
		PacerConfig: fastRetries,
		OnEvent:     events.add,
	}
	if mod != nil {
		mod(&opts)
	}
	c, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c, rec, events
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// collectMessages runs a message delta and returns the entries and link.
func collectMessages(t testing.TB, c *Client, user, folder, link string) ([]MessageMeta, string) {
	t.Helper()
	var all []MessageMeta
	next, err := c.MessageDelta(ctxT(t), user, folder, link, func(page []MessageMeta) error {
		all = append(all, page...)
		return nil
	})
	if err != nil {
		t.Fatalf("MessageDelta(%s): %v", folder, err)
	}
	if next == "" {
		t.Fatalf("MessageDelta(%s): empty delta link", folder)
	}
	return all, next
}

func collectDrive(t testing.TB, c *Client, driveID, link string) ([]DriveItem, string) {
	t.Helper()
	var all []DriveItem
	next, err := c.DriveDelta(ctxT(t), driveID, link, func(page []DriveItem) error {
		all = append(all, page...)
		return nil
	})
	if err != nil {
		t.Fatalf("DriveDelta: %v", err)
	}
	if next == "" {
		t.Fatal("DriveDelta: empty delta link")
	}
	return all, next
}

// pattern is deterministic pseudo-random content.
func pattern(n int, seed uint32) []byte {
	b := make([]byte, n)
	x := seed | 1
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
}
