//go:build linux

package sharetest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

const sshdConf = `Port %[2]d
ListenAddress 127.0.0.1
HostKey %[1]s/host_key
PidFile %[1]s/sshd.pid
AuthorizedKeysFile %[1]s/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
StrictModes no
UsePAM no
Subsystem sftp internal-sftp
`

// SSHFS serves a new folder over SFTP with OpenSSH's sshd on loopback
// (a throwaway host key and user key) and mounts it with sshfs. The server
// and the mount are stopped when the test ends.
func SSHFS(t testing.TB) *Share {
	t.Helper()
	requireTools(t, "/usr/sbin/sshd", "ssh-keygen", "sshfs", "fusermount3")
	base := t.TempDir()
	serverDir := filepath.Join(base, "share")
	mnt := filepath.Join(base, "mnt")
	for _, d := range []string{serverDir, mnt} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range []string{"host_key", "user_key"} {
		if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", filepath.Join(base, k)).CombinedOutput(); err != nil {
			t.Fatalf("sharetest: ssh-keygen: %v\n%s", err, out)
		}
	}
	pub, err := os.ReadFile(filepath.Join(base, "user_key.pub"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(base, "authorized_keys"), pub, 0o600); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	conf := filepath.Join(base, "sshd_config")
	if err := os.WriteFile(conf, fmt.Appendf(nil, sshdConf, base, port), 0o600); err != nil {
		t.Fatal(err)
	}
	// sshd insists on its privilege separation folder.
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		t.Fatal(err)
	}
	slog := &syncBuffer{}
	srv := start(t, slog, "/usr/sbin/sshd", "-D", "-e", "-f", conf)
	waitPort(t, port, srv, slog)

	clog := &syncBuffer{}
	// -f: stay in the foreground, so the test owns the client process.
	client := start(t, clog, "sshfs", "-f", "-p", fmt.Sprint(port),
		"-o", "IdentityFile="+filepath.Join(base, "user_key"),
		"-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes",
		"-o", "LogLevel=ERROR",
		"root@127.0.0.1:"+serverDir, mnt)
	s := &Share{Kind: "sshfs", Dir: mnt, ServerDir: serverDir, t: t, client: client, server: srv}
	s.unmnt = func() error { return fuseUnmount(mnt) }
	t.Cleanup(func() { _ = s.Unmount() })
	waitMounted(t, mnt, "fuse.sshfs", client, clog)
	return s
}
