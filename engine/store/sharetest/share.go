//go:build linux

package sharetest

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Share is a mounted share: Dir is where programs use it, ServerDir the
// folder its server keeps the files in (to look behind the client's back).
type Share struct {
	// Kind is "smb", "sshfs" or "flawed".
	Kind      string
	Dir       string
	ServerDir string

	t      testing.TB
	client *proc // the FUSE client process, nil for an in-process one
	server *proc
	unmnt  func() error
	mu     sync.Mutex
	gone   bool
}

// Kill ends the FUSE client abruptly (SIGKILL), as when a NAS loses power
// or its cable is pulled: every later file operation in Dir fails with
// "transport endpoint is not connected". The mount is cleaned up when the
// test ends.
func (s *Share) Kill() {
	s.t.Helper()
	if s.client == nil {
		s.t.Fatal("sharetest: Kill needs a share served by a separate process")
	}
	_ = s.client.cmd.Process.Signal(syscall.SIGKILL)
	<-s.client.done
}

// Unmount unmounts the share now (lazily: open files stay usable, every
// new path lookup sees the empty mount point).
func (s *Share) Unmount() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gone {
		return nil
	}
	s.gone = true
	return s.unmnt()
}

// requireTools fails the test when it cannot mount shares here.
func requireTools(t testing.TB, tools ...string) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("sharetest: network shares are tested on Linux (FUSE)")
	}
	if os.Geteuid() != 0 {
		t.Fatal("sharetest: mounting shares needs root (CI and the test machines run as root)")
	}
	if _, err := os.Stat("/dev/fuse"); err != nil {
		t.Fatalf("sharetest: no FUSE device: %v", err)
	}
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("sharetest: %s is not installed (run installer/deps.sh): %v", tool, err)
		}
	}
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// waitPort waits until something listens on the loopback port.
func waitPort(t testing.TB, port int, p *proc, log *syncBuffer) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err == nil {
			c.Close()
			return
		}
		if p.exited() || time.Now().After(deadline) {
			t.Fatalf("sharetest: %s did not start listening on port %d: %v\n%s", filepath.Base(p.cmd.Path), port, err, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitMounted waits until dir is a mount point of a file system whose type
// starts with fstype.
func waitMounted(t testing.TB, dir, fstype string, p *proc, log *syncBuffer) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !mounted(dir, fstype) {
		if (p != nil && p.exited()) || time.Now().After(deadline) {
			t.Fatalf("sharetest: %s was not mounted on %s\n%s", fstype, dir, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// mounted reports whether dir is a mount point with a type prefixed fstype.
func mounted(dir, fstype string) bool {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		fields, rest := strings.Fields(pre), strings.Fields(post)
		if ok && len(fields) >= 5 && len(rest) >= 1 && fields[4] == dir && strings.HasPrefix(rest[0], fstype) {
			return true
		}
	}
	return false
}

// proc is a helper process the test started.
type proc struct {
	cmd  *exec.Cmd
	done chan struct{} // closed once it has exited and been reaped
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// start starts a helper process in its own process group, so that
// stopping it also stops the children it forks (smbd does).
func start(t testing.TB, log *syncBuffer, name string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("sharetest: starting %s: %v", name, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		// The process group this test created, by its id.
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	})
	return &proc{cmd: cmd, done: done}
}

// fuseUnmount lazily unmounts a FUSE mount point.
func fuseUnmount(dir string) error {
	if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil && err != syscall.EINVAL {
		return fmt.Errorf("sharetest: unmounting %s: %w", dir, err)
	}
	return nil
}

// syncBuffer is a bytes.Buffer safe for a process's two output streams.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
