package repo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path"
	"sync"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/store"
)

const (
	locksDir        = "locks/"
	maxLockFileSize = 64 * 1024
	lockAttempts    = 3
)

// LockInfo is the content of a lock file (encrypted, at locks/<ID>).
type LockInfo struct {
	ID        ID     `json:"-"`
	Exclusive bool   `json:"exclusive"`
	Hostname  string `json:"hostname"`
	HostID    string `json:"host_id,omitempty"`
	// Purpose is PurposeBackup for a backup run's lock (lockbackup.go),
	// "" for the others.
	Purpose   string    `json:"purpose,omitempty"`
	PID       int       `json:"pid"`
	Created   time.Time `json:"created"`
	Refreshed time.Time `json:"refreshed"`
	// Stored is the lock file's modification time on the backup
	// destination's clock (from the store, not the file): the holder's own
	// clock may be hours off this computer's.
	Stored time.Time `json:"-"`
}

// ErrLockLost is reported by Lock.Err when the lock file disappeared while
// held (another process judged it stale and removed it).
var ErrLockLost = errors.New("repo: lock was removed by another process")

// Lock is a held repository lock, refreshed in the background until Unlock.
type Lock struct {
	r    *Repository
	info LockInfo
	stop chan struct{}
	done chan struct{}
	once sync.Once

	mu  sync.Mutex
	err error
}

// Lock takes a shared lock (several backups and restores may run at once)
// or an exclusive one (prune, repair: nothing else may run). Stale locks —
// from a dead process on this host, or not refreshed for LockStaleAfter
// both by this computer's clock and by the destination's — are removed on
// the way. A held lock is refreshed every LockRefreshInterval until Unlock;
// while one is lost, SaveSnapshot refuses (see Lock.Err).
//
// Our own lock is written before the others are looked at: writing it
// tells us the destination's clock, and two runs that write at once both
// see each other and back off, which is safe.
func (r *Repository) Lock(ctx context.Context, exclusive bool) (*Lock, error) {
	return r.lockFor(ctx, exclusive, "")
}

func (r *Repository) lockFor(ctx context.Context, exclusive bool, purpose string) (*Lock, error) {
	for attempt := 1; ; attempt++ {
		l, err := r.writeNewLock(ctx, exclusive, purpose)
		if err != nil {
			return nil, err
		}
		// A random delay before a retry makes it likely to succeed.
		err = r.checkLocks(ctx, exclusive, l.info.ID)
		if err == nil && purpose == PurposeBackup {
			err = r.checkOtherBackups(ctx, l.info.ID)
		}
		if err == nil {
			r.clock.hold(l)
			go l.refreshLoop()
			return l, nil
		}
		if derr := r.st.Delete(ctx, lockName(l.info.ID)); derr != nil {
			r.log.Warn("could not remove own lock after conflict", "lock", l.info.ID.Short(), "err", derr)
		}
		if attempt == lockAttempts || !errors.Is(err, ErrLocked) {
			return nil, err
		}
		select {
		case <-time.After(time.Duration(50+rand.IntN(200)) * time.Millisecond):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func lockName(id ID) string { return locksDir + id.String() }

func (r *Repository) writeNewLock(ctx context.Context, exclusive bool, purpose string) (*Lock, error) {
	id, err := randomID()
	if err != nil {
		return nil, err
	}
	now := r.opts.Now().UTC()
	l := &Lock{
		r:    r,
		info: LockInfo{ID: id, Exclusive: exclusive, Hostname: r.opts.Hostname, HostID: r.opts.HostID, Purpose: purpose, PID: os.Getpid(), Created: now, Refreshed: now},
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	before := r.opts.Now()
	if err := r.putLock(ctx, l.info); err != nil {
		return nil, err
	}
	r.measureStoreClock(ctx, lockName(id), before)
	return l, nil
}

func (r *Repository) putLock(ctx context.Context, li LockInfo) error {
	plain, err := json.Marshal(li)
	if err != nil {
		return fmt.Errorf("repo: encoding lock: %w", err)
	}
	sealed, err := r.keys.seal(nil, plain, []byte(adLock+li.ID.String()))
	if err != nil {
		return err
	}
	return putBytes(ctx, r.st, lockName(li.ID), sealed)
}

// readLock returns a lock's content. An unreadable lock file gets a
// LockInfo from its store metadata, so it is honoured until it ages out.
func (r *Repository) readLock(ctx context.Context, fi store.Info) (LockInfo, error) {
	id, err := ParseID(path.Base(fi.Name))
	if err != nil {
		return LockInfo{}, corrupt(fi.Name, err)
	}
	b, err := readSmall(ctx, r.st, fi.Name, maxLockFileSize)
	if err != nil {
		return LockInfo{}, err
	}
	plain, err := r.keys.open(nil, b, []byte(adLock+id.String()))
	if err != nil {
		return LockInfo{}, corrupt(fi.Name, err)
	}
	var li LockInfo
	if err := json.Unmarshal(plain, &li); err != nil {
		return LockInfo{}, corrupt(fi.Name, err)
	}
	li.ID = id
	li.Stored = fi.ModTime
	return li, nil
}

// ListLocks returns all lock files. Unreadable ones appear as exclusive
// locks timed by the file's modification time.
func (r *Repository) ListLocks(ctx context.Context) ([]LockInfo, error) {
	var infos []store.Info
	if err := r.st.List(ctx, locksDir, func(fi store.Info) error {
		infos = append(infos, fi)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("repo: listing locks: %w", err)
	}
	out := make([]LockInfo, 0, len(infos))
	for _, fi := range infos {
		li, err := r.readLock(ctx, fi)
		if errors.Is(err, store.ErrNotFound) {
			continue // released meanwhile
		}
		if err != nil {
			if !isCorrupt(err) {
				return nil, err
			}
			id, _ := ParseID(path.Base(fi.Name))
			li = LockInfo{ID: id, Exclusive: true, Hostname: "(unreadable lock file " + path.Base(fi.Name) + ")", Created: fi.ModTime, Refreshed: fi.ModTime}
			if id.IsZero() {
				continue // not a name Lifeboat writes; cannot be a lock
			}
		}
		out = append(out, li)
	}
	return out, nil
}

// IsStale reports whether a lock no longer protects anything: its process
// is gone (same host: another computer's process IDs mean nothing here),
// or it has not been refreshed for LockStaleAfter, judged both by this
// computer's clock against the time the holder wrote in the lock and, once
// this Repository has written a lock and so knows the destination's clock,
// by the destination's clock against the lock file's modification time.
// Both must agree: a holder whose clock is behind ours writes times that
// look old to us, but the destination saw the file change just now.
func (r *Repository) IsStale(li LockInfo) bool {
	if r.sameHost(li) && li.PID != os.Getpid() && li.PID > 0 && !processAlive(li.PID) {
		return true
	}
	if r.opts.Now().Sub(li.Refreshed) <= r.opts.LockStaleAfter {
		return false
	}
	if age, ok := r.storeAge(li); ok && age <= r.opts.LockStaleAfter {
		return false
	}
	return true
}

// checkLocks returns a *LockedError if a live lock conflicts with the one
// we want, removing stale locks it meets. own is our lock, if any.
func (r *Repository) checkLocks(ctx context.Context, exclusive bool, own ID) error {
	locks, err := r.ListLocks(ctx)
	if err != nil {
		return err
	}
	for _, li := range locks {
		if li.ID == own {
			continue
		}
		if r.IsStale(li) {
			r.log.Warn("removing stale lock", "lock", li.ID.Short(), "holder", li.describe())
			if err := r.st.Delete(ctx, lockName(li.ID)); err != nil && !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("repo: removing stale lock: %w", err)
			}
			continue
		}
		if exclusive || li.Exclusive {
			return r.lockedError(li)
		}
	}
	return nil
}

// RemoveStaleLocks deletes stale locks and returns how many it removed
// ("lifeboat unlock"). It first writes and removes a lock of its own, to
// learn the destination's clock, so another computer's lock is judged by
// that clock too (see IsStale).
func (r *Repository) RemoveStaleLocks(ctx context.Context) (int, error) {
	if _, ok := r.clock.offset(); !ok {
		l, err := r.writeNewLock(ctx, false, "")
		if err != nil {
			return 0, err
		}
		if err := r.st.Delete(ctx, lockName(l.info.ID)); err != nil && !errors.Is(err, store.ErrNotFound) {
			return 0, fmt.Errorf("repo: removing lock: %w", err)
		}
	}
	return r.removeLocks(ctx, r.IsStale)
}

// RemoveAllLocks deletes every lock, live or not ("lifeboat unlock
// --remove-all"). Only for when the user knows nothing else is running.
func (r *Repository) RemoveAllLocks(ctx context.Context) (int, error) {
	return r.removeLocks(ctx, func(LockInfo) bool { return true })
}

func (r *Repository) removeLocks(ctx context.Context, match func(LockInfo) bool) (int, error) {
	locks, err := r.ListLocks(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, li := range locks {
		if !match(li) {
			continue
		}
		if err := r.st.Delete(ctx, lockName(li.ID)); err != nil && !errors.Is(err, store.ErrNotFound) {
			return n, fmt.Errorf("repo: removing lock: %w", err)
		}
		n++
	}
	return n, nil
}

// Info returns the lock's current content.
func (l *Lock) Info() LockInfo {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.info
}

// Err returns ErrLockLost (or a refresh error) once the lock can no longer
// be trusted; a long run should check it and stop.
func (l *Lock) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

// Refresh rewrites the lock with the current time. It fails with
// ErrLockLost if the lock file was removed: re-creating it then could
// overlap with whoever took over.
func (l *Lock) Refresh(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return l.err
	}
	if _, err := l.r.st.Stat(ctx, lockName(l.info.ID)); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			l.err = ErrLockLost
			return l.err
		}
		return fmt.Errorf("repo: refreshing lock: %w", err)
	}
	li := l.info
	li.Refreshed = l.r.opts.Now().UTC()
	if err := l.r.putLock(ctx, li); err != nil {
		return fmt.Errorf("repo: refreshing lock: %w", err)
	}
	l.info = li
	return nil
}

func (l *Lock) refreshLoop() {
	defer close(l.done)
	t := time.NewTicker(l.r.opts.LockRefreshInterval)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			err := l.Refresh(ctx)
			cancel()
			if errors.Is(err, ErrLockLost) {
				l.r.log.Error("repository lock lost", "lock", l.info.ID.Short())
				return
			}
			if err != nil {
				l.r.log.Warn("lock refresh failed; will retry", "err", err)
			}
		}
	}
}

// Unlock stops refreshing and removes the lock file.
func (l *Lock) Unlock(ctx context.Context) error {
	first := false
	l.once.Do(func() { first = true; close(l.stop) })
	if !first {
		return nil // already unlocked
	}
	<-l.done
	l.r.clock.release(l)
	if err := l.r.st.Delete(ctx, lockName(l.info.ID)); err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("repo: removing lock: %w", err)
	}
	return nil
}
