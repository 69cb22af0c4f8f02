package repo

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
)

// ID names a blob, pack, index file or snapshot: 32 bytes, shown as 64
// lowercase hex characters.
type ID [32]byte

// String returns the ID as 64 lowercase hex characters.
func (id ID) String() string { return hex.EncodeToString(id[:]) }

// Short returns the first 8 hex characters, for messages meant for people.
func (id ID) Short() string { return hex.EncodeToString(id[:4]) }

// IsZero reports whether id is the zero ID (no ID).
func (id ID) IsZero() bool { return id == ID{} }

// MarshalText encodes the ID as hex (used by JSON).
func (id ID) MarshalText() ([]byte, error) {
	out := make([]byte, hex.EncodedLen(len(id)))
	hex.Encode(out, id[:])
	return out, nil
}

// UnmarshalText parses 64 hex characters.
func (id *ID) UnmarshalText(b []byte) error {
	p, err := ParseID(string(b))
	if err != nil {
		return err
	}
	*id = p
	return nil
}

// ParseID parses the 64-hex-character form of an ID.
func ParseID(s string) (ID, error) {
	var id ID
	if len(s) != hex.EncodedLen(len(id)) {
		return ID{}, fmt.Errorf("repo: invalid ID %q: want %d hex characters", truncate(s, 80), hex.EncodedLen(len(id)))
	}
	if _, err := hex.Decode(id[:], []byte(s)); err != nil {
		return ID{}, fmt.Errorf("repo: invalid ID %q: %w", truncate(s, 80), err)
	}
	return id, nil
}

func randomID() (ID, error) {
	var id ID
	if _, err := rand.Read(id[:]); err != nil {
		return ID{}, fmt.Errorf("repo: reading random bytes: %w", err)
	}
	return id, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// BlobType says what a blob holds. It is part of the blob's identity: the
// same bytes saved as data and as a tree are two blobs.
type BlobType uint8

const (
	// DataBlob holds file or message content (usually a chunk of it).
	DataBlob BlobType = 1
	// TreeBlob holds metadata: a directory listing, a folder of messages, a
	// catalog page — anything a snapshot's root leads to.
	TreeBlob BlobType = 2
)

func (t BlobType) valid() bool { return t == DataBlob || t == TreeBlob }

func (t BlobType) String() string {
	switch t {
	case DataBlob:
		return "data"
	case TreeBlob:
		return "tree"
	default:
		return fmt.Sprintf("blobtype(%d)", uint8(t))
	}
}
