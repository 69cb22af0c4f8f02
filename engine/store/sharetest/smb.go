//go:build linux

package sharetest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// smbConf is a Samba configuration that keeps everything (state, locks,
// the password database, logs) in the test's folder and listens only on
// one loopback port.
const smbConf = `[global]
  server role = standalone server
  smb ports = %[2]d
  interfaces = 127.0.0.1
  bind interfaces only = yes
  disable netbios = yes
  server min protocol = SMB2
  state directory = %[1]s/state
  cache directory = %[1]s/cache
  lock directory = %[1]s/lock
  private dir = %[1]s/private
  pid directory = %[1]s/run
  ncalrpc dir = %[1]s/run/ncalrpc
  log file = %[1]s/log/smbd.log
  passdb backend = tdbsam:%[1]s/private/passdb.tdb
  map to guest = never
  load printers = no
  printing = bsd
  printcap name = /dev/null
  disable spoolss = yes
[backup]
  path = %[3]s
  read only = no
  force user = root
`

// SMB serves a new folder with Samba on loopback and mounts the share
// with rclone's SMB client through FUSE, as a NAS share is mounted on a
// PC. The server and the mount are stopped when the test ends.
func SMB(t testing.TB) *Share {
	t.Helper()
	requireTools(t, "smbd", "smbpasswd", "rclone", "fusermount3")
	base := t.TempDir()
	serverDir := filepath.Join(base, "share")
	for _, d := range []string{"share", "state", "cache", "lock", "private", "run", "log", "mnt", "rclone"} {
		if err := os.MkdirAll(filepath.Join(base, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	port := freePort(t)
	conf := filepath.Join(base, "smb.conf")
	if err := os.WriteFile(conf, fmt.Appendf(nil, smbConf, base, port, serverDir), 0o600); err != nil {
		t.Fatal(err)
	}
	const password = "lifeboat-test"
	pw := exec.Command("smbpasswd", "-c", conf, "-s", "-a", "root")
	pw.Stdin = strings.NewReader(password + "\n" + password + "\n")
	if out, err := pw.CombinedOutput(); err != nil {
		t.Fatalf("sharetest: smbpasswd: %v\n%s", err, out)
	}
	slog := &syncBuffer{}
	srv := start(t, slog, "smbd", "--foreground", "--no-process-group", "--debug-stdout", "--debuglevel=1", "--configfile="+conf)
	waitPort(t, port, srv, slog)

	obscured, err := exec.Command("rclone", "obscure", password).Output()
	if err != nil {
		t.Fatalf("sharetest: rclone obscure: %v", err)
	}
	rconf := filepath.Join(base, "rclone", "rclone.conf")
	if err := os.WriteFile(rconf, fmt.Appendf(nil, "[nas]\ntype = smb\nhost = 127.0.0.1\nport = %d\nuser = root\npass = %s\n",
		port, strings.TrimSpace(string(obscured))), 0o600); err != nil {
		t.Fatal(err)
	}
	mnt := filepath.Join(base, "mnt")
	clog := &syncBuffer{}
	// No VFS cache: every write and fsync goes to the server as the
	// program makes it, which is how a share should be used for backups
	// (a write-back cache acknowledges data the NAS does not have yet).
	// No directory cache either: with one, rclone answered from a stale
	// listing after a rename over a file (the next remove failed with an
	// I/O error).
	client := start(t, clog, "rclone", "--config", rconf, "mount", "nas:backup", mnt,
		"--vfs-cache-mode", "off", "--dir-cache-time", "0s", "--log-level", "NOTICE")
	s := &Share{Kind: "smb", Dir: mnt, ServerDir: serverDir, t: t, client: client, server: srv}
	s.unmnt = func() error { return fuseUnmount(mnt) }
	t.Cleanup(func() { _ = s.Unmount() })
	waitMounted(t, mnt, "fuse.rclone", client, clog)
	return s
}
