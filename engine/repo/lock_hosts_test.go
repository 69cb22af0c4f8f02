package repo

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/store"
)

// fakeClock is a clock tests move by hand, safe for the refresh goroutines.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// offsetClock is a computer's clock: the destination's plus an offset.
func offsetClock(dest *fakeClock, off time.Duration) func() time.Time {
	return func() time.Time { return dest.now().Add(off) }
}

// TestLockClockSkewBetweenComputers: three PCs share a NAS whose clock is
// right; pc-a's clock is 3 hours behind, pc-c's 2 hours ahead. A fresh
// lock is never taken for stale whatever the clocks say; an abandoned one
// is, once both its holder's times and the NAS say it is old.
func TestLockClockSkewBetweenComputers(t *testing.T) {
	ctx := context.Background()
	nas := &fakeClock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	st := store.NewMemoryWithClock(nas.now)
	pc := func(host string, off time.Duration) Options {
		o := TestOptions()
		o.Hostname, o.Now = host, offsetClock(nas, off)
		o.LockRefreshInterval = time.Hour // refreshed by hand here
		return o
	}
	a, rk, err := Init(ctx, st, pc("pc-a", -3*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b := reopen(t, st, rk, pc("pc-b", 0))
	c := reopen(t, st, rk, pc("pc-c", 2*time.Hour))

	la, err := a.Lock(ctx, false) // pc-a's backup
	if err != nil {
		t.Fatal(err)
	}
	// pc-b's prune: pc-a's lock says it was written 3 hours ago, but the
	// NAS saw it a moment ago.
	_, err = b.Lock(ctx, true)
	var le *LockedError
	if !errors.As(err, &le) {
		t.Fatalf("pc-b took the backup from a running pc-a: %v", err)
	}
	msg := err.Error()
	for _, want := range []string{`running on the computer "pc-a"`, "by that computer's clock", "last active less than a minute ago",
		"about 3 hours behind this one's", "lifeboat unlock --all"} {
		if !strings.Contains(msg, want) {
			t.Errorf("refusal lacks %q:\n%s", want, msg)
		}
	}
	if n, err := b.RemoveStaleLocks(ctx); err != nil || n != 0 {
		t.Fatalf("pc-b's unlock removed %d live locks of pc-a (%v)", n, err)
	}
	// pc-a goes on refreshing for an hour: still its lock.
	for range 4 {
		nas.add(15 * time.Minute)
		if err := la.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Lock(ctx, true); !errors.Is(err, ErrLocked) {
			t.Fatalf("pc-b took a refreshed lock of pc-a: %v", err)
		}
	}
	// pc-a is switched off mid-run: after LockStaleAfter on every clock
	// the lock is abandoned, and pc-b cleans up.
	nas.add(31 * time.Minute)
	lb, err := b.Lock(ctx, true)
	if err != nil {
		t.Fatalf("pc-b cannot take pc-a's abandoned lock: %v", err)
	}
	if err := lb.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	if err := la.Refresh(ctx); !errors.Is(err, ErrLockLost) {
		t.Fatalf("pc-a's refresh after its lock was removed: %v", err)
	}

	// pc-c, ahead by 2 hours, abandons a lock: pc-b waits for its own
	// clock to pass pc-c's times too (conservative), and unlock --all
	// remains for the owner.
	lc, err := c.Lock(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	_ = lc // never unlocked: pc-c crashed
	nas.add(31 * time.Minute)
	if _, err := b.Lock(ctx, true); !errors.Is(err, ErrLocked) {
		t.Fatalf("pc-c's lock, 31 minutes old on the NAS but in the future by pc-c's clock: %v", err)
	}
	nas.add(2 * time.Hour)
	lb, err = b.Lock(ctx, true)
	if err != nil {
		t.Fatalf("pc-c's lock abandoned 2.5 hours ago: %v", err)
	}
	lb.Unlock(ctx)
}

// TestLockLostStopsSnapshot: a run whose lock another computer removed
// commits nothing, even before its next refresh would notice.
func TestLockLostStopsSnapshot(t *testing.T) {
	ctx := context.Background()
	r, st, rk := newTestRepo(t, TestOptions())
	other := reopen(t, st, rk, TestOptions())
	l, err := r.Lock(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Unlock(ctx)
	id, _, err := r.SaveBlob(ctx, DataBlob, []byte("a message"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.RemoveAllLocks(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := r.SaveSnapshot(ctx, &Snapshot{Kind: "test", Root: id}); !errors.Is(err, ErrLockLost) {
		t.Fatalf("snapshot saved without its lock: %v", err)
	}
	if snaps, _ := other.ListSnapshots(ctx); len(snaps) != 0 {
		t.Fatalf("%d snapshots committed", len(snaps))
	}
}

// The two-computer test runs this test binary twice more, as two PCs with
// their own host names and clocks sharing one backup folder.
const lockPeerEnv = "LIFEBOAT_REPO_LOCK_PEER"

// TestTwoComputersOneFolder: pc-a (right clock) runs a backup that writes
// data for a while before it commits; pc-b (clock 3 hours ahead) tries to
// clean up meanwhile with no grace period. pc-b must refuse with a
// sentence naming pc-a, its unlock must leave pc-a's lock alone, and when
// it waits it runs after pc-a has finished: pc-a's snapshot then verifies
// with every byte read.
func TestTwoComputersOneFolder(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	r, rk, err := Init(ctx, st, TestOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	// Something for prune to delete: an old snapshot's data, forgotten.
	old, _, err := r.SaveBlob(ctx, DataBlob, randomBytes(1, 200<<10))
	if err != nil {
		t.Fatal(err)
	}
	oldSnap, err := r.SaveSnapshot(ctx, &Snapshot{Kind: "test", Root: old})
	if err != nil {
		t.Fatal(err)
	}

	peer := func(role, host string, offset time.Duration, extra ...string) (*exec.Cmd, io.WriteCloser, *bufio.Scanner) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestLockPeerProcess$", "-test.v")
		cmd.Env = append(os.Environ(), lockPeerEnv+"="+strings.Join(append([]string{role, dir, rk.String(), host, offset.String()}, extra...), "|"))
		stdin, _ := cmd.StdinPipe()
		stdout, _ := cmd.StdoutPipe()
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd, stdin, bufio.NewScanner(stdout)
	}
	expect := func(sc *bufio.Scanner, prefix string) string {
		t.Helper()
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), prefix); ok {
				return rest
			}
		}
		t.Fatalf("peer ended without saying %q", prefix)
		return ""
	}

	a, aIn, aOut := peer("backup", "pc-a", 0)
	expect(aOut, "WRITING")
	// pc-b cleans up now, with pc-a's data written but not committed.
	b, _, bOut := peer("prune", "pc-b", 3*time.Hour, oldSnap.String(), "0s")
	refusal := expect(bOut, "RESULT ")
	b.Wait()
	if !strings.Contains(refusal, `running on the computer "pc-a"`) || !strings.Contains(refusal, "3 hours behind") {
		t.Fatalf("pc-b's prune while pc-a backs up: %s", refusal)
	}
	b, _, bOut = peer("unlock", "pc-b", 3*time.Hour)
	if got := expect(bOut, "RESULT "); got != "removed 0" {
		t.Fatalf("pc-b's unlock: %s", got)
	}
	b.Wait()

	// pc-b waits instead; pc-a finishes a moment later.
	b, _, bOut = peer("prune", "pc-b", 3*time.Hour, oldSnap.String(), "20s")
	time.Sleep(300 * time.Millisecond)
	fmt.Fprintln(aIn, "finish")
	snap := expect(aOut, "SAVED ")
	if err := a.Wait(); err != nil {
		t.Fatalf("pc-a: %v", err)
	}
	pruned := expect(bOut, "RESULT ")
	if err := b.Wait(); err != nil || !strings.HasPrefix(pruned, "pruned") {
		t.Fatalf("pc-b's waiting prune: %s (%v)", pruned, err)
	}
	t.Logf("pc-a saved %s; pc-b: %s; refused before with: %s", snap, pruned, refusal)

	r2 := reopen(t, st, rk, TestOptions())
	rep, err := r2.Check(ctx, CheckOptions{ReadData: true})
	if err != nil || !rep.OK() {
		t.Fatalf("check after the two computers: %v %+v", err, rep)
	}
	id, err := ParseID(snap)
	if err != nil {
		t.Fatal(err)
	}
	s, err := r2.LoadSnapshot(ctx, id)
	if err != nil {
		t.Fatalf("pc-a's snapshot: %v", err)
	}
	if _, err := r2.LoadBlob(ctx, s.Root); err != nil {
		t.Fatalf("pc-a's data after pc-b's prune: %v", err)
	}
	if _, err := r2.LoadSnapshot(ctx, oldSnap); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the forgotten snapshot: %v", err)
	}
}

// TestLockPeerProcess is one of the computers of TestTwoComputersOneFolder
// (it does nothing when run directly).
func TestLockPeerProcess(t *testing.T) {
	spec := os.Getenv(lockPeerEnv)
	if spec == "" {
		return
	}
	f := strings.Split(spec, "|")
	role, dir, rk, host := f[0], f[1], f[2], f[3]
	offset, err := time.ParseDuration(f[4])
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := store.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	opts := TestOptions()
	opts.Hostname = host
	opts.Now = func() time.Time { return time.Now().Add(offset) }
	opts.LockRefreshInterval = 200 * time.Millisecond
	r, err := Open(ctx, st, rk, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	switch role {
	case "backup":
		l, err := r.Lock(ctx, false)
		if err != nil {
			t.Fatal(err)
		}
		defer l.Unlock(ctx)
		// Several packs, checkpointed: written, indexed, not yet
		// referenced by any snapshot.
		var ids []ID
		for i := range 4 {
			id, _, err := r.SaveBlob(ctx, DataBlob, randomBytes(uint64(100+i), 700<<10))
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
		if err := r.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		fmt.Println("WRITING")
		bufio.NewScanner(os.Stdin).Scan() // until told to finish
		root, _, err := r.SaveBlob(ctx, TreeBlob, []byte(fmt.Sprint(ids)))
		if err != nil {
			t.Fatal(err)
		}
		id, err := r.SaveSnapshot(ctx, &Snapshot{Kind: "test", Root: root})
		if err != nil {
			t.Fatal(err)
		}
		fmt.Println("SAVED " + id.String())
	case "prune":
		forget, err := ParseID(f[5])
		if err != nil {
			t.Fatal(err)
		}
		wait, _ := time.ParseDuration(f[6])
		// prune waits as `lifeboat prune` would, then runs without grace.
		l, err := r.LockWait(ctx, true, wait, 100*time.Millisecond)
		if err != nil {
			fmt.Println("RESULT " + err.Error())
			return
		}
		l.Unlock(ctx)
		rep, err := r.Prune(ctx, PruneOptions{Forget: []ID{forget}, Grace: -1, Refs: peerRefs})
		if err != nil {
			fmt.Println("RESULT " + err.Error())
			return
		}
		fmt.Println("RESULT pruned " + strconv.Itoa(rep.SnapshotsForgotten) + " snapshots, deleted " + strconv.Itoa(rep.PacksDeleted) + " packs")
	case "unlock":
		n, err := r.RemoveStaleLocks(ctx)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Println("RESULT removed " + strconv.Itoa(n))
	}
}

// peerRefs reads the peer backup's tree: the blob IDs printed as a list.
func peerRefs(tree []byte) ([]ID, error) {
	var out []ID
	for _, f := range strings.Fields(strings.Trim(string(tree), "[]")) {
		id, err := ParseID(f)
		if err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, nil
}

// TestSameNameOtherComputer: two computers both called "DESKTOP-1", told
// apart by their host IDs. A lock of the other one whose process ID is dead
// here is not stale; one of this computer whose process died is.
func TestSameNameOtherComputer(t *testing.T) {
	ctx := context.Background()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	dead := cmd.ProcessState.Pid()
	opts := TestOptions()
	opts.Hostname, opts.HostID = "DESKTOP-1", "host-a"
	r, _, _ := newTestRepo(t, opts)
	id, _ := randomID()
	now := time.Now().UTC()
	other := LockInfo{ID: id, Exclusive: true, Hostname: "DESKTOP-1", HostID: "host-b", PID: dead, Created: now, Refreshed: now}
	if err := r.putLock(ctx, other); err != nil {
		t.Fatal(err)
	}
	if r.IsStale(other) {
		t.Fatal("the other DESKTOP-1's lock judged stale by a process ID of this computer")
	}
	_, err := r.Lock(ctx, false)
	var le *LockedError
	if !errors.As(err, &le) || le.SameHost || !strings.Contains(err.Error(), `on the computer "DESKTOP-1"`) {
		t.Fatalf("lock next to the other DESKTOP-1's: %v", err)
	}
	mine := other
	mine.HostID = "host-a"
	if !r.IsStale(mine) {
		t.Fatal("this computer's lock of a dead process not stale")
	}
}
