package repo

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"time"
)

// DefaultKeepAllWithin is how long every snapshot is kept before thinning.
const DefaultKeepAllWithin = 30 * 24 * time.Hour

// Policy says which snapshots to keep. It follows restic's forget policy:
// within each group of snapshots (same account and kind), snapshots newer
// than KeepAllWithin are all kept; then, going from the newest snapshot to
// the oldest, the newest snapshot of each of the last KeepDaily days that
// have a snapshot is kept, likewise for weeks (ISO weeks), months and
// years. A snapshot kept for one reason also counts for the others (the
// newest snapshot of a day is usually also the newest of its week).
//
// Two rules go beyond restic, for safety: the newest snapshot of every
// group is always kept, and a Policy with nothing set (all zero) keeps
// everything rather than nothing.
type Policy struct {
	// KeepAllWithin keeps every snapshot taken less than this long before
	// now (and any snapshot dated in the future).
	KeepAllWithin time.Duration
	// Keep the newest snapshot of each of the last N days, ISO weeks,
	// months and years that have snapshots.
	KeepDaily, KeepWeekly, KeepMonthly, KeepYearly int
	// KeepDeletedFor is how long the last version of a deleted item is kept
	// (e.g. 7 years). The repository does not know items, so Plan does not
	// use it directly: the backup layer, which does (through the catalog's
	// version ranges or by walking trees with the same Refs callback that
	// Check and Prune take), computes which snapshots hold the last version
	// of an item deleted less than KeepDeletedFor ago and passes their IDs
	// in Pinned. A snapshot is only ever forgotten as a whole, so pinning
	// it keeps those items restorable.
	KeepDeletedFor time.Duration
	// Pinned snapshots are always kept; the value is the reason reported
	// (e.g. "holds 12 deleted items until 2031-05-01").
	Pinned map[ID]string
	// Location is the time zone in which days, weeks, months and years
	// begin; nil means time.Local.
	Location *time.Location
}

// LockedPolicy is p for a repository under Object Lock with lock period
// period: every snapshot of the last period is kept whatever else p says
// (a keep-within rule, so snapshots an attacker adds cannot push real
// ones out, and nothing is forgotten while its data could not be removed
// anyway).
func LockedPolicy(p Policy, period time.Duration) Policy {
	p.KeepAllWithin = max(p.KeepAllWithin, period)
	return p
}

// DefaultPolicy is the retention a new installation starts with: every
// snapshot for 30 days, then one a day for a week, one a week for a month,
// one a month for a year and one a year for five years; deleted items for
// seven years.
func DefaultPolicy() Policy {
	return Policy{
		KeepAllWithin: DefaultKeepAllWithin,
		KeepDaily:     7, KeepWeekly: 4, KeepMonthly: 12, KeepYearly: 5,
		KeepDeletedFor: 7 * 365 * 24 * time.Hour,
	}
}

// Empty reports whether the policy selects nothing, in which case Plan
// keeps everything.
func (p Policy) Empty() bool {
	return p.KeepAllWithin <= 0 && p.KeepDaily <= 0 && p.KeepWeekly <= 0 &&
		p.KeepMonthly <= 0 && p.KeepYearly <= 0
}

// String describes the policy for people, e.g. for a dry run.
func (p Policy) String() string {
	var parts []string
	if p.KeepAllWithin > 0 {
		parts = append(parts, "all within "+formatDays(p.KeepAllWithin))
	}
	for _, b := range []struct {
		n    int
		name string
	}{{p.KeepDaily, "daily"}, {p.KeepWeekly, "weekly"}, {p.KeepMonthly, "monthly"}, {p.KeepYearly, "yearly"}} {
		if b.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", b.n, b.name))
		}
	}
	if len(parts) == 0 {
		return "keep everything"
	}
	return "keep " + strings.Join(parts, ", ")
}

func formatDays(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}

// SnapshotInfo is what Plan needs to know about a snapshot.
type SnapshotInfo struct {
	ID      ID
	Time    time.Time
	Account string
	Kind    string
}

// SnapshotInfos converts loaded snapshots for Plan.
func SnapshotInfos(snaps []*Snapshot) []SnapshotInfo {
	out := make([]SnapshotInfo, len(snaps))
	for i, s := range snaps {
		out[i] = SnapshotInfo{ID: s.ID, Time: s.Time, Account: s.Account, Kind: s.Kind}
	}
	return out
}

// Plan decides which snapshots policy keeps at time now. Snapshots of
// different accounts or kinds are considered separately. It returns the
// IDs to keep and to forget (each newest first within a group) and, for
// every kept snapshot, why. Plan does no I/O; Prune with Forget set to the
// forget list then removes them and their data.
func Plan(snapshots []SnapshotInfo, now time.Time, policy Policy) (keep, forget []ID, reasons map[ID]string) {
	reasons = map[ID]string{}
	loc := policy.Location
	if loc == nil {
		loc = time.Local
	}
	type groupKey struct{ account, kind string }
	groups := map[groupKey][]SnapshotInfo{}
	var order []groupKey
	for _, s := range snapshots {
		k := groupKey{s.Account, s.Kind}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], s)
	}
	slices.SortFunc(order, func(a, b groupKey) int {
		if c := strings.Compare(a.account, b.account); c != 0 {
			return c
		}
		return strings.Compare(a.kind, b.kind)
	})

	buckets := []struct {
		name string
		n    int
		key  func(time.Time) string
	}{
		{"daily", policy.KeepDaily, func(t time.Time) string { return t.Format(time.DateOnly) }},
		{"weekly", policy.KeepWeekly, func(t time.Time) string {
			y, w := t.ISOWeek()
			return fmt.Sprintf("%04d-W%02d", y, w)
		}},
		{"monthly", policy.KeepMonthly, func(t time.Time) string { return t.Format("2006-01") }},
		{"yearly", policy.KeepYearly, func(t time.Time) string { return t.Format("2006") }},
	}

	for _, k := range order {
		g := groups[k]
		// Newest first; ties broken by ID so the result is deterministic.
		slices.SortFunc(g, func(a, b SnapshotInfo) int {
			if c := b.Time.Compare(a.Time); c != 0 {
				return c
			}
			return bytes.Compare(a.ID[:], b.ID[:])
		})
		left := make([]int, len(buckets))
		last := make([]string, len(buckets))
		for i, b := range buckets {
			left[i] = b.n
		}
		for i, s := range g {
			var why []string
			if policy.Empty() {
				why = append(why, "no retention policy set")
			}
			if i == 0 {
				why = append(why, "newest")
			}
			if r, ok := policy.Pinned[s.ID]; ok {
				if r == "" {
					r = "pinned"
				}
				why = append(why, r)
			}
			if policy.KeepAllWithin > 0 && now.Sub(s.Time) < policy.KeepAllWithin {
				why = append(why, "within "+formatDays(policy.KeepAllWithin))
			}
			// A snapshot dated after now is kept but takes no daily,
			// weekly, monthly or yearly place: otherwise fake snapshots
			// dated in the future (an attacker's) could push real ones out.
			if s.Time.After(now) {
				why = append(why, "dated in the future")
				keep = append(keep, s.ID)
				reasons[s.ID] = strings.Join(why, ", ")
				continue
			}
			t := s.Time.In(loc)
			for j, b := range buckets {
				if left[j] <= 0 {
					continue
				}
				key := b.key(t)
				if key == last[j] {
					continue // a newer snapshot already stands for this period
				}
				last[j] = key
				left[j]--
				why = append(why, b.name+" "+key)
			}
			if len(why) > 0 {
				keep = append(keep, s.ID)
				reasons[s.ID] = strings.Join(why, ", ")
			} else {
				forget = append(forget, s.ID)
			}
		}
	}
	return keep, forget, reasons
}
