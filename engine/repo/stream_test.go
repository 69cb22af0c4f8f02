package repo

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
)

func TestStreamRoundTrip(t *testing.T) {
	ctx := context.Background()
	opts := TestOptions()
	opts.PackSize = 4 << 20
	r, st, rk := newTestRepo(t, opts)
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"one byte", []byte{7}},
		{"below min chunk", textBytes(300 << 10)},
		{"exactly min chunk", randomBytes(5, 512<<10)},
		{"several chunks random", randomBytes(6, 5<<20)},
		{"several chunks text", textBytes(4 << 20)},
	}
	refs := make([]ContentRef, len(tests))
	for i, tt := range tests {
		ref, err := r.SaveStream(ctx, bytes.NewReader(tt.data))
		if err != nil {
			t.Fatalf("%s: SaveStream: %v", tt.name, err)
		}
		if ref.Size != int64(len(tt.data)) {
			t.Fatalf("%s: size %d", tt.name, ref.Size)
		}
		refs[i] = ref
	}
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	r2 := reopen(t, st, rk, opts)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := r2.OpenStream(ctx, refs[i])
			defer rc.Close()
			got, err := io.ReadAll(rc)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tt.data) {
				t.Fatalf("got %d bytes, want %d", len(got), len(tt.data))
			}
		})
	}
	if n := len(refs[4].Chunks); n < 2 {
		t.Fatalf("5 MiB split into %d chunks", n)
	}
}

// A 20 MiB file with a few bytes changed in the middle adds only the
// chunks around the change.
func TestStreamDedupAfterEdit(t *testing.T) {
	ctx := context.Background()
	opts := TestOptions()
	opts.PackSize = 8 << 20
	r, _, _ := newTestRepo(t, opts)
	orig := randomBytes(7, 20<<20)
	ref1, err := r.SaveStream(ctx, bytes.NewReader(orig))
	if err != nil {
		t.Fatal(err)
	}
	before := r.Stats()
	edited := bytes.Clone(orig)
	copy(edited[10<<20:], "Paul changed this")
	ref2, err := r.SaveStream(ctx, bytes.NewReader(edited))
	if err != nil {
		t.Fatal(err)
	}
	after := r.Stats()
	added := after.NewBlobs - before.NewBlobs
	if added < 1 || added > 2 {
		t.Fatalf("edit added %d chunks (of %d)", added, len(ref2.Chunks))
	}
	if grown := after.RawBytes - before.RawBytes; grown > 9<<20 {
		t.Fatalf("edit stored %d new bytes", grown)
	}
	// About 13 chunks are expected at a 1 MiB average beyond the 512 KiB
	// minimum, but each repository draws its own polynomial, so the count
	// varies; fewer than 5 would mean chunking is not content-defined.
	if len(ref1.Chunks) < 5 {
		t.Fatalf("20 MiB gave only %d chunks", len(ref1.Chunks))
	}
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r.OpenStream(ctx, ref2))
	if err != nil || !bytes.Equal(got, edited) {
		t.Fatalf("edited read back wrong: %v", err)
	}
}

func TestOpenStreamErrors(t *testing.T) {
	ctx := context.Background()
	r := TestRepository(t)
	ref, err := r.SaveStream(ctx, bytes.NewReader(textBytes(1000)))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		ref  ContentRef
		want error
	}{
		{"size too small", ContentRef{Size: 10, Chunks: ref.Chunks}, ErrCorrupt},
		{"size too large", ContentRef{Size: 2000, Chunks: ref.Chunks}, ErrCorrupt},
		{"missing chunk", ContentRef{Size: 1000, Chunks: []ID{{9}}}, ErrBlobNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := io.ReadAll(r.OpenStream(ctx, tt.ref))
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

type failingReader struct{ n int }

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errors.New("network went away")
	}
	n := min(len(p), f.n)
	f.n -= n
	return n, nil
}

func TestSaveStreamReadError(t *testing.T) {
	r := TestRepository(t)
	for _, n := range []int{10, 3 << 20} {
		if _, err := r.SaveStream(context.Background(), &failingReader{n: n}); err == nil {
			t.Fatalf("n=%d: no error", n)
		}
	}
}

func BenchmarkSaveStream(b *testing.B) {
	ctx := context.Background()
	opts := TestOptions()
	opts.PackSize = DefaultPackSize
	data := append(randomBytes(11, 16<<20), textBytes(16<<20)...)
	b.SetBytes(int64(len(data)))
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		r := TestRepository(b)
		b.StartTimer()
		if _, err := r.SaveStream(ctx, bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
		if err := r.Flush(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
