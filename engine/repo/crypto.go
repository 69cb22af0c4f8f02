package repo

import (
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"

	"golang.org/x/crypto/blake2b"
	"golang.org/x/crypto/chacha20poly1305"
)

const (
	masterKeySize = 32
	nonceSize     = chacha20poly1305.NonceSizeX // 24
	tagSize       = chacha20poly1305.Overhead   // 16
	// sealOverhead is what seal adds to a plaintext.
	sealOverhead = nonceSize + tagSize
)

// Domain-separation strings. They are part of the format (FORMAT.md §3).
const (
	ctxEncryptionKey = "lifeboat/v1/encryption-key"
	ctxBlobIDKey     = "lifeboat/v1/blob-id-key"
	adMasterKey      = "lifeboat/v1/master-key"
	adConfig         = "lifeboat/v1/config"
	adPackHeader     = "lifeboat/v1/pack-header"
	adIndex          = "lifeboat/v1/index"
	adSnapshot       = "lifeboat/v1/snapshot/" // + snapshot ID hex
	adLock           = "lifeboat/v1/lock/"     // + lock ID hex
)

// keys holds what is derived from the master key. It never leaves the
// package and is never logged.
type keys struct {
	aead  cipher.AEAD
	idKey [32]byte
}

func newMasterKey() ([]byte, error) {
	k := make([]byte, masterKeySize)
	if _, err := rand.Read(k); err != nil {
		return nil, fmt.Errorf("repo: generating master key: %w", err)
	}
	return k, nil
}

// deriveKeys derives independent subkeys so the key that names blobs can
// never be confused with the key that encrypts them.
func deriveKeys(master []byte) (*keys, error) {
	if len(master) != masterKeySize {
		return nil, fmt.Errorf("repo: master key has %d bytes, want %d", len(master), masterKeySize)
	}
	encKey := kdfBlake(master, ctxEncryptionKey)
	aead, err := chacha20poly1305.NewX(encKey[:])
	if err != nil {
		return nil, fmt.Errorf("repo: creating cipher: %w", err)
	}
	return &keys{aead: aead, idKey: kdfBlake(master, ctxBlobIDKey)}, nil
}

// kdfBlake is BLAKE2b-256 keyed with key over the context string.
func kdfBlake(key []byte, context string) [32]byte {
	h, err := blake2b.New256(key)
	if err != nil {
		panic(err) // only for keys longer than 64 bytes, which callers never pass
	}
	h.Write([]byte(context))
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// blobID is BLAKE2b-256 keyed with the blob-ID key over the type byte and
// the plaintext. Keyed, so someone holding the repository but not the key
// cannot confirm that it contains a known file.
func (k *keys) blobID(t BlobType, data []byte) ID {
	h, err := blake2b.New256(k.idKey[:])
	if err != nil {
		panic(err)
	}
	h.Write([]byte{byte(t)})
	h.Write(data)
	var id ID
	h.Sum(id[:0])
	return id
}

// seal appends nonce || ciphertext || tag of plain to dst.
func sealWith(aead cipher.AEAD, dst, plain, ad []byte) ([]byte, error) {
	start := len(dst)
	dst = append(dst, make([]byte, nonceSize)...)
	nonce := dst[start : start+nonceSize]
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("repo: reading random nonce: %w", err)
	}
	return aead.Seal(dst, nonce, plain, ad), nil
}

var errAuth = errors.New("authentication failed (wrong key, or the bytes were changed)")

// openWith reverses sealWith. The plaintext is appended to dst.
func openWith(aead cipher.AEAD, dst, sealed, ad []byte) ([]byte, error) {
	if len(sealed) < sealOverhead {
		return nil, fmt.Errorf("encrypted object is %d bytes, shorter than the %d-byte minimum", len(sealed), sealOverhead)
	}
	out, err := aead.Open(dst, sealed[:nonceSize], sealed[nonceSize:], ad)
	if err != nil {
		return nil, errAuth
	}
	return out, nil
}

func (k *keys) seal(dst, plain, ad []byte) ([]byte, error) { return sealWith(k.aead, dst, plain, ad) }
func (k *keys) open(dst, sealed, ad []byte) ([]byte, error) {
	return openWith(k.aead, dst, sealed, ad)
}
