package auth

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/secret"
)

// memKeychain is an in-memory secret.Keychain for tests that are not about
// the OS keychain.
type memKeychain struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (k *memKeychain) Get(service, account string) ([]byte, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	v, ok := k.m[service+"\x00"+account]
	if !ok {
		return nil, secret.ErrNotFound
	}
	return bytes.Clone(v), nil
}

func (k *memKeychain) Set(service, account string, s []byte) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.m == nil {
		k.m = map[string][]byte{}
	}
	k.m[service+"\x00"+account] = bytes.Clone(s)
	return nil
}

func (k *memKeychain) Delete(service, account string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, ok := k.m[service+"\x00"+account]; !ok {
		return secret.ErrNotFound
	}
	delete(k.m, service+"\x00"+account)
	return nil
}

// requireKeychain fails with instructions when there is no Secret Service
// session: real-keychain tests run under installer/test-session.sh.
func requireKeychain(t *testing.T) {
	t.Helper()
	if runtime.GOOS == "linux" && os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		t.Fatal("no D-Bus session: run the real-keychain tests with `bash installer/test-session.sh go test ./engine/auth/...` (as `make test` does)")
	}
}

// uniqueKeyAccount is a keychain account name of this test alone, so tests
// sharing the test session's keyring do not share a key.
func uniqueKeyAccount(t *testing.T) string {
	t.Helper()
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "test-token-cache-key-" + hex.EncodeToString(b)
}

// config is a Config for srv, as a fresh process would build it from the
// tenant profile: its own HTTP client trusting the profile's CA.
func config(t *testing.T, srv *m365sim.Server, dir string, kc secret.Keychain, keyAccount string) Config {
	t.Helper()
	hc, err := m365sim.ClientTrustingPEM(srv.CACertPEM())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(hc.CloseIdleConnections)
	return Config{ClientID: srv.ClientID(), Authority: srv.Authority(), HTTPClient: hc, Dir: dir, Keychain: kc, KeyAccount: keyAccount}
}

func newManager(t *testing.T, cfg Config) *Manager {
	t.Helper()
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// eventLog records events; approve, when set, is called with the user
// code from another goroutine, as a person on another device would.
type eventLog struct {
	mu      sync.Mutex
	events  []Event
	approve func(userCode string) error
	onEvent func(Event)
	errs    chan error
}

func (l *eventLog) handle(e Event) {
	l.mu.Lock()
	l.events = append(l.events, e)
	l.mu.Unlock()
	if ci, ok := e.(CodeIssued); ok && l.approve != nil {
		go func() {
			if err := l.approve(ci.UserCode); err != nil && l.errs != nil {
				l.errs <- err
			}
		}()
	}
	if l.onEvent != nil {
		l.onEvent(e)
	}
}

func (l *eventLog) kinds() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, e := range l.events {
		out = append(out, typeName(e))
	}
	return out
}

func typeName(e Event) string {
	switch e.(type) {
	case CodeIssued:
		return "CodeIssued"
	case Waiting:
		return "Waiting"
	case SignedIn:
		return "SignedIn"
	case Declined:
		return "Declined"
	case Expired:
		return "Expired"
	case Cancelled:
		return "Cancelled"
	case Failed:
		return "Failed"
	}
	return "?"
}

func (l *eventLog) codeIssued() CodeIssued {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range l.events {
		if ci, ok := e.(CodeIssued); ok {
			return ci
		}
	}
	return CodeIssued{}
}

// signIn runs SignIn with a bounded context and approves as upn (unless
// the server's AutoApprove got there first, which signs in the first user).
func signIn(t *testing.T, m *Manager, srv *m365sim.Server, upn string) (Account, *eventLog) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	l := &eventLog{approve: func(code string) error { return srv.ApproveDeviceCode(code, upn) }, errs: make(chan error, 1)}
	a, err := m.SignIn(ctx, l.handle)
	if err != nil {
		select {
		case aerr := <-l.errs:
			t.Fatalf("SignIn: %v (approve: %v)", err, aerr)
		default:
		}
		t.Fatalf("SignIn: %v (events %v)", err, l.kinds())
	}
	if !strings.EqualFold(a.UPN, upn) {
		t.Fatalf("signed in as %s, want %s", a.UPN, upn)
	}
	return a, l
}

// cacheSecrets decrypts the cache file and returns every token in it.
func cacheSecrets(t *testing.T, m *Manager) []string {
	t.Helper()
	plain, err := m.cache.read()
	if err != nil || plain == nil {
		t.Fatalf("read cache: %v (nil: %v)", err, plain == nil)
	}
	var doc map[string]map[string]map[string]any
	if err := json.Unmarshal(plain, &doc); err != nil {
		t.Fatalf("cache: %v", err)
	}
	var out []string
	for _, section := range doc {
		for _, item := range section {
			if s, ok := item["secret"].(string); ok && s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

// graphMe calls GET /me with the token and returns the UPN it answers.
func graphMe(t *testing.T, srv *m365sim.Server, token string) string {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.GraphURL()+"/me", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := srv.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var me struct {
		UPN string `json:"userPrincipalName"`
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET /me: %d %s", resp.StatusCode, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(&me); err != nil {
		t.Fatal(err)
	}
	return me.UPN
}

// wireRecorder copies the secrets out of the identity provider's answers:
// device codes, user codes and tokens, as they crossed the wire.
type wireRecorder struct {
	next  http.RoundTripper
	mu    sync.Mutex
	seen  []string
	byKey map[string][]string
}

func (w *wireRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := w.next.RoundTrip(r)
	if err != nil || !strings.Contains(r.URL.Path, "oauth2/v2.0/") {
		return resp, err
	}
	body, rerr := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if rerr != nil {
		return resp, nil
	}
	var m map[string]any
	if json.Unmarshal(body, &m) == nil {
		w.mu.Lock()
		for _, k := range []string{"device_code", "user_code", "access_token", "refresh_token", "id_token"} {
			if s, ok := m[k].(string); ok && s != "" {
				w.seen = append(w.seen, s)
				if w.byKey == nil {
					w.byKey = map[string][]string{}
				}
				w.byKey[k] = append(w.byKey[k], s)
			}
		}
		w.mu.Unlock()
	}
	return resp, nil
}

// last returns the last value of a field, e.g. "access_token".
func (w *wireRecorder) last(key string) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	if v := w.byKey[key]; len(v) > 0 {
		return v[len(v)-1]
	}
	return ""
}

func (w *wireRecorder) secrets() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.seen...)
}

// lockedBuffer is a log destination safe for concurrent writers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func debugLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func wantIs(t *testing.T, err error, targets ...error) {
	t.Helper()
	for _, target := range targets {
		if !errors.Is(err, target) {
			t.Errorf("error %q does not match %q", err, target)
		}
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
