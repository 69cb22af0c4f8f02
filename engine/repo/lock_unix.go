//go:build unix

package repo

import (
	"errors"
	"syscall"
)

// processAlive reports whether pid names a running process on this host.
// Signal 0 checks existence without signalling; EPERM means it exists but
// belongs to someone else.
func processAlive(pid int) bool {
	if pid <= 0 {
		return true // never kill(0) or kill(-1): unknown means alive
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
