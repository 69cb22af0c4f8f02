//go:build linux

package service

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lifeboat-backup/lifeboat/engine/repo"
	"github.com/lifeboat-backup/lifeboat/engine/store/sharetest"
)

// TestShareCheck: a share whose rename does not replace (plain SFTP, some
// SMB servers) is refused when a backup is created on it, and a backup
// already there is not written to (repair, backup) but still opens and
// verifies; a share without fsync is accepted with a plain warning.
func TestShareCheck(t *testing.T) {
	ctx := t.Context()
	svc, _ := simService(t)

	noRename := sharetest.Flawed(t, sharetest.Flaws{NoRenameReplace: true})
	_, err := svc.InitBackup(ctx, filepath.Join(noRename.Dir, "Lifeboat"), false)
	if !errors.Is(err, ErrUnsafeShare) || !strings.Contains(err.Error(), "cannot hold a backup safely") ||
		!strings.Contains(err.Error(), "renaming another one over it") {
		t.Fatalf("init on a share that cannot rename over a file: %v", err)
	}
	if _, err := os.Stat(filepath.Join(noRename.Dir, "Lifeboat", "config")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a refused folder got a backup: %v", err)
	}

	// A backup made on the server's own disk, then used through the share.
	nb, err := svc.InitBackup(ctx, filepath.Join(noRename.ServerDir, "Lifeboat"), false)
	if err != nil {
		t.Fatal(err)
	}
	onShare := filepath.Join(noRename.Dir, "Lifeboat")
	r, err := svc.OpenBackup(ctx, onShare, nb.RecoveryKey)
	if err != nil {
		t.Fatalf("opening a backup on the flawed share: %v", err)
	}
	defer r.Close()
	if _, err := svc.Verify(ctx, r, repo.CheckOptions{ReadData: true}); err != nil {
		t.Fatalf("verify on the flawed share: %v", err)
	}
	if _, err := svc.Prune(ctx, r, PruneRequest{Policy: repo.DefaultPolicy()}); !errors.Is(err, ErrUnsafeShare) {
		t.Fatalf("prune on the flawed share: %v", err)
	}
	if _, err := svc.Repair(ctx, r); !errors.Is(err, ErrUnsafeShare) || !strings.Contains(err.Error(), "Restoring from a backup already there still works") {
		t.Fatalf("repair on the flawed share: %v", err)
	}
	_, err = svc.Backup(ctx, BackupRequest{Dir: onShare, RecoveryKey: nb.RecoveryKey})
	if !errors.Is(err, ErrUnsafeShare) {
		t.Fatalf("a backup to the flawed share: %v", err)
	}
	refused := err

	noSync := sharetest.Flawed(t, sharetest.Flaws{NoFsync: true})
	nb, err = svc.InitBackup(ctx, filepath.Join(noSync.Dir, "Lifeboat"), false)
	if err != nil {
		t.Fatalf("init on a share without fsync: %v", err)
	}
	if len(nb.Warnings) != 1 || !strings.Contains(nb.Warnings[0], "does not confirm that data has reached its disk") {
		t.Fatalf("warnings for a share without fsync: %q", nb.Warnings)
	}
	t.Logf("refused: %v\nwarned: %s", refused, nb.Warnings[0])

	// A local folder is checked when created, and never again.
	nb, err = svc.InitBackup(ctx, filepath.Join(t.TempDir(), "Lifeboat"), false)
	if err != nil || len(nb.Warnings) != 0 {
		t.Fatalf("init on a local disk: %+v %v", nb, err)
	}
}
