package repo

import (
	"context"
	"errors"
	"fmt"

	"github.com/lifeboat-backup/lifeboat/engine/store"
)

// SaveBlob stores data as a blob of type t unless an identical blob is
// already stored, and returns its ID and whether it was new. The blob is
// committed (survives a crash) once a later checkpoint or Flush has
// written an index that covers it.
func (r *Repository) SaveBlob(ctx context.Context, t BlobType, data []byte) (ID, bool, error) {
	if !t.valid() {
		return ID{}, false, fmt.Errorf("repo: SaveBlob: invalid blob type %d", t)
	}
	if len(data) > MaxBlobSize {
		return ID{}, false, fmt.Errorf("repo: SaveBlob: %d bytes exceed the %d-byte blob limit; use SaveStream", len(data), MaxBlobSize)
	}
	id := r.keys.blobID(t, data)

	r.mu.Lock()
	if r.err != nil {
		r.mu.Unlock()
		return ID{}, false, r.err
	}
	if _, p := r.pending[id]; p || r.idx.Has(id) {
		r.mu.Unlock()
		r.stats.blobsDup.Add(1)
		return id, false, nil
	}
	r.pending[id] = struct{}{}
	r.mu.Unlock()

	// Compression and encryption run outside the lock, in parallel across
	// callers; only appending to the open pack is serialized.
	stored, err := encodeBlob(r.keys, r.codec, t, id, data)
	r.mu.Lock()
	if err == nil && r.err != nil {
		err = r.err
	}
	if err != nil {
		delete(r.pending, id)
		r.mu.Unlock()
		return ID{}, false, fmt.Errorf("repo: saving blob: %w", err)
	}
	if err := r.addStoredLocked(ctx, t, id, stored, uint32(len(data))); err != nil {
		return id, true, err
	}
	return id, true, nil
}

// addStoredLocked appends a blob's stored bytes to the open pack and
// uploads the pack when it is full. r.mu is held on entry (with id in
// r.pending) and released.
func (r *Repository) addStoredLocked(ctx context.Context, t BlobType, id ID, stored []byte, rawLen uint32) error {
	r.open.add(t, id, stored, rawLen)
	var full *packWriter
	if r.open.size() >= r.opts.PackSize {
		full, r.open = r.open, r.newPack()
		r.uploading++
	}
	r.mu.Unlock()

	r.stats.blobsNew.Add(1)
	r.stats.rawBytes.Add(int64(rawLen))
	r.stats.storedBytes.Add(int64(len(stored)))
	if full != nil {
		return r.uploadPack(ctx, full)
	}
	return nil
}

// uploadPack stores a closed pack, makes its blobs visible in the index and
// checkpoints if one is due. The caller has counted it in r.uploading.
func (r *Repository) uploadPack(ctx context.Context, p *packWriter) error {
	defer func() {
		r.mu.Lock()
		r.uploading--
		r.cond.Broadcast()
		r.mu.Unlock()
	}()
	r.uploadMu.Lock()
	defer r.uploadMu.Unlock()

	id, data, err := p.finish(r.keys)
	if err == nil {
		err = putBytes(ctx, r.st, packName(id), data)
	}
	if err != nil {
		// Blobs in this pack were reported as saved (and deduplicated
		// against); nothing may be committed that could reference them.
		err = fmt.Errorf("pack not stored, this run cannot continue (earlier backups are intact): %w", err)
		r.mu.Lock()
		if r.err == nil {
			r.err = err
		}
		r.mu.Unlock()
		return err
	}
	ip := indexPack{ID: id, Size: int64(len(data)), Entries: p.entries}
	r.mu.Lock()
	r.idx.add(ip)
	for _, e := range p.entries {
		delete(r.pending, e.ID)
	}
	r.unindexed = append(r.unindexed, ip)
	due := r.opts.CheckpointInterval < 0 ||
		r.opts.Now().Sub(r.lastCkpt) >= r.opts.CheckpointInterval ||
		len(r.unindexed) >= maxPacksPerIndex
	r.mu.Unlock()
	r.stats.packs.Add(1)
	r.log.Debug("pack stored", "pack", id.Short(), "blobs", len(p.entries), "bytes", len(data))

	if due {
		if err := r.checkpointLocked(ctx); err != nil {
			// Not fatal: the packs are stored and Flush retries the index.
			r.log.Warn("checkpoint failed; will retry", "err", err)
		}
	}
	return nil
}

// checkpointLocked writes one index file for all stored, unindexed packs.
// r.uploadMu must be held, so r.unindexed only grows meanwhile.
func (r *Repository) checkpointLocked(ctx context.Context) error {
	r.mu.Lock()
	packs := r.unindexed
	r.mu.Unlock()
	if len(packs) == 0 {
		return nil
	}
	name, err := writeIndexFile(ctx, r.st, r.keys, packs)
	if err != nil {
		return err
	}
	r.mu.Lock()
	r.unindexed = append([]indexPack(nil), r.unindexed[len(packs):]...)
	r.lastCkpt = r.opts.Now()
	r.mu.Unlock()
	r.log.Debug("checkpoint written", "index", name, "packs", len(packs))
	return nil
}

// Flush stores the open pack, waits for uploads in progress and writes an
// index for everything stored so far. After Flush returns nil, every blob
// saved before it was called survives a crash.
func (r *Repository) Flush(ctx context.Context) error {
	r.mu.Lock()
	if r.err != nil {
		r.mu.Unlock()
		r.salvageIndex(ctx)
		return r.err
	}
	var p *packWriter
	if len(r.open.entries) > 0 {
		p, r.open = r.open, r.newPack()
		r.uploading++
	}
	r.mu.Unlock()
	if p != nil {
		if err := r.uploadPack(ctx, p); err != nil {
			return err
		}
	}
	r.mu.Lock()
	for r.uploading > 0 {
		r.cond.Wait()
	}
	err := r.err
	r.mu.Unlock()
	if err != nil {
		r.salvageIndex(ctx)
		return err
	}
	r.uploadMu.Lock()
	defer r.uploadMu.Unlock()
	if err := r.checkpointLocked(ctx); err != nil {
		return fmt.Errorf("repo: writing index: %w", err)
	}
	return nil
}

// LoadBlob reads, authenticates and returns a blob. Blobs saved in this
// session are readable once the pack holding them is stored (after Flush
// at the latest).
func (r *Repository) LoadBlob(ctx context.Context, id ID) ([]byte, error) {
	r.mu.Lock()
	loc, ok := r.idx.Lookup(id)
	r.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrBlobNotFound, id)
	}
	return r.loadAt(ctx, id, loc)
}

func (r *Repository) loadAt(ctx context.Context, id ID, loc BlobLocation) ([]byte, error) {
	stored, err := readRange(ctx, r.st, packName(loc.Pack), int64(loc.Offset), int64(loc.Length))
	if errors.Is(err, store.ErrInvalidRange) {
		// The pack is shorter than the index says: truncated.
		return nil, corrupt(fmt.Sprintf("blob %s (in pack %s)", id, loc.Pack), fmt.Errorf("the data file is shorter than the index says: %w", err))
	}
	if err != nil {
		return nil, err
	}
	data, err := decodeBlob(r.keys, r.codec, loc.Type, id, stored, loc.RawLength)
	if err != nil {
		return nil, corrupt(fmt.Sprintf("blob %s (in pack %s)", id, loc.Pack), err)
	}
	return data, nil
}

// newPack starts a pack sized for this repository's pack and chunk sizes.
func (r *Repository) newPack() *packWriter {
	return newPackWriter(r.opts.PackSize, int(r.cfg.Chunker.MaxSize)+sealOverhead+64)
}

// salvageIndex indexes the packs that were stored before a pack upload
// failed (a full or vanished drive), so the work they hold survives and
// the next run does not fetch it again. They are complete and reference
// nothing in the failed pack; the failed pack's blobs stay unindexed. The
// index file is small: a drive that had no room for a pack usually has
// room for it once the failed pack's temp file is gone.
func (r *Repository) salvageIndex(ctx context.Context) {
	r.mu.Lock()
	if r.err == ErrClosed { // Close commits nothing, like a crash
		r.mu.Unlock()
		return
	}
	for r.uploading > 0 {
		r.cond.Wait()
	}
	r.mu.Unlock()
	r.uploadMu.Lock()
	defer r.uploadMu.Unlock()
	if err := r.checkpointLocked(ctx); err != nil {
		r.log.Warn("could not index the data stored before the failure; the next run stores it again", "err", err)
	}
}
