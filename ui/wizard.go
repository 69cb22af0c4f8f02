package ui

import (
	"context"
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// The setup wizard's pages, in order.
const (
	StepWelcome = iota
	StepSignIn
	StepDestination
	StepProtect
	StepSchedule
	StepFirstBackup
	stepCount
)

var stepTitles = [stepCount]string{"Welcome", "Sign in", "Backup drive", "Recovery key", "Schedule", "First backup"}

// SetupDeps is what the setup wizard needs.
type SetupDeps struct {
	Accounts     Accounts
	Destinations Destinations
	RecoveryKeys RecoveryKeys
	Scheduler    Scheduler
	Backup       BackupRunner
	// Suggestion prefills the backup folder (the demo's practice folder).
	Suggestion string
	// Demo says the wizard runs on the built-in practice company.
	Demo bool
	// SaveStep remembers the page, so a wizard closed midway resumes there.
	SaveStep func(step int)
	// Progress, when set, is the progress view the first backup runs in,
	// shared with the dashboard so the backup carries on there.
	Progress *ProgressView
	// Finish is called when the person moves on to the dashboard.
	Finish func()
	// Company, when set, offers to protect everyone in the company
	// (wizard_company.go); the default choice.
	Company CompanySetup
}

// SetupWizard is the first-run setup: one decision per page, with Back and
// Next, resumable at any page.
type SetupWizard struct {
	env Env
	d   SetupDeps

	Step        int
	Back        *widget.Button
	Next        *widget.Button
	Steps       *widget.Label
	SignIn      *SignInPage
	Org         *WizardCompany // the company-or-just-me choice; nil without Company
	Destination *DestinationPage
	Key         *KeyView
	Schedule    *ScheduleForm
	Progress    *ProgressView
	// Problem shows what went wrong on the current page.
	Problem *widget.Label

	body    *fyne.Container
	sidebar []*widget.Label
	content fyne.CanvasObject
	key     string
	busy    bool
}

// NewSetupWizard builds the wizard at page start (a saved step when
// resuming).
func NewSetupWizard(env Env, d SetupDeps, start int) *SetupWizard {
	w := &SetupWizard{env: env, d: d}
	w.Back = widget.NewButtonWithIcon("Back", theme.NavigateBackIcon(), w.back)
	w.Next = widget.NewButtonWithIcon("Next", theme.NavigateNextIcon(), w.next)
	w.Next.IconPlacement = widget.ButtonIconTrailingText
	w.Next.Importance = widget.HighImportance
	w.Steps = widget.NewLabel("")
	w.Problem = para("")
	w.Problem.Importance = widget.DangerImportance
	w.SignIn = NewSignInPage(env, d.Accounts, func(Person) { w.updateButtons() })
	if d.Company != nil {
		w.Org = newWizardCompany(w, d.Company)
	}
	w.Destination = NewDestinationPage(env, d.Destinations, firstNonEmpty(d.Destinations.Current(), d.Suggestion))
	if d.Demo {
		w.Destination.Info.SetText("")
		w.Destination.DemoNote = "For the demo, the suggested folder in your home folder is fine: the demo company is small."
	}
	w.Destination.OnChanged = func(string) { w.updateButtons() }
	w.Schedule = NewScheduleForm(DefaultSchedule())
	w.Progress = d.Progress
	if w.Progress == nil {
		w.Progress = NewProgressView(env, d.Backup)
	}
	w.body = container.NewStack()
	side := container.NewVBox(widget.NewLabelWithStyle("Set up Lifeboat", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), widget.NewSeparator())
	for i := range stepCount {
		l := widget.NewLabel(stepTitles[i])
		w.sidebar = append(w.sidebar, l)
		side.Add(l)
	}
	w.content = container.NewBorder(nil,
		container.NewVBox(widget.NewSeparator(), container.NewBorder(nil, nil, w.Back, container.NewHBox(w.Steps, w.Next))),
		container.NewHBox(container.NewPadded(side), widget.NewSeparator()), nil,
		container.NewVScroll(container.NewPadded(container.NewVBox(w.body, w.Problem))))
	if start < 0 || start >= stepCount {
		start = StepWelcome
	}
	w.show(start)
	return w
}

// Content is the wizard's canvas object.
func (w *SetupWizard) Content() fyne.CanvasObject { return w.content }

func (w *SetupWizard) show(step int) {
	if w.Step == StepSignIn && step != StepSignIn {
		w.SignIn.Stop()
	}
	w.Step = step
	w.Problem.SetText("")
	w.Problem.Hide()
	if w.d.SaveStep != nil {
		w.d.SaveStep(step)
	}
	w.Steps.SetText(fmt.Sprintf("Step %d of %d", step+1, stepCount))
	for i, l := range w.sidebar {
		switch {
		case i < step:
			l.SetText("✓  " + stepTitles[i])
			l.Importance = widget.SuccessImportance
			l.TextStyle = fyne.TextStyle{}
		case i == step:
			l.SetText("›  " + stepTitles[i])
			l.Importance = widget.HighImportance
			l.TextStyle = fyne.TextStyle{Bold: true}
		default:
			l.SetText("    " + stepTitles[i])
			l.Importance = widget.LowImportance
			l.TextStyle = fyne.TextStyle{}
		}
		l.Refresh()
	}
	var page fyne.CanvasObject
	switch step {
	case StepWelcome:
		page = w.welcome()
	case StepSignIn:
		page = w.SignIn.Content()
		if w.Org != nil {
			page = w.Org.content
		}
		w.enterSignIn()
	case StepDestination:
		page = w.Destination.Content()
		w.Destination.Load()
	case StepProtect:
		page = w.protect()
	case StepSchedule:
		page = container.NewVBox(heading("When should Lifeboat back up?"),
			para("Lifeboat backs up by itself while this computer is on. Each backup after the first copies only what changed, so it is quick."),
			w.Schedule.Content())
		w.loadSchedule()
	case StepFirstBackup:
		page = container.NewVBox(heading("Your first backup"),
			para("Lifeboat is copying your emails and files. The first backup takes a while: keep working meanwhile, or pause it. "+
				"If you close Lifeboat, the next backup continues where this one stopped."),
			w.Progress.Content())
		w.Progress.Start()
	}
	w.body.Objects = []fyne.CanvasObject{page}
	w.body.Refresh()
	w.updateButtons()
}

func (w *SetupWizard) welcome() fyne.CanvasObject {
	text := "Lifeboat keeps a copy of everyone's Outlook emails and OneDrive files on a drive you own — a USB drive or your network storage. " +
		"If something is deleted by mistake, by a former employee or by ransomware, you get it back in a few clicks.\n\n" +
		"Setting up takes about five minutes: sign in, pick the backup drive, keep your recovery key safe, and choose when to back up."
	objs := []fyne.CanvasObject{heading("Welcome to Lifeboat"), para(text)}
	if w.d.Demo {
		demo := para("This is the demo: a practice company with made-up emails and files. Nothing here touches real Microsoft 365 data.")
		demo.Importance = widget.HighImportance
		objs = append(objs, demo)
	}
	return container.NewVBox(objs...)
}

func (w *SetupWizard) enterSignIn() {
	if w.SignIn.Step() == SignInDone {
		return
	}
	if w.Org != nil && w.Org.Company() {
		w.Org.enter()
		return
	}
	go func() {
		people, err := w.d.Accounts.List(context.Background())
		w.env.do(func() {
			if w.Step != StepSignIn || w.SignIn.Step() != 0 {
				return
			}
			if err == nil && len(people) > 0 {
				w.SignIn.ShowSignedIn(people[0])
				return
			}
			w.SignIn.Start()
		})
	}()
}

func (w *SetupWizard) protect() fyne.CanvasObject {
	if w.key != "" {
		if w.Key == nil {
			w.Key = NewKeyView(w.env, w.key, w.updateButtons)
		}
		return container.NewVBox(heading("Keep your recovery key safe"), w.Key.Content())
	}
	// Resumed after the key was shown: it cannot be shown again, but a new
	// one can be made (the old one stops working).
	again := widget.NewButtonWithIcon("Make a new recovery key", theme.ViewRefreshIcon(), func() {
		w.setBusy(true)
		go func() {
			k, err := w.d.RecoveryKeys.Replace(context.Background())
			w.env.do(func() {
				w.setBusy(false)
				if err != nil {
					w.problem("A new recovery key could not be made: " + err.Error())
					return
				}
				w.key = k
				w.show(StepProtect)
			})
		}()
	})
	return container.NewVBox(heading("Your recovery key"),
		para("Lifeboat showed your backup's recovery key when it created the backup. If you saved it, click Next. "+
			"If not, make a new one now: the old one stops working."),
		container.NewCenter(again))
}

func (w *SetupWizard) loadSchedule() {
	go func() {
		s, err := w.d.Scheduler.Schedule(context.Background())
		w.env.do(func() {
			if err == nil && w.Step == StepSchedule {
				w.Schedule.Set(s)
			}
		})
	}()
}

func (w *SetupWizard) updateButtons() {
	setVisible(w.Back, w.Step > StepWelcome && w.Step < StepFirstBackup)
	w.Next.SetText("Next")
	ok := !w.busy
	switch w.Step {
	case StepSignIn:
		ok = ok && w.SignIn.Step() == SignInDone
	case StepDestination:
		ok = ok && w.Destination.Path() != ""
	case StepProtect:
		ok = ok && (w.key == "" || (w.Key != nil && w.Key.Confirmed()))
	case StepSchedule:
		w.Next.SetText("Start the first backup")
	case StepFirstBackup:
		w.Next.SetText("Open Lifeboat")
	}
	if ok {
		w.Next.Enable()
	} else {
		w.Next.Disable()
	}
}

func (w *SetupWizard) setBusy(b bool) {
	w.busy = b
	if b {
		w.Back.Disable()
	} else {
		w.Back.Enable()
	}
	w.updateButtons()
}

func (w *SetupWizard) problem(msg string) {
	w.Problem.SetText(msg)
	w.Problem.Show()
}

func (w *SetupWizard) back() {
	if w.Step > StepWelcome && w.Step < StepFirstBackup && !w.busy {
		w.show(w.Step - 1)
	}
}

func (w *SetupWizard) next() {
	if w.busy {
		return
	}
	switch w.Step {
	case StepDestination:
		path := w.Destination.Path()
		if path != "" && path == w.d.Destinations.Current() {
			w.show(StepProtect)
			return
		}
		w.setBusy(true)
		w.Problem.SetText("Creating your backup in " + path + "…")
		w.Problem.Importance = widget.MediumImportance
		w.Problem.Show()
		go func() {
			key, err := w.d.Destinations.Create(context.Background(), path)
			w.env.do(func() {
				w.Problem.Importance = widget.DangerImportance
				w.setBusy(false)
				if err != nil {
					w.problem(err.Error())
					return
				}
				w.key, w.Key = key, nil
				w.show(StepProtect)
			})
		}()
	case StepSchedule:
		s, err := w.Schedule.Schedule()
		if err != nil {
			w.problem(err.Error())
			return
		}
		w.setBusy(true)
		go func() {
			err := w.d.Scheduler.SetSchedule(context.Background(), s)
			w.env.do(func() {
				w.setBusy(false)
				if err != nil {
					w.problem("The schedule could not be saved: " + err.Error())
					return
				}
				w.show(StepFirstBackup)
			})
		}()
	case StepFirstBackup:
		if w.d.Finish != nil {
			w.d.Finish()
		}
	default:
		if w.Step < stepCount-1 {
			w.show(w.Step + 1)
		}
	}
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}
