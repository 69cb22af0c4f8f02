package repo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/store"
)

// copyScene is a primary repository in a folder with a few snapshots that
// share data.
func copyScene(t *testing.T, dir string, snapshots int) (*Repository, RecoveryKey) {
	t.Helper()
	ctx := context.Background()
	st, err := store.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	r, rk, err := Init(ctx, st, smallPackOptions())
	if err != nil {
		t.Fatal(err)
	}
	shared, err := r.SaveStream(ctx, bytes.NewReader(randomBytes(1, 600<<10)))
	if err != nil {
		t.Fatal(err)
	}
	for i := range snapshots {
		own, err := r.SaveStream(ctx, bytes.NewReader(randomBytes(uint64(50+i), 500<<10)))
		if err != nil {
			t.Fatal(err)
		}
		tree, _ := json.Marshal(append(slices.Clone(shared.Chunks), own.Chunks...))
		root, _, err := r.SaveBlob(ctx, TreeBlob, tree)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.SaveSnapshot(ctx, &Snapshot{Account: "paul@example.com", Kind: "onedrive", Root: root, Time: time.Now().Add(time.Duration(i-snapshots) * time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	return r, rk
}

func snapshotSet(t *testing.T, r *Repository) []string {
	t.Helper()
	ids, err := r.snapshotIDs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, id := range ids {
		out = append(out, id.String())
	}
	slices.Sort(out)
	return out
}

func TestCopyDeduplicatesAndOpensWithTheRecoveryKey(t *testing.T) {
	ctx := context.Background()
	src, rk := copyScene(t, t.TempDir(), 3)
	defer src.Close()
	dstStore := store.NewMemory()
	dst, err := InitCopy(ctx, dstStore, src, smallPackOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	rep, err := src.CopyTo(ctx, dst, CopyOptions{Refs: testRefs})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Snapshots != 3 || rep.Verified != rep.Blobs || rep.BlobsShared == 0 {
		t.Fatalf("first copy: %+v", rep)
	}
	// Nothing new: nothing sent.
	rep2, err := src.CopyTo(ctx, dst, CopyOptions{Refs: testRefs})
	if err != nil || rep2.Snapshots != 0 || rep2.Blobs != 0 || rep2.Present != 3 {
		t.Fatalf("second copy: %+v, %v", rep2, err)
	}
	// One more snapshot: only its own data goes.
	own, _ := src.SaveStream(ctx, bytes.NewReader(randomBytes(99, 300<<10)))
	tree, _ := json.Marshal(own.Chunks)
	root, _, _ := src.SaveBlob(ctx, TreeBlob, tree)
	if _, err := src.SaveSnapshot(ctx, &Snapshot{Kind: "onedrive", Root: root}); err != nil {
		t.Fatal(err)
	}
	rep3, err := src.CopyTo(ctx, dst, CopyOptions{Refs: testRefs})
	if err != nil || rep3.Snapshots != 1 || rep3.Blobs != len(own.Chunks)+1 {
		t.Fatalf("incremental copy: %+v, %v (want %d blobs)", rep3, err, len(own.Chunks)+1)
	}
	// The copy alone, with the recovery key, on another computer.
	alone, err := Open(ctx, dstStore, rk.String(), smallPackOptions())
	if err != nil {
		t.Fatalf("opening the copy with the recovery key: %v", err)
	}
	defer alone.Close()
	check, err := alone.Check(ctx, CheckOptions{ReadData: true, Refs: testRefs})
	if err != nil || !check.OK() {
		t.Fatalf("check of the copy: %v %v", err, check.Problems)
	}
	if !slices.Equal(snapshotSet(t, alone), snapshotSet(t, src)) {
		t.Fatal("the copy's snapshots differ from the primary's")
	}
	// Another repository is not a copy.
	other, _, _ := newTestRepo(t, smallPackOptions())
	if _, err := OpenCopy(ctx, dstStore, other, smallPackOptions()); !errors.Is(err, ErrNotACopy) {
		t.Fatalf("OpenCopy with another repository: %v, want ErrNotACopy", err)
	}
}

// slowStore makes every Put of a pack take a while, so the parent can
// kill the copying process in the middle.
type slowStore struct{ store.Store }

func (s slowStore) Put(ctx context.Context, name string, r io.Reader, size int64) error {
	if strings.HasPrefix(name, dataDir) {
		time.Sleep(150 * time.Millisecond)
	}
	return s.Store.Put(ctx, name, r, size)
}

const copyChildEnv = "LIFEBOAT_TEST_COPY_CHILD"

// TestMain runs the copying process TestCopyKill9 kills when started
// with copyChildEnv (the test binary re-executes itself).
func TestMain(m *testing.M) {
	if dirs := os.Getenv(copyChildEnv); dirs != "" {
		if err := copyChild(dirs); err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// copyChild copies the primary in the first folder to the second, slowly.
func copyChild(dirs string) error {
	srcDir, dstDir, _ := strings.Cut(dirs, "|")
	ctx := context.Background()
	key, err := os.ReadFile(filepath.Join(filepath.Dir(srcDir), "key"))
	if err != nil {
		return err
	}
	srcStore, err := store.NewLocal(srcDir)
	if err != nil {
		return err
	}
	src, err := Open(ctx, srcStore, string(key), smallPackOptions())
	if err != nil {
		return err
	}
	local, err := store.NewLocal(dstDir)
	if err != nil {
		return err
	}
	dst, err := OpenCopy(ctx, slowStore{local}, src, smallPackOptions())
	if errors.Is(err, ErrNotRepository) {
		dst, err = InitCopy(ctx, slowStore{local}, src, smallPackOptions())
	}
	if err != nil {
		return err
	}
	_, err = src.CopyTo(ctx, dst, CopyOptions{Refs: testRefs})
	return err
}

// TestCopyKill9: a copy killed with SIGKILL in the middle leaves both
// repositories verifiable, and the next copy completes.
func TestCopyKill9(t *testing.T) {
	ctx := context.Background()
	base := t.TempDir()
	srcDir, dstDir := filepath.Join(base, "usb"), filepath.Join(base, "offsite")
	for _, d := range []string{srcDir, dstDir} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	src, rk := copyScene(t, srcDir, 6)
	defer src.Close()
	if err := os.WriteFile(filepath.Join(base, "key"), []byte(rk.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	dstLocal, _ := store.NewLocal(dstDir)
	for round := 0; round < 2; round++ {
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(), copyChildEnv+"="+srcDir+"|"+dstDir)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Kill once a few more packs have arrived than before.
		start := len(listNames(t, dstLocal, dataDir))
		deadline := time.Now().Add(60 * time.Second)
		for len(listNames(t, dstLocal, dataDir)) < start+2 {
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				t.Fatalf("the copy wrote no packs in time:\n%s", out.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
		if err := cmd.Process.Kill(); err != nil { // SIGKILL on Unix
			t.Fatal(err)
		}
		_ = cmd.Wait()
		// Both verifiable: no errors, only unindexed-pack warnings.
		for name, st := range map[string]store.Store{"primary": src.st, "copy": dstLocal} {
			r, err := Open(ctx, st, rk.String(), smallPackOptions())
			if err != nil {
				t.Fatalf("round %d: %s does not open: %v", round, name, err)
			}
			check, err := r.Check(ctx, CheckOptions{ReadData: true, Refs: testRefs})
			r.Close()
			if err != nil || !check.OK() {
				t.Fatalf("round %d: %s after kill -9: %v %v", round, name, err, check.Problems)
			}
		}
		if snaps := snapshotSet(t, src); len(snapshotSetOf(t, dstLocal, rk)) == len(snaps) {
			t.Fatalf("round %d: the copy finished before it was killed; slow it down", round)
		}
	}
	// The next copy completes.
	dst, err := OpenCopy(ctx, dstLocal, src, smallPackOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	rep, err := src.CopyTo(ctx, dst, CopyOptions{Refs: testRefs})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Snapshots == 0 || !slices.Equal(snapshotSet(t, dst), snapshotSet(t, src)) {
		t.Fatalf("after the last copy: %+v; copy has %d snapshots, primary %d", rep, len(snapshotSet(t, dst)), len(snapshotSet(t, src)))
	}
	check, err := dst.Check(ctx, CheckOptions{ReadData: true, Refs: testRefs})
	if err != nil || !check.OK() {
		t.Fatalf("copy after completion: %v %v", err, check.Problems)
	}
}

func snapshotSetOf(t *testing.T, st store.Store, rk RecoveryKey) []string {
	t.Helper()
	r, err := Open(context.Background(), st, rk.String(), smallPackOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	return snapshotSet(t, r)
}
