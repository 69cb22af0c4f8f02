package repo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/lifeboat-backup/lifeboat/engine/store"
)

// faultScene is a repository in a memory store behind a store.Faulty, with
// one committed snapshot ("earlier") whose content is known.
type faultScene struct {
	mem     *store.Memory
	f       *store.Faulty
	r       *Repository
	rk      RecoveryKey
	opts    Options
	earlier ID
	content map[ID][][]byte // snapshot → the contents its tree lists
}

func faultOptions() Options {
	o := TestOptions()
	o.PackSize = 64 << 10 // every chunk of a large content closes a pack
	return o
}

func newFaultScene(t *testing.T) *faultScene {
	t.Helper()
	sc := &faultScene{mem: store.NewMemory(), opts: faultOptions(), content: map[ID][][]byte{}}
	sc.f = store.NewFaulty(sc.mem)
	r, rk, err := Init(context.Background(), sc.f, sc.opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	sc.r, sc.rk = r, rk
	id, err := sc.run(r, 1)
	if err != nil {
		t.Fatalf("earlier run: %v", err)
	}
	sc.earlier = id
	return sc
}

// runContents are what run number seed stores: a large file (several
// chunks), a small text and a tiny one.
func runContents(seed uint64) [][]byte {
	return [][]byte{
		append(randomBytes(seed, 2<<20), textBytes(1<<20)...),
		textBytes(20<<10 + int(seed)),
		[]byte(fmt.Sprintf("run %d", seed)),
	}
}

// run stores runContents(seed) under a tree and a snapshot, as a backup
// run does: SaveStream per content, SaveBlob for the tree, SaveSnapshot.
func (sc *faultScene) run(r *Repository, seed uint64) (ID, error) {
	ctx := context.Background()
	contents := runContents(seed)
	var refs []ContentRef
	for _, c := range contents {
		ref, err := r.SaveStream(ctx, bytes.NewReader(c))
		if err != nil {
			return ID{}, err
		}
		refs = append(refs, ref)
	}
	tree, _ := json.Marshal(refs)
	root, _, err := r.SaveBlob(ctx, TreeBlob, tree)
	if err != nil {
		return ID{}, err
	}
	id, err := r.SaveSnapshot(ctx, &Snapshot{Kind: "test", Root: root})
	if err != nil {
		return ID{}, err
	}
	sc.content[id] = contents
	return id, nil
}

func faultRefs(tree []byte) ([]ID, error) {
	var refs []ContentRef
	if err := json.Unmarshal(tree, &refs); err != nil {
		return nil, err
	}
	var ids []ID
	for _, r := range refs {
		ids = append(ids, r.Chunks...)
	}
	return ids, nil
}

// intact reopens the repository (faults off) and checks that exactly the
// snapshots in want are there, that each restores byte-identical, and that
// a read-data check finds no error.
func (sc *faultScene) intact(t *testing.T, want ...ID) *Repository {
	t.Helper()
	ctx := context.Background()
	sc.f.Reset()
	r := reopen(t, sc.f, sc.rk, sc.opts)
	snaps, err := r.ListSnapshots(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(snaps) != len(want) {
		t.Fatalf("%d snapshots, want %d", len(snaps), len(want))
	}
	for _, s := range snaps {
		contents, ok := sc.content[s.ID]
		if !ok {
			t.Fatalf("unexpected snapshot %s", s.ID.Short())
		}
		tree, err := r.LoadBlob(ctx, s.Root)
		if err != nil {
			t.Fatalf("snapshot %s: tree: %v", s.ID.Short(), err)
		}
		var refs []ContentRef
		if err := json.Unmarshal(tree, &refs); err != nil || len(refs) != len(contents) {
			t.Fatalf("snapshot %s: tree %s: %v", s.ID.Short(), tree, err)
		}
		for i, ref := range refs {
			rc := r.OpenStream(ctx, ref)
			got, err := io.ReadAll(rc)
			rc.Close()
			if err != nil || !bytes.Equal(got, contents[i]) {
				t.Fatalf("snapshot %s: content %d does not restore (%d of %d bytes): %v", s.ID.Short(), i, len(got), len(contents[i]), err)
			}
		}
	}
	rep, err := r.Check(ctx, CheckOptions{ReadData: true, Refs: faultRefs})
	if err != nil || !rep.OK() {
		t.Fatalf("check: %v %v", err, rep.Problems)
	}
	return r
}

// clearError checks that a failed run's error says what could not be
// written and carries the injected cause.
func clearError(t *testing.T, err error, cause error) {
	t.Helper()
	if err == nil {
		t.Fatal("the run succeeded despite the fault")
	}
	if !errors.Is(err, cause) {
		t.Fatalf("error does not carry the cause %v: %v", cause, err)
	}
	msg := err.Error()
	if !strings.Contains(msg, "repo: writing ") ||
		!(strings.Contains(msg, dataDir) || strings.Contains(msg, indexDir) || strings.Contains(msg, snapshotDir)) {
		t.Fatalf("error does not say which file could not be written: %v", err)
	}
}

// Failing the N-th write of a run, for every N, stops the run with a clear
// error; the earlier snapshot stays intact and the next run completes.
func TestFailNthWriteOfARun(t *testing.T) {
	sc := newFaultScene(t)
	before := sc.f.Counts().Put
	if _, err := sc.run(sc.r, 2); err != nil {
		t.Fatal(err)
	}
	puts := sc.f.Counts().Put - before
	// A run writes 5 to 8 files depending on the repository's polynomial.
	if puts < 4 {
		t.Fatalf("a run wrote only %d files; the test needs several packs", puts)
	}
	// Each repository has its own chunker polynomial, so the number of
	// chunks (and packs) of a run varies a little between repositories.
	for n := 1; n <= puts+2; n++ {
		t.Run(fmt.Sprintf("write %d", n), func(t *testing.T) {
			sc := newFaultScene(t)
			sc.f.FailPutAfter(n, nil)
			start := sc.f.Counts().Put
			_, err := sc.run(sc.r, 2)
			if did := sc.f.Counts().Put - start; err == nil && did < n {
				if n <= 3 {
					t.Fatalf("a run wrote only %d files", did)
				}
				return // this run had fewer writes than n
			}
			clearError(t, err, store.ErrInjected)
			r := sc.intact(t, sc.earlier)
			next, err := sc.run(r, 3)
			if err != nil {
				t.Fatalf("next run: %v", err)
			}
			sc.intact(t, sc.earlier, next)
		})
	}
}

// Failures at commit time (rename, fsync) and a full disk, at several
// points of a run.
func TestCommitFaultsAndDiskFull(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		inject func(sc *faultScene)
		cause  error
	}{
		{"rename fails", func(sc *faultScene) { sc.f.FailRename() }, store.ErrInjected},
		{"fsync fails", func(sc *faultScene) { sc.f.FailSync() }, store.ErrInjected},
		{"disk full now", func(sc *faultScene) { sc.f.DiskFull(used(t, sc.mem)) }, store.ErrDiskFull},
		{"disk full after 100 kB", func(sc *faultScene) { sc.f.DiskFull(used(t, sc.mem) + 100e3) }, store.ErrDiskFull},
		{"disk full after 1 MB", func(sc *faultScene) { sc.f.DiskFull(used(t, sc.mem) + 1e6) }, store.ErrDiskFull},
		{"disk full after 1.5 MB", func(sc *faultScene) { sc.f.DiskFull(used(t, sc.mem) + 1.5e6) }, store.ErrDiskFull},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc := newFaultScene(t)
			tt.inject(sc)
			_, err := sc.run(sc.r, 2)
			clearError(t, err, tt.cause)
			if tt.cause == store.ErrDiskFull && !strings.Contains(err.Error(), "full") {
				t.Errorf("a full disk is not called full: %v", err)
			}
			// A failed pack is sticky: this run cannot commit anything more.
			if _, _, err := sc.r.SaveBlob(ctx, DataBlob, []byte("after the fault")); err == nil {
				if err := sc.r.Flush(ctx); err == nil {
					t.Error("the run went on committing after a lost write")
				}
			}
			r := sc.intact(t, sc.earlier)
			next, err := sc.run(r, 3)
			if err != nil {
				t.Fatalf("next run: %v", err)
			}
			sc.intact(t, sc.earlier, next)
		})
	}
}

func used(t *testing.T, st store.Store) int64 {
	t.Helper()
	var n int64
	if err := st.List(context.Background(), "", func(i store.Info) error { n += i.Size; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

// A snapshot write that fails (everything else stored) is reported as
// such, leaves no snapshot, and may be retried by the same run.
func TestSnapshotWriteFails(t *testing.T) {
	ctx := context.Background()
	for _, fault := range []string{"write", "rename", "fsync", "disk full"} {
		t.Run(fault, func(t *testing.T) {
			sc := newFaultScene(t)
			ref, err := sc.r.SaveStream(ctx, bytes.NewReader(runContents(2)[0]))
			if err != nil {
				t.Fatal(err)
			}
			tree, _ := json.Marshal([]ContentRef{ref})
			root, _, err := sc.r.SaveBlob(ctx, TreeBlob, tree)
			if err != nil {
				t.Fatal(err)
			}
			if err := sc.r.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			cause := store.ErrInjected
			switch fault {
			case "write":
				sc.f.FailPutAfter(1, nil)
			case "rename":
				sc.f.FailRename()
			case "fsync":
				sc.f.FailSync()
			case "disk full":
				sc.f.DiskFull(used(t, sc.mem))
				cause = store.ErrDiskFull
			}
			_, err = sc.r.SaveSnapshot(ctx, &Snapshot{Kind: "test", Root: root})
			clearError(t, err, cause)
			if !strings.Contains(err.Error(), snapshotDir) {
				t.Errorf("error does not name the snapshot file: %v", err)
			}
			sc.intact(t, sc.earlier)
			// Retrying the snapshot in the same run works.
			id, err := sc.r.SaveSnapshot(ctx, &Snapshot{Kind: "test", Root: root})
			if err != nil {
				t.Fatalf("retry: %v", err)
			}
			sc.content[id] = [][]byte{runContents(2)[0]}
			sc.intact(t, sc.earlier, id)
		})
	}
}

// Short reads from the store change nothing: open, list, restore and a
// read-data check all see exactly the stored bytes.
func TestShortReads(t *testing.T) {
	sc := newFaultScene(t)
	second, err := sc.run(sc.r, 2)
	if err != nil {
		t.Fatal(err)
	}
	sc.f.ShortReads(true)
	r := reopen(t, sc.f, sc.rk, sc.opts)
	ctx := context.Background()
	snaps, err := r.ListSnapshots(ctx)
	if err != nil || len(snaps) != 2 {
		t.Fatalf("snapshots with short reads: %v %v", snaps, err)
	}
	for _, s := range snaps {
		tree, err := r.LoadBlob(ctx, s.Root)
		if err != nil {
			t.Fatal(err)
		}
		var refs []ContentRef
		if err := json.Unmarshal(tree, &refs); err != nil {
			t.Fatal(err)
		}
		for i, ref := range refs {
			rc := r.OpenStream(ctx, ref)
			got, err := io.ReadAll(rc)
			rc.Close()
			if err != nil || !bytes.Equal(got, sc.content[s.ID][i]) {
				t.Fatalf("snapshot %s content %d with short reads: %v", s.ID.Short(), i, err)
			}
		}
	}
	rep, err := r.Check(ctx, CheckOptions{ReadData: true, Refs: faultRefs})
	if err != nil || !rep.OK() || rep.PacksRead != rep.Packs {
		t.Fatalf("check with short reads: %v %+v", err, rep)
	}
	// Saving while reads are short: dedup and the next snapshot work.
	third, err := sc.run(r, 3)
	if err != nil {
		t.Fatal(err)
	}
	sc.intact(t, sc.earlier, second, third)
}

// A flipped bit anywhere in a pack or an index file is found by a
// read-data check, which names the pack (or index file) and, when the bit
// is inside a blob, that blob and no other. Small packs are tried at every
// byte, large ones at every blob's edges and middle, across the header and
// at every trailer byte.
func TestFlippedBitAnywhere(t *testing.T) {
	ctx := context.Background()
	layouts := []struct {
		name     string
		contents [][]byte
		every    bool
	}{
		{"small blobs, every byte", [][]byte{textBytes(300), randomBytes(5, 200), []byte("tiny")}, true},
		{"large blobs, sampled", [][]byte{randomBytes(6, 40<<10), textBytes(30 << 10), randomBytes(7, 70)}, false},
	}
	for _, lay := range layouts {
		t.Run(lay.name, func(t *testing.T) {
			mem := store.NewMemory()
			f := store.NewFaulty(mem)
			opts := TestOptions()
			opts.PackSize = 1 << 20 // everything in one pack
			r, _, err := Init(ctx, f, opts)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			var blobs []ID
			for _, c := range lay.contents {
				id, _, err := r.SaveBlob(ctx, DataBlob, c)
				if err != nil {
					t.Fatal(err)
				}
				blobs = append(blobs, id)
			}
			tree, _ := json.Marshal(blobs)
			root, _, err := r.SaveBlob(ctx, TreeBlob, tree)
			if err != nil {
				t.Fatal(err)
			}
			snap, err := r.SaveSnapshot(ctx, &Snapshot{Kind: "test", Root: root})
			if err != nil {
				t.Fatal(err)
			}
			blobs = append(blobs, root)
			packs := listNames(t, mem, dataDir)
			indexes := listNames(t, mem, indexDir)
			if len(packs) != 1 || len(indexes) != 1 {
				t.Fatalf("want one pack and one index, got %v %v", packs, indexes)
			}
			pack, index := packs[0], indexes[0]
			type span struct {
				id         ID
				start, end int64
			}
			var spans []span
			for _, id := range blobs {
				loc, ok := r.LookupBlob(id)
				if !ok {
					t.Fatalf("blob %s not indexed", id.Short())
				}
				spans = append(spans, span{id, int64(loc.Offset), int64(loc.Offset) + int64(loc.Length)})
			}
			packSize := int64(len(readObject(t, mem, pack)))
			indexSize := int64(len(readObject(t, mem, index)))

			check := func(name string, off int64) *CheckReport {
				t.Helper()
				f.Reset()
				f.FlipBit(name, off)
				defer f.Reset()
				rep, err := r.Check(ctx, CheckOptions{ReadData: true, Refs: testRefs})
				if err != nil {
					t.Fatalf("bit flipped at %s+%d: check failed to run: %v", name, off, err)
				}
				if rep.OK() {
					t.Fatalf("bit flipped at %s+%d: not found", name, off)
				}
				return rep
			}

			var offsets []int64
			if lay.every {
				for off := range packSize {
					offsets = append(offsets, off)
				}
			} else {
				for _, s := range spans {
					offsets = append(offsets, s.start, (s.start+s.end)/2, s.end-1)
				}
				hdr := spans[len(spans)-1].end
				for off := hdr; off < packSize-packTrailerSize; off += max(1, (packSize-packTrailerSize-hdr)/16) {
					offsets = append(offsets, off)
				}
				for off := packSize - packTrailerSize; off < packSize; off++ {
					offsets = append(offsets, off)
				}
			}
			for _, off := range offsets {
				rep := check(pack, off)
				var victim ID
				for _, s := range spans {
					if off >= s.start && off < s.end {
						victim = s.id
					}
				}
				namedPack, namedBlob := false, victim.IsZero()
				for _, p := range rep.Problems {
					if p.Object == pack {
						namedPack = true
					}
					if p.Blob == victim && p.Severity == Error {
						namedBlob = true
					} else if !p.Blob.IsZero() {
						t.Fatalf("bit flipped at pack+%d (blob %s): innocent blob blamed: %v", off, victim.Short(), p)
					}
				}
				if !namedPack || !namedBlob {
					t.Fatalf("bit flipped at pack+%d: pack named %v, blob %s named %v: %v", off, namedPack, victim.Short(), namedBlob, rep.Problems)
				}
			}

			var idxOffsets []int64
			for off := int64(0); off < indexSize; off += map[bool]int64{true: 1, false: max(1, indexSize/32)}[lay.every] {
				idxOffsets = append(idxOffsets, off)
			}
			idxOffsets = append(idxOffsets, indexSize-1)
			for _, off := range idxOffsets {
				rep := check(index, off)
				namedIndex, namedSnapshot := false, false
				for _, p := range rep.Problems {
					if p.Object == index && p.Severity == Error {
						namedIndex = true
					}
					if p.Snapshot == snap && p.Severity == Error {
						namedSnapshot = true
					}
				}
				if !namedIndex || !namedSnapshot {
					t.Fatalf("bit flipped at index+%d: index named %v, snapshot named %v: %v", off, namedIndex, namedSnapshot, rep.Problems)
				}
			}
			t.Logf("%d-byte pack: %d offsets; %d-byte index: %d offsets", packSize, len(offsets), indexSize, len(idxOffsets))
		})
	}
}
