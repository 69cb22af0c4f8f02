package ui

import (
	"archive/zip"
	"context"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
)

type fixedStatus struct {
	mu sync.Mutex
	s  Status
}

func (f *fixedStatus) Status(context.Context) (Status, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.s, nil
}

func TestDashboardAnswersAmISafe(t *testing.T) {
	env, q := newEnv(t)
	now := env.now()
	for _, c := range []struct {
		name     string
		status   Status
		verdict  Verdict
		headline string
		texts    []string
	}{
		{"never backed up", Status{Destination: "/media/usb/Lifeboat", Connected: true, Free: 400e9}, VerdictNeverBackedUp, "No backup yet",
			[]string{"Click Back up now", "Backup drive: /media/usb/Lifeboat, connected, 400.0 GB free."}},
		{"safe", Status{LastGood: now.Add(-3 * time.Hour), LastRun: now.Add(-3 * time.Hour), NextRun: now.Add(9 * time.Hour),
			Destination: "/media/usb/Lifeboat", Connected: true, Free: 400e9}, VerdictSafe, "You are safe",
			[]string{"backed up today at 09:00", "Next backup: today at 21:00."}},
		{"drive missing", Status{LastGood: now.Add(-3 * time.Hour), LastRun: now.Add(-3 * time.Hour), Destination: "/media/usb/Lifeboat"},
			VerdictAttention, "Your backup needs attention", []string{"is not connected", "Connect your backup drive"}},
		{"stale", Status{LastGood: now.Add(-5 * 24 * time.Hour), LastRun: now.Add(-5 * 24 * time.Hour), Destination: "/b", Connected: true},
			VerdictAttention, "Your backup needs attention", []string{"last backed up Thu 5 Mar at 12:00"}},
		{"last run failed", Status{LastGood: now.Add(-26 * time.Hour), LastRun: now.Add(-2 * time.Hour), LastRunFailed: true, Destination: "/b", Connected: true},
			VerdictAttention, "Your backup needs attention", []string{"The last backup, today at 10:00, did not finish", "last backed up yesterday at 10:00"}},
		{"counts", Status{LastGood: now.Add(-3 * time.Hour), LastRun: now.Add(-3 * time.Hour), Destination: "/b", Connected: true,
			Holds: &Holdings{Emails: 3214, Files: 420, Events: 56, Contacts: 1}}, VerdictSafe, "You are safe",
			[]string{"The backup holds 3,214 emails, 420 files, 56 calendar events and 1 contact."}},
		{"warning", Status{LastGood: now.Add(-time.Hour), LastRun: now.Add(-time.Hour), Destination: "/b", Connected: true,
			Warnings: []string{"Nobody is signed in, so backups cannot run."}}, VerdictAttention, "Your backup needs attention", []string{"Nobody is signed in"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			pv := NewProgressView(env, &fakeRunner{})
			db := NewDashboard(env, DashboardDeps{Status: &fixedStatus{s: c.status}, Progress: pv})
			env.Window.SetContent(db.Content())
			db.Refresh()
			q.waitFor(t, "status", func() bool { return db.Verdict() != VerdictUnknown })
			all := texts(db.Content())
			if db.Verdict() != c.verdict || db.Headline.Text != c.headline {
				t.Errorf("verdict %d %q, want %d %q", db.Verdict(), db.Headline.Text, c.verdict, c.headline)
			}
			for _, want := range c.texts {
				if !strings.Contains(all, want) {
					t.Errorf("dashboard lacks %q:\n%s", want, all)
				}
			}
		})
	}
}

func TestDashboardRestoreAndBackUpNow(t *testing.T) {
	env, q := newEnv(t)
	opened := 0
	runner := &fakeRunner{hold: true, started: make(chan struct{}, 1)}
	pv := NewProgressView(env, runner)
	db := NewDashboard(env, DashboardDeps{Status: &fixedStatus{}, Progress: pv, OpenRestore: func() { opened++ }})
	pv.OnStart, pv.OnEnd = db.BackupStarted, func(BackupResult) { db.BackupEnded() }
	env.Window.SetContent(db.Content())
	test.Tap(db.Restore)
	if opened != 1 {
		t.Fatal("Restore… did not open the restore wizard")
	}
	db.Refresh()
	q.waitFor(t, "status", func() bool { return db.Verdict() == VerdictNeverBackedUp })
	test.Tap(db.BackUpNow)
	<-runner.started
	if !pv.Running() || !db.BackUpNow.Disabled() || db.Summary.Text != "Your first backup is running; its progress is below." {
		t.Fatalf("Back up now: running %v, button disabled %v, %q", pv.Running(), db.BackUpNow.Disabled(), db.Summary.Text)
	}
	test.Tap(pv.Cancel)
	q.waitFor(t, "the backup to stop", func() bool { return !pv.Running() })
	if db.BackUpNow.Disabled() || !strings.Contains(pv.Headline.Text, "Backup stopped") {
		t.Errorf("after cancel: button disabled %v, %q", db.BackUpNow.Disabled(), pv.Headline.Text)
	}
}

func TestProgressViewRendersAndPauses(t *testing.T) {
	env, q := newEnv(t)
	runner := &fakeRunner{hold: true, started: make(chan struct{}, 1), progress: []Progress{{
		Account: "paul@bakery.test", ItemsDone: 120, ItemsTotal: 480, BytesDone: 25e6, BytesTotal: 100e6, Skipped: 2,
		Current: "Invoices/March.pdf", Throttled: "Microsoft asked us to slow down, continuing in 30 s", ETA: 5 * time.Minute,
	}}}
	pv := NewProgressView(env, runner)
	var ended []BackupResult
	pv.OnEnd = func(r BackupResult) { ended = append(ended, r) }
	env.Window.SetContent(pv.Content())
	pv.Start()
	<-runner.started
	q.waitFor(t, "progress", func() bool { return pv.Bar.Value > 0 })
	if pv.Bar.Value != 0.25 {
		t.Errorf("bar at %v, want 0.25 (bytes)", pv.Bar.Value)
	}
	if want := "120 of about 480 emails and files, 25.0 MB copied, 2 skipped for now · about 5 minutes left"; pv.Items.Text != want {
		t.Errorf("items line %q\nwant %q", pv.Items.Text, want)
	}
	if !pv.Throttle.Visible() || !strings.Contains(pv.Throttle.Text, "Microsoft asked us to slow down, continuing in 30 s") {
		t.Errorf("throttling: visible %v %q", pv.Throttle.Visible(), pv.Throttle.Text)
	}
	if pv.Current.Text != "Copying: Invoices/March.pdf" || pv.Headline.Text != "Backing up for paul@bakery.test…" {
		t.Errorf("current %q, headline %q", pv.Current.Text, pv.Headline.Text)
	}

	test.Tap(pv.Pause)
	q.waitFor(t, "pause", func() bool { return !pv.Running() })
	if !pv.Paused() || pv.Pause.Text != "Resume" || len(ended) != 0 || !strings.Contains(pv.Headline.Text, "Paused") {
		t.Fatalf("paused: %v, button %q, ended %v, %q", pv.Paused(), pv.Pause.Text, ended, pv.Headline.Text)
	}
	test.Tap(pv.Pause) // Resume: the backup runs again and continues from its checkpoint
	<-runner.started
	if !pv.Running() || runner.count() != 2 || pv.Pause.Text != "Pause" {
		t.Fatalf("resume: running %v, runs %d, button %q", pv.Running(), runner.count(), pv.Pause.Text)
	}
	test.Tap(pv.Cancel)
	q.waitFor(t, "cancel", func() bool { return !pv.Running() })
	if len(ended) != 1 || ended[0].Outcome != OutcomeStopped || pv.Pause.Visible() || pv.Cancel.Visible() {
		t.Errorf("cancelled: ended %v, buttons visible %v %v", ended, pv.Pause.Visible(), pv.Cancel.Visible())
	}

	// No total known: a moving bar instead of a percentage.
	pv.running = true
	pv.Show(Progress{ItemsDone: 3})
	if pv.Bar.Visible() || !pv.Busy.Visible() || pv.Throttle.Visible() {
		t.Errorf("unknown total: bar %v, busy %v", pv.Bar.Visible(), pv.Busy.Visible())
	}
	pv.Busy.Stop()
}

type fakeHistory struct{ runs []RunRecord }

func (f fakeHistory) Runs(context.Context, int) ([]RunRecord, error) { return f.runs, nil }

func TestHistoryShowsRunsAndCopiesDetails(t *testing.T) {
	env, q := newEnv(t)
	start := time.Date(2026, 3, 9, 21, 0, 0, 0, time.Local)
	h := NewHistoryView(env, fakeHistory{runs: []RunRecord{
		{ID: 7, Started: start, Ended: start.Add(95 * time.Second), Status: RunWithWarnings, New: 12, Changed: 3, Deleted: 1, Skipped: 1, Bytes: 3e6,
			SkippedItems: []SkippedItem{{Account: "paul@bakery.test", Item: "Documents/huge.mov", Reason: "the file changed while it was copied"}}},
		{ID: 6, Started: start.Add(-24 * time.Hour), Ended: start.Add(-24 * time.Hour).Add(time.Minute), Status: RunFailed, Error: "backup drive not found"},
	}})
	env.Window.SetContent(h.Content())
	h.Refresh()
	q.waitFor(t, "runs", func() bool { return len(h.Runs()) == 2 && !h.Copy.Disabled() })
	for _, want := range []string{"finished, some items skipped", "Took 1m35s", "New: 12 · Changed: 3 · Deleted since last time: 1 · Skipped: 1",
		"paul@bakery.test: Documents/huge.mov — the file changed while it was copied"} {
		if !strings.Contains(h.Details.Text, want) {
			t.Errorf("details lack %q:\n%s", want, h.Details.Text)
		}
	}
	test.Tap(h.Copy)
	if got := env.App.Clipboard().Content(); got != h.Details.Text || !strings.Contains(got, "huge.mov") {
		t.Errorf("copied %q", got)
	}
	h.List.Select(1)
	if !strings.Contains(h.Details.Text, "What went wrong: backup drive not found") {
		t.Errorf("failed run: %s", h.Details.Text)
	}
}

type fakePrefs struct {
	mu     sync.Mutex
	ret    Retention
	notify bool
}

func (f *fakePrefs) Retention(context.Context) (Retention, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ret, nil
}

func (f *fakePrefs) SetRetention(_ context.Context, r Retention) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ret = r
	return nil
}
func (f *fakePrefs) Notifications() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.notify
}
func (f *fakePrefs) SetNotifications(on bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.notify = on
	return nil
}

type fakeDiag struct{}

func (fakeDiag) LogFolder() string { return "/tmp/logs" }
func (fakeDiag) WriteSupportBundle(_ context.Context, w io.Writer) error {
	z := zip.NewWriter(w)
	f, _ := z.Create("about.txt")
	io.WriteString(f, "Lifeboat")
	return z.Close()
}

func TestSettingsScreen(t *testing.T) {
	env, q := newEnv(t)
	acc := &fakeAccounts{people: []Person{{Name: "Paul Baker", Email: "paul@bakery.test"}}}
	keys := &fakeKeys{key: "NEWKE-Y1111"}
	prefs := &fakePrefs{ret: Retention{KeepAllDays: 30, KeepDaily: 7, KeepWeekly: 4, KeepMonthly: 12, Years: 5, KeepDeletedYears: 7}, notify: true}
	sched := &fakeScheduler{cur: Schedule{EveryHours: 4}}
	var opened []string
	s := NewSettingsView(env, SettingsDeps{Accounts: acc, Destinations: &fakeDestinations{current: "/media/usb/Lifeboat"}, Scheduler: sched,
		RecoveryKeys: keys, Preferences: prefs, Diagnostics: fakeDiag{}, Version: "1.2.3",
		OpenFolder: func(p string) error { opened = append(opened, p); return nil }})
	env.Window.SetContent(s.Content())
	s.Refresh()
	q.waitFor(t, "settings", func() bool { return s.KeepDeleted.Text == "7" })
	all := texts(s.Content())
	for _, want := range []string{"Paul Baker (paul@bakery.test)", "Your backup is in /media/usb/Lifeboat", "Version 1.2.3", "MIT licence"} {
		if !strings.Contains(all, want) {
			t.Errorf("settings lack %q", want)
		}
	}
	if s.Schedule.Mode.Selected != scheduleHours || !s.Notify.Checked {
		t.Errorf("schedule %q, notify %v", s.Schedule.Mode.Selected, s.Notify.Checked)
	}

	s.KeepDeleted.SetText("0")
	test.Tap(s.SaveRetention)
	if !strings.Contains(s.RetentionNote.Text, "Not saved") {
		t.Errorf("retention of deleted items 0 accepted: %q", s.RetentionNote.Text)
	}
	s.KeepDeleted.SetText("10")
	test.Tap(s.SaveRetention)
	q.waitFor(t, "retention saved", func() bool { return s.RetentionNote.Text == "Saved." })
	if r, _ := prefs.Retention(context.Background()); r.KeepDeletedYears != 10 || r.KeepDaily != 7 {
		t.Errorf("saved retention %+v", r)
	}

	s.Schedule.Mode.SetSelected(scheduleDaily)
	s.Schedule.At.SetText("22:15")
	test.Tap(s.SaveSchedule)
	q.waitFor(t, "schedule saved", func() bool { return strings.HasPrefix(s.ScheduleNote.Text, "Saved") })
	if len(sched.set) != 1 || sched.set[0].At != "22:15" || sched.set[0].EveryHours != 0 {
		t.Errorf("schedule saved %+v", sched.set)
	}

	test.Tap(s.Notify)
	if prefs.Notifications() {
		t.Error("turning notifications off was not saved")
	}

	s.MakeNewKey()
	q.waitFor(t, "new key", func() bool { return strings.Contains(s.KeyNote.Text, "old one no longer opens") })
	if keys.calls != 1 {
		t.Errorf("Replace called %d times", keys.calls)
	}

	test.Tap(s.OpenLogs)
	if len(opened) != 1 || opened[0] != "/tmp/logs" {
		t.Errorf("opened %v", opened)
	}
}

func TestShellNotifiesWhenABackupNeedsThePerson(t *testing.T) {
	env, q := newEnv(t)
	runner := &fakeRunner{result: BackupResult{Outcome: OutcomeDriveMissing, Message: "backup drive not found: /media/usb"}}
	prefs := &fakePrefs{notify: true}
	var tray []string
	s := NewShell(env, AppDeps{Accounts: &fakeAccounts{}, Destinations: &fakeDestinations{current: "/media/usb"}, RecoveryKeys: &fakeKeys{},
		Scheduler: &fakeScheduler{}, Backup: runner, Status: &fixedStatus{}, History: fakeHistory{}, Preferences: prefs, Diagnostics: fakeDiag{},
		SetupStep: SetupDone, OnStatus: func(l string) { tray = append(tray, l) }})
	env.Window.SetContent(s.Content())
	if s.InSetup() {
		t.Fatal("a finished setup opens the wizard")
	}
	want := fyne.NewNotification("Backup drive missing", resultSentence(runner.result))
	test.AssertNotificationSent(t, want, func() {
		s.BackUpNow()
		q.waitFor(t, "the backup to end", func() bool { return runner.count() == 1 && !s.Progress.Running() })
	})
	if len(tray) != 2 || tray[0] != "Backing up…" || !strings.Contains(tray[1], "not connected") {
		t.Errorf("tray status lines: %q", tray)
	}

	prefs.SetNotifications(false)
	runner.mu.Lock()
	runner.result = BackupResult{Outcome: OutcomeSignInNeeded}
	runner.mu.Unlock()
	test.AssertNotificationSent(t, nil, func() {
		s.BackUpNow()
		q.waitFor(t, "the backup to end", func() bool { return runner.count() == 2 && !s.Progress.Running() })
	})
}
