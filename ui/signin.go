package ui

import (
	"context"
	"errors"
	"net/url"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// SignInPage signs a person in with a code: it shows the code in large
// type, copies it and opens the sign-in page in the browser, waits, and
// says who signed in or why it did not work.
type SignInPage struct {
	env    Env
	acc    Accounts
	onDone func(Person)

	Title    *widget.Label
	Body     *widget.Label
	Code     *canvas.Text
	CopyOpen *widget.Button
	Waiting  *widget.Label
	// Where says where to type the code by hand, and until when.
	Where    *widget.Label
	Retry    *widget.Button
	activity *widget.Activity
	content  fyne.CanvasObject

	step    SignInStep
	code    string
	url     string
	expires time.Time
	who     Person
	cancel  context.CancelFunc
	// run counts sign-ins, so updates from an abandoned one are ignored.
	run int
}

// NewSignInPage builds the page; Start begins a sign-in. onDone is called
// on the UI goroutine when someone has signed in.
func NewSignInPage(env Env, acc Accounts, onDone func(Person)) *SignInPage {
	p := &SignInPage{env: env, acc: acc, onDone: onDone}
	p.Title = heading("Sign in to Microsoft 365")
	p.Body = para("")
	p.Code = canvas.NewText("", theme.Color(theme.ColorNameForeground))
	p.Code.TextSize = 40
	p.Code.TextStyle = fyne.TextStyle{Monospace: true}
	p.Code.Alignment = fyne.TextAlignCenter
	p.CopyOpen = widget.NewButtonWithIcon("Copy code and open browser", theme.ContentCopyIcon(), p.copyAndOpen)
	p.CopyOpen.Importance = widget.HighImportance
	p.Where = widget.NewLabel("")
	p.Where.Alignment = fyne.TextAlignCenter
	p.Where.Wrapping = fyne.TextWrapWord
	p.Waiting = widget.NewLabel("")
	p.Waiting.Alignment = fyne.TextAlignCenter
	p.activity = widget.NewActivity()
	p.Retry = widget.NewButtonWithIcon("Try again", theme.ViewRefreshIcon(), p.Start)
	p.content = container.NewVBox(p.Title, p.Body, p.Code,
		container.NewCenter(p.CopyOpen),
		container.NewCenter(container.NewHBox(p.activity, p.Waiting)),
		p.Where,
		container.NewCenter(p.Retry))
	p.render()
	return p
}

// Content is the page's canvas object.
func (p *SignInPage) Content() fyne.CanvasObject { return p.content }

// Step is where the sign-in is; 0 before Start.
func (p *SignInPage) Step() SignInStep { return p.step }

// SignedIn is who signed in, once Step is SignInDone.
func (p *SignInPage) SignedIn() Person { return p.who }

// ShowSignedIn shows that someone is already signed in, without a new
// sign-in (a wizard resumed after signing in).
func (p *SignInPage) ShowSignedIn(who Person) {
	p.Stop()
	p.Apply(SignInUpdate{Step: SignInDone, Name: who.Name, Email: who.Email})
}

// Start begins a new sign-in, abandoning one in progress.
func (p *SignInPage) Start() {
	p.Stop()
	p.run++
	run := p.run
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	p.step, p.code = 0, ""
	p.Body.SetText("Asking Microsoft for a sign-in code…")
	p.render()
	go func() {
		err := p.acc.SignIn(ctx, func(u SignInUpdate) {
			p.env.do(func() {
				if run == p.run {
					p.Apply(u)
				}
			})
		})
		if err != nil && !errors.Is(err, context.Canceled) {
			p.env.do(func() {
				// An error the updates did not report, e.g. before a code.
				if run == p.run && (p.step == 0 || p.step == SignInCodeIssued || p.step == SignInWaiting) {
					p.Apply(SignInUpdate{Step: SignInFailed, Err: err})
				}
			})
		}
	}()
}

// Stop abandons a sign-in in progress.
func (p *SignInPage) Stop() {
	if p.cancel != nil {
		p.cancel()
		p.cancel = nil
	}
	p.run++
}

// Apply shows one step of the sign-in (on the UI goroutine).
func (p *SignInPage) Apply(u SignInUpdate) {
	switch u.Step {
	case SignInCodeIssued:
		p.code, p.url, p.expires = u.Code, u.URL, u.Expires
	case SignInDone:
		p.who = Person{Name: u.Name, Email: u.Email}
		p.cancel = nil
	}
	p.step = u.Step
	p.render()
	switch u.Step {
	case SignInDone:
		p.Body.SetText("Signed in as " + personName(p.who) + ".")
		if p.onDone != nil {
			p.onDone(p.who)
		}
	case SignInFailed:
		msg := "Something went wrong while signing in."
		if u.Err != nil {
			msg += " " + u.Err.Error()
		}
		p.Body.SetText(msg + "\n\nTry again; if it keeps failing, use Settings › Diagnostics to send us a support bundle.")
	}
}

func (p *SignInPage) render() {
	showCode := p.step == SignInCodeIssued || p.step == SignInWaiting
	p.Code.Text = ""
	if showCode {
		p.Code.Text = p.code
	}
	p.Code.Refresh()
	setVisible(p.CopyOpen, showCode)
	setVisible(p.Where, showCode && p.url != "")
	if showCode && p.url != "" {
		where := "No browser opened? Go to " + p.url + " and type the code."
		if !p.expires.IsZero() {
			where += " The code works until " + p.expires.Local().Format("15:04") + "."
		}
		p.Where.SetText(where)
	}
	setVisible(p.Retry, p.step >= SignInDeclined)
	if p.step == SignInWaiting {
		p.Waiting.SetText("Waiting for you to sign in…")
		p.activity.Start()
		p.activity.Show()
	} else {
		p.Waiting.SetText("")
		p.activity.Stop()
		p.activity.Hide()
	}
	switch p.step {
	case SignInCodeIssued, SignInWaiting:
		p.Title.SetText("Sign in to Microsoft 365")
		p.Body.SetText("Click the button below: Lifeboat copies this code and opens Microsoft's sign-in page in your browser. " +
			"Paste the code there and sign in with your work account. Lifeboat only reads and restores your emails and files.")
	case SignInDone:
		p.Title.SetText("You are signed in")
	case SignInDeclined:
		p.Title.SetText("The sign-in was declined")
		p.Body.SetText("Microsoft's page says you chose not to let Lifeboat in. Lifeboat needs to read your emails and files to back them up. " +
			"Click Try again to get a new code.")
	case SignInExpired:
		p.Title.SetText("The code ran out of time")
		p.Body.SetText("Sign-in codes work for 15 minutes. Click Try again for a new one.")
	case SignInOffline:
		p.Title.SetText("Cannot reach Microsoft")
		p.Body.SetText("This computer does not seem to be connected to the internet. Check the connection, then click Try again.")
	case SignInFailed:
		p.Title.SetText("Signing in did not work")
	case SignInCancelled:
		p.Title.SetText("Sign-in stopped")
		p.Body.SetText("Click Try again when you are ready.")
	}
}

func (p *SignInPage) copyAndOpen() {
	if p.code == "" {
		return
	}
	p.env.App.Clipboard().SetContent(p.code)
	if u, err := url.Parse(p.url); err == nil && (u.Scheme == "https" || u.Scheme == "http") {
		_ = p.env.App.OpenURL(u)
	}
	p.Waiting.SetText("Code copied. Paste it on Microsoft's page…")
}

func personName(p Person) string {
	if p.Name == "" || p.Name == p.Email {
		return p.Email
	}
	return p.Name + " (" + p.Email + ")"
}

func setVisible(o fyne.CanvasObject, v bool) {
	if v {
		o.Show()
	} else {
		o.Hide()
	}
}
