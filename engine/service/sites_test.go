package service

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/auth"
	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
	"github.com/lifeboat-backup/lifeboat/engine/orgsetup"
	"github.com/lifeboat-backup/lifeboat/engine/repo"
	"github.com/lifeboat-backup/lifeboat/engine/restore"
)

// siteFiles are a library's seeded files, odd names included.
var siteFiles = map[string]string{
	"Fabrikam contract.docx":                  "signed by both parties",
	"Q1/Büro & Co/Rechnung #12 (final).pdf":   strings.Repeat("invoice ", 5000),
	"Q1/日本語のファイル.txt":                         "こんにちは",
	"Q1/two  spaces and 100% odd ' name.xlsx": "cells",
	"Empty folder sibling/empty.txt":          "",
	"Deep/a/b/c/d/e/f/g/h/i/j/k/deepest.md":   "# deep",
	"Emoji 🎉 party.txt":                       "party",
	"Trailing.dots.in.the.name.tar.gz":        "gz",
	"Grüße/Ünïcödé façade – résumé (2).docx":  "résumé",
}

func seedSite(t *testing.T, tn *m365sim.Tenant, name, display string, kind m365sim.SiteKind, extra ...string) *m365sim.Site {
	t.Helper()
	st, err := tn.AddSite(name, display, kind)
	if err != nil {
		t.Fatal(err)
	}
	for _, lib := range extra {
		if _, err := tn.AddLibrary(st.ID, lib); err != nil {
			t.Fatal(err)
		}
	}
	return st
}

// TestCompanyBackupCoversSiteLibrariesAndRestoresThem: in organization
// mode every site's libraries (a team site with two, a private channel's
// own site) are backed up as accounts of their own; a library file deleted
// in Microsoft 365 is found by name and restored to its library with its
// timestamps; a whole library restores to disk byte for byte; an excluded
// site is not backed up again; a new site is found at the next run.
func TestCompanyBackupCoversSiteLibrariesAndRestoresThem(t *testing.T) {
	tn := companyTenant(t)
	sales := seedSite(t, tn, "sales", "Sales", m365sim.SiteTeam, "Contracts")
	private := seedSite(t, tn, "sales-board", "Sales - Board", m365sim.SiteChannel)
	mod := time.Date(2025, 7, 1, 8, 30, 0, 0, time.UTC)
	contracts := sales.Library("Contracts").DriveID()
	for p, body := range siteFiles {
		if _, err := tn.PutLibraryFile(contracts, p, m365sim.BytesContent(body), mod); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
	}
	if _, err := tn.PutLibraryFile(sales.Libraries[0].DriveID(), "Team plan.docx", m365sim.BytesContent("plan"), mod); err != nil {
		t.Fatal(err)
	}
	if _, err := tn.PutLibraryFile(private.Libraries[0].DriveID(), "Board minutes.docx", m365sim.BytesContent("minutes"), mod); err != nil {
		t.Fatal(err)
	}
	_, svc, dir := companyOffice(t, tn, nil)
	ctx := t.Context()
	sum, err := svc.Backup(ctx, BackupRequest{Dir: dir})
	if err != nil {
		t.Fatalf("company backup: %v", err)
	}
	got := map[string]bool{}
	for _, ar := range sum.Accounts {
		if ar.Err != nil {
			t.Errorf("%s: %v", ar.Account, ar.Err)
		}
		got[ar.Account] = true
	}
	for _, want := range []string{"Sales - Documents", "Sales - Contracts", "Sales - Board - Documents", simtest.Alice} {
		if !got[want] {
			t.Errorf("%q not backed up (got %v)", want, got)
		}
	}
	list, err := svc.Sites()
	if err != nil || len(list) != 2 || len(list[0].Libraries) != 2 {
		t.Fatalf("sites: %+v %v", list, err)
	}

	// Paul deleted the contract in SharePoint.
	gone, err := tn.LibraryItemByPath(contracts, "Fabrikam contract.docx")
	if err != nil {
		t.Fatal(err)
	}
	if err := tn.DeleteLibraryItem(contracts, gone.ID); err != nil {
		t.Fatal(err)
	}
	// The owner excludes the private channel's site; a new site appears.
	if _, err := svc.SetSiteExcluded([]string{"Sales - Board"}, true); err != nil {
		t.Fatal(err)
	}
	seedSite(t, tn, "marketing", "Marketing", m365sim.SiteCommunication)
	var notes []string
	sum, err = svc.Backup(ctx, BackupRequest{Dir: dir, Events: BackupEvents{Note: func(s string) { notes = append(notes, s) }}})
	if err != nil {
		t.Fatalf("second backup: %v", err)
	}
	got = map[string]bool{}
	for _, ar := range sum.Accounts {
		got[ar.Account] = true
	}
	if got["Sales - Board - Documents"] || !got["Marketing - Documents"] {
		t.Errorf("second run backed up %v: want the excluded site left out and the new one in", got)
	}
	if !strings.Contains(strings.Join(notes, "\n"), `"Marketing" is new`) {
		t.Errorf("notes %q: want the new site named", notes)
	}

	b, err := svc.OpenBrowser(ctx, dir, "")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	hits, err := b.Find(ctx, FindRequest{Text: "Fabrikam contract"})
	if err != nil {
		t.Fatal(err)
	}
	var sels []Selection
	for _, h := range hits {
		if h.Version.Name == "Fabrikam contract.docx" {
			sels = append(sels, Selection{Version: h.Version.ID})
		}
	}
	if len(sels) != 1 {
		t.Fatalf("find the deleted contract by name: %+v", hits)
	}
	items, err := b.Select(ctx, sels)
	if err != nil {
		t.Fatal(err)
	}
	pl, err := b.PlanRestore(ctx, RestoreRequest{Items: items, To: ToOriginal, Conflict: restore.ConflictRename})
	if err != nil {
		t.Fatal(err)
	}
	res, err := b.RunRestore(ctx, pl, RestoreEvents{})
	pl.Close()
	if err != nil || res.Restored != 1 {
		t.Fatalf("restore into the library: %+v %v", res, err)
	}
	back, err := tn.LibraryItemByPath(contracts, "Fabrikam contract.docx")
	if err != nil {
		t.Fatalf("the contract is not back in its library: %v", err)
	}
	if !back.FSModified.Equal(mod) || !back.FSCreated.Equal(mod) {
		t.Errorf("restored timestamps %v / %v, want %v", back.FSCreated, back.FSModified, mod)
	}
	if body := readContent(t, back); body != siteFiles["Fabrikam contract.docx"] {
		t.Errorf("restored content %q", body)
	}

	// The whole Contracts library to disk, as the next backup holds it, in
	// a folder named for the library.
	if _, err := svc.Backup(ctx, BackupRequest{Dir: dir}); err != nil {
		t.Fatalf("third backup: %v", err)
	}
	b3, err := svc.OpenBrowser(ctx, dir, "")
	if err != nil {
		t.Fatal(err)
	}
	defer b3.Close()
	items, err = b3.Select(ctx, []Selection{{Account: libraryHomeID(contracts, tn.ID), Kind: catalog.KindFile}})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out")
	pl, err = b3.PlanRestore(ctx, RestoreRequest{Items: items, To: ToDir, Dir: out})
	if err != nil {
		t.Fatal(err)
	}
	res, err = b3.RunRestore(ctx, pl, RestoreEvents{})
	pl.Close()
	if err != nil || res.Restored != len(siteFiles) {
		t.Fatalf("library to disk: %+v %v (want %d files)", res, err, len(siteFiles))
	}
	live, err := tn.LibraryItems(contracts)
	if err != nil {
		t.Fatal(err)
	}
	files := 0
	for _, it := range live {
		if it.Folder {
			continue
		}
		files++
		p, err := tn.LibraryItemPath(contracts, it.ID)
		if err != nil {
			t.Fatal(err)
		}
		disk, err := os.ReadFile(filepath.Join(out, "Sales - Contracts", filepath.FromSlash(p)))
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		if !bytes.Equal(disk, []byte(readContent(t, it))) {
			t.Errorf("%s differs on disk", p)
		}
		if st, _ := os.Stat(filepath.Join(out, "Sales - Contracts", filepath.FromSlash(p))); st != nil && !st.ModTime().Equal(it.FSModified) {
			t.Errorf("%s: modified %v on disk, want %v", p, st.ModTime(), it.FSModified)
		}
	}
	if files != len(siteFiles) {
		t.Errorf("%d files in the library, want %d", files, len(siteFiles))
	}
}

func readContent(t *testing.T, it m365sim.DriveItem) string {
	t.Helper()
	rs := it.Content.Open()
	if c, ok := rs.(io.Closer); ok {
		defer c.Close()
	}
	b, err := io.ReadAll(rs)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestCompanyBackupWithoutSitePermissionSaysSoAndGoesOn: a company set up
// before Lifeboat asked for Sites.ReadWrite.All cannot list the sites; the
// backup says so in plain words and everyone else is backed up.
func TestCompanyBackupWithoutSitePermissionSaysSoAndGoesOn(t *testing.T) {
	tn := companyTenant(t)
	seedSite(t, tn, "sales", "Sales", m365sim.SiteTeam)
	srv := simtest.Start(t, tn, m365sim.Options{})
	tenant, err := TenantFromProfile(srv.Profile(), "")
	if err != nil {
		t.Fatal(err)
	}
	svc := testService(t, func(o *Options) { o.Tenant = tenant })
	ctx := t.Context()
	cert, err := auth.NewAppCertificate(orgsetup.DefaultDisplayName, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	app, err := tn.RegisterApplication(orgsetup.DefaultDisplayName, cert.Cert)
	if err != nil {
		t.Fatal(err)
	}
	var perms []string
	for _, p := range orgsetup.Permissions() {
		if !strings.HasPrefix(p, "Sites.") {
			perms = append(perms, p)
		}
	}
	if err := tn.GrantApplicationPermissions(app.AppID, perms...); err != nil {
		t.Fatal(err)
	}
	st, err := svc.companyStore()
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Save(auth.AppCredential{TenantID: tn.ID, AppID: app.AppID, ObjectID: app.ID, Current: cert, Completed: time.Now()}); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "backup")
	if _, err := svc.InitBackup(ctx, dir, true); err != nil {
		t.Fatal(err)
	}
	var notes []string
	sum, err := svc.Backup(ctx, BackupRequest{Dir: dir, Events: BackupEvents{Note: func(s string) { notes = append(notes, s) }}})
	if err != nil {
		t.Fatalf("company backup: %v", err)
	}
	if len(sum.Accounts) != 4 {
		t.Errorf("backed up %d accounts, want the 4 people", len(sum.Accounts))
	}
	if !strings.Contains(strings.Join(notes, "\n"), "did not let Lifeboat see your company's SharePoint sites") {
		t.Errorf("notes %q: want the sites refusal explained", notes)
	}
}

// TestDeletedSitesLastCopyOutlivesRetention: a site deleted in Microsoft
// 365 is noted, and the last copy of its libraries is pinned against
// retention, as a departed person's is.
func TestDeletedSitesLastCopyOutlivesRetention(t *testing.T) {
	tn := companyTenant(t)
	st := seedSite(t, tn, "projects", "Projects", m365sim.SiteTeam)
	if _, err := tn.PutLibraryFile(st.Libraries[0].DriveID(), "Plan.docx", m365sim.BytesContent("plan"), sitesMod); err != nil {
		t.Fatal(err)
	}
	_, svc, dir := companyOffice(t, tn, nil)
	ctx := t.Context()
	if _, err := svc.Backup(ctx, BackupRequest{Dir: dir}); err != nil {
		t.Fatal(err)
	}
	if err := tn.DeleteSite(st.ID); err != nil {
		t.Fatal(err)
	}
	var notes []string
	if _, err := svc.Backup(ctx, BackupRequest{Dir: dir, Events: BackupEvents{Note: func(s string) { notes = append(notes, s) }}}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(notes, "\n"), `"Projects" is no longer there`) {
		t.Errorf("notes %q", notes)
	}
	r, err := svc.OpenBackup(ctx, dir, "")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	pol, err := svc.pinDeparted(ctx, r, nil, repo.Policy{KeepDaily: 1})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, why := range pol.Pinned {
		found = found || strings.Contains(why, "SharePoint library Projects - Documents")
	}
	if !found {
		t.Errorf("pinned %v: want the deleted site's library kept", pol.Pinned)
	}
}
