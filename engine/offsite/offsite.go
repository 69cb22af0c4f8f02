package offsite

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/backup"
	"github.com/lifeboat-backup/lifeboat/engine/repo"
	"github.com/lifeboat-backup/lifeboat/engine/store"
)

// DefaultLockPeriod is the retention period a new off-site copy is locked
// for; DefaultSlack the batching slack for lock extensions.
const (
	DefaultLockPeriod = 30 * 24 * time.Hour
	DefaultSlack      = 10 * 24 * time.Hour
)

// LockPolicy returns the store lock policy for a period chosen at setup
// (zero: DefaultLockPeriod), with a slack of a third of it.
func LockPolicy(period time.Duration) store.LockPolicy {
	if period <= 0 {
		period = DefaultLockPeriod
	}
	return store.LockPolicy{Period: period, Slack: period / 3}
}

// Status is what the dashboard shows about the copy.
type Status struct {
	// Finished is when the last copy completed; Newest the time of the
	// newest snapshot the copy holds (the "off site: today 21:04").
	Finished, Newest time.Time
	// Snapshots copied in this run; Bytes sent; Verified blobs read back.
	Snapshots, Verified int
	Bytes               int64
}

// Options control Copy.
type Options struct {
	// Repo are the repository options for the copy (logger, pack size).
	Repo repo.Options
	// Since: see repo.CopyOptions.Since. Zero means the time of the
	// copy's oldest snapshot (everything on the first copy).
	Since time.Time
	// Now; nil means time.Now.
	Now func() time.Time
}

// Copy brings the copy in dst up to date with primary, creating it on the
// first run. Interrupted at any point, both repositories stay valid and
// the next Copy carries on.
func Copy(ctx context.Context, primary *repo.Repository, dst store.Store, opts Options) (Status, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	c, err := repo.OpenCopy(ctx, dst, primary, opts.Repo)
	if errors.Is(err, repo.ErrNotRepository) {
		c, err = repo.InitCopy(ctx, dst, primary, opts.Repo)
	}
	if err != nil {
		return Status{}, fmt.Errorf("offsite: %w", err)
	}
	defer c.Close()
	since := opts.Since
	if since.IsZero() {
		// What the copy's own retention forgot must not come back: nothing
		// older than its oldest snapshot is sent (FORMAT.md §12).
		have, err := c.ListSnapshots(ctx)
		if err != nil {
			return Status{}, fmt.Errorf("offsite: %w", err)
		}
		for _, s := range have {
			if since.IsZero() || s.Time.Before(since) {
				since = s.Time
			}
		}
	}
	rep, err := primary.CopyTo(ctx, c, repo.CopyOptions{Refs: backup.Refs, Since: since})
	if err != nil {
		return Status{}, fmt.Errorf("offsite: copying the backup: %w", err)
	}
	return Status{Finished: opts.Now(), Newest: rep.Newest, Snapshots: rep.Snapshots, Verified: rep.Verified, Bytes: rep.Bytes}, nil
}

// ErrPruneHeld is returned by Maintain while the alarm holds pruning.
var ErrPruneHeld = errors.New("offsite: pruning is held until the owner has looked at the alarm")

// MaintainOptions control Maintain.
type MaintainOptions struct {
	// Policy is the retention; under a lock it is widened to keep every
	// snapshot of the lock period (repo.LockedPolicy).
	Policy repo.Policy
	// Held, when it returns an error, stops before anything is forgotten
	// (the mass-deletion alarm: engine/alarm).
	Held func() error
	// Now is the time retention is planned at; nil: the destination's.
	Now func() time.Time
}

// MaintainReport says what Maintain did.
type MaintainReport struct {
	Prune *repo.PruneReport
	Locks *repo.LockReport
}

// Maintain is the scheduled upkeep of a destination: retention and prune
// (which on a locked bucket only hides what is no longer needed), then,
// on a locked destination, lock maintenance (extend what is still needed,
// remove what lapsed). It refuses to forget anything while Held says so,
// but still extends locks then: an alarm must not let the copy's locks
// lapse.
func Maintain(ctx context.Context, r *repo.Repository, opts MaintainOptions) (*MaintainReport, error) {
	rep := &MaintainReport{}
	lk, locked := r.Store().(store.Locker)
	locked = locked && lk.LockPolicy().Period > 0
	var heldErr error
	if opts.Held != nil {
		heldErr = opts.Held()
	}
	if heldErr == nil {
		policy := opts.Policy
		if locked {
			policy = repo.LockedPolicy(policy, lk.LockPolicy().Period)
		}
		now := time.Now()
		if opts.Now != nil {
			now = opts.Now()
		} else if v, ok := r.Store().(store.Versioned); ok {
			if t, err := v.Now(ctx); err == nil {
				now = t
			}
		}
		snaps, err := r.ListSnapshots(ctx)
		if err != nil {
			return rep, err
		}
		_, forget, _ := repo.Plan(repo.SnapshotInfos(snaps), now, policy)
		if rep.Prune, err = r.Prune(ctx, repo.PruneOptions{Forget: forget, Refs: backup.Refs}); err != nil {
			return rep, fmt.Errorf("offsite: %w", err)
		}
	}
	if locked {
		lr, err := r.MaintainLocks(ctx, repo.LockOptions{Refs: backup.Refs})
		rep.Locks = lr
		if err != nil {
			return rep, fmt.Errorf("offsite: %w", err)
		}
	}
	if heldErr != nil {
		return rep, fmt.Errorf("%w: %v", ErrPruneHeld, heldErr)
	}
	return rep, nil
}

// OpenAsOf opens, read-only, the repository in v as it was at t (on the
// destination's clock): what an attacker deleted or overwrote after t is
// back. Restores read from it as from any repository.
func OpenAsOf(ctx context.Context, v store.Versioned, t time.Time, recoveryKey string, opts repo.Options) (*repo.Repository, error) {
	view, err := store.AsOf(ctx, v, t)
	if err != nil {
		return nil, fmt.Errorf("offsite: %w", err)
	}
	r, err := repo.Open(ctx, view, recoveryKey, opts)
	if err != nil {
		return nil, fmt.Errorf("offsite: the backup as it was at %s: %w", t.Local().Format("2006-01-02 15:04"), err)
	}
	return r, nil
}
