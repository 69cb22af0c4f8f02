package simtest

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
)

// jwtClaims decodes an access token's payload (the simulator issues JWTs,
// identity_jwt.go).
func jwtClaims(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("access token is not a JWT")
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func registerApp(t *testing.T, srv *m365sim.Server, c Certificate, perms ...string) *m365sim.Application {
	t.Helper()
	app, err := srv.Tenant().RegisterApplication("Lifeboat", c.Cert)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Tenant().GrantApplicationPermissions(app.AppID, perms...); err != nil {
		t.Fatal(err)
	}
	return app
}

// TestMSALConfidentialClientReadsEveryMailbox: the real MSAL confidential
// client, with a certificate credential (PS256, x5t#S256 in standard
// base64, as MSAL Go sends it), gets an app-only token whose roles claim
// holds the granted permissions, and reads two people's mailboxes and
// drives; /me is refused as Graph refuses it for app-only tokens.
func TestMSALConfidentialClientReadsEveryMailbox(t *testing.T) {
	srv := Start(t, nil, m365sim.Options{})
	now := time.Now()
	cert := NewCertificate(t, "CN=Lifeboat", now.Add(-time.Hour), now.Add(365*24*time.Hour))
	app := registerApp(t, srv, cert, "User.Read.All", "Mail.ReadWrite", "Files.ReadWrite.All")

	client := ConfidentialClient(t, srv, app.AppID, cert)
	res, err := client.AcquireTokenByCredential(t.Context(), []string{GraphDefault})
	if err != nil {
		t.Fatalf("AcquireTokenByCredential: %v", err)
	}
	claims := jwtClaims(t, res.AccessToken)
	if claims["idtyp"] != "app" || claims["appid"] != app.AppID || claims["appidacr"] != "2" {
		t.Errorf("claims %v: want an app-only token for %s authenticated by certificate", claims, app.AppID)
	}
	roles, _ := claims["roles"].([]any)
	if len(roles) != 3 {
		t.Errorf("roles claim %v, want the three granted permissions", claims["roles"])
	}

	for _, upn := range []string{Alice, Bob} {
		u, err := srv.Tenant().User(upn)
		if err != nil {
			t.Fatal(err)
		}
		status, m := graphGet(t, srv, "/users/"+u.ID+"/mailFolders/inbox/messages?$top=5", res.AccessToken)
		if status != 200 {
			t.Fatalf("%s inbox: %d %v", upn, status, m)
		}
		if vals, _ := m["value"].([]any); len(vals) == 0 {
			t.Errorf("%s inbox: no messages", upn)
		}
		if status, m := graphGet(t, srv, "/users/"+upn+"/drive/root/children", res.AccessToken); status != 200 {
			t.Errorf("%s drive: %d %v", upn, status, m)
		}
	}
	if status, m := graphGet(t, srv, "/users?$select=id,accountEnabled", res.AccessToken); status != 200 || len(m["value"].([]any)) != 2 {
		t.Errorf("list users: %d %v", status, m)
	}
	status, m := graphGet(t, srv, "/me", res.AccessToken)
	if status != 400 || !strings.Contains(errMessage(m), "/me request is only valid with delegated authentication flow") {
		t.Errorf("GET /me app-only: %d %v", status, m)
	}
}

func errMessage(m map[string]any) string {
	e, _ := m["error"].(map[string]any)
	s, _ := e["message"].(string)
	c, _ := e["code"].(string)
	return c + ": " + s
}

// TestAppOnlyRolesLimitAccess: an app token reaches only what its roles
// allow, answered as each service words a refusal.
func TestAppOnlyRolesLimitAccess(t *testing.T) {
	srv := Start(t, nil, m365sim.Options{})
	now := time.Now()
	cert := NewCertificate(t, "CN=Lifeboat", now.Add(-time.Hour), now.Add(24*time.Hour))
	app := registerApp(t, srv, cert, "User.Read.All")
	res, err := ConfidentialClient(t, srv, app.AppID, cert).AcquireTokenByCredential(t.Context(), []string{GraphDefault})
	if err != nil {
		t.Fatal(err)
	}
	if status, m := graphGet(t, srv, "/users/"+Alice+"/messages", res.AccessToken); status != 403 || !strings.HasPrefix(errMessage(m), "ErrorAccessDenied") {
		t.Errorf("mail without Mail.*: %d %v", status, m)
	}
	if status, m := graphGet(t, srv, "/users/"+Alice+"/drive", res.AccessToken); status != 403 || !strings.HasPrefix(errMessage(m), "accessDenied") {
		t.Errorf("drive without Files.*: %d %v", status, m)
	}
	if status, m := graphGet(t, srv, "/users/"+Bob, res.AccessToken); status != 200 {
		t.Errorf("get user with User.Read.All: %d %v", status, m)
	}
}

// TestDelegatedTokenOnlyOwnMailbox: a delegated token reads the signed-in
// person's mailbox, not a colleague's.
func TestDelegatedTokenOnlyOwnMailbox(t *testing.T) {
	srv := Start(t, nil, m365sim.Options{})
	tok, _, err := srv.IssueAccessToken(Alice)
	if err != nil {
		t.Fatal(err)
	}
	if status, m := graphGet(t, srv, "/users/"+Alice+"/messages", tok); status != 200 {
		t.Errorf("own mailbox: %d %v", status, m)
	}
	if status, m := graphGet(t, srv, "/users/"+Bob+"/messages", tok); status != 403 {
		t.Errorf("colleague's mailbox with a delegated token: %d %v", status, m)
	}
	if status, m := graphGet(t, srv, "/users/"+Bob+"/drive", tok); status != 403 {
		t.Errorf("colleague's drive with a delegated token: %d %v", status, m)
	}
}

// TestClientCredentialsRefusals: an unregistered certificate, an expired
// one, an unknown application and the multi-tenant authorities get the
// identity platform's documented errors through the real MSAL.
func TestClientCredentialsRefusals(t *testing.T) {
	srv := Start(t, nil, m365sim.Options{})
	now := time.Now()
	good := NewCertificate(t, "CN=Lifeboat", now.Add(-time.Hour), now.Add(24*time.Hour))
	expired := NewCertificate(t, "CN=Lifeboat old", now.Add(-48*time.Hour), now.Add(-time.Hour))
	app := registerApp(t, srv, good, "Mail.ReadWrite")
	old, err := srv.Tenant().RegisterApplication("Lifeboat old", expired.Cert)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Tenant().GrantApplicationPermissions(old.AppID, "Mail.ReadWrite"); err != nil {
		t.Fatal(err)
	}
	stranger := NewCertificate(t, "CN=Someone else", now.Add(-time.Hour), now.Add(24*time.Hour))

	cases := []struct {
		name  string
		appID string
		cert  Certificate
		want  []string
	}{
		{"unregistered key", app.AppID, stranger, []string{"AADSTS700027", "The key was not found"}},
		{"expired key", old.AppID, expired, []string{"AADSTS700027", "The key used is expired"}},
		{"unknown application", "11111111-2222-3333-4444-555555555555", good, []string{"AADSTS700016"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ConfidentialClient(t, srv, c.appID, c.cert).AcquireTokenByCredential(t.Context(), []string{GraphDefault})
			if err == nil {
				t.Fatal("got a token")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}
