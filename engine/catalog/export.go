package catalog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Reset empties everything that is derived from the repository —
// snapshots, items, versions and the search index — in one transaction,
// so a rebuild can replay the repository's snapshots from scratch.
// Accounts and the run history are kept.
func (c *Catalog) Reset(ctx context.Context) error {
	return c.writeTx(ctx, "resetting", func(tx *sql.Tx) error {
		for _, q := range []string{
			"DELETE FROM search",
			"DELETE FROM versions",
			"DELETE FROM items",
			"DELETE FROM snapshots",
		} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("%s: %w", q, err)
			}
		}
		return nil
	})
}

// ExportTo writes a consistent, compact copy of the catalog to path
// (which must not exist) with VACUUM INTO. It sees the last committed
// state and does not block writers.
func (c *Catalog) ExportTo(ctx context.Context, path string) error {
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("catalog: exporting to %s: %w", path, os.ErrExist)
	}
	// A connection of its own: the read pool is query-only, and the
	// writer's connection may be held by an open Batch. VACUUM INTO only
	// reads the catalog, so writers go on meanwhile.
	// VACUUM rebuilds every index, and SQLite sorts in memory up to the
	// connection's cache size before spilling to a temporary file: a
	// small cache keeps the copy from doubling a backup's memory.
	d, _ := dsn(c.path, c.opts.BusyTimeout, false, exportCacheKB)
	db, err := sql.Open("sqlite", d)
	if err != nil {
		return fmt.Errorf("catalog: exporting to %s: %w", path, err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "VACUUM INTO ?", path); err != nil {
		_ = os.Remove(path)
		return fmt.Errorf("catalog: exporting to %s: %w", path, classify(err))
	}
	return nil
}

// WriteCopy writes a consistent copy of the catalog to w, for the caller to
// store encrypted in the repository. The copy is made in a temporary file
// next to the catalog, which is removed afterwards.
func (c *Catalog) WriteCopy(ctx context.Context, w io.Writer) (int64, error) {
	dir, err := os.MkdirTemp(filepath.Dir(c.path), ".catalog-export-")
	if err != nil {
		return 0, fmt.Errorf("catalog: exporting: %w", err)
	}
	defer os.RemoveAll(dir)
	tmp := filepath.Join(dir, "catalog.db")
	if err := c.ExportTo(ctx, tmp); err != nil {
		return 0, err
	}
	f, err := os.Open(tmp)
	if err != nil {
		return 0, fmt.Errorf("catalog: exporting: %w", err)
	}
	defer f.Close()
	n, err := io.Copy(w, f)
	if err != nil {
		return n, fmt.Errorf("catalog: exporting: writing copy: %w", err)
	}
	return n, nil
}

// Import replaces the catalog file at path with the copy read from r (as
// stored in a repository by WriteCopy) and opens it. The copy is treated as
// hostile: it is written to a temporary file and checked completely —
// pages, search index, application id, schema version and the exact set
// of tables, indexes, triggers and views — before it replaces anything.
// A damaged copy gives ErrCorrupt; one from a newer Lifeboat ErrNewerSchema.
// No catalog may be open at path.
func Import(ctx context.Context, r io.Reader, path string, opts Options) (*Catalog, error) {
	if _, err := dsn(path, 0, false, writeCacheKB); err != nil {
		return nil, fmt.Errorf("catalog: importing: %w", err)
	}
	dir, err := os.MkdirTemp(filepath.Dir(path), ".catalog-import-")
	if err != nil {
		return nil, fmt.Errorf("catalog: importing: %w", err)
	}
	defer os.RemoveAll(dir)
	tmp := filepath.Join(dir, "catalog.db")
	n, err := writeFile(tmp, r)
	if err != nil {
		return nil, fmt.Errorf("catalog: importing: %w", err)
	}
	if n == 0 {
		return nil, fmt.Errorf("catalog: importing: %w: the copy is empty", ErrCorrupt)
	}
	checkOpts := opts
	checkOpts.IntegrityCheck = true
	checked, err := Open(ctx, tmp, checkOpts)
	if err != nil {
		return nil, fmt.Errorf("catalog: importing: %w", err)
	}
	if err := checked.Close(); err != nil {
		return nil, fmt.Errorf("catalog: importing: %w", err)
	}
	if err := install(tmp, path); err != nil {
		return nil, fmt.Errorf("catalog: importing: %w", err)
	}
	opts.Check, opts.IntegrityCheck = false, false
	return Open(ctx, path, opts)
}

// install moves the closed catalog file tmp to path, replacing what is there.
func install(tmp, path string) error {
	// A stale write-ahead log next to path would be replayed into the new file.
	for _, suffix := range []string{"-wal", "-shm", "-journal"} {
		if err := os.Remove(path + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("removing old %s%s: %w", filepath.Base(path), suffix, err)
		}
	}
	return os.Rename(tmp, path)
}

// Rebuild makes a new catalog at path from scratch, for when the catalog
// is lost or damaged: replay fills an empty catalog (accounts, snapshots in
// time order, their items) from the repository, and only when it succeeds
// does the result replace what is at path — a failed rebuild leaves the
// old catalog as it was. No catalog may be open at path.
func Rebuild(ctx context.Context, path string, opts Options, replay func(ctx context.Context, c *Catalog) error) (*Catalog, error) {
	if _, err := dsn(path, 0, false, writeCacheKB); err != nil {
		return nil, fmt.Errorf("catalog: rebuilding: %w", err)
	}
	dir, err := os.MkdirTemp(filepath.Dir(path), ".catalog-rebuild-")
	if err != nil {
		return nil, fmt.Errorf("catalog: rebuilding: %w", err)
	}
	defer os.RemoveAll(dir)
	tmp := filepath.Join(dir, "catalog.db")
	fresh, err := Open(ctx, tmp, opts)
	if err != nil {
		return nil, fmt.Errorf("catalog: rebuilding: %w", err)
	}
	if err := replay(ctx, fresh); err != nil {
		fresh.Close()
		return nil, fmt.Errorf("catalog: rebuilding: %w", err)
	}
	if err := fresh.Close(); err != nil {
		return nil, fmt.Errorf("catalog: rebuilding: %w", err)
	}
	if err := install(tmp, path); err != nil {
		return nil, fmt.Errorf("catalog: rebuilding: %w", err)
	}
	return Open(ctx, path, opts)
}

// ImportFile is Import reading from a file.
func ImportFile(ctx context.Context, src, path string, opts Options) (*Catalog, error) {
	f, err := os.Open(src)
	if err != nil {
		return nil, fmt.Errorf("catalog: importing: %w", err)
	}
	defer f.Close()
	return Import(ctx, f, path, opts)
}

func writeFile(name string, r io.Reader) (int64, error) {
	f, err := os.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(f, r)
	if err != nil {
		f.Close()
		return n, fmt.Errorf("writing %s: %w", name, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return n, fmt.Errorf("syncing %s: %w", name, err)
	}
	return n, f.Close()
}
