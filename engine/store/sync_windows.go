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

// Windows error codes for a drive or share that went away (winerror.h).
var unreachableErrnos = []syscall.Errno{
	21,   // ERROR_NOT_READY: the device is not ready (drive removed)
	53,   // ERROR_BAD_NETPATH
	55,   // ERROR_DEV_NOT_EXIST: the device no longer exists
	59,   // ERROR_UNEXP_NET_ERR
	64,   // ERROR_NETNAME_DELETED: the network name is no longer available
	67,   // ERROR_BAD_NET_NAME
	121,  // ERROR_SEM_TIMEOUT (a share that stopped answering)
	1167, // ERROR_DEVICE_NOT_CONNECTED
	1231, // ERROR_NETWORK_UNREACHABLE
	1236, // ERROR_CONNECTION_ABORTED
	483,  // ERROR_DEVICE_HARDWARE_ERROR
	1117, // ERROR_IO_DEVICE
}

// isUnreachable reports an error that means the drive or share went away.
func isUnreachable(err error) bool {
	for _, e := range unreachableErrnos {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// syncDirRaw: folders are not flushed on Windows (see syncDir).
func syncDirRaw(string) error { return nil }
