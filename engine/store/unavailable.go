package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// ErrUnavailable is returned (wrapped) when the destination itself is gone
// or unreachable: a USB drive pulled out, a network share whose server or
// cable went away (I/O errors, "transport endpoint is not connected", a
// stale handle), or the folder vanishing from under a run because its
// drive was unmounted. Callers tell the person "the backup drive is not
// connected" and try again when it is back; nothing is wrong with the
// backup itself.
var ErrUnavailable = errors.New("store: the backup drive or share is not reachable")

// rootGone reports whether the store's folder is no longer the folder that
// was opened: it does not exist, cannot be reached, or is another folder
// now (the drive was unmounted and the path is the empty mount point on the
// system disk).
func (l *Local) rootGone() bool {
	fi, err := os.Stat(l.root)
	if err != nil {
		return true
	}
	return l.rootInfo != nil && !os.SameFile(fi, l.rootInfo)
}

// unavailable wraps err with ErrUnavailable when it means the destination
// is gone rather than that one object is missing or broken.
func (l *Local) unavailable(err error) error {
	if err == nil || errors.Is(err, ErrUnavailable) {
		return err
	}
	if isUnreachable(err) || ((errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission)) && l.rootGone()) {
		return fmt.Errorf("%w (%s): %w", ErrUnavailable, l.root, err)
	}
	return err
}
