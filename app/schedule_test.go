package main

import (
	"bufio"
	"bytes"
	"context"
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

	"github.com/godbus/dbus/v5"

	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/health"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/notify"
	"github.com/lifeboat-backup/lifeboat/engine/runlock"
	"github.com/lifeboat-backup/lifeboat/engine/schedule"
	"github.com/lifeboat-backup/lifeboat/engine/volumes"
)

// schedFixture is a signed-in account on the simulator, a backup folder
// made with init, and the file secret store, all through the CLI.
type schedFixture struct {
	srv     *m365sim.Server
	profile string
	cfg     string
	dir     string
	id      string
}

func newSchedFixture(t *testing.T) schedFixture {
	t.Helper()
	srv, profile, cfg := loginEnv(t, m365sim.Options{AutoApprove: 10 * time.Millisecond})
	t.Setenv("LIFEBOAT_RECOVERY_KEY", "")
	t.Setenv("LIFEBOAT_REPO", "")
	t.Setenv("LIFEBOAT_SECRET_STORE", "file")
	if code, out, errOut := lifeboat(t, t.Context(), "--tenant-profile", profile, "login"); code != exitOK {
		t.Fatalf("login: exit %d\n%s\n%s", code, out, errOut)
	}
	dir, _ := initRepo(t)
	r := openWithFileKeychain(t, dir, cfg)
	id := r.Config().ID.String()
	r.Close()
	return schedFixture{srv: srv, profile: profile, cfg: cfg, dir: dir, id: id}
}

func (f schedFixture) globals() (*globals, *syncBuffer, *syncBuffer) {
	var out, errb syncBuffer
	return &globals{tenantProfile: f.profile, logLevel: "warn", stdout: &out, stderr: &errb, volumes: roomyDisks()}, &out, &errb
}

// roomyDisks reports every drive as a 2 TB disk with 1.5 TB free, so that
// no test depends on how full the test machine's disk happens to be.
func roomyDisks() volumes.Options {
	return diskSpace(2<<40, 3<<39)
}

// diskSpace reports every drive as total bytes with free of them free.
func diskSpace(total, free uint64) volumes.Options {
	return volumes.Options{Space: func(string) (uint64, uint64, error) { return total, free, nil }}
}

// runs returns the backup runs this computer's catalog of the backup holds.
func (f schedFixture) runs(t *testing.T) []catalog.Run {
	t.Helper()
	path := filepath.Join(f.cfg, "catalogs", f.id+".db")
	if _, err := os.Stat(path); err != nil {
		return nil
	}
	cat, err := catalog.Open(context.Background(), path, catalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer cat.Close()
	runs, err := cat.Runs(context.Background(), 100)
	if err != nil {
		t.Fatal(err)
	}
	return runs
}

// TestScheduleSetShowRemove registers with systemd (its commands captured,
// the unit files real), shows, and removes.
func TestScheduleSetShowRemove(t *testing.T) {
	f := newSchedFixture(t)
	ctx := t.Context()
	units := t.TempDir()
	var calls []string
	runner := runnerFunc(func(name string, args ...string) ([]byte, error) {
		calls = append(calls, name+" "+strings.Join(args, " "))
		return nil, nil
	})
	o := scheduleOptions{daily: "21:00", executable: "/opt/Lifeboat/lifeboat",
		sched: &schedule.Options{GOOS: "linux", Runner: runner, UnitDir: units}}
	o.repo.to = f.dir
	g, out, _ := f.globals()
	if err := runScheduleSet(ctx, g, o); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "now run every day at 21:00, also when Lifeboat is closed") ||
		!strings.Contains(out.String(), "systemd user timer lifeboat-backup.timer") {
		t.Errorf("set said:\n%s", out)
	}
	svc, err := os.ReadFile(filepath.Join(units, "lifeboat-backup.service"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`ExecStart="/opt/Lifeboat/lifeboat" "backup" "--scheduled"`, `Environment="LIFEBOAT_CONFIG_DIR=` + f.cfg + `"`,
		`Environment="LIFEBOAT_SECRET_STORE=file"`, `Environment="LIFEBOAT_TENANT_PROFILE=` + f.profile + `"`} {
		if !strings.Contains(string(svc), want) {
			t.Errorf("service lacks %s:\n%s", want, svc)
		}
	}
	if !slices.Contains(calls, "systemctl --user enable lifeboat-backup.timer") {
		t.Errorf("systemctl calls %q", calls)
	}
	s, err := loadSettings(f.cfg)
	if err != nil || s.Destination != f.dir || s.RepositoryID != f.id {
		t.Fatalf("settings %+v %v", s, err)
	}

	g, out, _ = f.globals()
	if err := runScheduleShow(ctx, g, o); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Backups run every day at 21:00 (systemd), to " + f.dir, "Last good backup: none yet.", "All is well."} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("show lacks %q:\n%s", want, out)
		}
	}
	// The same backup on a drive with 2% free warns about it.
	g, out, _ = f.globals()
	g.volumes = diskSpace(1<<40, 1<<40/50)
	if err := runScheduleShow(ctx, g, o); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"WARNING: The backup drive is almost full", "(2%) is free on " + f.dir} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("show on a full drive lacks %q:\n%s", want, out)
		}
	}
	// Invalid schedules are usage errors.
	for _, bad := range []scheduleOptions{{daily: "25:00"}, {every: "5h"}, {}, {daily: "21:00", every: "4h"}, {daily: "21:00", backend: "at"}} {
		bad.repo.to = f.dir
		g, _, _ := f.globals()
		if err := runScheduleSet(ctx, g, bad); exitCodeFor(err) != exitUsage {
			t.Errorf("%+v: %v", bad, err)
		}
	}

	g, out, _ = f.globals()
	if err := runScheduleRemove(ctx, g, o); err != nil || !strings.Contains(out.String(), "Automatic backups are off") {
		t.Fatal(err, out)
	}
	if _, err := os.Stat(filepath.Join(units, "lifeboat-backup.timer")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("timer left: %v", err)
	}
	g, out, _ = f.globals()
	if err := runScheduleShow(ctx, g, o); err != nil || !strings.Contains(out.String(), "No automatic backups are set up") {
		t.Errorf("after remove: %v\n%s", err, out)
	}
}

type runnerFunc func(name string, args ...string) ([]byte, error)

func (f runnerFunc) Run(_ context.Context, _ []byte, name string, args ...string) ([]byte, error) {
	return f(name, args...)
}

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
	ctx := t.Context()
	spool := t.TempDir()
	crontab := []string{bb, "crontab", "-c", spool}
	o := scheduleOptions{every: "30m", executable: lifeboatBinary(t), sched: &schedule.Options{Backend: schedule.Cron, Crontab: crontab}}
	o.repo.to = f.dir
	g, out, _ := f.globals()
	if err := runScheduleSet(ctx, g, o); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "Registered with cron") {
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
	if !strings.Contains(command, "LIFEBOAT_CONFIG_DIR="+shellWord(f.cfg)) || !strings.HasSuffix(command, shellWord(o.executable)+" backup --scheduled") {
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
	var st scheduleState
	for time.Now().Before(deadline) {
		time.Sleep(2 * time.Second)
		if st, err = loadScheduleState(f.cfg); err == nil && !st.LastBatchStart.IsZero() {
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

func shellWord(s string) string {
	if strings.ContainsAny(s, " '\"$`\\") {
		return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
	}
	return s
}

// notificationBus starts a private D-Bus with a notification service on
// it and returns its address and what the service receives.
func notificationBus(t *testing.T) (string, *notifications) {
	t.Helper()
	cmd := exec.Command("dbus-daemon", "--session", "--nofork", "--nopidfile", "--print-address=1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("dbus-daemon (installer/deps.sh installs dbus): %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addr, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	addr = strings.TrimSpace(addr)
	conn, err := dbus.Connect(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	n := &notifications{}
	if err := conn.Export(n, "/org/freedesktop/Notifications", "org.freedesktop.Notifications"); err != nil {
		t.Fatal(err)
	}
	if reply, err := conn.RequestName("org.freedesktop.Notifications", dbus.NameFlagDoNotQueue); err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("notification service: %v %v", reply, err)
	}
	return addr, n
}

type notifications struct {
	mu     sync.Mutex
	titles []string
}

func (n *notifications) Notify(app string, replaces uint32, icon, summary, body string, actions []string, hints map[string]dbus.Variant, timeout int32) (uint32, *dbus.Error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.titles = append(n.titles, summary+": "+body)
	return uint32(len(n.titles)), nil
}

func (n *notifications) list() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.titles)
}

// TestScheduledBackupFollowsTheDrive: the backup folder moves to another
// mount point (a USB drive back under a new letter) and the scheduled run
// finds it by ID; unplugged, the run ends with "destination missing"
// (exit 5), a notification asks for the drive, and the dashboard's health
// shows it.
func TestScheduledBackupFollowsTheDrive(t *testing.T) {
	f := newSchedFixture(t)
	ctx := t.Context()
	addr, got := notificationBus(t)
	nt := notify.New(notify.Options{GOOS: "linux", BusAddress: addr})
	if err := saveSettings(f.cfg, settings{Destination: f.dir, RepositoryID: f.id}); err != nil {
		t.Fatal(err)
	}
	if err := saveScheduleState(f.cfg, scheduleState{Spec: "daily 21:00", Since: time.Now().Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	mnt := t.TempDir()
	e, fdrive := filepath.Join(mnt, "E"), filepath.Join(mnt, "F")
	if err := os.MkdirAll(e, 0o755); err != nil {
		t.Fatal(err)
	}
	moved := filepath.Join(fdrive, "Lifeboat backup")
	if err := os.MkdirAll(fdrive, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(f.dir, moved); err != nil {
		t.Fatal(err)
	}
	opts := backupOptions{scheduled: true, notifier: nt, findRoots: []string{e, fdrive}}

	g, out, errb := f.globals()
	if err := runBackup(ctx, g, opts); err != nil {
		t.Fatalf("scheduled backup after the move: %v\n%s\n%s", err, out, errb)
	}
	if !strings.Contains(out.String(), "Found the backup drive at "+moved) || !strings.Contains(out.String(), "backed up:") {
		t.Errorf("output:\n%s", out)
	}
	if s, _ := loadSettings(f.cfg); s.Destination != moved {
		t.Errorf("settings not updated to the new place: %+v", s)
	}
	if runs := f.runs(t); len(runs) == 0 || runs[0].Status != catalog.RunCompleted {
		t.Errorf("runs %+v", runs)
	}
	// (A nearly full disk under the test's temporary folder could add a
	// "drive almost full" warning; only the drive and failure notices count.)
	asks := func() int {
		n := 0
		for _, s := range got.list() {
			if strings.HasPrefix(s, "Connect your backup drive: ") || strings.HasPrefix(s, "The scheduled backup failed") {
				n++
			}
		}
		return n
	}
	if n := asks(); n != 0 {
		t.Errorf("notifications after a good run: %q", got.list())
	}

	// Unplugged.
	if err := os.Rename(moved, filepath.Join(t.TempDir(), "away")); err != nil {
		t.Fatal(err)
	}
	g, _, _ = f.globals()
	err := runBackup(ctx, g, opts)
	if exitCodeFor(err) != exitDestinationMissing || !strings.Contains(err.Error(), "backup drive not found") {
		t.Fatalf("unplugged: %v", err)
	}
	if n := asks(); n != 1 {
		t.Fatalf("notifications: %q", got.list())
	}
	st, err := loadScheduleState(f.cfg)
	if err != nil || st.LastMissing.IsZero() {
		t.Fatalf("state %+v %v", st, err)
	}
	s, _ := loadSettings(f.cfg)
	items, lastGood := scheduleHealth(ctx, g, f.cfg, s, st, time.Now())
	if lastGood.IsZero() || len(items) != 1 || items[0].Kind != health.DestinationMissing || items[0].Title != "The backup drive is not connected" {
		t.Errorf("health: %+v (last good %v)", items, lastGood)
	}
	// Two days later the same facts also say the backup is stale.
	items, _ = scheduleHealth(ctx, g, f.cfg, s, st, time.Now().Add(49*time.Hour))
	if len(items) != 2 || items[0].Kind != health.Stale || items[0].Title != "No backup for 2 days" {
		t.Errorf("health later: %+v", items)
	}

	// --only-when-connected: the same status, quietly.
	opts.onlyWhenConnected = true
	g, out, _ = f.globals()
	if err := runBackup(ctx, g, opts); exitCodeFor(err) != exitDestinationMissing || !strings.Contains(out.String(), "this scheduled backup is skipped") {
		t.Errorf("only when connected: %v\n%s", err, out)
	}
	if n := asks(); n != 1 {
		t.Errorf("notified although --only-when-connected: %q", got.list())
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
	cli := lifeboatCLI{bin: lifeboatBinary(t), configDir: f.cfg}
	env := func(c *exec.Cmd) *exec.Cmd {
		c.Env = append(c.Env, "LIFEBOAT_TENANT_PROFILE="+f.profile)
		return c
	}
	runEnv := func(args ...string) (int, string, string) {
		c := env(cli.command(args...))
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
	if err := saveSettings(f.cfg, settings{Destination: f.dir, RepositoryID: f.id}); err != nil {
		t.Fatal(err)
	}
	held, err := runlock.Acquire(ctx, runLockPath(f.cfg, f.id), 0, "backup")
	if err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runEnv("backup", "--scheduled", "--wait", "1s")
	pidText := "(process " + strconv.Itoa(os.Getpid()) + ", started "
	if code != exitOK || !strings.Contains(out, "Another backup of this backup folder is already running "+pidText) ||
		!strings.Contains(out, "waiting up to 1s for it to finish") || !strings.Contains(out, "this scheduled backup is skipped") {
		t.Fatalf("scheduled run while busy: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = runEnv("backup", "--to", f.dir)
	if code != exitFailure || !strings.Contains(errOut, "another backup of this backup folder is already running "+pidText) ||
		!strings.Contains(errOut, "this backup was not started") {
		t.Fatalf("manual run while busy: exit %d\n%s\n%s", code, out, errOut)
	}
	if runs := f.runs(t); len(runs) != 0 {
		t.Fatalf("a run was recorded while the lock was held: %+v", runs)
	}
	time.AfterFunc(2*time.Second, func() { held.Release() })
	code, out, errOut = runEnv("backup", "--scheduled", "--wait", "2m")
	if code != exitOK || !strings.Contains(out, "waiting up to 2 minutes") || !strings.Contains(out, "backed up:") {
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
		if r.code != exitOK && !(r.code == exitFailure && strings.Contains(r.err, "another backup of this backup folder is already running")) {
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

// TestDriveRotation: two backup drives, each its own backup. A scheduled
// run backs up to whichever is connected; the dashboard shows when each
// last received a backup and asks to swap when one is over a week old.
func TestDriveRotation(t *testing.T) {
	f := newSchedFixture(t)
	ctx := t.Context()
	dirB, _ := initRepo(t)
	rb := openWithFileKeychain(t, dirB, f.cfg)
	idB := rb.Config().ID.String()
	rb.Close()
	opts := backupOptions{scheduled: true, notifier: notify.New(notify.Options{GOOS: "linux", BusAddress: "unix:path=/nonexistent",
		Run: func(context.Context, string, ...string) error { return nil }})}
	for _, d := range []struct{ dir, id string }{{f.dir, f.id}, {dirB, idB}} {
		if err := saveSettings(f.cfg, settings{Destination: d.dir, RepositoryID: d.id}); err != nil {
			t.Fatal(err)
		}
		g, out, errb := f.globals()
		if err := runBackup(ctx, g, opts); err != nil {
			t.Fatalf("backup to %s: %v\n%s\n%s", d.dir, err, out, errb)
		}
	}
	st, err := loadScheduleState(f.cfg)
	if err != nil || len(st.Drives) != 2 || st.Drives[0].RepositoryID != f.id || st.Drives[1].RepositoryID != idB {
		t.Fatalf("drives %+v %v", st.Drives, err)
	}
	// Drive B is taken away; drive A is plugged in: the run goes to A.
	if err := os.Rename(dirB, filepath.Join(t.TempDir(), "away")); err != nil {
		t.Fatal(err)
	}
	before := st.Drives[0].LastBackup
	opts.findRoots = []string{t.TempDir()}
	g, out, errb := f.globals()
	if err := runBackup(ctx, g, opts); err != nil {
		t.Fatalf("rotation run: %v\n%s\n%s", err, out, errb)
	}
	if !strings.Contains(out.String(), "Found the backup drive at "+f.dir) {
		t.Errorf("output:\n%s", out)
	}
	st, _ = loadScheduleState(f.cfg)
	if !st.Drives[0].LastBackup.After(before) {
		t.Errorf("drive A not updated: %+v", st.Drives)
	}
	if s, _ := loadSettings(f.cfg); s.RepositoryID != idB {
		t.Errorf("the chosen backup changed: %+v", s)
	}
	// Nine days on, drive B's copy is old.
	s, _ := loadSettings(f.cfg)
	items, _ := scheduleHealth(ctx, g, f.cfg, s, st, time.Now().Add(9*24*time.Hour+time.Hour))
	var rot []string
	for _, it := range items {
		if it.Kind == health.Rotation {
			rot = append(rot, it.Title)
		}
	}
	if len(rot) != 2 || rot[0] != "Swap backup drives: "+f.dir+" last got a backup 9 days ago" {
		t.Errorf("rotation warnings %q", rot)
	}
	g, out, _ = f.globals()
	if err := runScheduleShow(ctx, g, scheduleOptions{sched: &schedule.Options{Backend: schedule.Cron,
		Runner: runnerFunc(func(string, ...string) ([]byte, error) { return nil, errors.New("no crontab for test") })}}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "Rotated drives:\n  "+f.dir) {
		t.Errorf("show:\n%s", out)
	}
}

// TestEmailReport: turning the report on asks for Mail.Send at the next
// sign-in, not before; until then the backup runs and says the report was
// not sent; after signing in again the report arrives in the account's
// own mailbox, sent through Graph.
func TestEmailReport(t *testing.T) {
	f := newSchedFixture(t)
	ctx := t.Context()
	o := scheduleOptions{daily: "21:00", emailReport: "always", executable: "/opt/Lifeboat/lifeboat",
		sched: &schedule.Options{Backend: schedule.Cron, Crontab: []string{"crontab"},
			Runner: runnerFunc(func(string, ...string) ([]byte, error) { return nil, nil })}}
	o.repo.to = f.dir
	g, out, _ := f.globals()
	if err := runScheduleSet(ctx, g, o); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "run `lifeboat login` once more to allow it") {
		t.Errorf("set said:\n%s", out)
	}
	if got := signInScopes(); !slices.Contains(got, "Mail.Send") {
		t.Errorf("sign-in scopes %v", got)
	}
	upn := f.srv.Tenant().Users()[0].UPN
	opts := backupOptions{scheduled: true, notifier: notify.New(notify.Options{GOOS: "linux", BusAddress: "unix:path=/nonexistent",
		Run: func(context.Context, string, ...string) error { return nil }})}

	g, out, errb := f.globals()
	if err := runBackup(ctx, g, opts); err != nil {
		t.Fatalf("backup: %v\n%s\n%s", err, out, errb)
	}
	if !strings.Contains(out.String(), "The e-mail report was not sent: Microsoft has not allowed Lifeboat to send mail as "+upn) {
		t.Errorf("before consent:\n%s", out)
	}
	if n, _ := f.srv.Tenant().FindMessages(upn, "Lifeboat: the backup of"); len(n) != 0 {
		t.Fatalf("a report arrived without Mail.Send: %d", len(n))
	}

	if code, out, errOut := lifeboat(t, ctx, "--tenant-profile", f.profile, "login"); code != exitOK {
		t.Fatalf("login: exit %d\n%s\n%s", code, out, errOut)
	}
	g, out, errb = f.globals()
	if err := runBackup(ctx, g, opts); err != nil {
		t.Fatalf("backup: %v\n%s\n%s", err, out, errb)
	}
	if !strings.Contains(out.String(), "The e-mail report was sent.") {
		t.Errorf("after consent:\n%s", out)
	}
	got, err := f.srv.Tenant().FindMessages(upn, "went well")
	if err != nil || len(got) != 1 || !bytes.Contains(got[0].MIME, []byte("To: <"+upn+">")) || !bytes.Contains(got[0].MIME, []byte(upn+": 0 new")) {
		t.Fatalf("report in the mailbox: %d %v\n%s", len(got), err, firstMessage(got))
	}

	// Off again: sign-in stops asking for Mail.Send.
	o.emailReport = "off"
	g, _, _ = f.globals()
	if err := runScheduleSet(ctx, g, o); err != nil {
		t.Fatal(err)
	}
	if got := signInScopes(); got != nil {
		t.Errorf("sign-in scopes with the report off: %v", got)
	}
}

func firstMessage(ms []m365sim.Message) string {
	if len(ms) == 0 {
		return ""
	}
	return string(ms[0].MIME)
}

func TestHealthNotificationsAreNotRepeated(t *testing.T) {
	now := time.Date(2026, 3, 10, 21, 0, 0, 0, time.UTC)
	low := health.Item{Kind: health.LowSpace, Severity: health.Warning, Title: "The backup drive is almost full", Detail: "Only 1 GB (2%) is free on E:.", Action: "Free space.", Subject: "E:"}
	stale := health.Item{Kind: health.Stale, Severity: health.Critical, Title: "No backup for 3 days", Detail: "d", Action: "a"}
	signIn := health.Item{Kind: health.SignIn, Severity: health.Critical, Title: "Sign in again", Subject: "anna@contoso.com"}
	var st scheduleState
	got := healthNotifications([]health.Item{low, stale, signIn}, &st, now)
	if len(got) != 2 || got[0].Title != low.Title || got[0].Body != "Only 1 GB (2%) is free on E:.\nFree space." || got[0].Urgency != notify.Normal ||
		got[1].Urgency != notify.Critical {
		t.Fatalf("first: %+v", got)
	}
	if got := healthNotifications([]health.Item{low, stale}, &st, now.Add(3*time.Hour)); len(got) != 0 {
		t.Errorf("repeated within a day: %+v", got)
	}
	// The drive was emptied, then fills up again: notified again at once.
	healthNotifications([]health.Item{stale}, &st, now.Add(4*time.Hour))
	if got := healthNotifications([]health.Item{low, stale}, &st, now.Add(5*time.Hour)); len(got) != 1 || got[0].Title != low.Title {
		t.Errorf("a warning that came back: %+v", got)
	}
	if got := healthNotifications([]health.Item{low, stale}, &st, now.Add(25*time.Hour)); len(got) != 1 || got[0].Title != stale.Title {
		t.Errorf("after a day: %+v", got)
	}
	healthNotifications(nil, &st, now.Add(26*time.Hour))
	if st.Notified != nil {
		t.Errorf("state kept %v", st.Notified)
	}
}

// TestScheduleSetOtherSystems registers on macOS (a LaunchAgent carrying
// the environment) and refuses on Windows what Task Scheduler cannot
// carry (a custom config folder), with the OS commands captured.
func TestScheduleSetOtherSystems(t *testing.T) {
	f := newSchedFixture(t)
	ctx := t.Context()
	var calls []string
	runner := runnerFunc(func(name string, args ...string) ([]byte, error) {
		calls = append(calls, name+" "+strings.Join(args, " "))
		return nil, nil
	})
	agents := t.TempDir()
	o := scheduleOptions{every: "4h", onlyWhenConnected: true, executable: "/Applications/Lifeboat.app/Contents/MacOS/lifeboat",
		sched: &schedule.Options{GOOS: "darwin", Runner: runner, AgentDir: agents, UID: 501}}
	o.repo.to = f.dir
	g, out, _ := f.globals()
	if err := runScheduleSet(ctx, g, o); err != nil {
		t.Fatal(err)
	}
	plist, err := os.ReadFile(filepath.Join(agents, "io.lifeboat.app.lifeboat-backup.plist"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<string>--only-when-connected</string>", "<key>LIFEBOAT_CONFIG_DIR</key>", "<string>" + f.cfg + "</string>",
		"<key>Hour</key>\n\t\t\t<integer>20</integer>"} {
		if !strings.Contains(string(plist), want) {
			t.Errorf("plist lacks %q:\n%s", want, plist)
		}
	}
	if !slices.Contains(calls, "launchctl bootstrap gui/501 "+filepath.Join(agents, "io.lifeboat.app.lifeboat-backup.plist")) ||
		!strings.Contains(out.String(), "LaunchAgent io.lifeboat.app.lifeboat-backup") {
		t.Errorf("calls %q\n%s", calls, out)
	}

	calls = nil
	o.sched = &schedule.Options{GOOS: "windows", Runner: runner, TempDir: t.TempDir()}
	g, _, _ = f.globals()
	if err := runScheduleSet(ctx, g, o); err == nil || !strings.Contains(err.Error(), "cannot be used with Task Scheduler") {
		t.Errorf("windows with a custom config folder: %v", err)
	}
	if len(calls) != 0 {
		t.Errorf("schtasks ran: %q", calls)
	}
}
