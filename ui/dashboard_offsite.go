package ui

import (
	"context"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// copiesLine is "On the backup drive: today at 21:00 · Off site: today
// at 21:04" when there is an off-site copy ("" otherwise).
func copiesLine(s Status, now time.Time) string {
	if s.Offsite == nil {
		return ""
	}
	drive := "no backup yet"
	if !s.LastGood.IsZero() {
		drive = when(s.LastGood, now)
	}
	off := "not copied yet"
	if !s.Offsite.LastCopy.IsZero() {
		off = when(s.Offsite.LastCopy, now)
	}
	line := "On the backup drive: " + drive + " · Off site: " + off + "."
	if s.Offsite.Problem != "" {
		line += "\nThe latest off-site copy did not finish: " + s.Offsite.Problem + ". It is tried again after the next backup."
	}
	return line
}

// AlertCard is the dashboard's alarm: what happened in plain words, the
// backup from before it to restore, and "I have looked".
type AlertCard struct {
	db      *Dashboard
	Text    *widget.Label
	Restore *widget.Button
	OK      *widget.Button
	alerts  []AlarmAlert
	box     *fyne.Container
}

func newAlertCard(db *Dashboard) *AlertCard {
	a := &AlertCard{db: db}
	a.Text = para("")
	a.Text.Importance = widget.DangerImportance
	a.Restore = widget.NewButtonWithIcon("Restore from before the change…", theme.HistoryIcon(), a.restore)
	a.OK = widget.NewButtonWithIcon("I have looked: this was expected", theme.ConfirmIcon(), a.acknowledge)
	title := heading("Alarm: data is being deleted or scrambled")
	title.Importance = widget.DangerImportance
	card := widget.NewCard("", "", container.NewBorder(nil, nil,
		container.NewCenter(container.NewGridWrap(fyne.NewSize(56, 56), widget.NewIcon(theme.NewErrorThemedResource(theme.WarningIcon())))), nil,
		container.NewVBox(title, a.Text, container.NewHBox(a.Restore, a.OK))))
	a.box = container.NewVBox(card)
	a.box.Hide()
	return a
}

// Content is the card (hidden while no alarm is open).
func (a *AlertCard) Content() fyne.CanvasObject { return a.box }

func (a *AlertCard) show(alerts []AlarmAlert) {
	a.alerts = alerts
	var texts []string
	for _, al := range alerts {
		texts = append(texts, al.Text)
	}
	a.Text.SetText(strings.Join(texts, "\n\n"))
	setVisible(a.OK, a.db.d.Alarm != nil)
	setVisible(a.box, len(alerts) > 0)
}

// acknowledge closes every alarm shown: pruning resumes.
func (a *AlertCard) acknowledge() {
	alarm, alerts := a.db.d.Alarm, a.alerts
	if alarm == nil {
		return
	}
	a.OK.Disable()
	go func() {
		var err error
		for _, al := range alerts {
			if err = alarm.Acknowledge(context.Background(), al.ID); err != nil {
				break
			}
		}
		a.db.env.do(func() {
			a.OK.Enable()
			if err != nil {
				a.Text.SetText(a.Text.Text + "\n\nThe alarm could not be closed: " + err.Error())
				return
			}
			a.db.Refresh()
		})
	}()
}

// restore opens the restore wizard at the last backup before the newest
// alarm's change (the plain wizard when that is not known).
func (a *AlertCard) restore() {
	var before AlarmAlert
	for _, al := range a.alerts {
		if al.Before.After(before.Before) {
			before = al
		}
	}
	switch d := a.db.d; {
	case !before.Before.IsZero() && d.OpenRestoreBefore != nil:
		d.OpenRestoreBefore(before.Before, before.Kind)
	case d.OpenRestore != nil:
		d.OpenRestore()
	}
}
