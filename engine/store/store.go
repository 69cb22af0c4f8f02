package store

import (
	"context"
	"errors"
	"io"
	"time"
)

var (
	// ErrNotFound is returned (wrapped) when a named object does not exist.
	ErrNotFound = errors.New("store: object not found")
	// ErrInvalidName is returned (wrapped) for a name ValidateName rejects.
	ErrInvalidName = errors.New("store: invalid object name")
	// ErrInvalidRange is returned (wrapped) by Get for a negative offset or
	// an offset beyond the end of the object.
	ErrInvalidRange = errors.New("store: invalid range")
	// ErrDiskFull is returned (wrapped) by Put when the destination has no
	// space left (ENOSPC, or Windows' ERROR_DISK_FULL), so callers can tell
	// the user "the backup drive is full" instead of a raw system error.
	ErrDiskFull = errors.New("store: destination is full")
)

// Info describes one stored object.
type Info struct {
	Name    string
	Size    int64
	ModTime time.Time
}

// Store holds named, immutable objects. Implementations must be safe for
// concurrent use. Every implementation accepts exactly the names
// ValidateName accepts, so code tested against Memory behaves the same on a
// real folder. All methods return ctx.Err() (wrapped) when ctx is done
// before they start.
type Store interface {
	// Put stores the object atomically: after a crash either the whole
	// object is there under name, or nothing (or the previous object of that
	// name) is. An existing object is replaced; the repository format never
	// rewrites data objects, only small control files such as locks.
	// size is the exact length of r, or -1 when unknown; a reader that
	// yields a different length is an error and stores nothing. Put reads r
	// to EOF, stops early when ctx is cancelled, and never leaves a partial
	// object visible. When Put returns an error the previous object (if any)
	// or the complete new one is visible, never a mix.
	Put(ctx context.Context, name string, r io.Reader, size int64) error
	// Get opens the object for reading from offset; length < 0 reads to the
	// end, and a length past the end reads what there is. An offset beyond
	// the end is ErrInvalidRange; offset == size yields an empty reader.
	Get(ctx context.Context, name string, offset, length int64) (io.ReadCloser, error)
	// Stat returns the object's size and modification time.
	Stat(ctx context.Context, name string) (Info, error)
	// List calls fn for each object whose name starts with prefix, in no
	// particular order. The prefix need not end at a "/": "data/3f" lists
	// "data/3f/3fab…" and "data/3f0/…". Returning an error from fn stops the
	// listing and List returns that error. Objects put or deleted during a
	// listing may or may not be reported.
	List(ctx context.Context, prefix string, fn func(Info) error) error
	// Delete removes the object. Deleting a missing object returns ErrNotFound.
	Delete(ctx context.Context, name string) error
}
