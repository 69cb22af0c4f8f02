package s3store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/lifeboat-backup/lifeboat/engine/store"
)

// ListVersions implements store.Versioned. Lock dates are not part of S3's
// version listing; each version's is read with GetObjectRetention, so
// this costs one request per version: lock maintenance asks only for the
// names it needs.
func (s *Store) ListVersions(ctx context.Context, prefix string, fn func(store.Version) error) error {
	if err := store.ValidatePrefix(prefix); err != nil {
		return fmt.Errorf("store: list versions: %w", err)
	}
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for oi := range s.c.ListObjects(lctx, s.bucket, minio.ListObjectsOptions{Prefix: s.key(prefix), Recursive: true, WithVersions: true}) {
		if oi.Err != nil {
			return fmt.Errorf("store: list versions %q: %w", prefix, s.mapErr(oi.Err))
		}
		name, ok := s.name(oi.Key)
		if !ok {
			continue
		}
		v := store.Version{Name: name, VersionID: oi.VersionID, Size: oi.Size, ModTime: oi.LastModified,
			Latest: oi.IsLatest, DeleteMarker: oi.IsDeleteMarker}
		if s.quirks.ulidVersionTimes {
			if t, ok := ulidTime(oi.VersionID); ok {
				v.ModTime = t
			}
		}
		if !v.DeleteMarker && s.opts.Lock.Period > 0 {
			until, err := s.retention(ctx, name, v.VersionID)
			if err != nil {
				return fmt.Errorf("store: list versions %q: %w", prefix, err)
			}
			v.RetainUntil = until
		}
		if err := fn(v); err != nil {
			return fmt.Errorf("store: list versions %q: %w", prefix, err)
		}
	}
	return ctx.Err()
}

// retention returns a version's lock date, zero when it has none. It is
// read from a HEAD of the version (x-amz-object-lock-retain-until-date)
// rather than GetObjectRetention, whose answer some servers get wrong
// (versitygw names its root element ObjectLockRetention, not Retention).
func (s *Store) retention(ctx context.Context, name, versionID string) (time.Time, error) {
	oi, err := s.c.StatObject(ctx, s.bucket, s.key(name), minio.StatObjectOptions{VersionID: versionID})
	if err != nil {
		return time.Time{}, fmt.Errorf("reading the lock of %s: %w", name, s.mapErr(err))
	}
	h := oi.Metadata.Get("X-Amz-Object-Lock-Retain-Until-Date")
	if h == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, h)
	if err != nil {
		return time.Time{}, fmt.Errorf("reading the lock of %s: the server sent the date %q: %w", name, h, err)
	}
	return t, nil
}

// GetVersion implements store.Versioned.
func (s *Store) GetVersion(ctx context.Context, name, versionID string, offset, length int64) (io.ReadCloser, error) {
	if versionID == "" {
		return nil, fmt.Errorf("store: get %s: no version given: %w", name, store.ErrNotFound)
	}
	return s.get(ctx, name, versionID, offset, length)
}

// DeleteVersion implements store.Versioned. A version whose lock has not
// lapsed is never sent a delete: the lock date is read first, so a server
// that would allow it (or a misconfigured bucket) cannot destroy it.
func (s *Store) DeleteVersion(ctx context.Context, name, versionID string) error {
	if err := store.ValidateName(name); err != nil {
		return fmt.Errorf("store: delete version: %w", err)
	}
	if versionID == "" {
		return fmt.Errorf("store: delete %s: no version given", name)
	}
	if s.opts.Lock.Period > 0 {
		oi, err := s.c.StatObject(ctx, s.bucket, s.key(name), minio.StatObjectOptions{VersionID: versionID})
		isMarker := err != nil && oi.IsDeleteMarker
		if err != nil && !isMarker && minio.ToErrorResponse(err).StatusCode != http.StatusMethodNotAllowed {
			return fmt.Errorf("store: delete %s version %s: %w", name, versionID, s.mapErr(err))
		}
		if err == nil && !oi.IsDeleteMarker {
			until, err := s.retention(ctx, name, versionID)
			if err != nil {
				return fmt.Errorf("store: delete %s version %s: %w", name, versionID, err)
			}
			now, err := s.Now(ctx)
			if err != nil {
				return err
			}
			if until.After(now) {
				return fmt.Errorf("store: delete %s version %s: %w (until %s)", name, versionID, store.ErrRetained, until.Format(time.RFC3339))
			}
		}
	}
	if err := s.c.RemoveObject(ctx, s.bucket, s.key(name), minio.RemoveObjectOptions{VersionID: versionID}); err != nil {
		return fmt.Errorf("store: delete %s version %s: %w", name, versionID, s.mapErr(err))
	}
	return nil
}

// ExtendRetention implements store.Versioned. It reads the current date
// first and only ever moves it later: some S3-compatible servers (versitygw
// among them) let a COMPLIANCE lock be shortened, which S3 forbids.
func (s *Store) ExtendRetention(ctx context.Context, name, versionID string, until time.Time) error {
	if err := store.ValidateName(name); err != nil {
		return fmt.Errorf("store: extend lock: %w", err)
	}
	cur, err := s.retention(ctx, name, versionID)
	if err != nil {
		return fmt.Errorf("store: extend lock of %s: %w", name, err)
	}
	until = until.Add(time.Second - 1).Truncate(time.Second).UTC()
	if !until.After(cur) {
		return nil
	}
	mode := minio.Compliance
	if err := s.c.PutObjectRetention(ctx, s.bucket, s.key(name), minio.PutObjectRetentionOptions{
		Mode: &mode, RetainUntilDate: &until, VersionID: versionID,
	}); err != nil {
		return fmt.Errorf("store: extend lock of %s to %s: %w", name, until.Format(time.RFC3339), s.mapErr(err))
	}
	return nil
}

// Now implements store.Versioned: this computer's clock corrected by the
// offset to the server's, measured from the Date header of its answers
// (refreshed with a cheap request when none was seen for 10 minutes).
func (s *Store) Now(ctx context.Context) (time.Time, error) {
	if off, ok := s.clock.offset(10 * time.Minute); ok {
		return time.Now().Add(off), nil
	}
	if _, err := s.c.BucketExists(ctx, s.bucket); err != nil {
		return time.Time{}, fmt.Errorf("s3store: asking the server for the time: %w", s.mapErr(err))
	}
	off, ok := s.clock.offset(10 * time.Minute)
	if !ok {
		return time.Time{}, errors.New("s3store: the server sends no Date header, so lock dates cannot be set from its clock")
	}
	return time.Now().Add(off), nil
}

// ClockOffset returns how far the server's clock is ahead of this
// computer's (negative: behind), as last measured.
func (s *Store) ClockOffset() (time.Duration, bool) { return s.clock.offset(24 * time.Hour) }

// serverClock measures the server's clock from the Date header of its
// answers. Date has one-second precision (it is truncated), so half a
// second is added and the offset is taken against the middle of the
// request's round trip: the estimate is within about half a second.
type serverClock struct {
	mu   sync.Mutex
	off  time.Duration
	seen time.Time
}

func (c *serverClock) offset(maxAge time.Duration) (time.Duration, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seen.IsZero() || time.Since(c.seen) > maxAge {
		return 0, false
	}
	return c.off, true
}

func (c *serverClock) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		start := time.Now()
		resp, err := rt.RoundTrip(req)
		if err != nil {
			return resp, err
		}
		end := time.Now()
		if d, perr := http.ParseTime(resp.Header.Get("Date")); perr == nil {
			mid := start.Add(end.Sub(start) / 2)
			c.mu.Lock()
			c.off, c.seen = d.Add(500*time.Millisecond).Sub(mid), end
			c.mu.Unlock()
		}
		return resp, nil
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
