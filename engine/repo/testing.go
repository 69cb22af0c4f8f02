package repo

import (
	"context"
	"log/slog"
	"testing"

	"github.com/lifeboat-backup/lifeboat/engine/store"
)

// TestOptions returns Options for tests: Argon2id at its cheapest (never
// use these for a real repository), small packs so tests exercise several,
// a checkpoint after every pack, and no logging.
func TestOptions() Options {
	return Options{
		KDF:                KDFParams{Time: 1, MemoryKiB: 64, Threads: 1},
		PackSize:           1 << 20,
		CheckpointInterval: -1,
		Logger:             slog.New(slog.DiscardHandler),
	}
}

// TestRepository returns a new repository in a memory store, for other
// packages' tests. It is closed when the test ends.
func TestRepository(t testing.TB) *Repository {
	t.Helper()
	r, _, err := Init(context.Background(), store.NewMemory(), TestOptions())
	if err != nil {
		t.Fatalf("repo.TestRepository: %v", err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}
