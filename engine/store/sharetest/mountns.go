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

// Tmpfs mounts a tmpfs of size bytes on a new folder and returns it. Only
// inside InMountNamespace.
func Tmpfs(t testing.TB, size int64) string {
	t.Helper()
	if os.Getenv(mountNSEnv) == "" {
		t.Fatal("sharetest: Tmpfs outside a private mount namespace")
	}
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV, fmt.Sprintf("size=%d,mode=0700", size)); err != nil {
		t.Fatalf("sharetest: mounting a tmpfs: %v", err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(dir, syscall.MNT_DETACH) })
	return dir
}

// Detach lazily unmounts what is mounted on dir, as when a drive is pulled
// out: files already open keep working, and the path now leads to the
// empty mount point. Only inside InMountNamespace.
func Detach(t testing.TB, dir string) {
	t.Helper()
	if os.Getenv(mountNSEnv) == "" {
		t.Fatal("sharetest: Detach outside a private mount namespace")
	}
	if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
		t.Fatalf("sharetest: unmounting %s: %v", dir, err)
	}
}
