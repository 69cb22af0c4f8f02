package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/app/cli"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
)

// companySim is a simulated company with everyone signed in to a CLI.
type companySim struct {
	tn      *m365sim.Tenant
	srv     *m365sim.Server
	profile string
	cli     lifeboatCLI
}

// newCompanySim starts a simulator with users people and signs every one
// of them in through `lifeboat login`, approving each device code as that
// person.
func newCompanySim(t *testing.T, users, messages, files int) *companySim {
	t.Helper()
	tn, err := m365sim.GenerateDemo(23, m365sim.DemoOptions{Users: users, MessagesPerUser: messages, FilesPerUser: files, MaxFileSize: 512 << 10})
	if err != nil {
		t.Fatal(err)
	}
	srv := simtest.Start(t, tn, m365sim.Options{})
	profile := filepath.Join(t.TempDir(), "tenant.json")
	if err := m365sim.WriteProfile(profile, srv.Profile()); err != nil {
		t.Fatal(err)
	}
	co := &companySim{tn: tn, srv: srv, profile: profile, cli: newLifeboatCLI(t)}
	for _, u := range tn.Users() {
		co.login(t, u.UPN)
	}
	return co
}

// login runs `lifeboat login` and approves its code as upn.
func (co *companySim) login(t *testing.T, upn string) {
	t.Helper()
	cmd := co.cli.command("--tenant-profile", co.profile, "login")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	sc := bufio.NewScanner(stdout)
	approved := false
	for sc.Scan() {
		out.WriteString(sc.Text() + "\n")
		if m := userCodeRE.FindStringSubmatch(out.String()); m != nil && !approved {
			if err := co.srv.ApproveDeviceCode(m[1], upn); err != nil {
				t.Fatal(err)
			}
			approved = true
		}
	}
	if err := cmd.Wait(); err != nil || !approved {
		t.Fatalf("login as %s: %v\n%s\n%s", upn, err, out.String(), errb.String())
	}
}

// change adds mail and files for a few people, as a working day does.
func (co *companySim) change(t *testing.T, rnd *rand.Rand, trial int) {
	t.Helper()
	users := co.tn.Users()
	for range 2 {
		u := users[rnd.IntN(len(users))].UPN
		addMail(t, co.tn, u, trial, 5+rnd.IntN(20))
		b := make([]byte, 50<<10+rnd.IntN(300<<10))
		for k := range b {
			b[k] = byte(rnd.Uint32())
		}
		if _, err := co.tn.PutFile(u, fmt.Sprintf("Trials/%03d/%s.bin", trial, strconv.Itoa(rnd.IntN(1000))), m365sim.BytesContent(b), time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
}

// restoreEverything restores every person's mail and files to a new
// folder and compares each with Microsoft 365: every file byte-identical
// at its path, every message's MIME byte-identical.
func (co *companySim) restoreEverything(t *testing.T, dir string) (files, messages int) {
	t.Helper()
	for _, u := range co.tn.Users() {
		out := filepath.Join(t.TempDir(), "restored")
		co.cli.mustRun(t, "--tenant-profile", co.profile, "restore", u.UPN+"/files", u.UPN+"/mail", "--to-dir", out, "--to", dir)
		got := map[[32]byte]int{}
		byPath := map[string][32]byte{}
		err := filepath.WalkDir(out, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(b)
			got[sum]++
			rel, _ := filepath.Rel(out, p)
			byPath[filepath.ToSlash(rel)] = sum
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		items, _ := co.tn.DriveItems(u.UPN)
		byID := map[string]m365sim.DriveItem{}
		for _, it := range items {
			byID[it.ID] = it
		}
		for _, it := range items {
			if it.Folder || it.Content == nil {
				continue
			}
			var parts []string
			for cur, ok := it, true; ok && cur.ParentID != ""; cur, ok = byID[cur.ParentID] {
				parts = append([]string{cur.Name}, parts...)
			}
			p := strings.Join(parts, "/")
			b, _ := io.ReadAll(it.Content.Open())
			want := sha256.Sum256(b)
			// A name this computer's file system cannot hold as it is
			// (too long, other Unicode form) is restored under a safe
			// name: then the content must be there under some name.
			if sum, ok := byPath["OneDrive/"+p]; (ok && sum != want) || (!ok && got[want] == 0) {
				t.Errorf("%s: file %s not restored byte-identical (at its path: %v)", u.UPN, p, ok)
			}
			files++
		}
		msgs, _ := co.tn.Messages(u.UPN, "")
		for _, m := range msgs {
			sum := sha256.Sum256(m.MIME)
			if got[sum] == 0 {
				t.Errorf("%s: message %q not restored byte-identical", u.UPN, m.Header.Subject)
			}
			messages++
		}
	}
	return files, messages
}

// companyCrashTrials: LIFEBOAT_COMPANY_CRASH_TRIALS, else 3 (make test);
// make crash-long sets 100.
func companyCrashTrials(t *testing.T) int {
	if s := os.Getenv("LIFEBOAT_COMPANY_CRASH_TRIALS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("LIFEBOAT_COMPANY_CRASH_TRIALS=%q: want a positive number", s)
		}
		return n
	}
	return 3
}

// TestCrashCompanyKill9 kills `lifeboat backup` of a whole company (four
// people signed in, their mailboxes and OneDrives) with SIGKILL at random
// moments while the company keeps working: after every kill the backup
// verifies (every tenth with every byte read); at the end one run
// completes, verify --read-data passes, and every email and file of every
// person restores byte-identical.
func TestCrashCompanyKill9(t *testing.T) {
	trials := companyCrashTrials(t)
	co := newCompanySim(t, 4, 120, 15)
	dir := filepath.Join(t.TempDir(), "backup")
	co.cli.init(t, dir)
	backupArgs := []string{"--tenant-profile", co.profile, "backup", "--to", dir, "--checkpoint-every", "50ms"}
	rnd := rand.New(rand.NewPCG(20261207, 100))

	window := 3 * time.Second
	killed, verified := 0, 0
	var mu sync.Mutex
	for trial := 1; trial <= trials; trial++ {
		co.change(t, rnd, trial)
		cmd := co.cli.command(backupArgs...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		delay := time.Duration(rnd.Int64N(int64(window)))
		select {
		case err := <-exited:
			// Finished before the kill: adapt the window to the run.
			mu.Lock()
			window = max(500*time.Millisecond, time.Since(start)*11/10)
			mu.Unlock()
			if err != nil {
				var code int
				if ee, ok := err.(interface{ ExitCode() int }); ok {
					code = ee.ExitCode()
				}
				if code != cli.ExitWarnings {
					t.Fatalf("trial %d: backup failed on its own: %v", trial, err)
				}
			}
		case <-time.After(delay):
			_ = cmd.Process.Signal(syscall.SIGKILL)
			<-exited
			killed++
		}
		args := []string{"verify", "--to", dir}
		if trial%10 == 0 {
			args = append(args, "--read-data")
		}
		if out := co.cli.mustRun(t, args...); !strings.Contains(out, "No damage found") {
			t.Fatalf("trial %d: verify after the kill:\n%s", trial, out)
		}
		verified++
	}
	co.cli.mustRun(t, backupArgs...)
	if out := co.cli.mustRun(t, "verify", "--to", dir, "--read-data"); !strings.Contains(out, "No damage found") {
		t.Fatalf("final verify --read-data:\n%s", out)
	}
	files, messages := co.restoreEverything(t, dir)
	t.Logf("%d trials: %d backups killed mid-run, %d verified after the kill; then %d files and %d messages of %d people restored byte-identical",
		trials, killed, verified, files, messages, len(co.tn.Users()))
	if killed < trials/2 {
		t.Errorf("only %d of %d runs were killed mid-run", killed, trials)
	}
}
