package ui

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
)

// TestRestoreStartsBeforeTheAlarm: opened from the dashboard's alarm, the
// wizard shows the kind the alarm names, at the newest backup from before
// the change, marked as such, not at the latest one.
func TestRestoreStartsBeforeTheAlarm(t *testing.T) {
	svc := newFakeRestore()
	test.NewTempApp(t)
	h := &harness{t: t, svc: svc, folder: "/home/paul/Restored", queue: make(chan func(), 10000)}
	h.win = test.NewWindow(nil)
	h.w = newRestoreWizard(h.win, svc, RestoreWizardOptions{
		Do: func(f func()) { h.queue <- f }, Debounce: 20 * time.Millisecond, Now: func() time.Time { return testNow },
		Before: svc.backups[1], BeforeKind: ItemEmail,
	})
	h.win.SetContent(h.w.root)
	h.win.Resize(fyne.NewSize(1100, 760))
	t.Cleanup(func() {
		h.w.stop()
		h.settle()
		h.win.Close()
	})
	h.settle()
	h.mustShow("<Mail>")
	b := h.w.find.mail
	if b.at.SelectedIndex() != 1 || !strings.HasSuffix(b.at.Selected, "(before the alarm)") {
		t.Fatalf("started at %d %q, want the backup from before the alarm (1)", b.at.SelectedIndex(), b.at.Selected)
	}
	if strings.Contains(b.at.Options[0], "before the alarm") {
		t.Errorf("the latest backup is marked too: %q", b.at.Options)
	}
}
