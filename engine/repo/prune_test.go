package repo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/store"
)

// pruneScene is a repository with three snapshots sharing some files, their
// blobs interleaved across small packs so that forgetting one snapshot
// leaves packs that are unused, partly used and fully used.
type pruneScene struct {
	st       *store.Memory
	rk       RecoveryKey
	snaps    map[string]ID // "a", "b", "c"
	contents map[ID][]byte // data blob → plaintext
}

func newPruneScene(t *testing.T) *pruneScene {
	t.Helper()
	ctx := context.Background()
	sc := &pruneScene{st: store.NewMemory(), snaps: map[string]ID{}, contents: map[ID][]byte{}}
	r, rk, err := Init(ctx, sc.st, smallPackOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	sc.rk = rk
	save := func(seed uint64, n int) ID {
		data := randomBytes(seed, n)
		ref, err := r.SaveStream(ctx, bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		if len(ref.Chunks) != 1 {
			t.Fatalf("want one chunk, got %d", len(ref.Chunks))
		}
		sc.contents[ref.Chunks[0]] = data
		return ref.Chunks[0]
	}
	trees := map[string][]ID{}
	shared := []ID{save(1, 90<<10), save(2, 70<<10)}
	for i := range 6 { // interleaved: a, b, a, b, …
		for j, name := range []string{"a", "b", "c"} {
			if name == "c" && i > 1 {
				continue
			}
			trees[name] = append(trees[name], save(uint64(100*(j+1)+i), 60<<10+i*1000))
		}
	}
	for i := range 5 { // packs only "a" uses
		trees["a"] = append(trees["a"], save(uint64(900+i), 80<<10))
	}
	for _, name := range []string{"a", "b", "c"} {
		ids := append(trees[name], shared...)
		tree, _ := json.Marshal(ids)
		root, _, err := r.SaveBlob(ctx, TreeBlob, tree)
		if err != nil {
			t.Fatal(err)
		}
		id, err := r.SaveSnapshot(ctx, &Snapshot{Account: "paul@example.com", Kind: "test-" + name, Root: root})
		if err != nil {
			t.Fatal(err)
		}
		sc.snaps[name] = id
	}
	return sc
}

func (sc *pruneScene) open(t *testing.T, st store.Store) *Repository {
	t.Helper()
	r, err := Open(context.Background(), st, sc.rk.String(), smallPackOptions())
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// verify reads every snapshot that is still there, byte for byte, checks
// the ones in mustExist are among them, and runs Check with ReadData.
func (sc *pruneScene) verify(t *testing.T, mustExist ...string) {
	t.Helper()
	ctx := context.Background()
	r := sc.open(t, sc.st)
	snaps, err := r.ListSnapshots(ctx)
	if err != nil {
		t.Fatal(err)
	}
	have := map[ID]bool{}
	for _, s := range snaps {
		have[s.ID] = true
		tree, err := r.LoadBlob(ctx, s.Root)
		if err != nil {
			t.Fatalf("snapshot %s: tree: %v", s.Kind, err)
		}
		ids, err := testRefs(tree)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range ids {
			b, err := r.LoadBlob(ctx, id)
			if err != nil {
				t.Fatalf("snapshot %s: blob %s: %v", s.Kind, id.Short(), err)
			}
			if !bytes.Equal(b, sc.contents[id]) {
				t.Fatalf("snapshot %s: blob %s differs", s.Kind, id.Short())
			}
		}
	}
	for _, name := range mustExist {
		if !have[sc.snaps[name]] {
			t.Fatalf("snapshot %s is gone", name)
		}
	}
	rep, err := r.Check(ctx, CheckOptions{ReadData: true, Refs: testRefs})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Fatalf("check after prune: %v", rep.Problems)
	}
}

func (sc *pruneScene) storeState(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, n := range listNames(t, sc.st, "") {
		out[n] = string(readObject(t, sc.st, n))
	}
	return out
}

func pruneAll() PruneOptions {
	return PruneOptions{Refs: testRefs, Grace: -1, RepackThreshold: -1}
}

func TestPruneForgetsAndFreesSpace(t *testing.T) {
	ctx := context.Background()
	sc := newPruneScene(t)
	r := sc.open(t, sc.st)
	before := sc.storeState(t)

	opts := pruneAll()
	opts.Forget = []ID{sc.snaps["a"]}
	opts.DryRun = true
	dry, err := r.Prune(ctx, opts)
	if err != nil {
		t.Fatalf("dry run: %v", err)
	}
	if after := sc.storeState(t); len(after) != len(before) {
		t.Fatalf("dry run changed the store: %d objects before, %d after", len(before), len(after))
	} else {
		for n, b := range before {
			if after[n] != b {
				t.Fatalf("dry run changed %s", n)
			}
		}
	}
	if dry.PacksDeleted+dry.PacksRepacked == 0 || dry.BytesFreed() <= 0 {
		t.Fatalf("dry run found nothing to do: %+v", dry)
	}

	opts.DryRun = false
	rep, err := r.Prune(ctx, opts)
	if err != nil {
		t.Fatalf("prune: %v", err)
	}
	t.Logf("dry run: %+v", *dry)
	t.Logf("prune:   %+v", *rep)
	if rep.SnapshotsForgotten != 1 || rep.SnapshotsKept != 2 {
		t.Errorf("forgot %d, kept %d snapshots; want 1 and 2", rep.SnapshotsForgotten, rep.SnapshotsKept)
	}
	if rep.PacksDeleted != dry.PacksDeleted || rep.PacksRepacked != dry.PacksRepacked || rep.BytesDeleted != dry.BytesDeleted {
		t.Errorf("dry run predicted %d deleted, %d repacked, %d bytes; prune did %d, %d, %d",
			dry.PacksDeleted, dry.PacksRepacked, dry.BytesDeleted, rep.PacksDeleted, rep.PacksRepacked, rep.BytesDeleted)
	}
	if rep.PacksDeleted == 0 || rep.PacksRepacked == 0 || rep.PacksWritten == 0 {
		t.Errorf("scene should exercise deletion and repacking: %+v", rep)
	}
	if rep.BytesFreed() <= 0 {
		t.Errorf("freed %d bytes", rep.BytesFreed())
	}
	if rep.IndexFilesWritten == 0 || rep.IndexFilesRemoved == 0 {
		t.Errorf("index not rewritten: %+v", rep)
	}
	// The same Repository keeps working with its new index.
	for id := range sc.contents {
		if _, err := r.LoadBlob(ctx, id); err != nil && r.HasBlob(id) {
			t.Fatalf("in-memory index points at a deleted pack: %v", err)
		}
	}
	sc.verify(t, "b", "c")
	if n := len(listNames(t, sc.st, locksDir)); n != 0 {
		t.Errorf("%d lock files left", n)
	}
	// Unreferenced data of "a" is gone: only b's and c's blobs remain.
	r2 := sc.open(t, sc.st)
	check, err := r2.Check(ctx, CheckOptions{Refs: testRefs})
	if err != nil {
		t.Fatal(err)
	}
	if check.UnindexedPacks != 0 || len(check.Problems) != 0 {
		t.Errorf("check after prune: %v", check.Problems)
	}

	// A second prune has nothing left to do.
	again, err := r2.Prune(ctx, pruneAll())
	if err != nil {
		t.Fatal(err)
	}
	if again.PacksDeleted+again.PacksRepacked+again.UnindexedDeleted != 0 || again.IndexFilesWritten != 0 {
		t.Errorf("second prune changed things: %+v", again)
	}
}

func TestPruneGraceKeepsRecentPacks(t *testing.T) {
	ctx := context.Background()
	sc := newPruneScene(t)
	r := sc.open(t, sc.st)
	before := listNames(t, sc.st, dataDir)
	rep, err := r.Prune(ctx, PruneOptions{Refs: testRefs, Forget: []ID{sc.snaps["a"]}})
	if err != nil {
		t.Fatal(err)
	}
	if rep.PacksDeleted+rep.PacksRepacked != 0 || rep.PacksKeptRecent == 0 {
		t.Errorf("young packs were touched: %+v", rep)
	}
	if after := listNames(t, sc.st, dataDir); len(after) != len(before) {
		t.Errorf("%d packs before, %d after", len(before), len(after))
	}
	sc.verify(t, "b", "c")
}

func TestPruneKeepsPacksNewerThanALock(t *testing.T) {
	ctx := context.Background()
	sc := newPruneScene(t)
	r := sc.open(t, sc.st)
	// A shared lock taken before the packs were written: a dry run (which
	// does not conflict with it) must not count the packs as deletable.
	l, err := r.Lock(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	info := l.Info()
	info.Created = info.Created.Add(-2 * time.Hour)
	if err := r.putLock(ctx, info); err != nil {
		t.Fatal(err)
	}
	opts := pruneAll()
	opts.DryRun = true
	opts.Forget = []ID{sc.snaps["a"]}
	rep, err := r.Prune(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if rep.PacksDeleted+rep.PacksRepacked != 0 || rep.PacksKeptRecent == 0 {
		t.Errorf("packs written after a live lock would be touched: %+v", rep)
	}
	// A real prune cannot take its exclusive lock meanwhile.
	opts.DryRun = false
	if _, err := r.Prune(ctx, opts); !errors.Is(err, ErrLocked) {
		t.Fatalf("prune during a backup: %v, want ErrLocked", err)
	}
	if err := l.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	sc.verify(t, "a", "b", "c")
}

func TestPruneRefusesWhatItCannotSee(t *testing.T) {
	ctx := context.Background()
	t.Run("no Refs", func(t *testing.T) {
		sc := newPruneScene(t)
		r := sc.open(t, sc.st)
		if _, err := r.Prune(ctx, PruneOptions{Grace: -1}); !errors.Is(err, ErrPruneNeedsRefs) {
			t.Fatalf("got %v, want ErrPruneNeedsRefs", err)
		}
		sc.verify(t, "a", "b", "c")
	})
	t.Run("tree format unknown", func(t *testing.T) {
		sc := newPruneScene(t)
		r := sc.open(t, sc.st)
		refs := func([]byte) ([]ID, error) { return nil, errors.New("not my format") }
		if _, err := r.Prune(ctx, PruneOptions{Refs: refs, Grace: -1}); err == nil {
			t.Fatal("prune ran with an unparseable tree")
		}
		sc.verify(t, "a", "b", "c")
	})
	t.Run("damaged index", func(t *testing.T) {
		sc := newPruneScene(t)
		r := sc.open(t, sc.st)
		idx := listNames(t, sc.st, indexDir)
		b := readObject(t, sc.st, idx[0])
		b[len(b)/2] ^= 1
		putObject(t, sc.st, idx[0], b)
		if _, err := r.Prune(ctx, pruneAll()); err == nil {
			t.Fatal("prune ran with a damaged index")
		}
		if n := len(listNames(t, sc.st, dataDir)); n == 0 {
			t.Fatal("packs deleted")
		}
	})
	t.Run("damaged snapshot", func(t *testing.T) {
		sc := newPruneScene(t)
		r := sc.open(t, sc.st)
		name := snapshotName(sc.snaps["b"])
		b := readObject(t, sc.st, name)
		b[len(b)-1] ^= 1
		putObject(t, sc.st, name, b)
		before := len(listNames(t, sc.st, dataDir))
		if _, err := r.Prune(ctx, PruneOptions{Refs: testRefs, Grace: -1, RepackThreshold: -1, Forget: []ID{sc.snaps["a"]}}); err == nil {
			t.Fatal("prune ran with an unreadable snapshot")
		}
		if n := len(listNames(t, sc.st, dataDir)); n != before {
			t.Fatalf("%d packs before, %d after a refused prune", before, n)
		}
	})
}

func TestPruneSkipsDamagedPackWhenRepacking(t *testing.T) {
	ctx := context.Background()
	sc := newPruneScene(t)
	r := sc.open(t, sc.st)
	// Find a pack that will be repacked and damage a live blob in it.
	opts := pruneAll()
	opts.Forget = []ID{sc.snaps["a"]}
	idx, _, _, err := loadIndex(ctx, sc.st, r.keys)
	if err != nil {
		t.Fatal(err)
	}
	live, err := r.markLive(ctx, idx, map[ID]bool{sc.snaps["a"]: true}, testRefs, &PruneReport{})
	if err != nil {
		t.Fatal(err)
	}
	var victim packEntry
	var victimPack ID
	for _, ip := range idx.byPack() {
		var l, d []packEntry
		for _, e := range ip.Entries {
			if _, ok := live[e.ID]; ok {
				l = append(l, e)
			} else {
				d = append(d, e)
			}
		}
		if len(l) > 0 && len(d) > 0 {
			victim, victimPack = l[0], ip.ID
			break
		}
	}
	if victimPack.IsZero() {
		t.Fatal("no partly used pack in the scene")
	}
	name := packName(victimPack)
	b := readObject(t, sc.st, name)
	b[victim.Offset+30] ^= 0x10
	putObject(t, sc.st, name, b)

	rep, err := r.Prune(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Problems) != 1 || rep.Problems[0].Blob != victim.ID {
		t.Fatalf("problems %v, want the damaged blob", rep.Problems)
	}
	if _, err := sc.st.Stat(ctx, name); err != nil {
		t.Fatalf("damaged pack deleted: %v", err)
	}
}

// crashStore fails every Put and Delete from the nth on, as if the process
// had died there; with cancel set it cancels the context instead.
type crashStore struct {
	store.Store
	mu      sync.Mutex
	left    int
	crashed bool
	cancel  context.CancelFunc
	ops     int
}

var errCrash = errors.New("simulated crash")

func (c *crashStore) mutate() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ops++
	if c.crashed {
		return errCrash
	}
	c.left--
	if c.left == 0 {
		c.crashed = true
		if c.cancel != nil {
			c.cancel()
			return nil // the store sees the cancelled context
		}
		return errCrash
	}
	return nil
}

func (c *crashStore) Put(ctx context.Context, name string, r io.Reader, size int64) error {
	if err := c.mutate(); err != nil {
		return fmt.Errorf("put %s: %w", name, err)
	}
	return c.Store.Put(ctx, name, r, size)
}

func (c *crashStore) Delete(ctx context.Context, name string) error {
	if err := c.mutate(); err != nil {
		return fmt.Errorf("delete %s: %w", name, err)
	}
	return c.Store.Delete(ctx, name)
}

func TestPruneInterrupted(t *testing.T) {
	// Each case stops a prune at its nth write or delete; n grows until a
	// prune gets through (the count varies a little with pack IDs).
	for _, mode := range []string{"fail", "cancel"} {
		done := false
		for n := 1; !done; n++ {
			if n > 100 {
				t.Fatalf("%s: prune never finished", mode)
			}
			t.Run(fmt.Sprintf("%s at op %d", mode, n), func(t *testing.T) {
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				sc := newPruneScene(t)
				cs := &crashStore{Store: sc.st, left: n}
				if mode == "cancel" {
					cs.cancel = cancel
				}
				r := sc.open(t, cs)
				opts := pruneAll()
				opts.Forget = []ID{sc.snaps["a"]}
				if _, err := r.Prune(ctx, opts); err == nil {
					// (A cancelled context does not stop removing the lock.)
					if mode == "fail" && cs.ops >= n {
						t.Fatalf("prune reported success despite a crash at op %d", n)
					}
					done = true
				}
				// What is left must be fully readable…
				sc.verify(t, "b", "c")
				// …and, once the dead run's lock is gone, a second prune finishes.
				r2 := sc.open(t, sc.st)
				if _, err := r2.RemoveAllLocks(context.Background()); err != nil {
					t.Fatal(err)
				}
				if _, err := r2.Prune(context.Background(), opts); err != nil {
					t.Fatalf("second prune: %v", err)
				}
				sc.verify(t, "b", "c")
				if _, err := sc.st.Stat(context.Background(), snapshotName(sc.snaps["a"])); err == nil {
					t.Fatal("forgotten snapshot still there")
				}
				check, err := r2.Check(context.Background(), CheckOptions{Refs: testRefs})
				if err != nil {
					t.Fatal(err)
				}
				if len(check.Problems) != 0 {
					t.Fatalf("after the second prune: %v", check.Problems)
				}
			})
		}
	}
}
