package repo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/store"
)

const (
	// DefaultPruneGrace is how old an unused pack must be before prune
	// deletes or repacks it: younger ones may belong to a backup that is
	// running (or was interrupted and will resume from its checkpoint).
	DefaultPruneGrace = time.Hour
	// DefaultRepackThreshold is the fraction of a pack's bytes that must be
	// unused before prune rewrites the pack's live blobs into a new pack.
	// Below it, rewriting megabytes to free a few kilobytes is not worth
	// the wear and time on a NAS.
	DefaultRepackThreshold = 0.1
)

// ErrPruneNeedsRefs is returned by Prune when a snapshot's tree must be
// followed but PruneOptions.Refs is nil: without knowing what a tree
// references, prune cannot tell live data from garbage.
var ErrPruneNeedsRefs = errors.New("repo: prune needs to know what tree blobs reference (PruneOptions.Refs)")

// PruneOptions control Prune.
type PruneOptions struct {
	// Forget lists snapshots to delete before the sweep (usually the
	// forget list of Plan). Missing ones are ignored.
	Forget []ID
	// Refs returns the blobs a tree blob references, as for Check. Prune
	// follows every remaining snapshot from its root through Refs; it
	// refuses to run if it meets a tree blob and Refs is nil, or if Refs
	// fails on a tree, since it could then delete live data.
	Refs func(tree []byte) ([]ID, error)
	// DryRun computes and reports everything but changes nothing (no
	// snapshot is deleted either) and takes no lock.
	DryRun bool
	// Grace: packs modified less than this long ago are never deleted or
	// repacked. Zero means DefaultPruneGrace; negative means none (tests).
	Grace time.Duration
	// RepackThreshold: a partly used pack is rewritten when at least this
	// fraction of its bytes is unused. Zero means DefaultRepackThreshold;
	// a negative value repacks every partly used pack.
	RepackThreshold float64
}

// PruneReport says what Prune did (or, in a dry run, would do).
type PruneReport struct {
	DryRun bool
	// SnapshotsForgotten counts deleted snapshot files; SnapshotsKept the
	// snapshots whose data was marked live.
	SnapshotsForgotten, SnapshotsKept int
	// BlobsLive are referenced by a kept snapshot; BlobsRemoved are indexed
	// blobs that are no longer indexed afterwards.
	BlobsLive, BlobsRemoved int
	// PacksDeleted held no live blob; PacksRepacked had their live blobs
	// copied into PacksWritten new packs before being deleted.
	PacksDeleted, PacksRepacked, PacksWritten int
	// UnindexedDeleted are packs in no index (left by interrupted runs or
	// an interrupted prune) that were deleted.
	UnindexedDeleted int
	// PacksKept are left as they are; PacksKeptRecent of them hold unused
	// data but are younger than the grace period or a lock.
	PacksKept, PacksKeptRecent int
	// BytesDeleted is the size of the packs removed, BytesWritten of the
	// new packs (estimated in a dry run).
	BytesDeleted, BytesWritten           int64
	IndexFilesWritten, IndexFilesRemoved int
	// Problems are damaged packs found while repacking; such a pack is
	// kept whole.
	Problems []Problem
}

// BytesFreed is the net space prune gives back.
func (p *PruneReport) BytesFreed() int64 { return p.BytesDeleted - p.BytesWritten }

// packPlan is prune's decision about one pack.
type packPlan struct {
	id     ID
	size   int64
	live   []packEntry // live blobs whose indexed location is this pack
	all    []packEntry // every indexed blob whose location is this pack
	action packAction
}

type packAction int

const (
	packKeep packAction = iota
	packDelete
	packRepack
	packDrop // indexed, missing from the store, nothing live: only unindexed
)

// Prune deletes the snapshots in opts.Forget and then every blob no
// remaining snapshot references. It is a mark-and-sweep ordered so that an
// interruption at any instant leaves every remaining snapshot readable
// (FORMAT.md §11):
//
//  1. take the exclusive lock;
//  2. delete the forgotten snapshot files;
//  3. mark every blob reachable from the snapshots that remain;
//  4. copy the live blobs of mostly-unused packs into new packs;
//  5. write a new index listing every kept and new pack;
//  6. delete the old index files;
//  7. delete the packs that are no longer indexed.
//
// Packs younger than the grace period or than the oldest lock seen are
// never touched. Prune refuses to run when an index file or a remaining
// snapshot cannot be read, when a snapshot references a blob that is not
// indexed, or when a live blob's pack is missing: deleting on incomplete
// knowledge could destroy data that repair could still save.
func (r *Repository) Prune(ctx context.Context, opts PruneOptions) (rep *PruneReport, err error) {
	if opts.Grace == 0 {
		opts.Grace = DefaultPruneGrace
	}
	if opts.Grace < 0 {
		opts.Grace = 0
	}
	if opts.RepackThreshold == 0 {
		opts.RepackThreshold = DefaultRepackThreshold
	}
	rep = &PruneReport{DryRun: opts.DryRun}

	// Locks seen before ours: a backup that started before them may have
	// written packs it has not committed yet.
	locks, err := r.ListLocks(ctx)
	if err != nil {
		return nil, err
	}

	var lock *Lock
	if !opts.DryRun {
		if err := r.Flush(ctx); err != nil && !errors.Is(err, ErrClosed) {
			return nil, fmt.Errorf("repo: prune: %w", err)
		}
		lock, err = r.Lock(ctx, true)
		if err != nil {
			return nil, fmt.Errorf("repo: prune: %w", err)
		}
		defer func() {
			if uerr := lock.Unlock(context.WithoutCancel(ctx)); uerr != nil && err == nil {
				err = uerr
			}
		}()
	}
	// Pack ages are the destination's modification times, so the grace
	// period is measured on its clock (known once our lock is written),
	// and so are the start times of the locks seen: this computer's clock
	// may be hours off the one that wrote the packs.
	cutoff := r.storeNow().Add(-opts.Grace)
	for _, li := range locks {
		if c := createdOnStore(li); c.Before(cutoff) {
			cutoff = c
		}
	}
	lockOK := func() error {
		if lock == nil {
			return nil
		}
		if err := lock.Err(); err != nil {
			return fmt.Errorf("repo: prune stopped: %w", err)
		}
		return nil
	}

	// 2. Forget. Deleting snapshots first means that whatever exists when
	// the sweep runs is also what was marked from.
	forget := map[ID]bool{}
	for _, id := range opts.Forget {
		forget[id] = true
	}
	if !opts.DryRun {
		for _, id := range opts.Forget {
			if err := r.DeleteSnapshot(ctx, id); err != nil {
				if errors.Is(err, store.ErrNotFound) {
					continue
				}
				return rep, fmt.Errorf("repo: prune: %w", err)
			}
			rep.SnapshotsForgotten++
		}
	} else {
		rep.SnapshotsForgotten = len(forget)
	}

	// 3. Mark.
	idx, oldFiles, bad, err := loadIndex(ctx, r.st, r.keys)
	if err != nil {
		return rep, err
	}
	for name, e := range bad {
		return rep, fmt.Errorf("repo: prune refused: index file %s is damaged (%v); run repair first", name, e)
	}
	live, err := r.markLive(ctx, idx, forget, opts.Refs, rep)
	if err != nil {
		return rep, err
	}
	rep.BlobsLive = len(live)

	// 4. Plan the sweep.
	stored := map[ID]store.Info{}
	if err := r.st.List(ctx, dataDir, func(fi store.Info) error {
		if id, err := ParseID(path.Base(fi.Name)); err == nil && packName(id) == fi.Name {
			stored[id] = fi
		}
		return nil
	}); err != nil {
		return rep, fmt.Errorf("repo: listing packs: %w", err)
	}
	plans, unindexed, err := planPacks(idx, stored, live, cutoff, opts.RepackThreshold, rep)
	if err != nil {
		return rep, err
	}
	changed := false
	for _, p := range plans {
		switch p.action {
		case packDelete:
			rep.PacksDeleted++
			rep.BytesDeleted += p.size
			rep.BlobsRemoved += len(p.all)
			changed = true
		case packRepack:
			rep.PacksRepacked++
			rep.BytesDeleted += p.size
			rep.BlobsRemoved += len(p.all) - len(p.live)
			changed = true
		case packDrop:
			rep.BlobsRemoved += len(p.all)
			changed = true
		case packKeep:
			rep.PacksKept++
		}
	}
	for _, id := range unindexed {
		rep.UnindexedDeleted++
		rep.BytesDeleted += stored[id].Size
	}
	if opts.DryRun {
		rep.BytesWritten, rep.PacksWritten = estimateRepack(plans, r.opts.PackSize)
		return rep, nil
	}

	// 5. Repack, then write the new index.
	var newPacks []indexPack
	if changed {
		newPacks, err = r.repack(ctx, plans, rep)
		if err != nil {
			return rep, err
		}
		if err := lockOK(); err != nil {
			return rep, err
		}
	}
	fresh := newIndex()
	var keepList []indexPack
	for _, p := range plans {
		if p.action == packKeep {
			keepList = append(keepList, indexPack{ID: p.id, Size: p.size, Entries: p.all})
		}
	}
	keepList = append(keepList, newPacks...)
	for _, ip := range keepList {
		fresh.add(ip)
	}
	if changed {
		written := map[string]bool{}
		for batch := range slices.Chunk(keepList, maxPacksPerIndex) {
			name, err := writeIndexFile(ctx, r.st, r.keys, batch)
			if err != nil {
				return rep, fmt.Errorf("repo: prune: writing the new index: %w", err)
			}
			written[name] = true
			rep.IndexFilesWritten++
		}
		if err := lockOK(); err != nil {
			return rep, err
		}
		// 6. From here on only the new index is in force.
		for _, name := range oldFiles {
			if written[name] {
				continue
			}
			if err := r.st.Delete(ctx, name); err != nil && !errors.Is(err, store.ErrNotFound) {
				return rep, fmt.Errorf("repo: prune: removing old index %s: %w", name, err)
			}
			rep.IndexFilesRemoved++
		}
		r.mu.Lock()
		r.idx, r.badIndex = fresh, nil
		r.mu.Unlock()
	}

	// 7. Sweep: nothing indexed refers to these packs any more.
	var doomed []ID
	for _, p := range plans {
		if p.action == packDelete || p.action == packRepack {
			doomed = append(doomed, p.id)
		}
	}
	doomed = append(doomed, unindexed...)
	for _, id := range doomed {
		if err := lockOK(); err != nil {
			return rep, err
		}
		if err := r.st.Delete(ctx, packName(id)); err != nil && !errors.Is(err, store.ErrNotFound) {
			return rep, fmt.Errorf("repo: prune: deleting pack %s: %w", id.Short(), err)
		}
	}
	r.log.Info("prune finished", "forgotten", rep.SnapshotsForgotten, "packs_deleted", rep.PacksDeleted,
		"packs_repacked", rep.PacksRepacked, "unindexed_deleted", rep.UnindexedDeleted, "bytes_freed", rep.BytesFreed())
	return rep, nil
}

// markLive returns every blob reachable from the snapshots in the store
// that are not in forget. Anything it cannot follow is an error.
func (r *Repository) markLive(ctx context.Context, idx *Index, forget map[ID]bool, refs func([]byte) ([]ID, error), rep *PruneReport) (map[ID]struct{}, error) {
	ids, err := r.snapshotIDs(ctx)
	if err != nil {
		return nil, err
	}
	live := map[ID]struct{}{}
	for _, sid := range ids {
		if forget[sid] {
			continue
		}
		s, err := r.LoadSnapshot(ctx, sid)
		if err != nil {
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			return nil, fmt.Errorf("repo: prune refused: snapshot %s cannot be read, so the data it needs is unknown: %w", sid.Short(), err)
		}
		rep.SnapshotsKept++
		if s.Root.IsZero() {
			continue
		}
		queue := []ID{s.Root}
		for len(queue) > 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			id := queue[len(queue)-1]
			queue = queue[:len(queue)-1]
			if _, seen := live[id]; seen {
				continue
			}
			loc, ok := idx.Lookup(id)
			if !ok {
				return nil, fmt.Errorf("repo: prune refused: snapshot %s references blob %s, which is in no index; run verify and repair first", sid.Short(), id.Short())
			}
			live[id] = struct{}{}
			if loc.Type != TreeBlob {
				continue
			}
			if refs == nil {
				return nil, ErrPruneNeedsRefs
			}
			data, err := r.loadAt(ctx, id, loc)
			if err != nil {
				return nil, fmt.Errorf("repo: prune refused: snapshot %s: tree %s cannot be read: %w", sid.Short(), id.Short(), err)
			}
			children, err := refs(data)
			if err != nil {
				return nil, fmt.Errorf("repo: prune refused: snapshot %s: tree %s cannot be parsed: %w", sid.Short(), id.Short(), err)
			}
			queue = append(queue, children...)
		}
	}
	return live, nil
}

// planPacks decides each pack's fate and lists the unindexed packs old
// enough to delete.
func planPacks(idx *Index, stored map[ID]store.Info, live map[ID]struct{}, cutoff time.Time, threshold float64, rep *PruneReport) ([]packPlan, []ID, error) {
	var plans []packPlan
	for _, ip := range idx.byPack() {
		p := packPlan{id: ip.ID, size: ip.Size, all: ip.Entries}
		var liveBytes int64
		for _, e := range ip.Entries {
			if _, ok := live[e.ID]; ok {
				p.live = append(p.live, e)
				liveBytes += int64(e.Length)
			}
		}
		fi, inStore := stored[ip.ID]
		switch {
		case !inStore && len(p.live) > 0:
			return nil, nil, fmt.Errorf("repo: prune refused: pack %s holds %d blobs still in use but is missing; run verify", ip.ID.Short(), len(p.live))
		case !inStore:
			p.action = packDrop
		case fi.Size != ip.Size && len(p.live) > 0:
			return nil, nil, fmt.Errorf("repo: prune refused: pack %s has %d bytes but the index says %d; run verify", ip.ID.Short(), fi.Size, ip.Size)
		case fi.ModTime.After(cutoff):
			p.action = packKeep
			if len(p.live) < len(p.all) || len(p.all) == 0 {
				rep.PacksKeptRecent++
			}
		case len(p.live) == 0:
			p.action = packDelete
		default:
			overhead := int64(sealOverhead + packHeaderFixed + packEntrySize*len(p.live) + packTrailerSize)
			unused := float64(ip.Size-liveBytes-overhead) / float64(ip.Size)
			if unused > 0 && (threshold < 0 || unused >= threshold) {
				p.action = packRepack
			} else {
				p.action = packKeep
			}
		}
		plans = append(plans, p)
	}
	var unindexed []ID
	for id, fi := range stored {
		if _, ok := idx.packPos[id]; ok {
			continue
		}
		if fi.ModTime.After(cutoff) {
			rep.PacksKeptRecent++
			continue
		}
		unindexed = append(unindexed, id)
	}
	slices.SortFunc(unindexed, func(a, b ID) int { return bytes.Compare(a[:], b[:]) })
	return plans, unindexed, nil
}

// estimateRepack is what repacking would write, for a dry run.
func estimateRepack(plans []packPlan, packSize int) (bytesOut int64, packs int) {
	var cur int64
	for _, p := range plans {
		if p.action != packRepack {
			continue
		}
		for _, e := range p.live {
			cur += int64(e.Length)
			bytesOut += int64(e.Length) + packEntrySize
			if cur >= int64(packSize) {
				packs++
				cur = 0
			}
		}
	}
	if cur > 0 {
		packs++
	}
	return bytesOut + int64(packs)*(sealOverhead+int64(packHeaderFixed)+packTrailerSize), packs
}

// repack copies the live blobs of the packs to repack into new packs and
// stores them. A blob's stored bytes do not depend on its pack, so they are
// copied as they are, after being authenticated. A pack with a damaged live
// blob is kept whole (and reported) instead of being repacked.
func (r *Repository) repack(ctx context.Context, plans []packPlan, rep *PruneReport) ([]indexPack, error) {
	var out []indexPack
	w := &packWriter{}
	flush := func() error {
		if len(w.entries) == 0 {
			return nil
		}
		id, data, err := w.finish(r.keys)
		if err == nil {
			err = putBytes(ctx, r.st, packName(id), data)
		}
		if err != nil {
			return fmt.Errorf("repo: prune: storing a repacked pack: %w", err)
		}
		out = append(out, indexPack{ID: id, Size: int64(len(data)), Entries: w.entries})
		rep.PacksWritten++
		rep.BytesWritten += int64(len(data))
		w = &packWriter{}
		return nil
	}
	for i := range plans {
		p := &plans[i]
		if p.action != packRepack {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		data, err := readRange(ctx, r.st, packName(p.id), 0, p.size)
		if err != nil {
			if !isCorrupt(err) {
				return nil, err
			}
			r.keepDamaged(p, rep, ID{}, err)
			continue
		}
		ok := true
		for _, e := range p.live {
			stored := data[e.Offset : e.Offset+e.Length]
			if _, err := decodeBlob(r.keys, r.codec, e.Type, e.ID, stored, e.RawLength); err != nil {
				r.keepDamaged(p, rep, e.ID, err)
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		for _, e := range p.live {
			w.add(e.Type, e.ID, data[e.Offset:e.Offset+e.Length], e.RawLength)
			if w.size() >= r.opts.PackSize {
				if err := flush(); err != nil {
					return nil, err
				}
			}
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return out, nil
}

// keepDamaged turns a planned repack into a keep and reports why.
func (r *Repository) keepDamaged(p *packPlan, rep *PruneReport, blob ID, err error) {
	p.action = packKeep
	rep.PacksRepacked--
	rep.PacksKept++
	rep.BytesDeleted -= p.size
	rep.BlobsRemoved -= len(p.all) - len(p.live)
	rep.Problems = append(rep.Problems, Problem{Severity: Error, Object: packName(p.id), Blob: blob,
		Err: fmt.Errorf("pack kept, not repacked, because a blob still in use is damaged: %w", err)})
	r.log.Error("damaged pack kept by prune; run verify --read-data", "pack", p.id.Short(), "err", err)
}
