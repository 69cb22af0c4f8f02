package auth

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/cache"

	"github.com/lifeboat-backup/lifeboat/engine/secret"
)

// The cache file: magic, format version, a random 96-bit nonce, then the
// AES-256-GCM sealed MSAL cache. The associated data is the header and the
// file's absolute path, so a file copied elsewhere or edited does not open.
const (
	cacheMagic   = "LBSC"
	cacheVersion = 1
	nonceSize    = 12
	headerSize   = len(cacheMagic) + 1 + nonceSize
	keySize      = 32
	// maxCacheFile bounds what is read: MSAL's cache is a few KB per account.
	maxCacheFile = 16 << 20
)

// fileCache is the encrypted cache file and its key in the keychain. Two
// accessors (strict and lenient) share it.
type fileCache struct {
	path       string // absolute
	keychain   secret.Keychain
	service    string
	keyAccount string
	log        *slog.Logger

	mu  sync.Mutex
	key []byte // cached after the first keychain read
}

// loadKey returns the key from the keychain; create makes and stores a new
// one when there is none.
func (c *fileCache) loadKey(create bool) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.key != nil {
		return c.key, nil
	}
	k, err := c.keychain.Get(c.service, c.keyAccount)
	switch {
	case err == nil:
		if len(k) != keySize {
			return nil, &CacheDamagedError{Path: c.path, Reason: "the key in the keychain has the wrong size", Err: fmt.Errorf("key of %d bytes", len(k))}
		}
		c.key = k
		return k, nil
	case errors.Is(err, secret.ErrNotFound) && create:
		k = make([]byte, keySize)
		if _, err := rand.Read(k); err != nil {
			return nil, fmt.Errorf("make a key for the saved sign-in: %w", err)
		}
		if err := c.keychain.Set(c.service, c.keyAccount, k); err != nil {
			return nil, fmt.Errorf("keep the key of the saved sign-in in the keychain: %w", err)
		}
		c.log.Debug("auth: new token cache key stored in the keychain", "service", c.service, "account", c.keyAccount)
		c.key = k
		return k, nil
	default:
		return nil, fmt.Errorf("read the key of the saved sign-in from the keychain: %w", err)
	}
}

// forgetKey drops the in-memory key (after logout deleted it).
func (c *fileCache) forgetKey() {
	c.mu.Lock()
	c.key = nil
	c.mu.Unlock()
}

func (c *fileCache) aad() []byte {
	aad := append([]byte(cacheMagic), cacheVersion, 0)
	return append(aad, c.path...)
}

func (c *fileCache) aead(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// read returns the decrypted cache, or nil when there is no file.
func (c *fileCache) read() ([]byte, error) {
	f, err := os.Open(c.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the saved sign-in: %w", err)
	}
	defer f.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(io.LimitReader(f, maxCacheFile+1)); err != nil {
		return nil, fmt.Errorf("read the saved sign-in: %w", err)
	}
	data := buf.Bytes()
	damaged := func(reason string, err error) error {
		return &CacheDamagedError{Path: c.path, Reason: reason, Err: err}
	}
	if len(data) > maxCacheFile {
		return nil, damaged("the file is far too large", nil)
	}
	if len(data) < headerSize || string(data[:len(cacheMagic)]) != cacheMagic {
		return nil, damaged("it is not a Lifeboat sign-in file", nil)
	}
	if v := data[len(cacheMagic)]; v != cacheVersion {
		return nil, damaged(fmt.Sprintf("it has format version %d, which this Lifeboat does not know", v), nil)
	}
	key, err := c.loadKey(false)
	if errors.Is(err, secret.ErrNotFound) {
		return nil, damaged("its key is missing from the keychain (if you signed in with --secret-store file, use that again)", err)
	}
	if err != nil {
		return nil, err
	}
	aead, err := c.aead(key)
	if err != nil {
		return nil, fmt.Errorf("read the saved sign-in: %w", err)
	}
	nonce := data[len(cacheMagic)+1 : headerSize]
	plain, err := aead.Open(nil, nonce, data[headerSize:], c.aad())
	if err != nil {
		return nil, damaged("it does not decrypt with the key in the keychain (changed, moved or corrupted)", err)
	}
	return plain, nil
}

// write encrypts and stores the cache atomically.
func (c *fileCache) write(plain []byte) error {
	key, err := c.loadKey(true)
	if err != nil {
		return err
	}
	aead, err := c.aead(key)
	if err != nil {
		return fmt.Errorf("save the sign-in: %w", err)
	}
	out := make([]byte, headerSize, headerSize+len(plain)+aead.Overhead())
	copy(out, cacheMagic)
	out[len(cacheMagic)] = cacheVersion
	if _, err := rand.Read(out[len(cacheMagic)+1 : headerSize]); err != nil {
		return fmt.Errorf("save the sign-in: %w", err)
	}
	out = aead.Seal(out, out[len(cacheMagic)+1:headerSize], plain, c.aad())
	if err := os.MkdirAll(filepath.Dir(c.path), 0o700); err != nil {
		return fmt.Errorf("save the sign-in: %w", err)
	}
	if err := secret.WriteFileAtomic(c.path, out); err != nil {
		return fmt.Errorf("save the sign-in: %w", err)
	}
	return nil
}

// remove deletes the cache file and its key.
func (c *fileCache) remove() error {
	var errs []error
	if err := os.Remove(c.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		errs = append(errs, fmt.Errorf("delete the saved sign-in: %w", err))
	}
	if err := c.keychain.Delete(c.service, c.keyAccount); err != nil && !errors.Is(err, secret.ErrNotFound) {
		errs = append(errs, fmt.Errorf("delete the key of the saved sign-in: %w", err))
	}
	c.forgetKey()
	return errors.Join(errs...)
}

// accessor is MSAL's cache.ExportReplace over the file. A lenient accessor
// (used by sign-in) treats a damaged file as empty, so that signing in
// again replaces it; a strict one reports it.
type accessor struct {
	c       *fileCache
	lenient bool
}

var _ cache.ExportReplace = accessor{}

// emptyCache is MSAL's serialized form of an empty cache.
var emptyCache = []byte("{}")

// Replace implements cache.ExportReplace.
func (a accessor) Replace(ctx context.Context, u cache.Unmarshaler, _ cache.ReplaceHints) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	plain, err := a.c.read()
	if err != nil {
		if a.lenient && errors.Is(err, ErrCacheDamaged) {
			a.c.log.Warn("auth: the saved sign-in is damaged; signing in again replaces it", "path", a.c.path)
			return u.Unmarshal(emptyCache)
		}
		return err
	}
	if plain == nil {
		plain = emptyCache
	}
	if err := u.Unmarshal(plain); err != nil {
		if a.lenient {
			return u.Unmarshal(emptyCache)
		}
		return &CacheDamagedError{Path: a.c.path, Reason: "its content is not a token cache", Err: err}
	}
	return nil
}

// Export implements cache.ExportReplace.
func (a accessor) Export(ctx context.Context, m cache.Marshaler, _ cache.ExportHints) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b, err := m.Marshal()
	if err != nil {
		return fmt.Errorf("save the sign-in: %w", err)
	}
	return a.c.write(b)
}
