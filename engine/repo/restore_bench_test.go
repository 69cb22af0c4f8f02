package repo

import (
	"bytes"
	"context"
	"io"
	"testing"
)

// benchContent is 32 MiB: half incompressible, half text.
func benchContent() []byte { return append(randomBytes(12, 16<<20), textBytes(16<<20)...) }

// BenchmarkSaveStreamUnchanged stores content that is already stored: the
// cost of a backup run over unchanged data (chunk and hash, nothing new).
func BenchmarkSaveStreamUnchanged(b *testing.B) {
	ctx := context.Background()
	data := benchContent()
	r := TestRepository(b)
	if _, err := r.SaveStream(ctx, bytes.NewReader(data)); err != nil {
		b.Fatal(err)
	}
	if err := r.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := r.SaveStream(ctx, bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
	if n := r.Stats().StoredBytes; n > int64(len(data)) {
		b.Fatalf("unchanged content stored again: %d bytes", n)
	}
}

// BenchmarkOpenStream restores content: read, authenticate, decompress.
func BenchmarkOpenStream(b *testing.B) {
	ctx := context.Background()
	data := benchContent()
	r := TestRepository(b)
	ref, err := r.SaveStream(ctx, bytes.NewReader(data))
	if err != nil {
		b.Fatal(err)
	}
	if err := r.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		rc := r.OpenStream(ctx, ref)
		n, err := io.Copy(io.Discard, rc)
		rc.Close()
		if err != nil || n != int64(len(data)) {
			b.Fatalf("restored %d of %d bytes: %v", n, len(data), err)
		}
	}
}

// BenchmarkCheckReadData authenticates every stored byte, as
// `verify --read-data` does.
func BenchmarkCheckReadData(b *testing.B) {
	ctx := context.Background()
	data := benchContent()
	r := TestRepository(b)
	if _, err := r.SaveStream(ctx, bytes.NewReader(data)); err != nil {
		b.Fatal(err)
	}
	if err := r.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		rep, err := r.Check(ctx, CheckOptions{ReadData: true})
		if err != nil || !rep.OK() {
			b.Fatalf("check: %v %v", err, rep.Problems)
		}
	}
}
