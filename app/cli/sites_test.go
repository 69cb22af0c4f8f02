package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/service"
	"github.com/lifeboat-backup/lifeboat/engine/sites"
)

// TestSitesListExcludeInclude: `lifeboat sites` lists what the company
// backup found; exclude and include change what the next backup covers.
func TestSitesListExcludeInclude(t *testing.T) {
	cfg := t.TempDir()
	t.Setenv("LIFEBOAT_CONFIG_DIR", cfg)
	t.Setenv("LIFEBOAT_SECRET_STORE", "file")
	path := filepath.Join(cfg, service.SitesFile)
	var l sites.List
	l.Update(time.Now(), []sites.Observed{{ID: "s1", DisplayName: "Sales", WebURL: "https://contoso.sharepoint.com/sites/sales"},
		{ID: "s2", DisplayName: "Board", WebURL: "https://contoso.sharepoint.com/sites/board"}})
	l.Sites["s1"].Libraries = []sites.Library{{DriveID: "b!1", Name: "Documents"}, {DriveID: "b!2", Name: "Contracts"}}
	if err := sites.Save(path, l); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCLI(t, "sites")
	if code != exitOK || !strings.Contains(out, "Sales  https://contoso.sharepoint.com/sites/sales  (backed up)") ||
		!strings.Contains(out, "libraries: Documents, Contracts") || strings.Index(out, "Board") > strings.Index(out, "Sales") {
		t.Fatalf("sites: exit %d\n%s%s", code, out, errs)
	}
	if code, out, errs := runCLI(t, "sites", "exclude", "https://contoso.sharepoint.com/sites/board"); code != exitOK || !strings.Contains(out, "you excluded it") {
		t.Fatalf("exclude: exit %d\n%s%s", code, out, errs)
	}
	if l, err := sites.Load(path); err != nil || !l.Sites["s2"].Excluded {
		t.Fatalf("after exclude: %+v %v", l.Sites["s2"], err)
	}
	if code, _, errs := runCLI(t, "sites", "exclude", "Nope"); code != exitUsage || !strings.Contains(errs, "no site called") {
		t.Errorf("unknown site: exit %d %s", code, errs)
	}
	if code, _, _ := runCLI(t, "sites", "include", "board"); code != exitOK {
		t.Errorf("include: exit %d", code)
	}
	if l, _ := sites.Load(path); l.Sites["s2"].Excluded {
		t.Error("still excluded after include")
	}
	_ = os.Remove(path)
}
