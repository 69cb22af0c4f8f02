package repo

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/store"
)

// TestLockBackupOneComputerAtATime: pc-a's backup holds its lock; pc-b's
// backup is refused with a sentence naming pc-a, while pc-b may still
// restore (a plain shared lock) and pc-a may start a second run (its own
// run lock decides that). Once pc-a's lock is abandoned for longer than
// LockStaleAfter, pc-b's backup goes ahead.
func TestLockBackupOneComputerAtATime(t *testing.T) {
	ctx := context.Background()
	nas := &fakeClock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	st := store.NewMemoryWithClock(nas.now)
	pc := func(host, id string) Options {
		o := TestOptions()
		o.Hostname, o.HostID, o.Now = host, id, nas.now
		o.LockRefreshInterval = time.Hour
		return o
	}
	a, rk, err := Init(ctx, st, pc("pc-a", "host-a"))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b := reopen(t, st, rk, pc("pc-b", "host-b"))

	la, err := a.LockBackup(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.LockBackup(ctx)
	var le *LockedError
	if !errors.As(err, &le) || !strings.Contains(err.Error(), `a backup is running on the computer "pc-a", started `) {
		t.Fatalf("pc-b's backup while pc-a backs up: %v", err)
	}
	lr, err := b.Lock(ctx, false)
	if err != nil {
		t.Fatalf("pc-b's restore while pc-a backs up: %v", err)
	}
	lr.Unlock(ctx)
	la2, err := a.LockBackup(ctx)
	if err != nil {
		t.Fatalf("a second run on pc-a: %v", err)
	}
	la2.Unlock(ctx)

	// pc-a is switched off mid-backup: its lock ages out.
	nas.add(31 * time.Minute)
	lb, err := b.LockBackup(ctx)
	if err != nil {
		t.Fatalf("pc-b's backup after pc-a's lock went stale: %v", err)
	}
	lb.Unlock(ctx)
	_ = la
}
