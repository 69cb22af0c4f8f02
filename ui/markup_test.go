package ui

import (
	"errors"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
)

// TestScreensRenderToMarkup keeps reference renderings (testdata/*.xml) of
// each main screen and state at the smallest window size Lifeboat
// supports, so a change in what a person sees shows up in review.
// Regenerate after an intended change by copying testdata/failed/*.xml.
func TestScreensRenderToMarkup(t *testing.T) {
	expires := time.Date(2026, 3, 10, 12, 15, 0, 0, time.Local)
	for _, c := range []struct {
		name  string
		build func(env Env, q *uiQueue) fyne.CanvasObject
	}{
		{"setup_welcome", func(env Env, q *uiQueue) fyne.CanvasObject {
			return NewSetupWizard(env, testSetupDeps(), StepWelcome).Content()
		}},
		{"setup_signin_code", func(env Env, q *uiQueue) fyne.CanvasObject {
			w := NewSetupWizard(env, testSetupDeps(), StepSignIn)
			w.SignIn.Stop()
			w.SignIn.Apply(SignInUpdate{Step: SignInCodeIssued, Code: "HXQ47KPD", URL: "https://login.microsoftonline.com/devicelogin", Expires: expires})
			return w.Content()
		}},
		{"setup_signin_declined", func(env Env, q *uiQueue) fyne.CanvasObject {
			w := NewSetupWizard(env, testSetupDeps(), StepSignIn)
			w.SignIn.Stop()
			w.SignIn.Apply(SignInUpdate{Step: SignInDeclined})
			return w.Content()
		}},
		{"setup_signin_failed", func(env Env, q *uiQueue) fyne.CanvasObject {
			w := NewSetupWizard(env, testSetupDeps(), StepSignIn)
			w.SignIn.Stop()
			w.SignIn.Apply(SignInUpdate{Step: SignInFailed, Err: errors.New("cannot keep your sign-in safe: no keychain")})
			return w.Content()
		}},
		{"setup_destination_system_disk", func(env Env, q *uiQueue) fyne.CanvasObject {
			d := testSetupDeps()
			d.Suggestion = "/home/anna/Lifeboat Backup"
			w := NewSetupWizard(env, d, StepDestination)
			q.waitFor(t, "the warning", func() bool { return w.Destination.Warning.Visible() && len(w.Destination.Drives.Options) == 2 })
			return w.Content()
		}},
		{"setup_recovery_key", func(env Env, q *uiQueue) fyne.CanvasObject {
			w := NewSetupWizard(env, testSetupDeps(), StepDestination)
			q.waitFor(t, "drives", func() bool { return len(w.Destination.Drives.Options) == 2 })
			w.Destination.Folder.SetText("/media/usb/Lifeboat Backup")
			test.Tap(w.Next)
			q.waitFor(t, "the key", func() bool { return w.Step == StepProtect })
			test.Type(w.Key.Confirm, "QR0SX")
			return w.Content()
		}},
		{"setup_schedule", func(env Env, q *uiQueue) fyne.CanvasObject {
			w := NewSetupWizard(env, testSetupDeps(), StepSchedule)
			q.waitFor(t, "schedule", func() bool { return w.Schedule.At.Text == "21:00" })
			return w.Content()
		}},
		{"setup_first_backup_throttled", func(env Env, q *uiQueue) fyne.CanvasObject {
			d := testSetupDeps()
			d.Backup = &fakeRunner{hold: true, progress: []Progress{{Account: "paul@bakery.test", Phase: "mail", ItemsDone: 1200, ItemsTotal: 4800,
				BytesDone: 250e6, BytesTotal: 1e9, Throttled: "Microsoft asked us to slow down, continuing in 30 s", ETA: 20 * time.Minute}}}
			w := NewSetupWizard(env, d, StepFirstBackup)
			q.waitFor(t, "progress", func() bool { return w.Progress.Throttle.Visible() })
			t.Cleanup(w.Progress.Stop)
			return w.Content()
		}},
		{"dashboard_safe", func(env Env, q *uiQueue) fyne.CanvasObject {
			now := env.now()
			return testDashboard(t, env, q, Status{LastGood: now.Add(-3 * time.Hour), LastRun: now.Add(-3 * time.Hour), NextRun: now.Add(9 * time.Hour),
				Destination: "/media/usb/Lifeboat Backup", Connected: true, Free: 412e9})
		}},
		{"dashboard_attention", func(env Env, q *uiQueue) fyne.CanvasObject {
			now := env.now()
			return testDashboard(t, env, q, Status{LastGood: now.Add(-80 * time.Hour), LastRun: now.Add(-2 * time.Hour), LastRunFailed: true,
				Destination: "/media/usb/Lifeboat Backup", Warnings: []string{"No backup for 3 days. Check that the backup drive is connected."}})
		}},
		{"dashboard_never", func(env Env, q *uiQueue) fyne.CanvasObject {
			return testDashboard(t, env, q, Status{Destination: "/media/usb/Lifeboat Backup", Connected: true, Free: 412e9})
		}},
		{"history", func(env Env, q *uiQueue) fyne.CanvasObject {
			start := time.Date(2026, 3, 9, 21, 0, 0, 0, time.Local)
			h := NewHistoryView(env, fakeHistory{runs: []RunRecord{
				{ID: 7, Started: start, Ended: start.Add(95 * time.Second), Status: RunWithWarnings, New: 12, Changed: 3, Deleted: 1, Skipped: 1, Bytes: 3e6,
					SkippedItems: []SkippedItem{{Account: "paul@bakery.test", Item: "Documents/huge.mov", Reason: "the file changed while it was copied"}}},
				{ID: 6, Started: start.Add(-24 * time.Hour), Ended: start.Add(-24 * time.Hour).Add(time.Minute), Status: RunFailed, Error: "backup drive not found"},
			}})
			h.Refresh()
			q.waitFor(t, "runs", func() bool { return !h.Copy.Disabled() })
			return h.Content()
		}},
		{"settings", func(env Env, q *uiQueue) fyne.CanvasObject {
			s := NewSettingsView(env, SettingsDeps{Accounts: &fakeAccounts{people: []Person{{Name: "Paul Baker", Email: "paul@bakery.test"}}},
				Destinations: &fakeDestinations{current: "/media/usb/Lifeboat Backup"}, Scheduler: &fakeScheduler{cur: DefaultSchedule()},
				RecoveryKeys: &fakeKeys{}, Preferences: &fakePrefs{ret: Retention{KeepAllDays: 30, KeepDaily: 7, KeepWeekly: 4, KeepMonthly: 12, Years: 5, KeepDeletedYears: 7}},
				Diagnostics: fakeDiag{}, Version: "1.0.0"})
			s.Refresh()
			q.waitFor(t, "settings", func() bool { return s.KeepDeleted.Text == "7" })
			return s.Content()
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			env, q := newEnv(t)
			content := c.build(env, q)
			env.Window.SetContent(content)
			if min := content.MinSize(); min.Width > 800 || min.Height > 600 {
				t.Errorf("%s needs %v: the window cannot shrink to 800×600", c.name, min)
			}
			env.Window.Resize(fyne.NewSize(800, 600))
			test.AssertRendersToMarkup(t, c.name+".xml", env.Window.Canvas())
		})
	}
}

func testSetupDeps() SetupDeps {
	return SetupDeps{Accounts: &fakeAccounts{block: true}, Destinations: &fakeDestinations{key: testKey, estimate: 4e9},
		RecoveryKeys: &fakeKeys{key: testKey}, Scheduler: &fakeScheduler{cur: DefaultSchedule()},
		Backup: &fakeRunner{result: BackupResult{Outcome: OutcomeDone}}}
}

func testDashboard(t *testing.T, env Env, q *uiQueue, s Status) fyne.CanvasObject {
	t.Helper()
	db := NewDashboard(env, DashboardDeps{Status: &fixedStatus{s: s}, Progress: NewProgressView(env, &fakeRunner{})})
	db.Refresh()
	q.waitFor(t, "status", func() bool { return db.Verdict() != VerdictUnknown })
	return db.Content()
}
