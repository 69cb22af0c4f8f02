package repo

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestPlan(t *testing.T) {
	const day = 24 * time.Hour
	now := time.Date(2025, 6, 30, 12, 0, 0, 0, time.UTC)
	// A snapshot is written "account/kind@time"; account and kind are optional.
	type tc struct {
		name   string
		snaps  []string
		policy Policy
		keep   []string // by label; all others must be forgotten
		reason map[string]string
	}
	daily := func(from, to string) []string {
		var out []string
		a, _ := time.Parse(time.DateOnly, from)
		b, _ := time.Parse(time.DateOnly, to)
		for d := a; !d.After(b); d = d.Add(day) {
			out = append(out, d.Format(time.DateOnly)+"T12:00")
		}
		return out
	}
	cases := []tc{
		{
			name:   "empty policy keeps everything",
			snaps:  []string{"2020-01-01T00:00", "2024-01-01T00:00", "2025-06-30T00:00"},
			policy: Policy{},
			keep:   []string{"2020-01-01T00:00", "2024-01-01T00:00", "2025-06-30T00:00"},
		},
		{
			name:   "keep within",
			snaps:  daily("2025-05-25", "2025-06-30"),
			policy: Policy{KeepAllWithin: 30 * day},
			keep:   daily("2025-06-01", "2025-06-30"),
			reason: map[string]string{"2025-06-01T12:00": "within 30d"},
		},
		{
			name:   "newest is kept even outside every rule",
			snaps:  []string{"2024-01-01T00:00", "2024-01-02T00:00"},
			policy: Policy{KeepAllWithin: day},
			keep:   []string{"2024-01-02T00:00"},
			reason: map[string]string{"2024-01-02T00:00": "newest"},
		},
		{
			name: "daily keeps the newest of each of the last N days with snapshots",
			snaps: []string{"2025-06-30T10:00", "2025-06-30T08:00", "2025-06-29T23:00", "2025-06-29T01:00",
				"2025-06-27T12:00", "2025-06-20T12:00"},
			policy: Policy{KeepDaily: 3},
			keep:   []string{"2025-06-30T10:00", "2025-06-29T23:00", "2025-06-27T12:00"},
			reason: map[string]string{"2025-06-27T12:00": "daily 2025-06-27"},
		},
		{
			name: "weekly uses ISO weeks",
			// 2025-06-30 is a Monday (week 27); 06-29 is the Sunday of week 26.
			snaps:  []string{"2025-06-30T12:00", "2025-06-29T12:00", "2025-06-23T12:00", "2025-06-22T12:00", "2025-06-16T12:00"},
			policy: Policy{KeepWeekly: 3},
			keep:   []string{"2025-06-30T12:00", "2025-06-29T12:00", "2025-06-22T12:00"},
			reason: map[string]string{"2025-06-29T12:00": "weekly 2025-W26"},
		},
		{
			name: "monthly and yearly",
			snaps: []string{"2025-06-15T00:00", "2025-06-01T00:00", "2025-05-31T00:00", "2025-04-10T00:00",
				"2024-12-31T00:00", "2024-06-01T00:00", "2023-12-31T00:00", "2022-12-31T00:00"},
			policy: Policy{KeepMonthly: 3, KeepYearly: 3},
			keep:   []string{"2025-06-15T00:00", "2025-05-31T00:00", "2025-04-10T00:00", "2024-12-31T00:00", "2023-12-31T00:00"},
			reason: map[string]string{"2025-06-15T00:00": "newest, monthly 2025-06, yearly 2025", "2024-12-31T00:00": "yearly 2024"},
		},
		{
			name:   "combined default-like policy over two years of daily snapshots",
			snaps:  daily("2023-07-01", "2025-06-30"),
			policy: Policy{KeepAllWithin: 7 * day, KeepDaily: 10, KeepWeekly: 4, KeepMonthly: 3, KeepYearly: 3},
			keep: append(daily("2025-06-21", "2025-06-30"), // 7 within + 10 daily (overlapping)
				"2025-06-15T12:00",                     // the 4th weekly (W27, W26 and W25 are already daily ones)
				"2025-05-31T12:00", "2025-04-30T12:00", // monthly
				"2024-12-31T12:00", "2023-12-31T12:00"), // yearly
		},
		{
			name:   "accounts and kinds are planned separately",
			snaps:  []string{"a/mail@2025-06-30T10:00", "a/mail@2025-06-30T09:00", "b/mail@2025-06-01T00:00", "a/onedrive@2025-01-01T00:00", "b/mail@2025-05-01T00:00"},
			policy: Policy{KeepDaily: 1},
			keep:   []string{"a/mail@2025-06-30T10:00", "b/mail@2025-06-01T00:00", "a/onedrive@2025-01-01T00:00"},
		},
		{
			name:   "pinned snapshots are kept",
			snaps:  []string{"2025-06-30T00:00", "2020-03-01T00:00", "2019-03-01T00:00"},
			policy: Policy{KeepDaily: 1, Pinned: map[ID]string{labelID("2020-03-01T00:00"): "holds deleted items"}},
			keep:   []string{"2025-06-30T00:00", "2020-03-01T00:00"},
			reason: map[string]string{"2020-03-01T00:00": "holds deleted items"},
		},
		{
			name:   "future snapshots are within",
			snaps:  []string{"2025-07-05T00:00", "2025-07-01T00:00", "2025-01-01T00:00"},
			policy: Policy{KeepAllWithin: day},
			keep:   []string{"2025-07-05T00:00", "2025-07-01T00:00"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.policy.Location = time.UTC
			var infos []SnapshotInfo
			byID := map[ID]string{}
			for _, label := range c.snaps {
				infos = append(infos, parseLabel(t, label))
				byID[labelID(label)] = label
			}
			// Order of input must not matter.
			slices.Reverse(infos)
			keep, forget, reasons := Plan(infos, now, c.policy)
			if len(keep)+len(forget) != len(c.snaps) {
				t.Fatalf("keep %d + forget %d != %d snapshots", len(keep), len(forget), len(c.snaps))
			}
			var got []string
			for _, id := range keep {
				got = append(got, byID[id])
				if reasons[id] == "" {
					t.Errorf("%s kept without a reason", byID[id])
				}
			}
			for _, id := range forget {
				if _, ok := reasons[id]; ok {
					t.Errorf("forgotten %s has a reason", byID[id])
				}
			}
			want := slices.Clone(c.keep)
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("kept\n  %v\nwant\n  %v", got, want)
			}
			for label, want := range c.reason {
				if r := reasons[labelID(label)]; !strings.Contains(r, want) {
					t.Errorf("reason for %s = %q, want it to contain %q", label, r, want)
				}
			}
		})
	}
}

func parseLabel(t *testing.T, label string) SnapshotInfo {
	t.Helper()
	var account, kind string
	ts := label
	if at := strings.Index(label, "@"); at >= 0 {
		account, kind, _ = strings.Cut(label[:at], "/")
		ts = label[at+1:]
	}
	tm, err := time.Parse("2006-01-02T15:04", ts)
	if err != nil {
		t.Fatal(err)
	}
	return SnapshotInfo{ID: labelID(label), Time: tm, Account: account, Kind: kind}
}

func labelID(label string) ID {
	var id ID
	copy(id[:], label)
	return id
}

func TestPolicyString(t *testing.T) {
	if s := (Policy{}).String(); s != "keep everything" {
		t.Errorf("empty policy: %q", s)
	}
	if s := DefaultPolicy().String(); s != "keep all within 30d, 7 daily, 4 weekly, 12 monthly, 5 yearly" {
		t.Errorf("default policy: %q", s)
	}
}

func TestSnapshotInfos(t *testing.T) {
	s := &Snapshot{ID: ID{1}, Time: time.Unix(5, 0), Account: "a", Kind: "mail"}
	got := SnapshotInfos([]*Snapshot{s})
	if len(got) != 1 || got[0] != (SnapshotInfo{ID: ID{1}, Time: time.Unix(5, 0), Account: "a", Kind: "mail"}) {
		t.Errorf("SnapshotInfos = %+v", got)
	}
}
