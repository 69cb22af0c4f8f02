package ui

import (
	"fmt"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// formatBytes is a size for people: "1.5 GB".
func formatBytes(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d bytes", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(n)/float64(div), "kMGTP"[exp])
}

// roughDuration is a duration for people: "about 5 minutes".
func roughDuration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "less than a minute"
	case d < 90*time.Minute:
		m := int(d.Round(time.Minute) / time.Minute)
		return plural(m, "minute")
	case d < 36*time.Hour:
		return plural(int(d.Round(time.Hour)/time.Hour), "hour")
	default:
		return plural(int(d.Round(24*time.Hour)/(24*time.Hour)), "day")
	}
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// when says when t was, relative to now, in words: "today at 21:04",
// "yesterday at 21:00", "Mon 3 Mar at 09:15".
func when(t, now time.Time) string {
	t, now = t.Local(), now.Local()
	day := func(x time.Time) time.Time { y, m, d := x.Date(); return time.Date(y, m, d, 0, 0, 0, 0, time.Local) }
	switch diff := day(t).Sub(day(now)); {
	case diff == 0:
		return "today at " + t.Format("15:04")
	case diff == -24*time.Hour:
		return "yesterday at " + t.Format("15:04")
	case diff == 24*time.Hour:
		return "tomorrow at " + t.Format("15:04")
	case t.Year() == now.Year():
		return t.Format("Mon 2 Jan") + " at " + t.Format("15:04")
	default:
		return t.Format("2 Jan 2006") + " at " + t.Format("15:04")
	}
}

// heading is a large bold line.
func heading(text string) *widget.Label {
	l := widget.NewLabelWithStyle(text, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	l.SizeName = theme.SizeNameHeadingText
	l.Wrapping = fyne.TextWrapWord
	return l
}

// para is a wrapped paragraph.
func para(text string) *widget.Label {
	l := widget.NewLabel(text)
	l.Wrapping = fyne.TextWrapWord
	return l
}
