package auth

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
)

func appTokenSource(t *testing.T, srv *m365sim.Server, cred AppCredential) *AppTokenSource {
	t.Helper()
	u, _ := url.Parse(srv.GraphURL())
	ts, err := NewAppTokenSource(AppTokenConfig{Authority: srv.Authority(), HTTPClient: srv.HTTPClient(), Credential: cred, GraphHosts: []string{u.Hostname()}})
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

// TestAppTokenSourceGetsRolesWithTheCertificate: the real MSAL confidential
// client signs a certificate assertion with Lifeboat's key; the simulated
// tenant checks it against the registered certificate and answers with a
// token whose roles are the granted permissions, which reaches another
// person's mailbox app-only. A certificate the app does not have is
// refused with a plain "sign in as administrator again".
func TestAppTokenSourceGetsRolesWithTheCertificate(t *testing.T) {
	srv := simtest.Start(t, nil, m365sim.Options{})
	tn := srv.Tenant()
	cert, err := NewAppCertificate("Lifeboat Backup", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	app, err := tn.RegisterApplication("Lifeboat Backup", cert.Cert)
	if err != nil {
		t.Fatal(err)
	}
	if err := tn.GrantApplicationPermissions(app.AppID, "User.Read.All", "Mail.ReadWrite"); err != nil {
		t.Fatal(err)
	}
	ts := appTokenSource(t, srv, AppCredential{TenantID: tn.ID, AppID: app.AppID, ObjectID: app.ID, Current: cert})
	tok, err := ts.Token(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(tok.Roles, []string{"Mail.ReadWrite", "User.Read.All"}) || tok.FromCache {
		t.Fatalf("token: %v roles %v", tok, tok.Roles)
	}
	again, err := ts.Token(t.Context())
	if err != nil || !again.FromCache {
		t.Fatalf("second token not from MSAL's cache: %v %v", again, err)
	}
	if strings.Contains(tok.String(), tok.AccessToken) {
		t.Fatal("the token's String shows the token")
	}
	status, _ := graphGetStatus(t, srv, "/users/"+simtest.Bob+"/messages?$top=1", tok.AccessToken)
	if status != 200 {
		t.Fatalf("app-only read of Bob's mailbox: %d", status)
	}
	// Graph refused the cached token: the next one is fresh.
	ts.InvalidateToken(again.AccessToken)
	if fresh, err := ts.Token(t.Context()); err != nil || fresh.FromCache {
		t.Fatalf("after a refusal: %v %v", fresh, err)
	}

	other, err := NewAppCertificate("Lifeboat Backup", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	wrong := appTokenSource(t, srv, AppCredential{TenantID: tn.ID, AppID: app.AppID, ObjectID: app.ID, Current: other})
	_, err = wrong.Token(t.Context())
	if !errors.Is(err, ErrAdminSignInRequired) || errors.Is(err, ErrAppNotFound) {
		t.Fatalf("a certificate the app does not have: %v", err)
	}
	gone := appTokenSource(t, srv, AppCredential{TenantID: tn.ID, AppID: "11111111-2222-3333-4444-555555555555", Current: cert})
	if _, err := gone.Token(t.Context()); !errors.Is(err, ErrAppNotFound) || !errors.Is(err, ErrAdminSignInRequired) {
		t.Fatalf("an application the directory does not know: %v", err)
	}
}

func graphGetStatus(t *testing.T, srv *m365sim.Server, path, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.GraphURL()+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := srv.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
