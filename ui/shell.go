package ui

import (
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
)

// SetupDone is the setup step saved once the wizard is finished.
const SetupDone = -1

// AppDeps is everything the app's screens need.
type AppDeps struct {
	Accounts     Accounts
	Destinations Destinations
	RecoveryKeys RecoveryKeys
	Scheduler    Scheduler
	Backup       BackupRunner
	Status       StatusSource
	History      History
	Preferences  Preferences
	Diagnostics  Diagnostics
	Version      string
	Demo         bool
	// Suggestion prefills the backup folder in the setup wizard.
	Suggestion string
	// SetupStep is where the setup wizard resumes; SetupDone opens the
	// dashboard.
	SetupStep int
	// SaveSetupStep remembers the wizard's page (SetupDone when finished).
	SaveSetupStep func(step int)
	OpenFolder    func(path string) error
	// OpenRestore opens the restore wizard.
	OpenRestore func()
	// OnStatus, when set, receives a one-line status for the tray.
	OnStatus func(line string)
	// Offsite and Alarm: the off-site copy and the wipe alarm (offsite.go).
	Offsite           Offsite
	Alarm             Alarm
	OpenRestoreBefore func(at time.Time, kind ItemKind)
	// Company, when set, lets the setup wizard protect the whole company.
	Company CompanySetup
}

// Shell is the app window's content: the setup wizard on first run, then
// the dashboard, history and settings.
type Shell struct {
	env Env
	d   AppDeps

	Wizard    *SetupWizard
	Progress  *ProgressView
	Dashboard *Dashboard
	History   *HistoryView
	Settings  *SettingsView
	Tabs      *container.AppTabs
	root      *fyne.Container
}

// NewShell builds the window content.
func NewShell(env Env, d AppDeps) *Shell {
	s := &Shell{env: env, d: d}
	s.Progress = NewProgressView(env, d.Backup)
	s.Dashboard = NewDashboard(env, DashboardDeps{Status: d.Status, Progress: s.Progress, OpenRestore: d.OpenRestore, Alarm: d.Alarm,
		OpenRestoreBefore: d.OpenRestoreBefore})
	s.History = NewHistoryView(env, d.History)
	s.Settings = NewSettingsView(env, SettingsDeps{Accounts: d.Accounts, Destinations: d.Destinations, Scheduler: d.Scheduler,
		RecoveryKeys: d.RecoveryKeys, Preferences: d.Preferences, Diagnostics: d.Diagnostics, Version: d.Version,
		OpenFolder: d.OpenFolder, Changed: s.Dashboard.Refresh, Offsite: d.Offsite})
	s.Progress.OnStart = func() {
		s.Dashboard.BackupStarted()
		s.status("Backing up…")
	}
	s.Progress.OnEnd = s.backupEnded
	s.Dashboard.OnVerdict = s.status
	s.Tabs = container.NewAppTabs(
		container.NewTabItemWithIcon("Home", theme.HomeIcon(), s.Dashboard.Content()),
		container.NewTabItemWithIcon("History", theme.HistoryIcon(), s.History.Content()),
		container.NewTabItemWithIcon("Settings", theme.SettingsIcon(), s.Settings.Content()))
	s.Tabs.OnSelected = func(t *container.TabItem) {
		switch t.Text {
		case "History":
			s.History.Refresh()
		case "Settings":
			s.Settings.Refresh()
		case "Home":
			s.Dashboard.Refresh()
		}
	}
	s.root = container.NewStack()
	if d.SetupStep == SetupDone {
		s.ShowMain()
	} else {
		s.Wizard = NewSetupWizard(env, SetupDeps{Accounts: d.Accounts, Destinations: d.Destinations, RecoveryKeys: d.RecoveryKeys,
			Scheduler: d.Scheduler, Backup: d.Backup, Suggestion: d.Suggestion, Demo: d.Demo, Progress: s.Progress,
			SaveStep: d.SaveSetupStep, Finish: s.finishSetup, Company: d.Company}, d.SetupStep)
		s.root.Objects = []fyne.CanvasObject{s.Wizard.Content()}
	}
	return s
}

// Content is the window content.
func (s *Shell) Content() fyne.CanvasObject { return s.root }

// InSetup says whether the setup wizard is showing.
func (s *Shell) InSetup() bool { return s.Wizard != nil }

// ShowMain shows the dashboard.
func (s *Shell) ShowMain() {
	s.Wizard = nil
	s.root.Objects = []fyne.CanvasObject{s.Tabs}
	s.root.Refresh()
	s.Tabs.SelectIndex(0)
	s.Dashboard.Refresh()
	if s.Progress.Running() {
		s.Dashboard.BackupStarted()
	}
}

// BackUpNow starts a backup (from the tray, for instance).
func (s *Shell) BackUpNow() {
	if s.InSetup() {
		return
	}
	s.Tabs.SelectIndex(0)
	s.Progress.Start()
}

func (s *Shell) finishSetup() {
	if s.d.SaveSetupStep != nil {
		s.d.SaveSetupStep(SetupDone)
	}
	s.ShowMain()
}

func (s *Shell) backupEnded(res BackupResult) {
	s.Dashboard.BackupEnded()
	s.History.Refresh()
	s.status(resultSentence(res))
	var title string
	switch res.Outcome {
	case OutcomeFailed:
		title = "Backup failed"
	case OutcomeDriveMissing:
		title = "Backup drive missing"
	case OutcomeSignInNeeded:
		title = "Lifeboat needs you to sign in"
	default:
		return
	}
	if s.d.Preferences != nil && s.d.Preferences.Notifications() && s.env.App != nil {
		s.env.App.SendNotification(fyne.NewNotification(title, resultSentence(res)))
	}
}

func (s *Shell) status(line string) {
	if s.d.OnStatus != nil {
		s.d.OnStatus(line)
	}
}
