//go:build windows

package repo

import "syscall"

const (
	processQueryLimitedInformation = 0x1000
	stillActive                    = 259
	errorInvalidParameter          = syscall.Errno(87)
)

// processAlive reports whether pid names a running process on this host.
// OpenProcess fails with ERROR_INVALID_PARAMETER for a PID that does not
// exist; a process that has exited but whose handle is still open elsewhere
// reports an exit code other than STILL_ACTIVE.
func processAlive(pid int) bool {
	if pid <= 0 {
		return true
	}
	h, err := syscall.OpenProcess(processQueryLimitedInformation, false, uint32(pid))
	if err != nil {
		return err != errorInvalidParameter // access denied: it exists
	}
	defer syscall.CloseHandle(h)
	var code uint32
	if err := syscall.GetExitCodeProcess(h, &code); err != nil {
		return true
	}
	return code == stillActive
}
