package main

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/store"
	"github.com/lifeboat-backup/lifeboat/engine/store/sharetest"
)

// TestBackupOnNetworkShares keeps the backup on a real network share, a
// Samba share mounted with rclone's SMB client and an OpenSSH folder
// mounted with sshfs (both on loopback, through FUSE): the share passes the
// probe, `lifeboat backup` is killed with SIGKILL at random moments
// (LIFEBOAT_SHARE_CRASH_TRIALS times per share, default 3) and verifies
// after each kill, then a run completes, `verify --read-data` passes and
// every email and file restores byte-identical from the share.
func TestBackupOnNetworkShares(t *testing.T) {
	trials := 3
	if s := os.Getenv("LIFEBOAT_SHARE_CRASH_TRIALS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("LIFEBOAT_SHARE_CRASH_TRIALS=%q", s)
		}
		trials = n
	}
	for _, mount := range []func(testing.TB) *sharetest.Share{sharetest.SMB, sharetest.SSHFS} {
		sh := mount(t)
		t.Run(sh.Kind, func(t *testing.T) {
			rep, err := store.ProbeFolder(t.Context(), sh.Dir)
			if err != nil || rep.Err() != nil {
				t.Fatalf("probe of the %s share: %v %v", sh.Kind, err, rep.Err())
			}
			co := newCompanySim(t, 1, 150, 12)
			dir := filepath.Join(sh.Dir, "Lifeboat backup")
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			co.cli.init(t, dir)
			args := []string{"--tenant-profile", co.profile, "backup", "--to", dir, "--checkpoint-every", "50ms"}
			rnd := rand.New(rand.NewPCG(uint64(len(sh.Kind)), 9))
			window, killed := 4*time.Second, 0
			for trial := 1; trial <= trials; trial++ {
				co.change(t, rnd, trial)
				cmd := co.cli.command(args...)
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				start := time.Now()
				exited := make(chan error, 1)
				go func() { exited <- cmd.Wait() }()
				select {
				case err := <-exited:
					window = max(500*time.Millisecond, time.Since(start))
					if err != nil {
						t.Fatalf("trial %d: backup on the %s share failed on its own: %v", trial, sh.Kind, err)
					}
				case <-time.After(time.Duration(rnd.Int64N(int64(window)))):
					_ = cmd.Process.Signal(syscall.SIGKILL)
					<-exited
					killed++
				}
				if out := co.cli.mustRun(t, "verify", "--to", dir); !strings.Contains(out, "No damage found") {
					t.Fatalf("trial %d: verify on the %s share after the kill:\n%s", trial, sh.Kind, out)
				}
			}
			co.cli.mustRun(t, args...)
			if out := co.cli.mustRun(t, "verify", "--to", dir, "--read-data"); !strings.Contains(out, "No damage found") {
				t.Fatalf("verify --read-data on the %s share:\n%s", sh.Kind, out)
			}
			files, messages := co.restoreEverything(t, dir)
			t.Logf("%s share (%s): %d of %d backups killed, each verified; %d files and %d messages restored byte-identical",
				sh.Kind, rep.FSType, killed, trials, files, messages)
		})
	}
}
