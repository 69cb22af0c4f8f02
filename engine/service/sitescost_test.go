package service

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
)

// TestSitesNoChangeIncrementalCostsAboutOneRequestPerLibrary: with 20
// sites (21 libraries), a company backup with no change asks Microsoft
// once for the list of sites and once per library (its delta), nothing
// more: site libraries are listed again only daily.
func TestSitesNoChangeIncrementalCostsAboutOneRequestPerLibrary(t *testing.T) {
	tn := companyTenant(t)
	libraries := map[string]bool{}
	for i := range 20 {
		var extra []string
		if i == 0 {
			extra = []string{"Archive"}
		}
		st := seedSite(t, tn, fmt.Sprintf("site-%02d", i), fmt.Sprintf("Site %02d", i), m365sim.SiteTeam, extra...)
		for _, l := range st.Libraries {
			libraries[l.DriveID()] = true
			for j := range 3 {
				if _, err := tn.PutLibraryFile(l.DriveID(), fmt.Sprintf("folder/file %d.txt", j), m365sim.BytesContent(fmt.Sprintf("%s %d", st.Name, j)), sitesMod); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	srv, svc, dir := companyOffice(t, tn, nil)
	ctx := t.Context()
	if _, err := svc.Backup(ctx, BackupRequest{Dir: dir}); err != nil {
		t.Fatalf("first backup: %v", err)
	}
	srv.Requests().Reset()
	if _, err := svc.Backup(ctx, BackupRequest{Dir: dir}); err != nil {
		t.Fatalf("second backup: %v", err)
	}
	siteReqs, libReqs, total := 0, 0, 0
	for _, e := range srv.Requests().Entries() {
		if !strings.HasPrefix(e.Path, "/v1.0/") {
			continue
		}
		total++
		switch {
		case strings.HasPrefix(e.Path, "/v1.0/sites"):
			siteReqs++
		case strings.HasPrefix(e.Path, "/v1.0/drives/"):
			if id, _, _ := strings.Cut(strings.TrimPrefix(e.Path, "/v1.0/drives/"), "/"); libraries[id] {
				libReqs++
			}
		}
	}
	t.Logf("no-change incremental: %d libraries, %d site requests, %d library requests; %d Graph requests in all (people included)",
		len(libraries), siteReqs, libReqs, total)
	if libReqs != len(libraries) || siteReqs != 1 {
		t.Errorf("no-change incremental: %d site and %d library requests for %d libraries; want 1 and one per library",
			siteReqs, libReqs, len(libraries))
	}
}

var sitesMod = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
