package ui

import (
	"context"
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
)

// CompanySetup is organization mode's setup: one administrator sign-in
// that lets Lifeboat back up everyone in the company.
type CompanySetup interface {
	// SetUp signs the administrator in with a code, reporting the steps
	// through update like Accounts.SignIn (SignInDone once Lifeboat is set
	// up, not merely signed in), and sentences through progress while
	// Lifeboat registers itself. Both may be called from any goroutine.
	SetUp(ctx context.Context, update func(SignInUpdate), progress func(string)) error
	// Enabled reports whether Lifeboat already backs up the whole company.
	Enabled(ctx context.Context) (bool, error)
}

// The two answers to "whose data should Lifeboat protect?".
const (
	ChoiceCompany = "Everyone in my company (I am the Microsoft 365 administrator)"
	ChoiceJustMe  = "Just me"
)

// CompanyExplained says in plain words what Lifeboat creates in the
// company's Microsoft 365, why, and how to remove it.
const CompanyExplained = "Lifeboat registers itself in your company's Microsoft 365 as an app called \"Lifeboat Backup\". " +
	"It gets its own certificate, made on this computer and kept here encrypted, and permission to read and write everyone's " +
	"mail, OneDrive, calendars and contacts (writing is only for restores; Lifeboat never sends mail). That way it backs up " +
	"everyone — shared mailboxes, new people and people who left — without anyone else signing in. Sign in below as a " +
	"Global Administrator. To remove it later, delete \"Lifeboat Backup\" under App registrations in the Microsoft Entra " +
	"admin center, or run \"lifeboat setup --leave --delete-registration\"."

// WizardCompany is the sign-in page's choice between the whole company and
// just the person at the computer.
type WizardCompany struct {
	w        *SetupWizard
	cs       CompanySetup
	personal Accounts

	Choice   *widget.RadioGroup
	Explain  *widget.Label
	Progress *widget.Label
	content  fyne.CanvasObject
}

func newWizardCompany(w *SetupWizard, cs CompanySetup) *WizardCompany {
	c := &WizardCompany{w: w, cs: cs, personal: w.d.Accounts}
	c.Explain = para(CompanyExplained)
	c.Progress = para("")
	c.Progress.Importance = widget.HighImportance
	c.Choice = widget.NewRadioGroup([]string{ChoiceCompany, ChoiceJustMe}, nil)
	c.Choice.Required = true
	c.Choice.SetSelected(ChoiceCompany)
	c.Choice.OnChanged = func(string) { c.changed() }
	c.content = container.NewVBox(heading("Whose data should Lifeboat protect?"), c.Choice, c.Explain,
		widget.NewSeparator(), w.SignIn.Content(), c.Progress)
	w.SignIn.useAccounts(c.accounts())
	c.render()
	return c
}

// Company reports whether the whole company is chosen.
func (c *WizardCompany) Company() bool { return c.Choice.Selected != ChoiceJustMe }

func (c *WizardCompany) accounts() Accounts {
	if c.Company() {
		return companyAccounts{c: c}
	}
	return c.personal
}

func (c *WizardCompany) render() {
	setVisible(c.Explain, c.Company())
	if !c.Company() {
		c.Progress.SetText("")
	}
}

// changed starts the chosen kind of sign-in afresh.
func (c *WizardCompany) changed() {
	c.w.SignIn.useAccounts(c.accounts())
	c.Progress.SetText("")
	c.render()
	c.w.updateButtons()
	if c.w.Step == StepSignIn {
		c.w.enterSignIn()
	}
}

// enter begins the sign-in step: a company already set up is shown as
// done; otherwise the administrator's sign-in starts.
func (c *WizardCompany) enter() {
	go func() {
		on, err := c.cs.Enabled(context.Background())
		c.w.env.do(func() {
			if c.w.Step != StepSignIn || !c.Company() || c.w.SignIn.Step() != 0 {
				return
			}
			if err == nil && on {
				c.w.SignIn.Apply(SignInUpdate{Step: SignInDone, Name: "Your company", Email: "everyone"})
				c.Progress.SetText("Lifeboat already backs up everyone in your company.")
				c.w.updateButtons()
				return
			}
			c.w.SignIn.Start()
		})
	}()
}

func (c *WizardCompany) showProgress(s string) {
	c.w.env.do(func() { c.Progress.SetText(s) })
}

// companyAccounts runs the company setup where the sign-in page expects a
// personal sign-in.
type companyAccounts struct{ c *WizardCompany }

func (a companyAccounts) SignIn(ctx context.Context, update func(SignInUpdate)) error {
	var mu sync.Mutex
	var done *SignInUpdate
	err := a.c.cs.SetUp(ctx, func(u SignInUpdate) {
		if u.Step == SignInDone { // signed in; setting up continues
			mu.Lock()
			done = &u
			mu.Unlock()
			a.c.showProgress("Signed in as " + personName(Person{Name: u.Name, Email: u.Email}) + ". Setting Lifeboat up…")
			return
		}
		update(u)
	}, a.c.showProgress)
	mu.Lock()
	d := done
	mu.Unlock()
	switch {
	case err == nil && d != nil:
		update(*d)
	case err != nil && d != nil:
		a.c.showProgress("")
		update(SignInUpdate{Step: SignInFailed, Err: err})
	}
	return err
}

func (a companyAccounts) List(ctx context.Context) ([]Person, error) { return a.c.personal.List(ctx) }

func (a companyAccounts) SignOut(ctx context.Context, email string) error {
	return a.c.personal.SignOut(ctx, email)
}

// useAccounts switches the page to another kind of sign-in, abandoning one
// in progress.
func (p *SignInPage) useAccounts(acc Accounts) {
	p.Stop()
	p.acc = acc
	p.step, p.code, p.who = 0, "", Person{}
	p.Body.SetText("")
	p.render()
}
