package gui

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"
)

// The tour's calendar and contact steps: the demo company's weekly team
// meeting and a supplier's contact card, found by searching in a fresh
// restore window; the meeting is put back, and the tour checks that
// nobody was sent an invitation.

const (
	tourMeeting = "Monday team meeting"
	tourContact = "Katrin Müller"
)

// openRestoreWindow closes the restore windows open now and opens a new
// one, returning it.
func (t *tour) openRestoreWindow() (fyne.Window, error) {
	old := map[fyne.Window]bool{}
	t.do(func() {
		for _, w := range t.s.App.Driver().AllWindows() {
			old[w] = true
			if w != t.s.Window {
				w.Close()
			}
		}
		openRestoreWizard(t.s.App, t.s.Window, t.s.Env)
	})
	var rw fyne.Window
	err := t.until("a new restore window", func() bool {
		for _, w := range t.s.App.Driver().AllWindows() {
			if !old[w] {
				rw = w
			}
		}
		return rw != nil
	})
	return rw, err
}

// search types text into the restore window's search box.
func (t *tour) search(rw fyne.Window, text string) error {
	var e *widget.Entry
	if err := t.until("the search box", func() bool {
		if o := find(rw.Content(), func(o fyne.CanvasObject) bool {
			x, ok := o.(*widget.Entry)
			return ok && x.Visible() && strings.HasPrefix(x.PlaceHolder, "Search")
		}); o != nil {
			e = o.(*widget.Entry)
		}
		return e != nil
	}); err != nil {
		return err
	}
	t.do(func() { e.SetText(text) })
	return nil
}

// restoreEvent finds the team meeting, shows its preview and the review
// step's note, and puts it back.
func (t *tour) restoreEvent() error {
	rw, err := t.openRestoreWindow()
	if err != nil {
		return err
	}
	if err := t.search(rw, tourMeeting); err != nil {
		return err
	}
	if err := t.tapRow(rw, tourMeeting); err != nil {
		return err
	}
	if err := t.shotWhen(rw, "restore-event-preview", "This was a meeting"); err != nil {
		return err
	}
	tn := t.s.Demo.Server.Tenant()
	sent := len(tn.SentMessages())
	for _, s := range []struct{ button, name, want string }{
		{"Next", "", "Choose which version"},
		{"Next", "restore-event-where", "Choose where to put it"},
		{"Next", "restore-event-review", "nobody gets an invitation"},
		{"Put it back", "restore-event-done", "Done"},
	} {
		if err := t.tapButton(rw, s.button); err != nil {
			return err
		}
		if s.name == "" {
			if err := t.until(s.want, func() bool { return shows(rw, s.want) }); err != nil {
				return err
			}
			continue
		}
		if err := t.shotWhen(rw, s.name, s.want); err != nil {
			return err
		}
	}
	if n := len(tn.SentMessages()); n != sent {
		return fmt.Errorf("tour: putting the meeting back sent %d messages", n-sent)
	}
	return nil
}

// restoreContact finds a supplier's contact and shows its card.
func (t *tour) restoreContact() error {
	rw, err := t.openRestoreWindow()
	if err != nil {
		return err
	}
	if err := t.search(rw, tourContact); err != nil {
		return err
	}
	if err := t.tapRow(rw, tourContact); err != nil {
		return err
	}
	if err := t.shotWhen(rw, "restore-contact-preview", "E-mail: "); err != nil {
		return err
	}
	phone := false
	t.do(func() { phone = shows(rw, "Phone: ") })
	if !phone {
		return errors.New("tour: the contact card shows no phone number")
	}
	return nil
}

// shows says whether the window shows text (call it on the app's thread).
func shows(w fyne.Window, text string) bool {
	return slices.ContainsFunc(shownTexts(w.Content()), func(s string) bool { return strings.Contains(s, text) })
}
