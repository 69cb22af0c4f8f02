package volumes

import (
	"context"
	"errors"

	"github.com/godbus/dbus/v5"
)

// ErrEjectUnsupported means this operating system or drive cannot be
// ejected by Lifeboat (a network share, the system disk).
var ErrEjectUnsupported = errors.New("volumes: this drive cannot be ejected")

// EjectOptions say how to reach the system's disk service.
type EjectOptions struct {
	Options
	// Bus is the D-Bus connection UDisks is reached on (Linux). Nil means
	// the system bus. Tests pass a private bus with a stand-in UDisks: the
	// D-Bus interface is the contract.
	Bus *dbus.Conn
	// UDisksName is UDisks' bus name; empty means org.freedesktop.UDisks2.
	UDisksName string
}

// Eject unmounts the drive holding folder and powers it off (Linux:
// UDisks over D-Bus; macOS: diskutil eject; Windows: lock, dismount and
// eject the volume), so a backup drive left plugged in is not mounted, and
// so not writable by ransomware, between backups. The drive comes back
// when it is unplugged and plugged in again (or, on Linux, mounted from
// the file manager).
func Eject(ctx context.Context, folder string, o EjectOptions) error {
	return eject(ctx, folder, o)
}
