package simtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/cache"
	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/public"

	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
)

// memoryCache is MSAL's cache.ExportReplace over a byte slice, shared by
// clients as a file would be by processes.
type memoryCache struct {
	mu   sync.Mutex
	data []byte
}

func (c *memoryCache) Replace(_ context.Context, u cache.Unmarshaler, _ cache.ReplaceHints) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.data == nil {
		return nil
	}
	return u.Unmarshal(c.data)
}

func (c *memoryCache) Export(_ context.Context, m cache.Marshaler, _ cache.ExportHints) error {
	b, err := m.Marshal()
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.data = b
	return nil
}

// secrets returns every "secret" value in the serialized cache: access,
// refresh and ID tokens.
func (c *memoryCache) secrets(t *testing.T) []string {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	var doc map[string]map[string]map[string]any
	if err := json.Unmarshal(c.data, &doc); err != nil {
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

// lockedBuffer collects log output written from server goroutines.
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

// graphGet calls Graph with a bearer token, as msgraph-sdk-go would.
func graphGet(t *testing.T, srv *m365sim.Server, path, bearer string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), "GET", srv.GraphURL()+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+bearer)
	resp, err := srv.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return resp.StatusCode, m
}

func wantMe(t *testing.T, srv *m365sim.Server, bearer, upn string) {
	t.Helper()
	if status, m := graphGet(t, srv, "/me", bearer); status != 200 || m["userPrincipalName"] != upn {
		t.Fatalf("GET /me: %d %v, want %s", status, m, upn)
	}
}

func homeAccountID(t *testing.T, srv *m365sim.Server, upn string) string {
	t.Helper()
	u, err := srv.Tenant().User(upn)
	if err != nil {
		t.Fatal(err)
	}
	return u.ID + "." + srv.Tenant().ID
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// approveInBrowser does what a person does: open the verification page,
// type the code, pick the user, click "Sign in".
func approveInBrowser(t *testing.T, srv *m365sim.Server, verificationURL, userCode, upn string) {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	b := &http.Client{Transport: srv.HTTPClient().Transport, Jar: jar}
	resp, err := b.Get(verificationURL)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfField.FindSubmatch(page)
	if resp.StatusCode != 200 || m == nil {
		t.Fatalf("GET %s: %d, CSRF field found: %v", verificationURL, resp.StatusCode, m != nil)
	}
	resp, err = b.PostForm(verificationURL, url.Values{"csrf": {string(m[1])}, "code": {userCode}, "user": {upn}, "action": {"signin"}})
	if err != nil {
		t.Fatal(err)
	}
	page, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Contains(page, []byte("You have signed in to Lifeboat on your device. You may now close this window.")) {
		t.Fatalf("POST %s: %d %s", verificationURL, resp.StatusCode, page)
	}
}

type result struct {
	ar  public.AuthResult
	err error
}

func TestMSALDeviceCodeSignIn(t *testing.T) {
	srv := Start(t, nil, m365sim.Options{DeviceCodeInterval: time.Second})
	client := PublicClient(t, srv)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	dc, err := client.AcquireTokenByDeviceCode(ctx, Scopes())
	if err != nil {
		t.Fatal(err)
	}
	if dc.Result.VerificationURL != srv.BaseURL()+"/devicelogin" || !strings.Contains(dc.Result.Message, dc.Result.UserCode) {
		t.Errorf("device code result: %+v", dc.Result)
	}
	if got := srv.PendingDeviceCodes(); len(got) != 1 || got[0] != dc.Result.UserCode {
		t.Fatalf("PendingDeviceCodes = %v", got)
	}
	done := make(chan result, 1)
	go func() {
		ar, err := dc.AuthenticationResult(ctx)
		done <- result{ar, err}
	}()
	// MSAL polls at 50, 200 and 650 ms: the first two find the code pending.
	select {
	case r := <-done:
		t.Fatalf("sign-in finished before approval: %+v %v", r.ar.Account, r.err)
	case <-time.After(300 * time.Millisecond):
	}
	approveInBrowser(t, srv, dc.Result.VerificationURL, dc.Result.UserCode, Alice)
	r := <-done
	if r.err != nil {
		t.Fatalf("sign-in: %v", r.err)
	}
	if r.ar.Account.PreferredUsername != Alice || r.ar.Account.HomeAccountID != homeAccountID(t, srv, Alice) {
		t.Errorf("account = %+v", r.ar.Account)
	}
	if r.ar.IDToken.Name != "Alice Archer" || r.ar.AccessToken == "" || len(r.ar.DeclinedScopes) != 0 {
		t.Errorf("result: %+v", r.ar)
	}
	wantMe(t, srv, r.ar.AccessToken, Alice)
	accounts, err := client.Accounts(ctx)
	if err != nil || len(accounts) != 1 || accounts[0].HomeAccountID != r.ar.Account.HomeAccountID {
		t.Errorf("Accounts = %v, %v", accounts, err)
	}
}

func TestMSALSilentRefreshAndSharedCache(t *testing.T) {
	// MSAL treats an access token within 5 minutes of expiry as expired, so
	// with a 2-minute lifetime every silent call redeems the refresh token.
	srv := Start(t, nil, m365sim.Options{AutoApprove: time.Millisecond, AutoApproveUser: Bob, AccessTokenLifetime: 2 * time.Minute})
	store := &memoryCache{}
	first := PublicClient(t, srv, public.WithCache(store))
	ar := SignIn(t, srv, first, Scopes())
	if ar.Account.PreferredUsername != Bob {
		t.Fatalf("signed in as %q", ar.Account.PreferredUsername)
	}
	refreshes := srv.Requests().Count("oauth2/v2.0/token")

	silent, err := first.AcquireTokenSilent(t.Context(), Scopes(), public.WithSilentAccount(ar.Account))
	if err != nil {
		t.Fatalf("silent: %v", err)
	}
	if silent.AccessToken == ar.AccessToken || silent.Metadata.TokenSource != public.TokenSourceIdentityProvider {
		t.Errorf("silent did not refresh: source %v", silent.Metadata.TokenSource)
	}
	if n := srv.Requests().Count("oauth2/v2.0/token"); n != refreshes+1 {
		t.Errorf("token endpoint calls: %d, want %d", n, refreshes+1)
	}
	wantMe(t, srv, silent.AccessToken, Bob)

	// A second client (another process) reading the same cache.
	second := PublicClient(t, srv, public.WithCache(store))
	accounts, err := second.Accounts(t.Context())
	if err != nil || len(accounts) != 1 {
		t.Fatalf("Accounts = %v, %v", accounts, err)
	}
	other, err := second.AcquireTokenSilent(t.Context(), Scopes(), public.WithSilentAccount(accounts[0]))
	if err != nil {
		t.Fatalf("silent from the shared cache: %v", err)
	}
	if other.Account.HomeAccountID != homeAccountID(t, srv, Bob) {
		t.Errorf("account = %+v", other.Account)
	}
	wantMe(t, srv, other.AccessToken, Bob)
}

func TestMSALCachedTokenAndEarlyExpiry(t *testing.T) {
	srv := Start(t, nil, m365sim.Options{AutoApprove: time.Millisecond})
	client := PublicClient(t, srv)
	ar := SignIn(t, srv, client, Scopes())
	silent, err := client.AcquireTokenSilent(t.Context(), Scopes(), public.WithSilentAccount(ar.Account))
	if err != nil || silent.AccessToken != ar.AccessToken || silent.Metadata.TokenSource != public.TokenSourceCache {
		t.Fatalf("silent with a 1-hour token: %v, source %v", err, silent.Metadata.TokenSource)
	}

	if n := srv.ExpireAccessTokens(Alice); n != 1 {
		t.Errorf("ExpireAccessTokens = %d", n)
	}
	status, m := graphGet(t, srv, "/me", ar.AccessToken)
	e, _ := m["error"].(map[string]any)
	if status != http.StatusUnauthorized || e["code"] != "InvalidAuthenticationToken" {
		t.Fatalf("GET /me with an expired token: %d %v", status, m)
	}
	// MSAL cannot know; the cached token is still what it returns...
	silent, err = client.AcquireTokenSilent(t.Context(), Scopes(), public.WithSilentAccount(ar.Account))
	if err != nil || silent.AccessToken != ar.AccessToken {
		t.Fatalf("silent after early expiry: %v", err)
	}
	// ...unless claims are passed, which makes it skip the cache and refresh.
	claims := fmt.Sprintf(`{"access_token":{"nbf":{"essential":true,"value":"%d"}}}`, time.Now().Unix())
	silent, err = client.AcquireTokenSilent(t.Context(), Scopes(), public.WithSilentAccount(ar.Account), public.WithClaims(claims))
	if err != nil || silent.AccessToken == ar.AccessToken {
		t.Fatalf("silent with claims: %v", err)
	}
	wantMe(t, srv, silent.AccessToken, Alice)
}

func TestMSALPrefixedGraphScopes(t *testing.T) {
	srv := Start(t, nil, m365sim.Options{AutoApprove: time.Millisecond, AccessTokenLifetime: time.Minute})
	client := PublicClient(t, srv)
	scopes := []string{"https://graph.microsoft.com/User.Read", "https://graph.microsoft.com/Files.ReadWrite.All"}
	ar := SignIn(t, srv, client, scopes)
	if _, err := client.AcquireTokenSilent(t.Context(), scopes, public.WithSilentAccount(ar.Account)); err != nil {
		t.Fatalf("silent: %v", err)
	}
	wantMe(t, srv, ar.AccessToken, Alice)
}

func TestMSALSignInAs(t *testing.T) {
	srv := Start(t, nil, m365sim.Options{})
	ar := SignInAs(t, srv, PublicClient(t, srv), Scopes(), Bob)
	if ar.Account.PreferredUsername != Bob {
		t.Errorf("signed in as %q", ar.Account.PreferredUsername)
	}
}

// deviceCodeError starts a sign-in, lets act decide it, and returns MSAL's error.
func deviceCodeError(t *testing.T, srv *m365sim.Server, client public.Client, act func(dc public.DeviceCode)) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	dc, err := client.AcquireTokenByDeviceCode(ctx, Scopes())
	if err != nil {
		return err
	}
	act(dc)
	_, err = dc.AuthenticationResult(ctx)
	if err == nil {
		t.Fatal("sign-in succeeded")
	}
	return err
}

func TestMSALSignInFailures(t *testing.T) {
	t.Run("declined", func(t *testing.T) {
		srv := Start(t, nil, m365sim.Options{})
		err := deviceCodeError(t, srv, PublicClient(t, srv), func(dc public.DeviceCode) {
			if err := srv.DeclineDeviceCode(dc.Result.UserCode); err != nil {
				t.Fatal(err)
			}
		})
		if !strings.Contains(err.Error(), "authorization_declined") {
			t.Errorf("error = %v", err)
		}
	})
	t.Run("expired device code", func(t *testing.T) {
		// expires_in is whole seconds (1 here) and MSAL stops polling at that
		// deadline; the code itself expires after 300 ms, so the first poll,
		// 50 ms after a 400 ms pause, gets expired_token.
		srv := Start(t, nil, m365sim.Options{DeviceCodeLifetime: 300 * time.Millisecond})
		err := deviceCodeError(t, srv, PublicClient(t, srv), func(public.DeviceCode) { time.Sleep(400 * time.Millisecond) })
		if !strings.Contains(err.Error(), "expired_token") {
			t.Errorf("error = %v", err)
		}
	})
	t.Run("wrong client ID", func(t *testing.T) {
		srv := Start(t, nil, m365sim.Options{})
		client, err := public.New("11111111-2222-3333-4444-555555555555", public.WithAuthority(srv.Authority()),
			public.WithInstanceDiscovery(false), public.WithHTTPClient(srv.HTTPClient()))
		if err != nil {
			t.Fatal(err)
		}
		_, err = client.AcquireTokenByDeviceCode(t.Context(), Scopes())
		if err == nil || !strings.Contains(err.Error(), "unauthorized_client") || !strings.Contains(err.Error(), "AADSTS700016") {
			t.Errorf("error = %v", err)
		}
	})
	t.Run("unknown tenant", func(t *testing.T) {
		srv := Start(t, nil, m365sim.Options{})
		client := PublicClient(t, srv, public.WithAuthority(srv.BaseURL()+"/fabrikam.example"))
		_, err := client.AcquireTokenByDeviceCode(t.Context(), Scopes())
		if err == nil || !strings.Contains(err.Error(), "AADSTS90002") {
			t.Errorf("error = %v", err)
		}
	})
	t.Run("tenant by domain", func(t *testing.T) {
		srv := Start(t, nil, m365sim.Options{AutoApprove: time.Millisecond})
		client := PublicClient(t, srv, public.WithAuthority(srv.BaseURL()+"/"+srv.Tenant().Domain))
		ar := SignIn(t, srv, client, Scopes())
		wantMe(t, srv, ar.AccessToken, Alice)
	})
}

func TestMSALRefreshFailures(t *testing.T) {
	for _, tc := range []struct {
		name string
		act  func(t *testing.T, srv *m365sim.Server)
		want []string
	}{
		{"revoked", func(t *testing.T, srv *m365sim.Server) {
			if n := srv.RevokeRefreshTokens(Alice); n != 1 {
				t.Errorf("RevokeRefreshTokens = %d", n)
			}
		}, []string{"invalid_grant", "AADSTS50173"}},
		{"MFA required", func(_ *testing.T, srv *m365sim.Server) { srv.RequireMFA(Alice) }, []string{"invalid_grant", "AADSTS50076"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := Start(t, nil, m365sim.Options{AutoApprove: time.Millisecond, AccessTokenLifetime: time.Minute})
			client := PublicClient(t, srv)
			ar := SignIn(t, srv, client, Scopes())
			tc.act(t, srv)
			_, err := client.AcquireTokenSilent(t.Context(), Scopes(), public.WithSilentAccount(ar.Account))
			if err == nil {
				t.Fatal("silent refresh succeeded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q: %v", w, err)
				}
			}
			// Signing in again works.
			ar = SignIn(t, srv, client, Scopes())
			if _, err := client.AcquireTokenSilent(t.Context(), Scopes(), public.WithSilentAccount(ar.Account)); err != nil {
				t.Errorf("silent after signing in again: %v", err)
			}
		})
	}
}

// TestNoSecretsInServerLog runs a sign-in through the page, a refresh and
// Graph calls with the server logging at debug level, and looks for every
// token and code in the output.
func TestNoSecretsInServerLog(t *testing.T) {
	var logs lockedBuffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv := Start(t, nil, m365sim.Options{Logger: logger, AccessTokenLifetime: 2 * time.Minute})
	store := &memoryCache{}
	client := PublicClient(t, srv, public.WithCache(store))

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	dc, err := client.AcquireTokenByDeviceCode(ctx, Scopes())
	if err != nil {
		t.Fatal(err)
	}
	approveInBrowser(t, srv, dc.Result.VerificationURL, dc.Result.UserCode, Alice)
	ar, err := dc.AuthenticationResult(ctx)
	if err != nil {
		t.Fatal(err)
	}
	secrets := []string{dc.Result.DeviceCode, dc.Result.UserCode, ar.AccessToken, ar.IDToken.RawToken}
	secrets = append(secrets, store.secrets(t)...)
	silent, err := client.AcquireTokenSilent(ctx, Scopes(), public.WithSilentAccount(ar.Account))
	if err != nil {
		t.Fatal(err)
	}
	secrets = append(secrets, silent.AccessToken)
	secrets = append(secrets, store.secrets(t)...)
	wantMe(t, srv, silent.AccessToken, Alice)
	graphGet(t, srv, "/me", "not-a-token")

	out := logs.String()
	if !strings.Contains(out, "oauth2/v2.0/token") || !strings.Contains(out, "/devicelogin") {
		t.Fatalf("the log did not capture the sign-in:\n%s", out)
	}
	if len(secrets) < 8 {
		t.Fatalf("only %d secrets collected", len(secrets))
	}
	for _, s := range secrets {
		if s == "" {
			t.Fatal("empty secret")
		}
		if strings.Contains(out, s) {
			t.Errorf("the server log contains a secret (%d chars)", len(s))
		}
	}
}
