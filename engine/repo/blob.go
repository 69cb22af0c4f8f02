package repo

import (
	"errors"
	"fmt"
	"runtime"

	"github.com/klauspost/compress/zstd"
)

const (
	// maxChunkSize bounds the chunker's configured maximum.
	maxChunkSize = 64 << 20
	// MaxBlobSize is the largest blob SaveBlob accepts. Callers split larger
	// content with SaveStream and larger trees into several blobs.
	MaxBlobSize = 128 << 20

	flagRaw  byte = 0
	flagZstd byte = 1

	// Below minCompressSize zstd's frame overhead eats any gain.
	minCompressSize = 64
	// Above sampleThreshold, a sample is compressed first to skip
	// incompressible data (photos, zip files, PDFs) cheaply.
	sampleThreshold = 128 << 10
	sampleSize      = 32 << 10
)

// codec compresses and decompresses blob payloads. Both directions are safe
// for concurrent use.
type codec struct {
	enc *zstd.Encoder
	dec *zstd.Decoder
}

func newCodec() (*codec, error) {
	n := runtime.GOMAXPROCS(0)
	enc, err := zstd.NewWriter(nil,
		zstd.WithEncoderLevel(zstd.SpeedDefault),
		zstd.WithEncoderConcurrency(n),
		zstd.WithEncoderCRC(false), // the AEAD tag already authenticates every byte
		zstd.WithLowerEncoderMem(true))
	if err != nil {
		return nil, fmt.Errorf("repo: creating zstd encoder: %w", err)
	}
	dec, err := zstd.NewReader(nil,
		zstd.WithDecoderConcurrency(n),
		zstd.WithDecodeAllCapLimit(true), // output never exceeds the expected length
		zstd.WithDecoderMaxMemory(MaxBlobSize))
	if err != nil {
		enc.Close()
		return nil, fmt.Errorf("repo: creating zstd decoder: %w", err)
	}
	return &codec{enc: enc, dec: dec}, nil
}

func (c *codec) close() {
	c.enc.Close()
	c.dec.Close()
}

// compressWorthwhile reports whether compressing data is likely to pay.
func (c *codec) compressWorthwhile(data []byte) bool {
	if len(data) < minCompressSize {
		return false
	}
	if len(data) < sampleThreshold {
		return true
	}
	sample := data[:sampleSize]
	out := c.enc.EncodeAll(sample, make([]byte, 0, sampleSize))
	return len(out) < sampleSize-sampleSize/32
}

// payload returns flag || body, where body is data compressed with zstd if
// that saves at least 1/64 of its size, and data itself otherwise.
func (c *codec) payload(data []byte) []byte {
	if c.compressWorthwhile(data) {
		out := make([]byte, 1, 1+len(data))
		out[0] = flagZstd
		out = c.enc.EncodeAll(data, out)
		if len(out)-1 < len(data)-len(data)/64 {
			return out
		}
	}
	out := make([]byte, 1+len(data))
	out[0] = flagRaw
	copy(out[1:], data)
	return out
}

// unpayload reverses payload; rawLen is the expected data length.
func (c *codec) unpayload(p []byte, rawLen uint32) ([]byte, error) {
	if len(p) < 1 {
		return nil, errors.New("empty blob payload")
	}
	if rawLen > MaxBlobSize {
		return nil, fmt.Errorf("blob length %d exceeds the %d-byte limit", rawLen, MaxBlobSize)
	}
	switch p[0] {
	case flagRaw:
		if uint32(len(p)-1) != rawLen {
			return nil, fmt.Errorf("blob has %d bytes, index says %d", len(p)-1, rawLen)
		}
		return p[1:], nil
	case flagZstd:
		out, err := c.dec.DecodeAll(p[1:], make([]byte, 0, rawLen))
		if err != nil {
			return nil, fmt.Errorf("decompressing blob: %w", err)
		}
		if uint32(len(out)) != rawLen {
			return nil, fmt.Errorf("blob decompressed to %d bytes, index says %d", len(out), rawLen)
		}
		return out, nil
	default:
		return nil, fmt.Errorf("unknown blob compression flag %d", p[0])
	}
}

func blobAD(t BlobType, id ID) []byte {
	ad := make([]byte, 1+len(id))
	ad[0] = byte(t)
	copy(ad[1:], id[:])
	return ad
}

// encodeBlob returns the bytes stored in a pack for one blob:
// nonce || XChaCha20-Poly1305(flag || body), with type || ID as associated
// data so a blob cannot be passed off as another.
func encodeBlob(k *keys, c *codec, t BlobType, id ID, data []byte) ([]byte, error) {
	p := c.payload(data)
	return k.seal(make([]byte, 0, len(p)+sealOverhead), p, blobAD(t, id))
}

// decodeBlob authenticates, decompresses and re-hashes a stored blob.
func decodeBlob(k *keys, c *codec, t BlobType, id ID, stored []byte, rawLen uint32) ([]byte, error) {
	p, err := k.open(nil, stored, blobAD(t, id))
	if err != nil {
		return nil, err
	}
	data, err := c.unpayload(p, rawLen)
	if err != nil {
		return nil, err
	}
	if got := k.blobID(t, data); got != id {
		return nil, fmt.Errorf("content hashes to %s, not %s", got.Short(), id.Short())
	}
	return data, nil
}
