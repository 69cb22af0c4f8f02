//go:build linux

package sharetest

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// mountNSEnv names the test a child process runs inside its private
// mount namespace.
const mountNSEnv = "LIFEBOAT_SHARETEST_MOUNTNS"

// InMountNamespace runs the calling top-level test again in a child
// process of the test binary that has a private mount namespace (mounts
// made there are invisible to the machine and vanish with the process).
// In the parent it waits for the child, reports its output and returns
// false; in the child it returns true and the test goes on to mount what it
// needs:
//
//	func TestFullDrive(t *testing.T) {
//		if !sharetest.InMountNamespace(t) {
//			return
//		}
//		dir := sharetest.Tmpfs(t, 8<<20)
//		…
//	}
func InMountNamespace(t *testing.T) bool {
	t.Helper()
	if strings.Contains(t.Name(), "/") {
		t.Fatal("sharetest: InMountNamespace must be called from a top-level test")
	}
	if os.Getenv(mountNSEnv) == t.Name() {
		return true
	}
	requireTools(t)
	args := []string{"-test.run=^" + regexp.QuoteMeta(t.Name()) + "$", "-test.count=1", "-test.v"}
	if testing.Short() {
		args = append(args, "-test.short")
	}
	if d, ok := t.Deadline(); ok {
		args = append(args, "-test.timeout="+fmt.Sprint(int(time.Until(d).Seconds()))+"s")
	}
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), mountNSEnv+"="+t.Name())
	// Go makes / recursively private in the new namespace, so nothing
	// mounted there propagates back to the machine.
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	for line := range strings.SplitSeq(strings.TrimRight(out.String(), "\n"), "\n") {
		t.Log(line)
	}
	var ee *exec.ExitError
	switch {
	case err == nil:
		if !strings.Contains(out.String(), "--- PASS: "+t.Name()) {
			t.Fatal("sharetest: the test did not run in the mount namespace")
		}
	case errors.As(err, &ee):
		t.Fatalf("sharetest: the test failed in its mount namespace (exit %d)", ee.ExitCode())
	default:
		t.Fatalf("sharetest: running the test in a mount namespace: %v", err)
	}
	return false
}

// Drive is a small removable drive made of a tmpfs, inside
// InMountNamespace: Dir is where it is mounted (a bind mount of the tmpfs,
// so that pulling it out keeps its content for when it comes back).
type Drive struct {
	Dir     string
	backing string
	t       testing.TB
}

// NewDrive mounts a tmpfs of size bytes and returns it as a drive.
func NewDrive(t testing.TB, size int64) *Drive {
	t.Helper()
	if os.Getenv(mountNSEnv) == "" {
		t.Fatal("sharetest: NewDrive outside a private mount namespace (InMountNamespace)")
	}
	d := &Drive{Dir: t.TempDir(), backing: t.TempDir(), t: t}
	if err := syscall.Mount("tmpfs", d.backing, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV, fmt.Sprintf("size=%d,mode=0700", size)); err != nil {
		t.Fatalf("sharetest: mounting a tmpfs: %v", err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(d.backing, syscall.MNT_DETACH) })
	d.Plug()
	return d
}

// Plug mounts the drive on Dir (again).
func (d *Drive) Plug() {
	d.t.Helper()
	if err := syscall.Mount(d.backing, d.Dir, "", syscall.MS_BIND, ""); err != nil {
		d.t.Fatalf("sharetest: mounting the drive: %v", err)
	}
	d.t.Cleanup(func() { _ = syscall.Unmount(d.Dir, syscall.MNT_DETACH) })
}

// Pull unmounts the drive lazily, as pulling out a USB drive looks to a
// program: files already open keep working, and Dir is now the empty
// mount point on the system disk.
func (d *Drive) Pull() {
	d.t.Helper()
	if err := syscall.Unmount(d.Dir, syscall.MNT_DETACH); err != nil {
		d.t.Fatalf("sharetest: pulling the drive: %v", err)
	}
}

// Resize changes the drive's size (space freed, or a bigger drive).
func (d *Drive) Resize(size int64) {
	d.t.Helper()
	if err := syscall.Mount("tmpfs", d.backing, "tmpfs", syscall.MS_REMOUNT|syscall.MS_NOSUID|syscall.MS_NODEV, fmt.Sprintf("size=%d", size)); err != nil {
		d.t.Fatalf("sharetest: resizing the drive: %v", err)
	}
}
