package repo

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/restic/chunker"

	"github.com/lifeboat-backup/lifeboat/engine/store"
)

// FormatVersion is the newest repository format this build reads and the
// one it writes.
const FormatVersion uint32 = 1

const (
	configName     = "config"
	configMagic    = "LIFEBOAT"
	configHdrSize  = len(configMagic) + 4
	maxConfigSize  = 64 * 1024
	readmeName     = "README.txt"
	defaultMinCut  = 512 * 1024
	defaultMaxCut  = 8 * 1024 * 1024
	defaultAvgBits = 20 // 1 MiB average chunk
)

// Config is the decrypted repository configuration. It never changes after
// Init: the chunker polynomial in particular must stay fixed for dedup.
type Config struct {
	Version uint32    `json:"version"`
	ID      ID        `json:"id"`
	Created time.Time `json:"created"`
	Chunker struct {
		Polynomial  chunker.Pol `json:"polynomial"`
		MinSize     uint        `json:"min_size"`
		MaxSize     uint        `json:"max_size"`
		AverageBits int         `json:"average_bits"`
	} `json:"chunker"`
}

func newConfig(now time.Time) (*Config, error) {
	id, err := randomID()
	if err != nil {
		return nil, err
	}
	pol, err := chunker.RandomPolynomial()
	if err != nil {
		return nil, fmt.Errorf("repo: choosing chunker polynomial: %w", err)
	}
	c := &Config{Version: FormatVersion, ID: id, Created: now.UTC()}
	c.Chunker.Polynomial = pol
	c.Chunker.MinSize = defaultMinCut
	c.Chunker.MaxSize = defaultMaxCut
	c.Chunker.AverageBits = defaultAvgBits
	return c, nil
}

func (c *Config) validate() error {
	ch := c.Chunker
	switch {
	case c.Version < 1 || c.Version > FormatVersion:
		return fmt.Errorf("config version %d does not match header", c.Version)
	case ch.Polynomial == 0 || ch.Polynomial.Deg() != 53 || !ch.Polynomial.Irreducible():
		return errors.New("chunker polynomial is not an irreducible polynomial of degree 53")
	case ch.MinSize < 64 || ch.MaxSize < ch.MinSize || ch.MaxSize > maxChunkSize:
		return fmt.Errorf("chunk sizes %d…%d outside 64…%d", ch.MinSize, ch.MaxSize, maxChunkSize)
	case ch.AverageBits < 8 || ch.AverageBits > 30:
		return fmt.Errorf("chunk average bits %d outside 8…30", ch.AverageBits)
	}
	return nil
}

// configHeader returns "LIFEBOAT" || uint32le(version). The header is the
// AEAD's associated data, so a downgraded version number fails to decrypt.
func configHeader(version uint32) []byte {
	h := make([]byte, configHdrSize)
	copy(h, configMagic)
	binary.LittleEndian.PutUint32(h[len(configMagic):], version)
	return h
}

// readConfigVersion reads only the plaintext header, so that a newer
// repository is refused before any key is asked for.
func readConfigVersion(b []byte) (uint32, error) {
	if len(b) < configHdrSize || string(b[:len(configMagic)]) != configMagic {
		return 0, corruptf(configName, "does not start with %q", configMagic)
	}
	v := binary.LittleEndian.Uint32(b[len(configMagic):])
	if v == 0 {
		return 0, corruptf(configName, "format version 0")
	}
	if v > FormatVersion {
		return v, &VersionError{Found: v, Supported: FormatVersion}
	}
	return v, nil
}

func encodeConfig(k *keys, c *Config) ([]byte, error) {
	plain, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("repo: encoding config: %w", err)
	}
	hdr := configHeader(c.Version)
	return k.seal(hdr, plain, hdr)
}

func decodeConfig(k *keys, b []byte) (*Config, error) {
	v, err := readConfigVersion(b)
	if err != nil {
		return nil, err
	}
	plain, err := k.open(nil, b[configHdrSize:], b[:configHdrSize])
	if err != nil {
		return nil, corrupt(configName, err)
	}
	var c Config
	if err := json.Unmarshal(plain, &c); err != nil {
		return nil, corrupt(configName, err)
	}
	if c.Version != v {
		return nil, corruptf(configName, "encrypted version %d differs from header version %d", c.Version, v)
	}
	if err := c.validate(); err != nil {
		return nil, corrupt(configName, err)
	}
	return &c, nil
}

// readConfigRaw returns the config bytes, with ErrNotRepository when there
// are none, and refuses newer versions before any decryption.
func readConfigRaw(ctx context.Context, st store.Store) ([]byte, error) {
	b, err := readSmall(ctx, st, configName, maxConfigSize)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNotRepository
	}
	if err != nil {
		return nil, err
	}
	if _, err := readConfigVersion(b); err != nil {
		return nil, err
	}
	return b, nil
}

func putBytes(ctx context.Context, st store.Store, name string, b []byte) error {
	if err := st.Put(ctx, name, bytes.NewReader(b), int64(len(b))); err != nil {
		return fmt.Errorf("repo: writing %s: %w", name, err)
	}
	return nil
}
