//go:build !windows

package store

import (
	"errors"
	"os"
	"syscall"
)

// syncDir fsyncs a folder so a rename or new entry in it is durable. File
// systems that cannot (CIFS/SMB mounts answer EINVAL) are tolerated: the
// server commits the entry itself, and failing every write there would make
// a NAS unusable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	cerr := d.Close()
	if err != nil && !syncUnsupported(err) && !errors.Is(err, syscall.EINVAL) {
		return err
	}
	return cerr
}

// syncUnsupported reports an fsync error that means "not supported here".
func syncUnsupported(err error) bool {
	return errors.Is(err, syscall.ENOTSUP) || errors.Is(err, syscall.EOPNOTSUPP)
}

// isDiskFull reports whether err means the destination is out of space.
func isDiskFull(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}

// isUnreachable reports an error that means the file system itself went
// away: an I/O error from a pulled drive, a FUSE or network mount whose
// server is gone, a stale network handle.
func isUnreachable(err error) bool {
	for _, e := range []syscall.Errno{syscall.EIO, syscall.ENOTCONN, syscall.ENXIO, syscall.ENODEV,
		syscall.ESTALE, syscall.EHOSTDOWN, syscall.EHOSTUNREACH, syscall.ENETDOWN, syscall.ENETUNREACH,
		syscall.ECONNABORTED, syscall.ECONNRESET, syscall.ETIMEDOUT} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// syncDirRaw fsyncs a folder and returns the error as it is, for Probe.
func syncDirRaw(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	return errors.Join(err, d.Close())
}
