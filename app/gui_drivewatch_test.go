package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/repo"
	"github.com/lifeboat-backup/lifeboat/engine/store"
	"github.com/lifeboat-backup/lifeboat/engine/volumes"
)

// TestWatchForMissedBackup: after a scheduled run found the drive missing,
// the running app starts the backup as soon as the drive is plugged in
// again, here under another mount point, and remembers the new path.
func TestWatchForMissedBackup(t *testing.T) {
	cfg := t.TempDir()
	t.Setenv("LIFEBOAT_CONFIG_DIR", cfg)
	t.Setenv("LIFEBOAT_REPO", "")
	t.Setenv("LIFEBOAT_RECOVERY_KEY", "")
	mountA, mountB, away := t.TempDir(), t.TempDir(), t.TempDir()
	dir := filepath.Join(mountA, "Lifeboat")
	_, rk := initRepoAt(t, dir)
	st, err := store.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	r, err := repo.Open(context.Background(), st, rk, repo.Options{Logger: quietLog})
	if err != nil {
		t.Fatal(err)
	}
	id := r.Config().ID.String()
	r.Close()
	if err := saveSettings(cfg, settings{Destination: dir, RepositoryID: id}); err != nil {
		t.Fatal(err)
	}
	find := volumes.FindOptions{Roots: []string{mountA, mountB}}
	watch := func() chan struct{} {
		started := make(chan struct{})
		watchForMissedBackup(t.Context(), cfg, find, 20*time.Millisecond, quietLog, func() { close(started) })
		return started
	}

	// No missed run: nothing is watched.
	if started := watch(); waitFor(started, 300*time.Millisecond) {
		t.Fatal("a backup started though no scheduled run missed the drive")
	}

	// The scheduled run missed the drive; it is unplugged.
	if err := saveScheduleState(cfg, scheduleState{LastMissing: time.Now().UTC()}); err != nil {
		t.Fatal(err)
	}
	unplugged := filepath.Join(away, "Lifeboat")
	if err := os.Rename(dir, unplugged); err != nil {
		t.Fatal(err)
	}
	started := watch()
	if waitFor(started, 300*time.Millisecond) {
		t.Fatal("the backup started while the drive was unplugged")
	}
	moved := filepath.Join(mountB, "Lifeboat")
	if err := os.Rename(unplugged, moved); err != nil {
		t.Fatal(err)
	}
	if !waitFor(started, 10*time.Second) {
		t.Fatal("the backup did not start when the drive came back")
	}
	set, err := loadSettings(cfg)
	if err != nil || set.Destination != moved {
		t.Errorf("settings after the drive came back: %v %+v; want destination %s", err, set, moved)
	}
}

func waitFor(ch chan struct{}, d time.Duration) bool {
	select {
	case <-ch:
		return true
	case <-time.After(d):
		return false
	}
}

// initRepoAt creates a backup in dir with the file secret store and
// returns dir and its recovery key.
func initRepoAt(t *testing.T, dir string) (string, string) {
	t.Helper()
	code, out, errOut := runCLI(t, "init", "--to", dir, "--secret-store", "file")
	if code != exitOK {
		t.Fatalf("init: exit %d: %s", code, errOut)
	}
	m := recoveryKeyRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("init printed no recovery key:\n%s", out)
	}
	return dir, m[1]
}
