package simtest

import (
	"strings"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
)

// TestUsersInEveryState: GET /users lists everyone, paged, whatever their
// account and licence; $select shows accountEnabled and assignedLicenses;
// mailboxSettings tells shared and room mailboxes apart; a user with no
// mailbox or no OneDrive gets the documented 404s, and a shared mailbox on
// a disabled, unlicensed account is still readable app-only.
func TestUsersInEveryState(t *testing.T) {
	tn := SmallTenant(t)
	add := func(upn, name string, st m365sim.UserState) {
		t.Helper()
		if _, err := tn.AddUser(upn, name); err != nil {
			t.Fatal(err)
		}
		if err := tn.SetUserState(upn, st); err != nil {
			t.Fatal(err)
		}
	}
	add("info@contoso.test", "Info", m365sim.UserState{Mailbox: m365sim.MailboxShared})
	add("boardroom@contoso.test", "Board Room", m365sim.UserState{Mailbox: m365sim.MailboxRoom})
	add("svc@contoso.test", "Scanner Service", m365sim.UserState{AccountEnabled: true, Mailbox: m365sim.MailboxNone})
	if _, err := tn.AddMessage("info@contoso.test", "inbox", []byte("From: a@example.com\r\nTo: info@contoso.test\r\nSubject: Quote request\r\nMessage-ID: <q1@example.com>\r\nDate: Mon, 7 Dec 2026 09:00:00 +0000\r\n\r\nHello\r\n"), m365sim.MessageOptions{}); err != nil {
		t.Fatal(err)
	}
	srv := Start(t, tn, m365sim.Options{})
	now := time.Now()
	cert := NewCertificate(t, "CN=Lifeboat", now.Add(-time.Hour), now.Add(24*time.Hour))
	app := registerApp(t, srv, cert, "User.Read.All", "MailboxSettings.Read", "Mail.ReadWrite", "Files.ReadWrite.All")
	res, err := ConfidentialClient(t, srv, app.AppID, cert).AcquireTokenByCredential(t.Context(), []string{GraphDefault})
	if err != nil {
		t.Fatal(err)
	}
	tok := res.AccessToken

	seen := map[string]map[string]any{}
	path := "/users?$select=id,userPrincipalName,accountEnabled,assignedLicenses&$top=2"
	for pages := 0; path != ""; pages++ {
		if pages > 5 {
			t.Fatal("paging does not end")
		}
		status, m := graphGet(t, srv, path, tok)
		if status != 200 {
			t.Fatalf("GET %s: %d %v", path, status, m)
		}
		vals, _ := m["value"].([]any)
		if len(vals) > 2 {
			t.Fatalf("page of %d users with $top=2", len(vals))
		}
		for _, v := range vals {
			u := v.(map[string]any)
			seen[u["userPrincipalName"].(string)] = u
		}
		next, _ := m["@odata.nextLink"].(string)
		path = strings.TrimPrefix(next, srv.GraphURL())
	}
	if len(seen) != 5 {
		t.Fatalf("listed %d users, want all 5: %v", len(seen), seen)
	}
	if info := seen["info@contoso.test"]; info["accountEnabled"] != false || len(info["assignedLicenses"].([]any)) != 0 {
		t.Errorf("shared mailbox account: %v, want disabled and unlicensed", info)
	}
	if alice := seen[Alice]; alice["accountEnabled"] != true || len(alice["assignedLicenses"].([]any)) != 1 {
		t.Errorf("employee: %v, want enabled and licensed", alice)
	}
	if _, m := graphGet(t, srv, "/users", tok); m["value"].([]any)[0].(map[string]any)["accountEnabled"] != nil {
		t.Errorf("accountEnabled is not in the default property set")
	}

	for upn, want := range map[string]string{Alice: "user", "info@contoso.test": "shared", "boardroom@contoso.test": "room"} {
		if status, m := graphGet(t, srv, "/users/"+upn+"/mailboxSettings", tok); status != 200 || m["userPurpose"] != want {
			t.Errorf("%s mailboxSettings: %d %v, want userPurpose %s", upn, status, m, want)
		}
		if status, m := graphGet(t, srv, "/users/"+upn+"/mailboxSettings/userPurpose", tok); status != 200 || m["value"] != want {
			t.Errorf("%s mailboxSettings/userPurpose: %d %v", upn, status, m)
		}
	}
	if status, m := graphGet(t, srv, "/users/info@contoso.test/mailFolders/inbox/messages", tok); status != 200 || len(m["value"].([]any)) != 1 {
		t.Errorf("shared mailbox on a disabled, unlicensed account: %d %v", status, m)
	}
	for _, p := range []string{"/messages", "/mailFolders", "/mailboxSettings"} {
		status, m := graphGet(t, srv, "/users/svc@contoso.test"+p, tok)
		if status != 404 || !strings.HasPrefix(errMessage(m), "MailboxNotEnabledForRESTAPI") {
			t.Errorf("no mailbox %s: %d %v", p, status, m)
		}
	}
	status, m := graphGet(t, srv, "/users/svc@contoso.test/drive", tok)
	if status != 404 || errMessage(m) != "ResourceNotFound: User's mysite not found." {
		t.Errorf("no OneDrive: %d %v", status, m)
	}
}
