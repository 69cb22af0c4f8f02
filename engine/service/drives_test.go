package service

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestWatchForMissedBackup: after a scheduled run found the drive missing,
// the running app starts the backup as soon as the drive is plugged in
// again, here under another mount point, and remembers the new path.
func TestWatchForMissedBackup(t *testing.T) {
	mountA, mountB, away := t.TempDir(), t.TempDir(), t.TempDir()
	svc := testService(t, func(o *Options) { o.FindRoots = []string{mountA, mountB} })
	cfg := svc.ConfigDir()
	dir := filepath.Join(mountA, "Lifeboat")
	if _, err := svc.InitBackup(t.Context(), dir, true); err != nil {
		t.Fatal(err)
	}
	watch := func() chan struct{} {
		started := make(chan struct{})
		svc.WatchForMissedBackup(t.Context(), 20*time.Millisecond, func() { close(started) })
		return started
	}

	// No missed run: nothing is watched.
	if started := watch(); waitFor(started, 300*time.Millisecond) {
		t.Fatal("a backup started though no scheduled run missed the drive")
	}

	// The scheduled run missed the drive; it is unplugged.
	if err := SaveScheduleState(cfg, ScheduleState{LastMissing: time.Now().UTC()}); err != nil {
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
	set, err := LoadSettings(cfg)
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
