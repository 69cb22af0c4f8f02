package repo

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/store"
)

// Two computers, one backup folder. Each lock file carries the times its
// holder's clock gave it; the store gives the file's modification time on
// the destination's clock (the NAS's, or the disk's computer). Office PCs'
// clocks drift, or are set hours wrong, so a lock is judged by both, and
// this file is how a Repository knows the destination's clock: every lock
// it writes is stat'ed, and the difference between the file's time and
// ours is the offset.

// maxClockDiff is the difference between two clocks worth telling people.
const maxClockDiff = 2 * time.Minute

// lockClock is a Repository's view of the destination's clock and the
// locks it holds.
type lockClock struct {
	mu    sync.Mutex
	skew  time.Duration // destination clock − ours
	known bool
	held  map[*Lock]struct{}
}

func (c *lockClock) offset() (time.Duration, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.skew, c.known
}

func (c *lockClock) hold(l *Lock) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.held == nil {
		c.held = map[*Lock]struct{}{}
	}
	c.held[l] = struct{}{}
}

func (c *lockClock) release(l *Lock) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.held, l)
}

func (c *lockClock) holds(l *Lock) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.held[l]
	return ok
}

func (c *lockClock) locks() []*Lock {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]*Lock, 0, len(c.held))
	for l := range c.held {
		out = append(out, l)
	}
	return out
}

// measureStoreClock learns the destination's clock from a lock file just
// written (between before and now on our clock). A store that gives no
// modification time leaves the offset unknown.
func (r *Repository) measureStoreClock(ctx context.Context, name string, before time.Time) {
	after := r.opts.Now()
	fi, err := r.st.Stat(ctx, name)
	if err != nil || fi.ModTime.IsZero() {
		return
	}
	mid := before.Add(after.Sub(before) / 2)
	skew := fi.ModTime.Sub(mid)
	// Within the write's own duration (plus coarse timestamps) is no skew.
	if d := after.Sub(before)/2 + time.Second; skew > -d && skew < d {
		skew = 0
	}
	r.clock.mu.Lock()
	first := !r.clock.known
	r.clock.skew, r.clock.known = skew, true
	r.clock.mu.Unlock()
	if first && (skew > maxClockDiff || skew < -maxClockDiff) {
		r.log.Warn("this computer's clock differs from the backup destination's; locks are judged by both",
			"destination_minus_ours", skew.Round(time.Second).String())
	}
}

// storeNow is the destination's current time as far as we know it.
func (r *Repository) storeNow() time.Time {
	skew, _ := r.clock.offset()
	return r.opts.Now().Add(skew)
}

// storeAge is how long ago, on the destination's clock, the lock file was
// last written; ok is false when that cannot be known.
func (r *Repository) storeAge(li LockInfo) (time.Duration, bool) {
	skew, known := r.clock.offset()
	if !known || li.Stored.IsZero() {
		return 0, false
	}
	return r.opts.Now().Add(skew).Sub(li.Stored), true
}

// holderOffset is the holder's clock's offset from the destination's, from
// the lock's last refresh; zero when unknown.
func holderOffset(li LockInfo) time.Duration {
	if li.Stored.IsZero() || li.Refreshed.IsZero() {
		return 0
	}
	return li.Stored.Sub(li.Refreshed)
}

// createdOnStore is when the lock was taken, on the destination's clock.
func createdOnStore(li LockInfo) time.Time {
	return li.Created.Add(holderOffset(li))
}

// LockedError says who holds the lock that stopped us, in words for the
// owner: which computer, doing what, since when and how recently it was
// seen working, and whether its clock is off ours.
type LockedError struct {
	Holder LockInfo
	// SameHost: the holder is another program on this computer.
	SameHost bool
	// LastSeen is how long ago the holder last refreshed the lock, on the
	// destination's clock when known (else ours); negative when unknown.
	LastSeen time.Duration
	// ClockDiff is the holder's clock minus ours, when ClockKnown.
	ClockDiff  time.Duration
	ClockKnown bool
}

// Is makes errors.Is(err, ErrLocked) true.
func (e *LockedError) Is(target error) bool { return target == ErrLocked }

func (e *LockedError) Error() string {
	li := e.Holder
	what := "a backup, a check or a restore"
	switch {
	case li.Exclusive:
		what = "a clean-up or a repair"
	case li.Purpose == PurposeBackup:
		what = "a backup"
	}
	var b strings.Builder
	b.WriteString("repo: the backup is in use: ")
	switch {
	case strings.HasPrefix(li.Hostname, "(unreadable"):
		fmt.Fprintf(&b, "a lock file that cannot be read %s says so", li.Hostname)
	case e.SameHost:
		fmt.Fprintf(&b, "%s is running in another Lifeboat on this computer (process %d)", what, li.PID)
	default:
		fmt.Fprintf(&b, "%s is running on the computer %q", what, li.Hostname)
	}
	if !li.Created.IsZero() {
		fmt.Fprintf(&b, ", started %s", li.Created.Local().Format(time.DateTime))
		if !e.SameHost {
			b.WriteString(" by that computer's clock")
		}
	}
	if e.LastSeen >= 0 {
		fmt.Fprintf(&b, ", last active %s ago", roughly(e.LastSeen))
	}
	b.WriteString(".")
	if e.ClockKnown && !e.SameHost && (e.ClockDiff > maxClockDiff || e.ClockDiff < -maxClockDiff) {
		dir := "ahead of"
		if e.ClockDiff < 0 {
			dir = "behind"
		}
		fmt.Fprintf(&b, " That computer's clock is about %s %s this one's; Lifeboat allows for it, but set both to the correct time.",
			roughly(e.ClockDiff), dir)
	}
	b.WriteString(" Try again when it has finished")
	if !e.SameHost {
		b.WriteString("; if that computer is switched off or not running Lifeboat, `lifeboat unlock --all` releases the backup")
	}
	b.WriteString(".")
	return b.String()
}

func (r *Repository) lockedError(li LockInfo) *LockedError {
	e := &LockedError{Holder: li, SameHost: r.sameHost(li), LastSeen: -1}
	if age, ok := r.storeAge(li); ok {
		e.LastSeen = max(age, 0)
	} else if !li.Refreshed.IsZero() {
		e.LastSeen = max(r.opts.Now().Sub(li.Refreshed), 0)
	}
	if skew, ok := r.clock.offset(); ok && !li.Stored.IsZero() {
		// destination = holder + holderOffset = ours + skew
		e.ClockDiff, e.ClockKnown = skew-holderOffset(li), true
	}
	return e
}

// roughly says a duration the way a person would.
func roughly(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	switch {
	case d < time.Minute:
		return "less than a minute"
	case d < 2*time.Minute:
		return "1 minute"
	case d < 2*time.Hour:
		return fmt.Sprintf("%d minutes", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d hours", int((d+30*time.Minute)/time.Hour))
	}
	return fmt.Sprintf("%d days", int((d+12*time.Hour)/(24*time.Hour)))
}

// LockWait is Lock, waiting up to wait for a conflicting lock to go away
// (another computer's backup to finish), trying again every retry (zero:
// a tenth of wait, between 1 and 30 seconds). It returns the last
// *LockedError when the wait is over.
func (r *Repository) LockWait(ctx context.Context, exclusive bool, wait, retry time.Duration) (*Lock, error) {
	if retry <= 0 {
		retry = min(max(wait/10, time.Second), 30*time.Second)
	}
	deadline := time.Now().Add(wait)
	for {
		l, err := r.Lock(ctx, exclusive)
		if err == nil || !errors.Is(err, ErrLocked) || !time.Now().Before(deadline) {
			return l, err
		}
		r.log.Info("waiting for the backup to be free", "why", err.Error())
		jitter := time.Duration(rand.Int64N(int64(retry)/4 + 1))
		select {
		case <-time.After(min(retry+jitter, time.Until(deadline))):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// lockLost returns an error when a lock this Repository holds was removed
// by someone else: what the run writes is then no longer protected from a
// prune on another computer, so it must not be committed. Each held lock
// file is checked in the store, not only at its last refresh.
func (r *Repository) lockLost(ctx context.Context) error {
	for _, l := range r.clock.locks() {
		if err := l.Err(); err != nil {
			return fmt.Errorf("repo: %w", err)
		}
		if _, err := r.st.Stat(ctx, lockName(l.Info().ID)); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				if !r.clock.holds(l) {
					continue // released by its own run meanwhile (several runs share r)
				}
				l.mu.Lock()
				l.err = ErrLockLost
				l.mu.Unlock()
				return fmt.Errorf("repo: %w", ErrLockLost)
			}
			return fmt.Errorf("repo: checking the lock: %w", err)
		}
	}
	return nil
}

// describe is a lock in a log line.
func (li LockInfo) describe() string {
	kind := "shared"
	if li.Exclusive {
		kind = "exclusive"
	}
	return fmt.Sprintf("%s lock held by process %d on %q since %s", kind, li.PID, li.Hostname, li.Created.Local().Format(time.DateTime))
}

// sameHost reports whether a lock was written on this computer: by host
// ID when both sides have one, else by host name.
func (r *Repository) sameHost(li LockInfo) bool {
	if li.HostID != "" && r.opts.HostID != "" {
		return li.HostID == r.opts.HostID
	}
	return li.Hostname == r.opts.Hostname
}
