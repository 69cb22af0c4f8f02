package repo

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/lifeboat-backup/lifeboat/engine/store"
)

// RebuildReport says what RebuildIndex did.
type RebuildReport struct {
	Packs, Blobs   int
	IndexesWritten int
	IndexesRemoved int
	// Problems lists packs whose header could not be read. Their blobs are
	// kept from the old index where it had them.
	Problems []Problem
}

// RebuildIndex writes a new index from the pack headers alone and then
// removes the old index files. It is what "lifeboat repair" runs when
// index files are damaged or packs were left unindexed. The caller should
// hold an exclusive lock. New files are written before old ones are
// removed, so an interruption leaves a larger, never a smaller, index.
func (r *Repository) RebuildIndex(ctx context.Context) (*RebuildReport, error) {
	return r.rebuildIndex(ctx, nil)
}

// rebuildIndex is RebuildIndex leaving out the blobs in drop (unreadable
// ones, for Salvage).
func (r *Repository) rebuildIndex(ctx context.Context, drop map[ID]bool) (*RebuildReport, error) {
	if err := r.Flush(ctx); err != nil && !errors.Is(err, ErrClosed) {
		return nil, err
	}
	old, oldFiles, _, err := loadIndex(ctx, r.st, r.keys)
	if err != nil {
		return nil, err
	}
	stored, err := listPacks(ctx, r.st, nil)
	if err != nil {
		return nil, err
	}
	ids := make([]ID, 0, len(stored))
	for id := range stored {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b ID) int { return bytes.Compare(a[:], b[:]) })

	rep := &RebuildReport{}
	fresh := newIndex()
	var batch []indexPack
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if _, err := writeIndexFile(ctx, r.st, r.keys, batch); err != nil {
			return err
		}
		rep.IndexesWritten++
		batch = nil
		return nil
	}
	for _, id := range ids {
		entries, err := readPackHeader(ctx, r.st, r.keys, id, stored[id])
		if err != nil {
			if !isCorrupt(err) && !errors.Is(err, store.ErrNotFound) {
				return nil, err
			}
			rep.Problems = append(rep.Problems, Problem{Severity: Error, Object: packName(id), Err: err})
			entries = oldEntries(old, id, stored[id])
			if len(entries) == 0 {
				continue
			}
		}
		if len(drop) > 0 {
			entries = slices.DeleteFunc(slices.Clone(entries), func(e packEntry) bool { return drop[e.ID] })
			if len(entries) == 0 {
				continue
			}
		}
		ip := indexPack{ID: id, Size: stored[id], Entries: entries}
		fresh.add(ip)
		batch = append(batch, ip)
		rep.Packs++
		rep.Blobs += len(entries)
		if len(batch) >= maxPacksPerIndex {
			if err := flush(); err != nil {
				return nil, err
			}
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	for _, name := range oldFiles {
		if err := r.st.Delete(ctx, name); err != nil && !errors.Is(err, store.ErrNotFound) {
			return rep, fmt.Errorf("repo: removing old index %s: %w", name, err)
		}
		rep.IndexesRemoved++
	}
	r.mu.Lock()
	r.idx, r.badIndex = fresh, nil
	r.mu.Unlock()
	r.log.Info("index rebuilt", "packs", rep.Packs, "blobs", rep.Blobs, "damaged_packs", len(rep.Problems))
	return rep, nil
}

// oldEntries returns what the old index knew about a pack whose header is
// unreadable, if its recorded size still matches.
func oldEntries(old *Index, pack ID, size int64) []packEntry {
	pos, ok := old.packPos[pack]
	if !ok || old.packs[pos].Size != size {
		return nil
	}
	var out []packEntry
	for id, e := range old.blobs {
		if e.pack == pos {
			out = append(out, packEntry{Type: e.typ, ID: id, Offset: e.offset, Length: e.length, RawLength: e.rawLength})
		}
	}
	slices.SortFunc(out, func(a, b packEntry) int { return cmp.Compare(a.Offset, b.Offset) })
	return out
}
