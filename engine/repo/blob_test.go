package repo

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
)

func TestBlobRoundTrip(t *testing.T) {
	ctx := context.Background()
	r, st, rk := newTestRepo(t, TestOptions())
	tests := []struct {
		name         string
		typ          BlobType
		data         []byte
		wantCompress bool
	}{
		{"empty", DataBlob, []byte{}, false},
		{"tiny", TreeBlob, []byte("x"), false},
		{"text 10 KiB", DataBlob, textBytes(10 << 10), true},
		{"text 3 MiB", DataBlob, textBytes(3 << 20), true},
		{"random 1 KiB", DataBlob, randomBytes(1, 1<<10), false},
		{"random 2 MiB", DataBlob, randomBytes(2, 2<<20), false},
		{"zeros 1 MiB", TreeBlob, make([]byte, 1<<20), true},
	}
	ids := map[string]ID{}
	for _, tt := range tests {
		id, isNew, err := r.SaveBlob(ctx, tt.typ, tt.data)
		if err != nil || !isNew {
			t.Fatalf("%s: SaveBlob = %v, %v", tt.name, isNew, err)
		}
		ids[tt.name] = id
	}
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	r2 := reopen(t, st, rk, TestOptions())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := ids[tt.name]
			got, err := r2.LoadBlob(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tt.data) {
				t.Fatalf("round trip mismatch: %d bytes back, %d in", len(got), len(tt.data))
			}
			loc, _ := r2.LookupBlob(id)
			if loc.Type != tt.typ || loc.RawLength != uint32(len(tt.data)) {
				t.Fatalf("location %+v", loc)
			}
			compressed := loc.Length < uint32(len(tt.data))
			if compressed != tt.wantCompress {
				t.Fatalf("stored %d bytes for %d: compressed=%v, want %v", loc.Length, len(tt.data), compressed, tt.wantCompress)
			}
			if !tt.wantCompress && loc.Length != uint32(len(tt.data))+sealOverhead+1 {
				t.Fatalf("uncompressed blob stored as %d bytes", loc.Length)
			}
		})
	}
}

func TestBlobTypeIsPartOfIdentity(t *testing.T) {
	r := TestRepository(t)
	if r.BlobID(DataBlob, []byte("a")) == r.BlobID(TreeBlob, []byte("a")) {
		t.Fatal("same ID for data and tree blob")
	}
	// And IDs are keyed: another repository names the same bytes differently.
	if r.BlobID(DataBlob, []byte("a")) == TestRepository(t).BlobID(DataBlob, []byte("a")) {
		t.Fatal("blob IDs are not keyed per repository")
	}
}

func TestDedup(t *testing.T) {
	ctx := context.Background()
	r, st, rk := newTestRepo(t, TestOptions())
	data := randomBytes(3, 300<<10)
	id1, new1, err := r.SaveBlob(ctx, DataBlob, data)
	if err != nil {
		t.Fatal(err)
	}
	id2, new2, err := r.SaveBlob(ctx, DataBlob, data) // still in the open pack
	if err != nil || id1 != id2 || !new1 || new2 {
		t.Fatalf("second save: %v %v %v", id2, new2, err)
	}
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	_, new3, _ := r.SaveBlob(ctx, DataBlob, data) // now indexed
	r2 := reopen(t, st, rk, TestOptions())
	_, new4, _ := r2.SaveBlob(ctx, DataBlob, data) // a later run
	if new3 || new4 {
		t.Fatal("duplicate stored again")
	}
	if err := r2.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(listNames(t, st, dataDir)); n != 1 {
		t.Fatalf("%d packs, want 1", n)
	}
	if s := r.Stats(); s.NewBlobs != 1 || s.DuplicateBlobs != 2 {
		t.Fatalf("stats %+v", s)
	}
}

func TestConcurrentSaveBlob(t *testing.T) {
	ctx := context.Background()
	opts := TestOptions()
	opts.PackSize = 64 << 10
	r, st, rk := newTestRepo(t, opts)
	var wg sync.WaitGroup
	ids := make([][]ID, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 40 {
				// Goroutines overlap on half of their blobs.
				seed := uint64(g%2*1000 + i)
				id, _, err := r.SaveBlob(ctx, DataBlob, randomBytes(seed, 10<<10))
				if err != nil {
					t.Error(err)
					return
				}
				ids[g] = append(ids[g], id)
			}
		}()
	}
	wg.Wait()
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	r2 := reopen(t, st, rk, opts)
	for g := range ids {
		for i, id := range ids[g] {
			b, err := r2.LoadBlob(ctx, id)
			if err != nil || !bytes.Equal(b, randomBytes(uint64(g%2*1000+i), 10<<10)) {
				t.Fatalf("blob %d/%d: %v", g, i, err)
			}
		}
	}
	if r2.idx.Len() != 80 {
		t.Fatalf("%d blobs indexed, want 80", r2.idx.Len())
	}
}

func TestTamperedBlobDetected(t *testing.T) {
	ctx := context.Background()
	r, st, rk := newTestRepo(t, TestOptions())
	id, _, _ := r.SaveBlob(ctx, DataBlob, textBytes(5000))
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	loc, _ := r.LookupBlob(id)
	name := packName(loc.Pack)
	b := readObject(t, st, name)
	b[loc.Offset+30] ^= 1
	putObject(t, st, name, b)
	r2 := reopen(t, st, rk, TestOptions())
	if _, err := r2.LoadBlob(ctx, id); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("LoadBlob of tampered blob: %v, want ErrCorrupt", err)
	}
	if _, err := r2.LoadBlob(ctx, ID{1}); !errors.Is(err, ErrBlobNotFound) {
		t.Fatalf("LoadBlob of unknown blob: %v", err)
	}
}

func TestSaveBlobLimits(t *testing.T) {
	r := TestRepository(t)
	if _, _, err := r.SaveBlob(context.Background(), BlobType(9), nil); err == nil {
		t.Fatal("invalid type accepted")
	}
}
