package ui

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"fyne.io/fyne/v2/test"
)

type fakeCompany struct {
	mu     sync.Mutex
	on     bool
	err    error
	setUps int
}

func (f *fakeCompany) SetUp(ctx context.Context, update func(SignInUpdate), progress func(string)) error {
	f.mu.Lock()
	f.setUps++
	err := f.err
	f.mu.Unlock()
	update(SignInUpdate{Step: SignInCodeIssued, Code: "ADMN-CODE", URL: "https://login.example/devicelogin"})
	update(SignInUpdate{Step: SignInWaiting})
	update(SignInUpdate{Step: SignInDone, Name: "Olivia Owner", Email: "olivia@bakery.test"})
	progress("Registering Lifeboat in your company's Microsoft 365…")
	if err != nil {
		return err
	}
	f.mu.Lock()
	f.on = true
	f.mu.Unlock()
	progress("Lifeboat is set up for everyone in your company.")
	return nil
}

func (f *fakeCompany) Enabled(context.Context) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.on, nil
}

// TestWizardOffersTheWholeCompanyFirst: the sign-in page asks whose data to
// protect, the whole company by default, says what Lifeboat creates; Next
// waits until Lifeboat is set up, not merely until the administrator signed
// in; a refusal is shown; "Just me" switches to the personal sign-in.
func TestWizardOffersTheWholeCompanyFirst(t *testing.T) {
	env, q := newEnv(t)
	acc := &fakeAccounts{script: []SignInUpdate{{Step: SignInCodeIssued, Code: "USER-CODE"}, {Step: SignInWaiting}, {Step: SignInDone, Name: "Paul Baker", Email: "paul@bakery.test"}}}
	company := &fakeCompany{err: errors.New("only a Global Administrator or a Privileged Role Administrator of your company's Microsoft 365 can let Lifeboat back up everyone")}
	deps := testSetupDeps()
	deps.Accounts, deps.Company = acc, company
	w := NewSetupWizard(env, deps, StepSignIn)
	env.Window.SetContent(w.Content())
	if w.Org == nil || w.Org.Choice.Selected != ChoiceCompany || !w.Org.Explain.Visible() || !strings.Contains(w.Org.Explain.Text, "Lifeboat Backup") {
		t.Fatal("the company choice is not offered first with its explanation")
	}
	q.waitFor(t, "the refused setup", func() bool { return w.SignIn.Step() == SignInFailed })
	if !strings.Contains(w.SignIn.Body.Text, "Global Administrator") || !w.Next.Disabled() {
		t.Fatalf("refusal: %q, next disabled %v", w.SignIn.Body.Text, w.Next.Disabled())
	}

	company.mu.Lock()
	company.err = nil
	company.mu.Unlock()
	test.Tap(w.SignIn.Retry)
	q.waitFor(t, "the company set up", func() bool { return w.SignIn.Step() == SignInDone })
	if w.Next.Disabled() || !strings.Contains(w.Org.Progress.Text, "set up for everyone") {
		t.Fatalf("after setup: next disabled %v, progress %q", w.Next.Disabled(), w.Org.Progress.Text)
	}

	w.Org.Choice.SetSelected(ChoiceJustMe)
	if w.Org.Explain.Visible() {
		t.Error("the company explanation stays for just me")
	}
	q.waitFor(t, "the personal sign-in", func() bool {
		return w.SignIn.Step() == SignInDone && strings.Contains(w.SignIn.Body.Text, "Paul Baker")
	})

	// Back to the company, already set up: shown as done, no new sign-in.
	w.Org.Choice.SetSelected(ChoiceCompany)
	q.waitFor(t, "the company already set up", func() bool { return w.SignIn.Step() == SignInDone })
	company.mu.Lock()
	n := company.setUps
	company.mu.Unlock()
	if n != 2 || !strings.Contains(w.Org.Progress.Text, "already backs up everyone") {
		t.Fatalf("%d setups, progress %q", n, w.Org.Progress.Text)
	}
}
