package m365sim_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
)

// "Pre-authenticated download URLs are only valid for a short period of
// time (a few minutes)" (driveItem: get content): by default they die
// after DefaultDownloadURLLifetime, and Options.DownloadURLLifetime
// shortens that for tests.
func TestDownloadURLsLiveAFewMinutes(t *testing.T) {
	clock := &driveClock{now: time.Now()}
	tn := m365sim.NewTenant("Contoso", "contoso.test", clock.Now)
	if _, err := tn.AddUser(simtest.Alice, "Alice Archer"); err != nil {
		t.Fatal(err)
	}
	if _, err := tn.PutFile(simtest.Alice, "a.txt", m365sim.BytesContent("hello"), time.Time{}); err != nil {
		t.Fatal(err)
	}
	srv := simtest.Start(t, tn, m365sim.Options{})
	c := newDriveRaw(t, srv, simtest.Alice)
	u := driveStr(c.mustGet("/me/drive/root:/a.txt"), "@microsoft.graph.downloadUrl")
	clock.Advance(m365sim.DefaultDownloadURLLifetime - time.Second)
	if r := c.do(c.hc, u, false); r.status != http.StatusOK {
		t.Fatalf("a %v old URL = %d", m365sim.DefaultDownloadURLLifetime-time.Second, r.status)
	}
	clock.Advance(2 * time.Second)
	if r := c.do(c.hc, u, false); r.status != http.StatusUnauthorized {
		t.Fatalf("an expired URL = %d, want 401", r.status)
	}
	if m365sim.DefaultDownloadURLLifetime > 10*time.Minute {
		t.Errorf("default lifetime %v is not a few minutes", m365sim.DefaultDownloadURLLifetime)
	}

	short := simtest.Start(t, nil, m365sim.Options{DownloadURLLifetime: 50 * time.Millisecond})
	sc := newDriveRaw(t, short, simtest.Alice)
	u = driveStr(sc.mustGet("/me/drive/root:/empty.txt"), "@microsoft.graph.downloadUrl")
	time.Sleep(100 * time.Millisecond)
	if r := sc.do(sc.hc, u, false); r.status != http.StatusUnauthorized {
		t.Fatalf("a URL past a 50 ms lifetime = %d", r.status)
	}
}

// driveItem: delta, example 4: a URL-encoded timestamp in place of the
// token returns the changes since then (OneDrive for Business only), in
// both spellings of the example; and the 410 OneDrive sends in practice,
// code resyncRequired (onedrive-api-docs#1356), with a Location.
func TestDriveDeltaTimestampTokenAndResyncRequired(t *testing.T) {
	clock := &driveClock{now: time.Date(2021, 9, 29, 19, 0, 0, 0, time.UTC)}
	tn := m365sim.NewTenant("Contoso", "contoso.test", clock.Now)
	if _, err := tn.AddUser(simtest.Alice, "Alice Archer"); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"old/a.txt", "old/b.txt", "gone.txt"} {
		if _, err := tn.PutFile(simtest.Alice, p, m365sim.BytesContent(p), time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	clock.Advance(2 * time.Hour) // 21:00 UTC
	if _, err := tn.PutFile(simtest.Alice, "new/c.txt", m365sim.BytesContent("c"), time.Time{}); err != nil {
		t.Fatal(err)
	}
	g, _ := tn.DriveItemByPath(simtest.Alice, "gone.txt")
	if err := tn.DeleteDriveItem(simtest.Alice, g.ID); err != nil {
		t.Fatal(err)
	}
	srv := simtest.Start(t, tn, m365sim.Options{})
	c := newDriveRaw(t, srv, simtest.Alice)
	for _, ts := range []string{"2021-09-29T20:00:00Z", "2021-09-30T04:00:00+8:00"} {
		m := c.mustGet("/me/drive/root/delta?token=" + url.QueryEscape(ts))
		names := map[string]bool{}
		deleted := 0
		for _, v := range driveValues(m) {
			if _, ok := v["deleted"]; ok {
				deleted++
				continue
			}
			n, _ := v["name"].(string)
			names[n] = true
		}
		if !names["c.txt"] || names["a.txt"] || names["b.txt"] || deleted != 1 {
			t.Errorf("changes since %s: %v, %d deleted", ts, names, deleted)
		}
		if driveStr(m, "@odata.deltaLink") == "" {
			t.Errorf("no deltaLink after a timestamp")
		}
	}
	link := driveStr(c.mustGet("/me/drive/root/delta?token=latest"), "@odata.deltaLink")
	tn.ExpireDeltaTokensWith("resyncRequired")
	r := c.get(link)
	if r.status != http.StatusGone || r.errorCode(t) != "resyncRequired" || r.header.Get("Location") == "" {
		t.Fatalf("expired token: %d %v %s", r.status, r.header, r.body)
	}
}
