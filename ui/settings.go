package ui

import (
	"context"
	"fmt"
	"strconv"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// Licences is the About section's list of what Lifeboat is built with.
const Licences = "Lifeboat is free software under the MIT licence.\n" +
	"It is built with Go (BSD), Fyne (BSD 3-Clause), the Microsoft Authentication Library and Microsoft Graph SDK for Go (MIT), " +
	"Kiota (MIT), klauspost/compress (BSD 3-Clause / Apache 2.0), restic/chunker (BSD 2-Clause), Cobra (Apache 2.0), " +
	"go-keyring (MIT), golang.org/x/crypto (BSD 3-Clause) and modernc.org/sqlite (BSD 3-Clause)."

// SettingsDeps is what the settings screen needs.
type SettingsDeps struct {
	Accounts     Accounts
	Destinations Destinations
	Scheduler    Scheduler
	RecoveryKeys RecoveryKeys
	Preferences  Preferences
	Diagnostics  Diagnostics
	Version      string
	// OpenFolder shows a folder in the file manager.
	OpenFolder func(path string) error
	// Changed is called after a setting that the dashboard shows changed.
	Changed func()
	// Offsite sets up the off-site copy (nil: no such page).
	Offsite Offsite
}

// SettingsView is the settings screen: accounts, backup drive, schedule,
// retention, recovery key, notifications, diagnostics and about.
type SettingsView struct {
	env Env
	d   SettingsDeps

	People        *fyne.Container
	AddAccount    *widget.Button
	Destination   *widget.Label
	ChangeDrive   *widget.Button
	Schedule      *ScheduleForm
	SaveSchedule  *widget.Button
	ScheduleNote  *widget.Label
	KeepAllDays   *widget.Entry
	KeepDaily     *widget.Entry
	KeepWeekly    *widget.Entry
	KeepMonthly   *widget.Entry
	KeepYears     *widget.Entry
	KeepDeleted   *widget.Entry
	SaveRetention *widget.Button
	RetentionNote *widget.Label
	NewKey        *widget.Button
	KeyNote       *widget.Label
	Notify        *widget.Check
	OpenLogs      *widget.Button
	ExportBundle  *widget.Button
	DiagNote      *widget.Label
	// Offsite is the off-site copy page; Eject the drive's eject box.
	Offsite *OffsiteView
	Eject   *widget.Check
	// Sections holds one tab per group of settings.
	Sections *container.AppTabs
	content  fyne.CanvasObject
	loading  bool
}

// NewSettingsView builds the screen; Refresh loads the current settings.
func NewSettingsView(env Env, d SettingsDeps) *SettingsView {
	s := &SettingsView{env: env, d: d}
	s.People = container.NewVBox()
	s.AddAccount = widget.NewButtonWithIcon("Sign in another account…", theme.ContentAddIcon(), s.addAccount)
	accounts := section("Accounts", "Whose emails and files are backed up.", s.People, container.NewHBox(s.AddAccount))

	s.Destination = para("")
	s.ChangeDrive = widget.NewButtonWithIcon("Use another drive…", theme.StorageIcon(), s.changeDrive)
	s.Eject = ejectCheck(d.Offsite, func(err error) { s.showError("The setting was not saved", err) })
	drive := section("Backup drive", "", s.Destination, container.NewHBox(s.ChangeDrive), s.Eject)

	s.Schedule = NewScheduleForm(DefaultSchedule())
	s.ScheduleNote = widget.NewLabel("")
	s.SaveSchedule = widget.NewButton("Save schedule", s.saveSchedule)
	sched := section("Schedule", "When Lifeboat backs up by itself.", s.Schedule.Content(), container.NewHBox(s.SaveSchedule, s.ScheduleNote))

	num := func() *widget.Entry {
		e := widget.NewEntry()
		e.Validator = func(t string) error {
			if n, err := strconv.Atoi(t); err != nil || n < 0 || n > 1000 {
				return fmt.Errorf("a number from 0 to 1000")
			}
			return nil
		}
		return e
	}
	s.KeepAllDays, s.KeepDaily, s.KeepWeekly, s.KeepMonthly, s.KeepYears, s.KeepDeleted = num(), num(), num(), num(), num(), num()
	s.RetentionNote = widget.NewLabel("")
	s.SaveRetention = widget.NewButton("Save", s.saveRetention)
	retention := section("How long to keep old versions", "Older versions are thinned out as they age; the newest backup is always kept.",
		widget.NewForm(
			widget.NewFormItem("Every version, for days", s.KeepAllDays),
			widget.NewFormItem("Then one a day, for days", s.KeepDaily),
			widget.NewFormItem("One a week, for weeks", s.KeepWeekly),
			widget.NewFormItem("One a month, for months", s.KeepMonthly),
			widget.NewFormItem("One a year, for years", s.KeepYears),
			widget.NewFormItem("Deleted items, for years", s.KeepDeleted)),
		container.NewHBox(s.SaveRetention, s.RetentionNote))

	s.NewKey = widget.NewButtonWithIcon("Make a new recovery key…", theme.ViewRefreshIcon(), s.confirmNewKey)
	s.KeyNote = para("The recovery key opens your backup on another computer. If you lost it, or someone else may have seen it, make a new one: the old one stops working.")
	key := section("Recovery key", "", s.KeyNote, container.NewHBox(s.NewKey))

	s.Notify = widget.NewCheck("Tell me when a backup fails, the backup drive is missing, or I need to sign in again", s.setNotify)
	notes := section("Notifications", "", s.Notify)

	s.OpenLogs = widget.NewButtonWithIcon("Open the log folder", theme.FolderOpenIcon(), s.openLogs)
	s.ExportBundle = widget.NewButtonWithIcon("Save a support bundle…", theme.DocumentSaveIcon(), s.exportBundle)
	s.DiagNote = para("A support bundle holds Lifeboat's logs, settings and backup history — never your password, sign-in, recovery key, emails or files.")
	diag := section("Diagnostics", "", s.DiagNote, container.NewHBox(s.OpenLogs, s.ExportBundle))

	about := section("About Lifeboat", "Version "+d.Version, para(Licences))

	items := []*container.TabItem{
		container.NewTabItem("Accounts", accounts),
		container.NewTabItem("Backup drive", drive),
		container.NewTabItem("Schedule", sched),
		container.NewTabItem("Old versions", retention),
		container.NewTabItem("Recovery key", key),
		container.NewTabItem("Notifications", notes),
		container.NewTabItem("Diagnostics", diag),
		container.NewTabItem("About", about)}
	if d.Offsite != nil { // after Backup drive: the second copy (offsite.go)
		s.Offsite = NewOffsiteView(env, d.Offsite)
		s.Offsite.OnSaved = s.changed
		items = append(items[:2], append([]*container.TabItem{container.NewTabItem("Off-site copy", section("Off-site copy", "", s.Offsite.Content()))}, items[2:]...)...)
	}
	s.Sections = container.NewAppTabs(items...)
	s.Sections.SetTabLocation(container.TabLocationLeading)
	s.content = s.Sections
	return s
}

// Content is the screen's canvas object.
func (s *SettingsView) Content() fyne.CanvasObject { return s.content }

// Refresh loads the current settings in the background.
func (s *SettingsView) Refresh() {
	go func() {
		ctx := context.Background()
		people, perr := s.d.Accounts.List(ctx)
		sched, serr := s.d.Scheduler.Schedule(ctx)
		ret, rerr := s.d.Preferences.Retention(ctx)
		notify := s.d.Preferences.Notifications()
		dest := s.d.Destinations.Current()
		s.env.do(func() {
			s.loading = true
			defer func() { s.loading = false }()
			s.showPeople(people, perr)
			if dest == "" {
				s.Destination.SetText("No backup drive chosen yet.")
			} else {
				s.Destination.SetText("Your backup is in " + dest)
			}
			if serr == nil {
				s.Schedule.Set(sched)
			}
			if rerr == nil {
				s.setRetention(ret)
			}
			s.Notify.SetChecked(notify)
		})
		if s.Offsite != nil {
			s.Offsite.Load()
		}
	}()
}

func (s *SettingsView) showPeople(people []Person, err error) {
	s.People.Objects = nil
	if err != nil {
		l := para("Cannot read who is signed in: " + err.Error())
		l.Importance = widget.DangerImportance
		s.People.Add(l)
	}
	if err == nil && len(people) == 0 {
		s.People.Add(para("Nobody is signed in: backups cannot run. Sign in to continue."))
	}
	for _, p := range people {
		email := p.Email
		out := widget.NewButtonWithIcon("Sign out", theme.LogoutIcon(), func() { s.confirmSignOut(email) })
		s.People.Add(container.NewBorder(nil, nil, widget.NewIcon(theme.AccountIcon()), out, widget.NewLabel(personName(p))))
	}
	s.People.Refresh()
}

func (s *SettingsView) confirmSignOut(email string) {
	do := func() {
		go func() {
			err := s.d.Accounts.SignOut(context.Background(), email)
			s.env.do(func() {
				if err != nil {
					s.showError("Signing out did not work", err)
				}
				s.Refresh()
				s.changed()
			})
		}()
	}
	if s.env.Window == nil {
		do()
		return
	}
	dialog.ShowConfirm("Sign out "+email+"?", "Backups of "+email+" stop until they sign in again. What is already backed up is kept.",
		func(ok bool) {
			if ok {
				do()
			}
		}, s.env.Window)
}

func (s *SettingsView) addAccount() {
	if s.env.Window == nil {
		return
	}
	var d dialog.Dialog
	page := NewSignInPage(s.env, s.d.Accounts, func(Person) {
		s.Refresh()
		s.changed()
	})
	d = dialog.NewCustom("Sign in", "Close", container.NewGridWrap(fyne.NewSize(560, 380), page.Content()), s.env.Window)
	d.SetOnClosed(page.Stop)
	d.Show()
	page.Start()
}

func (s *SettingsView) changeDrive() {
	if s.env.Window == nil {
		return
	}
	page := NewDestinationPage(s.env, s.d.Destinations, "")
	page.Load()
	dialog.ShowCustomConfirm("Use another backup drive", "Create the backup there", "Cancel",
		container.NewGridWrap(fyne.NewSize(620, 420), page.Content()), func(ok bool) {
			if !ok || page.Path() == "" {
				return
			}
			path := page.Path()
			go func() {
				key, err := s.d.Destinations.Create(context.Background(), path)
				s.env.do(func() {
					if err != nil {
						s.showError("The backup could not be created there", err)
						return
					}
					s.Refresh()
					s.changed()
					s.showKey("Your new backup's recovery key", key)
				})
			}()
		}, s.env.Window)
}

func (s *SettingsView) saveSchedule() {
	sched, err := s.Schedule.Schedule()
	if err != nil {
		s.ScheduleNote.SetText("")
		return
	}
	go func() {
		err := s.d.Scheduler.SetSchedule(context.Background(), sched)
		s.env.do(func() {
			if err != nil {
				s.ScheduleNote.SetText("Not saved: " + err.Error())
				return
			}
			s.ScheduleNote.SetText("Saved: " + describeSchedule(sched) + ".")
			s.changed()
		})
	}()
}

func (s *SettingsView) setRetention(r Retention) {
	set := func(e *widget.Entry, n int) { e.SetText(strconv.Itoa(n)) }
	set(s.KeepAllDays, r.KeepAllDays)
	set(s.KeepDaily, r.KeepDaily)
	set(s.KeepWeekly, r.KeepWeekly)
	set(s.KeepMonthly, r.KeepMonthly)
	set(s.KeepYears, r.Years)
	set(s.KeepDeleted, r.KeepDeletedYears)
}

// Retention reads the retention fields.
func (s *SettingsView) Retention() (Retention, error) {
	var r Retention
	for _, f := range []struct {
		e *widget.Entry
		p *int
	}{{s.KeepAllDays, &r.KeepAllDays}, {s.KeepDaily, &r.KeepDaily}, {s.KeepWeekly, &r.KeepWeekly},
		{s.KeepMonthly, &r.KeepMonthly}, {s.KeepYears, &r.Years}, {s.KeepDeleted, &r.KeepDeletedYears}} {
		if err := f.e.Validate(); err != nil {
			return r, err
		}
		*f.p, _ = strconv.Atoi(f.e.Text)
	}
	if r.KeepDeletedYears < 1 {
		return r, fmt.Errorf("keep deleted items for at least 1 year")
	}
	return r, nil
}

func (s *SettingsView) saveRetention() {
	r, err := s.Retention()
	if err != nil {
		s.RetentionNote.SetText("Not saved: " + err.Error())
		return
	}
	go func() {
		err := s.d.Preferences.SetRetention(context.Background(), r)
		s.env.do(func() {
			if err != nil {
				s.RetentionNote.SetText("Not saved: " + err.Error())
				return
			}
			s.RetentionNote.SetText("Saved.")
		})
	}()
}

func (s *SettingsView) confirmNewKey() {
	if s.env.Window == nil {
		s.MakeNewKey()
		return
	}
	dialog.ShowConfirm("Make a new recovery key?", "The current recovery key stops working. Lifeboat shows the new one once: save or print it.",
		func(ok bool) {
			if ok {
				s.MakeNewKey()
			}
		}, s.env.Window)
}

// MakeNewKey replaces the recovery key and shows the new one.
func (s *SettingsView) MakeNewKey() {
	s.NewKey.Disable()
	go func() {
		key, err := s.d.RecoveryKeys.Replace(context.Background())
		s.env.do(func() {
			s.NewKey.Enable()
			if err != nil {
				s.KeyNote.SetText("No new key was made: " + err.Error())
				return
			}
			s.KeyNote.SetText("A new recovery key was made " + when(s.env.now(), s.env.now()) + "; the old one no longer opens the backup.")
			s.showKey("Your new recovery key", key)
		})
	}()
}

func (s *SettingsView) showKey(title, key string) {
	if s.env.Window == nil {
		return
	}
	var d *dialog.CustomDialog
	done := widget.NewButtonWithIcon("I have saved it", theme.ConfirmIcon(), func() { d.Hide() })
	done.Importance = widget.HighImportance
	done.Disable()
	v := NewKeyView(s.env, key, done.Enable)
	d = dialog.NewCustomWithoutButtons(title, container.NewGridWrap(fyne.NewSize(600, 300), v.Content()), s.env.Window)
	d.SetButtons([]fyne.CanvasObject{done})
	d.Show()
}

func (s *SettingsView) setNotify(on bool) {
	if s.loading {
		return
	}
	if err := s.d.Preferences.SetNotifications(on); err != nil {
		s.showError("The setting was not saved", err)
	}
}

func (s *SettingsView) openLogs() {
	if s.d.OpenFolder == nil {
		return
	}
	if err := s.d.OpenFolder(s.d.Diagnostics.LogFolder()); err != nil {
		s.DiagNote.SetText("Cannot open the log folder: " + err.Error())
	}
}

func (s *SettingsView) exportBundle() {
	if s.env.Window == nil {
		return
	}
	d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
		if err != nil || w == nil {
			return
		}
		go func() {
			werr := s.d.Diagnostics.WriteSupportBundle(context.Background(), w)
			if cerr := w.Close(); werr == nil {
				werr = cerr
			}
			s.env.do(func() {
				if werr != nil {
					s.showError("The support bundle was not saved", werr)
					return
				}
				s.DiagNote.SetText("Support bundle saved as " + w.URI().Name() + ". Send it to whoever helps you with Lifeboat.")
			})
		}()
	}, s.env.Window)
	d.SetFileName("lifeboat-support.zip")
	d.SetFilter(storage.NewExtensionFileFilter([]string{".zip"}))
	d.Resize(fileDialogSize())
	d.Show()
}

func (s *SettingsView) showError(title string, err error) {
	if s.env.Window != nil {
		dialog.ShowError(fmt.Errorf("%s: %w", title, err), s.env.Window)
	}
}

func (s *SettingsView) changed() {
	if s.d.Changed != nil {
		s.d.Changed()
	}
}

// section is one settings page: a heading, a short explanation and the
// controls, scrolling when the window is small.
func section(title, sub string, objs ...fyne.CanvasObject) fyne.CanvasObject {
	head := []fyne.CanvasObject{heading(title)}
	if sub != "" {
		head = append(head, para(sub))
	}
	return container.NewVScroll(container.NewPadded(container.NewVBox(append(head, objs...)...)))
}
