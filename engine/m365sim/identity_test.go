package m365sim_test

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
)

const graphScopes = "User.Read Mail.ReadWrite Files.ReadWrite.All openid profile offline_access"

// call sends a request and decodes a JSON answer (nil for other bodies).
func call(t *testing.T, c *http.Client, method, u string, form url.Values, header http.Header) (int, map[string]any, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(t.Context(), method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("%s %s: bad JSON %q: %v", method, u, raw, err)
		}
	}
	return resp.StatusCode, m, string(raw)
}

// requestDeviceCode starts a device code flow the way MSAL does.
func requestDeviceCode(t *testing.T, srv *m365sim.Server, scope string) map[string]any {
	t.Helper()
	status, m, raw := call(t, srv.HTTPClient(), "POST", srv.Authority()+"/oauth2/v2.0/devicecode",
		url.Values{"client_id": {srv.ClientID()}, "scope": {scope}}, nil)
	if status != http.StatusOK {
		t.Fatalf("devicecode: %d %s", status, raw)
	}
	return m
}

func token(t *testing.T, srv *m365sim.Server, form url.Values) (int, map[string]any) {
	t.Helper()
	if form.Get("client_id") == "" {
		form.Set("client_id", srv.ClientID())
	}
	form.Set("client_info", "1")
	status, m, _ := call(t, srv.HTTPClient(), "POST", srv.Authority()+"/oauth2/v2.0/token", form, nil)
	return status, m
}

func redeem(t *testing.T, srv *m365sim.Server, device string) (int, map[string]any) {
	t.Helper()
	return token(t, srv, url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "device_code": {device}})
}

// signInRaw runs the device code flow over plain HTTP and returns the token response.
func signInRaw(t *testing.T, srv *m365sim.Server, scope, upn string) map[string]any {
	t.Helper()
	dc := requestDeviceCode(t, srv, scope)
	if err := srv.ApproveDeviceCode(dc["user_code"].(string), upn); err != nil {
		t.Fatal(err)
	}
	status, m := redeem(t, srv, dc["device_code"].(string))
	if status != http.StatusOK {
		t.Fatalf("redeem: %d %v", status, m)
	}
	return m
}

// wantOAuthError checks the identity platform's error body.
func wantOAuthError(t *testing.T, status int, m map[string]any, wantStatus int, wantErr string, wantCode int) {
	t.Helper()
	if status != wantStatus || m["error"] != wantErr {
		t.Fatalf("got %d %v, want %d %s", status, m, wantStatus, wantErr)
	}
	desc, _ := m["error_description"].(string)
	if !strings.HasPrefix(desc, "AADSTS"+itoa(wantCode)+": ") || !strings.Contains(desc, "Trace ID: ") || !strings.Contains(desc, "Correlation ID: ") {
		t.Errorf("error_description = %q", desc)
	}
	codes, _ := m["error_codes"].([]any)
	if len(codes) != 1 || codes[0] != float64(wantCode) {
		t.Errorf("error_codes = %v, want [%d]", m["error_codes"], wantCode)
	}
	for _, k := range []string{"timestamp", "trace_id", "correlation_id", "error_uri"} {
		if s, _ := m[k].(string); s == "" {
			t.Errorf("%s missing in %v", k, m)
		}
	}
}

func itoa(n int) string { return big.NewInt(int64(n)).String() }

func TestOpenIDConfiguration(t *testing.T) {
	srv := simtest.Start(t, nil, m365sim.Options{})
	tn := srv.Tenant()
	base := srv.BaseURL()
	for _, tc := range []struct {
		seg, endpointSeg, issuer string
	}{
		{"organizations", "organizations", base + "/{tenantid}/v2.0"},
		{"common", "common", base + "/{tenantid}/v2.0"},
		{tn.ID, tn.ID, base + "/" + tn.ID + "/v2.0"},
		{strings.ToUpper(tn.Domain), tn.ID, base + "/" + tn.ID + "/v2.0"},
	} {
		t.Run(tc.seg, func(t *testing.T) {
			status, m, raw := call(t, srv.HTTPClient(), "GET", base+"/"+tc.seg+"/v2.0/.well-known/openid-configuration", nil, nil)
			if status != http.StatusOK {
				t.Fatalf("%d %s", status, raw)
			}
			want := map[string]string{
				"issuer":                        tc.issuer,
				"token_endpoint":                base + "/" + tc.endpointSeg + "/oauth2/v2.0/token",
				"device_authorization_endpoint": base + "/" + tc.endpointSeg + "/oauth2/v2.0/devicecode",
				"authorization_endpoint":        base + "/" + tc.endpointSeg + "/oauth2/v2.0/authorize",
				"jwks_uri":                      base + "/" + tc.endpointSeg + "/discovery/v2.0/keys",
				"cloud_instance_name":           "microsoftonline.com",
			}
			for k, v := range want {
				if m[k] != v {
					t.Errorf("%s = %v, want %s", k, m[k], v)
				}
			}
			for _, k := range []string{"response_types_supported", "scopes_supported", "subject_types_supported",
				"id_token_signing_alg_values_supported", "token_endpoint_auth_methods_supported", "claims_supported"} {
				if l, _ := m[k].([]any); len(l) == 0 {
					t.Errorf("%s missing", k)
				}
			}
			if _, ok := m["tenant_region_scope"]; !ok {
				t.Error("tenant_region_scope missing")
			}
			if m["msgraph_host"] != strings.TrimPrefix(base, "https://") {
				t.Errorf("msgraph_host = %v", m["msgraph_host"])
			}
		})
	}
	t.Run("unknown tenant", func(t *testing.T) {
		status, m, _ := call(t, srv.HTTPClient(), "GET", base+"/fabrikam.example/v2.0/.well-known/openid-configuration", nil, nil)
		wantOAuthError(t, status, m, http.StatusBadRequest, "invalid_tenant", 90002)
		if !strings.Contains(m["error_description"].(string), "Tenant 'fabrikam.example' not found") {
			t.Errorf("description: %v", m["error_description"])
		}
	})
}

// TestIDTokenAndTokenResponse checks the token response of a device code
// sign-in over plain HTTP: scope, client_info and an ID token signed with
// the published key.
func TestIDTokenAndTokenResponse(t *testing.T) {
	srv := simtest.Start(t, nil, m365sim.Options{})
	alice, err := srv.Tenant().User(simtest.Alice)
	if err != nil {
		t.Fatal(err)
	}
	tid := srv.Tenant().ID
	m := signInRaw(t, srv, "user.read https://graph.microsoft.com/mail.readwrite openid profile offline_access", simtest.Alice)

	if m["token_type"] != "Bearer" {
		t.Errorf("token_type = %v", m["token_type"])
	}
	// Scopes come back in Microsoft's spelling and in the form asked for;
	// offline_access is never listed.
	if got, want := m["scope"], "User.Read https://graph.microsoft.com/Mail.ReadWrite profile openid email"; got != want {
		t.Errorf("scope = %q, want %q", got, want)
	}
	if ei, _ := m["expires_in"].(float64); ei < 3500 || ei > 3600 || m["ext_expires_in"] == nil {
		t.Errorf("expires_in = %v, ext_expires_in = %v", m["expires_in"], m["ext_expires_in"])
	}
	for _, k := range []string{"access_token", "refresh_token", "id_token", "client_info"} {
		if s, _ := m[k].(string); s == "" {
			t.Fatalf("%s missing", k)
		}
	}
	ci, err := base64.RawURLEncoding.DecodeString(m["client_info"].(string))
	if err != nil {
		t.Fatalf("client_info is not unpadded base64url: %v", err)
	}
	var info map[string]string
	if err := json.Unmarshal(ci, &info); err != nil || info["uid"] != alice.ID || info["utid"] != tid {
		t.Errorf("client_info = %s (%v)", ci, err)
	}

	// The ID token verifies against the JWKS.
	_, jwks, _ := call(t, srv.HTTPClient(), "GET", srv.Authority()+"/discovery/v2.0/keys", nil, nil)
	parts := strings.Split(m["id_token"].(string), ".")
	if len(parts) != 3 {
		t.Fatalf("id_token has %d parts", len(parts))
	}
	var hdr map[string]string
	decodeSegment(t, parts[0], &hdr)
	if hdr["alg"] != "RS256" || hdr["typ"] != "JWT" || hdr["kid"] == "" {
		t.Errorf("header = %v", hdr)
	}
	var pub *rsa.PublicKey
	for _, k := range jwks["keys"].([]any) {
		key := k.(map[string]any)
		if key["kid"] == hdr["kid"] && key["kty"] == "RSA" && key["use"] == "sig" {
			n, _ := base64.RawURLEncoding.DecodeString(key["n"].(string))
			e, _ := base64.RawURLEncoding.DecodeString(key["e"].(string))
			pub = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
		}
	}
	if pub == nil {
		t.Fatalf("kid %s not in JWKS %v", hdr["kid"], jwks)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig); err != nil {
		t.Fatalf("id_token signature: %v", err)
	}
	var claims map[string]any
	decodeSegment(t, parts[1], &claims)
	want := map[string]any{
		"aud": srv.ClientID(), "iss": srv.BaseURL() + "/" + tid + "/v2.0", "tid": tid, "oid": alice.ID,
		"preferred_username": simtest.Alice, "name": "Alice Archer", "ver": "2.0",
	}
	for k, v := range want {
		if claims[k] != v {
			t.Errorf("claim %s = %v, want %v", k, claims[k], v)
		}
	}
	now := float64(time.Now().Unix())
	iat, _ := claims["iat"].(float64)
	nbf, _ := claims["nbf"].(float64)
	exp, _ := claims["exp"].(float64)
	if iat < now-60 || iat > now+1 || nbf > iat || exp <= now {
		t.Errorf("iat %v nbf %v exp %v, now %v", iat, nbf, exp, now)
	}
	if sub, _ := claims["sub"].(string); sub == "" || sub == alice.ID {
		t.Errorf("sub = %q, want a pairwise identifier", sub)
	}

	// Without openid and offline_access there is neither an ID token nor a refresh token.
	m = signInRaw(t, srv, "User.Read", simtest.Bob)
	if m["id_token"] != nil || m["refresh_token"] != nil || m["access_token"] == nil {
		t.Errorf("User.Read alone: %v", m)
	}
}

func decodeSegment(t *testing.T, seg string, v any) {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		t.Fatalf("segment %q: %v", seg, err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("segment %s: %v", raw, err)
	}
}

func TestDeviceCodeEndpoint(t *testing.T) {
	srv := simtest.Start(t, nil, m365sim.Options{DeviceCodeLifetime: 10 * time.Minute, DeviceCodeInterval: time.Second})
	m := requestDeviceCode(t, srv, graphScopes)
	code, _ := m["user_code"].(string)
	if !regexp.MustCompile(`^[BCDFGHJKMNPQRSTVWXZ2-9]{9}$`).MatchString(code) {
		t.Errorf("user_code = %q", code)
	}
	if d, _ := m["device_code"].(string); len(d) < 40 {
		t.Errorf("device_code = %q", d)
	}
	uri := srv.BaseURL() + "/devicelogin"
	if m["verification_uri"] != uri || m["expires_in"] != float64(600) || m["interval"] != float64(1) {
		t.Errorf("response = %v", m)
	}
	wantMsg := "To sign in, use a web browser to open the page " + uri + " and enter the code " + code + " to authenticate."
	if m["message"] != wantMsg {
		t.Errorf("message = %q, want %q", m["message"], wantMsg)
	}
	if got := srv.PendingDeviceCodes(); len(got) != 1 || got[0] != code {
		t.Errorf("PendingDeviceCodes = %v", got)
	}

	hc := srv.HTTPClient()
	dcURL := srv.Authority() + "/oauth2/v2.0/devicecode"
	for _, tc := range []struct {
		name, method, url string
		form              url.Values
		status            int
		err               string
		code              int
	}{
		{"unknown client", "POST", dcURL, url.Values{"client_id": {"11111111-2222-3333-4444-555555555555"}, "scope": {graphScopes}}, 400, "unauthorized_client", 700016},
		{"no client", "POST", dcURL, url.Values{"scope": {graphScopes}}, 400, "invalid_request", 900144},
		{"GET", "GET", dcURL, nil, 400, "invalid_request", 900561},
		{"unknown scope", "POST", dcURL, url.Values{"client_id": {srv.ClientID()}, "scope": {"Mail.Fly offline_access"}}, 400, "invalid_scope", 650053},
		{"other resource", "POST", dcURL, url.Values{"client_id": {srv.ClientID()}, "scope": {"https://outlook.office.com/IMAP.AccessAsUser.All"}}, 400, "invalid_resource", 500011},
		{"no scope", "POST", dcURL, url.Values{"client_id": {srv.ClientID()}}, 400, "invalid_request", 900144},
		{"unknown tenant", "POST", srv.BaseURL() + "/consumers/oauth2/v2.0/devicecode", url.Values{"client_id": {srv.ClientID()}, "scope": {graphScopes}}, 400, "invalid_request", 90002},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, m, _ := call(t, hc, tc.method, tc.url, tc.form, nil)
			wantOAuthError(t, status, m, tc.status, tc.err, tc.code)
		})
	}
}

func TestTokenEndpointDeviceCodeGrant(t *testing.T) {
	srv := simtest.Start(t, nil, m365sim.Options{DeviceCodeLifetime: 400 * time.Millisecond})
	dc := requestDeviceCode(t, srv, graphScopes)
	device, code := dc["device_code"].(string), dc["user_code"].(string)

	// The correlation ID MSAL sends comes back.
	status, m, _ := call(t, srv.HTTPClient(), "POST", srv.Authority()+"/oauth2/v2.0/token",
		url.Values{"client_id": {srv.ClientID()}, "grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "device_code": {device}},
		http.Header{"Client-Request-Id": {"0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"}})
	wantOAuthError(t, status, m, 400, "authorization_pending", 70016)
	if m["correlation_id"] != "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0" {
		t.Errorf("correlation_id = %v", m["correlation_id"])
	}

	status, m = redeem(t, srv, "not-a-device-code")
	wantOAuthError(t, status, m, 400, "bad_verification_code", 70018)
	status, m = token(t, srv, url.Values{"grant_type": {"password"}})
	wantOAuthError(t, status, m, 400, "unsupported_grant_type", 70003)
	status, m = token(t, srv, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"nope"}, "scope": {graphScopes}})
	wantOAuthError(t, status, m, 400, "invalid_grant", 9002313)
	status, m = token(t, srv, url.Values{"client_id": {"11111111-2222-3333-4444-555555555555"}, "grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "device_code": {device}})
	wantOAuthError(t, status, m, 400, "unauthorized_client", 700016)

	if err := srv.ApproveDeviceCode(code, "nobody@contoso.test"); !errors.Is(err, m365sim.ErrNoUser) {
		t.Errorf("approve as unknown user: %v", err)
	}
	if err := srv.ApproveDeviceCode("BCDFGHJKM", simtest.Alice); !errors.Is(err, m365sim.ErrNoDeviceCode) {
		t.Errorf("approve unknown code: %v", err)
	}
	// Codes are matched the way people type them.
	if err := srv.ApproveDeviceCode(strings.ToLower(code[:3])+"-"+code[3:], simtest.Alice); err != nil {
		t.Fatalf("approve: %v", err)
	}
	if err := srv.DeclineDeviceCode(code); !errors.Is(err, m365sim.ErrDeviceCodeUsed) {
		t.Errorf("decline after approval: %v", err)
	}
	if status, m = redeem(t, srv, device); status != 200 {
		t.Fatalf("redeem: %d %v", status, m)
	}
	status, m = redeem(t, srv, device)
	wantOAuthError(t, status, m, 400, "invalid_grant", 54005) // single use

	// Declined.
	dc = requestDeviceCode(t, srv, graphScopes)
	if err := srv.DeclineDeviceCode(dc["user_code"].(string)); err != nil {
		t.Fatal(err)
	}
	status, m = redeem(t, srv, dc["device_code"].(string))
	wantOAuthError(t, status, m, 400, "authorization_declined", 70000)

	// Expired, whether or not it was approved.
	dc = requestDeviceCode(t, srv, graphScopes)
	dc2 := requestDeviceCode(t, srv, graphScopes)
	if err := srv.ApproveDeviceCode(dc2["user_code"].(string), simtest.Bob); err != nil {
		t.Fatal(err)
	}
	time.Sleep(450 * time.Millisecond)
	for _, d := range []map[string]any{dc, dc2} {
		status, m = redeem(t, srv, d["device_code"].(string))
		wantOAuthError(t, status, m, 400, "expired_token", 70019)
	}
	if err := srv.ApproveDeviceCode(dc["user_code"].(string), simtest.Alice); !errors.Is(err, m365sim.ErrDeviceCodeExpired) {
		t.Errorf("approve expired code: %v", err)
	}
	if got := srv.PendingDeviceCodes(); len(got) != 0 {
		t.Errorf("PendingDeviceCodes = %v after expiry", got)
	}
}

func TestAutoApprove(t *testing.T) {
	srv := simtest.Start(t, nil, m365sim.Options{AutoApprove: 50 * time.Millisecond, AutoApproveUser: simtest.Bob})
	dc := requestDeviceCode(t, srv, graphScopes)
	if status, m := redeem(t, srv, dc["device_code"].(string)); status != 400 || m["error"] != "authorization_pending" {
		t.Fatalf("before the delay: %d %v", status, m)
	}
	time.Sleep(60 * time.Millisecond)
	status, m := redeem(t, srv, dc["device_code"].(string))
	if status != 200 {
		t.Fatalf("after the delay: %d %v", status, m)
	}
	var claims map[string]any
	decodeSegment(t, strings.Split(m["id_token"].(string), ".")[1], &claims)
	if claims["preferred_username"] != simtest.Bob {
		t.Errorf("signed in as %v, want %s", claims["preferred_username"], simtest.Bob)
	}

	if _, err := m365sim.NewServer(simtest.SmallTenant(t), m365sim.Options{AutoApprove: time.Second, AutoApproveUser: "nobody@contoso.test"}); !errors.Is(err, m365sim.ErrNoUser) {
		t.Errorf("unknown AutoApproveUser: %v", err)
	}
}

func TestRefreshTokenGrant(t *testing.T) {
	srv := simtest.Start(t, nil, m365sim.Options{})
	refresh := func(rt, scope string) (int, map[string]any) {
		return token(t, srv, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "scope": {scope}})
	}
	first := signInRaw(t, srv, graphScopes, simtest.Alice)
	rt1 := first["refresh_token"].(string)

	status, m := refresh(rt1, "User.Read openid profile offline_access")
	if status != 200 {
		t.Fatalf("refresh: %d %v", status, m)
	}
	rt2 := m["refresh_token"].(string)
	if rt2 == rt1 || m["access_token"] == first["access_token"] || m["scope"] != "User.Read profile openid email" || m["id_token"] == nil {
		t.Errorf("refresh answer: %v", m)
	}
	// As with Entra ID, a refresh token stays valid after use.
	if status, m = refresh(rt1, graphScopes); status != 200 {
		t.Errorf("reusing the old refresh token: %d %v", status, m)
	}
	// Scopes beyond those consented need a new sign-in.
	status, m = refresh(rt2, "Mail.Send offline_access")
	wantOAuthError(t, status, m, 400, "invalid_grant", 65001)
	if m["suberror"] != "consent_required" {
		t.Errorf("suberror = %v", m["suberror"])
	}
	// Another client cannot use it.
	status, m = token(t, srv, url.Values{"client_id": {"11111111-2222-3333-4444-555555555555"}, "grant_type": {"refresh_token"}, "refresh_token": {rt2}})
	wantOAuthError(t, status, m, 400, "unauthorized_client", 700016)

	// Multi-factor authentication becomes required.
	bob := signInRaw(t, srv, graphScopes, simtest.Bob)
	srv.RequireMFA(simtest.Bob)
	status, m = refresh(bob["refresh_token"].(string), graphScopes)
	wantOAuthError(t, status, m, 400, "invalid_grant", 50076)
	if m["suberror"] != "basic_action" {
		t.Errorf("suberror = %v", m["suberror"])
	}
	bob = signInRaw(t, srv, graphScopes, simtest.Bob) // a new sign-in satisfies it
	if status, m = refresh(bob["refresh_token"].(string), graphScopes); status != 200 {
		t.Errorf("refresh after a new sign-in: %d %v", status, m)
	}

	// Revocation: every refresh token Alice holds stops working; Bob's don't.
	if n := srv.RevokeRefreshTokens(simtest.Alice); n < 3 {
		t.Errorf("RevokeRefreshTokens = %d, want at least 3", n)
	}
	for _, rt := range []string{rt1, rt2} {
		status, m = refresh(rt, graphScopes)
		wantOAuthError(t, status, m, 400, "invalid_grant", 50173)
		if !strings.Contains(m["error_description"].(string), "The provided grant has expired due to it being revoked") {
			t.Errorf("description = %v", m["error_description"])
		}
	}
	if status, m = refresh(bob["refresh_token"].(string), graphScopes); status != 200 {
		t.Errorf("Bob after Alice's revocation: %d %v", status, m)
	}
	if n := srv.RevokeRefreshTokens(simtest.Alice); n != 0 {
		t.Errorf("second RevokeRefreshTokens = %d", n)
	}
}

func TestRefreshTokenExpiry(t *testing.T) {
	srv := simtest.Start(t, nil, m365sim.Options{RefreshTokenLifetime: 300 * time.Millisecond})
	m := signInRaw(t, srv, graphScopes, simtest.Alice)
	time.Sleep(350 * time.Millisecond)
	status, m := token(t, srv, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {m["refresh_token"].(string)}, "scope": {graphScopes}})
	wantOAuthError(t, status, m, 400, "invalid_grant", 700082)
}

func graphMe(t *testing.T, srv *m365sim.Server, bearer string) (int, map[string]any) {
	t.Helper()
	status, m, _ := call(t, srv.HTTPClient(), "GET", srv.GraphURL()+"/me", nil, http.Header{"Authorization": {"Bearer " + bearer}})
	return status, m
}

func wantInvalidToken(t *testing.T, status int, m map[string]any, msg string) {
	t.Helper()
	e, _ := m["error"].(map[string]any)
	if status != http.StatusUnauthorized || e["code"] != "InvalidAuthenticationToken" || e["message"] != msg {
		t.Errorf("got %d %v, want 401 InvalidAuthenticationToken %q", status, m, msg)
	}
}

func TestAccessTokens(t *testing.T) {
	srv := simtest.Start(t, nil, m365sim.Options{})
	tok, exp, err := srv.IssueAccessToken(simtest.Bob)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Until(exp); d < 59*time.Minute || d > time.Hour {
		t.Errorf("expires in %v", d)
	}
	if status, m := graphMe(t, srv, tok); status != 200 || m["userPrincipalName"] != simtest.Bob {
		t.Fatalf("/me: %d %v", status, m)
	}
	signed := signInRaw(t, srv, graphScopes, simtest.Bob)
	if status, m := graphMe(t, srv, signed["access_token"].(string)); status != 200 || m["userPrincipalName"] != simtest.Bob {
		t.Fatalf("/me with a signed-in token: %d %v", status, m)
	}
	aliceTok, _, _ := srv.IssueAccessToken(simtest.Alice)

	if n := srv.ExpireAccessTokens(simtest.Bob); n != 2 {
		t.Errorf("ExpireAccessTokens = %d, want 2", n)
	}
	status, m := graphMe(t, srv, tok)
	wantInvalidToken(t, status, m, "Lifetime validation failed, the token is expired.")
	status, m = graphMe(t, srv, signed["access_token"].(string))
	wantInvalidToken(t, status, m, "Lifetime validation failed, the token is expired.")
	if status, _ := graphMe(t, srv, aliceTok); status != 200 {
		t.Errorf("Alice's token after Bob's expired: %d", status)
	}
	// The refresh token still works and gives a working access token.
	status, m = token(t, srv, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {signed["refresh_token"].(string)}, "scope": {graphScopes}})
	if status != 200 {
		t.Fatalf("refresh: %d %v", status, m)
	}
	if status, _ := graphMe(t, srv, m["access_token"].(string)); status != 200 {
		t.Errorf("refreshed token: %d", status)
	}

	status, m = graphMe(t, srv, "garbage")
	wantInvalidToken(t, status, m, "CompactToken parsing failed with error code: 80049217")
	status, m = graphMe(t, srv, signed["id_token"].(string)) // an ID token is not for Graph
	wantInvalidToken(t, status, m, "Access token validation failure. Invalid audience.")
	if _, _, err := srv.IssueAccessToken("nobody@contoso.test"); !errors.Is(err, m365sim.ErrNoUser) {
		t.Errorf("IssueAccessToken for an unknown user: %v", err)
	}

	short := simtest.Start(t, nil, m365sim.Options{AccessTokenLifetime: 200 * time.Millisecond})
	tok, _, _ = short.IssueAccessToken(simtest.Alice)
	if status, _ := graphMe(t, short, tok); status != 200 {
		t.Fatalf("fresh short-lived token: %d", status)
	}
	time.Sleep(250 * time.Millisecond)
	status, m = graphMe(t, short, tok)
	wantInvalidToken(t, status, m, "Lifetime validation failed, the token is expired.")
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// browser is an HTTP client with a cookie jar, as a browser on the sign-in page.
func browser(t *testing.T, srv *m365sim.Server) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Transport: srv.HTTPClient().Transport, Jar: jar}
}

func loadLoginPage(t *testing.T, b *http.Client, srv *m365sim.Server) (string, string) {
	t.Helper()
	status, _, page := call(t, b, "GET", srv.BaseURL()+"/devicelogin", nil, nil)
	if status != 200 {
		t.Fatalf("GET /devicelogin: %d", status)
	}
	mt := csrfField.FindStringSubmatch(page)
	if mt == nil {
		t.Fatalf("no CSRF field in %s", page)
	}
	return mt[1], page
}

func TestDeviceLoginPage(t *testing.T) {
	tn := m365sim.NewTenant("Contoso <Ltd>", "contoso.test", nil)
	for _, u := range []struct{ upn, name string }{{simtest.Alice, "Alice Archer"}, {"eve@contoso.test", `Eve "<script>alert(1)</script>"`}} {
		if _, err := tn.AddUser(u.upn, u.name); err != nil {
			t.Fatal(err)
		}
	}
	srv := simtest.Start(t, tn, m365sim.Options{})
	b := browser(t, srv)
	csrf, page := loadLoginPage(t, b, srv)
	for _, want := range []string{
		"<title>Sign in – Lifeboat simulated Microsoft 365</title>",
		`<option value="alice@contoso.test" selected>Alice Archer (alice@contoso.test)</option>`,
		`Eve &#34;&lt;script&gt;alert(1)&lt;/script&gt;&#34; (eve@contoso.test)`,
		"Contoso &lt;Ltd&gt;",
		`value="signin"`, `value="decline"`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(page, "<script>") {
		t.Error("page contains an unescaped script tag")
	}
	post := func(c *http.Client, csrf, code, user, action string) (int, string) {
		status, _, body := call(t, c, "POST", srv.BaseURL()+"/devicelogin",
			url.Values{"csrf": {csrf}, "code": {code}, "user": {user}, "action": {action}}, nil)
		return status, body
	}

	// A wrong code shows the form again with a new token.
	status, body := post(b, csrf, "BCDFGHJKM", simtest.Alice, "signin")
	if status != http.StatusNotFound || !strings.Contains(body, "That code didn&#39;t work. Check the code and try again.") {
		t.Errorf("wrong code: %d %s", status, body)
	}
	// Each CSRF token works once.
	if status, _ := post(b, csrf, "BCDFGHJKM", simtest.Alice, "signin"); status != http.StatusForbidden {
		t.Errorf("reused CSRF token: %d", status)
	}
	// A form posted without the page's cookie (another site) is refused.
	code := requestDeviceCode(t, srv, graphScopes)["user_code"].(string)
	csrf, _ = loadLoginPage(t, b, srv)
	if status, _ := post(srv.HTTPClient(), csrf, code, "eve@contoso.test", "signin"); status != http.StatusForbidden {
		t.Errorf("POST without the cookie: %d", status)
	}
	if got := srv.PendingDeviceCodes(); len(got) != 1 {
		t.Fatalf("the code was used by a forged form: %v", got)
	}

	csrf, _ = loadLoginPage(t, b, srv)
	status, body = post(b, csrf, strings.ToLower(code), "eve@contoso.test", "signin")
	if status != 200 || !strings.Contains(body, "You have signed in to Lifeboat on your device. You may now close this window.") {
		t.Errorf("sign in: %d %s", status, body)
	}
	csrf, _ = loadLoginPage(t, b, srv)
	if status, body = post(b, csrf, code, simtest.Alice, "signin"); status != http.StatusConflict || !strings.Contains(body, "already been used") {
		t.Errorf("second sign-in with the same code: %d %s", status, body)
	}

	code = requestDeviceCode(t, srv, graphScopes)["user_code"].(string)
	csrf, _ = loadLoginPage(t, b, srv)
	if status, body = post(b, csrf, code, simtest.Alice, "decline"); status != 200 || !strings.Contains(body, "You declined to sign in to Lifeboat") {
		t.Errorf("decline: %d %s", status, body)
	}
	if status, _, _ := call(t, b, "DELETE", srv.BaseURL()+"/devicelogin", nil, nil); status != http.StatusMethodNotAllowed {
		t.Errorf("DELETE: %d", status)
	}
}

func TestDeviceLoginExpiredCode(t *testing.T) {
	srv := simtest.Start(t, nil, m365sim.Options{DeviceCodeLifetime: 100 * time.Millisecond})
	b := browser(t, srv)
	code := requestDeviceCode(t, srv, graphScopes)["user_code"].(string)
	csrf, _ := loadLoginPage(t, b, srv)
	time.Sleep(150 * time.Millisecond)
	status, _, body := call(t, b, "POST", srv.BaseURL()+"/devicelogin",
		url.Values{"csrf": {csrf}, "code": {code}, "user": {simtest.Alice}, "action": {"signin"}}, nil)
	if status != http.StatusGone || !strings.Contains(body, "That code has expired") {
		t.Errorf("expired code: %d %s", status, body)
	}
}
