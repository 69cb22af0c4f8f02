package simtest

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
)

// TestSitesWithApplicationPermissions: an app token with Sites.Read.All
// lists every site (getAllSites and search=*), a site's libraries as
// documentLibrary drives, and reads a library through /drives/{id} like a
// OneDrive (delta, content); without a Sites or Files role it is refused,
// and a delegated token may not call getAllSites.
func TestSitesWithApplicationPermissions(t *testing.T) {
	srv := Start(t, nil, m365sim.Options{})
	tn := srv.Tenant()
	sales, err := tn.AddSite("sales", "Sales", m365sim.SiteTeam)
	if err != nil {
		t.Fatal(err)
	}
	contracts, err := tn.AddLibrary(sales.ID, "Contracts")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tn.AddSite("sales-private", "Sales - Private", m365sim.SiteChannel); err != nil {
		t.Fatal(err)
	}
	mod := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	if _, err := tn.PutLibraryFile(contracts.DriveID(), "2026/Fabrikam.docx", m365sim.BytesContent("signed"), mod); err != nil {
		t.Fatal(err)
	}

	now := time.Now()
	cert := NewCertificate(t, "CN=Lifeboat", now.Add(-time.Hour), now.Add(24*time.Hour))
	tok := func(perms ...string) string {
		app := registerApp(t, srv, cert, perms...)
		res, err := ConfidentialClient(t, srv, app.AppID, cert).AcquireTokenByCredential(t.Context(), []string{GraphDefault})
		if err != nil {
			t.Fatal(err)
		}
		return res.AccessToken
	}
	app := tok("Sites.Read.All")
	for _, p := range []string{"/sites/getAllSites", "/sites?search=*"} {
		status, m := graphGet(t, srv, p, app)
		if vals, _ := m["value"].([]any); status != 200 || len(vals) != 2 {
			t.Fatalf("%s: %d %v", p, status, m)
		}
	}
	if status, m := graphGet(t, srv, "/sites?search=private", app); status != 200 || len(m["value"].([]any)) != 1 {
		t.Errorf("search private: %d %v", status, m)
	}
	status, m := graphGet(t, srv, "/sites/"+url.PathEscape(sales.ID), app)
	if status != 200 || m["webUrl"] != "https://contoso.sharepoint.com/sites/sales" || m["displayName"] != "Sales" {
		t.Errorf("get site: %d %v", status, m)
	}
	status, m = graphGet(t, srv, "/sites/"+url.PathEscape(sales.ID)+"/drives", app)
	vals, _ := m["value"].([]any)
	if status != 200 || len(vals) != 2 {
		t.Fatalf("site drives: %d %v", status, m)
	}
	for i, want := range []string{"Documents", "Contracts"} {
		d := vals[i].(map[string]any)
		if d["name"] != want || d["driveType"] != "documentLibrary" {
			t.Errorf("library %d: %v", i, d)
		}
	}
	if vals[0].(map[string]any)["webUrl"] != "https://contoso.sharepoint.com/sites/sales/Shared%20Documents" {
		t.Errorf("default library URL: %v", vals[0].(map[string]any)["webUrl"])
	}
	status, m = graphGet(t, srv, "/drives/"+contracts.DriveID()+"/root/delta", app)
	items, _ := m["value"].([]any)
	if status != 200 || len(items) != 3 || m["@odata.deltaLink"] == nil {
		t.Fatalf("library delta: %d %v", status, m)
	}
	var file map[string]any
	for _, it := range items {
		if it.(map[string]any)["name"] == "Fabrikam.docx" {
			file = it.(map[string]any)
		}
	}
	if file == nil || file["fileSystemInfo"].(map[string]any)["lastModifiedDateTime"] != "2026-03-04T05:06:07Z" ||
		!strings.HasPrefix(file["webUrl"].(string), "https://contoso.sharepoint.com/sites/sales/Contracts/") {
		t.Errorf("library file: %v", file)
	}
	if status, m := graphGet(t, srv, "/users?$select=id", tok("User.Read.All")); status != 200 || len(m["value"].([]any)) != 2 {
		t.Errorf("a library's owner is no user: %d %v", status, m)
	}

	none := tok("User.Read.All")
	if status, m := graphGet(t, srv, "/sites/getAllSites", none); status != 403 || !strings.HasPrefix(errMessage(m), "accessDenied") {
		t.Errorf("getAllSites without Sites.*: %d %v", status, m)
	}
	if status, m := graphGet(t, srv, "/drives/"+contracts.DriveID()+"/root/children", none); status != 403 {
		t.Errorf("library without Files.* or Sites.*: %d %v", status, m)
	}
	alice, _, err := srv.IssueAccessTokenWithScopes(Alice, "Sites.Read.All")
	if err != nil {
		t.Fatal(err)
	}
	if status, m := graphGet(t, srv, "/sites/getAllSites", alice); status != 403 {
		t.Errorf("getAllSites delegated: %d %v", status, m)
	}
}
