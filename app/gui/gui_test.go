package gui

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/lifeboat-backup/lifeboat/app/environ"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
	"github.com/lifeboat-backup/lifeboat/engine/repo"
	"github.com/lifeboat-backup/lifeboat/engine/schedule"
	"github.com/lifeboat-backup/lifeboat/engine/secret"
	"github.com/lifeboat-backup/lifeboat/engine/service"
	"github.com/lifeboat-backup/lifeboat/engine/store"
	"github.com/lifeboat-backup/lifeboat/ui"
)

// uiQueue is the UI goroutine in these tests: screens hand their updates
// to it (ui.Env.Do) and the test runs them.
type uiQueue struct{ ch chan func() }

func (q *uiQueue) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(2 * time.Minute)
	for !cond() {
		select {
		case f := <-q.ch:
			f()
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// testGUIEnv wires the app's adapters to the simulator as runGUI does,
// with the keys in a file (not the login keychain) and a cheap KDF.
func testGUIEnv(t *testing.T, opts m365sim.Options) (*Env, *m365sim.Server, string, *syncBuffer) {
	t.Helper()
	srv, profile, cfg := loginEnv(t, opts)
	logs := &syncBuffer{}
	ro := repo.TestOptions()
	res, err := environ.Resolve(environ.Flags{TenantProfile: profile, LogLevel: "debug", Keychain: secret.File{Dir: cfg}}, logs, "")
	if err != nil {
		t.Fatal(err)
	}
	o := res.Options
	o.Repo, o.Volumes = &ro, roomyDisks()
	// systemd's unit files are real, in a temp folder; systemctl is not run.
	o.Scheduler = &schedule.Options{GOOS: "linux", Backend: schedule.Systemd, Runner: noopRunner{}, UnitDir: filepath.Join(cfg, "units")}
	svc, err := service.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return NewEnv(svc, "1.2.3-test", filepath.Join(cfg, "logs")), srv, cfg, logs
}

// noopRunner stands in for systemctl.
type noopRunner struct{}

func (noopRunner) Run(context.Context, []byte, string, ...string) ([]byte, error) { return nil, nil }

func newTestShell(t *testing.T, e *Env, logDir string, step int) (*ui.Shell, *uiQueue, ui.AppDeps) {
	t.Helper()
	a := test.NewTempApp(t)
	w := test.NewWindow(nil)
	t.Cleanup(w.Close)
	q := &uiQueue{ch: make(chan func(), 1<<16)}
	e.LogDir = logDir
	deps := e.AppDeps(step)
	shell := ui.NewShell(ui.Env{App: a, Window: w, Do: func(f func()) { q.ch <- f }}, deps)
	w.SetContent(shell.Content())
	return shell, q, deps
}

// gatedBackup holds the real backup at its first progress report until
// released, so a test can act while a backup is certainly running.
type gatedBackup struct {
	ui.BackupRunner
	reached chan struct{}
	release chan struct{}
	running atomic.Bool
}

func (b *gatedBackup) Backup(ctx context.Context, progress func(ui.Progress)) ui.BackupResult {
	b.running.Store(true)
	defer b.running.Store(false)
	first := true
	return b.BackupRunner.Backup(ctx, func(p ui.Progress) {
		if first {
			first = false
			b.reached <- struct{}{}
			<-b.release
		}
		progress(p)
	})
}

// TestGUISetupBackupHistory drives the real wiring against the simulator:
// the setup wizard signs in with MSAL, creates a backup in a temp folder,
// shows its recovery key and runs the first backup; the dashboard then says
// the owner is safe, a second backup keeps the window responsive, history
// lists both runs, a new recovery key replaces the old one, and the support
// bundle holds no secret.
func TestGUISetupBackupHistory(t *testing.T) {
	e, srv, cfg, logs := testGUIEnv(t, m365sim.Options{AutoApprove: 10 * time.Millisecond, DeviceCodeInterval: time.Second})
	logDir := filepath.Join(cfg, "logs")
	shell, q, deps := newTestShell(t, e, logDir, ui.StepWelcome)
	w := shell.Wizard
	if w == nil {
		t.Fatal("a first run does not open the setup wizard")
	}
	test.Tap(w.Next)
	w.Org.Choice.SetSelected(ui.ChoiceJustMe) // personal mode; organization mode has its own test
	q.waitFor(t, "sign-in", func() bool { return w.SignIn.Step() == ui.SignInDone })
	if who := w.SignIn.SignedIn(); who.Email != simtest.Alice || !strings.Contains(w.SignIn.Body.Text, "Signed in as Alice Archer ("+simtest.Alice+")") {
		t.Fatalf("signed in as %+v: %q", who, w.SignIn.Body.Text)
	}
	test.Tap(w.Next)

	dir := filepath.Join(t.TempDir(), "Lifeboat Backup")
	w.Destination.Folder.SetText(dir)
	test.Tap(w.Next)
	q.waitFor(t, "the backup to be created", func() bool {
		return w.Step == ui.StepProtect || w.Problem.Visible() && w.Step == ui.StepDestination && !strings.HasPrefix(w.Problem.Text, "Creating")
	})
	if w.Step != ui.StepProtect {
		t.Fatalf("creating the backup: %s", w.Problem.Text)
	}
	oldKey := w.Key.KeyText()
	if _, err := repo.ParseRecoveryKey(oldKey); err != nil {
		t.Fatalf("the wizard shows %q: %v", oldKey, err)
	}
	st, err := service.LoadSettings(cfg)
	if err != nil || st.Destination != dir || st.RepositoryID == "" || st.App == nil || st.App.SetupStep == nil || *st.App.SetupStep != ui.StepProtect {
		t.Fatalf("settings after creating the backup: %+v %v", st, err)
	}
	test.Type(w.Key.Confirm, oldKey[strings.LastIndexByte(oldKey, '-')+1:])
	test.Tap(w.Next)
	q.waitFor(t, "schedule page", func() bool { return w.Step == ui.StepSchedule })
	test.Tap(w.Next)
	q.waitFor(t, "the first backup", func() bool { return w.Step == ui.StepFirstBackup })
	q.waitFor(t, "the first backup to finish", func() bool { return !shell.Progress.Running() && shell.Progress.Headline.Text != "" })
	if !strings.HasPrefix(shell.Progress.Headline.Text, "Backup finished") {
		t.Fatalf("first backup: %q\n%s", shell.Progress.Headline.Text, logs)
	}
	test.Tap(w.Next) // Open Lifeboat
	if shell.InSetup() {
		t.Fatal("still in the wizard after Open Lifeboat")
	}
	st, _ = service.LoadSettings(cfg)
	if st.App == nil || st.App.SetupStep == nil || *st.App.SetupStep != ui.SetupDone || st.App.Schedule == nil || st.App.Schedule.At != "21:00" {
		t.Fatalf("settings after setup: %+v", st.App)
	}
	timer, err := os.ReadFile(filepath.Join(cfg, "units", "lifeboat-backup.timer"))
	if err != nil || !strings.Contains(string(timer), "21:00") {
		t.Fatalf("the schedule was not registered with the system: %v\n%s", err, timer)
	}
	if ss, err := service.LoadScheduleState(cfg); err != nil || ss.Spec != "daily 21:00" || !ss.OnlyWhenConnected {
		t.Fatalf("schedule.json: %+v %v", ss, err)
	}
	q.waitFor(t, "the dashboard", func() bool { return shell.Dashboard.Verdict() != ui.VerdictUnknown })
	if shell.Dashboard.Verdict() != ui.VerdictSafe || !strings.Contains(shell.Dashboard.Details.Text, "connected") {
		t.Fatalf("dashboard after the first backup: %q %q %q", shell.Dashboard.Headline.Text, shell.Dashboard.Details.Text, shell.Dashboard.Warnings.Text)
	}

	// A second backup, through a dashboard wired with the same adapters;
	// the window handles events while it runs.
	if _, err := srv.Tenant().PutFile(simtest.Alice, "Documents/new-price-list.txt", m365sim.BytesContent("rye 4.20\n"), time.Time{}); err != nil {
		t.Fatal(err)
	}
	gate := &gatedBackup{BackupRunner: deps.Backup, reached: make(chan struct{}), release: make(chan struct{})}
	deps.Backup = gate
	shell2, q2, _ := newTestShellWith(t, deps)
	test.Tap(shell2.Dashboard.BackUpNow)
	<-gate.reached
	entry := shell2.Settings.KeepAllDays
	test.Type(entry, "45")
	if entry.Text != "45" || !gate.running.Load() || !shell2.Dashboard.BackUpNow.Disabled() {
		t.Fatalf("while backing up: typed %q, backup running %v", entry.Text, gate.running.Load())
	}
	close(gate.release)
	q2.waitFor(t, "the second backup", func() bool { return !shell2.Progress.Running() && !gate.running.Load() })
	if !strings.HasPrefix(shell2.Progress.Headline.Text, "Backup finished") {
		t.Fatalf("second backup: %q", shell2.Progress.Headline.Text)
	}

	shell2.History.Refresh()
	q2.waitFor(t, "history", func() bool { return len(shell2.History.Runs()) >= 2 && !shell2.History.Copy.Disabled() })
	runs := shell2.History.Runs()
	if runs[0].Status != ui.RunCompleted || runs[1].Status != ui.RunCompleted || runs[1].New == 0 || runs[0].New != 1 {
		t.Fatalf("history: %+v", runs[:2])
	}
	if !strings.Contains(shell2.History.Details.Text, "New: 1 ·") {
		t.Errorf("details of the last run: %s", shell2.History.Details.Text)
	}

	// A new recovery key: the old one stops opening the backup.
	shell2.Settings.MakeNewKey()
	q2.waitFor(t, "a new key", func() bool { return strings.Contains(shell2.Settings.KeyNote.Text, "no longer opens") })
	st2, err := store.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := repo.Open(t.Context(), st2, oldKey, repo.TestOptions()); !errors.Is(err, repo.ErrWrongKey) {
		t.Fatalf("the old recovery key still opens the backup: %v", err)
	}
	r, err := e.Service().OpenBackup(t.Context(), dir, "")
	if err != nil {
		t.Fatalf("this computer's key no longer opens the backup: %v", err)
	}
	keys, _ := r.Keys(t.Context())
	r.Close()
	recovery := 0
	for _, k := range keys {
		if k.Kind == repo.RecoveryKeySlot {
			recovery++
		}
	}
	if recovery != 1 {
		t.Errorf("%d recovery keys after making a new one", recovery)
	}

	// The support bundle: history and logs, no secret.
	token, _, err := srv.IssueAccessToken(simtest.Alice)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(logDir, 0o700); err != nil {
		t.Fatal(err)
	}
	leak := "time=now level=DEBUG msg=oops authorization=\"Bearer " + token + "\" key=" + oldKey + " refresh_token=0.AXYZsecret\n"
	if err := os.WriteFile(filepath.Join(logDir, logFileName), []byte(logs.String()+leak), 0o600); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := deps.Diagnostics.WriteSupportBundle(t.Context(), &buf); err != nil {
		t.Fatal(err)
	}
	bundle := unzipAll(t, buf.Bytes())
	for _, name := range []string{"about.txt", "settings.json", "history.txt", "logs/" + logFileName} {
		if _, ok := bundle[name]; !ok {
			t.Errorf("the support bundle lacks %s (has %v)", name, keysOf(bundle))
		}
	}
	if !strings.Contains(bundle["history.txt"], "New: 1 ·") || !strings.Contains(bundle["settings.json"], dir) {
		t.Errorf("history.txt:\n%s\nsettings.json:\n%s", bundle["history.txt"], bundle["settings.json"])
	}
	cache, _ := os.ReadFile(filepath.Join(cfg, "signin-cache.lbc"))
	for name, text := range bundle {
		for what, secret := range map[string]string{"access token": token, "old recovery key": oldKey, "refresh token": "0.AXYZsecret",
			"token signature": token[strings.LastIndexByte(token, '.')+1:]} {
			if strings.Contains(text, secret) {
				t.Errorf("the support bundle's %s holds the %s", name, what)
			}
		}
		if len(cache) > 16 && strings.Contains(text, string(cache[:16])) {
			t.Errorf("the support bundle's %s holds the sign-in cache", name)
		}
	}
}

func newTestShellWith(t *testing.T, deps ui.AppDeps) (*ui.Shell, *uiQueue, ui.AppDeps) {
	t.Helper()
	a := test.NewTempApp(t)
	w := test.NewWindow(nil)
	t.Cleanup(w.Close)
	q := &uiQueue{ch: make(chan func(), 1<<16)}
	deps.SetupStep = ui.SetupDone
	shell := ui.NewShell(ui.Env{App: a, Window: w, Do: func(f func()) { q.ch <- f }}, deps)
	w.SetContent(shell.Content())
	return shell, q, deps
}

func unzipAll(t *testing.T, b []byte) map[string]string {
	t.Helper()
	z, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("the support bundle is not a zip: %v", err)
	}
	out := map[string]string{}
	for _, f := range z.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		out[f.Name] = string(data)
	}
	return out
}

func keysOf(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestGUISignInDeclinedAndOffline shows the sign-in page's declined and
// offline states with the real MSAL.
func TestGUISignInDeclinedAndOffline(t *testing.T) {
	e, srv, _, _ := testGUIEnv(t, m365sim.Options{DeviceCodeInterval: time.Second})
	shell, q, _ := newTestShell(t, e, t.TempDir(), ui.StepSignIn)
	w := shell.Wizard
	q.waitFor(t, "a code", func() bool { return w.SignIn.Step() == ui.SignInWaiting && w.SignIn.Code.Text != "" })
	if err := srv.DeclineDeviceCode(w.SignIn.Code.Text); err != nil {
		t.Fatal(err)
	}
	q.waitFor(t, "declined", func() bool { return w.SignIn.Step() == ui.SignInDeclined })
	if w.SignIn.Title.Text != "The sign-in was declined" || !w.Next.Disabled() {
		t.Errorf("declined: %q, Next disabled %v", w.SignIn.Title.Text, w.Next.Disabled())
	}

	srv.Close() // Microsoft unreachable
	test.Tap(w.SignIn.Retry)
	q.waitFor(t, "offline", func() bool { return w.SignIn.Step() >= ui.SignInDeclined && w.SignIn.Step() != ui.SignInDeclined })
	if w.SignIn.Step() != ui.SignInOffline {
		t.Fatalf("with the tenant unreachable the page shows step %d: %q %q", w.SignIn.Step(), w.SignIn.Title.Text, w.SignIn.Body.Text)
	}
}

func TestRedactSecrets(t *testing.T) {
	for _, c := range []struct{ in, gone string }{
		{`Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl`, "eyJzdWIiOiJ4In0"},
		{`{"refresh_token":"0.ARsecretvalue","x":1}`, "0.ARsecretvalue"},
		{`access_token=abc.def.ghi&foo=1`, "abc.def.ghi"},
		{`key ABCDE-FGHJK-MNPQR-STVWX-YZ012-34567 shown`, "ABCDE-FGHJK"},
		{`password: hunter2`, "hunter2"},
	} {
		if got := redactSecrets(c.in); strings.Contains(got, c.gone) {
			t.Errorf("redactSecrets(%q) = %q", c.in, got)
		}
	}
	if got := redactSecrets("backup of alice@contoso.test finished: 12 items"); got != "backup of alice@contoso.test finished: 12 items" {
		t.Errorf("an ordinary line was changed: %q", got)
	}
}
