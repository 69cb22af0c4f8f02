package ui

import "time"

// beforeSlack absorbs the difference between the alarm's record of a
// backup's time and the catalog's.
const beforeSlack = 2 * time.Second

// startIndex is the backup a browse tab starts at: the newest from before
// the wizard's Before (times are newest first), else the latest.
func (b *rwBrowser) startIndex(times []time.Time) int {
	before := b.w.opts.Before
	if before.IsZero() {
		return 0
	}
	for i, t := range times {
		if !t.After(before.Add(beforeSlack)) {
			return i
		}
	}
	return 0
}

// beforeLabel marks the backup offered after an alarm.
func (b *rwBrowser) beforeLabel(times []time.Time, i int) string {
	if b.w.opts.Before.IsZero() || i != b.startIndex(times) {
		return ""
	}
	return " (before the alarm)"
}

// startTab opens the Mail or Files tab when the wizard was opened to
// restore from before an alarm.
func (f *rwFindStep) startTab() {
	if f.w.opts.Before.IsZero() {
		return
	}
	switch f.w.opts.BeforeKind {
	case ItemEmail:
		f.tabs.SelectIndex(1)
	case ItemFile:
		f.tabs.SelectIndex(2)
	}
}
