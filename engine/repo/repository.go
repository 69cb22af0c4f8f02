package repo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/store"
)

// Options tune a Repository. The zero value gives production defaults.
type Options struct {
	// KDF is used for new recovery-key slots (Init, AddRecoveryKey).
	// Zero means DefaultKDF(); tests pass cheaper values.
	KDF KDFParams
	// PackSize is the target pack size: a pack is closed once it holds at
	// least this many bytes. Zero means DefaultPackSize (16 MiB).
	PackSize int
	// CheckpointInterval is how often, while saving, the packs written so
	// far are committed to an index file so an interrupted run keeps them.
	// Zero means 5 minutes; negative means after every pack.
	CheckpointInterval time.Duration
	// Logger receives progress and warnings; nil means slog.Default().
	Logger *slog.Logger
	// Hostname is recorded in locks and snapshots; empty means os.Hostname().
	Hostname string
	// HostID is a stable identity of this computer (the app keeps a random
	// one in its config folder), recorded in locks: with it, two computers
	// with the same name (cloned PCs, default names) are told apart, so one
	// never judges the other's lock by a process ID that means nothing
	// here. Empty: the host name alone identifies the computer.
	HostID string
	// LockStaleAfter is how long an unrefreshed lock is respected. Zero
	// means 30 minutes.
	LockStaleAfter time.Duration
	// LockRefreshInterval is how often a held lock is refreshed. Zero means
	// 5 minutes.
	LockRefreshInterval time.Duration
	// Now returns the current time; nil means time.Now. For tests.
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	if o.KDF == (KDFParams{}) {
		o.KDF = DefaultKDF()
	}
	if o.PackSize <= 0 {
		o.PackSize = DefaultPackSize
	}
	o.PackSize = max(o.PackSize, minPackSizeSetting)
	o.PackSize = min(o.PackSize, MaxPackSize/2)
	if o.CheckpointInterval == 0 {
		o.CheckpointInterval = 5 * time.Minute
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Hostname == "" {
		o.Hostname, _ = os.Hostname()
	}
	if o.LockStaleAfter <= 0 {
		o.LockStaleAfter = 30 * time.Minute
	}
	if o.LockRefreshInterval <= 0 {
		o.LockRefreshInterval = 5 * time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Repository is an open, unlocked repository. It is safe for concurrent
// use: SaveBlob may be called from many goroutines.
type Repository struct {
	st     store.Store
	opts   Options
	log    *slog.Logger
	master []byte
	keys   *keys
	cfg    *Config
	codec  *codec

	// chunkBufs recycles chunk buffers of the chunker's maximum size across
	// SaveStream calls: growing a fresh buffer for every file and chunk was
	// a fifth of ingest time.
	chunkBufs sync.Pool

	// uploadMu serializes pack uploads and index writes, so an index file
	// never lists a pack that is not completely stored.
	uploadMu sync.Mutex

	mu        sync.Mutex
	cond      *sync.Cond // signalled when uploading drops
	idx       *Index
	badIndex  map[string]error
	pending   map[ID]struct{} // saved this session, not yet in idx
	open      *packWriter
	uploading int         // closed packs not yet added to idx
	unindexed []indexPack // stored packs not yet in an index file
	lastCkpt  time.Time
	err       error // sticky: a pack upload failed, so writes must stop

	stats struct {
		blobsNew, blobsDup, rawBytes, storedBytes, packs atomic.Int64
	}

	// clock knows the destination's clock and the locks held (lockclock.go).
	clock lockClock
}

// Stats counts what this Repository value has written.
type Stats struct {
	NewBlobs, DuplicateBlobs int64
	RawBytes, StoredBytes    int64 // of new blobs: plaintext and as stored
	Packs                    int64
}

// Init creates a repository in st and returns it with its recovery key,
// which is shown to the user once and never stored.
func Init(ctx context.Context, st store.Store, opts Options) (*Repository, RecoveryKey, error) {
	opts = opts.withDefaults()
	if _, err := st.Stat(ctx, configName); err == nil {
		return nil, RecoveryKey{}, ErrAlreadyExists
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, RecoveryKey{}, fmt.Errorf("repo: checking for an existing backup: %w", err)
	}
	if err := opts.KDF.validate(); err != nil {
		return nil, RecoveryKey{}, fmt.Errorf("repo: %w", err)
	}
	master, err := newMasterKey()
	if err != nil {
		return nil, RecoveryKey{}, err
	}
	k, err := deriveKeys(master)
	if err != nil {
		return nil, RecoveryKey{}, err
	}
	cfg, err := newConfig(opts.Now())
	if err != nil {
		return nil, RecoveryKey{}, err
	}
	rk, err := generateRecoveryKey()
	if err != nil {
		return nil, RecoveryKey{}, err
	}
	// README first and config last: the config's presence is what makes
	// the folder a repository, so a crash before it leaves nothing usable
	// that could be mistaken for a backup.
	if err := putBytes(ctx, st, readmeName, []byte(readmeText)); err != nil {
		return nil, RecoveryKey{}, err
	}
	kf, err := newRecoveryKeyFile(rk, master, opts.KDF, opts.Now())
	if err != nil {
		return nil, RecoveryKey{}, err
	}
	if _, err := writeKeyFile(ctx, st, "", kf); err != nil {
		return nil, RecoveryKey{}, err
	}
	cb, err := encodeConfig(k, cfg)
	if err != nil {
		return nil, RecoveryKey{}, err
	}
	if err := putBytes(ctx, st, configName, cb); err != nil {
		return nil, RecoveryKey{}, err
	}
	r, err := newRepository(ctx, st, opts, master, k, cfg)
	if err != nil {
		return nil, RecoveryKey{}, err
	}
	r.log.Info("repository created", "id", cfg.ID.Short())
	return r, rk, nil
}

// Open unlocks the repository in st with a recovery key as typed by a
// person. Errors: ErrNotRepository, *VersionError (ErrNewerVersion),
// *RecoveryKeyError (ErrInvalidRecoveryKey), ErrWrongKey.
func Open(ctx context.Context, st store.Store, recoveryKey string, opts Options) (*Repository, error) {
	raw, err := readConfigRaw(ctx, st)
	if err != nil {
		return nil, err
	}
	rk, err := ParseRecoveryKey(recoveryKey)
	if err != nil {
		return nil, err
	}
	files, bad, err := listKeyFiles(ctx, st)
	if err != nil {
		return nil, err
	}
	master, err := unlockWithRecoveryKey(files, rk)
	if err != nil {
		return nil, withBadKeys(err, bad)
	}
	return openWithMaster(ctx, st, opts, raw, master)
}

// OpenWithKeyStore unlocks the repository with a key slot whose key is in
// ks (the OS keychain for unattended runs). Errors as Open, plus
// ErrNoKeychainKey.
func OpenWithKeyStore(ctx context.Context, st store.Store, ks KeyStore, opts Options) (*Repository, error) {
	raw, err := readConfigRaw(ctx, st)
	if err != nil {
		return nil, err
	}
	files, bad, err := listKeyFiles(ctx, st)
	if err != nil {
		return nil, err
	}
	master, err := unlockWithKeyStore(files, ks)
	if err != nil {
		return nil, withBadKeys(err, bad)
	}
	return openWithMaster(ctx, st, opts, raw, master)
}

// withBadKeys mentions damaged or newer key files, which may be the reason
// no slot opened.
func withBadKeys(err error, bad map[string]error) error {
	for id, e := range bad {
		return fmt.Errorf("%w (also, key file %s could not be read: %v)", err, truncate(id, 12), e)
	}
	return err
}

func openWithMaster(ctx context.Context, st store.Store, opts Options, rawConfig, master []byte) (*Repository, error) {
	opts = opts.withDefaults()
	k, err := deriveKeys(master)
	if err != nil {
		return nil, err
	}
	cfg, err := decodeConfig(k, rawConfig)
	if err != nil {
		return nil, err
	}
	return newRepository(ctx, st, opts, master, k, cfg)
}

func newRepository(ctx context.Context, st store.Store, opts Options, master []byte, k *keys, cfg *Config) (*Repository, error) {
	c, err := newCodec()
	if err != nil {
		return nil, err
	}
	r := &Repository{
		st: st, opts: opts, log: opts.Logger, master: master, keys: k, cfg: cfg, codec: c,
		pending: map[ID]struct{}{}, lastCkpt: opts.Now(),
	}
	r.open = r.newPack()
	r.cond = sync.NewCond(&r.mu)
	idx, _, bad, err := loadIndex(ctx, st, k)
	if err != nil {
		c.close()
		return nil, err
	}
	for name, e := range bad {
		r.log.Warn("damaged index file skipped; run verify and repair", "file", name, "err", e)
	}
	r.idx, r.badIndex = idx, bad
	return r, nil
}

// Close releases resources. It does not flush: blobs saved since the last
// Flush are not committed, exactly as if the process had stopped.
func (r *Repository) Close() error {
	r.mu.Lock()
	if r.err == nil {
		r.err = ErrClosed
	}
	r.mu.Unlock()
	r.codec.close()
	return nil
}

// Config returns the repository's configuration.
func (r *Repository) Config() Config { return *r.cfg }

// Store returns the underlying store.
func (r *Repository) Store() store.Store { return r.st }

// Stats returns what this Repository value has written so far.
func (r *Repository) Stats() Stats {
	return Stats{
		NewBlobs: r.stats.blobsNew.Load(), DuplicateBlobs: r.stats.blobsDup.Load(),
		RawBytes: r.stats.rawBytes.Load(), StoredBytes: r.stats.storedBytes.Load(),
		Packs: r.stats.packs.Load(),
	}
}

// HasBlob reports whether a blob is stored (or saved in this session).
func (r *Repository) HasBlob(id ID) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, p := r.pending[id]
	return p || r.idx.Has(id)
}

// LookupBlob returns where an indexed blob is stored.
func (r *Repository) LookupBlob(id ID) (BlobLocation, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.idx.Lookup(id)
}

// BlobID returns the ID data would have as a blob of type t.
func (r *Repository) BlobID(t BlobType, data []byte) ID { return r.keys.blobID(t, data) }
