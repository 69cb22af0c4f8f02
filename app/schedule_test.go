package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/app/apptest"
	"github.com/lifeboat-backup/lifeboat/app/cli"
	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
	"github.com/lifeboat-backup/lifeboat/engine/runlock"
	"github.com/lifeboat-backup/lifeboat/engine/schedule"
	"github.com/lifeboat-backup/lifeboat/engine/service"
)

// The schedule tests of this file run the real binary as the operating
// system's scheduler would; the others are in app/cli.

// schedFixture is a signed-in account on the simulator, a backup folder
// made with init, and the file secret store, all through the command line.
type schedFixture struct {
	srv     *m365sim.Server
	profile string
	cfg     string
	dir     string
	id      string
}

func newSchedFixture(t *testing.T) schedFixture {
	t.Helper()
	srv := simtest.Start(t, nil, m365sim.Options{AutoApprove: 10 * time.Millisecond})
	f := schedFixture{srv: srv, profile: filepath.Join(t.TempDir(), "tenant.json"), cfg: filepath.Join(t.TempDir(), "config"),
		dir: filepath.Join(t.TempDir(), "backup")}
	if err := m365sim.WriteProfile(f.profile, srv.Profile()); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{"LIFEBOAT_CONFIG_DIR": f.cfg, "LIFEBOAT_SECRET_STORE": "file", "LIFEBOAT_CLIENT_ID": "",
		"LIFEBOAT_TENANT_PROFILE": "", "LIFEBOAT_RECOVERY_KEY": "", "LIFEBOAT_REPO": ""} {
		t.Setenv(k, v)
	}
	if code, out, errOut := f.cli(t, nil, "login"); code != cli.ExitOK {
		t.Fatalf("login: exit %d\n%s\n%s", code, out, errOut)
	}
	if code, out, errOut := f.cli(t, nil, "init", "--to", f.dir); code != cli.ExitOK {
		t.Fatalf("init: exit %d\n%s\n%s", code, out, errOut)
	}
	r := openWithFileKeychain(t, f.dir, f.cfg)
	f.id = r.Config().ID.String()
	r.Close()
	return f
}

// cli runs the command line in this process against the fixture's tenant.
func (f schedFixture) cli(t *testing.T, adjust func(*service.Options), args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := cli.Run(t.Context(), cli.Options{Stdout: &out, Stderr: &errb, Version: "test", Adjust: adjust, Interactive: func() bool { return false }},
		append([]string{"--tenant-profile", f.profile}, args...))
	return code, out.String(), errb.String()
}

// runs returns the backup runs this computer's catalog of the backup holds.
func (f schedFixture) runs(t *testing.T) []catalog.Run { return apptest.Runs(t, f.cfg, f.id) }

// TestScheduledBackupRealCron registers the schedule with a real crontab
// (busybox's, on a private spool), takes exactly the command line of the
// registered entry and gives it a one-minute schedule, then lets a real
// cron daemon (busybox crond on that spool, with none of the test's
// LIFEBOAT_ settings in its environment) run it: the entry's own command
// must back up against the simulator and record a run in the catalog.
func TestScheduledBackupRealCron(t *testing.T) {
	bb, err := exec.LookPath("busybox")
	if err != nil {
		t.Fatal("busybox is missing: run installer/deps.sh (package busybox-static, which has crond and crontab)")
	}
	if os.Getuid() != 0 {
		// busybox's crontab must be setuid root and its crond switches to
		// the entry's user, so a private cron needs root (CI runs as root).
		t.Fatal("this test runs a private cron daemon, which needs root: run it as root or in a root container")
	}
	f := newSchedFixture(t)
	spool := t.TempDir()
	crontab := []string{bb, "crontab", "-c", spool}
	exe := lifeboatBinary(t)
	code, out, errOut := f.cli(t, func(o *service.Options) {
		o.Scheduler, o.Executable = &schedule.Options{Backend: schedule.Cron, Crontab: crontab}, exe
	}, "schedule", "set", "--every", "30m", "--to", f.dir)
	if code != cli.ExitOK {
		t.Fatalf("schedule set: exit %d\n%s", code, errOut)
	}
	if !strings.Contains(out, "Registered with cron") {
		t.Errorf("set said:\n%s", out)
	}
	tab, err := exec.Command(bb, "crontab", "-c", spool, "-l").Output()
	if err != nil {
		t.Fatal(err)
	}
	var entry string
	for _, line := range strings.Split(string(tab), "\n") {
		if strings.Contains(line, " backup --scheduled") && !strings.HasPrefix(line, "#") {
			entry = line
		}
	}
	fields := strings.SplitN(entry, " ", 6)
	if len(fields) != 6 || strings.Join(fields[:5], " ") != "*/30 * * * *" {
		t.Fatalf("registered crontab:\n%s", tab)
	}
	command := fields[5]
	if !strings.Contains(command, "LIFEBOAT_CONFIG_DIR="+shellWord(f.cfg)) || !strings.HasSuffix(command, shellWord(exe)+" backup --scheduled") {
		t.Fatalf("entry command %q", command)
	}
	// The same entry, due every minute.
	fast := strings.Replace(string(tab), entry, "* * * * * "+command, 1)
	cmd := exec.Command(bb, "crontab", "-c", spool, "-")
	cmd.Stdin = strings.NewReader(fast)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("crontab: %v %s", err, out)
	}

	logFile := filepath.Join(t.TempDir(), "crond.log")
	crond := exec.Command(bb, "crond", "-f", "-c", spool, "-L", logFile, "-l", "6")
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "LIFEBOAT_") && !strings.HasPrefix(kv, "DBUS_") {
			crond.Env = append(crond.Env, kv)
		}
	}
	if err := crond.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { crond.Process.Kill(); crond.Wait() })

	deadline := time.Now().Add(150 * time.Second)
	var st service.ScheduleState
	for time.Now().Before(deadline) {
		time.Sleep(2 * time.Second)
		if st, err = service.LoadScheduleState(f.cfg); err == nil && !st.LastBatchStart.IsZero() {
			break
		}
	}
	if st.LastBatchStart.IsZero() {
		log, _ := os.ReadFile(logFile)
		t.Fatalf("cron did not run the scheduled backup within the time limit; crond log:\n%s", log)
	}
	runs := f.runs(t)
	if len(runs) == 0 || runs[0].Status != catalog.RunCompleted || runs[0].Counts.ItemsNew == 0 {
		t.Fatalf("catalog runs after the cron run: %+v", runs)
	}
	if log, _ := os.ReadFile(logFile); !bytes.Contains(log, []byte("backup --scheduled")) {
		t.Errorf("crond log does not show the entry:\n%s", log)
	}
	if len(st.Drives) != 1 || st.Drives[0].RepositoryID != f.id || st.LastPrune.IsZero() {
		t.Errorf("schedule record after the run: %+v", st)
	}
}

// TestOneBackupAtATime: while another process holds the backup's run lock,
// a scheduled run (the real binary) waits its bounded time and skips with
// a clear message, a manual run refuses at once, and a scheduled run that
// may wait longer runs once the lock is free. Then two real backups
// started together never overlap in time.
func TestOneBackupAtATime(t *testing.T) {
	f := newSchedFixture(t)
	ctx := t.Context()
	bin := lifeboatCLI{bin: lifeboatBinary(t), configDir: f.cfg}
	env := func(c *exec.Cmd) *exec.Cmd {
		c.Env = append(c.Env, "LIFEBOAT_TENANT_PROFILE="+f.profile)
		return c
	}
	runEnv := func(args ...string) (int, string, string) {
		c := env(bin.command(args...))
		var out, errb bytes.Buffer
		c.Stdout, c.Stderr = &out, &errb
		err := c.Run()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode(), out.String(), errb.String()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0, out.String(), errb.String()
	}
	if err := service.SaveSettings(f.cfg, service.Settings{Destination: f.dir, RepositoryID: f.id}); err != nil {
		t.Fatal(err)
	}
	held, err := runlock.Acquire(ctx, filepath.Join(f.cfg, "locks", f.id+".lock"), 0, "backup")
	if err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runEnv("backup", "--scheduled", "--wait", "1s")
	pidText := "(process " + strconv.Itoa(os.Getpid()) + ", started "
	if code != cli.ExitOK || !strings.Contains(out, "Another backup of this backup folder is already running "+pidText) ||
		!strings.Contains(out, "waiting up to 1s for it to finish") || !strings.Contains(out, "this scheduled backup is skipped") {
		t.Fatalf("scheduled run while busy: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = runEnv("backup", "--to", f.dir)
	if code != cli.ExitFailure || !strings.Contains(errOut, "another backup of this backup folder is already running "+pidText) ||
		!strings.Contains(errOut, "this backup was not started") {
		t.Fatalf("manual run while busy: exit %d\n%s\n%s", code, out, errOut)
	}
	if runs := f.runs(t); len(runs) != 0 {
		t.Fatalf("a run was recorded while the lock was held: %+v", runs)
	}
	time.AfterFunc(2*time.Second, func() { held.Release() })
	code, out, errOut = runEnv("backup", "--scheduled", "--wait", "2m")
	if code != cli.ExitOK || !strings.Contains(out, "waiting up to 2 minutes") || !strings.Contains(out, "backed up:") {
		t.Fatalf("scheduled run after the lock was freed: exit %d\n%s\n%s", code, out, errOut)
	}

	// Two at once: each either runs or says clearly that the other does;
	// recorded runs never overlap.
	type result struct {
		code     int
		out, err string
	}
	res := make([]result, 2)
	var wg sync.WaitGroup
	for i := range res {
		wg.Go(func() {
			c, o, e := runEnv("backup", "--to", f.dir)
			res[i] = result{c, o, e}
		})
	}
	wg.Wait()
	for _, r := range res {
		if r.code != cli.ExitOK && !(r.code == cli.ExitFailure && strings.Contains(r.err, "another backup of this backup folder is already running")) {
			t.Errorf("concurrent backup: exit %d\n%s\n%s", r.code, r.out, r.err)
		}
	}
	runs := f.runs(t)
	slices.SortFunc(runs, func(a, b catalog.Run) int { return a.Started.Compare(b.Started) })
	for i := 1; i < len(runs); i++ {
		if runs[i].Started.Before(runs[i-1].Ended) {
			t.Errorf("runs %d and %d overlap: %v–%v and %v–%v", runs[i-1].ID, runs[i].ID, runs[i-1].Started, runs[i-1].Ended, runs[i].Started, runs[i].Ended)
		}
	}
}

func shellWord(s string) string {
	if strings.ContainsAny(s, " '\"$`\\") {
		return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
	}
	return s
}
