package ui

import (
	"context"
	"fmt"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// ProgressView shows a running backup and lets the person pause, resume
// or cancel it. Pause stops at the next checkpoint; Resume starts the
// backup again, which continues from there.
type ProgressView struct {
	env    Env
	runner BackupRunner
	// OnStart and OnEnd, when set, are called on the UI goroutine when a
	// backup starts and when it ends (not when it is paused).
	OnStart func()
	OnEnd   func(BackupResult)

	Bar      *widget.ProgressBar
	Busy     *widget.ProgressBarInfinite
	Headline *widget.Label
	Items    *widget.Label
	Current  *widget.Label
	Throttle *widget.Label
	Pause    *widget.Button
	Cancel   *widget.Button
	content  *fyne.Container

	running bool
	paused  bool
	stopped bool // by Pause or Cancel, not by an end of its own
	cancel  context.CancelFunc

	mu      sync.Mutex
	latest  Progress
	pending bool
}

// NewProgressView builds the view; Start runs a backup in it.
func NewProgressView(env Env, runner BackupRunner) *ProgressView {
	v := &ProgressView{env: env, runner: runner}
	v.Bar = widget.NewProgressBar()
	v.Busy = widget.NewProgressBarInfinite()
	v.Busy.Stop()
	v.Busy.Hide()
	v.Headline = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	v.Items = widget.NewLabel("")
	v.Current = widget.NewLabel("")
	v.Current.Truncation = fyne.TextTruncateEllipsis
	v.Throttle = para("")
	v.Throttle.Importance = widget.WarningImportance
	v.Throttle.Hide()
	v.Pause = widget.NewButtonWithIcon("Pause", theme.MediaPauseIcon(), v.togglePause)
	v.Cancel = widget.NewButtonWithIcon("Cancel", theme.CancelIcon(), v.Stop)
	v.content = container.NewVBox(v.Headline, container.NewStack(v.Bar, v.Busy), v.Items, v.Current, v.Throttle,
		container.NewHBox(v.Pause, v.Cancel))
	v.setIdle("")
	return v
}

// Content is the view's canvas object.
func (v *ProgressView) Content() fyne.CanvasObject { return v.content }

// Running says whether a backup is running (not paused).
func (v *ProgressView) Running() bool { return v.running }

// Paused says whether the backup is paused.
func (v *ProgressView) Paused() bool { return v.paused }

// Start runs a backup unless one is running.
func (v *ProgressView) Start() {
	if v.running {
		return
	}
	v.running, v.paused, v.stopped = true, false, false
	ctx, cancel := context.WithCancel(context.Background())
	v.cancel = cancel
	v.Headline.SetText("Backing up your emails and files…")
	v.Bar.SetValue(0)
	v.Bar.Show()
	v.Items.SetText("Getting ready…")
	v.Current.SetText("")
	v.Throttle.Hide()
	v.Pause.SetText("Pause")
	v.Pause.SetIcon(theme.MediaPauseIcon())
	v.Pause.Enable()
	v.Cancel.Enable()
	v.Pause.Show()
	v.Cancel.Show()
	if v.OnStart != nil {
		v.OnStart()
	}
	go func() {
		res := v.runner.Backup(ctx, v.report)
		cancel()
		v.env.do(func() { v.ended(res) })
	}()
}

// report keeps only the newest progress and asks the UI goroutine once to
// show it, so a fast backup cannot flood the window with updates.
func (v *ProgressView) report(p Progress) {
	v.mu.Lock()
	v.latest = p
	schedule := !v.pending
	v.pending = true
	v.mu.Unlock()
	if schedule {
		v.env.do(v.flush)
	}
}

func (v *ProgressView) flush() {
	v.mu.Lock()
	p := v.latest
	v.pending = false
	v.mu.Unlock()
	if v.running {
		v.Show(p)
	}
}

// Show renders one progress report (on the UI goroutine).
func (v *ProgressView) Show(p Progress) {
	frac := -1.0
	switch {
	case p.BytesTotal > 0:
		frac = min(float64(p.BytesDone)/float64(p.BytesTotal), 1)
	case p.ItemsTotal > 0:
		frac = min(float64(p.ItemsDone)/float64(p.ItemsTotal), 1)
	}
	if frac >= 0 {
		v.Busy.Stop()
		v.Busy.Hide()
		v.Bar.Show()
		v.Bar.SetValue(frac)
	} else {
		v.Bar.Hide()
		v.Busy.Show()
		v.Busy.Start()
	}
	who := ""
	if p.Account != "" {
		who = " for " + p.Account
	}
	switch p.Phase {
	case "mail":
		v.Headline.SetText("Backing up emails" + who + "…")
	case "onedrive":
		v.Headline.SetText("Backing up OneDrive files" + who + "…")
	case "catalog":
		v.Headline.SetText("Saving the search index…")
	default:
		v.Headline.SetText("Backing up" + who + "…")
	}
	items := fmt.Sprintf("%d", p.ItemsDone)
	if p.ItemsTotal > 0 {
		items = fmt.Sprintf("%d of about %d", p.ItemsDone, p.ItemsTotal)
	}
	line := items + itemsNoun(max(p.ItemsDone, p.ItemsTotal)) + ", " + formatBytes(p.BytesDone) + " copied"
	if p.Skipped > 0 {
		line += fmt.Sprintf(", %d skipped for now", p.Skipped)
	}
	switch {
	case p.ETA >= time.Minute:
		line += " · about " + roughDuration(p.ETA) + " left"
	case p.ETA > 0:
		line += " · less than a minute left"
	}
	v.Items.SetText(line)
	current := ""
	if p.Current != "" {
		current = "Copying: " + p.Current // a subject or file name alone reads like a message to the owner
	}
	v.Current.SetText(current)
	if p.Throttled != "" {
		v.Throttle.SetText(p.Throttled + ". This is normal when there is a lot to copy; Lifeboat keeps going by itself.")
		v.Throttle.Show()
	} else {
		v.Throttle.Hide()
	}
}

func (v *ProgressView) togglePause() {
	if v.paused {
		v.Start()
		return
	}
	if !v.running {
		return
	}
	v.paused, v.stopped = true, true
	v.Pause.Disable()
	v.Headline.SetText("Pausing at a safe point…")
	v.cancel()
}

// Stop cancels the running backup; what was copied is kept.
func (v *ProgressView) Stop() {
	if v.paused && !v.running {
		v.paused = false
		v.setIdle("Backup stopped. What was copied so far is kept; the next backup continues from there.")
		v.onEndCall(BackupResult{Outcome: OutcomeStopped})
		return
	}
	if !v.running {
		return
	}
	v.stopped, v.paused = true, false
	v.Cancel.Disable()
	v.Pause.Disable()
	v.Headline.SetText("Stopping at a safe point…")
	v.cancel()
}

func (v *ProgressView) ended(res BackupResult) {
	v.running = false
	if v.paused && res.Outcome == OutcomeStopped {
		v.Headline.SetText("Paused. Resume continues where the backup stopped.")
		v.Busy.Stop()
		v.Pause.SetText("Resume")
		v.Pause.SetIcon(theme.MediaPlayIcon())
		v.Pause.Enable()
		v.Cancel.Enable()
		return
	}
	v.paused = false
	v.setIdle(resultSentence(res))
	v.onEndCall(res)
}

func (v *ProgressView) onEndCall(res BackupResult) {
	if v.OnEnd != nil {
		v.OnEnd(res)
	}
}

func (v *ProgressView) setIdle(headline string) {
	v.Headline.SetText(headline)
	v.Busy.Stop()
	v.Busy.Hide()
	v.Pause.Hide()
	v.Cancel.Hide()
	v.Throttle.Hide()
	v.Current.SetText("")
	if headline == "" {
		v.Bar.Hide()
		v.Items.SetText("")
	}
}

// resultSentence says how a backup ended, in the owner's words.
func resultSentence(r BackupResult) string {
	switch r.Outcome {
	case OutcomeDone:
		return fmt.Sprintf("Backup finished: %d%s checked, %s copied.", r.Items, itemsNoun(r.Items), formatBytes(r.Bytes))
	case OutcomeDoneWithSkips:
		return fmt.Sprintf("Backup finished, but %d items could not be copied this time (see History). Lifeboat tries them again next time.", r.Skipped)
	case OutcomeSignInNeeded:
		return "Lifeboat needs you to sign in again (Settings › Accounts). " + r.Message
	case OutcomeDriveMissing:
		return "Your backup drive is not connected. Connect it and click Back up now. " + r.Message
	case OutcomeStopped:
		return "Backup stopped. What was copied so far is kept; the next backup continues from there."
	default:
		return "The backup did not finish: " + r.Message
	}
}

// itemsNoun follows a count of backed-up items.
func itemsNoun(n int64) string {
	if n == 1 {
		return " email or file"
	}
	return " emails and files"
}
