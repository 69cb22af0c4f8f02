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
