package catalog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"strings"
	"time"

	"modernc.org/sqlite" // also registers the "sqlite" database/sql driver
	sqlite3 "modernc.org/sqlite/lib"
)

// Errors callers can test for with errors.Is.
var (
	// ErrCorrupt means the database file is damaged (or not SQLite at all).
	ErrCorrupt = errors.New("database file is corrupt")
	// ErrNotCatalog means the file is a SQLite database but not a Lifeboat catalog.
	ErrNotCatalog = errors.New("file is not a Lifeboat catalog")
	// ErrNewerSchema means the catalog was written by a newer Lifeboat.
	ErrNewerSchema = errors.New("catalog was made by a newer version of Lifeboat")
	// ErrSchemaMismatch means the catalog's tables differ from what its
	// schema version says they are (a tampered or foreign file).
	ErrSchemaMismatch = errors.New("catalog schema does not match its version")
	// ErrNotFound is returned when an account, snapshot, run or item does not exist.
	ErrNotFound = errors.New("not found")
	// ErrNoSnapshot is returned by AsOf when the stream has no complete snapshot at that time.
	ErrNoSnapshot = errors.New("no snapshot at that time")
	// ErrPendingSnapshot is returned by RecordSnapshot when the stream
	// already has an unfinished snapshot, which must be completed (resumed)
	// or discarded first.
	ErrPendingSnapshot = errors.New("stream has an unfinished snapshot")
	// ErrInvalid wraps invalid arguments.
	ErrInvalid = errors.New("invalid argument")
)

// applicationID marks a SQLite file as a Lifeboat catalog ("LBCT").
const applicationID = 0x4C424354

// DefaultMaxBodyText is how much of an item's body text is indexed when
// Options.MaxBodyText is zero.
const DefaultMaxBodyText = 64 << 10

// Page cache per connection: the writer's is larger because a backup's
// batches touch many index pages, but bounded: SQLite's memory is outside
// Go's heap limit and counts against a backup's memory budget.
const (
	writeCacheKB = 12 << 10
	readCacheKB  = 8 << 10
	// exportCacheKB is the page cache of the connection that makes the
	// catalog's copy (ExportTo).
	exportCacheKB = 2 << 10
)

// Options tunes Open.
type Options struct {
	// Check runs PRAGMA quick_check on open (IntegrityCheck the full
	// integrity_check and the full-text index check as well), and verifies
	// that the tables match the schema version.
	Check bool
	// IntegrityCheck runs the slower, complete checks on open; implies Check.
	IntegrityCheck bool
	// BusyTimeout is how long a connection waits for a lock held by another
	// process (default 10s).
	BusyTimeout time.Duration
	// ReadConns is the size of the read-only connection pool (default 4).
	ReadConns int
	// MaxBodyText caps the body text indexed per item, in bytes
	// (default DefaultMaxBodyText; text beyond it is not searchable).
	MaxBodyText int
	// Now returns the current time (default time.Now); tests set it.
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	if o.BusyTimeout <= 0 {
		o.BusyTimeout = 10 * time.Second
	}
	if o.ReadConns <= 0 {
		o.ReadConns = min(4, max(2, runtime.GOMAXPROCS(0)))
	}
	if o.MaxBodyText <= 0 {
		o.MaxBodyText = DefaultMaxBodyText
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.IntegrityCheck {
		o.Check = true
	}
	return o
}

// Catalog is an open catalog database. It is safe for concurrent use.
type Catalog struct {
	path string
	opts Options
	w    *sql.DB // one connection: all writes
	r    *sql.DB // read-only connections
}

// dsn builds the driver's data source name for path: a read-only or a
// writing connection with a page cache of cacheKB.
func dsn(path string, busy time.Duration, readOnly bool, cacheKB int) (string, error) {
	if path == "" || strings.ContainsAny(path, "?\x00") || strings.HasPrefix(path, "file:") {
		return "", fmt.Errorf("%w: unsupported catalog path %q", ErrInvalid, path)
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busy.Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "trusted_schema(0)")
	q.Add("_pragma", "cell_size_check(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", fmt.Sprintf("cache_size(%d)", -cacheKB))
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Set("_txlock", "immediate")
	}
	return path + "?" + q.Encode(), nil
}

// Open opens the catalog at path, creating it if it does not exist, and
// brings its schema up to date. A catalog made by a newer Lifeboat is
// refused with ErrNewerSchema; a damaged file gives ErrCorrupt.
func Open(ctx context.Context, path string, opts Options) (*Catalog, error) {
	return open(ctx, path, opts, migrations)
}

func open(ctx context.Context, path string, opts Options, migs []migration) (_ *Catalog, err error) {
	opts = opts.withDefaults()
	wdsn, err := dsn(path, opts.BusyTimeout, false, writeCacheKB)
	if err != nil {
		return nil, err
	}
	rdsn, _ := dsn(path, opts.BusyTimeout, true, readCacheKB)
	c := &Catalog{path: path, opts: opts}
	defer func() {
		if err != nil {
			c.Close()
		}
	}()
	if c.w, err = sql.Open("sqlite", wdsn); err != nil {
		return nil, fmt.Errorf("catalog: opening %s: %w", path, err)
	}
	c.w.SetMaxOpenConns(1)
	c.w.SetMaxIdleConns(1)
	c.w.SetConnMaxLifetime(0)
	c.w.SetConnMaxIdleTime(0)
	if err := c.w.PingContext(ctx); err != nil {
		return nil, fmt.Errorf("catalog: opening %s: %w", path, classify(err))
	}
	if opts.Check {
		// Everything about a file that may be hostile is verified before
		// anything in it is used or changed.
		if err := checkDB(ctx, c.w, opts.IntegrityCheck, false); err != nil {
			return nil, fmt.Errorf("catalog: %s: %w", path, err)
		}
		v, err := schemaVersion(ctx, c.w, migs)
		if err != nil {
			return nil, fmt.Errorf("catalog: %s: %w", path, err)
		}
		if v > 0 {
			if err := verifySchema(ctx, c.w, migsUpTo(migs, v)); err != nil {
				return nil, fmt.Errorf("catalog: %s: %w", path, err)
			}
			if opts.IntegrityCheck {
				if err := checkFTS(ctx, c.w); err != nil {
					return nil, fmt.Errorf("catalog: %s: %w", path, err)
				}
			}
		}
	}
	// WAL must be set outside a transaction; it persists in the file.
	var mode string
	if err := c.w.QueryRowContext(ctx, "PRAGMA journal_mode=WAL").Scan(&mode); err != nil {
		return nil, fmt.Errorf("catalog: opening %s: setting WAL mode: %w", path, classify(err))
	}
	if !strings.EqualFold(mode, "wal") {
		return nil, fmt.Errorf("catalog: opening %s: journal mode is %q, want wal", path, mode)
	}
	if err := migrate(ctx, c.w, migs); err != nil {
		return nil, fmt.Errorf("catalog: %s: %w", path, err)
	}
	if opts.Check {
		if err := verifySchema(ctx, c.w, migs); err != nil {
			return nil, fmt.Errorf("catalog: %s: %w", path, err)
		}
	}
	if c.r, err = sql.Open("sqlite", rdsn); err != nil {
		return nil, fmt.Errorf("catalog: opening %s: %w", path, err)
	}
	c.r.SetMaxOpenConns(opts.ReadConns)
	c.r.SetMaxIdleConns(opts.ReadConns)
	if err := c.r.PingContext(ctx); err != nil {
		return nil, fmt.Errorf("catalog: opening %s read-only: %w", path, classify(err))
	}
	return c, nil
}

// Path returns the file the catalog was opened from.
func (c *Catalog) Path() string { return c.path }

// Close closes the database. Outstanding batches must be finished first.
func (c *Catalog) Close() error {
	var errs []error
	if c.r != nil {
		errs = append(errs, c.r.Close())
	}
	if c.w != nil {
		// Fold the WAL back into the main file so the catalog is one file at rest.
		_, _ = c.w.Exec("PRAGMA wal_checkpoint(TRUNCATE)")
		errs = append(errs, c.w.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("catalog: closing %s: %w", c.path, err)
	}
	return nil
}

// classify maps SQLite's "not a database"/"malformed" errors to ErrCorrupt.
func classify(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, ErrCorrupt) {
		return err
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff { // primary result code
		case sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB:
			return fmt.Errorf("%w: %v", ErrCorrupt, err)
		}
	}
	return err
}

// checkDB runs quick_check (or integrity_check when full) and reports
// the first problems as ErrCorrupt.
func checkDB(ctx context.Context, db *sql.DB, full, fts bool) error {
	pragma := "PRAGMA quick_check(20)"
	if full {
		pragma = "PRAGMA integrity_check(20)"
	}
	rows, err := db.QueryContext(ctx, pragma)
	if err != nil {
		return fmt.Errorf("checking integrity: %w", classify(err))
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return fmt.Errorf("checking integrity: %w", classify(err))
		}
		if s != "ok" {
			problems = append(problems, s)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("checking integrity: %w", classify(err))
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: %s", ErrCorrupt, strings.Join(problems, "; "))
	}
	if fts {
		return checkFTS(ctx, db)
	}
	return nil
}

// checkFTS runs FTS5's own integrity check of the search index.
func checkFTS(ctx context.Context, db *sql.DB) error {
	if _, err := db.ExecContext(ctx, "INSERT INTO search(search) VALUES('integrity-check')"); err != nil {
		return fmt.Errorf("%w: search index: %v", ErrCorrupt, err)
	}
	return nil
}

// Check runs the complete integrity checks (database pages and the search
// index) and returns ErrCorrupt describing the first problems found.
func (c *Catalog) Check(ctx context.Context) error {
	if err := checkDB(ctx, c.w, true, true); err != nil {
		return fmt.Errorf("catalog: %s: %w", c.path, err)
	}
	return nil
}

// writeTx runs fn in one write transaction.
func (c *Catalog) writeTx(ctx context.Context, what string, fn func(tx *sql.Tx) error) error {
	tx, err := c.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("catalog: %s: %w", what, classify(err))
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return fmt.Errorf("catalog: %s: %w", what, classify(err))
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("catalog: %s: committing: %w", what, classify(err))
	}
	return nil
}

// readTx runs fn in one read-only transaction, so it sees one consistent state.
func (c *Catalog) readTx(ctx context.Context, what string, fn func(tx *sql.Tx) error) error {
	tx, err := c.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("catalog: %s: %w", what, classify(err))
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return fmt.Errorf("catalog: %s: %w", what, classify(err))
	}
	return nil
}

// ms converts t to Unix milliseconds (0 for the zero time).
func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// fromMS converts Unix milliseconds back (the zero time for 0).
func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}
