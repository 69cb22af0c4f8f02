package store

import (
	"context"
	"errors"
	"io"
	"strings"
	"time"
)

var (
	// ErrRetained is returned (wrapped) when a version is still under its
	// retention (S3 Object Lock in compliance mode): it cannot be deleted
	// and its retention cannot be shortened, by anyone, until the date.
	ErrRetained = errors.New("store: object version is locked until its retention date")
	// ErrReadOnly is returned (wrapped) by the writing methods of a view
	// that only reads, such as AsOf.
	ErrReadOnly = errors.New("store: read-only view")
)

// Version is one version of an object, or a delete marker, in a
// versioned store.
type Version struct {
	Name      string
	VersionID string
	Size      int64
	// ModTime is when the version was written, on the destination's clock.
	ModTime time.Time
	// Latest is the current version of the name (what Get returns, unless
	// it is a delete marker).
	Latest bool
	// DeleteMarker versions hide a name without destroying what is under.
	DeleteMarker bool
	// RetainUntil is the version's lock date; zero means not locked.
	RetainUntil time.Time
}

// Versioned is a Store on a destination that keeps every version of every
// object (S3 with versioning, usually with Object Lock). Its Delete hides
// a name behind a delete marker; old versions stay readable by their IDs
// until DeleteVersion removes them, which a locked version refuses until
// its retention date. Repository code that needs these (lock maintenance,
// reading the repository as it was at a time) asks for this interface.
type Versioned interface {
	Store
	// ListVersions calls fn for every version and delete marker of the
	// names starting with prefix, in no particular order.
	ListVersions(ctx context.Context, prefix string, fn func(Version) error) error
	// GetVersion reads one version, as Get reads the current one.
	GetVersion(ctx context.Context, name, versionID string, offset, length int64) (io.ReadCloser, error)
	// DeleteVersion destroys one version (or delete marker). A version
	// under retention is refused with ErrRetained.
	DeleteVersion(ctx context.Context, name, versionID string) error
	// ExtendRetention locks a version until at least until (a later
	// existing date is kept: retention only ever grows).
	ExtendRetention(ctx context.Context, name, versionID string, until time.Time) error
	// Now returns the destination's clock. Lock dates are computed from
	// it, not from this computer's clock, which may be wrong.
	Now(ctx context.Context) (time.Time, error)
}

// LockPolicy is how a locking destination locks what is written to it:
// every new object is locked (compliance mode) until the destination's now
// + Period + Slack. Period is the promise (nobody can destroy anything for
// at least that long); Slack lets lock extensions be batched: maintenance
// extends a lock only once it is closer than Period to lapsing, to now +
// Period + Slack again.
type LockPolicy struct {
	Period, Slack time.Duration
}

// Until is the retain-until date of an object written (or extended) at now.
func (p LockPolicy) Until(now time.Time) time.Time { return now.Add(p.Period + p.Slack) }

// Locker is implemented by stores that lock what they write.
type Locker interface {
	// LockPolicy returns the store's policy; a zero Period means objects
	// are not locked.
	LockPolicy() LockPolicy
}

// Unlocked reports whether a locking store writes name without a lock:
// the repository's lock files (locks/…) are rewritten every few minutes and
// deleted after each run, and locking each of their versions for weeks
// would only cost storage. Everything else is locked.
func Unlocked(name string) bool { return strings.HasPrefix(name, "locks/") }

// ValidatePrefix checks a List prefix as every Store does, for stores
// outside this package.
func ValidatePrefix(prefix string) error { return validatePrefix(prefix) }
