package simtest

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
)

// graphDo sends a JSON request to Graph and decodes the answer.
func graphDo(t *testing.T, srv *m365sim.Server, method, path, bearer string, body any) (int, map[string]any) {
	t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, srv.GraphURL()+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+bearer)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := srv.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

var adminScopes = []string{"User.Read", "Application.ReadWrite.All", "AppRoleAssignment.ReadWrite.All"}

// proofToken is addKey's proof of possession as Microsoft's sample builds
// it: RS256, x5t, aud 00000002-…, iss the application's object ID.
func proofToken(t *testing.T, c Certificate, appObjectID, aud string) string {
	t.Helper()
	b64 := base64.RawURLEncoding.EncodeToString
	x5t := sha1.Sum(c.Cert.Raw)
	hdr, _ := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT", "x5t": b64(x5t[:])})
	now := time.Now()
	body, _ := json.Marshal(map[string]any{"aud": aud, "iss": appObjectID, "nbf": now.Unix(), "exp": now.Add(10 * time.Minute).Unix()})
	signing := b64(hdr) + "." + b64(body)
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, c.Key, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return signing + "." + b64(sig)
}

func keyBody(c Certificate) map[string]any {
	return map[string]any{"type": "AsymmetricX509Cert", "usage": "Verify", "key": base64.StdEncoding.EncodeToString(c.Cert.Raw), "displayName": "CN=Lifeboat"}
}

// retry calls f until it reports done, at most for d.
func retry(t *testing.T, d time.Duration, what string, f func() bool) int {
	t.Helper()
	deadline := time.Now().Add(d)
	for n := 1; ; n++ {
		if f() {
			return n
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still not done after %v", what, d)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestOrganizationSetupThroughGraph plays Lifeboat's organization setup
// against the simulator with the real MSAL public and confidential clients:
// a Global Administrator signs in with the device code flow, Graph's
// appRoles are looked up by value, the app registration, service principal
// and permissions are created through a replication delay
// (NoBackingApplicationObject, AADSTS700016, a token lacking fresh roles),
// the app reads mail app-only, rolls its certificate with addKey, and is
// deleted.
func TestOrganizationSetupThroughGraph(t *testing.T) {
	tn := SmallTenant(t)
	if err := tn.SetDirectoryRoles(Alice, m365sim.RoleGlobalAdministrator); err != nil {
		t.Fatal(err)
	}
	const delay = 400 * time.Millisecond
	srv := Start(t, tn, m365sim.Options{DirectoryReplicationDelay: delay, RoleReplicationDelay: delay})
	admin := SignInAs(t, srv, PublicClient(t, srv), adminScopes, Alice).AccessToken

	if status, m := graphDo(t, srv, "GET", "/me/memberOf", admin, nil); status != 200 || len(m["value"].([]any)) != 1 ||
		m["value"].([]any)[0].(map[string]any)["roleTemplateId"] != m365sim.RoleGlobalAdministrator {
		t.Fatalf("memberOf: %d %v", status, m)
	}
	status, graphSP := graphDo(t, srv, "GET", "/servicePrincipals(appId='00000003-0000-0000-c000-000000000000')", admin, nil)
	if status != 200 {
		t.Fatalf("Graph service principal: %d %v", status, graphSP)
	}
	roleIDs := map[string]string{}
	for _, r := range graphSP["appRoles"].([]any) {
		role := r.(map[string]any)
		roleIDs[role["value"].(string)] = role["id"].(string)
	}
	want := []string{"User.Read.All", "Mail.ReadWrite", "Files.ReadWrite.All"}
	access := []map[string]string{}
	for _, v := range want {
		if roleIDs[v] == "" {
			t.Fatalf("Graph has no app role %s", v)
		}
		access = append(access, map[string]string{"id": roleIDs[v], "type": "Role"})
	}
	if roleIDs["Mail.ReadWrite"] != "e2a3a72e-5f79-4c64-b1b1-878b674786c9" {
		t.Errorf("Mail.ReadWrite is %s, not the ID Microsoft publishes", roleIDs["Mail.ReadWrite"])
	}

	now := time.Now()
	cert := NewCertificate(t, "CN=Lifeboat", now.Add(-time.Minute), now.Add(365*24*time.Hour))
	status, app := graphDo(t, srv, "POST", "/applications", admin, map[string]any{
		"displayName": "Lifeboat backup", "signInAudience": "AzureADMyOrg", "notes": "Created by Lifeboat", "tags": []string{"lifeboat-backup"},
		"requiredResourceAccess": []any{map[string]any{"resourceAppId": "00000003-0000-0000-c000-000000000000", "resourceAccess": access}},
		"keyCredentials":         []any{keyBody(cert)},
	})
	if status != 201 || app["signInAudience"] != "AzureADMyOrg" || len(app["keyCredentials"].([]any)) != 1 {
		t.Fatalf("create application: %d %v", status, app)
	}
	appID, appOID := app["appId"].(string), app["id"].(string)

	if _, err := ConfidentialClient(t, srv, appID, cert).AcquireTokenByCredential(t.Context(), []string{GraphDefault}); err == nil || !strings.Contains(err.Error(), "AADSTS700016") {
		t.Errorf("first token right after creation: %v, want AADSTS700016", err)
	}
	var sp map[string]any
	tries := retry(t, 5*time.Second, "create service principal", func() bool {
		var status int
		status, sp = graphDo(t, srv, "POST", "/servicePrincipals", admin, map[string]string{"appId": appID})
		if status == 400 {
			details, _ := sp["error"].(map[string]any)["details"].([]any)
			if len(details) == 0 || details[0].(map[string]any)["code"] != "NoBackingApplicationObject" {
				t.Fatalf("create service principal: %v", sp)
			}
			return false
		}
		if status != 201 {
			t.Fatalf("create service principal: %d %v", status, sp)
		}
		return true
	})
	if tries < 2 {
		t.Errorf("service principal created at once: the replication delay did not apply")
	}
	graphID, spID := graphSP["id"].(string), sp["id"].(string)
	for _, v := range want {
		retry(t, 5*time.Second, "grant "+v, func() bool {
			status, m := graphDo(t, srv, "POST", "/servicePrincipals/"+graphID+"/appRoleAssignedTo", admin,
				map[string]string{"principalId": spID, "resourceId": graphID, "appRoleId": roleIDs[v]})
			if status == 404 {
				return false // the service principal has not replicated yet
			}
			if status != 201 || m["appRoleId"] != roleIDs[v] {
				t.Fatalf("grant %s: %d %v", v, status, m)
			}
			return true
		})
	}
	if status, m := graphDo(t, srv, "POST", "/servicePrincipals/"+graphID+"/appRoleAssignedTo", admin,
		map[string]string{"principalId": spID, "resourceId": graphID, "appRoleId": roleIDs["Mail.ReadWrite"]}); status != 400 {
		t.Errorf("granting twice: %d %v", status, m)
	}
	if status, m := graphDo(t, srv, "GET", "/servicePrincipals/"+graphID+"/appRoleAssignedTo", admin, nil); status != 200 || len(m["value"].([]any)) != 3 {
		t.Errorf("list grants: %d %v", status, m)
	}

	// Until replication catches up, a fresh token lacks the roles just granted.
	var tok string
	sawPartial := false
	retry(t, 5*time.Second, "token with every role", func() bool {
		res, err := ConfidentialClient(t, srv, appID, cert).AcquireTokenByCredential(t.Context(), []string{GraphDefault})
		if err != nil {
			t.Fatalf("token: %v", err)
		}
		roles, _ := jwtClaims(t, res.AccessToken)["roles"].([]any)
		if len(roles) < len(want) {
			sawPartial = true
			return false
		}
		tok = res.AccessToken
		return true
	})
	if !sawPartial {
		t.Errorf("every role was in the first token: the role replication delay did not apply")
	}
	if status, m := graphDo(t, srv, "GET", "/users/"+Bob+"/messages", tok, nil); status != 200 {
		t.Errorf("read Bob's mail app-only: %d %v", status, m)
	}

	// Roll the certificate with addKey, signed by the current one.
	next := NewCertificate(t, "CN=Lifeboat next", now.Add(-time.Minute), now.Add(300*24*time.Hour))
	if status, m := graphDo(t, srv, "POST", "/applications/"+appOID+"/addKey", tok,
		map[string]any{"keyCredential": keyBody(next), "passwordCredential": nil, "proof": proofToken(t, next, appOID, "00000002-0000-0000-c000-000000000000")}); status != 401 {
		t.Errorf("addKey with a proof signed by an unregistered key: %d %v", status, m)
	}
	if status, m := graphDo(t, srv, "POST", "/applications/"+appOID+"/addKey", tok,
		map[string]any{"keyCredential": keyBody(next), "passwordCredential": nil, "proof": proofToken(t, cert, appOID, "00000003-0000-0000-c000-000000000000")}); status != 401 {
		t.Errorf("addKey with the wrong audience: %d %v", status, m)
	}
	if status, m := graphDo(t, srv, "POST", "/applications/"+appOID+"/addKey", tok,
		map[string]any{"keyCredential": keyBody(next), "passwordCredential": nil, "proof": proofToken(t, cert, appOID, "00000002-0000-0000-c000-000000000000")}); status != 200 || m["type"] != "AsymmetricX509Cert" {
		t.Fatalf("addKey: %d %v", status, m)
	}
	if _, err := ConfidentialClient(t, srv, appID, next).AcquireTokenByCredential(t.Context(), []string{GraphDefault}); err != nil {
		t.Errorf("token with the rolled certificate: %v", err)
	}

	if status, m := graphDo(t, srv, "DELETE", "/applications/"+appOID, admin, nil); status != 204 {
		t.Fatalf("delete application: %d %v", status, m)
	}
	if _, err := ConfidentialClient(t, srv, appID, next).AcquireTokenByCredential(t.Context(), []string{GraphDefault}); err == nil || !strings.Contains(err.Error(), "AADSTS700016") {
		t.Errorf("token after deletion: %v", err)
	}
	if len(tn.Applications()) != 0 {
		t.Errorf("applications left: %d", len(tn.Applications()))
	}
}

// TestOrdinaryUserCannotSetUp: a user without an administrator role is
// refused 403 Authorization_RequestDenied when granting Microsoft Graph
// application permissions, and, where users may not register
// applications, when creating one; nothing is created.
func TestOrdinaryUserCannotSetUp(t *testing.T) {
	tn := SmallTenant(t)
	srv := Start(t, tn, m365sim.Options{})
	bob := SignInAs(t, srv, PublicClient(t, srv), adminScopes, Bob).AccessToken
	if status, m := graphDo(t, srv, "GET", "/me/memberOf", bob, nil); status != 200 || len(m["value"].([]any)) != 0 {
		t.Errorf("memberOf of an ordinary user: %d %v", status, m)
	}
	_, graphSP := graphDo(t, srv, "GET", "/servicePrincipals(appId='00000003-0000-0000-c000-000000000000')", bob, nil)
	graphID, _ := graphSP["id"].(string)

	tn.SetUsersCanRegisterApplications(false)
	status, m := graphDo(t, srv, "POST", "/applications", bob, map[string]any{"displayName": "Lifeboat backup", "signInAudience": "AzureADMyOrg"})
	if status != 403 || !strings.HasPrefix(errMessage(m), "Authorization_RequestDenied") {
		t.Errorf("ordinary user creates an application: %d %v", status, m)
	}
	if len(tn.Applications()) != 0 {
		t.Errorf("an application was created")
	}

	// With the tenant default (users may register applications) the grant
	// is still refused: only a Global or Privileged Role Administrator may
	// grant Microsoft Graph application permissions.
	tn.SetUsersCanRegisterApplications(true)
	app, err := tn.RegisterApplication("Somebody's app")
	if err != nil {
		t.Fatal(err)
	}
	if err := tn.GrantApplicationPermissions(app.AppID); err != nil { // creates the service principal only
		t.Fatal(err)
	}
	_, sp := graphDo(t, srv, "GET", "/servicePrincipals(appId='"+app.AppID+"')", bob, nil)
	status, m = graphDo(t, srv, "POST", "/servicePrincipals/"+graphID+"/appRoleAssignedTo", bob,
		map[string]string{"principalId": sp["id"].(string), "resourceId": graphID, "appRoleId": "e2a3a72e-5f79-4c64-b1b1-878b674786c9"})
	if status != 403 || !strings.HasPrefix(errMessage(m), "Authorization_RequestDenied") {
		t.Errorf("ordinary user grants Mail.ReadWrite: %d %v", status, m)
	}
	if got := tn.ApplicationPermissions(app.AppID); len(got) != 0 {
		t.Errorf("permissions granted: %v", got)
	}
}
