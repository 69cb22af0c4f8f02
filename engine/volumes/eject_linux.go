package volumes

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/godbus/dbus/v5"
)

// UDisks2's D-Bus interface (https://storaged.org/doc/udisks2-api/2.8.3/):
// Manager.ResolveDevice(a{sv} devspec, a{sv} options) → ao finds the
// block object of "/dev/sdb1"; Filesystem.Unmount(a{sv}) unmounts it;
// the block's Drive property names its drive, whose PowerOff(a{sv})
// (when CanPowerOff) spins it down and detaches it, as `udisksctl
// power-off` and the file manager's "Safely remove" do.
const (
	udisksName       = "org.freedesktop.UDisks2"
	udisksManager    = "/org/freedesktop/UDisks2/Manager"
	udisksBlockPath  = "/org/freedesktop/UDisks2/block_devices/"
	ifaceManager     = "org.freedesktop.UDisks2.Manager"
	ifaceBlock       = "org.freedesktop.UDisks2.Block"
	ifaceFilesystem  = "org.freedesktop.UDisks2.Filesystem"
	ifaceDrive       = "org.freedesktop.UDisks2.Drive"
	ifaceProperties  = "org.freedesktop.DBus.Properties"
	optNoInteraction = "auth.no_user_interaction"
)

func eject(ctx context.Context, folder string, o EjectOptions) error {
	m, err := mountOf(folder, o.Options)
	if err != nil {
		return err
	}
	if networkFS[m.fsType] || !strings.HasPrefix(m.source, "/dev/") {
		return fmt.Errorf("%w: %s is on %s, not a drive", ErrEjectUnsupported, folder, m.source)
	}
	if m.point == "/" {
		return fmt.Errorf("%w: %s is on the system disk", ErrEjectUnsupported, folder)
	}
	conn := o.Bus
	if conn == nil {
		conn, err = dbus.ConnectSystemBus(dbus.WithContext(ctx))
		if err != nil {
			return fmt.Errorf("volumes: reaching the disk service (UDisks): %w", err)
		}
		defer conn.Close()
	}
	name := o.UDisksName
	if name == "" {
		name = udisksName
	}
	opts := map[string]dbus.Variant{optNoInteraction: dbus.MakeVariant(true)}
	block, err := resolveBlock(ctx, conn, name, m.source)
	if err != nil {
		return err
	}
	bo := conn.Object(name, block)
	var drive dbus.Variant
	if err := bo.CallWithContext(ctx, ifaceProperties+".Get", 0, ifaceBlock, "Drive").Store(&drive); err != nil {
		return fmt.Errorf("volumes: which drive holds %s: %w", m.source, err)
	}
	if err := bo.CallWithContext(ctx, ifaceFilesystem+".Unmount", 0, opts).Err; err != nil {
		return fmt.Errorf("volumes: the drive %s could not be unmounted (a program may still be using it): %w", m.point, err)
	}
	dp, ok := drive.Value().(dbus.ObjectPath)
	if !ok || dp == "/" || !dp.IsValid() {
		return nil // unmounted; nothing to power off (a loop device, say)
	}
	do := conn.Object(name, dp)
	var can dbus.Variant
	if err := do.CallWithContext(ctx, ifaceProperties+".Get", 0, ifaceDrive, "CanPowerOff").Store(&can); err == nil {
		if b, _ := can.Value().(bool); !b {
			return nil // unmounted is as far as this drive goes
		}
	}
	if err := do.CallWithContext(ctx, ifaceDrive+".PowerOff", 0, opts).Err; err != nil {
		return fmt.Errorf("volumes: the drive was unmounted but could not be powered off: %w", err)
	}
	return nil
}

// resolveBlock finds UDisks' block object for a device node, asking the
// manager (UDisks 2.7.3 and later) and falling back to the object path
// UDisks derives from the device name.
func resolveBlock(ctx context.Context, conn *dbus.Conn, name, dev string) (dbus.ObjectPath, error) {
	var paths []dbus.ObjectPath
	spec := map[string]dbus.Variant{"path": dbus.MakeVariant(dev)}
	err := conn.Object(name, udisksManager).CallWithContext(ctx, ifaceManager+".ResolveDevice", 0, spec, map[string]dbus.Variant{}).Store(&paths)
	if err == nil && len(paths) > 0 {
		return paths[0], nil
	}
	if real, rerr := filepath.EvalSymlinks(dev); rerr == nil {
		dev = real
	}
	p := dbus.ObjectPath(udisksBlockPath + escapeObjectPath(filepath.Base(dev)))
	if !p.IsValid() {
		return "", fmt.Errorf("volumes: the disk service does not know %s: %v", dev, err)
	}
	return p, nil
}

// escapeObjectPath escapes a name as UDisks does for object paths: bytes
// outside [A-Za-z0-9] become _XX (hex).
func escapeObjectPath(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "_%02x", c)
		}
	}
	return b.String()
}

// mountOf returns the mount holding folder: the one with the longest
// mount point that contains it (the top one when mounted over).
func mountOf(folder string, o Options) (mount, error) {
	abs, err := filepath.Abs(folder)
	if err != nil {
		return mount{}, err
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	path := o.MountInfo
	if path == "" {
		path = "/proc/self/mountinfo"
	}
	f, err := os.Open(path)
	if err != nil {
		return mount{}, fmt.Errorf("reading the mount table: %w", err)
	}
	defer f.Close()
	mounts, err := parseMountInfo(f)
	if err != nil {
		return mount{}, fmt.Errorf("reading the mount table: %w", err)
	}
	best := -1
	for i, m := range mounts {
		if under(abs, m.point) && (best < 0 || len(m.point) >= len(mounts[best].point)) {
			best = i
		}
	}
	if best < 0 {
		return mount{}, fmt.Errorf("volumes: %s is on no mounted drive", folder)
	}
	return mounts[best], nil
}
