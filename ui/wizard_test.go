package ui

import (
	"errors"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
)

const testKey = "ABCDE-FGHJK-MNPQR-STVWX-YZ012-34567-89ABC-DEFGH-JKMNP-QR0ST"

func TestSignInPageShowsEveryStep(t *testing.T) {
	env, _ := newEnv(t)
	done := 0
	p := NewSignInPage(env, &fakeAccounts{}, func(Person) { done++ })
	env.Window.SetContent(p.Content())

	p.Apply(SignInUpdate{Step: SignInCodeIssued, Code: "HXQ4-7KPD", URL: "https://login.example/devicelogin", Expires: time.Now().Add(15 * time.Minute)})
	if p.Code.Text != "HXQ4-7KPD" || !p.CopyOpen.Visible() || p.Retry.Visible() {
		t.Fatalf("code issued: code %q, copy button visible %v, retry visible %v", p.Code.Text, p.CopyOpen.Visible(), p.Retry.Visible())
	}
	test.Tap(p.CopyOpen)
	if got := env.App.Clipboard().Content(); got != "HXQ4-7KPD" {
		t.Errorf("clipboard holds %q after Copy code and open browser", got)
	}
	p.Apply(SignInUpdate{Step: SignInWaiting})
	if p.Waiting.Text != "Waiting for you to sign in…" || p.Code.Text != "HXQ4-7KPD" {
		t.Errorf("waiting: %q, code %q", p.Waiting.Text, p.Code.Text)
	}
	p.Apply(SignInUpdate{Step: SignInDone, Name: "Paul Baker", Email: "paul@bakery.test"})
	if p.Body.Text != "Signed in as Paul Baker (paul@bakery.test)." || p.Code.Text != "" || p.CopyOpen.Visible() || done != 1 {
		t.Errorf("signed in: body %q, code %q, copy visible %v, onDone calls %d", p.Body.Text, p.Code.Text, p.CopyOpen.Visible(), done)
	}

	for _, c := range []struct {
		step  SignInStep
		err   error
		title string
		body  string
	}{
		{SignInDeclined, nil, "The sign-in was declined", "chose not to let Lifeboat in"},
		{SignInExpired, nil, "The code ran out of time", "Try again for a new one"},
		{SignInOffline, errors.New("dial tcp: no route"), "Cannot reach Microsoft", "connected to the internet"},
		{SignInFailed, errors.New("the keychain is locked"), "Signing in did not work", "the keychain is locked"},
		{SignInCancelled, nil, "Sign-in stopped", "Try again"},
	} {
		p.Apply(SignInUpdate{Step: c.step, Err: c.err})
		if p.Title.Text != c.title || !strings.Contains(p.Body.Text, c.body) || !p.Retry.Visible() || p.CopyOpen.Visible() || p.Code.Text != "" {
			t.Errorf("step %d: title %q body %q retry %v copy %v code %q", c.step, p.Title.Text, p.Body.Text, p.Retry.Visible(), p.CopyOpen.Visible(), p.Code.Text)
		}
	}
}

func TestSignInPageRunsASignInAndIgnoresAnAbandonedOne(t *testing.T) {
	env, q := newEnv(t)
	acc := &fakeAccounts{script: []SignInUpdate{
		{Step: SignInCodeIssued, Code: "ABCD-EFGH", URL: "https://login.example/devicelogin"},
		{Step: SignInWaiting},
	}, block: true}
	p := NewSignInPage(env, acc, nil)
	p.Start()
	q.waitFor(t, "waiting", func() bool { return p.Step() == SignInWaiting })
	// Starting again abandons the first sign-in: its "cancelled" must not
	// overwrite the new one's state.
	acc.mu.Lock()
	acc.script = []SignInUpdate{{Step: SignInCodeIssued, Code: "WXYZ-0123"}, {Step: SignInDone, Name: "Ann", Email: "ann@bakery.test"}}
	acc.block = false
	acc.mu.Unlock()
	p.Start()
	q.waitFor(t, "signed in", func() bool { return p.Step() == SignInDone })
	q.settle()
	if p.Step() != SignInDone || p.SignedIn().Email != "ann@bakery.test" {
		t.Fatalf("after the second sign-in: step %d, who %+v", p.Step(), p.SignedIn())
	}
}

func TestSetupWizardEndToEndAndResume(t *testing.T) {
	env, q := newEnv(t)
	acc := &fakeAccounts{script: []SignInUpdate{
		{Step: SignInCodeIssued, Code: "ABCD-EFGH", URL: "https://login.example/devicelogin"},
		{Step: SignInWaiting},
		{Step: SignInDone, Name: "Paul Baker", Email: "paul@bakery.test"},
	}}
	dest := &fakeDestinations{key: testKey}
	keys := &fakeKeys{key: "NEWKE-Y0000"}
	sched := &fakeScheduler{cur: DefaultSchedule()}
	runner := &fakeRunner{progress: []Progress{{ItemsDone: 5, ItemsTotal: 10}}, result: BackupResult{Outcome: OutcomeDone, Items: 10, Bytes: 2e6}}
	var saved []int
	finished := false
	deps := SetupDeps{Accounts: acc, Destinations: dest, RecoveryKeys: keys, Scheduler: sched, Backup: runner,
		Suggestion: "/media/usb/Lifeboat Backup", SaveStep: func(s int) { saved = append(saved, s) }, Finish: func() { finished = true }}
	w := NewSetupWizard(env, deps, StepWelcome)
	env.Window.SetContent(w.Content())

	if w.Back.Visible() || w.Step != StepWelcome {
		t.Fatal("the welcome page has a Back button")
	}
	test.Tap(w.Next)
	if w.Step != StepSignIn || !w.Next.Disabled() {
		t.Fatalf("sign-in page: step %d, Next disabled %v", w.Step, w.Next.Disabled())
	}
	q.waitFor(t, "sign-in", func() bool { return w.SignIn.Step() == SignInDone })
	if w.Next.Disabled() {
		t.Fatal("Next stays disabled after signing in")
	}
	test.Tap(w.Back)
	if w.Step != StepWelcome {
		t.Fatalf("Back from sign-in: step %d", w.Step)
	}
	test.Tap(w.Next)
	if w.Step != StepSignIn || w.Next.Disabled() || !strings.Contains(w.SignIn.Body.Text, "Paul Baker") {
		t.Fatalf("sign-in page again: step %d, next disabled %v, %q", w.Step, w.Next.Disabled(), w.SignIn.Body.Text)
	}
	test.Tap(w.Next)
	if w.Step != StepDestination || w.Destination.Path() != "/media/usb/Lifeboat Backup" {
		t.Fatalf("destination page: step %d, path %q", w.Step, w.Destination.Path())
	}
	q.waitFor(t, "drives", func() bool { return len(w.Destination.Drives.Options) == 2 })
	if !strings.Contains(w.Destination.Drives.Options[0], "USB DRIVE (external drive)") {
		t.Errorf("drives: %q", w.Destination.Drives.Options)
	}
	test.Tap(w.Next)
	q.waitFor(t, "the backup to be created", func() bool { return w.Step == StepProtect })
	if len(dest.created) != 1 || dest.created[0] != "/media/usb/Lifeboat Backup" {
		t.Fatalf("created %q", dest.created)
	}
	if w.Key == nil || w.Key.KeyText() != testKey || !w.Next.Disabled() {
		t.Fatalf("recovery key page: key view %v, Next disabled %v", w.Key != nil, w.Next.Disabled())
	}
	test.Type(w.Key.Confirm, "QR0SX")
	if w.Key.Confirmed() || !w.Next.Disabled() || w.Key.Verdict.Text != "Does not match" {
		t.Fatalf("a wrong last group is accepted: verdict %q", w.Key.Verdict.Text)
	}
	w.Key.Confirm.SetText("")
	test.Type(w.Key.Confirm, "qrost") // lower case, O for 0: as recovery keys are read
	if !w.Key.Confirmed() || w.Next.Disabled() {
		t.Fatalf("the right last group is refused: verdict %q", w.Key.Verdict.Text)
	}
	// Back to the destination and forward again does not make a second backup.
	test.Tap(w.Back)
	test.Tap(w.Next)
	if w.Step != StepProtect || len(dest.created) != 1 || w.Next.Disabled() {
		t.Fatalf("back and forth: step %d, created %d, Next disabled %v", w.Step, len(dest.created), w.Next.Disabled())
	}
	test.Tap(w.Next)
	q.waitFor(t, "schedule", func() bool { return w.Step == StepSchedule && w.Schedule.At.Text == "21:00" })
	if w.Schedule.Mode.Selected != scheduleDaily || !w.Schedule.Connected.Checked {
		t.Errorf("default schedule: %q, only when connected %v", w.Schedule.Mode.Selected, w.Schedule.Connected.Checked)
	}
	w.Schedule.At.SetText("")
	test.Type(w.Schedule.At, "25:99")
	test.Tap(w.Next)
	if w.Step != StepSchedule || !w.Problem.Visible() {
		t.Fatalf("an invalid time is accepted: step %d", w.Step)
	}
	w.Schedule.At.SetText("")
	test.Type(w.Schedule.At, "7:30")
	test.Tap(w.Next)
	q.waitFor(t, "first backup", func() bool { return w.Step == StepFirstBackup })
	if len(sched.set) != 1 || sched.set[0].At != "07:30" || !sched.set[0].OnlyWhenConnected {
		t.Fatalf("schedule saved: %+v", sched.set)
	}
	q.waitFor(t, "first backup to finish", func() bool { return !w.Progress.Running() && runner.count() == 1 })
	if !strings.Contains(w.Progress.Headline.Text, "Backup finished") || w.Back.Visible() {
		t.Errorf("after the first backup: %q, Back visible %v", w.Progress.Headline.Text, w.Back.Visible())
	}
	test.Tap(w.Next)
	if !finished {
		t.Fatal("Open Lifeboat did not finish the wizard")
	}
	want := []int{StepWelcome, StepSignIn, StepWelcome, StepSignIn, StepDestination, StepProtect, StepDestination, StepProtect, StepSchedule, StepFirstBackup}
	if len(saved) != len(want) {
		t.Fatalf("saved steps %v, want %v", saved, want)
	}
	for i := range want {
		if saved[i] != want[i] {
			t.Fatalf("saved steps %v, want %v", saved, want)
		}
	}

	// Closed on the recovery key page and opened again: the key cannot be
	// shown again, so the wizard offers a new one.
	w2 := NewSetupWizard(env, deps, StepProtect)
	env.Window.SetContent(w2.Content())
	if w2.Step != StepProtect || w2.Key != nil || w2.Next.Disabled() {
		t.Fatalf("resumed: step %d, key view %v, Next disabled %v", w2.Step, w2.Key != nil, w2.Next.Disabled())
	}
	if !strings.Contains(texts(w2.Content()), "Make a new recovery key") {
		t.Fatalf("resumed recovery key page:\n%s", texts(w2.Content()))
	}
	tapButton(t, w2.Content(), "Make a new recovery key")
	q.waitFor(t, "new key", func() bool { return w2.Key != nil })
	if keys.calls != 1 || w2.Key.KeyText() != "NEWKE-Y0000" || !w2.Next.Disabled() {
		t.Fatalf("new key: calls %d, shown %q", keys.calls, w2.Key.KeyText())
	}
}

func TestDestinationWarnings(t *testing.T) {
	env, q := newEnv(t)
	p := NewDestinationPage(env, &fakeDestinations{estimate: 5e9}, "")
	env.Window.SetContent(p.Content())
	p.Load()
	q.waitFor(t, "drives", func() bool { return len(p.Drives.Options) == 2 })

	p.Drives.SetSelected(p.Drives.Options[0])
	q.waitFor(t, "inspection", func() bool { return strings.Contains(p.Info.Text, "USB DRIVE") })
	if p.Path() != "/media/usb/Lifeboat Backup" || p.Warning.Visible() {
		t.Errorf("external drive: path %q, warning %q", p.Path(), p.Warning.Text)
	}

	p.Drives.SetSelected(p.Drives.Options[1])
	q.waitFor(t, "system disk warning", func() bool { return p.Warning.Visible() })
	if !strings.Contains(p.Warning.Text, "this computer's own disk") {
		t.Errorf("system disk: %q", p.Warning.Text)
	}

	p.Folder.SetText("/media/tiny/Lifeboat")
	q.waitFor(t, "space warning", func() bool { return strings.Contains(p.Warning.Text, "not enough free space") })
	if strings.Contains(p.Warning.Text, "own disk") || !strings.Contains(p.Warning.Text, "5.0 GB") {
		t.Errorf("small drive: %q", p.Warning.Text)
	}

	p.Folder.SetText(`Backups`)
	q.waitFor(t, "relative path", func() bool { return strings.Contains(p.Warning.Text, "full path") })
}

func TestScheduleFormEveryFewHours(t *testing.T) {
	newEnv(t)
	f := NewScheduleForm(Schedule{EveryHours: 6})
	if f.Mode.Selected != scheduleHours || f.Hours.Selected != "6" || !f.At.Disabled() {
		t.Fatalf("every 6 hours shown as %q %q", f.Mode.Selected, f.Hours.Selected)
	}
	f.Hours.SetSelected("12")
	s, err := f.Schedule()
	if err != nil || s.EveryHours != 12 || s.OnlyWhenConnected {
		t.Fatalf("read %+v, %v", s, err)
	}
	if describeSchedule(Schedule{At: "21:00", OnlyWhenConnected: true}) != "every day at 21:00, when the backup drive is connected" {
		t.Error(describeSchedule(Schedule{At: "21:00", OnlyWhenConnected: true}))
	}
}
