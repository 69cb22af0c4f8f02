package oracle

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// childEnv names the test a re-executed binary is to run isolated, and
// parentMntEnv the mount namespace it must not be in.
const (
	childEnv     = "LIFEBOAT_ORACLE_ISOLATED"
	parentMntEnv = "LIFEBOAT_ORACLE_PARENT_MNTNS"
)

// childTimeout bounds one isolated test, clients included.
const childTimeout = 8 * time.Minute

// Isolated runs the calling top-level test in a private mount and network
// namespace of its own: the test binary re-executes itself there for this
// one test. It returns true in that child, where the test body goes on
// (with loopback up and mounts private, so a bind mount over /etc/hosts
// is seen by nothing outside), and false in the parent, which has already
// run the child and reported its result; the parent returns at once.
//
// Root is not required: without it the child also gets a user namespace
// that maps the caller to root inside.
func Isolated(t *testing.T) bool {
	t.Helper()
	if os.Getenv(childEnv) == t.Name() {
		enterPrivate(t)
		return true
	}
	if strings.Contains(t.Name(), "/") {
		t.Fatal("oracle.Isolated works in top-level tests only")
	}
	mnt, err := os.Readlink("/proc/self/ns/mnt")
	if err != nil {
		t.Fatalf("read mount namespace: %v", err)
	}
	args := []string{"-test.run=^" + regexp.QuoteMeta(t.Name()) + "$", "-test.v", "-test.count=1",
		"-test.timeout=" + childTimeout.String()}
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), childEnv+"="+t.Name(), parentMntEnv+"="+mnt)
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNS | syscall.CLONE_NEWNET, Pdeathsig: syscall.SIGKILL}
	if os.Geteuid() != 0 {
		cmd.SysProcAttr.Cloneflags |= syscall.CLONE_NEWUSER
		cmd.SysProcAttr.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Geteuid(), Size: 1}}
		cmd.SysProcAttr.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getegid(), Size: 1}}
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = 10 * time.Second
	err = cmd.Run()
	t.Logf("isolated run of %s:\n%s", t.Name(), indent(out.String()))
	switch {
	case err != nil:
		t.Fatalf("isolated %s: %v", t.Name(), err)
	case !strings.Contains(out.String(), "--- PASS: "+t.Name()+" "):
		t.Fatalf("isolated %s did not report a pass", t.Name())
	}
	return false
}

func indent(s string) string {
	return "    | " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n    | ")
}

// enterPrivate checks that this process really has namespaces of its own,
// makes every mount private (so nothing mounted here propagates to the
// machine) and brings loopback up.
func enterPrivate(t *testing.T) {
	t.Helper()
	mnt, err := os.Readlink("/proc/self/ns/mnt")
	if err != nil || mnt == os.Getenv(parentMntEnv) || os.Getenv(parentMntEnv) == "" {
		t.Fatalf("not in a private mount namespace (%s, parent %s, %v): refusing to change mounts", mnt, os.Getenv(parentMntEnv), err)
	}
	if err := unix.Mount("none", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		t.Fatalf("make mounts private: %v", err)
	}
	if err := loopbackUp(); err != nil {
		t.Fatalf("bring loopback up: %v", err)
	}
}

func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return err
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP | unix.IFF_RUNNING)
	return unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr)
}

// bindOver mounts file over target for this mount namespace only, and
// undoes it at cleanup.
func bindOver(t *testing.T, file, target string) {
	t.Helper()
	if os.Getenv(childEnv) != t.Name() {
		t.Fatal("bindOver outside an isolated test")
	}
	if err := unix.Mount(file, target, "", unix.MS_BIND, ""); err != nil {
		t.Fatalf("bind %s over %s: %v", file, target, err)
	}
	t.Cleanup(func() { _ = unix.Unmount(target, unix.MNT_DETACH) })
}

// writeFile writes a file in the test's temporary folder.
func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
