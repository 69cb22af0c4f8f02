package runlock

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestOneAtATime(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "locks", "repo.lock")
	l, err := Acquire(ctx, path, 0, "backup")
	if err != nil {
		t.Fatal(err)
	}
	_, err = Acquire(ctx, path, 0, "backup")
	var busy *BusyError
	if !errors.As(err, &busy) || !errors.Is(err, ErrBusy) || busy.Holder.PID != os.Getpid() ||
		!strings.Contains(err.Error(), "another backup of this backup folder is already running (process ") {
		t.Fatalf("second acquire: %v", err)
	}
	// A waiter gets the lock once it is released.
	go func() {
		time.Sleep(300 * time.Millisecond)
		l.Release()
	}()
	start := time.Now()
	l2, err := Acquire(ctx, path, 5*time.Second, "backup")
	if err != nil {
		t.Fatalf("waiting: %v", err)
	}
	if d := time.Since(start); d < 250*time.Millisecond {
		t.Errorf("got the lock after %s, before it was released", d)
	}
	// A bounded wait ends with BusyError.
	start = time.Now()
	if _, err := Acquire(ctx, path, 400*time.Millisecond, "backup"); !errors.Is(err, ErrBusy) || time.Since(start) < 400*time.Millisecond {
		t.Errorf("bounded wait: %v after %s", err, time.Since(start))
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := Acquire(cctx, path, time.Minute, "backup"); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled wait: %v", err)
	}
	if err := l2.Release(); err != nil {
		t.Fatal(err)
	}
	if err := l2.Release(); err != nil {
		t.Errorf("second release: %v", err)
	}
}

// TestKilledHolderFreesTheLock: a process holding the lock is killed with
// SIGKILL; the lock is free at once, with no stale file to clean up.
func TestKilledHolderFreesTheLock(t *testing.T) {
	if os.Getenv("RUNLOCK_HOLD") != "" {
		if _, err := Acquire(context.Background(), os.Getenv("RUNLOCK_HOLD"), 0, "holder"); err != nil {
			os.Exit(3)
		}
		os.Stdout.WriteString("held\n")
		time.Sleep(time.Minute)
		os.Exit(0)
	}
	path := filepath.Join(t.TempDir(), "repo.lock")
	cmd := exec.Command(os.Args[0], "-test.run=^TestKilledHolderFreesTheLock$")
	cmd.Env = append(os.Environ(), "RUNLOCK_HOLD="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 5)
	if _, err := out.Read(buf); err != nil || string(buf) != "held\n" {
		t.Fatalf("holder: %q %v", buf, err)
	}
	_, err = Acquire(context.Background(), path, 0, "backup")
	var busy *BusyError
	if !errors.As(err, &busy) || busy.Holder.PID != cmd.Process.Pid || busy.Holder.What != "holder" {
		t.Fatalf("while held by %d: %v", cmd.Process.Pid, err)
	}
	cmd.Process.Kill()
	cmd.Wait()
	l, err := Acquire(context.Background(), path, 0, "backup")
	if err != nil {
		t.Fatalf("after the holder was killed: %v", err)
	}
	l.Release()
}
