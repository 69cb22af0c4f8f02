package repo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/store"
)

// ErrNotACopy means the destination holds a repository, but not a copy of
// this one (another master key or repository ID).
var ErrNotACopy = errors.New("repo: the second destination holds another backup, not a copy of this one")

// InitCopy makes dst (an empty store) a copy of r: the README, every key
// slot file and the config are copied byte for byte, so the copy has the
// same repository ID, chunker and master key, and the same recovery key
// (and this computer's keychain) opens it. FORMAT.md §12. The config is
// written last, as in Init: until it is there, dst is not a repository.
func InitCopy(ctx context.Context, dst store.Store, r *Repository, opts Options) (*Repository, error) {
	if _, err := dst.Stat(ctx, configName); err == nil {
		return nil, ErrAlreadyExists
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("repo: checking the second destination: %w", err)
	}
	if err := putBytes(ctx, dst, readmeName, []byte(readmeText)); err != nil {
		return nil, err
	}
	if _, err := syncKeys(ctx, r.st, dst); err != nil {
		return nil, err
	}
	raw, err := readConfigRaw(ctx, r.st)
	if err != nil {
		return nil, err
	}
	if err := putBytes(ctx, dst, configName, raw); err != nil {
		return nil, err
	}
	return OpenCopy(ctx, dst, r, opts)
}

// OpenCopy opens the copy of r in dst with r's master key (no recovery key
// or keychain needed on the computer that makes the copies). Key slots
// added to r since are copied over.
func OpenCopy(ctx context.Context, dst store.Store, r *Repository, opts Options) (*Repository, error) {
	raw, err := readConfigRaw(ctx, dst)
	if err != nil {
		return nil, err
	}
	c, err := openWithMaster(ctx, dst, opts, raw, r.master)
	if err != nil {
		if isCorrupt(err) {
			return nil, fmt.Errorf("%w: %v", ErrNotACopy, err)
		}
		return nil, err
	}
	if c.cfg.ID != r.cfg.ID {
		c.Close()
		return nil, ErrNotACopy
	}
	if _, err := syncKeys(ctx, r.st, dst); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// syncKeys copies the key slot files src has and dst lacks.
func syncKeys(ctx context.Context, src, dst store.Store) (int, error) {
	have := map[string]bool{}
	if err := dst.List(ctx, keysDir, func(fi store.Info) error { have[fi.Name] = true; return nil }); err != nil {
		return 0, fmt.Errorf("repo: listing the copy's keys: %w", err)
	}
	n := 0
	var names []string
	if err := src.List(ctx, keysDir, func(fi store.Info) error { names = append(names, fi.Name); return nil }); err != nil {
		return 0, fmt.Errorf("repo: listing keys: %w", err)
	}
	for _, name := range names {
		if have[name] {
			continue
		}
		b, err := readSmall(ctx, src, name, maxKeyFileSize)
		if err != nil {
			return n, err
		}
		if _, err := decodeKeyFile(b); err != nil {
			continue // a damaged slot is not spread to the copy
		}
		if err := putBytes(ctx, dst, name, b); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// CopyOptions control CopyTo.
type CopyOptions struct {
	// Refs is what tree blobs reference (engine/backup's Refs); required,
	// as for Prune.
	Refs func(tree []byte) ([]ID, error)
	// Since skips snapshots older than this (those the copy's own
	// retention already forgot must not come back); zero copies all.
	Since time.Time
	// OnProgress, when set, is called after each snapshot is copied.
	OnProgress func(done, total int)
}

// CopyReport says what CopyTo did.
type CopyReport struct {
	// Snapshots copied, and already there (skipped).
	Snapshots, Present int
	// Blobs copied (not already in the copy) and their stored bytes;
	// BlobsShared were already there (deduplicated).
	Blobs, BlobsShared int
	Bytes              int64
	// Verified is the number of copied blobs read back from the copy and
	// authenticated after it was written.
	Verified int
	Keys     int
	// Newest is the time of the newest snapshot the copy now holds.
	Newest time.Time
}

// CopyTo copies to dst (a copy made by InitCopy, opened with OpenCopy)
// every snapshot of r that dst does not have, with only the blobs dst
// lacks: encrypted as they are (blobs are moved as their stored bytes,
// which do not depend on the pack), deduplicated against everything dst
// holds. Every blob is authenticated when read from r and again when read
// back from dst once stored. The write order is the repository's own —
// packs, then index, then the snapshot — so stopping at any instant
// (kill -9, a lost connection) leaves dst valid, with at most some packs
// no snapshot uses yet, and the next CopyTo carries on without sending
// them again.
func (r *Repository) CopyTo(ctx context.Context, dst *Repository, opts CopyOptions) (*CopyReport, error) {
	if opts.Refs == nil {
		return nil, ErrPruneNeedsRefs
	}
	if dst.cfg.ID != r.cfg.ID || !bytes.Equal(dst.master, r.master) {
		return nil, ErrNotACopy
	}
	rep := &CopyReport{}
	n, err := syncKeys(ctx, r.st, dst.st)
	rep.Keys = n
	if err != nil {
		return rep, err
	}
	lock, err := dst.Lock(ctx, false)
	if err != nil {
		return rep, fmt.Errorf("repo: copy: %w", err)
	}
	defer lock.Unlock(context.WithoutCancel(ctx))

	snaps, err := r.ListSnapshots(ctx)
	if err != nil {
		return rep, err
	}
	have, err := dst.snapshotIDs(ctx)
	if err != nil {
		return rep, err
	}
	present := map[ID]bool{}
	for _, id := range have {
		present[id] = true
	}
	var todo []*Snapshot
	for _, s := range snaps {
		switch {
		case present[s.ID]:
			rep.Present++
		case s.Time.Before(opts.Since):
		default:
			todo = append(todo, s)
		}
	}
	r.mu.Lock()
	idx := r.idx
	r.mu.Unlock()
	var copied []ID
	for i, s := range todo {
		ids, err := r.copySnapshotData(ctx, dst, idx, s, opts.Refs, rep)
		copied = append(copied, ids...)
		if err != nil {
			return rep, err
		}
		if err := lock.Err(); err != nil {
			return rep, fmt.Errorf("repo: copy stopped: %w", err)
		}
		// Packs and index first; the snapshot file, byte for byte (its
		// sealing binds it to its name, and the key is the same), last.
		if err := dst.Flush(ctx); err != nil {
			return rep, fmt.Errorf("repo: copy: %w", err)
		}
		if !s.Root.IsZero() && !dst.HasBlob(s.Root) {
			return rep, fmt.Errorf("repo: copy: snapshot %s: root %s: %w", s.ID.Short(), s.Root.Short(), ErrBlobNotFound)
		}
		sealed, err := readSmall(ctx, r.st, snapshotName(s.ID), maxSnapshotSize)
		if err != nil {
			return rep, err
		}
		if err := putBytes(ctx, dst.st, snapshotName(s.ID), sealed); err != nil {
			return rep, err
		}
		if _, err := dst.LoadSnapshot(ctx, s.ID); err != nil {
			return rep, fmt.Errorf("repo: copy: snapshot %s does not read back: %w", s.ID.Short(), err)
		}
		rep.Snapshots++
		if opts.OnProgress != nil {
			opts.OnProgress(i+1, len(todo))
		}
	}
	// Read back and authenticate everything sent.
	for _, id := range copied {
		if _, err := dst.LoadBlob(ctx, id); err != nil {
			return rep, fmt.Errorf("repo: copy: verifying what was copied: %w", err)
		}
		rep.Verified++
	}
	for _, s := range snaps {
		if (present[s.ID] || !s.Time.Before(opts.Since)) && s.Time.After(rep.Newest) {
			rep.Newest = s.Time
		}
	}
	r.log.Info("copy finished", "snapshots", rep.Snapshots, "blobs", rep.Blobs, "shared", rep.BlobsShared, "bytes", rep.Bytes)
	return rep, nil
}

// copySnapshotData sends every blob reachable from s that dst lacks and
// returns their IDs. Blobs are read pack by pack, in offset order.
func (r *Repository) copySnapshotData(ctx context.Context, dst *Repository, idx *Index, s *Snapshot, refs func([]byte) ([]ID, error), rep *CopyReport) ([]ID, error) {
	if s.Root.IsZero() {
		return nil, nil
	}
	seen := map[ID]bool{}
	var need []ID
	queue := []ID{s.Root}
	for len(queue) > 0 {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		id := queue[len(queue)-1]
		queue = queue[:len(queue)-1]
		if seen[id] {
			continue
		}
		seen[id] = true
		loc, ok := idx.Lookup(id)
		if !ok {
			return nil, fmt.Errorf("repo: copy: snapshot %s references blob %s, which is in no index; run verify and repair first", s.ID.Short(), id.Short())
		}
		if loc.Type == TreeBlob {
			data, err := r.loadAt(ctx, id, loc)
			if err != nil {
				return nil, fmt.Errorf("repo: copy: snapshot %s: %w", s.ID.Short(), err)
			}
			children, err := refs(data)
			if err != nil {
				return nil, fmt.Errorf("repo: copy: snapshot %s: tree %s cannot be parsed: %w", s.ID.Short(), id.Short(), err)
			}
			queue = append(queue, children...)
		}
		if dst.HasBlob(id) {
			rep.BlobsShared++
			continue
		}
		need = append(need, id)
	}
	slices.SortFunc(need, func(a, b ID) int {
		la, _ := idx.Lookup(a)
		lb, _ := idx.Lookup(b)
		if c := bytes.Compare(la.Pack[:], lb.Pack[:]); c != 0 {
			return c
		}
		return int(la.Offset) - int(lb.Offset)
	})
	var copied []ID
	for _, id := range need {
		if err := ctx.Err(); err != nil {
			return copied, err
		}
		loc, _ := idx.Lookup(id)
		stored, err := readRange(ctx, r.st, packName(loc.Pack), int64(loc.Offset), int64(loc.Length))
		if err != nil {
			return copied, err
		}
		if _, err := decodeBlob(r.keys, r.codec, loc.Type, id, stored, loc.RawLength); err != nil {
			return copied, corrupt(fmt.Sprintf("blob %s (in pack %s)", id, loc.Pack), err)
		}
		added, err := dst.saveStored(ctx, loc.Type, id, stored, loc.RawLength)
		if err != nil {
			return copied, fmt.Errorf("repo: copy: %w", err)
		}
		if added {
			copied = append(copied, id)
			rep.Blobs++
			rep.Bytes += int64(len(stored))
		}
	}
	return copied, nil
}

// saveStored adds an already encrypted blob (authenticated by the caller)
// unless the repository has it.
func (r *Repository) saveStored(ctx context.Context, t BlobType, id ID, stored []byte, rawLen uint32) (bool, error) {
	r.mu.Lock()
	if r.err != nil {
		r.mu.Unlock()
		return false, r.err
	}
	if _, p := r.pending[id]; p || r.idx.Has(id) {
		r.mu.Unlock()
		return false, nil
	}
	r.pending[id] = struct{}{}
	// The pack keeps its own copy: stored may be reused by the caller.
	return true, r.addStoredLocked(ctx, t, id, bytes.Clone(stored), rawLen)
}

// IsCopyOf reports whether the repository in st is a copy of r, without
// opening it (for the settings screen).
func IsCopyOf(ctx context.Context, st store.Store, r *Repository) bool {
	raw, err := readConfigRaw(ctx, st)
	if err != nil {
		return false
	}
	cfg, err := decodeConfig(r.keys, raw)
	return err == nil && cfg.ID == r.cfg.ID
}
