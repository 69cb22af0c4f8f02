//go:build linux

package sharetest_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lifeboat-backup/lifeboat/engine/store"
	"github.com/lifeboat-backup/lifeboat/engine/store/sharetest"
	"github.com/lifeboat-backup/lifeboat/engine/store/storetest"
)

// conformance runs the store suite on a share, each subtest in a fresh
// folder of it, and probes it.
func conformance(t *testing.T, sh *sharetest.Share) {
	n := 0
	storetest.Run(t, func(t *testing.T) store.Store {
		n++
		dir := filepath.Join(sh.Dir, "suite", strings.ReplaceAll(t.Name(), "/", "_"))
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		l, err := store.NewLocal(dir)
		if err != nil {
			t.Fatal(err)
		}
		return l
	})
	rep, err := store.ProbeFolder(context.Background(), sh.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.Err(); err != nil {
		t.Fatalf("a working %s share was refused: %v", sh.Kind, err)
	}
	if !strings.HasPrefix(rep.FSType, "fuse.") {
		t.Errorf("probe names the file system %q, want a FUSE mount", rep.FSType)
	}
	for _, w := range rep.Warnings() {
		t.Logf("%s share: warning %s: %s (%v)", sh.Kind, w.Check, w.Sentence, w.Err)
	}
	// What the client wrote is what the server holds.
	l, _ := store.NewLocal(sh.Dir)
	storetest.MustPut(t, l, "data/ab/check", []byte("on the server"))
	if b, err := os.ReadFile(filepath.Join(sh.ServerDir, "data", "ab", "check")); err != nil || string(b) != "on the server" {
		t.Fatalf("the server holds %q (%v)", b, err)
	}
	t.Logf("%s share: %d conformance subtests, file system %s", sh.Kind, n, rep.FSType)
}

func TestSMBShareConformance(t *testing.T)   { conformance(t, sharetest.SMB(t)) }
func TestSSHFSShareConformance(t *testing.T) { conformance(t, sharetest.SSHFS(t)) }

// TestProbeFindsBrokenGuarantees mounts shares that break fsync or rename
// over an existing file: the probe explains the first and refuses the
// second, and the store's own writes fail there rather than corrupt.
func TestProbeFindsBrokenGuarantees(t *testing.T) {
	ctx := context.Background()
	good, err := store.ProbeFolder(ctx, t.TempDir())
	if err != nil || good.Err() != nil || len(good.Findings) != 0 {
		t.Fatalf("local disk: %+v %v", good, err)
	}

	noSync := sharetest.Flawed(t, sharetest.Flaws{NoFsync: true})
	rep, err := store.ProbeFolder(ctx, noSync.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Err() != nil || len(rep.Warnings()) != 1 || rep.Warnings()[0].Check != "fsync" {
		t.Fatalf("share without fsync: %+v", rep.Findings)
	}
	if s := rep.Warnings()[0].Sentence; !strings.Contains(s, "does not confirm that data has reached its disk") {
		t.Errorf("fsync sentence: %q", s)
	}

	noRename := sharetest.Flawed(t, sharetest.Flaws{NoRenameReplace: true})
	rep, err = store.ProbeFolder(ctx, noRename.Dir)
	if err != nil {
		t.Fatal(err)
	}
	err = rep.Err()
	if !errors.Is(err, store.ErrUnsafeFolder) || !strings.Contains(err.Error(), "cannot replace a file by renaming another one over it") {
		t.Fatalf("share without rename-replace: %v (%+v)", err, rep.Findings)
	}
	l, _ := store.NewLocal(noRename.Dir)
	storetest.MustPut(t, l, "locks/a", []byte("first"))
	if err := l.Put(ctx, "locks/a", bytes.NewReader([]byte("second")), 6); err == nil {
		t.Fatal("replacing an object on a share without rename-replace reported success")
	}
	if got := storetest.MustGet(t, l, "locks/a"); string(got) != "first" {
		t.Fatalf("the failed replace left %q", got)
	}
	if tmps, _ := filepath.Glob(filepath.Join(noRename.ServerDir, "locks", ".tmp-*")); len(tmps) != 0 {
		t.Fatalf("temp files left: %v", tmps)
	}
}

// TestPulledShare kills the share's client mid-use, as a NAS losing power
// does: every store operation says the share is unreachable, none says an
// object is missing.
func TestPulledShare(t *testing.T) {
	for _, mk := range []func(testing.TB) *sharetest.Share{sharetest.SMB, sharetest.SSHFS} {
		sh := mk(t)
		t.Run(sh.Kind, func(t *testing.T) {
			ctx := context.Background()
			l, err := store.NewLocal(sh.Dir)
			if err != nil {
				t.Fatal(err)
			}
			storetest.MustPut(t, l, "data/00/one", []byte("stored before"))
			sh.Kill()
			requireUnavailable(t, l)
			if _, err := store.ProbeFolder(ctx, sh.Dir); !errors.Is(err, store.ErrUnavailable) && !errors.Is(err, os.ErrNotExist) {
				t.Errorf("probe of a dead share: %v", err)
			}
		})
	}
}

// requireUnavailable checks every method of l reports ErrUnavailable.
func requireUnavailable(t *testing.T, l *store.Local) {
	t.Helper()
	ctx := context.Background()
	check := func(op string, err error) {
		t.Helper()
		if !errors.Is(err, store.ErrUnavailable) || errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s on a vanished destination: %v, want ErrUnavailable", op, err)
		}
	}
	check("Put", l.Put(ctx, "data/01/two", bytes.NewReader([]byte("x")), 1))
	_, err := l.Get(ctx, "data/00/one", 0, -1)
	check("Get", err)
	_, err = l.Stat(ctx, "data/00/one")
	check("Stat", err)
	check("List", l.List(ctx, "data/", func(store.Info) error { return nil }))
	check("Delete", l.Delete(ctx, "data/00/one"))
}

// TestDetachedDrive unmounts a drive under an open store, as pulling out a
// USB drive does: the store says the drive is gone and never writes into
// the bare mount point left on the system disk.
func TestDetachedDrive(t *testing.T) {
	if !sharetest.InMountNamespace(t) {
		return
	}
	drive := sharetest.NewDrive(t, 4<<20)
	l, err := store.NewLocal(drive.Dir)
	if err != nil {
		t.Fatal(err)
	}
	storetest.MustPut(t, l, "data/00/one", []byte("stored before"))
	drive.Pull()
	requireUnavailable(t, l)
	if entries, err := os.ReadDir(drive.Dir); err != nil || len(entries) != 0 {
		t.Fatalf("the bare mount point holds %v (%v)", entries, err)
	}
	// Plugged in again, the same store works and nothing was lost.
	drive.Plug()
	if got := storetest.MustGet(t, l, "data/00/one"); string(got) != "stored before" {
		t.Fatalf("after the drive came back: %q", got)
	}
	storetest.MustPut(t, l, "data/01/two", []byte("after"))
}
