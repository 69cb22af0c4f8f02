package simtest

import (
	"strings"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
)

// TestLeaversAndJoinersThroughGraph: a deleted user answers 404, leaves
// /users and is listed in the directory's deleted items, its mail is no
// longer served but its OneDrive is, by drive ID, for the retention
// period; a user stripped of the licence loses the mailbox and keeps the
// OneDrive; a new hire appears in /users with mail and files.
func TestLeaversAndJoinersThroughGraph(t *testing.T) {
	tn := SmallTenant(t)
	srv := Start(t, tn, m365sim.Options{})
	now := time.Now()
	cert := NewCertificate(t, "CN=Lifeboat", now.Add(-time.Hour), now.Add(24*time.Hour))
	app := registerApp(t, srv, cert, "User.Read.All", "Mail.ReadWrite", "Files.ReadWrite.All")
	res, err := ConfidentialClient(t, srv, app.AppID, cert).AcquireTokenByCredential(t.Context(), []string{GraphDefault})
	if err != nil {
		t.Fatal(err)
	}
	tok := res.AccessToken
	bob, err := tn.User(Bob)
	if err != nil {
		t.Fatal(err)
	}
	if err := tn.DeleteUser(Bob); err != nil {
		t.Fatal(err)
	}
	if status, m := graphGet(t, srv, "/users/"+bob.ID, tok); status != 404 || !strings.HasPrefix(errMessage(m), "Request_ResourceNotFound") {
		t.Errorf("deleted user: %d %v", status, m)
	}
	if _, m := graphGet(t, srv, "/users", tok); len(m["value"].([]any)) != 1 {
		t.Errorf("users after deletion: %v", m["value"])
	}
	status, m := graphGet(t, srv, "/directory/deletedItems/microsoft.graph.user", tok)
	if status != 200 || len(m["value"].([]any)) != 1 {
		t.Fatalf("deleted items: %d %v", status, m)
	}
	gone := m["value"].([]any)[0].(map[string]any)
	if gone["id"] != bob.ID || gone["deletedDateTime"] == nil || gone["userPrincipalName"] != Bob {
		t.Errorf("deleted item %v", gone)
	}
	if status, _ := graphGet(t, srv, "/users/"+bob.ID+"/messages", tok); status != 404 {
		t.Errorf("deleted user's mail: %d", status)
	}
	if status, m := graphGet(t, srv, "/drives/"+bob.Drive.ID+"/root/children", tok); status != 200 {
		t.Errorf("deleted user's OneDrive within retention: %d %v", status, m)
	}
	tn.SetOneDriveRetention(time.Millisecond)
	time.Sleep(5 * time.Millisecond)
	if status, _ := graphGet(t, srv, "/drives/"+bob.Drive.ID+"/root/children", tok); status != 404 {
		t.Errorf("deleted user's OneDrive after retention: %d", status)
	}

	if err := tn.RemoveLicence(Alice); err != nil {
		t.Fatal(err)
	}
	if status, m := graphGet(t, srv, "/users/"+Alice+"/messages", tok); status != 404 || !strings.HasPrefix(errMessage(m), "MailboxNotEnabledForRESTAPI") {
		t.Errorf("unlicensed user's mail: %d %v", status, m)
	}
	if status, m := graphGet(t, srv, "/users/"+Alice+"/drive/root/children", tok); status != 200 {
		t.Errorf("unlicensed user's OneDrive: %d %v", status, m)
	}
	if err := tn.ConvertToShared(Alice); err != nil {
		t.Fatal(err)
	}
	if status, m := graphGet(t, srv, "/users/"+Alice+"/messages", tok); status != 200 {
		t.Errorf("mail after conversion to a shared mailbox: %d %v", status, m)
	}

	hire, err := tn.Hire("Nina Novak", "")
	if err != nil {
		t.Fatal(err)
	}
	if hire.UPN != "nina.novak@contoso.test" {
		t.Errorf("new hire's address %s", hire.UPN)
	}
	if _, m := graphGet(t, srv, "/users", tok); len(m["value"].([]any)) != 2 {
		t.Errorf("users after hiring: %v", m["value"])
	}
	if status, m := graphGet(t, srv, "/users/"+hire.UPN+"/messages", tok); status != 200 || len(m["value"].([]any)) != 1 {
		t.Errorf("new hire's mail: %d %v", status, m)
	}
}
