package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
)

// TestSetupCompanyPeopleAndBackup: the administrator signs in once with
// `lifeboat setup --company`, `lifeboat people` lists everyone, a backup
// covers them, and --exclude takes someone out of the next one.
func TestSetupCompanyPeopleAndBackup(t *testing.T) {
	srv, profile, _ := loginEnv(t, m365sim.Options{AutoApprove: 10 * time.Millisecond})
	if err := srv.Tenant().SetDirectoryRoles(simtest.Alice, m365sim.RoleGlobalAdministrator); err != nil {
		t.Fatal(err)
	}
	t.Setenv("LIFEBOAT_RECOVERY_KEY", "")
	t.Setenv("LIFEBOAT_REPO", "")
	ctx := t.Context()
	p := func(args ...string) []string { return append([]string{"--tenant-profile", profile}, args...) }

	if code, out, errOut := lifeboat(t, ctx, p("setup")...); code != exitUsage {
		t.Fatalf("setup without a choice: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut := lifeboat(t, ctx, p("setup", "--company", "--secret-store", "file")...)
	if code != exitOK || !strings.Contains(out, "enter the code:") || !strings.Contains(out, "Lifeboat Backup") ||
		!strings.Contains(out, "Lifeboat is set up for everyone in your company.") {
		t.Fatalf("setup --company: exit %d\n%s\n%s", code, out, errOut)
	}
	dir, _ := initRepo(t, "--secret-store", "file")
	code, out, errOut = lifeboat(t, ctx, p("backup", "--to", dir, "--secret-store", "file")...)
	if code != exitOK || !strings.Contains(out, simtest.Bob) {
		t.Fatalf("company backup: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = lifeboat(t, ctx, p("people", "--exclude", simtest.Bob, "--secret-store", "file")...)
	if code != exitOK || !strings.Contains(out, "1 protected") || !strings.Contains(out, "1 excluded") {
		t.Fatalf("people --exclude: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = lifeboat(t, ctx, p("backup", "--to", dir, "--secret-store", "file")...)
	if code != exitOK || strings.Contains(out, simtest.Bob) {
		t.Fatalf("backup with Bob excluded: exit %d\n%s\n%s", code, out, errOut)
	}
}
