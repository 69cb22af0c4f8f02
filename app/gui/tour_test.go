package gui

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math/bits"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/ui"
)

// The tour (`make screenshots`: this test binary with LIFEBOAT_TOUR_DIR set,
// under Xvfb) runs the real app, as `lifeboat --demo` does, on the real
// window system, walks it as a person would and saves a PNG of every step:
// each setup page, the dashboard during and after a backup, history,
// settings, each step of restoring a deleted email, and a calendar event
// and a contact found and previewed in the restore window. It is how the
// screens are looked at before a release; it fails when a step does not
// show what it should.

// runTour opens the demo app on this (the main) thread, takes the tour from
// another goroutine, and returns the exit code.
func runTour(dir string) int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var tourErr error
	o := Options{Demo: true, Seed: 1, AutoApprove: 2 * time.Second, Stderr: os.Stderr, Version: "tour", Started: func(s Session) {
		go func() {
			t := &tour{ctx: ctx, s: s, dir: dir}
			tourErr = t.run()
			fyne.Do(s.App.Quit)
		}()
	}}
	if err := Run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "tour:", err)
		return 1
	}
	if tourErr != nil {
		fmt.Fprintln(os.Stderr, tourErr)
		return 1
	}
	fmt.Println("tour: screenshots in", dir)
	return 0
}

// tourTimeout bounds one wait; the demo's first backup is the longest.
const tourTimeout = 5 * time.Minute

type tour struct {
	ctx context.Context
	s   Session
	dir string
	n   int
	// stops end what the tour started (the S3 server).
	stops []func()
}

// run takes the tour and returns the first step that went wrong.
func (t *tour) run() error {
	if err := os.MkdirAll(t.dir, 0o755); err != nil {
		return fmt.Errorf("tour: %w", err)
	}
	wz := t.s.Shell.Wizard
	if wz == nil {
		return errors.New("tour: the demo did not open the setup wizard")
	}
	// The window appears once the app's loop runs.
	time.Sleep(2 * time.Second)
	steps := []func() error{
		func() error { return t.shot(t.s.Window, "setup-welcome", "Lifeboat") },
		func() error {
			t.tap(wz.Next)
			// The demo signs in its owner personally until the demo company
			// makes its owner a Global Administrator.
			t.do(func() { wz.Org.Choice.SetSelected(ui.ChoiceJustMe) })
			return t.shotWhen(t.s.Window, "setup-sign-in-code", "code")
		},
		func() error {
			return t.waitAndShot(t.s.Window, "setup-signed-in", func() bool { return wz.SignIn.Step() == ui.SignInDone })
		},
		func() error {
			t.tap(wz.Next)
			return t.waitAndShot(t.s.Window, "setup-destination", stepIs(wz, ui.StepDestination))
		},
		func() error {
			t.do(func() { wz.Destination.Folder.SetText(filepath.Join(t.s.Demo.tmp, "Lifeboat Backup")) })
			t.tap(wz.Next)
			return t.waitAndShot(t.s.Window, "setup-recovery-key", stepIs(wz, ui.StepProtect))
		},
		func() error {
			t.do(func() {
				k := wz.Key.KeyText()
				wz.Key.Confirm.SetText(k[strings.LastIndexByte(k, '-')+1:])
			})
			t.tap(wz.Next)
			return t.waitAndShot(t.s.Window, "setup-schedule", stepIs(wz, ui.StepSchedule))
		},
		func() error {
			t.tap(wz.Next)
			return t.waitAndShot(t.s.Window, "setup-first-backup-running", func() bool {
				return wz.Step == ui.StepFirstBackup && t.s.Shell.Progress.Running() && strings.Contains(t.s.Shell.Progress.Items.Text, "copied")
			})
		},
		func() error {
			return t.waitAndShot(t.s.Window, "setup-first-backup-done", func() bool {
				return !t.s.Shell.Progress.Running() && strings.HasPrefix(t.s.Shell.Progress.Headline.Text, "Backup finished")
			})
		},
		func() error {
			t.tap(wz.Next)
			return t.waitAndShot(t.s.Window, "dashboard-after-first-backup", func() bool { return t.s.Shell.Dashboard.Verdict() == ui.VerdictSafe })
		},
		t.deleteAndBackUp,
		func() error {
			t.do(func() { t.s.Shell.Tabs.SelectIndex(1) })
			if err := t.until("the history", func() bool { return t.s.Shell.History.List.Length() >= 3 }); err != nil {
				return err
			}
			t.do(func() { t.s.Shell.History.List.Select(0) })
			return t.waitAndShot(t.s.Window, "history", func() bool { return strings.Contains(t.s.Shell.History.Details.Text, "Data copied") })
		},
		func() error {
			t.do(func() { t.s.Shell.Tabs.SelectIndex(2) })
			return t.waitAndShot(t.s.Window, "settings", func() bool { return t.s.Shell.Settings.Destination.Text != "" })
		},
		t.offsite, // tour_offsite_test.go
		t.alarm,
		t.restore,
		t.restoreEvent,
		t.restoreContact,
	}
	defer func() {
		for _, stop := range t.stops {
			stop()
		}
	}()
	for _, step := range steps {
		if err := t.ctx.Err(); err != nil {
			return err
		}
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

// tourDeletedSubject is the email the tour deletes in the demo company and
// then gets back.
const tourDeletedSubject = "Lifeboat tour: the signed contract"

// deleteAndBackUp adds an email to the demo company, backs it up from the
// dashboard (the shots show the dashboard during and after), then deletes
// it in the tenant and backs up again, so that restore has something
// recently deleted to offer.
func (t *tour) deleteAndBackUp() error {
	tn := t.s.Demo.Server.Tenant()
	users := tn.Users()
	if len(users) == 0 {
		return errors.New("tour: the demo company has nobody in it")
	}
	upn := users[0].UPN
	mime := "From: Anna Supplier <anna@flour.example>\r\nTo: " + upn + "\r\nSubject: " + tourDeletedSubject +
		"\r\nMessage-ID: <tour-contract@flour.example>\r\nDate: Mon, 2 Mar 2026 09:00:00 +0000\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThe signed contract is attached in spirit.\r\n"
	m, err := tn.AddMessage(upn, "Inbox", []byte(mime), m365sim.MessageOptions{})
	if err != nil {
		return fmt.Errorf("tour: adding the email: %w", err)
	}
	// Microsoft slows this backup down for a few seconds (a 429 with
	// Retry-After), so the shot catches it running, with the sentence
	// that says why it waits.
	fi := t.s.Demo.Server.FaultInjector()
	fi.SetConfig(m365sim.FaultConfig{Storm: -1, RetryAfter: 8 * time.Second})
	fi.Force(m365sim.Fault429, 1)
	t.do(t.s.Shell.BackUpNow)
	if err := t.waitAndShot(t.s.Window, "dashboard-backing-up", func() bool {
		return t.s.Shell.Progress.Running() && t.s.Shell.Progress.Throttle.Text != ""
	}); err != nil {
		return err
	}
	if err := t.until("the backup to finish", func() bool { return !t.s.Shell.Progress.Running() }); err != nil {
		return err
	}
	fi.SetConfig(m365sim.FaultConfig{})
	if err := tn.DeleteMessage(upn, m.ID); err != nil {
		return fmt.Errorf("tour: deleting the email: %w", err)
	}
	t.do(t.s.Shell.BackUpNow)
	if err := t.until("the second backup to start", func() bool { return t.s.Shell.Progress.Running() }); err != nil {
		return err
	}
	return t.waitAndShot(t.s.Window, "dashboard-after-backup", func() bool {
		return !t.s.Shell.Progress.Running() && t.s.Shell.Dashboard.Verdict() == ui.VerdictSafe
	})
}

// restore gets the deleted email back through the restore window.
func (t *tour) restore() error {
	t.do(func() { t.s.Shell.Tabs.SelectIndex(0) })
	before := len(t.s.App.Driver().AllWindows())
	t.do(func() { openRestoreWizard(t.s.App, t.s.Window, t.s.Env) })
	var rw fyne.Window
	if err := t.until("the restore window", func() bool {
		all := t.s.App.Driver().AllWindows()
		if len(all) > before {
			rw = all[len(all)-1]
		}
		return rw != nil
	}); err != nil {
		return err
	}
	if err := t.shotWhen(rw, "restore-find", "Find what you want back"); err != nil {
		return err
	}
	var tabs *container.AppTabs
	t.do(func() {
		if o := find(rw.Content(), func(o fyne.CanvasObject) bool { _, ok := o.(*container.AppTabs); return ok }); o != nil {
			tabs = o.(*container.AppTabs)
			tabs.SelectIndex(len(tabs.Items) - 1) // Recently deleted
		}
	})
	if tabs == nil {
		return errors.New("tour: the restore window has no tabs")
	}
	if err := t.tapRow(rw, tourDeletedSubject); err != nil {
		return err
	}
	if err := t.shotWhen(rw, "restore-preview", "The signed contract is attached"); err != nil {
		return err
	}
	for _, s := range []struct{ button, name, want string }{
		{"Next", "restore-version", "Choose which version"},
		{"Next", "restore-where", "Choose where to put it"},
		{"Next", "restore-review", "Lifeboat will restore"},
		{"Put it back", "restore-done", "Done"},
	} {
		if err := t.tapButton(rw, s.button); err != nil {
			return err
		}
		if err := t.shotWhen(rw, s.name, s.want); err != nil {
			return err
		}
	}
	// The email is back where it was, as a received message.
	tn := t.s.Demo.Server.Tenant()
	msgs, err := tn.FindMessages(tn.Users()[0].UPN, tourDeletedSubject)
	if err != nil {
		return fmt.Errorf("tour: %w", err)
	}
	for _, m := range msgs {
		if p, _ := tn.FolderPath(tn.Users()[0].UPN, m.FolderID); p == "Inbox" && !m.IsDraft {
			return nil
		}
	}
	return fmt.Errorf("tour: the restored email is not in the Inbox: %d found", len(msgs))
}

func stepIs(w *ui.SetupWizard, step int) func() bool {
	return func() bool { return w.Step == step }
}

// do runs f on the app's thread and waits for it.
func (t *tour) do(f func()) { fyne.DoAndWait(f) }

func (t *tour) tap(b *widget.Button) { t.do(func() { b.OnTapped() }) }

// until polls cond on the app's thread.
func (t *tour) until(what string, cond func() bool) error {
	deadline := time.Now().Add(tourTimeout)
	for {
		ok := false
		t.do(func() { ok = cond() })
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("tour: waited %s for %s", tourTimeout, what)
		}
		select {
		case <-t.ctx.Done():
			return t.ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (t *tour) waitAndShot(w fyne.Window, name string, cond func() bool) error {
	if err := t.until(name, cond); err != nil {
		return err
	}
	return t.shot(w, name, "")
}

// shotWhen saves the window once it shows text.
func (t *tour) shotWhen(w fyne.Window, name, text string) error {
	return t.waitAndShot(w, name, func() bool {
		return slices.ContainsFunc(shownTexts(w.Content()), func(s string) bool { return strings.Contains(s, text) })
	})
}

// shot saves what the window shows, after it has had time to paint. The
// picture comes from the X server (xwd), as a person sees the window: GL's
// front buffer cannot be read back under Xvfb.
func (t *tour) shot(w fyne.Window, name, text string) error {
	if text != "" {
		return t.shotWhen(w, name, text)
	}
	time.Sleep(400 * time.Millisecond)
	var title string
	t.do(func() { title = w.Title() })
	img, err := xWindowImage(t.ctx, title)
	if err != nil {
		return fmt.Errorf("tour: %s: %w", name, err)
	}
	if blank(img) {
		return fmt.Errorf("tour: the %s screenshot is blank", name)
	}
	t.n++
	path := filepath.Join(t.dir, fmt.Sprintf("%02d-%s.png", t.n, name))
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("tour: %w", err)
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return fmt.Errorf("tour: %s: %w", path, err)
	}
	return f.Close()
}

// xWindowImage finds the top-level X window with this title (xwininfo)
// and reads its pixels (xwd).
func xWindowImage(ctx context.Context, title string) (image.Image, error) {
	tree, err := exec.CommandContext(ctx, "xwininfo", "-root", "-tree").Output()
	if err != nil {
		return nil, fmt.Errorf("xwininfo: %w", err)
	}
	id := ""
	for _, line := range strings.Split(string(tree), "\n") {
		f := strings.Fields(line)
		if len(f) > 1 && strings.Contains(line, " \""+title+"\": ") {
			id = f[0]
		}
	}
	if id == "" {
		return nil, fmt.Errorf("no window titled %q", title)
	}
	raw, err := exec.CommandContext(ctx, "xwd", "-silent", "-id", id).Output()
	if err != nil {
		return nil, fmt.Errorf("xwd: %w", err)
	}
	return decodeXWD(raw)
}

// decodeXWD reads an X window dump of a 24-bit TrueColor window stored 32
// bits a pixel, which is what Xvfb's default screen gives.
func decodeXWD(b []byte) (image.Image, error) {
	if len(b) < 100 {
		return nil, errors.New("xwd: short header")
	}
	h := make([]uint32, 25)
	for i := range h {
		h[i] = binary.BigEndian.Uint32(b[4*i:])
	}
	headerSize, version, width, height := h[0], h[1], h[4], h[5]
	byteOrder, bpp, bytesPerLine, ncolors := h[7], h[11], h[12], h[19]
	masks := [3]uint32{h[14], h[15], h[16]}
	if version != 7 || bpp != 32 || width == 0 || height == 0 || width > 1<<14 || height > 1<<14 {
		return nil, fmt.Errorf("xwd: unsupported dump (version %d, %d bits a pixel, %dx%d)", version, bpp, width, height)
	}
	off := uint64(headerSize) + 12*uint64(ncolors)
	if uint64(len(b)) < off+uint64(bytesPerLine)*uint64(height) || bytesPerLine < 4*width {
		return nil, errors.New("xwd: short image")
	}
	img := image.NewRGBA(image.Rect(0, 0, int(width), int(height)))
	for y := range height {
		row := b[off+uint64(y)*uint64(bytesPerLine):]
		for x := range width {
			var px uint32
			if byteOrder == 0 {
				px = binary.LittleEndian.Uint32(row[4*x:])
			} else {
				px = binary.BigEndian.Uint32(row[4*x:])
			}
			var c [3]uint8
			for i, m := range masks {
				if m != 0 {
					c[i] = uint8((px & m) >> bits.TrailingZeros32(m))
				}
			}
			img.SetRGBA(int(x), int(y), color.RGBA{c[0], c[1], c[2], 255})
		}
	}
	return img, nil
}

func (t *tour) tapButton(w fyne.Window, text string) error {
	var b *widget.Button
	if err := t.until("an enabled "+text+" button", func() bool { b = enabledButton(w.Content(), text); return b != nil }); err != nil {
		return err
	}
	t.tap(b)
	return nil
}

// tapRow taps the list row that shows text.
func (t *tour) tapRow(w fyne.Window, text string) error {
	var row fyne.Tappable
	if err := t.until("a row showing "+text, func() bool { row = rowShowing(w.Content(), text); return row != nil }); err != nil {
		return err
	}
	t.do(func() { row.Tapped(&fyne.PointEvent{}) })
	return nil
}

// TestMain runs the tour instead of the tests when LIFEBOAT_TOUR_DIR is set
// (`make screenshots`): the window system needs the main thread.
func TestMain(m *testing.M) {
	if dir := os.Getenv("LIFEBOAT_TOUR_DIR"); dir != "" {
		os.Exit(runTour(dir))
	}
	os.Exit(m.Run())
}
