package cli

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestRecoveryKeyFlagWarns: a recovery key given as --recovery-key is in
// the process list for every user of the computer, so Lifeboat says so;
// given in LIFEBOAT_RECOVERY_KEY it opens the backup without a warning.
func TestRecoveryKeyFlagWarns(t *testing.T) {
	repoEnv(t)
	dir, key := initRepo(t, "--secret-store", "file")
	t.Setenv("LIFEBOAT_CONFIG_DIR", filepath.Join(t.TempDir(), "other-computer"))
	code, _, errOut := runCLI(t, "snapshots", "--backup", dir, "--secret-store", "file", "--recovery-key", key)
	if code != exitOK || !strings.Contains(errOut, "warning: --recovery-key is visible to other users of this computer") ||
		!strings.Contains(errOut, "LIFEBOAT_RECOVERY_KEY") {
		t.Fatalf("--recovery-key: exit %d, stderr %q", code, errOut)
	}
	if strings.Contains(errOut, key) {
		t.Error("the warning repeats the key")
	}
	t.Setenv("LIFEBOAT_RECOVERY_KEY", key)
	code, _, errOut = runCLI(t, "snapshots", "--backup", dir, "--secret-store", "file")
	if code != exitOK || strings.Contains(errOut, "--recovery-key is visible") {
		t.Fatalf("LIFEBOAT_RECOVERY_KEY: exit %d, stderr %q", code, errOut)
	}
}
