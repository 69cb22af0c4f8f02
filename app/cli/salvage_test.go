package cli

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
)

// TestRepairSalvage backs up a mailbox and a OneDrive, damages the
// biggest data file, and runs repair: without --salvage the damage stays
// (verify --read-data still finds a damaged blob); with it, repair says in
// plain words which emails and files are lost, and verify --read-data
// then finds no damaged data left indexed.
func TestRepairSalvage(t *testing.T) {
	_, profile, _ := loginEnv(t, m365sim.Options{AutoApprove: 10 * time.Millisecond})
	t.Setenv("LIFEBOAT_RECOVERY_KEY", "")
	t.Setenv("LIFEBOAT_REPO", "")
	ctx := t.Context()
	if code, out, errOut := lifeboat(t, ctx, "--tenant-profile", profile, "login", "--secret-store", "file"); code != exitOK {
		t.Fatalf("login: exit %d\n%s\n%s", code, out, errOut)
	}
	dir, _ := initRepo(t, "--secret-store", "file")
	if code, out, errOut := lifeboat(t, ctx, "--tenant-profile", profile, "backup", "--to", dir, "--secret-store", "file"); code != exitOK {
		t.Fatalf("backup: exit %d\n%s\n%s", code, out, errOut)
	}
	var victim string
	var size int64
	for _, p := range packFiles(t, dir) {
		if fi, _ := os.Stat(p); fi.Size() > size {
			victim, size = p, fi.Size()
		}
	}
	b, err := os.ReadFile(victim)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0x40
	if err := os.WriteFile(victim, b, 0o600); err != nil {
		t.Fatal(err)
	}
	verify := func() string {
		t.Helper()
		_, out, _ := lifeboat(t, ctx, "verify", "--read-data", "--backup", dir, "--secret-store", "file")
		return out
	}
	if out := verify(); !strings.Contains(out, "blob is damaged") {
		t.Fatalf("verify of the damaged backup:\n%s", out)
	}
	if code, out, errOut := lifeboat(t, ctx, "repair", "--backup", dir, "--secret-store", "file"); code != exitOK {
		t.Fatalf("repair: exit %d\n%s\n%s", code, out, errOut)
	}
	if out := verify(); !strings.Contains(out, "blob is damaged") {
		t.Fatalf("a plain repair mended damaged data?\n%s", out)
	}
	code, out, errOut := lifeboat(t, ctx, "repair", "--salvage", "--backup", dir, "--secret-store", "file")
	if code != exitOK {
		t.Fatalf("repair --salvage: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"Read back", "could not be read and", "These can no longer be restored from this backup:", "Everything else restores as before"} {
		if !strings.Contains(out, want) {
			t.Errorf("repair --salvage says nothing of %q:\n%s", want, out)
		}
	}
	if !strings.Contains(out, "  email \"") && !strings.Contains(out, "  file ") {
		t.Errorf("repair --salvage names no email or file:\n%s", out)
	}
	t.Logf("repair --salvage:\n%s", out)
	out = verify()
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "error:") && strings.Contains(line, "blob is damaged") {
			t.Fatalf("damaged data still indexed after the salvage:\n%s", out)
		}
	}
	if !strings.Contains(out, "repair dropped it") {
		t.Errorf("verify after the salvage:\n%s", out)
	}
	if _, err := os.Stat(victim); err != nil {
		t.Errorf("the salvage removed the damaged file: %v", err)
	}
}
