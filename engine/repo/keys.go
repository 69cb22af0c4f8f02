package repo

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"time"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/chacha20poly1305"

	"github.com/lifeboat-backup/lifeboat/engine/store"
)

// KDFParams are the Argon2id parameters of a recovery-key slot. They are
// stored in the key file, so they can be raised for new slots without
// breaking old ones.
type KDFParams struct {
	Time      uint32 `json:"time"`       // passes
	MemoryKiB uint32 `json:"memory_kib"` // memory in KiB
	Threads   uint8  `json:"threads"`    // lanes; changes the output
}

// DefaultKDF returns parameters that cost about a second and 64 MiB on a
// typical laptop: cheap for one unlock, expensive for someone guessing. (The
// recovery key has 150 random bits, so this is defence in depth.)
func DefaultKDF() KDFParams { return KDFParams{Time: 3, MemoryKiB: 64 * 1024, Threads: 4} }

// Limits on hostile key files: a key file must not be able to make us
// allocate more than maxKDFMemoryKiB or spin for hours.
const (
	maxKDFMemoryKiB = 4 * 1024 * 1024 // 4 GiB
	maxKDFTime      = 64
	maxKeyFileSize  = 64 * 1024
	keyFileVersion  = 1
	keysDir         = "keys/"
)

func (p KDFParams) validate() error {
	switch {
	case p.Time < 1 || p.Time > maxKDFTime:
		return fmt.Errorf("argon2id time %d outside 1…%d", p.Time, maxKDFTime)
	case p.Threads < 1:
		return fmt.Errorf("argon2id threads must be at least 1")
	case p.MemoryKiB < 8*uint32(p.Threads) || p.MemoryKiB > maxKDFMemoryKiB:
		return fmt.Errorf("argon2id memory %d KiB outside %d…%d", p.MemoryKiB, 8*uint32(p.Threads), maxKDFMemoryKiB)
	}
	return nil
}

// KeyStore keeps secrets outside the repository, normally in the OS
// keychain. Get must return an error wrapping ErrKeyNotFound or
// fs.ErrNotExist for an unknown id (the latter lets an adapter avoid
// importing this package).
type KeyStore interface {
	Get(id string) ([]byte, error)
	Set(id string, secret []byte) error
	Delete(id string) error
}

// KeyKind says what unlocks a key slot.
type KeyKind string

const (
	// RecoveryKeySlot is unlocked by a recovery key through Argon2id.
	RecoveryKeySlot KeyKind = "recovery"
	// KeyStoreSlot is unlocked by a random 32-byte key held in a KeyStore.
	KeyStoreSlot KeyKind = "keystore"
)

// keyFile is the JSON stored at keys/<id>. It is plaintext: it holds only
// the KDF parameters and the wrapped (encrypted) master key.
type keyFile struct {
	Version    int        `json:"version"`
	Kind       KeyKind    `json:"kind"`
	Created    time.Time  `json:"created"`
	KDF        *KDFParams `json:"kdf,omitempty"`
	Salt       []byte     `json:"salt,omitempty"`
	KeyStoreID string     `json:"keystore_id,omitempty"`
	Wrapped    []byte     `json:"wrapped_key"` // nonce || XChaCha20-Poly1305(master key)
}

// KeyInfo describes one key slot, for listing.
type KeyInfo struct {
	ID         string
	Kind       KeyKind
	Created    time.Time
	KeyStoreID string
}

func decodeKeyFile(b []byte) (*keyFile, error) {
	if len(b) > maxKeyFileSize {
		return nil, fmt.Errorf("key file is %d bytes, more than %d", len(b), maxKeyFileSize)
	}
	var kf keyFile
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&kf); err != nil {
		return nil, fmt.Errorf("decoding key file: %w", err)
	}
	if kf.Version > keyFileVersion {
		return nil, &VersionError{Found: uint32(kf.Version), Supported: keyFileVersion}
	}
	if kf.Version < 1 {
		return nil, fmt.Errorf("key file version %d is invalid", kf.Version)
	}
	if len(kf.Wrapped) != sealOverhead+masterKeySize {
		return nil, fmt.Errorf("wrapped key is %d bytes, want %d", len(kf.Wrapped), sealOverhead+masterKeySize)
	}
	switch kf.Kind {
	case RecoveryKeySlot:
		if kf.KDF == nil {
			return nil, errors.New("recovery key slot without KDF parameters")
		}
		if err := kf.KDF.validate(); err != nil {
			return nil, err
		}
		if len(kf.Salt) < 16 || len(kf.Salt) > 64 {
			return nil, fmt.Errorf("salt is %d bytes, want 16…64", len(kf.Salt))
		}
	case KeyStoreSlot:
		if kf.KeyStoreID == "" || len(kf.KeyStoreID) > 256 {
			return nil, errors.New("keystore slot without a valid keystore_id")
		}
	default:
		return nil, fmt.Errorf("unknown key slot kind %q", truncate(string(kf.Kind), 40))
	}
	return &kf, nil
}

func wrapMasterKey(kek, master []byte) ([]byte, error) {
	aead, err := chacha20poly1305.NewX(kek)
	if err != nil {
		return nil, fmt.Errorf("repo: creating key-wrapping cipher: %w", err)
	}
	return sealWith(aead, nil, master, []byte(adMasterKey))
}

func unwrapMasterKey(kek, wrapped []byte) ([]byte, error) {
	aead, err := chacha20poly1305.NewX(kek)
	if err != nil {
		return nil, fmt.Errorf("repo: creating key-wrapping cipher: %w", err)
	}
	return openWith(aead, nil, wrapped, []byte(adMasterKey))
}

func argonKey(pass, salt []byte, p KDFParams) []byte {
	return argon2.IDKey(pass, salt, p.Time, p.MemoryKiB, p.Threads, 32)
}

func newRecoveryKeyFile(rk RecoveryKey, master []byte, p KDFParams, now time.Time) (*keyFile, error) {
	if err := p.validate(); err != nil {
		return nil, fmt.Errorf("repo: %w", err)
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return nil, fmt.Errorf("repo: reading random salt: %w", err)
	}
	wrapped, err := wrapMasterKey(argonKey(rk.password(), salt, p), master)
	if err != nil {
		return nil, err
	}
	return &keyFile{Version: keyFileVersion, Kind: RecoveryKeySlot, Created: now.UTC(), KDF: &p, Salt: salt, Wrapped: wrapped}, nil
}

// writeKeyFile stores kf as keys/<id>, with a new random id if id is empty,
// and returns the id.
func writeKeyFile(ctx context.Context, st store.Store, id string, kf *keyFile) (string, error) {
	if id == "" {
		rid, err := randomID()
		if err != nil {
			return "", err
		}
		id = rid.String()
	}
	b, err := json.MarshalIndent(kf, "", "  ")
	if err != nil {
		return "", fmt.Errorf("repo: encoding key file: %w", err)
	}
	name := keysDir + id
	if err := st.Put(ctx, name, bytes.NewReader(b), int64(len(b))); err != nil {
		return "", fmt.Errorf("repo: writing %s: %w", name, err)
	}
	return id, nil
}

type namedKeyFile struct {
	id string
	kf *keyFile
}

// listKeyFiles reads every key file; damaged ones are returned in bad so a
// single damaged slot does not lock the owner out through the others.
func listKeyFiles(ctx context.Context, st store.Store) (good []namedKeyFile, bad map[string]error, err error) {
	var infos []store.Info
	if err := st.List(ctx, keysDir, func(fi store.Info) error {
		infos = append(infos, fi)
		return nil
	}); err != nil {
		return nil, nil, fmt.Errorf("repo: listing keys: %w", err)
	}
	slices.SortFunc(infos, func(a, b store.Info) int { return a.ModTime.Compare(b.ModTime) })
	bad = map[string]error{}
	for _, fi := range infos {
		id := path.Base(fi.Name)
		b, err := readSmall(ctx, st, fi.Name, maxKeyFileSize)
		if err != nil {
			if errors.Is(err, ErrCorrupt) {
				bad[id] = err
				continue
			}
			return nil, nil, err
		}
		kf, err := decodeKeyFile(b)
		if err != nil {
			bad[id] = err
			continue
		}
		good = append(good, namedKeyFile{id: id, kf: kf})
	}
	return good, bad, nil
}

// readSmall reads a whole object of at most limit bytes. A larger object is
// reported as corrupt rather than read: sizes come from hostile storage.
func readSmall(ctx context.Context, st store.Store, name string, limit int64) ([]byte, error) {
	rc, err := st.Get(ctx, name, 0, -1)
	if err != nil {
		return nil, fmt.Errorf("repo: reading %s: %w", name, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, fmt.Errorf("repo: reading %s: %w", name, err)
	}
	if int64(len(b)) > limit {
		return nil, corruptf(name, "larger than the %d-byte limit for this kind of file", limit)
	}
	return b, nil
}

// unlockWithRecoveryKey tries every recovery slot. Argon2id runs once per
// distinct parameter set and salt, i.e. once per slot.
func unlockWithRecoveryKey(files []namedKeyFile, rk RecoveryKey) ([]byte, error) {
	tried := 0
	for _, f := range files {
		if f.kf.Kind != RecoveryKeySlot {
			continue
		}
		tried++
		master, err := unwrapMasterKey(argonKey(rk.password(), f.kf.Salt, *f.kf.KDF), f.kf.Wrapped)
		if err == nil {
			return master, nil
		}
	}
	if tried == 0 {
		return nil, errors.New("repo: this backup has no recovery key slot")
	}
	return nil, ErrWrongKey
}

func unlockWithKeyStore(files []namedKeyFile, ks KeyStore) ([]byte, error) {
	for _, f := range files {
		if f.kf.Kind != KeyStoreSlot {
			continue
		}
		kek, err := ks.Get(f.kf.KeyStoreID)
		if err != nil {
			if errors.Is(err, ErrKeyNotFound) || errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return nil, fmt.Errorf("repo: reading key %q from key store: %w", f.kf.KeyStoreID, err)
		}
		if len(kek) != 32 {
			continue
		}
		master, err := unwrapMasterKey(kek, f.kf.Wrapped)
		if err == nil {
			return master, nil
		}
	}
	return nil, ErrNoKeychainKey
}
