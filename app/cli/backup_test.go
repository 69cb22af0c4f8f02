package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
)

// TestBackupCommand signs in with the real MSAL against the simulator,
// creates a backup folder and backs up into it, then checks the exit codes
// of a skipped item, a missing drive and a missing sign-in.
func TestBackupCommand(t *testing.T) {
	srv, profile, _ := loginEnv(t, m365sim.Options{AutoApprove: 10 * time.Millisecond})
	t.Setenv("LIFEBOAT_RECOVERY_KEY", "")
	t.Setenv("LIFEBOAT_REPO", "")
	ctx := t.Context()
	p := []string{"--tenant-profile", profile}
	withP := func(args ...string) []string { return append(append([]string(nil), p...), args...) }

	if code, out, errOut := lifeboat(t, ctx, withP("login", "--secret-store", "file")...); code != exitOK {
		t.Fatalf("login: exit %d\n%s\n%s", code, out, errOut)
	}
	dir, rk := initRepo(t, "--secret-store", "file")

	code, out, errOut := lifeboat(t, ctx, withP("backup", "--to", dir, "--secret-store", "file")...)
	if code != exitOK || !strings.Contains(out, "backed up:") {
		t.Fatalf("backup: exit %d\n%s\n%s", code, out, errOut)
	}
	if code, out, errOut := lifeboat(t, ctx, "verify", "--to", dir, "--secret-store", "file"); code != exitOK || !strings.Contains(out, "No damage found") {
		t.Fatalf("verify: exit %d\n%s\n%s", code, out, errOut)
	}
	repairCatalogAndSearch(t, dir)
	freshComputerFindsMail(t, dir, rk)
	if code, out, errOut := lifeboat(t, ctx, "prune", "--to", dir, "--secret-store", "file", "--dry-run"); code != exitOK {
		t.Fatalf("prune --dry-run: exit %d\n%s\n%s", code, out, errOut)
	}

	// A file deleted while it downloads: skipped, exit 4, JSON events.
	srv.FaultInjector().SetConfig(m365sim.FaultConfig{Only: "/_download/"})
	srv.FaultInjector().Force(m365sim.FaultGone, 1)
	if _, err := srv.Tenant().PutFile("alice@contoso.test", "new/report.txt", m365sim.BytesContent("quarterly report\n"), time.Time{}); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = lifeboat(t, ctx, withP("backup", "--to", dir, "--secret-store", "file", "--json", "--only", "onedrive")...)
	if code != exitWarnings {
		t.Fatalf("backup with a skipped item: exit %d\n%s\n%s", code, out, errOut)
	}
	var last map[string]any
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		last = nil
		if err := json.Unmarshal([]byte(line), &last); err != nil {
			t.Fatalf("--json line %q: %v", line, err)
		}
	}
	if last["event"] != "result" || last["status"] != "completed-with-warnings" || last["skipped"] == nil {
		t.Errorf("last event %v", last)
	}

	missing := filepath.Join(t.TempDir(), "unplugged")
	if code, _, errOut := lifeboat(t, ctx, withP("backup", "--to", missing, "--secret-store", "file")...); code != exitDestinationMissing ||
		!strings.Contains(errOut, "backup drive not found") {
		t.Errorf("missing drive: exit %d\n%s", code, errOut)
	}
	if code, _, _ := lifeboat(t, ctx, withP("backup", "--to", dir, "--only", "diary")...); code != exitUsage {
		t.Errorf("--only diary: exit %d", code)
	}

	if code, out, errOut := lifeboat(t, ctx, withP("logout", "--secret-store", "file")...); code != exitOK {
		t.Fatalf("logout: exit %d\n%s\n%s", code, out, errOut)
	}
	if code, _, errOut := lifeboat(t, ctx, withP("backup", "--to", dir, "--secret-store", "file")...); code != exitSignInRequired {
		t.Errorf("signed out: exit %d\n%s", code, errOut)
	}
}

// repairCatalogAndSearch damages, then deletes, this computer's catalog of
// the backup in dir; each time `repair` restores it from the copy stored in
// the backup, and search finds the backed-up mail again.
func repairCatalogAndSearch(t *testing.T, dir string) {
	t.Helper()
	ctx := t.Context()
	paths, _ := filepath.Glob(filepath.Join(os.Getenv("LIFEBOAT_CONFIG_DIR"), "catalogs", "*.db"))
	if len(paths) != 1 {
		t.Fatalf("local catalogs: %v", paths)
	}
	path := paths[0]
	search := func() int {
		t.Helper()
		c, err := catalog.Open(ctx, path, catalog.Options{Check: true})
		if err != nil {
			t.Fatalf("open the repaired catalog: %v", err)
		}
		defer c.Close()
		hits, err := c.Search(ctx, catalog.SearchQuery{Text: "invoice", Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		return len(hits)
	}
	want := search()
	if want == 0 {
		t.Fatal("the catalog finds no invoice after a backup")
	}
	if code, out, errOut := lifeboat(t, ctx, "repair", "--to", dir, "--secret-store", "file"); code != exitOK || !strings.Contains(out, "undamaged") {
		t.Fatalf("repair of a sound catalog: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, damage := range []string{"garbage", "delete"} {
		for _, suffix := range []string{"-wal", "-shm"} {
			os.Remove(path + suffix)
		}
		if damage == "delete" {
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
		} else if err := os.WriteFile(path, bytes.Repeat([]byte("not a database "), 4096), 0o600); err != nil {
			t.Fatal(err)
		}
		code, out, errOut := lifeboat(t, ctx, "repair", "--to", dir, "--secret-store", "file")
		if code != exitOK || !strings.Contains(out, "Restored the catalog") {
			t.Fatalf("repair after %s: exit %d\n%s\n%s", damage, code, out, errOut)
		}
		if got := search(); got != want {
			t.Errorf("after %s and repair, search finds %d items, want %d", damage, got, want)
		}
	}
}

// freshComputerFindsMail moves the backup to another computer (a new config
// folder, no keychain entry, no catalog): with the recovery key, repair
// restores the catalog from the backup and search finds the mail again.
func freshComputerFindsMail(t *testing.T, dir, rk string) {
	t.Helper()
	ctx := t.Context()
	moved := filepath.Join(t.TempDir(), "usb", "Lifeboat backup")
	if err := os.CopyFS(moved, os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	newConfig := filepath.Join(t.TempDir(), "new-computer")
	oldConfig := os.Getenv("LIFEBOAT_CONFIG_DIR")
	t.Setenv("LIFEBOAT_CONFIG_DIR", newConfig)
	defer t.Setenv("LIFEBOAT_CONFIG_DIR", oldConfig)
	if code, _, errOut := lifeboat(t, ctx, "snapshots", "--to", moved, "--secret-store", "file"); code == exitOK {
		t.Fatalf("the new computer opened the backup without the recovery key: %s", errOut)
	}
	code, out, errOut := lifeboat(t, ctx, "repair", "--to", moved, "--recovery-key", rk)
	if code != exitOK || !strings.Contains(out, "Restored the catalog") {
		t.Fatalf("repair on the new computer: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = lifeboat(t, ctx, "verify", "--to", moved, "--recovery-key", rk, "--read-data")
	if code != exitOK || !strings.Contains(out, "No damage found") {
		t.Fatalf("verify on the new computer: exit %d\n%s\n%s", code, out, errOut)
	}
	paths, _ := filepath.Glob(filepath.Join(newConfig, "catalogs", "*.db"))
	if len(paths) != 1 {
		t.Fatalf("catalogs on the new computer: %v", paths)
	}
	c, err := catalog.Open(ctx, paths[0], catalog.Options{Check: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	hits, err := c.Search(ctx, catalog.SearchQuery{Text: "invoice", Kind: catalog.KindMail, Limit: 100})
	if err != nil || len(hits) == 0 {
		t.Fatalf("search on the new computer: %v, %d hits", err, len(hits))
	}
	files, err := c.Search(ctx, catalog.SearchQuery{Text: "budget", Kind: catalog.KindFile})
	if err != nil || len(files) == 0 {
		t.Fatalf("file search on the new computer: %v, %d hits", err, len(files))
	}
}
