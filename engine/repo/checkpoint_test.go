package repo

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/store"
)

// An interrupted writer (no final Flush) keeps everything it checkpointed,
// and a later run does not store those blobs again.
func TestInterruptedWriterKeepsCheckpoints(t *testing.T) {
	ctx := context.Background()
	opts := TestOptions()
	opts.PackSize = 64 << 10
	opts.CheckpointInterval = -1 // after every pack
	r, st, rk := newTestRepo(t, opts)
	var ids []ID
	for i := range 50 {
		id, _, err := r.SaveBlob(ctx, DataBlob, randomBytes(uint64(i), 20<<10))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	// Everything in a stored pack is checkpointed; only the open pack is not.
	r.mu.Lock()
	inOpen := len(r.open.entries)
	r.mu.Unlock()
	r.Close() // the process "dies": no Flush

	r2 := reopen(t, st, rk, opts)
	kept := 0
	for _, id := range ids {
		if r2.HasBlob(id) {
			kept++
			if _, err := r2.LoadBlob(ctx, id); err != nil {
				t.Fatal(err)
			}
		}
	}
	if kept != len(ids)-inOpen || kept < 40 {
		t.Fatalf("kept %d of %d (%d were in the open pack)", kept, len(ids), inOpen)
	}
	// The next run stores only what was lost.
	for i := range 50 {
		if _, _, err := r2.SaveBlob(ctx, DataBlob, randomBytes(uint64(i), 20<<10)); err != nil {
			t.Fatal(err)
		}
	}
	if got := r2.Stats().NewBlobs; got != int64(inOpen) {
		t.Fatalf("resumed run stored %d blobs, want %d", got, inOpen)
	}
}

func TestCheckpointByInterval(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	opts := TestOptions()
	opts.PackSize = 64 << 10
	opts.CheckpointInterval = time.Minute
	opts.Now = func() time.Time { return now }
	r, st, _ := newTestRepo(t, opts)
	save := func(seed uint64) {
		if _, _, err := r.SaveBlob(ctx, DataBlob, randomBytes(seed, 70<<10)); err != nil {
			t.Fatal(err)
		}
	}
	save(1) // fills and stores a pack, but no checkpoint is due
	if n := len(listNames(t, st, indexDir)); n != 0 {
		t.Fatalf("%d index files before the interval", n)
	}
	now = now.Add(2 * time.Minute)
	save(2)
	if n := len(listNames(t, st, indexDir)); n != 1 {
		t.Fatalf("%d index files after the interval, want 1", n)
	}
}

// A failed pack upload stops the writer: nothing more can be committed,
// so no snapshot can reference blobs that were lost with the pack.
func TestFailedUploadIsSticky(t *testing.T) {
	ctx := context.Background()
	mem := store.NewMemory()
	f := store.NewFaulty(mem)
	opts := TestOptions()
	opts.PackSize = 64 << 10
	r, rk, err := Init(ctx, f, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	root, _, _ := r.SaveBlob(ctx, TreeBlob, []byte("root"))
	if _, err := r.SaveSnapshot(ctx, &Snapshot{Root: root}); err != nil {
		t.Fatal(err)
	}
	f.FailPutAfter(0, nil)
	var saveErr error
	for i := 0; i < 10 && saveErr == nil; i++ {
		_, _, saveErr = r.SaveBlob(ctx, DataBlob, randomBytes(uint64(i), 40<<10))
	}
	if saveErr == nil {
		t.Fatal("no error from SaveBlob with failing store")
	}
	f.Reset()
	if _, err := r.SaveSnapshot(ctx, &Snapshot{Root: root}); err == nil {
		t.Fatal("snapshot saved after a lost pack")
	}
	// The earlier snapshot is intact.
	r2 := reopen(t, mem, rk, opts)
	list, err := r2.ListSnapshots(ctx)
	if err != nil || len(list) != 1 {
		t.Fatalf("snapshots after failure: %v %v", list, err)
	}
	rep, err := r2.Check(ctx, CheckOptions{ReadData: true})
	if err != nil || !rep.OK() {
		t.Fatalf("check after failure: %v %v", rep.Problems, err)
	}
}

func TestFaultsGiveClearErrors(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		inject func(f *store.Faulty)
	}{
		{"put fails", func(f *store.Faulty) { f.FailPutAfter(0, nil) }},
		{"disk full", func(f *store.Faulty) { f.DiskFull(1) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := store.NewFaulty(store.NewMemory())
			r, _, err := Init(ctx, f, TestOptions())
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			tt.inject(f)
			if _, _, err := r.SaveBlob(ctx, DataBlob, []byte("x")); err != nil {
				t.Fatal(err) // only buffered so far
			}
			err = r.Flush(ctx)
			if err == nil || !bytes.Contains([]byte(err.Error()), []byte("pack")) {
				t.Fatalf("Flush: %v", err)
			}
			if _, _, err := r.SaveBlob(ctx, DataBlob, []byte("y")); err == nil {
				t.Fatal("SaveBlob works after a lost pack")
			}
		})
	}
}
