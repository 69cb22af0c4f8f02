package volumes

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/godbus/dbus/v5"
)

// fakeUDisks stands in for udisksd on the private test bus: the D-Bus
// interface (org.freedesktop.UDisks2, https://storaged.org/doc/udisks2-api/2.8.3/)
// is the contract, so the test exports the objects and methods Eject uses
// and records the calls. It is not the real daemon: whether a real drive
// spins down is the daemon's business.
type fakeUDisks struct {
	mu       sync.Mutex
	calls    []string
	busy     bool
	canPower bool
}

func (f *fakeUDisks) record(s string) { f.mu.Lock(); f.calls = append(f.calls, s); f.mu.Unlock() }

type fakeManager struct{ f *fakeUDisks }

func (m fakeManager) ResolveDevice(spec, _ map[string]dbus.Variant) ([]dbus.ObjectPath, *dbus.Error) {
	p, _ := spec["path"].Value().(string)
	m.f.record("ResolveDevice " + p)
	if p != "/dev/sdz1" {
		return nil, nil
	}
	return []dbus.ObjectPath{"/org/freedesktop/UDisks2/block_devices/sdz1"}, nil
}

type fakeFS struct{ f *fakeUDisks }

func (x fakeFS) Unmount(opts map[string]dbus.Variant) *dbus.Error {
	ni, _ := opts["auth.no_user_interaction"].Value().(bool)
	x.f.record("Unmount no_user_interaction=" + map[bool]string{true: "true", false: "false"}[ni])
	if x.f.busy {
		return &dbus.Error{Name: "org.freedesktop.UDisks2.Error.DeviceBusy", Body: []any{"target is busy"}}
	}
	return nil
}

type fakeDrive struct{ f *fakeUDisks }

func (d fakeDrive) PowerOff(map[string]dbus.Variant) *dbus.Error {
	d.f.record("PowerOff")
	return nil
}

type fakeProps struct {
	f     *fakeUDisks
	props map[string]any
}

func (p fakeProps) Get(iface, name string) (dbus.Variant, *dbus.Error) {
	v, ok := p.props[iface+"."+name]
	if name == "CanPowerOff" {
		v, ok = p.f.canPower, true
	}
	if !ok {
		return dbus.Variant{}, &dbus.Error{Name: "org.freedesktop.DBus.Error.UnknownProperty", Body: []any{name}}
	}
	return dbus.MakeVariant(v), nil
}

func startFakeUDisks(t *testing.T) (*dbus.Conn, string, *fakeUDisks) {
	t.Helper()
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		t.Fatal("no D-Bus session: run under installer/test-session.sh (as make test does)")
	}
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := "org.lifeboat.test.UDisks2.x" + hex.EncodeToString(b)
	f := &fakeUDisks{canPower: true}
	drive := dbus.ObjectPath("/org/freedesktop/UDisks2/drives/Lifeboat_USB_Drive")
	block := dbus.ObjectPath("/org/freedesktop/UDisks2/block_devices/sdz1")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(conn.Export(fakeManager{f}, udisksManager, ifaceManager))
	must(conn.Export(fakeFS{f}, block, ifaceFilesystem))
	must(conn.Export(fakeProps{f, map[string]any{ifaceBlock + ".Drive": drive}}, block, ifaceProperties))
	must(conn.Export(fakeDrive{f}, drive, ifaceDrive))
	must(conn.Export(fakeProps{f, map[string]any{}}, drive, ifaceProperties))
	reply, err := conn.RequestName(name, dbus.NameFlagDoNotQueue)
	if err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("claiming %s: %v %v", name, reply, err)
	}
	return conn, name, f
}

func writeMountInfo(t *testing.T, point, fsType, source string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "mountinfo")
	table := "22 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw\n" +
		"40 22 8:97 / " + point + " rw,nosuid,nodev - " + fsType + " " + source + " rw\n"
	if err := os.WriteFile(p, []byte(table), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestEjectThroughUDisks(t *testing.T) {
	conn, name, f := startFakeUDisks(t)
	point, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	backup := filepath.Join(point, "Lifeboat backup")
	if err := os.Mkdir(backup, 0o700); err != nil {
		t.Fatal(err)
	}
	o := EjectOptions{Options: Options{MountInfo: writeMountInfo(t, point, "exfat", "/dev/sdz1")}, Bus: conn, UDisksName: name}
	ctx := context.Background()
	if err := Eject(ctx, backup, o); err != nil {
		t.Fatalf("Eject: %v", err)
	}
	want := []string{"ResolveDevice /dev/sdz1", "Unmount no_user_interaction=true", "PowerOff"}
	if strings.Join(f.calls, "|") != strings.Join(want, "|") {
		t.Fatalf("UDisks calls %q, want %q", f.calls, want)
	}

	// A drive a program is still using: not unmounted, not powered off,
	// and the owner is told why.
	f.calls, f.busy = nil, true
	err = Eject(ctx, backup, o)
	if err == nil || !strings.Contains(err.Error(), "could not be unmounted") {
		t.Fatalf("Eject of a busy drive: %v", err)
	}
	for _, c := range f.calls {
		if c == "PowerOff" {
			t.Fatal("a busy drive was powered off")
		}
	}

	// A drive that cannot be powered off is only unmounted.
	f.calls, f.busy, f.canPower = nil, false, false
	if err := Eject(ctx, backup, o); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(strings.Join(f.calls, "|"), "PowerOff") {
		t.Fatalf("calls %q: PowerOff sent to a drive that cannot", f.calls)
	}

	// Network shares and the system disk are not ejected.
	for _, tc := range []struct{ fs, src string }{{"cifs", "//nas/backup"}, {"nfs4", "nas:/export"}} {
		o.MountInfo = writeMountInfo(t, point, tc.fs, tc.src)
		if err := Eject(ctx, backup, o); !errors.Is(err, ErrEjectUnsupported) {
			t.Errorf("Eject on %s: %v, want ErrEjectUnsupported", tc.fs, err)
		}
	}
	o.MountInfo = writeMountInfo(t, "/nonexistent-mount", "exfat", "/dev/sdz1")
	if err := Eject(ctx, "/", o); !errors.Is(err, ErrEjectUnsupported) {
		t.Errorf("Eject of the system disk: %v", err)
	}
}

func TestEscapeObjectPath(t *testing.T) {
	for in, want := range map[string]string{"sdb1": "sdb1", "nvme0n1p2": "nvme0n1p2", "dm-0": "dm_2d0", "mmcblk0p1": "mmcblk0p1"} {
		if got := escapeObjectPath(in); got != want {
			t.Errorf("escapeObjectPath(%q) = %q, want %q", in, got, want)
		}
	}
}
