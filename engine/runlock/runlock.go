package runlock

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// BusyError says another run holds the lock.
type BusyError struct {
	Holder Holder
}

func (e *BusyError) Error() string {
	if e.Holder.PID == 0 {
		return "another backup of this backup folder is already running"
	}
	return fmt.Sprintf("another backup of this backup folder is already running (process %d, started %s)",
		e.Holder.PID, e.Holder.Started.Local().Format("2006-01-02 15:04:05"))
}

// ErrBusy matches a BusyError with errors.Is.
var ErrBusy = errors.New("runlock: busy")

// Is makes errors.Is(err, ErrBusy) true.
func (e *BusyError) Is(target error) bool { return target == ErrBusy }

// Holder is what the lock file says about the run holding it.
type Holder struct {
	PID     int       `json:"pid"`
	Started time.Time `json:"started"`
	What    string    `json:"what,omitempty"`
}

// Lock is a held run lock.
type Lock struct {
	f *os.File
}

// pollInterval is how often Acquire retries while waiting.
const pollInterval = 200 * time.Millisecond

// Acquire takes the lock in file path (created if needed), waiting up to
// wait for a run that holds it; wait 0 means try once. It returns a
// *BusyError when the lock stays held.
func Acquire(ctx context.Context, path string, wait time.Duration, what string) (*Lock, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("run lock: %w", err)
	}
	deadline := time.Now().Add(wait)
	for {
		l, err := try(path, what)
		if err == nil {
			return l, nil
		}
		var busy *BusyError
		if !errors.As(err, &busy) || !time.Now().Before(deadline) {
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(min(pollInterval, time.Until(deadline))):
		}
	}
}

func try(path, what string) (*Lock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("run lock: %w", err)
	}
	locked, err := lockFile(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("run lock %s: %w", path, err)
	}
	if !locked {
		h := readHolder(path)
		f.Close()
		return nil, &BusyError{Holder: h}
	}
	// Only the holder writes, so the record is never torn by a rival.
	b, _ := json.Marshal(Holder{PID: os.Getpid(), Started: time.Now().UTC(), What: what})
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt(b, 0) // the record is informative; the lock is what matters
	}
	return &Lock{f: f}, nil
}

// readHolder reads the holder record; a damaged one gives an empty Holder.
func readHolder(path string) Holder {
	var h Holder
	f, err := os.Open(path)
	if err != nil {
		return h
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 4096))
	if err == nil {
		_ = json.Unmarshal(b, &h)
	}
	return h
}

// Release gives the lock up.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	_ = l.f.Truncate(0)
	err := errors.Join(unlockFile(l.f), l.f.Close())
	l.f = nil
	return err
}
