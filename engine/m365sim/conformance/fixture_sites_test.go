package conformance

import (
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
)

// seedSites gives the fixture tenant two sites: "Team A Site" with its
// Documents library and a second library "Contracts" holding a file, and
// "Team B Site".
func seedSites(t *testing.T, f *fixture) {
	t.Helper()
	a, err := f.tn.AddSite("siteA", "Team A Site", m365sim.SiteTeam)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.tn.AddSite("siteB", "Team B Site", m365sim.SiteTeam); err != nil {
		t.Fatal(err)
	}
	contracts, err := f.tn.AddLibrary(a.ID, "Contracts")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.tn.PutLibraryFile(contracts.DriveID(), "Fabrikam.docx", m365sim.BytesContent("signed"), time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	f.vars["siteId"] = a.ID
	f.vars["siteDriveId"] = contracts.DriveID()
}

// appToken is an application token of an app granted Sites.Read.All,
// got through client credentials with a certificate by the real MSAL.
func (f *fixture) appToken(t *testing.T) string {
	t.Helper()
	if tok := f.vars["appToken"]; tok != "" {
		return tok
	}
	now := time.Now()
	cert := simtest.NewCertificate(t, "CN=Conformance", now.Add(-time.Hour), now.Add(24*time.Hour))
	app, err := f.tn.RegisterApplication("Conformance", cert.Cert)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.tn.GrantApplicationPermissions(app.AppID, "Sites.Read.All"); err != nil {
		t.Fatal(err)
	}
	res, err := simtest.ConfidentialClient(t, f.srv, app.AppID, cert).AcquireTokenByCredential(t.Context(), []string{simtest.GraphDefault})
	if err != nil {
		t.Fatal(err)
	}
	f.vars["appToken"] = res.AccessToken
	return res.AccessToken
}
