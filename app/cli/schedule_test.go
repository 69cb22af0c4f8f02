package cli

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/lifeboat-backup/lifeboat/app/apptest"
	"github.com/lifeboat-backup/lifeboat/app/environ"
	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/health"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/notify"
	"github.com/lifeboat-backup/lifeboat/engine/schedule"
	"github.com/lifeboat-backup/lifeboat/engine/service"
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

// run runs the command line against the fixture's tenant, with roomy
// disks and adjust's changes to the application layer's options.
func (f schedFixture) run(t *testing.T, adjust func(*service.Options), args ...string) (int, string, string) {
	t.Helper()
	var out, errb syncBuffer
	code := runAdjusted(t.Context(), func(o *service.Options) {
		o.Volumes = roomyDisks()
		if adjust != nil {
			adjust(o)
		}
	}, append([]string{"--tenant-profile", f.profile}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

// service is the application layer as the fixture's commands see it.
func (f schedFixture) service(t *testing.T, adjust func(*service.Options)) *service.Service {
	t.Helper()
	res, err := environ.Resolve(environ.Flags{TenantProfile: f.profile}, io.Discard, "")
	if err != nil {
		t.Fatal(err)
	}
	res.Options.Volumes = roomyDisks()
	if adjust != nil {
		adjust(&res.Options)
	}
	svc, err := service.New(res.Options)
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// withScheduler runs the OS scheduler of opts and the given program.
func withScheduler(opts schedule.Options, exe string) func(*service.Options) {
	return func(o *service.Options) {
		o.Scheduler, o.Executable = &opts, exe
	}
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
func (f schedFixture) runs(t *testing.T) []catalog.Run { return apptest.Runs(t, f.cfg, f.id) }

// TestScheduleSetShowRemove registers with systemd (its commands captured,
// the unit files real), shows, and removes.
func TestScheduleSetShowRemove(t *testing.T) {
	f := newSchedFixture(t)
	units := t.TempDir()
	var calls []string
	runner := runnerFunc(func(name string, args ...string) ([]byte, error) {
		calls = append(calls, name+" "+strings.Join(args, " "))
		return nil, nil
	})
	sys := withScheduler(schedule.Options{GOOS: "linux", Runner: runner, UnitDir: units}, "/opt/Lifeboat/lifeboat")
	code, out, errOut := f.run(t, sys, "schedule", "set", "--daily", "21:00", "--to", f.dir)
	if code != exitOK {
		t.Fatalf("schedule set: exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "now run every day at 21:00, also when Lifeboat is closed") ||
		!strings.Contains(out, "systemd user timer lifeboat-backup.timer") {
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
	s, err := service.LoadSettings(f.cfg)
	if err != nil || s.Destination != f.dir || s.RepositoryID != f.id {
		t.Fatalf("settings %+v %v", s, err)
	}

	code, out, errOut = f.run(t, sys, "schedule", "show")
	if code != exitOK {
		t.Fatalf("schedule show: exit %d\n%s", code, errOut)
	}
	for _, want := range []string{"Backups run every day at 21:00 (systemd), to " + f.dir, "Last good backup: none yet.", "All is well."} {
		if !strings.Contains(out, want) {
			t.Errorf("show lacks %q:\n%s", want, out)
		}
	}
	// The same backup on a drive with 2% free warns about it.
	full := func(o *service.Options) {
		sys(o)
		o.Volumes = diskSpace(1<<40, 1<<40/50)
	}
	if _, out, _ = f.run(t, full, "schedule", "show"); true {
		for _, want := range []string{"WARNING: The backup drive is almost full", "(2%) is free on " + f.dir} {
			if !strings.Contains(out, want) {
				t.Errorf("show on a full drive lacks %q:\n%s", want, out)
			}
		}
	}
	// Invalid schedules are usage errors.
	for _, bad := range [][]string{{"--daily", "25:00"}, {"--every", "5h"}, {}, {"--daily", "21:00", "--every", "4h"}, {"--daily", "21:00", "--backend", "at"}} {
		if code, _, errOut := f.run(t, sys, append([]string{"schedule", "set", "--to", f.dir}, bad...)...); code != exitUsage {
			t.Errorf("%q: exit %d %s", bad, code, errOut)
		}
	}

	if code, out, _ = f.run(t, sys, "schedule", "remove"); code != exitOK || !strings.Contains(out, "Automatic backups are off") {
		t.Fatal(code, out)
	}
	if _, err := os.Stat(filepath.Join(units, "lifeboat-backup.timer")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("timer left: %v", err)
	}
	if code, out, _ = f.run(t, sys, "schedule", "show"); code != exitOK || !strings.Contains(out, "No automatic backups are set up") {
		t.Errorf("after remove: %d\n%s", code, out)
	}
}

type runnerFunc func(name string, args ...string) ([]byte, error)

func (f runnerFunc) Run(_ context.Context, _ []byte, name string, args ...string) ([]byte, error) {
	return f(name, args...)
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
	if err := service.SaveSettings(f.cfg, service.Settings{Destination: f.dir, RepositoryID: f.id}); err != nil {
		t.Fatal(err)
	}
	if err := service.SaveScheduleState(f.cfg, service.ScheduleState{Spec: "daily 21:00", Since: time.Now().Add(-time.Hour)}); err != nil {
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
	opts := func(o *service.Options) { o.Notifier, o.FindRoots = nt, []string{e, fdrive} }

	code, out, errOut := f.run(t, opts, "backup", "--scheduled")
	if code != exitOK {
		t.Fatalf("scheduled backup after the move: exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "Found the backup drive at "+moved) || !strings.Contains(out, "backed up:") {
		t.Errorf("output:\n%s", out)
	}
	if s, _ := service.LoadSettings(f.cfg); s.Destination != moved {
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
	code, _, errOut = f.run(t, opts, "backup", "--scheduled")
	if code != exitDestinationMissing || !strings.Contains(errOut, "backup drive not found") {
		t.Fatalf("unplugged: exit %d %s", code, errOut)
	}
	if n := asks(); n != 1 {
		t.Fatalf("notifications: %q", got.list())
	}
	st, err := service.LoadScheduleState(f.cfg)
	if err != nil || st.LastMissing.IsZero() {
		t.Fatalf("state %+v %v", st, err)
	}
	s, _ := service.LoadSettings(f.cfg)
	svc := f.service(t, nil)
	items, lastGood := svc.Health(ctx, s, st, time.Now())
	if lastGood.IsZero() || len(items) != 1 || items[0].Kind != health.DestinationMissing || items[0].Title != "The backup drive is not connected" {
		t.Errorf("health: %+v (last good %v)", items, lastGood)
	}
	// Two days later the same facts also say the backup is stale.
	items, _ = svc.Health(ctx, s, st, time.Now().Add(49*time.Hour))
	if len(items) != 2 || items[0].Kind != health.Stale || items[0].Title != "No backup for 2 days" {
		t.Errorf("health later: %+v", items)
	}

	// --only-when-connected: the same status, quietly.
	if code, out, _ = f.run(t, opts, "backup", "--scheduled", "--only-when-connected"); code != exitDestinationMissing || !strings.Contains(out, "this scheduled backup is skipped") {
		t.Errorf("only when connected: exit %d\n%s", code, out)
	}
	if n := asks(); n != 1 {
		t.Errorf("notified although --only-when-connected: %q", got.list())
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
	quiet := notify.New(notify.Options{GOOS: "linux", BusAddress: "unix:path=/nonexistent",
		Run: func(context.Context, string, ...string) error { return nil }})
	var roots []string
	opts := func(o *service.Options) { o.Notifier, o.FindRoots = quiet, roots }
	for _, d := range []struct{ dir, id string }{{f.dir, f.id}, {dirB, idB}} {
		if err := service.SaveSettings(f.cfg, service.Settings{Destination: d.dir, RepositoryID: d.id}); err != nil {
			t.Fatal(err)
		}
		if code, out, errOut := f.run(t, opts, "backup", "--scheduled"); code != exitOK {
			t.Fatalf("backup to %s: exit %d\n%s\n%s", d.dir, code, out, errOut)
		}
	}
	st, err := service.LoadScheduleState(f.cfg)
	if err != nil || len(st.Drives) != 2 || st.Drives[0].RepositoryID != f.id || st.Drives[1].RepositoryID != idB {
		t.Fatalf("drives %+v %v", st.Drives, err)
	}
	// Drive B is taken away; drive A is plugged in: the run goes to A.
	if err := os.Rename(dirB, filepath.Join(t.TempDir(), "away")); err != nil {
		t.Fatal(err)
	}
	before := st.Drives[0].LastBackup
	roots = []string{t.TempDir()}
	code, out, errOut := f.run(t, opts, "backup", "--scheduled")
	if code != exitOK {
		t.Fatalf("rotation run: exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "Found the backup drive at "+f.dir) {
		t.Errorf("output:\n%s", out)
	}
	st, _ = service.LoadScheduleState(f.cfg)
	if !st.Drives[0].LastBackup.After(before) {
		t.Errorf("drive A not updated: %+v", st.Drives)
	}
	if s, _ := service.LoadSettings(f.cfg); s.RepositoryID != idB {
		t.Errorf("the chosen backup changed: %+v", s)
	}
	// Nine days on, drive B's copy is old.
	s, _ := service.LoadSettings(f.cfg)
	items, _ := f.service(t, nil).Health(ctx, s, st, time.Now().Add(9*24*time.Hour+time.Hour))
	var rot []string
	for _, it := range items {
		if it.Kind == health.Rotation {
			rot = append(rot, it.Title)
		}
	}
	if len(rot) != 2 || rot[0] != "Swap backup drives: "+f.dir+" last got a backup 9 days ago" {
		t.Errorf("rotation warnings %q", rot)
	}
	noCron := withScheduler(schedule.Options{Backend: schedule.Cron,
		Runner: runnerFunc(func(string, ...string) ([]byte, error) { return nil, errors.New("no crontab for test") })}, "")
	if code, out, errOut = f.run(t, noCron, "schedule", "show"); code != exitOK {
		t.Fatalf("show: exit %d %s", code, errOut)
	}
	if !strings.Contains(out, "Rotated drives:\n  "+f.dir) {
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
	_ = ctx
	sys := withScheduler(schedule.Options{Backend: schedule.Cron, Crontab: []string{"crontab"},
		Runner: runnerFunc(func(string, ...string) ([]byte, error) { return nil, nil })}, "/opt/Lifeboat/lifeboat")
	code, out, errOut := f.run(t, sys, "schedule", "set", "--daily", "21:00", "--email-report", "always", "--to", f.dir)
	if code != exitOK {
		t.Fatalf("schedule set: exit %d\n%s", code, errOut)
	}
	if !strings.Contains(out, "run `lifeboat login` once more to allow it") {
		t.Errorf("set said:\n%s", out)
	}
	if got := f.service(t, nil).SignInScopes(); !slices.Contains(got, "Mail.Send") {
		t.Errorf("sign-in scopes %v", got)
	}
	upn := f.srv.Tenant().Users()[0].UPN
	quiet := notify.New(notify.Options{GOOS: "linux", BusAddress: "unix:path=/nonexistent",
		Run: func(context.Context, string, ...string) error { return nil }})
	opts := func(o *service.Options) { o.Notifier = quiet }

	if code, out, errOut = f.run(t, opts, "backup", "--scheduled"); code != exitOK {
		t.Fatalf("backup: exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "The e-mail report was not sent: Microsoft has not allowed Lifeboat to send mail as "+upn) {
		t.Errorf("before consent:\n%s", out)
	}
	if n, _ := f.srv.Tenant().FindMessages(upn, "Lifeboat: the backup of"); len(n) != 0 {
		t.Fatalf("a report arrived without Mail.Send: %d", len(n))
	}

	if code, out, errOut := lifeboat(t, ctx, "--tenant-profile", f.profile, "login"); code != exitOK {
		t.Fatalf("login: exit %d\n%s\n%s", code, out, errOut)
	}
	if code, out, errOut = f.run(t, opts, "backup", "--scheduled"); code != exitOK {
		t.Fatalf("backup: exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "The e-mail report was sent.") {
		t.Errorf("after consent:\n%s", out)
	}
	got, err := f.srv.Tenant().FindMessages(upn, "went well")
	if err != nil || len(got) != 1 || !bytes.Contains(got[0].MIME, []byte("To: <"+upn+">")) || !bytes.Contains(got[0].MIME, []byte(upn+": 0 new")) {
		t.Fatalf("report in the mailbox: %d %v\n%s", len(got), err, firstMessage(got))
	}

	// Off again: sign-in stops asking for Mail.Send.
	if code, _, errOut = f.run(t, sys, "schedule", "set", "--daily", "21:00", "--email-report", "off", "--to", f.dir); code != exitOK {
		t.Fatal(errOut)
	}
	if got := f.service(t, nil).SignInScopes(); got != nil {
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
	var st service.ScheduleState
	got := service.HealthNotifications([]health.Item{low, stale, signIn}, &st, now)
	if len(got) != 2 || got[0].Title != low.Title || got[0].Body != "Only 1 GB (2%) is free on E:.\nFree space." || got[0].Urgency != notify.Normal ||
		got[1].Urgency != notify.Critical {
		t.Fatalf("first: %+v", got)
	}
	if got := service.HealthNotifications([]health.Item{low, stale}, &st, now.Add(3*time.Hour)); len(got) != 0 {
		t.Errorf("repeated within a day: %+v", got)
	}
	// The drive was emptied, then fills up again: notified again at once.
	service.HealthNotifications([]health.Item{stale}, &st, now.Add(4*time.Hour))
	if got := service.HealthNotifications([]health.Item{low, stale}, &st, now.Add(5*time.Hour)); len(got) != 1 || got[0].Title != low.Title {
		t.Errorf("a warning that came back: %+v", got)
	}
	if got := service.HealthNotifications([]health.Item{low, stale}, &st, now.Add(25*time.Hour)); len(got) != 1 || got[0].Title != stale.Title {
		t.Errorf("after a day: %+v", got)
	}
	service.HealthNotifications(nil, &st, now.Add(26*time.Hour))
	if st.Notified != nil {
		t.Errorf("state kept %v", st.Notified)
	}
}

// TestScheduleSetOtherSystems registers on macOS (a LaunchAgent carrying
// the environment) and refuses on Windows what Task Scheduler cannot
// carry (a custom config folder), with the OS commands captured.
func TestScheduleSetOtherSystems(t *testing.T) {
	f := newSchedFixture(t)
	var calls []string
	runner := runnerFunc(func(name string, args ...string) ([]byte, error) {
		calls = append(calls, name+" "+strings.Join(args, " "))
		return nil, nil
	})
	agents := t.TempDir()
	exe := "/Applications/Lifeboat.app/Contents/MacOS/lifeboat"
	setArgs := []string{"schedule", "set", "--every", "4h", "--only-when-connected", "--to", f.dir}
	code, out, errOut := f.run(t, withScheduler(schedule.Options{GOOS: "darwin", Runner: runner, AgentDir: agents, UID: 501}, exe), setArgs...)
	if code != exitOK {
		t.Fatalf("set: exit %d %s", code, errOut)
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
		!strings.Contains(out, "LaunchAgent io.lifeboat.app.lifeboat-backup") {
		t.Errorf("calls %q\n%s", calls, out)
	}

	calls = nil
	code, _, errOut = f.run(t, withScheduler(schedule.Options{GOOS: "windows", Runner: runner, TempDir: t.TempDir()}, exe), setArgs...)
	if code == exitOK || !strings.Contains(errOut, "cannot be used with Task Scheduler") {
		t.Errorf("windows with a custom config folder: exit %d %s", code, errOut)
	}
	if len(calls) != 0 {
		t.Errorf("schtasks ran: %q", calls)
	}
}
