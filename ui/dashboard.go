package ui

import (
	"context"
	"image/color"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// staleAfter is how old the last good backup may be before the dashboard
// stops calling the owner safe.
const staleAfter = 3 * 24 * time.Hour

// Verdict is the dashboard's answer to "am I safe?".
type Verdict int

// Verdicts.
const (
	VerdictUnknown Verdict = iota
	VerdictNeverBackedUp
	VerdictSafe
	VerdictAttention
)

// DashboardDeps is what the dashboard needs.
type DashboardDeps struct {
	Status   StatusSource
	Progress *ProgressView
	// OpenRestore opens the restore wizard.
	OpenRestore func()
	// Alarm closes wipe alarms (nil: they cannot be closed here);
	// OpenRestoreBefore opens the restore wizard at the backup before one.
	Alarm             Alarm
	OpenRestoreBefore func(at time.Time, kind ItemKind)
}

// Dashboard is the main window's first screen: a status card, Back up now,
// the progress of a running backup, and Restore.
type Dashboard struct {
	env Env
	d   DashboardDeps

	Icon      *widget.Icon
	Headline  *widget.Label
	Summary   *widget.Label
	Details   *widget.Label
	Warnings  *widget.Label
	BackUpNow *widget.Button
	Restore   *widget.Button
	// Alerts shows open wipe alarms (dashboard_offsite.go).
	Alerts  *AlertCard
	content fyne.CanvasObject

	verdict Verdict
	status  Status
	loaded  bool
	running bool
	// OnVerdict, when set, hears the status card's headline each time the
	// status is shown (the tray's status line).
	OnVerdict func(headline string)
}

// NewDashboard builds the dashboard; Refresh loads the status.
func NewDashboard(env Env, d DashboardDeps) *Dashboard {
	db := &Dashboard{env: env, d: d}
	db.Icon = widget.NewIcon(theme.InfoIcon())
	db.Headline = heading("Checking your backup…")
	db.Summary = para("")
	db.Details = para("")
	db.Warnings = para("")
	db.Warnings.Importance = widget.WarningImportance
	db.Warnings.Hide()
	db.BackUpNow = widget.NewButtonWithIcon("Back up now", theme.UploadIcon(), func() { db.d.Progress.Start() })
	db.BackUpNow.Importance = widget.HighImportance
	db.Restore = widget.NewButtonWithIcon("Restore emails or files…", theme.HistoryIcon(), func() {
		if db.d.OpenRestore != nil {
			db.d.OpenRestore()
		}
	})
	db.Restore.Importance = widget.HighImportance
	card := widget.NewCard("", "", container.NewBorder(nil, nil,
		container.NewCenter(container.NewGridWrap(fyne.NewSize(56, 56), db.Icon)), nil,
		container.NewVBox(db.Headline, db.Summary, db.Details, db.Warnings)))
	actions := container.NewGridWithColumns(2, tall(db.BackUpNow), tall(db.Restore))
	progress := widget.NewCard("", "", d.Progress.Content())
	db.Alerts = newAlertCard(db)
	db.content = container.NewVScroll(container.NewPadded(container.NewVBox(db.Alerts.Content(), card, actions, progress)))
	return db
}

// Content is the dashboard's canvas object.
func (db *Dashboard) Content() fyne.CanvasObject { return db.content }

// Verdict is what the status card says.
func (db *Dashboard) Verdict() Verdict { return db.verdict }

// Refresh reloads the status in the background.
func (db *Dashboard) Refresh() {
	go func() {
		s, err := db.d.Status.Status(context.Background())
		db.env.do(func() {
			if err != nil {
				s.Warnings = append(s.Warnings, "Lifeboat cannot read its backup history: "+err.Error())
			}
			db.Apply(s)
		})
	}()
}

// BackupStarted and BackupEnded keep the dashboard in step with the
// progress view.
func (db *Dashboard) BackupStarted() {
	db.running = true
	db.BackUpNow.Disable()
	if db.loaded {
		db.Apply(db.status)
	}
}

// BackupEnded re-enables Back up now and reloads the status.
func (db *Dashboard) BackupEnded() {
	db.running = false
	db.BackUpNow.Enable()
	db.Refresh()
}

// Apply shows s (on the UI goroutine).
func (db *Dashboard) Apply(s Status) {
	db.status, db.loaded = s, true
	now := db.env.now()
	var details []string
	if s.LastRunFailed && s.LastRun.After(s.LastGood) {
		details = append(details, "The last backup, "+when(s.LastRun, now)+", did not finish (see History).")
	}
	if !s.NextRun.IsZero() {
		details = append(details, "Next backup: "+when(s.NextRun, now)+".")
	}
	switch {
	case s.Destination == "":
		details = append(details, "No backup drive chosen yet.")
	case s.Connected:
		d := "Backup drive: " + s.Destination + ", connected"
		if s.Free > 0 {
			d += ", " + formatBytes(int64(s.Free)) + " free"
		}
		details = append(details, d+".")
	default:
		details = append(details, "Backup drive: "+s.Destination+" is not connected.")
	}
	if line := holdsLine(s.Holds); line != "" {
		details = append(details, line)
	}
	if line := copiesLine(s, now); line != "" {
		details = append(details, line)
	}
	db.Alerts.show(s.Alerts)
	db.Details.SetText(strings.Join(details, "\n"))
	warnings := s.Warnings
	if s.Destination != "" && !s.Connected {
		warnings = append([]string{"Connect your backup drive so the next backup can run."}, warnings...)
	}
	db.Warnings.SetText(strings.Join(warnings, "\n"))
	setVisible(db.Warnings, len(warnings) > 0)

	switch {
	case s.LastGood.IsZero() && s.LastRun.IsZero():
		db.verdict = VerdictNeverBackedUp
		db.Headline.SetText("No backup yet")
		if db.running {
			db.Summary.SetText("Your first backup is running; its progress is below.")
		} else {
			db.Summary.SetText("Your emails and files are not protected yet. Click Back up now to make the first backup.")
		}
		db.Icon.SetResource(theme.NewWarningThemedResource(theme.WarningIcon()))
	case len(s.Alerts) > 0:
		db.verdict = VerdictAttention
		db.Headline.SetText("Look at what happened to your data")
		db.Summary.SetText("Something changed a large part of it in the last backup. Read the alarm above, then restore what was lost, or tell Lifeboat it was expected.")
		db.Icon.SetResource(theme.NewErrorThemedResource(theme.ErrorIcon()))
	case len(warnings) > 0 || s.LastGood.IsZero() || now.Sub(s.LastGood) > staleAfter || (s.LastRunFailed && s.LastRun.After(s.LastGood)):
		db.verdict = VerdictAttention
		db.Headline.SetText("Your backup needs attention")
		if s.LastGood.IsZero() {
			db.Summary.SetText("No backup has finished yet.")
		} else {
			db.Summary.SetText("Your emails and files were last backed up " + when(s.LastGood, now) + ".")
		}
		db.Icon.SetResource(theme.NewErrorThemedResource(theme.ErrorIcon()))
	default:
		db.verdict = VerdictSafe
		db.Headline.SetText("You are safe")
		db.Summary.SetText("Your emails and files were backed up " + when(s.LastGood, now) + ".")
		db.Icon.SetResource(theme.NewSuccessThemedResource(theme.ConfirmIcon()))
	}
	if db.OnVerdict != nil && !db.running {
		db.OnVerdict(db.Headline.Text)
	}
}

// tall gives a main action button more height than a form button.
func tall(b *widget.Button) fyne.CanvasObject {
	space := canvas.NewRectangle(color.Transparent)
	space.SetMinSize(fyne.NewSize(0, 56))
	return container.NewStack(space, b)
}
