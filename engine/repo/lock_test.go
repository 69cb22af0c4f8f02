package repo

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/store"
)

func TestLockContention(t *testing.T) {
	ctx := context.Background()
	r, st, rk := newTestRepo(t, TestOptions())
	other := reopen(t, st, rk, TestOptions()) // a second run, same host and process

	tests := []struct {
		name              string
		first, second     bool // exclusive?
		wantSecondBlocked bool
	}{
		{"shared+shared", false, false, false},
		{"shared+exclusive", false, true, true},
		{"exclusive+shared", true, false, true},
		{"exclusive+exclusive", true, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l1, err := r.Lock(ctx, tt.first)
			if err != nil {
				t.Fatal(err)
			}
			defer l1.Unlock(ctx)
			l2, err := other.Lock(ctx, tt.second)
			if tt.wantSecondBlocked {
				var le *LockedError
				if !errors.Is(err, ErrLocked) || !errors.As(err, &le) || le.Holder.PID != os.Getpid() {
					t.Fatalf("second Lock: %v, want *LockedError", err)
				}
				if n := len(listNames(t, st, locksDir)); n != 1 {
					t.Fatalf("%d lock files after refused lock, want 1", n)
				}
				return
			}
			if err != nil {
				t.Fatalf("second Lock: %v", err)
			}
			l2.Unlock(ctx)
		})
	}
	if n := len(listNames(t, st, locksDir)); n != 0 {
		t.Fatalf("%d lock files left", n)
	}
}

func TestStaleLockByAge(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	opts := TestOptions()
	opts.Now = func() time.Time { return now }
	opts.Hostname = "laptop-a"
	// The destination's clock moves with the computers' here.
	st := store.NewMemoryWithClock(func() time.Time { return now })
	r, rk, err := Init(ctx, st, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.Lock(ctx, true); err != nil { // never unlocked: a crashed run
		t.Fatal(err)
	}
	opts.Hostname = "laptop-b" // another host: its PID means nothing here
	other := reopen(t, st, rk, opts)
	if _, err := other.Lock(ctx, true); !errors.Is(err, ErrLocked) {
		t.Fatalf("fresh lock not respected: %v", err)
	}
	now = now.Add(opts.withDefaults().LockStaleAfter + time.Minute)
	l, err := other.Lock(ctx, true)
	if err != nil {
		t.Fatalf("stale lock not taken over: %v", err)
	}
	defer l.Unlock(ctx)
	if n := len(listNames(t, st, locksDir)); n != 1 {
		t.Fatalf("%d lock files, want only the new one", n)
	}
}

func TestStaleLockDeadProcess(t *testing.T) {
	ctx := context.Background()
	// A process that has exited: its PID is dead (and very unlikely to be
	// reused within the test).
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	deadPID := cmd.ProcessState.Pid()

	r, _, _ := newTestRepo(t, TestOptions())
	id, _ := randomID()
	now := time.Now().UTC()
	dead := LockInfo{ID: id, Exclusive: true, Hostname: r.opts.Hostname, PID: deadPID, Created: now, Refreshed: now}
	if err := r.putLock(ctx, dead); err != nil {
		t.Fatal(err)
	}
	if !r.IsStale(dead) {
		t.Fatal("lock of a dead process on this host not stale")
	}
	alive := dead
	alive.PID = os.Getppid()
	if r.IsStale(alive) {
		t.Fatal("lock of a live process judged stale")
	}
	elsewhere := dead
	elsewhere.Hostname = "other-host"
	if r.IsStale(elsewhere) {
		t.Fatal("fresh lock of another host judged stale by PID")
	}
	l, err := r.Lock(ctx, true)
	if err != nil {
		t.Fatalf("dead process's lock not taken over: %v", err)
	}
	l.Unlock(ctx)
}

func TestLockRefreshAndLoss(t *testing.T) {
	ctx := context.Background()
	opts := TestOptions()
	opts.LockRefreshInterval = 10 * time.Millisecond
	r, _, _ := newTestRepo(t, opts)
	l, err := r.Lock(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	first := l.Info().Refreshed
	deadline := time.Now().Add(5 * time.Second)
	for l.Info().Refreshed.Equal(first) {
		if time.Now().After(deadline) {
			t.Fatal("lock never refreshed")
		}
		time.Sleep(5 * time.Millisecond)
	}
	// Someone removes our lock (judging it stale): we must notice, and not
	// silently re-create it.
	if _, err := r.RemoveAllLocks(ctx); err != nil {
		t.Fatal(err)
	}
	for l.Err() == nil {
		if time.Now().After(deadline) {
			t.Fatal("lost lock not noticed")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if !errors.Is(l.Err(), ErrLockLost) {
		t.Fatalf("Err = %v", l.Err())
	}
	if locks, _ := r.ListLocks(ctx); len(locks) != 0 {
		t.Fatal("lost lock re-created")
	}
	if err := l.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	if err := l.Unlock(ctx); err != nil {
		t.Fatal("second Unlock:", err)
	}
}

func TestRemoveStaleLocks(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	opts := TestOptions()
	opts.Now = func() time.Time { return now }
	r, st, _ := newTestRepo(t, opts)
	if _, err := r.Lock(ctx, false); err != nil {
		t.Fatal(err)
	}
	putObject(t, st, locksDir+ID{7}.String(), []byte("garbage")) // unreadable lock
	if n, err := r.RemoveStaleLocks(ctx); err != nil || n != 0 {
		t.Fatalf("removed %d fresh locks: %v", n, err)
	}
	now = now.Add(time.Hour)
	if n, err := r.RemoveStaleLocks(ctx); err != nil || n != 2 {
		t.Fatalf("removed %d stale locks, want 2: %v", n, err)
	}
}
