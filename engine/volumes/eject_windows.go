package volumes

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/windows"
)

// Control codes from winioctl.h. The sequence — lock the volume, dismount
// it, allow removal, eject — is Microsoft's documented way to eject
// removable media from a program (KB 165721).
const (
	fsctlLockVolume          = 0x00090018
	fsctlDismountVolume      = 0x00090020
	ioctlStorageMediaRemoval = 0x002D4804
	ioctlStorageEjectMedia   = 0x002D4808
)

func eject(ctx context.Context, folder string, _ EjectOptions) error {
	abs, err := filepath.Abs(folder)
	if err != nil {
		return err
	}
	vol := filepath.VolumeName(abs)
	if len(vol) != 2 || vol[1] != ':' {
		return fmt.Errorf("%w: %s is not on a drive letter", ErrEjectUnsupported, folder)
	}
	root, _ := windows.UTF16PtrFromString(vol + `\`)
	if t := windows.GetDriveType(root); t != windows.DRIVE_REMOVABLE && t != windows.DRIVE_FIXED {
		return fmt.Errorf("%w: %s is not a local drive", ErrEjectUnsupported, vol)
	}
	if sys, err := windows.GetSystemDirectory(); err == nil && strings.EqualFold(filepath.VolumeName(sys), vol) {
		return fmt.Errorf("%w: %s is the system disk", ErrEjectUnsupported, vol)
	}
	name, _ := windows.UTF16PtrFromString(`\\.\` + vol)
	h, err := windows.CreateFile(name, windows.GENERIC_READ|windows.GENERIC_WRITE,
		windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE, nil, windows.OPEN_EXISTING, 0, 0)
	if err != nil {
		return fmt.Errorf("volumes: opening %s: %w", vol, err)
	}
	defer windows.CloseHandle(h)
	var n uint32
	ioctl := func(code uint32, in []byte) error {
		var p *byte
		if len(in) > 0 {
			p = &in[0]
		}
		return windows.DeviceIoControl(h, code, p, uint32(len(in)), nil, 0, &n, nil)
	}
	// Open files keep the lock from being granted; retry for a while.
	for i := 0; ; i++ {
		if err = ioctl(fsctlLockVolume, nil); err == nil {
			break
		}
		if i == 20 {
			return fmt.Errorf("volumes: %s is in use by a program and cannot be ejected: %w", vol, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
	if err := ioctl(fsctlDismountVolume, nil); err != nil {
		return fmt.Errorf("volumes: dismounting %s: %w", vol, err)
	}
	_ = ioctl(ioctlStorageMediaRemoval, []byte{0}) // PREVENT_MEDIA_REMOVAL{FALSE}
	if err := ioctl(ioctlStorageEjectMedia, nil); err != nil {
		return fmt.Errorf("volumes: ejecting %s: %w", vol, err)
	}
	return nil
}
