package repo

import (
	"bytes"
	"context"
	"slices"
	"strings"
)

// DamagedBlobs returns the blobs a check found unreadable or lost: those
// its problems name, and every indexed blob of a pack that is missing or
// shorter than the index says. Damage that leaves every blob readable (a
// flipped bit in a pack's header, which the index makes up for) names none.
func (r *Repository) DamagedBlobs(rep *CheckReport) map[ID]bool {
	out := map[ID]bool{}
	whole := map[ID]bool{}
	for _, p := range rep.Problems {
		if p.Severity != Error {
			continue
		}
		if !p.Blob.IsZero() {
			out[p.Blob] = true
			continue
		}
		if id, ok := packID(p.Object); ok && (strings.Contains(p.Err.Error(), "pack is missing") ||
			strings.Contains(p.Err.Error(), "index says")) {
			whole[id] = true
		}
	}
	if len(whole) > 0 {
		r.mu.Lock()
		for id, e := range r.idx.blobs {
			if whole[r.idx.packs[e.pack].ID] {
				out[id] = true
			}
		}
		r.mu.Unlock()
	}
	return out
}

// packID parses a pack's store name.
func packID(name string) (ID, bool) {
	if len(name) < len(dataDir)+64 {
		return ID{}, false
	}
	id, err := ParseID(name[len(name)-64:])
	if err != nil || packName(id) != name {
		return ID{}, false
	}
	return id, true
}

// SalvageReport says what Salvage did and what is lost.
type SalvageReport struct {
	// Before is the check that found the damage.
	Before *CheckReport
	// Rebuild is the index rebuilt without the unreadable blobs.
	Rebuild *RebuildReport
	// Lost are the blobs that could not be read and are no longer
	// indexed: what refers to them cannot be restored (backup.AffectedItems
	// names it), and a later backup stores them again if they are still in
	// Microsoft 365 and are fetched again.
	Lost []ID
}

// Salvage is what "lifeboat repair" does to a damaged backup: it reads
// and authenticates every blob, then rebuilds the index from the packs'
// headers (the old index where a header is unreadable) leaving out every
// blob that could not be read, so that what remains indexed is exactly
// what can be restored, and says what was lost. Damaged files are left as
// they are (a later prune removes what nothing references). The caller
// holds an exclusive lock.
func (r *Repository) Salvage(ctx context.Context) (*SalvageReport, error) {
	before, err := r.Check(ctx, CheckOptions{ReadData: true})
	if err != nil {
		return nil, err
	}
	// Only blobs whose own bytes failed: a blob that a damaged index file
	// left out is readable, and the rebuild finds it again.
	drop := map[ID]bool{}
	for id := range r.DamagedBlobs(before) {
		if slices.ContainsFunc(before.Problems, func(p Problem) bool {
			_, inPack := packID(p.Object)
			return p.Blob == id && p.Severity == Error && inPack
		}) || r.blobInWholePackDamage(before, id) {
			drop[id] = true
		}
	}
	rb, err := r.rebuildIndex(ctx, drop)
	if err != nil {
		return nil, err
	}
	rep := &SalvageReport{Before: before, Rebuild: rb}
	for id := range drop {
		rep.Lost = append(rep.Lost, id)
	}
	slices.SortFunc(rep.Lost, func(a, b ID) int { return bytes.Compare(a[:], b[:]) })
	r.log.Info("backup salvaged", "lost_blobs", len(rep.Lost), "packs", rb.Packs)
	return rep, nil
}

// blobInWholePackDamage reports whether id is indexed in a pack that is
// missing or shorter than the index says.
func (r *Repository) blobInWholePackDamage(rep *CheckReport, id ID) bool {
	loc, ok := r.LookupBlob(id)
	if !ok {
		return false
	}
	name := packName(loc.Pack)
	return slices.ContainsFunc(rep.Problems, func(p Problem) bool {
		return p.Object == name && p.Blob.IsZero() && p.Severity == Error &&
			(strings.Contains(p.Err.Error(), "pack is missing") || strings.Contains(p.Err.Error(), "index says"))
	})
}
