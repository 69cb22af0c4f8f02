package ui

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
)

const (
	scheduleDaily = "Every day at"
	scheduleHours = "Every"
)

// ScheduleForm edits a Schedule.
type ScheduleForm struct {
	Mode      *widget.RadioGroup
	At        *widget.Entry
	Hours     *widget.Select
	Connected *widget.Check
	Error     *widget.Label
	content   fyne.CanvasObject
}

// NewScheduleForm shows s.
func NewScheduleForm(s Schedule) *ScheduleForm {
	f := &ScheduleForm{}
	f.At = widget.NewEntry()
	f.At.SetPlaceHolder("21:00")
	f.At.Validator = func(s string) error { _, err := parseClock(s); return err }
	f.Hours = widget.NewSelect([]string{"2", "3", "4", "6", "8", "12"}, nil)
	f.Mode = widget.NewRadioGroup([]string{scheduleDaily, scheduleHours}, func(m string) {
		if m == scheduleHours {
			f.At.Disable()
			f.Hours.Enable()
		} else {
			f.At.Enable()
			f.Hours.Disable()
		}
	})
	f.Mode.Required = true
	f.Connected = widget.NewCheck("Only when the backup drive is connected (no warning when it is not)", nil)
	f.Error = widget.NewLabel("")
	f.Error.Importance = widget.DangerImportance
	f.Error.Hide()
	f.Set(s)
	// The time and the hours sit beside the choice they belong to.
	h := f.At.MinSize().Height
	choices := container.NewVBox(
		container.NewGridWrap(fyne.NewSize(110, h), f.At),
		container.NewHBox(container.NewGridWrap(fyne.NewSize(90, h), f.Hours), widget.NewLabel("hours")))
	f.content = container.NewVBox(
		container.NewHBox(f.Mode, choices),
		f.Connected, f.Error)
	return f
}

// Content is the form's canvas object.
func (f *ScheduleForm) Content() fyne.CanvasObject { return f.content }

// Set shows s.
func (f *ScheduleForm) Set(s Schedule) {
	if s.At == "" {
		s.At = DefaultSchedule().At
	}
	f.At.SetText(s.At)
	h := s.EveryHours
	if h <= 0 {
		h = 4
	}
	f.Hours.SetSelected(strconv.Itoa(h))
	if s.EveryHours > 0 {
		f.Mode.SetSelected(scheduleHours)
	} else {
		f.Mode.SetSelected(scheduleDaily)
	}
	f.Connected.SetChecked(s.OnlyWhenConnected)
}

// Schedule reads the form; an error says what to fix.
func (f *ScheduleForm) Schedule() (Schedule, error) {
	s := Schedule{OnlyWhenConnected: f.Connected.Checked}
	if f.Mode.Selected == scheduleHours {
		h, err := strconv.Atoi(f.Hours.Selected)
		if err != nil || h < 1 || h > 24 {
			return s, fmt.Errorf("choose how many hours apart")
		}
		s.EveryHours, s.At = h, ""
		f.Error.Hide()
		return s, nil
	}
	at, err := parseClock(f.At.Text)
	if err != nil {
		f.Error.SetText(err.Error())
		f.Error.Show()
		return s, err
	}
	s.At = at
	f.Error.Hide()
	return s, nil
}

// parseClock reads "21:00" or "9:30" into "HH:MM".
func parseClock(s string) (string, error) {
	t, err := time.Parse("15:04", strings.TrimSpace(s))
	if err != nil {
		return "", fmt.Errorf("type the time as hours:minutes, like 21:00")
	}
	return t.Format("15:04"), nil
}

// describeSchedule says when backups run: "every day at 21:00".
func describeSchedule(s Schedule) string {
	out := "every day at " + s.At
	if s.EveryHours > 0 {
		out = fmt.Sprintf("every %d hours", s.EveryHours)
	}
	if s.OnlyWhenConnected {
		out += ", when the backup drive is connected"
	}
	return out
}
