package repo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"path"
	"slices"
	"strings"

	"github.com/lifeboat-backup/lifeboat/engine/store"
)

// Severity ranks a Problem.
type Severity int

const (
	// Warning: nothing is lost (e.g. a pack left unindexed by an
	// interrupted run, which repair or the next prune picks up).
	Warning Severity = iota + 1
	// Error: some data cannot be read or some reference points nowhere.
	Error
)

func (s Severity) String() string {
	if s == Warning {
		return "warning"
	}
	return "error"
}

// Problem is one finding of Check. Object is the store name of the file
// concerned; Blob and Snapshot are set when a blob or snapshot is affected.
type Problem struct {
	Severity Severity
	Object   string
	Blob     ID
	Snapshot ID
	Err      error
}

func (p Problem) String() string {
	var sb strings.Builder
	sb.WriteString(p.Severity.String())
	sb.WriteString(": ")
	if !p.Snapshot.IsZero() {
		fmt.Fprintf(&sb, "snapshot %s: ", p.Snapshot.Short())
	}
	if !p.Blob.IsZero() {
		fmt.Fprintf(&sb, "blob %s: ", p.Blob)
	}
	if p.Object != "" {
		fmt.Fprintf(&sb, "%s: ", p.Object)
	}
	sb.WriteString(fmt.Sprint(p.Err))
	return sb.String()
}

// Subset selects which packs a read-data check reads, so that a large
// repository can be verified over several runs. Zero means all packs.
type Subset struct {
	// Part of Of (1-based): packs are split into Of groups by their ID,
	// deterministically, and group Part is read. Reading 1/7 … 7/7 on
	// seven days reads everything once a week.
	Part, Of int
	// Percent (0–100] reads a random sample of the packs instead.
	Percent float64
}

func (s Subset) validate() error {
	switch {
	case s.Of == 0 && s.Part == 0 && s.Percent == 0:
		return nil
	case s.Of != 0 && s.Percent != 0:
		return errors.New("repo: a subset is either n/m or a percentage, not both")
	case s.Of != 0 && (s.Part < 1 || s.Part > s.Of):
		return fmt.Errorf("repo: subset %d/%d: n must be between 1 and m", s.Part, s.Of)
	case s.Of == 0 && (s.Percent <= 0 || s.Percent > 100):
		return fmt.Errorf("repo: subset %g%% must be more than 0 and at most 100", s.Percent)
	}
	return nil
}

func (s Subset) selects(id ID, rnd *rand.Rand) bool {
	switch {
	case s.Of > 0:
		return int(binary.BigEndian.Uint32(id[:4])%uint32(s.Of)) == s.Part-1
	case s.Percent > 0:
		return rnd.Float64()*100 < s.Percent
	}
	return true
}

// CheckOptions choose how deep Check goes.
type CheckOptions struct {
	// ReadData reads every selected pack and authenticates every blob in it.
	ReadData bool
	// Subset limits ReadData to part of the packs.
	Subset Subset
	// Refs returns the blobs a tree blob references. The repository does
	// not know the tree format (engine/backup owns it); with Refs set,
	// Check follows every snapshot from its root down to the data.
	Refs func(tree []byte) ([]ID, error)
}

// CheckReport is the outcome of Check.
type CheckReport struct {
	Problems                         []Problem
	Snapshots, Packs, Blobs          int
	PacksRead, BlobsRead             int
	BytesRead                        int64
	UnindexedPacks, DamagedSnapshots int
}

// OK reports whether no Error-severity problem was found.
func (c *CheckReport) OK() bool {
	for _, p := range c.Problems {
		if p.Severity == Error {
			return false
		}
	}
	return true
}

func (c *CheckReport) add(sev Severity, object string, blob, snap ID, err error) {
	c.Problems = append(c.Problems, Problem{Severity: sev, Object: object, Blob: blob, Snapshot: snap, Err: err})
}

// Check verifies the repository from the store's current contents (not
// this Repository's in-memory state): config, key files, every index file,
// that every index entry lies inside an existing pack of the recorded size,
// and that every snapshot's root (and, with Refs, everything below it) is
// indexed. With ReadData it also reads packs and authenticates every blob,
// naming each damaged blob and pack. Damage is reported in the report; the
// error is for failures to run the check at all.
func (r *Repository) Check(ctx context.Context, opts CheckOptions) (*CheckReport, error) {
	if err := opts.Subset.validate(); err != nil {
		return nil, err
	}
	rep := &CheckReport{}

	if raw, err := readConfigRaw(ctx, r.st); err != nil {
		rep.add(Error, configName, ID{}, ID{}, err)
	} else if _, err := decodeConfig(r.keys, raw); err != nil {
		rep.add(Error, configName, ID{}, ID{}, err)
	}
	files, bad, err := listKeyFiles(ctx, r.st)
	if err != nil {
		return nil, err
	}
	for id, e := range bad {
		rep.add(Error, keysDir+id, ID{}, ID{}, e)
	}
	if !slices.ContainsFunc(files, func(f namedKeyFile) bool { return f.kf.Kind == RecoveryKeySlot }) {
		rep.add(Error, keysDir, ID{}, ID{}, errors.New("no readable recovery key slot: this backup could not be opened on another computer"))
	}

	idx, _, badIdx, err := loadIndex(ctx, r.st, r.keys)
	if err != nil {
		return nil, err
	}
	for name, e := range badIdx {
		rep.add(Error, name, ID{}, ID{}, e)
	}
	rep.Packs, rep.Blobs = idx.PackCount(), idx.Len()

	stored, err := listPacks(ctx, r.st, rep)
	if err != nil {
		return nil, err
	}
	for _, p := range idx.packs {
		size, ok := stored[p.ID]
		switch {
		case !ok:
			rep.add(Error, packName(p.ID), ID{}, ID{}, fmt.Errorf("pack is missing (%d blobs in it are lost)", countBlobs(idx, p.ID)))
		case size != p.Size:
			rep.add(Error, packName(p.ID), ID{}, ID{}, fmt.Errorf("pack has %d bytes, index says %d", size, p.Size))
		}
	}
	for id := range stored {
		if _, ok := idx.packPos[id]; !ok {
			rep.UnindexedPacks++
			rep.add(Warning, packName(id), ID{}, ID{}, errors.New("pack is in no index (left by an interrupted run; repair indexes it)"))
		}
	}

	if err := r.checkSnapshots(ctx, idx, opts.Refs, rep); err != nil {
		return nil, err
	}
	if opts.ReadData {
		if err := r.readData(ctx, idx, stored, opts.Subset, rep); err != nil {
			return nil, err
		}
	}
	slices.SortStableFunc(rep.Problems, func(a, b Problem) int { return int(b.Severity) - int(a.Severity) })
	return rep, nil
}

func countBlobs(idx *Index, pack ID) int {
	pos := idx.packPos[pack]
	n := 0
	for _, e := range idx.blobs {
		if e.pack == pos {
			n++
		}
	}
	return n
}

// listPacks maps every pack in the store to its size.
func listPacks(ctx context.Context, st store.Store, rep *CheckReport) (map[ID]int64, error) {
	out := map[ID]int64{}
	err := st.List(ctx, dataDir, func(fi store.Info) error {
		id, err := ParseID(path.Base(fi.Name))
		if err != nil || packName(id) != fi.Name {
			if rep != nil {
				rep.add(Warning, fi.Name, ID{}, ID{}, errors.New("unexpected file in the data folder"))
			}
			return nil
		}
		out[id] = fi.Size
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("repo: listing packs: %w", err)
	}
	return out, nil
}

func (r *Repository) checkSnapshots(ctx context.Context, idx *Index, refs func([]byte) ([]ID, error), rep *CheckReport) error {
	ids, err := r.snapshotIDs(ctx)
	if err != nil {
		return err
	}
	visited := map[ID]bool{}
	for _, sid := range ids {
		s, err := r.LoadSnapshot(ctx, sid)
		if err != nil {
			if isCorrupt(err) || errors.Is(err, ErrNewerVersion) {
				rep.DamagedSnapshots++
				rep.add(Error, snapshotName(sid), ID{}, sid, err)
				continue
			}
			return err
		}
		rep.Snapshots++
		if s.Root.IsZero() {
			continue
		}
		queue := []ID{s.Root}
		for len(queue) > 0 {
			id := queue[len(queue)-1]
			queue = queue[:len(queue)-1]
			if visited[id] {
				continue
			}
			visited[id] = true
			loc, ok := idx.Lookup(id)
			if !ok {
				rep.add(Error, snapshotName(sid), id, sid, errors.New("referenced blob is not in the index"))
				continue
			}
			if refs == nil || loc.Type != TreeBlob {
				continue
			}
			data, err := r.loadAt(ctx, id, loc)
			if err != nil {
				if isCorrupt(err) || errors.Is(err, store.ErrNotFound) {
					rep.add(Error, packName(loc.Pack), id, sid, err)
					continue
				}
				return err
			}
			children, err := refs(data)
			if err != nil {
				rep.add(Error, packName(loc.Pack), id, sid, fmt.Errorf("tree cannot be parsed: %w", err))
				continue
			}
			queue = append(queue, children...)
		}
	}
	return nil
}

// readData reads each selected pack whole and authenticates every blob.
func (r *Repository) readData(ctx context.Context, idx *Index, stored map[ID]int64, sub Subset, rep *CheckReport) error {
	ids := make([]ID, 0, len(stored))
	for id := range stored {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b ID) int { return bytes.Compare(a[:], b[:]) })
	rnd := rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	for _, id := range ids {
		if !sub.selects(id, rnd) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := r.readPack(ctx, idx, id, stored[id], rep); err != nil {
			return err
		}
	}
	return nil
}

func (r *Repository) readPack(ctx context.Context, idx *Index, id ID, size int64, rep *CheckReport) error {
	name := packName(id)
	if size < packTrailerSize || size > MaxPackSize {
		rep.add(Error, name, ID{}, ID{}, fmt.Errorf("impossible pack size %d", size))
		return nil
	}
	data, err := readRange(ctx, r.st, name, 0, size)
	if err != nil {
		if isCorrupt(err) || errors.Is(err, store.ErrNotFound) {
			rep.add(Error, name, ID{}, ID{}, err)
			return nil
		}
		return err
	}
	rep.PacksRead++
	rep.BytesRead += size
	if ID(sha256.Sum256(data)) != id {
		rep.add(Error, name, ID{}, ID{}, errors.New("pack content does not match its name (SHA-256): bytes were changed"))
	}

	// The blobs to try: the index's view, plus anything only the header
	// lists, so damage is reported per blob even if one of the two is bad.
	entries := map[ID]packEntry{}
	if pos, ok := idx.packPos[id]; ok {
		for bid, e := range idx.blobs {
			if e.pack == pos {
				entries[bid] = packEntry{Type: e.typ, ID: bid, Offset: e.offset, Length: e.length, RawLength: e.rawLength}
			}
		}
	}
	hdr, err := packHeaderFromBytes(r.keys, data)
	if err != nil {
		rep.add(Error, name, ID{}, ID{}, fmt.Errorf("pack header: %w", err))
	}
	for _, h := range hdr {
		if e, ok := entries[h.ID]; ok && e != h {
			rep.add(Error, name, h.ID, ID{}, errors.New("pack header and index disagree about this blob"))
		}
		if _, ok := entries[h.ID]; !ok {
			entries[h.ID] = h
		}
	}
	for bid, e := range entries {
		end := uint64(e.Offset) + uint64(e.Length)
		if end > uint64(len(data)) {
			rep.add(Error, name, bid, ID{}, fmt.Errorf("blob lies beyond the end of the pack"))
			continue
		}
		rep.BlobsRead++
		if _, err := decodeBlob(r.keys, r.codec, e.Type, bid, data[e.Offset:end], e.RawLength); err != nil {
			if !idx.Has(bid) {
				// Only the pack's header lists it: repair dropped it as
				// unreadable (or an interrupted run never indexed it).
				rep.add(Warning, name, bid, ID{}, fmt.Errorf("blob is damaged, but no index uses it (repair dropped it): %w", err))
				continue
			}
			rep.add(Error, name, bid, ID{}, fmt.Errorf("blob is damaged: %w", err))
		}
	}
	return nil
}

// packHeaderFromBytes decodes the header of a pack held in memory.
func packHeaderFromBytes(k *keys, data []byte) ([]packEntry, error) {
	size := int64(len(data))
	if size < packTrailerSize {
		return nil, errors.New("pack too short")
	}
	n, err := parsePackTrailer(data[size-packTrailerSize:], size)
	if err != nil {
		return nil, err
	}
	start := size - packTrailerSize - int64(n)
	return decodeSealedPackHeader(k, data[start:size-packTrailerSize], start)
}
