package health

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Kind identifies a warning, for code (icons, deduplicating notifications).
type Kind string

// The kinds of warning.
const (
	Stale              Kind = "stale"               // no good backup for over 2× the schedule interval
	LowSpace           Kind = "low-space"           // the backup drive is under 10% free
	SignIn             Kind = "sign-in"             // a sign-in needs renewing
	RepeatedSkips      Kind = "repeated-skips"      // items skipped in each of the last N runs
	DestinationMissing Kind = "destination-missing" // the last scheduled run found no backup drive
	Rotation           Kind = "rotation"            // a rotated drive has had no backup for over a week
	DestinationFull    Kind = "destination-full"    // the last run stopped: the backup drive is full
	DestinationLost    Kind = "destination-lost"    // the last run stopped: the drive went away mid-run
)

// Severity orders warnings: the dashboard shows the worst first.
type Severity int

// Severities.
const (
	Warning Severity = iota + 1
	Critical
)

func (s Severity) String() string {
	if s == Critical {
		return "critical"
	}
	return "warning"
}

// Item is one warning as people read it.
type Item struct {
	Kind     Kind
	Severity Severity
	// Title is one short sentence: what is wrong.
	Title string
	// Detail says why we think so, with dates and numbers.
	Detail string
	// Action is what to do about it.
	Action string
	// Subject is what it is about (an account, a drive), "" when general.
	Subject string
}

// Account is one signed-in account.
type Account struct {
	UPN string
	// NeedsSignIn: the refresh token was refused, expired or is missing.
	NeedsSignIn bool
	// ExpiresSoon is when the sign-in stops working without a renewal;
	// zero when unknown.
	Expires time.Time
}

// Skip is an item the latest backup could not back up.
type Skip struct {
	Item   string // as shown to the person: subject or path
	Reason string
	// Attempts is how many runs in a row skipped it.
	Attempts int
}

// Drive is a rotated backup drive: each its own backup.
type Drive struct {
	Name       string
	LastBackup time.Time // zero: never
}

// Inputs is everything Check looks at.
type Inputs struct {
	Now time.Time
	// Interval is the schedule's interval (a day for a daily schedule);
	// 0: no schedule, so no staleness warning.
	Interval time.Duration
	// ScheduledSince is when the schedule was set up, so a new schedule
	// does not warn before its first run was due.
	ScheduledSince time.Time
	// LastGood is the end of the last good backup; zero: never.
	LastGood time.Time
	// Destination is the backup drive's name and space; Total 0: unknown
	// (not connected, or never measured).
	DestinationName                   string
	DestinationTotal, DestinationFree uint64
	DestinationMissing                bool
	Accounts                          []Account
	// Skipped are the items the latest backup of each account skipped.
	Skipped []Skip
	// SkipRuns is N in "skipped in each of the last N runs" (default 3).
	SkipRuns int
	// Drives are rotated drives; RotationAge is how old the newest
	// backup on one may get (default 7 days).
	Drives      []Drive
	RotationAge time.Duration
	// RenewWithin warns about a sign-in expiring within this (default 3 days).
	RenewWithin time.Duration
	// Stopped is the latest run when its destination stopped it (full, or
	// gone mid-run); nil otherwise (backup.Result.HealthInput).
	Stopped *StoppedRun
}

// lowSpaceFraction is the free share of the drive under which Check warns.
const lowSpaceFraction = 0.10

// Check returns the warnings, worst first; none means all is well.
func Check(in Inputs) []Item {
	var out []Item
	if in.Interval > 0 {
		out = append(out, stale(in)...)
	}
	if in.DestinationMissing {
		name := in.DestinationName
		if name == "" {
			name = "The backup drive"
		}
		out = append(out, Item{Kind: DestinationMissing, Severity: Warning, Subject: in.DestinationName,
			Title:  "The backup drive is not connected",
			Detail: name + " was not found when the backup was due.",
			Action: "Connect the backup drive; the backup starts when it is back, or at the next scheduled time."})
	}
	if in.DestinationTotal > 0 && float64(in.DestinationFree) < lowSpaceFraction*float64(in.DestinationTotal) {
		name := in.DestinationName
		if name == "" {
			name = "the backup drive"
		}
		pct := 100 * float64(in.DestinationFree) / float64(in.DestinationTotal)
		out = append(out, Item{Kind: LowSpace, Severity: Warning, Subject: in.DestinationName,
			Title:  "The backup drive is almost full",
			Detail: fmt.Sprintf("Only %s (%.0f%%) is free on %s.", Bytes(in.DestinationFree), pct, name),
			Action: "Free space on the drive, keep old versions for less time, or move the backup to a bigger drive."})
	}
	out = append(out, stopped(in)...)
	out = append(out, signIns(in)...)
	out = append(out, skips(in)...)
	out = append(out, rotation(in)...)
	slices.SortStableFunc(out, func(a, b Item) int { return int(b.Severity) - int(a.Severity) })
	return out
}

func stale(in Inputs) []Item {
	limit := 2 * in.Interval
	if in.LastGood.IsZero() {
		if in.ScheduledSince.IsZero() || in.Now.Sub(in.ScheduledSince) <= limit {
			return nil
		}
		return []Item{{Kind: Stale, Severity: Critical,
			Title:  "No backup has completed yet",
			Detail: fmt.Sprintf("Backups were scheduled %s ago, but none has finished.", Ago(in.Now.Sub(in.ScheduledSince))),
			Action: "Check that the backup drive is connected and that you are signed in, then choose Back up now."}}
	}
	age := in.Now.Sub(in.LastGood)
	if age <= limit {
		return nil
	}
	return []Item{{Kind: Stale, Severity: Critical,
		Title: fmt.Sprintf("No backup for %s", Ago(age)),
		Detail: fmt.Sprintf("The last good backup finished %s; backups are due every %s.",
			in.LastGood.In(in.Now.Location()).Format("Mon 2 January 15:04"), every(in.Interval)),
		Action: "Check that the backup drive is connected and that you are signed in, then choose Back up now."}}
}

func signIns(in Inputs) []Item {
	within := in.RenewWithin
	if within == 0 {
		within = 72 * time.Hour
	}
	var out []Item
	for _, a := range in.Accounts {
		switch {
		case a.NeedsSignIn:
			out = append(out, Item{Kind: SignIn, Severity: Critical, Subject: a.UPN,
				Title:  "Sign in again to keep backing up " + a.UPN,
				Detail: "Microsoft no longer accepts the saved sign-in for " + a.UPN + ", so its mail and files are not being backed up.",
				Action: "Sign in"})
		case !a.Expires.IsZero() && a.Expires.Sub(in.Now) < within:
			left := a.Expires.Sub(in.Now)
			when := "has expired"
			if left > 0 {
				when = "expires in " + Ago(left)
			}
			out = append(out, Item{Kind: SignIn, Severity: Warning, Subject: a.UPN,
				Title:  "The sign-in for " + a.UPN + " needs renewing",
				Detail: "The saved sign-in " + when + "; after that backups of " + a.UPN + " stop.",
				Action: "Sign in"})
		}
	}
	return out
}

// skips warns about items skipped run after run: one skip is a hiccup
// the next run retries; the same item again and again needs a person.
func skips(in Inputs) []Item {
	n := in.SkipRuns
	if n <= 0 {
		n = 3
	}
	reason := map[string]string{}
	for _, s := range in.Skipped {
		if s.Attempts >= n {
			if _, ok := reason[s.Item]; !ok {
				reason[s.Item] = s.Reason
			}
		}
	}
	if len(reason) == 0 {
		return nil
	}
	items := make([]string, 0, len(reason))
	for it := range reason {
		items = append(items, it)
	}
	slices.Sort(items)
	title := fmt.Sprintf("%d items could not be backed up in the last %d runs", len(items), n)
	if len(items) == 1 {
		title = fmt.Sprintf("1 item could not be backed up in the last %d runs", n)
	}
	var b strings.Builder
	const show = 5
	for i, it := range items {
		if i == show {
			fmt.Fprintf(&b, "\nand %d more", len(items)-show)
			break
		}
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "%s: %s", it, reason[it])
	}
	return []Item{{Kind: RepeatedSkips, Severity: Warning, Title: title, Detail: b.String(),
		Action: "Open the item in Outlook or OneDrive to check it; Lifeboat keeps trying at every backup."}}
}

func rotation(in Inputs) []Item {
	if len(in.Drives) < 2 {
		return nil
	}
	age := in.RotationAge
	if age <= 0 {
		age = 7 * 24 * time.Hour
	}
	var out []Item
	for _, d := range in.Drives {
		if d.LastBackup.IsZero() {
			out = append(out, Item{Kind: Rotation, Severity: Warning, Subject: d.Name,
				Title:  "Swap backup drives: " + d.Name + " has no backup yet",
				Detail: d.Name + " is one of your rotated backup drives and has never received a backup.",
				Action: "Connect " + d.Name + " so it gets a backup, then take the other drive away."})
			continue
		}
		if old := in.Now.Sub(d.LastBackup); old > age {
			out = append(out, Item{Kind: Rotation, Severity: Warning, Subject: d.Name,
				Title:  "Swap backup drives: " + d.Name + " last got a backup " + Ago(old) + " ago",
				Detail: fmt.Sprintf("%s last received a backup on %s. Rotating drives keeps a recent copy away from this computer.", d.Name, d.LastBackup.In(in.Now.Location()).Format("Mon 2 January")),
				Action: "Connect " + d.Name + " so it gets a backup, then take the other drive away."})
		}
	}
	return out
}

// every names an interval after "every": "day", "hour", "4 hours".
func every(d time.Duration) string {
	switch d {
	case 24 * time.Hour:
		return "day"
	case time.Hour:
		return "hour"
	}
	return Ago(d)
}

// Ago writes a duration the way people say it: "3 days", "5 hours", "20 minutes".
func Ago(d time.Duration) string {
	unit := func(n int64, s string) string {
		if n == 1 {
			return "1 " + s
		}
		return fmt.Sprintf("%d %ss", n, s)
	}
	switch {
	case d >= 48*time.Hour:
		return unit(int64(d/(24*time.Hour)), "day")
	case d >= 2*time.Hour:
		return unit(int64(d/time.Hour), "hour")
	case d >= time.Hour:
		return "1 hour"
	case d >= time.Minute:
		return unit(int64(d/time.Minute), "minute")
	}
	return "less than a minute"
}

// Bytes writes n in B, kB, MB, GB, TB (powers of 1000, as drives are sold).
func Bytes(n uint64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v := float64(n)
	for _, u := range []string{"kB", "MB", "GB", "TB"} {
		v /= unit
		if v < unit {
			return fmt.Sprintf("%.1f %s", v, u)
		}
	}
	return fmt.Sprintf("%.1f PB", v/unit)
}
