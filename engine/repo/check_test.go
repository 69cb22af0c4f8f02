package repo

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/lifeboat-backup/lifeboat/engine/store"
)

// testTree is a toy tree format for Check's Refs: a JSON list of IDs.
func testRefs(tree []byte) ([]ID, error) {
	var ids []ID
	err := json.Unmarshal(tree, &ids)
	return ids, err
}

// populate stores a few files under one tree and a snapshot.
func populate(t *testing.T, r *Repository) (snap ID, data []ID) {
	t.Helper()
	ctx := context.Background()
	for i := range 6 {
		ref, err := r.SaveStream(ctx, bytes.NewReader(randomBytes(uint64(100+i), 200<<10)))
		if err != nil {
			t.Fatal(err)
		}
		data = append(data, ref.Chunks...)
	}
	tree, _ := json.Marshal(data)
	root, _, err := r.SaveBlob(ctx, TreeBlob, tree)
	if err != nil {
		t.Fatal(err)
	}
	snap, err = r.SaveSnapshot(ctx, &Snapshot{Kind: "test", Root: root})
	if err != nil {
		t.Fatal(err)
	}
	return snap, data
}

func smallPackOptions() Options {
	o := TestOptions()
	o.PackSize = 256 << 10
	return o
}

func TestCheckClean(t *testing.T) {
	ctx := context.Background()
	r, _, _ := newTestRepo(t, smallPackOptions())
	populate(t, r)
	for _, readData := range []bool{false, true} {
		rep, err := r.Check(ctx, CheckOptions{ReadData: readData, Refs: testRefs})
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Problems) != 0 || rep.Snapshots != 1 || rep.Blobs != 7 {
			t.Fatalf("readData=%v: %+v", readData, rep)
		}
		if readData && (rep.PacksRead != rep.Packs || rep.BlobsRead != 7) {
			t.Fatalf("read %d/%d packs, %d blobs", rep.PacksRead, rep.Packs, rep.BlobsRead)
		}
	}
}

// A flipped bit in a pack is reported by read-data, naming the blob.
func TestCheckReadDataNamesDamagedBlob(t *testing.T) {
	ctx := context.Background()
	r, st, rk := newTestRepo(t, smallPackOptions())
	_, data := populate(t, r)
	victim := data[3]
	loc, _ := r.LookupBlob(victim)
	name := packName(loc.Pack)
	b := readObject(t, st, name)
	b[loc.Offset+loc.Length/2] ^= 0x10
	putObject(t, st, name, b)

	r2 := reopen(t, st, rk, smallPackOptions())
	quick, err := r2.Check(ctx, CheckOptions{})
	if err != nil || !quick.OK() {
		t.Fatalf("structural check should not read data: %v %v", quick.Problems, err)
	}
	rep, err := r2.Check(ctx, CheckOptions{ReadData: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK() {
		t.Fatal("damage not found")
	}
	foundBlob := false
	for _, p := range rep.Problems {
		if p.Blob == victim && p.Object == name {
			foundBlob = true
		} else if !p.Blob.IsZero() {
			t.Fatalf("innocent blob blamed: %v", p)
		}
	}
	if !foundBlob {
		t.Fatalf("damaged blob not named: %v", rep.Problems)
	}
}

func TestCheckStructure(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		damage  func(t *testing.T, st store.Store, r *Repository, data []ID)
		wantErr string
		warning bool
	}{
		{"pack missing", func(t *testing.T, st store.Store, r *Repository, data []ID) {
			loc, _ := r.LookupBlob(data[0])
			st.Delete(ctx, packName(loc.Pack))
		}, "pack is missing", false},
		{"pack truncated", func(t *testing.T, st store.Store, r *Repository, data []ID) {
			loc, _ := r.LookupBlob(data[0])
			b := readObject(t, st, packName(loc.Pack))
			putObject(t, st, packName(loc.Pack), b[:len(b)-1])
		}, "index says", false},
		{"index file damaged", func(t *testing.T, st store.Store, r *Repository, data []ID) {
			name := listNames(t, st, indexDir)[0]
			b := readObject(t, st, name)
			b[len(b)-3] ^= 1
			putObject(t, st, name, b)
		}, "does not match its name", false},
		{"snapshot damaged", func(t *testing.T, st store.Store, r *Repository, data []ID) {
			name := listNames(t, st, snapshotDir)[0]
			putObject(t, st, name, []byte("garbage that is long enough to be sealed......"))
		}, "authentication failed", false},
		{"key file damaged", func(t *testing.T, st store.Store, r *Repository, data []ID) {
			putObject(t, st, listNames(t, st, keysDir)[0], []byte("{"))
		}, "no readable recovery key", false},
		{"unindexed pack", func(t *testing.T, st store.Store, r *Repository, data []ID) {
			r.SaveBlob(ctx, DataBlob, randomBytes(999, 300<<10)) // fills a pack; checkpoint off
		}, "in no index", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := smallPackOptions()
			opts.CheckpointInterval = 1 << 62
			r, st, _ := newTestRepo(t, opts)
			_, data := populate(t, r)
			tt.damage(t, st, r, data)
			rep, err := r.Check(ctx, CheckOptions{Refs: testRefs})
			if err != nil {
				t.Fatal(err)
			}
			var all []string
			found := false
			for _, p := range rep.Problems {
				all = append(all, p.String())
				if strings.Contains(p.String(), tt.wantErr) {
					found = true
				}
			}
			if !found || rep.OK() == !tt.warning {
				t.Fatalf("want %q (warning=%v), got OK=%v:\n%s", tt.wantErr, tt.warning, rep.OK(), strings.Join(all, "\n"))
			}
		})
	}
}

func TestCheckSubsets(t *testing.T) {
	ctx := context.Background()
	r, _, _ := newTestRepo(t, smallPackOptions())
	populate(t, r)
	rep, _ := r.Check(ctx, CheckOptions{})
	total := rep.Packs
	sum := 0
	for part := 1; part <= 3; part++ {
		rep, err := r.Check(ctx, CheckOptions{ReadData: true, Subset: Subset{Part: part, Of: 3}})
		if err != nil || !rep.OK() {
			t.Fatal(err, rep.Problems)
		}
		sum += rep.PacksRead
	}
	if sum != total {
		t.Fatalf("parts 1..3 of 3 read %d packs, want %d", sum, total)
	}
	rep, err := r.Check(ctx, CheckOptions{ReadData: true, Subset: Subset{Percent: 100}})
	if err != nil || rep.PacksRead != total {
		t.Fatalf("100%% read %d of %d: %v", rep.PacksRead, total, err)
	}
	for _, bad := range []Subset{{Part: 0, Of: 3}, {Part: 4, Of: 3}, {Percent: 101}, {Percent: -1}, {Part: 1, Of: 2, Percent: 5}} {
		if _, err := r.Check(ctx, CheckOptions{ReadData: true, Subset: bad}); err == nil {
			t.Fatalf("subset %+v accepted", bad)
		}
	}
}

// The index rebuilt from pack headers alone equals the original.
func TestRebuildIndex(t *testing.T) {
	ctx := context.Background()
	r, st, rk := newTestRepo(t, smallPackOptions())
	populate(t, r)
	orig := r.idx.byPack()

	// Lose every index file; pack headers are all that is left.
	for _, name := range listNames(t, st, indexDir) {
		st.Delete(ctx, name)
	}
	r2 := reopen(t, st, rk, smallPackOptions())
	if r2.idx.Len() != 0 {
		t.Fatal("index files not gone")
	}
	rep, err := r2.RebuildIndex(ctx)
	if err != nil || len(rep.Problems) != 0 {
		t.Fatalf("RebuildIndex: %v %v", rep, err)
	}
	if got := r2.idx.byPack(); !equalIndex(got, orig) {
		t.Fatalf("rebuilt index differs:\n got %+v\nwant %+v", got, orig)
	}
	r3 := reopen(t, st, rk, smallPackOptions())
	if got := r3.idx.byPack(); !equalIndex(got, orig) {
		t.Fatal("stored rebuilt index differs")
	}
	check, err := r3.Check(ctx, CheckOptions{ReadData: true, Refs: testRefs})
	if err != nil || len(check.Problems) != 0 {
		t.Fatalf("check after rebuild: %v %v", check.Problems, err)
	}
}

func TestRebuildIndexKeepsOldEntriesOfDamagedHeader(t *testing.T) {
	ctx := context.Background()
	r, st, _ := newTestRepo(t, smallPackOptions())
	_, data := populate(t, r)
	loc, _ := r.LookupBlob(data[0])
	name := packName(loc.Pack)
	b := readObject(t, st, name)
	b[len(b)-packTrailerSize-5] ^= 1 // inside the sealed header
	putObject(t, st, name, b)
	rep, err := r.RebuildIndex(ctx)
	if err != nil || len(rep.Problems) != 1 {
		t.Fatalf("RebuildIndex: %+v %v", rep, err)
	}
	if got, err := r.LoadBlob(ctx, data[0]); err != nil || !bytes.Equal(got, randomBytes(100, 200<<10)) {
		t.Fatalf("blob in pack with damaged header lost: %v", err)
	}
}

func equalIndex(a, b []indexPack) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].ID != b[i].ID || a[i].Size != b[i].Size || len(a[i].Entries) != len(b[i].Entries) {
			return false
		}
		for j := range a[i].Entries {
			if a[i].Entries[j] != b[i].Entries[j] {
				return false
			}
		}
	}
	return true
}
