//go:build windows

package store

import (
	"errors"
	"syscall"
)

// syncDir is a no-op on Windows: a folder cannot be flushed through the
// handles os.Open gives, and NTFS journals the rename itself. The object's
// bytes were flushed (FlushFileBuffers) before the rename, so after a crash
// the name holds the old object or the complete new one.
func syncDir(string) error { return nil }

// syncUnsupported reports an fsync (FlushFileBuffers) error that means "not
// supported here"; none is known to need tolerating on Windows.
func syncUnsupported(error) bool { return false }

// Windows error codes for a full disk or quota (winerror.h).
const (
	errorHandleDiskFull syscall.Errno = 39
	errorDiskFull       syscall.Errno = 112
	errorDiskQuota      syscall.Errno = 1295
)

// isDiskFull reports whether err means the destination is out of space.
func isDiskFull(err error) bool {
	return errors.Is(err, errorDiskFull) || errors.Is(err, errorHandleDiskFull) ||
		errors.Is(err, errorDiskQuota) || errors.Is(err, syscall.ENOSPC)
}
