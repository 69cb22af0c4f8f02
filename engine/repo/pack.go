package repo

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/lifeboat-backup/lifeboat/engine/store"
)

// Pack layout (FORMAT.md §5):
//
//	blob_0 || … || blob_n-1 || sealed header || uint32le(len(sealed header)) || "LBPK"
//
// The sealed header lists every blob (type, stored length, raw length, ID)
// in file order, so offsets are implied and the index can be rebuilt from
// packs alone.
const (
	dataDir            = "data/"
	packHeaderMagic    = "LBPH"
	packHeaderVersion  = 1
	packHeaderFixed    = len(packHeaderMagic) + 1 + 4
	packEntrySize      = 1 + 4 + 4 + 32
	packTrailerMagic   = "LBPK"
	packTrailerSize    = 8 // uint32le length + magic
	maxPackHeaderSize  = 16 << 20
	minStoredBlobSize  = sealOverhead + 1
	maxStoredBlobSize  = sealOverhead + 1 + MaxBlobSize
	MaxPackSize        = 1 << 30 // hostile-size bound, far above any target
	DefaultPackSize    = 16 << 20
	minPackSizeSetting = 64 << 10
)

type packEntry struct {
	Type      BlobType
	ID        ID
	Offset    uint32 // from the start of the pack
	Length    uint32 // stored (encrypted) length
	RawLength uint32 // plaintext length
}

func packName(id ID) string {
	s := id.String()
	return dataDir + s[:2] + "/" + s
}

type packWriter struct {
	buf     []byte
	entries []packEntry
	// capHint is the buffer size to allocate on the first add: a full pack
	// plus its last blob and header, so the buffer never grows by copying
	// (doubling a 16 MiB buffer cost time and peak memory).
	capHint int
}

// newPackWriter returns an empty pack expected to hold about packSize
// bytes of blobs no larger than maxBlob.
func newPackWriter(packSize, maxBlob int) *packWriter {
	return &packWriter{capHint: packSize + maxBlob + 256<<10}
}

func (p *packWriter) size() int { return len(p.buf) }

func (p *packWriter) add(t BlobType, id ID, stored []byte, rawLen uint32) {
	if p.buf == nil && p.capHint > 0 {
		p.buf = make([]byte, 0, max(p.capHint, len(stored)))
	}
	p.entries = append(p.entries, packEntry{Type: t, ID: id, Offset: uint32(len(p.buf)), Length: uint32(len(stored)), RawLength: rawLen})
	p.buf = append(p.buf, stored...)
}

// finish appends the sealed header and trailer and names the pack by the
// SHA-256 of its bytes, so anyone can check a pack's integrity without the
// key (and a rewritten pack cannot keep its name).
func (p *packWriter) finish(k *keys) (ID, []byte, error) {
	sealed, err := k.seal(nil, encodePackHeader(p.entries), []byte(adPackHeader))
	if err != nil {
		return ID{}, nil, err
	}
	p.buf = append(p.buf, sealed...)
	p.buf = binary.LittleEndian.AppendUint32(p.buf, uint32(len(sealed)))
	p.buf = append(p.buf, packTrailerMagic...)
	return sha256.Sum256(p.buf), p.buf, nil
}

func encodePackHeader(entries []packEntry) []byte {
	b := make([]byte, 0, packHeaderFixed+packEntrySize*len(entries))
	b = append(b, packHeaderMagic...)
	b = append(b, packHeaderVersion)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(entries)))
	for _, e := range entries {
		b = append(b, byte(e.Type))
		b = binary.LittleEndian.AppendUint32(b, e.Length)
		b = binary.LittleEndian.AppendUint32(b, e.RawLength)
		b = append(b, e.ID[:]...)
	}
	return b
}

// decodePackHeader parses a decrypted pack header. Offsets are assigned
// cumulatively; the caller checks they end where the header begins.
func decodePackHeader(b []byte) ([]packEntry, error) {
	if len(b) < packHeaderFixed || string(b[:4]) != packHeaderMagic {
		return nil, fmt.Errorf("pack header does not start with %q", packHeaderMagic)
	}
	if b[4] != packHeaderVersion {
		return nil, fmt.Errorf("pack header version %d is not supported", b[4])
	}
	n := binary.LittleEndian.Uint32(b[5:])
	body := b[packHeaderFixed:]
	if uint64(len(body)) != uint64(n)*packEntrySize {
		return nil, fmt.Errorf("pack header claims %d entries but holds %d bytes of entries", n, len(body))
	}
	entries := make([]packEntry, n)
	var off uint64
	for i := range entries {
		e := body[i*packEntrySize : (i+1)*packEntrySize]
		pe := packEntry{
			Type:      BlobType(e[0]),
			Length:    binary.LittleEndian.Uint32(e[1:]),
			RawLength: binary.LittleEndian.Uint32(e[5:]),
			Offset:    uint32(off),
		}
		copy(pe.ID[:], e[9:])
		if err := checkEntry(pe); err != nil {
			return nil, fmt.Errorf("pack header entry %d: %w", i, err)
		}
		off += uint64(pe.Length)
		if off > MaxPackSize {
			return nil, fmt.Errorf("pack header entries add up to more than %d bytes", MaxPackSize)
		}
		entries[i] = pe
	}
	return entries, nil
}

func checkEntry(e packEntry) error {
	switch {
	case !e.Type.valid():
		return fmt.Errorf("unknown blob type %d", e.Type)
	case e.Length < minStoredBlobSize || e.Length > maxStoredBlobSize:
		return fmt.Errorf("stored length %d outside %d…%d", e.Length, minStoredBlobSize, maxStoredBlobSize)
	case e.RawLength > MaxBlobSize:
		return fmt.Errorf("raw length %d exceeds %d", e.RawLength, MaxBlobSize)
	}
	return nil
}

// parsePackTrailer returns the sealed header's length from a pack's last
// packTrailerSize bytes, checked against the pack's size.
func parsePackTrailer(t []byte, packSize int64) (uint32, error) {
	if len(t) != packTrailerSize || string(t[4:]) != packTrailerMagic {
		return 0, fmt.Errorf("pack does not end with %q", packTrailerMagic)
	}
	n := binary.LittleEndian.Uint32(t)
	if n < sealOverhead+uint32(packHeaderFixed) || n > maxPackHeaderSize || int64(n) > packSize-packTrailerSize {
		return 0, fmt.Errorf("pack header length %d is impossible for a %d-byte pack", n, packSize)
	}
	return n, nil
}

// decodeSealedPackHeader decrypts and parses the header and checks that the
// blobs fill the pack exactly up to it.
func decodeSealedPackHeader(k *keys, sealed []byte, headerStart int64) ([]packEntry, error) {
	plain, err := k.open(nil, sealed, []byte(adPackHeader))
	if err != nil {
		return nil, err
	}
	entries, err := decodePackHeader(plain)
	if err != nil {
		return nil, err
	}
	var end int64
	if len(entries) > 0 {
		last := entries[len(entries)-1]
		end = int64(last.Offset) + int64(last.Length)
	}
	if end != headerStart {
		return nil, fmt.Errorf("blobs end at byte %d but the header starts at %d", end, headerStart)
	}
	return entries, nil
}

// readPackHeader reads only a pack's tail: two small ranged reads.
func readPackHeader(ctx context.Context, st store.Store, k *keys, id ID, size int64) ([]packEntry, error) {
	name := packName(id)
	if size < packTrailerSize || size > MaxPackSize {
		return nil, corruptf(name, "size %d outside %d…%d", size, packTrailerSize, MaxPackSize)
	}
	tail, err := readRange(ctx, st, name, size-packTrailerSize, packTrailerSize)
	if err != nil {
		return nil, err
	}
	n, err := parsePackTrailer(tail, size)
	if err != nil {
		return nil, corrupt(name, err)
	}
	start := size - packTrailerSize - int64(n)
	sealed, err := readRange(ctx, st, name, start, int64(n))
	if err != nil {
		return nil, err
	}
	entries, err := decodeSealedPackHeader(k, sealed, start)
	if err != nil {
		return nil, corrupt(name+" header", err)
	}
	return entries, nil
}

// readRange reads exactly length bytes; the caller has bounded length.
func readRange(ctx context.Context, st store.Store, name string, off, length int64) ([]byte, error) {
	rc, err := st.Get(ctx, name, off, length)
	if err != nil {
		return nil, fmt.Errorf("repo: reading %s: %w", name, err)
	}
	defer rc.Close()
	b := make([]byte, length)
	if _, err := io.ReadFull(rc, b); err != nil {
		if err == io.ErrUnexpectedEOF || err == io.EOF {
			return nil, corruptf(name, "shorter than expected: wanted %d bytes at offset %d", length, off)
		}
		return nil, fmt.Errorf("repo: reading %s: %w", name, err)
	}
	return b, nil
}
