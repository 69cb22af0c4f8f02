package repo

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"path"
	"slices"
	"sort"

	"github.com/lifeboat-backup/lifeboat/engine/store"
)

// Index file plaintext (FORMAT.md §6), sealed with AD "lifeboat/v1/index"
// and stored as index/<SHA-256 of the sealed bytes>:
//
//	"LBIX" || version(1) || uint32le(pack count)
//	per pack: pack ID(32) || uint64le(pack size) || uint32le(blob count)
//	  per blob: type(1) || uint32le(offset) || uint32le(length) || uint32le(raw length) || blob ID(32)
const (
	indexDir          = "index/"
	indexMagic        = "LBIX"
	indexVersion      = 1
	indexFixed        = len(indexMagic) + 1 + 4
	indexPackFixed    = 32 + 8 + 4
	indexEntrySize    = 1 + 4 + 4 + 4 + 32
	maxIndexFileSize  = 256 << 20
	maxPacksPerIndex  = 4096 // RebuildIndex splits its output at this many packs
	maxEntriesInIndex = (maxIndexFileSize - indexFixed) / indexEntrySize
)

// indexPack is one pack's part of an index file.
type indexPack struct {
	ID      ID
	Size    int64
	Entries []packEntry
}

// BlobLocation says where a blob is stored.
type BlobLocation struct {
	Type      BlobType
	Pack      ID
	Offset    uint32
	Length    uint32 // stored (encrypted) bytes
	RawLength uint32 // plaintext bytes
}

type indexEntry struct {
	pack      uint32 // position in Index.packs
	typ       BlobType
	offset    uint32
	length    uint32
	rawLength uint32
}

type packRecord struct {
	ID   ID
	Size int64
}

// Index maps blob IDs to their locations. It is not safe for concurrent
// use; Repository guards its own.
type Index struct {
	packs   []packRecord
	packPos map[ID]uint32
	blobs   map[ID]indexEntry
}

func newIndex() *Index {
	return &Index{packPos: map[ID]uint32{}, blobs: map[ID]indexEntry{}}
}

// add records a pack and its blobs. A blob already indexed in another pack
// keeps its first location (duplicates are harmless; prune removes them).
func (x *Index) add(p indexPack) {
	pos, ok := x.packPos[p.ID]
	if !ok {
		pos = uint32(len(x.packs))
		x.packs = append(x.packs, packRecord{ID: p.ID, Size: p.Size})
		x.packPos[p.ID] = pos
	}
	for _, e := range p.Entries {
		if _, dup := x.blobs[e.ID]; dup {
			continue
		}
		x.blobs[e.ID] = indexEntry{pack: pos, typ: e.Type, offset: e.Offset, length: e.Length, rawLength: e.RawLength}
	}
}

// Has reports whether the blob is indexed.
func (x *Index) Has(id ID) bool { _, ok := x.blobs[id]; return ok }

// Lookup returns where a blob is stored.
func (x *Index) Lookup(id ID) (BlobLocation, bool) {
	e, ok := x.blobs[id]
	if !ok {
		return BlobLocation{}, false
	}
	return BlobLocation{Type: e.typ, Pack: x.packs[e.pack].ID, Offset: e.offset, Length: e.length, RawLength: e.rawLength}, true
}

// Len returns the number of indexed blobs.
func (x *Index) Len() int { return len(x.blobs) }

// PackCount returns the number of indexed packs.
func (x *Index) PackCount() int { return len(x.packs) }

// byPack groups the index per pack, entries sorted by offset.
func (x *Index) byPack() []indexPack {
	out := make([]indexPack, len(x.packs))
	for i, p := range x.packs {
		out[i] = indexPack{ID: p.ID, Size: p.Size}
	}
	for id, e := range x.blobs {
		out[e.pack].Entries = append(out[e.pack].Entries, packEntry{Type: e.typ, ID: id, Offset: e.offset, Length: e.length, RawLength: e.rawLength})
	}
	for i := range out {
		slices.SortFunc(out[i].Entries, func(a, b packEntry) int { return cmp.Compare(a.Offset, b.Offset) })
	}
	sort.Slice(out, func(i, j int) bool { return string(out[i].ID[:]) < string(out[j].ID[:]) })
	return out
}

func encodeIndex(packs []indexPack) []byte {
	n := indexFixed
	for _, p := range packs {
		n += indexPackFixed + indexEntrySize*len(p.Entries)
	}
	b := make([]byte, 0, n)
	b = append(b, indexMagic...)
	b = append(b, indexVersion)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(packs)))
	for _, p := range packs {
		b = append(b, p.ID[:]...)
		b = binary.LittleEndian.AppendUint64(b, uint64(p.Size))
		b = binary.LittleEndian.AppendUint32(b, uint32(len(p.Entries)))
		for _, e := range p.Entries {
			b = append(b, byte(e.Type))
			b = binary.LittleEndian.AppendUint32(b, e.Offset)
			b = binary.LittleEndian.AppendUint32(b, e.Length)
			b = binary.LittleEndian.AppendUint32(b, e.RawLength)
			b = append(b, e.ID[:]...)
		}
	}
	return b
}

// decodeIndex parses a decrypted index file. Every count is checked
// against the bytes that remain before anything is allocated.
func decodeIndex(b []byte) ([]indexPack, error) {
	if len(b) < indexFixed || string(b[:4]) != indexMagic {
		return nil, fmt.Errorf("index does not start with %q", indexMagic)
	}
	if b[4] != indexVersion {
		return nil, fmt.Errorf("index version %d is not supported", b[4])
	}
	np := binary.LittleEndian.Uint32(b[5:])
	b = b[indexFixed:]
	if uint64(np) > uint64(len(b)/indexPackFixed) {
		return nil, fmt.Errorf("index claims %d packs in %d bytes", np, len(b))
	}
	packs := make([]indexPack, 0, np)
	for i := uint32(0); i < np; i++ {
		if len(b) < indexPackFixed {
			return nil, fmt.Errorf("index truncated in pack %d", i)
		}
		var p indexPack
		copy(p.ID[:], b)
		size := binary.LittleEndian.Uint64(b[32:])
		nb := binary.LittleEndian.Uint32(b[40:])
		b = b[indexPackFixed:]
		if size < packTrailerSize || size > MaxPackSize {
			return nil, fmt.Errorf("pack %s: size %d outside %d…%d", p.ID.Short(), size, packTrailerSize, MaxPackSize)
		}
		p.Size = int64(size)
		if uint64(nb) > uint64(len(b)/indexEntrySize) {
			return nil, fmt.Errorf("pack %s: index claims %d blobs in %d bytes", p.ID.Short(), nb, len(b))
		}
		p.Entries = make([]packEntry, nb)
		for j := range p.Entries {
			e := packEntry{
				Type:      BlobType(b[0]),
				Offset:    binary.LittleEndian.Uint32(b[1:]),
				Length:    binary.LittleEndian.Uint32(b[5:]),
				RawLength: binary.LittleEndian.Uint32(b[9:]),
			}
			copy(e.ID[:], b[13:])
			b = b[indexEntrySize:]
			if err := checkEntry(e); err != nil {
				return nil, fmt.Errorf("pack %s entry %d: %w", p.ID.Short(), j, err)
			}
			if uint64(e.Offset)+uint64(e.Length) > size-packTrailerSize {
				return nil, fmt.Errorf("pack %s entry %d: bytes %d…%d lie outside the %d-byte pack", p.ID.Short(), j, e.Offset, uint64(e.Offset)+uint64(e.Length), size)
			}
			p.Entries[j] = e
		}
		packs = append(packs, p)
	}
	if len(b) != 0 {
		return nil, fmt.Errorf("index has %d trailing bytes", len(b))
	}
	return packs, nil
}

// writeIndexFile seals and stores one index file and returns its name.
func writeIndexFile(ctx context.Context, st store.Store, k *keys, packs []indexPack) (string, error) {
	sealed, err := k.seal(nil, encodeIndex(packs), []byte(adIndex))
	if err != nil {
		return "", err
	}
	id := ID(sha256.Sum256(sealed))
	name := indexDir + id.String()
	return name, putBytes(ctx, st, name, sealed)
}

// readIndexFile reads, authenticates and decodes one index file.
func readIndexFile(ctx context.Context, st store.Store, k *keys, name string) ([]indexPack, error) {
	b, err := readSmall(ctx, st, name, maxIndexFileSize)
	if err != nil {
		return nil, err
	}
	if want, err := ParseID(path.Base(name)); err != nil || ID(sha256.Sum256(b)) != want {
		return nil, corruptf(name, "content does not match its name (SHA-256)")
	}
	plain, err := k.open(nil, b, []byte(adIndex))
	if err != nil {
		return nil, corrupt(name, err)
	}
	packs, err := decodeIndex(plain)
	if err != nil {
		return nil, corrupt(name, err)
	}
	return packs, nil
}

// loadIndex merges every index file. Damaged files are returned in bad
// (name → error) rather than failing the whole load: the packs they list
// are still there and RebuildIndex recovers them.
func loadIndex(ctx context.Context, st store.Store, k *keys) (idx *Index, files []string, bad map[string]error, err error) {
	if err := st.List(ctx, indexDir, func(fi store.Info) error {
		files = append(files, fi.Name)
		return nil
	}); err != nil {
		return nil, nil, nil, fmt.Errorf("repo: listing index files: %w", err)
	}
	sort.Strings(files)
	idx = newIndex()
	bad = map[string]error{}
	for _, name := range files {
		if err := ctx.Err(); err != nil {
			return nil, nil, nil, err
		}
		packs, err := readIndexFile(ctx, st, k, name)
		if errors.Is(err, store.ErrNotFound) {
			continue // replaced by a concurrent RebuildIndex
		}
		if err != nil {
			if isCorrupt(err) {
				bad[name] = err
				continue
			}
			return nil, nil, nil, err
		}
		for _, p := range packs {
			idx.add(p)
		}
	}
	return idx, files, bad, nil
}
