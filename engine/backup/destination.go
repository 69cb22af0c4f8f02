package backup

import (
	"errors"
	"fmt"

	"github.com/lifeboat-backup/lifeboat/engine/health"
	"github.com/lifeboat-backup/lifeboat/engine/repo"
	"github.com/lifeboat-backup/lifeboat/engine/store"
	"github.com/lifeboat-backup/lifeboat/engine/volumes"
)

// ErrDriveFull is matched by *DriveFullError.
var ErrDriveFull = errors.New("backup: the backup drive is full")

// ErrDriveMissing is matched by *DriveMissingError.
var ErrDriveMissing = errors.New("backup: the backup drive is not connected")

// DriveFullError ends a run that ran out of space on the destination.
// Everything stored before is kept (and indexed), so the next run, once
// there is room, continues where this one stopped.
type DriveFullError struct {
	// Free is what the destination has left; Needed the run's estimate of
	// what it still had to store (content not yet downloaded, before
	// compression and deduplication), 0 when unknown.
	Free, Needed uint64
	Err          error
}

func (e *DriveFullError) Error() string {
	need := "more space than that"
	if e.Needed > 0 {
		need = "about " + health.Bytes(e.Needed) + " needed"
	}
	return fmt.Sprintf("the backup drive is full (%s free, %s). Everything backed up so far is safe; "+
		"free some space or use a bigger drive, and the next backup continues where this one stopped", health.Bytes(e.Free), need)
}

func (e *DriveFullError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrDriveFull) and store.ErrDiskFull true.
func (e *DriveFullError) Is(target error) bool {
	return target == ErrDriveFull || target == store.ErrDiskFull
}

// DriveMissingError ends a run whose destination went away: a USB drive
// pulled out, a network share that stopped answering. The scheduled run
// treats it like a drive that was not connected: it tries again when the
// drive is back.
type DriveMissingError struct{ Err error }

func (e *DriveMissingError) Error() string {
	return "the backup drive was disconnected during the backup (or the network share stopped answering). " +
		"Everything backed up before that is safe; the next backup continues when the drive is back"
}

func (e *DriveMissingError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrDriveMissing) and store.ErrUnavailable true.
func (e *DriveMissingError) Is(target error) bool {
	return target == ErrDriveMissing || target == store.ErrUnavailable
}

// DestinationError turns a destination failure in err into the error the
// owner reads (*DriveFullError, *DriveMissingError) and returns other
// errors as they are. needed is the caller's estimate of what was still to
// be stored (0: unknown). The app uses it for the failures of the steps
// around Run (storing the catalog copy).
func DestinationError(err error, r *repo.Repository, needed uint64) error {
	var full *DriveFullError
	var missing *DriveMissingError
	switch {
	case err == nil, errors.As(err, &full), errors.As(err, &missing):
		return err
	case errors.Is(err, store.ErrUnavailable):
		return &DriveMissingError{Err: err}
	case errors.Is(err, store.ErrDiskFull):
		e := &DriveFullError{Needed: needed, Err: err}
		if l, ok := r.Store().(*store.Local); ok {
			if _, free, serr := (volumes.Options{}).SpaceAt(l.Root()); serr == nil {
				e.Free = free
			}
		}
		return e
	}
	return err
}

// stillNeeded estimates the content bytes the run had yet to store: the
// announced total less what was downloaded, or, without a total, the
// average item so far times the items left.
func (ru *run) stillNeeded() uint64 {
	p := ru.prog.snapshot()
	switch {
	case p.BytesTotal > p.BytesDone:
		return uint64(p.BytesTotal - p.BytesDone)
	case p.ItemsTotal > p.ItemsDone && p.ItemsDone > 0 && p.BytesDone > 0:
		return uint64(p.BytesDone / p.ItemsDone * (p.ItemsTotal - p.ItemsDone))
	}
	return 0
}

// HealthInput is what the dashboard needs to know about a run that the
// destination stopped; nil when it was not stopped by the destination.
func (r Result) HealthInput() *health.StoppedRun {
	switch {
	case r.DriveFull != nil:
		return &health.StoppedRun{At: r.Ended, DriveFull: true, Free: r.DriveFull.Free, Needed: r.DriveFull.Needed}
	case r.DriveMissing:
		return &health.StoppedRun{At: r.Ended, DriveMissing: true}
	}
	return nil
}

// snapshot returns the progress so far.
func (t *tracker) snapshot() Progress {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.p
}

// noteDestination classifies a run's error and records a destination
// failure in the result.
func (ru *run) noteDestination(err error) error {
	err = DestinationError(err, ru.r, ru.stillNeeded())
	var full *DriveFullError
	ru.mu.Lock()
	defer ru.mu.Unlock()
	if errors.As(err, &full) {
		ru.res.DriveFull = full
	}
	ru.res.DriveMissing = errors.Is(err, ErrDriveMissing)
	return err
}
