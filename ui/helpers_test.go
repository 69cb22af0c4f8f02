package ui

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

// uiQueue stands in for the UI goroutine: screens hand it their updates
// (Env.Do) and the test goroutine runs them, so widgets are only touched
// by one goroutine, as in the real app.
type uiQueue struct{ ch chan func() }

func newEnv(t *testing.T) (Env, *uiQueue) {
	t.Helper()
	a := test.NewTempApp(t)
	w := test.NewWindow(nil)
	t.Cleanup(w.Close)
	q := &uiQueue{ch: make(chan func(), 4096)}
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.Local)
	return Env{App: a, Window: w, Do: func(f func()) { q.ch <- f }, Now: func() time.Time { return now }}, q
}

// waitFor runs queued UI work until cond holds.
func (q *uiQueue) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for !cond() {
		select {
		case f := <-q.ch:
			f()
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// settle runs queued UI work until none arrives for a moment.
func (q *uiQueue) settle() {
	for {
		select {
		case f := <-q.ch:
			f()
		case <-time.After(50 * time.Millisecond):
			return
		}
	}
}

// texts collects the visible text of o: labels, canvas texts, buttons,
// cards and entries.
func texts(o fyne.CanvasObject) string {
	var out []string
	var walk func(fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		if o == nil || !o.Visible() {
			return
		}
		switch v := o.(type) {
		case *container.AppTabs:
			// Every tab, shown or not: a hidden tab's text is still there.
			for _, it := range v.Items {
				hidden := !it.Content.Visible()
				it.Content.Show()
				walk(it.Content)
				if hidden {
					it.Content.Hide()
				}
			}
		case *widget.Label:
			out = append(out, v.Text)
		case *widget.Button:
			out = append(out, v.Text)
		case *widget.Card:
			out = append(out, v.Title, v.Subtitle)
			walk(v.Content)
			return
		case *widget.Entry:
			out = append(out, v.Text)
		case *fyne.Container:
			for _, c := range v.Objects {
				walk(c)
			}
		case *widget.RadioGroup:
			out = append(out, v.Options...)
		case *widget.Check:
			out = append(out, v.Text)
		case *canvas.Text:
			out = append(out, v.Text)
		case *container.Scroll:
			walk(v.Content)
		case *container.Split:
			walk(v.Leading)
			walk(v.Trailing)
		}
	}
	walk(o)
	return strings.Join(out, "\n")
}

// fakeAccounts plays a scripted sign-in.
type fakeAccounts struct {
	mu      sync.Mutex
	people  []Person
	script  []SignInUpdate
	signOut []string
	// block keeps SignIn waiting (after the script) until cancelled.
	block bool
}

func (f *fakeAccounts) SignIn(ctx context.Context, update func(SignInUpdate)) error {
	f.mu.Lock()
	script, block := f.script, f.block
	f.mu.Unlock()
	for _, u := range script {
		update(u)
		if u.Step == SignInDone {
			f.mu.Lock()
			f.people = append(f.people, Person{Name: u.Name, Email: u.Email})
			f.mu.Unlock()
		}
	}
	if block {
		<-ctx.Done()
		update(SignInUpdate{Step: SignInCancelled})
		return ctx.Err()
	}
	return nil
}

func (f *fakeAccounts) List(context.Context) ([]Person, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Person(nil), f.people...), nil
}

func (f *fakeAccounts) SignOut(_ context.Context, email string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.signOut = append(f.signOut, email)
	for i, p := range f.people {
		if p.Email == email {
			f.people = append(f.people[:i], f.people[i+1:]...)
			break
		}
	}
	return nil
}

// fakeDestinations has one external drive and the system disk.
type fakeDestinations struct {
	mu       sync.Mutex
	current  string
	created  []string
	estimate int64
	key      string
	fail     error
}

func (f *fakeDestinations) Drives(context.Context) ([]Drive, error) {
	return []Drive{
		{Name: "USB DRIVE", Path: "/media/usb/Lifeboat Backup", Free: 500e9, Total: 1000e9, External: true},
		{Name: "System", Path: "/home/anna/Lifeboat Backup", Free: 20e9, Total: 250e9, System: true},
	}, nil
}

func (f *fakeDestinations) Inspect(_ context.Context, path string) (Drive, error) {
	if strings.HasPrefix(path, "/media/usb") {
		return Drive{Name: "USB DRIVE", Free: 500e9, Total: 1000e9, External: true}, nil
	}
	if strings.HasPrefix(path, "/media/tiny") {
		return Drive{Name: "TINY", Free: 1e9, Total: 2e9, External: true}, nil
	}
	if !strings.HasPrefix(path, "/") {
		return Drive{}, errors.New("type the full path of the folder")
	}
	return Drive{Name: "System", Free: 20e9, Total: 250e9, System: true}, nil
}

func (f *fakeDestinations) EstimatedSize(context.Context) (int64, error) { return f.estimate, nil }

func (f *fakeDestinations) Create(_ context.Context, path string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return "", f.fail
	}
	f.created = append(f.created, path)
	f.current = path
	return f.key, nil
}

func (f *fakeDestinations) Current() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.current
}

type fakeKeys struct {
	mu    sync.Mutex
	calls int
	key   string
}

func (f *fakeKeys) Replace(context.Context) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	return f.key, nil
}

type fakeScheduler struct {
	mu  sync.Mutex
	cur Schedule
	set []Schedule
}

func (f *fakeScheduler) Schedule(context.Context) (Schedule, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cur, nil
}

func (f *fakeScheduler) SetSchedule(_ context.Context, s Schedule) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cur = s
	f.set = append(f.set, s)
	return nil
}

// fakeRunner reports the progress it is given, then either returns result
// or, with hold, waits for cancellation.
type fakeRunner struct {
	mu       sync.Mutex
	progress []Progress
	result   BackupResult
	hold     bool
	runs     int
	started  chan struct{}
}

func (f *fakeRunner) Backup(ctx context.Context, report func(Progress)) BackupResult {
	f.mu.Lock()
	f.runs++
	steps, res, hold := f.progress, f.result, f.hold
	started := f.started
	f.mu.Unlock()
	for _, p := range steps {
		report(p)
	}
	if started != nil {
		started <- struct{}{}
	}
	if hold {
		<-ctx.Done()
		return BackupResult{Outcome: OutcomeStopped}
	}
	return res
}

func (f *fakeRunner) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.runs
}

// findButton finds a visible button by its text.
func findButton(o fyne.CanvasObject, text string) *widget.Button {
	var found *widget.Button
	var walk func(fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		if o == nil || found != nil || !o.Visible() {
			return
		}
		switch v := o.(type) {
		case *widget.Button:
			if v.Text == text {
				found = v
			}
		case *widget.Card:
			walk(v.Content)
		case *fyne.Container:
			for _, c := range v.Objects {
				walk(c)
			}
		case *container.Scroll:
			walk(v.Content)
		case *container.Split:
			walk(v.Leading)
			walk(v.Trailing)
		case *container.AppTabs:
			if v.Selected() != nil {
				walk(v.Selected().Content)
			}
		}
	}
	walk(o)
	return found
}

func tapButton(t *testing.T, o fyne.CanvasObject, text string) {
	t.Helper()
	b := findButton(o, text)
	if b == nil {
		t.Fatalf("no button %q in:\n%s", text, texts(o))
	}
	test.Tap(b)
}
