package auth

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	abs "github.com/microsoft/kiota-abstractions-go"
	khttp "github.com/microsoft/kiota-http-go"
	msgraphsdk "github.com/microsoftgraph/msgraph-sdk-go"
	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/zalando/go-keyring"

	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
	"github.com/lifeboat-backup/lifeboat/engine/secret"
)

// TestEndToEndRealKeychain signs in with the real MSAL against the
// simulator, keeps the key in the real Secret Service, then has a second
// manager — a fresh MSAL client that has only the cache file and the
// keychain — get tokens silently, refreshed once the first one expired.
func TestEndToEndRealKeychain(t *testing.T) {
	requireKeychain(t)
	// MSAL treats an access token with less than 5 minutes left as
	// expired, so with a 2-minute lifetime every silent call refreshes.
	srv := simtest.Start(t, nil, m365sim.Options{AccessTokenLifetime: 2 * time.Minute})
	dir := t.TempDir()
	keyAccount := uniqueKeyAccount(t)
	t.Cleanup(func() { _ = keyring.Delete(KeychainService, keyAccount) })

	cfg := config(t, srv, dir, secret.OS{}, keyAccount)
	rec := &wireRecorder{next: cfg.HTTPClient.Transport}
	cfg.HTTPClient = &http.Client{Transport: rec}
	first := newManager(t, cfg)
	a, events := signIn(t, first, srv, simtest.Alice)
	if got := events.kinds(); !slices.Equal(got, []string{"CodeIssued", "Waiting", "SignedIn"}) {
		t.Errorf("events = %v", got)
	}
	ci := events.codeIssued()
	if ci.UserCode == "" || !strings.HasPrefix(ci.VerificationURL, "https://") || time.Until(ci.ExpiresOn) < time.Minute {
		t.Errorf("CodeIssued = %+v", ci)
	}
	if a.UPN != simtest.Alice || a.Name != "Alice Archer" || a.HomeAccountID == "" {
		t.Errorf("account = %+v", a)
	}

	// The key is in the Secret Service, readable through go-keyring itself.
	raw, err := keyring.Get(KeychainService, keyAccount)
	if err != nil {
		t.Fatalf("the key is not in the keyring: %v", err)
	}
	if key, err := base64.StdEncoding.DecodeString(raw); err != nil || len(key) != keySize {
		t.Fatalf("keyring entry: %d bytes, %v", len(key), err)
	}

	// The file holds no token in readable form. (MSAL does not keep an
	// access token that is about to expire, so the tokens are taken from
	// the wire as well as from the decrypted cache.)
	firstAT := rec.last("access_token")
	secrets := append(rec.secrets(), cacheSecrets(t, first)...)
	if firstAT == "" || rec.last("refresh_token") == "" || len(secrets) < 6 {
		t.Fatalf("only %d secrets recorded", len(secrets))
	}
	fileHasNoSecrets(t, first.CachePath(), secrets)
	if fi, err := os.Stat(first.CachePath()); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("cache file mode: %v, %v", fi, err)
	}

	// A second process: nothing shared but the folder and the keychain.
	tokenCalls := srv.Requests().Count("oauth2/v2.0/token")
	second := newManager(t, config(t, srv, dir, secret.OS{}, keyAccount))
	accounts, err := second.Accounts(t.Context())
	if err != nil || len(accounts) != 1 || accounts[0].HomeAccountID != a.HomeAccountID {
		t.Fatalf("Accounts = %+v, %v", accounts, err)
	}
	tok, err := second.Token(t.Context(), a.HomeAccountID)
	if err != nil {
		t.Fatalf("silent token in the second process: %v", err)
	}
	if tok.FromCache || tok.AccessToken == firstAT || tok.AccessToken == "" {
		t.Errorf("the expired token was not refreshed (from cache %v, same %v)", tok.FromCache, tok.AccessToken == firstAT)
	}
	if n := srv.Requests().Count("oauth2/v2.0/token"); n != tokenCalls+1 {
		t.Errorf("token endpoint calls %d, want %d", n, tokenCalls+1)
	}
	if upn := graphMe(t, srv, tok.AccessToken); upn != simtest.Alice {
		t.Errorf("/me = %q", upn)
	}
	if !slices.ContainsFunc(tok.Scopes, func(s string) bool { return strings.EqualFold(s, "Mail.ReadWrite") }) {
		t.Errorf("scopes = %v", tok.Scopes)
	}
	// The rotated refresh token went back into the file, still encrypted.
	secrets2 := cacheSecrets(t, second)
	if !slices.ContainsFunc(secrets2, func(s string) bool { return !slices.Contains(secrets, s) }) {
		t.Error("the refreshed tokens were not saved")
	}
	fileHasNoSecrets(t, second.CachePath(), append(append(secrets, secrets2...), tok.AccessToken))

	// And again, by UPN, through the token source.
	ts, err := second.TokenSource(simtest.Alice)
	if err != nil {
		t.Fatal(err)
	}
	tok2, err := ts.Token(t.Context())
	if err != nil || tok2.AccessToken == tok.AccessToken {
		t.Fatalf("second refresh: %v", err)
	}
	if upn := graphMe(t, srv, tok2.AccessToken); upn != simtest.Alice {
		t.Errorf("/me = %q", upn)
	}
	if s := tok2.String(); strings.Contains(s, tok2.AccessToken) {
		t.Error("Token.String shows the token")
	}
}

func fileHasNoSecrets(t *testing.T, path string, secrets []string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range secrets {
		if s == "" {
			t.Fatal("empty secret")
		}
		if bytes.Contains(b, []byte(s)) {
			t.Errorf("the cache file contains a token (%d chars) in readable form", len(s))
		}
		if len(s) > 24 && bytes.Contains(b, []byte(s[:24])) {
			t.Errorf("the cache file contains the start of a token")
		}
	}
	if bytes.Contains(b, []byte("refresh_token")) || bytes.Contains(b, []byte("AccessToken")) || bytes.Contains(b, []byte(simtest.Alice)) {
		t.Error("the cache file is readable")
	}
}

// TestNoSecretsInLogs runs a full sign-in and refresh with debug logging
// and looks for every code and token that crossed the wire in the output.
func TestNoSecretsInLogs(t *testing.T) {
	srv := simtest.Start(t, nil, m365sim.Options{AccessTokenLifetime: 2 * time.Minute})
	var logs lockedBuffer
	rec := &wireRecorder{}
	cfg := config(t, srv, t.TempDir(), &memKeychain{}, "")
	rec.next = cfg.HTTPClient.Transport
	cfg.HTTPClient = &http.Client{Transport: rec}
	cfg.Logger = debugLogger(&logs)
	m := newManager(t, cfg)
	a, events := signIn(t, m, srv, simtest.Alice)
	slog := debugLogger(&logs)
	for _, e := range events.events { // a caller logging the events
		slog.Info("event", "e", e)
	}
	tok, err := m.Token(t.Context(), a.UPN)
	if err != nil {
		t.Fatal(err)
	}
	slog.Info("token", "t", tok)
	srv.RevokeRefreshTokens(simtest.Alice)
	if _, err := m.Token(t.Context(), a.UPN); !errors.Is(err, ErrSignInRequired) {
		t.Fatalf("after revoke: %v", err)
	} else {
		slog.Info("refresh failed", "err", err)
	}

	secrets := append(rec.secrets(), events.codeIssued().UserCode, tok.AccessToken)
	secrets = append(secrets, cacheSecrets(t, m)...)
	if len(secrets) < 8 { // device code, user code, 2×(access, refresh, ID)
		t.Fatalf("only %d secrets recorded: the recorder missed the sign-in", len(secrets))
	}
	out := logs.String()
	for _, want := range []string{"sign-in code issued", "signed in", "auth: token", "no longer works"} {
		if !strings.Contains(out, want) {
			t.Errorf("the log lacks %q:\n%s", want, out)
		}
	}
	for _, s := range secrets {
		if s == "" {
			t.Fatal("empty secret")
		}
		if strings.Contains(out, s) {
			t.Errorf("the log contains a secret (%d chars)", len(s))
		}
	}
}

func TestSignInDeclined(t *testing.T) {
	srv := simtest.Start(t, nil, m365sim.Options{})
	m := newManager(t, config(t, srv, t.TempDir(), &memKeychain{}, ""))
	l := &eventLog{approve: srv.DeclineDeviceCode}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	_, err := m.SignIn(ctx, l.handle)
	wantIs(t, err, ErrDeclined)
	if err != nil && err.Error() != ErrDeclined.Error() {
		t.Errorf("message %q", err)
	}
	if got := l.kinds(); !slices.Equal(got, []string{"CodeIssued", "Waiting", "Declined"}) {
		t.Errorf("events = %v", got)
	}
	if _, err := os.Stat(m.CachePath()); err == nil {
		t.Error("a declined sign-in wrote a cache")
	}
}

func TestSignInCodeExpired(t *testing.T) {
	// expires_in is whole seconds (1 here) and MSAL stops polling then;
	// the code itself expires after 300 ms.
	srv := simtest.Start(t, nil, m365sim.Options{DeviceCodeLifetime: 300 * time.Millisecond})
	m := newManager(t, config(t, srv, t.TempDir(), &memKeychain{}, ""))
	l := &eventLog{}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	_, err := m.SignIn(ctx, l.handle)
	wantIs(t, err, ErrCodeExpired)
	if got := l.kinds(); !slices.Equal(got, []string{"CodeIssued", "Waiting", "Expired"}) {
		t.Errorf("events = %v", got)
	}
}

func TestSignInCancelled(t *testing.T) {
	srv := simtest.Start(t, nil, m365sim.Options{})
	m := newManager(t, config(t, srv, t.TempDir(), &memKeychain{}, ""))
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	l := &eventLog{onEvent: func(e Event) {
		if _, ok := e.(Waiting); ok {
			cancel()
		}
	}}
	start := time.Now()
	_, err := m.SignIn(ctx, l.handle)
	wantIs(t, err, ErrCancelled, context.Canceled)
	if got := l.kinds(); !slices.Equal(got, []string{"CodeIssued", "Waiting", "Cancelled"}) {
		t.Errorf("events = %v", got)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("cancelling took %v", d)
	}
}

func TestRefreshFailuresNeedSignIn(t *testing.T) {
	for _, tc := range []struct {
		name   string
		act    func(srv *m365sim.Server)
		reason string
	}{
		{"revoked", func(srv *m365sim.Server) { srv.RevokeRefreshTokens(simtest.Alice) }, "password was changed or your sign-in was revoked"},
		{"MFA required", func(srv *m365sim.Server) { srv.RequireMFA(simtest.Alice) }, "multi-factor"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := simtest.Start(t, nil, m365sim.Options{AutoApprove: time.Millisecond, AccessTokenLifetime: time.Minute})
			m := newManager(t, config(t, srv, t.TempDir(), &memKeychain{}, ""))
			a, _ := signIn(t, m, srv, simtest.Alice)
			tc.act(srv)
			_, err := m.Token(t.Context(), a.HomeAccountID)
			wantIs(t, err, ErrSignInRequired)
			var sre *SignInRequiredError
			if !errors.As(err, &sre) || !strings.Contains(sre.Reason, tc.reason) {
				t.Errorf("error %v: want reason %q", err, tc.reason)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "Lifeboat needs you to sign in again") {
				t.Errorf("message %q", err)
			}
			// The azcore and kiota adapters say the same.
			ts, terr := m.TokenSource(a.UPN)
			if terr != nil {
				t.Fatal(terr)
			}
			_, err = ts.GetToken(t.Context(), policy.TokenRequestOptions{})
			wantIs(t, err, ErrSignInRequired)
			// Signing in again fixes it.
			signIn(t, m, srv, simtest.Alice)
			if _, err := m.Token(t.Context(), a.HomeAccountID); err != nil {
				t.Errorf("after signing in again: %v", err)
			}
		})
	}
}

func TestNetworkErrorsStayNetworkErrors(t *testing.T) {
	srv := simtest.Start(t, nil, m365sim.Options{AutoApprove: time.Millisecond, AccessTokenLifetime: time.Minute})
	m := newManager(t, config(t, srv, t.TempDir(), &memKeychain{}, ""))
	a, _ := signIn(t, m, srv, simtest.Alice)
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	_, err := m.Token(ctx, a.UPN)
	if err == nil || errors.Is(err, ErrSignInRequired) {
		t.Fatalf("with the identity provider gone: %v", err)
	}
	var ne net.Error
	if !errors.As(err, &ne) {
		t.Errorf("not a network error: %v", err)
	}
}

func TestKeychainUnavailable(t *testing.T) {
	srv := simtest.Start(t, nil, m365sim.Options{AutoApprove: time.Millisecond})
	dir := t.TempDir()
	m := newManager(t, config(t, srv, dir, secret.Failing{}, ""))
	l := &eventLog{}
	_, err := m.SignIn(t.Context(), l.handle)
	wantIs(t, err, secret.ErrUnavailable)
	if err == nil || !strings.Contains(err.Error(), "--secret-store file") {
		t.Errorf("message does not say how to fix it: %v", err)
	}
	if got := l.kinds(); !slices.Equal(got, []string{"Failed"}) {
		t.Errorf("events = %v", got)
	}
	if n := srv.Requests().Count("devicecode"); n != 0 {
		t.Errorf("asked for a code (%d) though the sign-in could not be saved", n)
	}

	// An existing cache with the keychain gone: unavailable, not "damaged".
	kc := &memKeychain{}
	good := newManager(t, config(t, srv, dir, kc, ""))
	signIn(t, good, srv, simtest.Alice)
	broken := newManager(t, config(t, srv, dir, secret.Failing{}, ""))
	_, err = broken.Accounts(t.Context())
	wantIs(t, err, secret.ErrUnavailable)
	if errors.Is(err, ErrCacheDamaged) {
		t.Errorf("an unavailable keychain reported as damage: %v", err)
	}
	_, err = broken.Token(t.Context(), simtest.Alice)
	wantIs(t, err, secret.ErrUnavailable)
}

func TestFileSecretStore(t *testing.T) {
	srv := simtest.Start(t, nil, m365sim.Options{AutoApprove: time.Millisecond})
	dir := t.TempDir()
	store := secret.File{Dir: dir}
	m := newManager(t, config(t, srv, dir, store, ""))
	a, _ := signIn(t, m, srv, simtest.Alice)
	fi, err := os.Stat(store.Path(KeychainService, DefaultKeyAccount))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v, %v", fi, err)
	}
	m2 := newManager(t, config(t, srv, dir, store, ""))
	if _, err := m2.Token(t.Context(), a.UPN); err != nil {
		t.Fatal(err)
	}
	if _, err := m2.SignOut(t.Context(), a.UPN); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(store.Path(KeychainService, DefaultKeyAccount)); !os.IsNotExist(err) {
		t.Errorf("key file left after the last sign-out: %v", err)
	}
}

func TestDamagedCache(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, m *Manager, kc *memKeychain)
	}{
		{"flipped byte", func(t *testing.T, m *Manager, _ *memKeychain) {
			b, err := os.ReadFile(m.CachePath())
			if err != nil {
				t.Fatal(err)
			}
			b[len(b)/2] ^= 0x40
			writeFile(t, m.CachePath(), b)
		}},
		{"truncated", func(t *testing.T, m *Manager, _ *memKeychain) {
			b, _ := os.ReadFile(m.CachePath())
			writeFile(t, m.CachePath(), b[:len(b)-20])
		}},
		{"garbage", func(t *testing.T, m *Manager, _ *memKeychain) {
			writeFile(t, m.CachePath(), []byte(`{"AccessToken":{}}`))
		}},
		{"empty", func(t *testing.T, m *Manager, _ *memKeychain) { writeFile(t, m.CachePath(), nil) }},
		{"unknown version", func(t *testing.T, m *Manager, _ *memKeychain) {
			b, _ := os.ReadFile(m.CachePath())
			b[len(cacheMagic)] = 9
			writeFile(t, m.CachePath(), b)
		}},
		{"key missing", func(t *testing.T, _ *Manager, kc *memKeychain) {
			if err := kc.Delete(KeychainService, DefaultKeyAccount); err != nil {
				t.Fatal(err)
			}
		}},
		{"other key", func(t *testing.T, _ *Manager, kc *memKeychain) {
			if err := kc.Set(KeychainService, DefaultKeyAccount, bytes.Repeat([]byte{1}, keySize)); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := simtest.Start(t, nil, m365sim.Options{AutoApprove: time.Millisecond})
			kc := &memKeychain{}
			cfg := config(t, srv, t.TempDir(), kc, "")
			signIn(t, newManager(t, cfg), srv, simtest.Alice)
			m := newManager(t, cfg) // a later run: nothing in memory
			tc.damage(t, m, kc)

			_, err := m.Accounts(t.Context())
			wantIs(t, err, ErrCacheDamaged, ErrSignInRequired)
			if err == nil || !strings.Contains(err.Error(), "damaged") || !strings.Contains(err.Error(), "sign in again") {
				t.Errorf("message: %v", err)
			}
			_, err = m.Token(t.Context(), simtest.Alice)
			wantIs(t, err, ErrCacheDamaged, ErrSignInRequired)

			// Signing in again replaces the damaged file.
			a, _ := signIn(t, m, srv, simtest.Alice)
			if _, err := m.Token(t.Context(), a.HomeAccountID); err != nil {
				t.Fatalf("after signing in again: %v", err)
			}
			if accounts, err := newManager(t, cfg).Accounts(t.Context()); err != nil || len(accounts) != 1 {
				t.Errorf("Accounts = %v, %v", accounts, err)
			}
		})
	}
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestCacheBoundToItsPath: a cache file copied to another folder does not
// open there, even with the right key.
func TestCacheBoundToItsPath(t *testing.T) {
	srv := simtest.Start(t, nil, m365sim.Options{AutoApprove: time.Millisecond})
	kc := &memKeychain{}
	cfg := config(t, srv, t.TempDir(), kc, "")
	m := newManager(t, cfg)
	signIn(t, m, srv, simtest.Alice)
	b, err := os.ReadFile(m.CachePath())
	if err != nil {
		t.Fatal(err)
	}
	cfg.Dir = t.TempDir()
	writeFile(t, filepath.Join(cfg.Dir, CacheFileName), b)
	_, err = newManager(t, cfg).Accounts(t.Context())
	wantIs(t, err, ErrCacheDamaged)
}

func TestTwoAccounts(t *testing.T) {
	srv := simtest.Start(t, nil, m365sim.Options{})
	kc := &memKeychain{}
	cfg := config(t, srv, t.TempDir(), kc, "")
	m := newManager(t, cfg)
	alice, _ := signIn(t, m, srv, simtest.Alice)
	bob, _ := signIn(t, m, srv, simtest.Bob)
	if alice.HomeAccountID == bob.HomeAccountID {
		t.Fatal("same home account ID")
	}
	other := newManager(t, cfg)
	accounts, err := other.Accounts(t.Context())
	if err != nil || len(accounts) != 2 || accounts[0].UPN != simtest.Alice || accounts[1].UPN != simtest.Bob {
		t.Fatalf("Accounts = %+v, %v", accounts, err)
	}
	if accounts[0].Name != "Alice Archer" || accounts[1].Name != "Bob Baker" || accounts[0].HomeAccountID != alice.HomeAccountID {
		t.Errorf("Accounts = %+v", accounts)
	}
	for _, id := range []string{alice.HomeAccountID, "ALICE@contoso.test", bob.HomeAccountID, simtest.Bob} {
		tok, err := other.Token(t.Context(), id)
		if err != nil {
			t.Fatalf("Token(%s): %v", id, err)
		}
		want := simtest.Alice
		if strings.Contains(strings.ToLower(id), "bob") || id == bob.HomeAccountID {
			want = simtest.Bob
		}
		if got := graphMe(t, srv, tok.AccessToken); got != want || tok.Account.UPN != want {
			t.Errorf("Token(%s) is for %s / %s", id, got, tok.Account.UPN)
		}
		if !tok.FromCache {
			t.Errorf("Token(%s) with a 1-hour token went to the network", id)
		}
	}

	aliceSource, err := m.TokenSource(simtest.Alice)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := aliceSource.Token(t.Context()); err != nil {
		t.Fatal(err)
	}

	left, err := other.SignOut(t.Context(), simtest.Alice)
	if err != nil || len(left) != 1 || left[0].UPN != simtest.Bob {
		t.Fatalf("SignOut(alice) left %+v, %v", left, err)
	}
	if _, err := m.Token(t.Context(), alice.HomeAccountID); !errors.Is(err, ErrSignInRequired) {
		t.Errorf("Alice after sign-out: %v", err)
	}
	if _, err := aliceSource.Token(t.Context()); !errors.Is(err, ErrSignInRequired) {
		t.Errorf("Alice's token source after sign-out: %v", err)
	}
	if _, err := m.Token(t.Context(), bob.HomeAccountID); err != nil {
		t.Errorf("Bob after Alice's sign-out: %v", err)
	}
	if _, err := kc.Get(KeychainService, DefaultKeyAccount); err != nil {
		t.Errorf("the key went with one account of two: %v", err)
	}
	if _, err := m.SignOut(t.Context(), simtest.Alice); !errors.Is(err, ErrSignInRequired) {
		t.Errorf("signing out twice: %v", err)
	}
	left, err = m.SignOut(t.Context(), bob.HomeAccountID)
	if err != nil || len(left) != 0 {
		t.Fatalf("SignOut(bob) left %+v, %v", left, err)
	}
	if _, err := os.Stat(m.CachePath()); !os.IsNotExist(err) {
		t.Errorf("cache file after the last sign-out: %v", err)
	}
	if _, err := kc.Get(KeychainService, DefaultKeyAccount); !errors.Is(err, secret.ErrNotFound) {
		t.Errorf("key after the last sign-out: %v", err)
	}
	if accounts, err := m.Accounts(t.Context()); err != nil || len(accounts) != 0 {
		t.Errorf("Accounts after the last sign-out = %v, %v", accounts, err)
	}
}

func TestKiotaAndAzcoreAdapters(t *testing.T) {
	srv := simtest.Start(t, nil, m365sim.Options{AutoApprove: time.Millisecond})
	m := newManager(t, config(t, srv, t.TempDir(), &memKeychain{}, ""))
	a, _ := signIn(t, m, srv, simtest.Alice)
	ts, err := m.TokenSource(a.HomeAccountID, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.TokenSource(a.UPN, "https://graph.microsoft.com"); err == nil {
		t.Error("a host with a scheme accepted")
	}

	at, err := ts.GetToken(t.Context(), policy.TokenRequestOptions{Scopes: []string{"https://graph.microsoft.com/.default"}})
	if err != nil || time.Until(at.ExpiresOn) < 30*time.Minute {
		t.Fatalf("GetToken: %v, expires %v", err, at.ExpiresOn)
	}
	if graphMe(t, srv, at.Token) != simtest.Alice {
		t.Error("azcore token does not work")
	}

	provider := ts.AuthenticationProvider()
	req := abs.NewRequestInformation()
	req.SetUri(*mustURL(t, srv.GraphURL()+"/me"))
	if err := provider.AuthenticateRequest(t.Context(), req, nil); err != nil {
		t.Fatal(err)
	}
	if h := req.Headers.Get("Authorization"); len(h) != 1 || h[0] != "Bearer "+at.Token {
		t.Errorf("Authorization header not set to the token (%d values)", len(h))
	}
	// Another host (a download URL) gets no token.
	other := abs.NewRequestInformation()
	other.SetUri(*mustURL(t, "https://files.example.com/x"))
	if err := provider.AuthenticateRequest(t.Context(), other, nil); err != nil {
		t.Fatal(err)
	}
	if other.Headers.ContainsKey("Authorization") {
		t.Error("a token was sent to another host")
	}
	// A claims challenge makes MSAL refresh.
	claims := base64.StdEncoding.EncodeToString([]byte(`{"access_token":{"nbf":{"essential":true,"value":"1"}}}`))
	refreshed, err := ts.GetAuthorizationToken(t.Context(), mustURL(t, srv.GraphURL()+"/me"), map[string]any{"claims": claims})
	if err != nil || refreshed == at.Token || refreshed == "" {
		t.Errorf("claims challenge did not refresh: %v", err)
	}
	if _, err := ts.GetAuthorizationToken(t.Context(), mustURL(t, "http://127.0.0.1/x"), nil); err == nil {
		t.Error("a token for plain http")
	}
}

func TestSignInRequiredReasons(t *testing.T) {
	for _, tc := range []struct {
		msg    string
		reason string
		ok     bool
	}{
		{`http call(x)(POST) error: reply status code was 400:` + "\n" + `{"error":"invalid_grant","error_codes":[50173],"suberror":"bad_token"}`, "password", true},
		{`...` + "\n" + `{"error":"invalid_grant","error_codes":[50076],"suberror":"basic_action"}`, "multi-factor", true},
		{`...` + "\n" + `{"error":"invalid_grant","error_codes":[65001],"suberror":"consent_required"}`, "withdrawn", true},
		{`...` + "\n" + `{"error":"interaction_required","error_codes":[50079]}`, "multi-factor", true},
		{`...` + "\n" + `{"error":"invalid_grant","error_codes":[700082]}`, "unused", true},
		{`...` + "\n" + `{"error":"invalid_grant","error_codes":[1]}`, "no longer accepts", true},
		{"no token found", "no saved sign-in", true},
		{`...` + "\n" + `{"error":"temporarily_unavailable","error_codes":[50000]}`, "", false},
		{"dial tcp 127.0.0.1:1: connect: connection refused", "", false},
	} {
		reason, ok := signInRequiredReason(errors.New(tc.msg))
		if ok != tc.ok || !strings.Contains(reason, tc.reason) {
			t.Errorf("%q: %q, %v", tc.msg, reason, ok)
		}
	}
}

func TestConfigChecks(t *testing.T) {
	if _, err := New(Config{}); err == nil {
		t.Error("no client ID accepted")
	}
	if _, err := New(Config{ClientID: "x", Authority: "http://login.example.com/organizations"}); err == nil {
		t.Error("http authority accepted")
	}
	m, err := New(Config{ClientID: "x", Dir: t.TempDir(), Keychain: &memKeychain{}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(m.Scopes(), Scopes()) || slices.Contains(m.Scopes(), "offline_access") {
		t.Errorf("scopes %v", m.Scopes())
	}
	if !microsoftHost("login.microsoftonline.com") || microsoftHost("127.0.0.1") {
		t.Error("microsoftHost")
	}
}

// TestGraphSDKWithTokenSource: the real msgraph-sdk-go, authenticated by a
// TokenSource, reads /me.
func TestGraphSDKWithTokenSource(t *testing.T) {
	srv := simtest.Start(t, nil, m365sim.Options{})
	m := newManager(t, config(t, srv, t.TempDir(), &memKeychain{}, ""))
	signIn(t, m, srv, simtest.Bob)
	ts, err := m.TokenSource(simtest.Bob, mustURL(t, srv.GraphURL()).Hostname())
	if err != nil {
		t.Fatal(err)
	}
	opts := msgraphsdk.GetDefaultClientOptions()
	hc := &http.Client{Transport: khttp.NewCustomTransportWithParentTransport(srv.HTTPClient().Transport, msgraphcore.GetDefaultMiddlewaresWithOptions(&opts)...)}
	adapter, err := msgraphsdk.NewGraphRequestAdapterWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient(ts.AuthenticationProvider(), nil, nil, hc)
	if err != nil {
		t.Fatal(err)
	}
	adapter.SetBaseUrl(srv.GraphURL())
	me, err := msgraphsdk.NewGraphServiceClient(adapter).Me().Get(t.Context(), nil)
	if err != nil {
		t.Fatalf("GET /me through msgraph-sdk-go: %v", err)
	}
	if upn := me.GetUserPrincipalName(); upn == nil || *upn != simtest.Bob {
		t.Errorf("/me = %v", upn)
	}
}
