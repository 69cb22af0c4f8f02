package repo

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/store"
)

// ErrNotLocking is returned by MaintainLocks for a store that does not
// keep versions under a lock.
var ErrNotLocking = errors.New("repo: this backup destination does not lock what it stores")

// LockOptions control MaintainLocks.
type LockOptions struct {
	// Refs is what tree blobs reference, as for Prune: with it only the
	// packs that snapshots reach keep their locks extended; without it,
	// every indexed pack does.
	Refs func(tree []byte) ([]ID, error)
	// DryRun reports what would change and changes nothing.
	DryRun bool
}

// LockReport says what MaintainLocks did.
type LockReport struct {
	// Now is the destination's clock when maintenance ran; Horizon the date
	// every referenced object is now locked until at least.
	Now, Horizon time.Time
	// Referenced objects (names), Versions seen, Extended locks.
	Referenced, Versions, Extended int
	// Removed versions whose lock had lapsed and that nothing needs: old
	// versions of lock files, versions hidden by prune. RemoveRefused of
	// them could not be removed because the keys may not destroy versions
	// (the safer setup: a lifecycle rule on the bucket removes them).
	Removed, RemoveRefused int
	// Damaged names referenced objects whose current version is missing
	// or a delete marker: something (someone) deleted what snapshots need.
	// Their old versions keep being locked; a restore as of an earlier time
	// reads them.
	Damaged []string
}

// MaintainLocks keeps the repository's Object Lock promise on a versioned,
// locking store (store.Versioned and store.Locker with a Period): every
// version of every object that the remaining snapshots still reference —
// config, keys, snapshots, index files and the packs their data is in —
// is locked until at least the destination's now + Period, so no lock of
// anything still needed lapses as long as maintenance runs more often than
// Period. A lock is only extended (to now + Period + Slack) once it is
// closer than Period to lapsing, so one extension covers Slack's worth of
// runs. Versions nothing needs whose lock has lapsed — old versions of
// lock files, what prune hid behind delete markers — are removed; a
// locked version is never sent a delete.
//
// It never deletes a current version and needs no exclusive lock: a
// backup running meanwhile only adds current versions.
func (r *Repository) MaintainLocks(ctx context.Context, opts LockOptions) (*LockReport, error) {
	v, ok := r.st.(store.Versioned)
	lk, ok2 := r.st.(store.Locker)
	if !ok || !ok2 || lk.LockPolicy().Period <= 0 {
		return nil, ErrNotLocking
	}
	policy := lk.LockPolicy()
	now, err := v.Now(ctx)
	if err != nil {
		return nil, fmt.Errorf("repo: lock maintenance: %w", err)
	}
	rep := &LockReport{Now: now, Horizon: now.Add(policy.Period)}

	refd, err := r.referencedNames(ctx, opts.Refs)
	if err != nil {
		return rep, err
	}
	rep.Referenced = len(refd)

	byName := map[string][]store.Version{}
	if err := v.ListVersions(ctx, "", func(ver store.Version) error {
		byName[ver.Name] = append(byName[ver.Name], ver)
		return nil
	}); err != nil {
		return rep, fmt.Errorf("repo: lock maintenance: %w", err)
	}
	until := policy.Until(now)
	var firstRefusal error
	for name, vers := range byName {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		if !isRepoName(name) {
			continue // not the repository's: another program's, or a bucket check's
		}
		rep.Versions += len(vers)
		if refd[name] {
			live := false
			for _, ver := range vers {
				if ver.Latest && !ver.DeleteMarker {
					live = true
				}
				// Every version, not only the current one: if the current
				// one is an attacker's overwrite, the real one under it
				// must stay locked too.
				if ver.DeleteMarker || !ver.RetainUntil.Before(rep.Horizon) {
					continue
				}
				rep.Extended++
				if opts.DryRun {
					continue
				}
				if err := v.ExtendRetention(ctx, name, ver.VersionID, until); err != nil {
					return rep, fmt.Errorf("repo: lock maintenance: %w", err)
				}
			}
			if !live {
				rep.Damaged = append(rep.Damaged, name)
			}
			continue
		}
		remaining := 0
		var markers []store.Version
		for _, ver := range vers {
			switch {
			case ver.Latest && !ver.DeleteMarker:
				remaining++ // current: prune decides, never this
			case ver.DeleteMarker:
				markers = append(markers, ver)
			case ver.RetainUntil.After(now):
				remaining++
			default:
				removed, err := r.removeVersion(ctx, v, ver, opts.DryRun, rep)
				if err != nil {
					return rep, err
				}
				if !removed {
					remaining++
					if firstRefusal == nil {
						firstRefusal = fmt.Errorf("%s", ver.Name)
					}
				}
			}
		}
		// A delete marker with nothing left under it hides nothing.
		if remaining == 0 {
			for _, m := range markers {
				if _, err := r.removeVersion(ctx, v, m, opts.DryRun, rep); err != nil {
					return rep, err
				}
			}
		}
	}
	for _, name := range rep.Damaged {
		r.log.Error("an object the backup needs is deleted or hidden; its earlier versions stay locked", "object", name)
	}
	if firstRefusal != nil {
		r.log.Warn("expired versions left for the bucket's lifecycle rule: these keys may not destroy versions", "count", rep.RemoveRefused, "first", firstRefusal)
	}
	r.log.Info("lock maintenance finished", "referenced", rep.Referenced, "extended", rep.Extended, "removed", rep.Removed)
	return rep, nil
}

// removeVersion destroys one version whose lock lapsed. A refusal for
// lack of permission is counted, not an error.
func (r *Repository) removeVersion(ctx context.Context, v store.Versioned, ver store.Version, dry bool, rep *LockReport) (bool, error) {
	if dry {
		rep.Removed++
		return true, nil
	}
	err := v.DeleteVersion(ctx, ver.Name, ver.VersionID)
	switch {
	case err == nil || errors.Is(err, store.ErrNotFound):
		rep.Removed++
		return true, nil
	case errors.Is(err, store.ErrRetained):
		return false, nil // locked again meanwhile (or clocks disagree)
	case isPermission(err):
		rep.RemoveRefused++
		return false, nil
	}
	return false, fmt.Errorf("repo: lock maintenance: %w", err)
}

func isPermission(err error) bool {
	s := strings.ToLower(err.Error())
	return strings.Contains(s, "access denied") || strings.Contains(s, "accessdenied") || strings.Contains(s, "forbidden")
}

// referencedNames returns the store names the remaining snapshots need:
// the config, README, key slots, the snapshots themselves, every index
// file, and the packs holding the blobs they reach (every indexed pack
// when refs is nil).
func (r *Repository) referencedNames(ctx context.Context, refs func([]byte) ([]ID, error)) (map[string]bool, error) {
	names := map[string]bool{configName: true, readmeName: true}
	for _, dir := range []string{keysDir, snapshotDir, indexDir} {
		if err := r.st.List(ctx, dir, func(fi store.Info) error {
			names[fi.Name] = true
			return nil
		}); err != nil {
			return nil, fmt.Errorf("repo: lock maintenance: listing %s: %w", dir, err)
		}
	}
	idx, _, bad, err := loadIndex(ctx, r.st, r.keys)
	if err != nil {
		return nil, err
	}
	if len(bad) > 0 || refs == nil {
		// Without full knowledge, keep everything indexed locked.
		for _, p := range idx.packs {
			names[packName(p.ID)] = true
		}
		if refs == nil {
			return names, nil
		}
	}
	live, err := r.markLive(ctx, idx, nil, refs, &PruneReport{})
	if err != nil {
		// Locking more than needed is harmless; less is not.
		r.log.Warn("lock maintenance: snapshots could not all be followed; keeping every indexed pack locked", "err", err)
		for _, p := range idx.packs {
			names[packName(p.ID)] = true
		}
		return names, nil
	}
	for id := range live {
		if loc, ok := idx.Lookup(id); ok {
			names[packName(loc.Pack)] = true
		}
	}
	return names, nil
}

// isRepoName reports whether name is one a repository writes; used to
// leave foreign objects in a shared bucket alone.
func isRepoName(name string) bool {
	switch {
	case name == configName || name == readmeName:
		return true
	case strings.HasPrefix(name, dataDir), strings.HasPrefix(name, indexDir), strings.HasPrefix(name, snapshotDir),
		strings.HasPrefix(name, keysDir), strings.HasPrefix(name, locksDir):
		_, err := ParseID(path.Base(name))
		return err == nil
	}
	return false
}
