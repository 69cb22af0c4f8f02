package repo

import (
	"bytes"
	"context"
	"io"
	"slices"
	"testing"

	"github.com/lifeboat-backup/lifeboat/engine/store"
)

// realRepository builds a small repository of every kind of file (config,
// key file, packs, index, snapshot, lock) and returns it with its files'
// names, sorted.
func realRepository(tb testing.TB) (*Repository, *store.Memory, []string) {
	tb.Helper()
	ctx := context.Background()
	st := store.NewMemory()
	opts := TestOptions()
	opts.PackSize = 64 << 10
	r, _, err := Init(ctx, st, opts)
	if err != nil {
		tb.Fatal(err)
	}
	for i := range 6 {
		if _, _, err := r.SaveBlob(ctx, DataBlob, randomBytes(uint64(i), 20<<10)); err != nil {
			tb.Fatal(err)
		}
	}
	root, _, err := r.SaveBlob(ctx, TreeBlob, []byte(`{"format":"test"}`))
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := r.SaveSnapshot(ctx, &Snapshot{Kind: "test", Root: root, State: map[string]string{"k": "v"}}); err != nil {
		tb.Fatal(err)
	}
	if _, err := r.Lock(ctx, false); err != nil { // left held: a lock file to fuzz
		tb.Fatal(err)
	}
	var names []string
	if err := st.List(ctx, "", func(fi store.Info) error { names = append(names, fi.Name); return nil }); err != nil {
		tb.Fatal(err)
	}
	slices.Sort(names)
	return r, st, names
}

// FuzzRepositoryFiles replaces one file of a real repository with fuzzed
// bytes (seeded with the repository's real files, so the fuzzer starts from
// valid encrypted files and their plaintext headers) and reads the
// repository through every path a backup's hostile bytes reach: opening
// (config, key files, index), listing locks, loading snapshots and blobs,
// verifying every byte, rebuilding the index and salvaging. Nothing may
// panic, and damage must be reported as such, not crash or hang.
func FuzzRepositoryFiles(f *testing.F) {
	r, st, names := realRepository(f)
	defer r.Close()
	ctx := context.Background()
	for i, name := range names {
		rc, err := st.Get(ctx, name, 0, -1)
		if err != nil {
			f.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		f.Add(uint8(i), b)
	}
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		if len(data) > 4<<20 {
			return
		}
		clone := store.NewMemory()
		for _, name := range names {
			rc, err := st.Get(ctx, name, 0, -1)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(rc)
			rc.Close()
			if err := clone.Put(ctx, name, bytes.NewReader(b), int64(len(b))); err != nil {
				t.Fatal(err)
			}
		}
		target := names[int(which)%len(names)]
		if err := clone.Put(ctx, target, bytes.NewReader(data), int64(len(data))); err != nil {
			t.Fatal(err)
		}
		// Keys as the backup's owner has them; the config and key files
		// are decoded from the (fuzzed) store all the same.
		if _, _, err := listKeyFiles(ctx, clone); err != nil {
			return
		}
		raw, err := readConfigRaw(ctx, clone)
		if err != nil {
			return
		}
		r2, err := openWithMaster(ctx, clone, TestOptions(), raw, r.master)
		if err != nil {
			return
		}
		defer r2.Close()
		_, _ = r2.ListLocks(ctx)
		snaps, _ := r2.ListSnapshots(ctx)
		for _, s := range snaps {
			_, _ = r2.LoadBlob(ctx, s.Root)
		}
		if _, err := r2.Check(ctx, CheckOptions{ReadData: true}); err != nil {
			t.Fatalf("check could not run on a damaged %s: %v", target, err)
		}
		if _, err := r2.Salvage(ctx); err != nil {
			t.Fatalf("salvage could not run on a damaged %s: %v", target, err)
		}
	})
}
