package health

import (
	"strings"
	"testing"
	"time"
)

var now = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

func only(t *testing.T, items []Item, k Kind) Item {
	t.Helper()
	var found []Item
	for _, it := range items {
		if it.Kind == k {
			found = append(found, it)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want one %s warning, got %+v", k, items)
	}
	return found[0]
}

func TestAllWellIsQuiet(t *testing.T) {
	in := Inputs{Now: now, Interval: 24 * time.Hour, ScheduledSince: now.Add(-30 * 24 * time.Hour), LastGood: now.Add(-20 * time.Hour),
		DestinationName: "BACKUP (E:)", DestinationTotal: 1000, DestinationFree: 100,
		Accounts: []Account{{UPN: "anna@contoso.com", Expires: now.Add(30 * 24 * time.Hour)}},
		Skipped:  []Skip{{Item: "a", Reason: "x", Attempts: 2}},
		Drives:   []Drive{{Name: "A", LastBackup: now.Add(-24 * time.Hour)}, {Name: "B", LastBackup: now.Add(-6 * 24 * time.Hour)}}}
	if got := Check(in); len(got) != 0 {
		t.Fatalf("warnings when all is well: %+v", got)
	}
}

func TestStale(t *testing.T) {
	in := Inputs{Now: now, Interval: 24 * time.Hour, LastGood: now.Add(-49 * time.Hour)}
	it := only(t, Check(in), Stale)
	if it.Title != "No backup for 2 days" || it.Severity != Critical ||
		!strings.Contains(it.Detail, "The last good backup finished Sun 8 March") || !strings.Contains(it.Detail, "backups are due every day.") {
		t.Errorf("%+v", it)
	}
	// Exactly at 2× the interval: not yet.
	in.LastGood = now.Add(-48 * time.Hour)
	if len(Check(in)) != 0 {
		t.Error("warned at exactly twice the interval")
	}
	in = Inputs{Now: now, Interval: 4 * time.Hour, LastGood: now.Add(-9 * time.Hour)}
	if it := only(t, Check(in), Stale); it.Title != "No backup for 9 hours" || !strings.Contains(it.Detail, "due every 4 hours") {
		t.Errorf("%+v", it)
	}
	// No schedule: no staleness.
	in.Interval = 0
	if len(Check(in)) != 0 {
		t.Error("warned without a schedule")
	}
	// Never backed up: only once the first runs were due.
	in = Inputs{Now: now, Interval: 24 * time.Hour, ScheduledSince: now.Add(-24 * time.Hour)}
	if len(Check(in)) != 0 {
		t.Error("warned about a schedule set up yesterday")
	}
	in.ScheduledSince = now.Add(-72 * time.Hour)
	if it := only(t, Check(in), Stale); it.Title != "No backup has completed yet" || !strings.Contains(it.Detail, "3 days ago") {
		t.Errorf("%+v", it)
	}
}

func TestLowSpace(t *testing.T) {
	in := Inputs{Now: now, DestinationName: "BACKUP (E:)", DestinationTotal: 2_000_000_000_000, DestinationFree: 150_000_000_000}
	it := only(t, Check(in), LowSpace)
	if it.Title != "The backup drive is almost full" || it.Detail != "Only 150.0 GB (8%) is free on BACKUP (E:)." || it.Subject != "BACKUP (E:)" {
		t.Errorf("%+v", it)
	}
	in.DestinationFree = 200_000_000_000 // exactly 10%
	if len(Check(in)) != 0 {
		t.Error("warned at exactly 10% free")
	}
	in.DestinationTotal = 0 // unknown size
	if len(Check(in)) != 0 {
		t.Error("warned with an unknown size")
	}
}

func TestSignIn(t *testing.T) {
	in := Inputs{Now: now, Accounts: []Account{
		{UPN: "anna@contoso.com", NeedsSignIn: true},
		{UPN: "paul@contoso.com", Expires: now.Add(30 * time.Hour)},
		{UPN: "zoe@contoso.com", Expires: now.Add(-time.Hour)},
		{UPN: "ok@contoso.com", Expires: now.Add(90 * 24 * time.Hour)},
		{UPN: "unknown@contoso.com"},
	}}
	got := Check(in)
	if len(got) != 3 {
		t.Fatalf("%+v", got)
	}
	if got[0].Title != "Sign in again to keep backing up anna@contoso.com" || got[0].Severity != Critical || got[0].Action != "Sign in" {
		t.Errorf("%+v", got[0])
	}
	if got[1].Title != "The sign-in for paul@contoso.com needs renewing" || !strings.Contains(got[1].Detail, "expires in 30 hours") {
		t.Errorf("%+v", got[1])
	}
	if !strings.Contains(got[2].Detail, "has expired") || got[2].Subject != "zoe@contoso.com" {
		t.Errorf("%+v", got[2])
	}
}

func TestRepeatedSkips(t *testing.T) {
	in := Inputs{Now: now, Skipped: []Skip{
		{Item: "Inbox/Invoice March", Reason: "the message could not be read (HTTP 500)", Attempts: 3},
		{Item: "Documents/big.pst", Reason: "the download was cut off", Attempts: 5},
		{Item: "Documents/big.pst", Reason: "older reason", Attempts: 4},
		{Item: "once.txt", Reason: "timeout", Attempts: 1},
	}}
	it := only(t, Check(in), RepeatedSkips)
	if it.Title != "2 items could not be backed up in the last 3 runs" ||
		it.Detail != "Documents/big.pst: the download was cut off\nInbox/Invoice March: the message could not be read (HTTP 500)" {
		t.Errorf("%+v", it)
	}
	in.Skipped[0].Attempts = 2
	if it := only(t, Check(in), RepeatedSkips); it.Title != "1 item could not be backed up in the last 3 runs" {
		t.Errorf("%+v", it)
	}
	in.SkipRuns = 6
	if len(Check(in)) != 0 {
		t.Error("warned although no item was skipped 6 times")
	}
	var many []Skip
	for i := range 8 {
		many = append(many, Skip{Item: string(rune('a' + i)), Reason: "r", Attempts: 3})
	}
	in = Inputs{Now: now, Skipped: many}
	if it := only(t, Check(in), RepeatedSkips); !strings.HasSuffix(it.Detail, "\nand 3 more") || it.Title != "8 items could not be backed up in the last 3 runs" {
		t.Errorf("%+v", it)
	}
}

func TestDestinationMissingAndRotation(t *testing.T) {
	in := Inputs{Now: now, DestinationMissing: true, DestinationName: "BACKUP (E:)",
		Drives: []Drive{{Name: "Drive A", LastBackup: now.Add(-24 * time.Hour)}, {Name: "Drive B", LastBackup: now.Add(-9 * 24 * time.Hour)}, {Name: "Drive C"}}}
	got := Check(in)
	if it := only(t, got, DestinationMissing); it.Title != "The backup drive is not connected" || it.Detail != "BACKUP (E:) was not found when the backup was due." {
		t.Errorf("%+v", it)
	}
	var rot []Item
	for _, it := range got {
		if it.Kind == Rotation {
			rot = append(rot, it)
		}
	}
	if len(rot) != 2 || rot[0].Title != "Swap backup drives: Drive B last got a backup 9 days ago" ||
		!strings.Contains(rot[0].Detail, "Drive B last received a backup on Sun 1 March") ||
		rot[1].Title != "Swap backup drives: Drive C has no backup yet" {
		t.Errorf("%+v", rot)
	}
	// One drive is not a rotation.
	in.Drives = in.Drives[1:2]
	in.DestinationMissing = false
	if len(Check(in)) != 0 {
		t.Error("rotation warning with a single drive")
	}
}

func TestWorstFirst(t *testing.T) {
	in := Inputs{Now: now, DestinationTotal: 100, DestinationFree: 1, Interval: time.Hour, LastGood: now.Add(-5 * time.Hour)}
	got := Check(in)
	if len(got) != 2 || got[0].Kind != Stale || got[1].Kind != LowSpace {
		t.Errorf("%+v", got)
	}
}

func TestAgoAndBytes(t *testing.T) {
	for d, want := range map[time.Duration]string{30 * time.Second: "less than a minute", time.Minute: "1 minute", 90 * time.Minute: "1 hour",
		5 * time.Hour: "5 hours", 47 * time.Hour: "47 hours", 49 * time.Hour: "2 days"} {
		if got := Ago(d); got != want {
			t.Errorf("Ago(%v) = %q, want %q", d, got, want)
		}
	}
	for n, want := range map[uint64]string{999: "999 B", 1500: "1.5 kB", 4_100_000_000: "4.1 GB"} {
		if got := Bytes(n); got != want {
			t.Errorf("Bytes(%d) = %q, want %q", n, got, want)
		}
	}
}
