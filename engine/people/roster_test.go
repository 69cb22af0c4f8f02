package people

import (
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func ob(id string, purpose Purpose, enabled, licensed bool, drive string) Observation {
	return Observation{User: User{ID: id, UPN: id + "@contoso.example", DisplayName: id, Enabled: enabled, Licensed: licensed}, Purpose: purpose, DriveID: drive}
}

// TestRosterMarksLeaversAndKeepsEveryone follows a company through three
// looks at its directory: nobody is dropped for being disabled or
// unlicensed (the shared mailbox on a disabled, unlicensed account is
// protected from the start), a new hire is added, and each way of leaving
// is marked with its date and reason.
func TestRosterMarksLeaversAndKeepsEveryone(t *testing.T) {
	day1 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	var r Roster
	ch := r.Update(day1, Observed{Listed: []Observation{
		ob("alice", PurposeUser, true, true, "d-alice"),
		ob("paul", PurposeUser, true, true, "d-paul"),
		ob("maria", PurposeUser, true, true, "d-maria"),
		ob("ken", PurposeUser, true, true, "d-ken"),
		ob("info", PurposeShared, false, false, ""),
		ob("room1", PurposeRoom, false, false, ""),
		ob("printer", NoMailbox, true, false, ""),
	}})
	if len(ch.New) != 7 || len(ch.Left) != 0 {
		t.Fatalf("first look: %+v", ch)
	}
	if p := r.People["info"]; p.Departed() || p.Nothing() {
		t.Fatalf("shared mailbox on a disabled unlicensed account: %+v", p)
	}
	if !r.People["printer"].Nothing() {
		t.Fatal("a user with no mailbox and no OneDrive should be nothing to back up")
	}

	day2 := day1.Add(24 * time.Hour)
	deletedAt := day2.Add(-3 * time.Hour)
	ch = r.Update(day2, Observed{
		Listed: []Observation{
			ob("alice", PurposeUser, true, true, "d-alice"),
			ob("maria", PurposeShared, false, false, ""), // converted to a shared mailbox
			ob("ken", PurposeUser, true, false, "d-ken"), // licence removed
			ob("info", PurposeShared, false, false, ""),
			ob("room1", PurposeRoom, false, false, ""),
			ob("printer", NoMailbox, true, false, ""),
			ob("newhire", PurposeUser, true, true, "d-new"),
		},
		Deleted: []User{{ID: "paul", UPN: "paul@contoso.example", Deleted: deletedAt}},
	})
	if !slices.Equal(ch.New, []string{"newhire"}) {
		t.Fatalf("new: %v", ch.New)
	}
	slices.Sort(ch.Left)
	if !slices.Equal(ch.Left, []string{"ken", "maria", "paul"}) {
		t.Fatalf("left: %v", ch.Left)
	}
	paul := r.People["paul"]
	if !paul.Gone || paul.LeftReason != LeftDeleted || !paul.Left.Equal(deletedAt) || paul.DriveID != "d-paul" {
		t.Fatalf("paul: %+v", paul)
	}
	if got := paul.MicrosoftKeepsUntil(); !got.Equal(deletedAt.Add(30 * 24 * time.Hour)) {
		t.Fatalf("Microsoft keeps Paul's mailbox until %v", got)
	}
	if r.People["maria"].LeftReason != LeftShared || r.People["ken"].LeftReason != LeftUnlicense {
		t.Fatalf("maria %+v ken %+v", r.People["maria"], r.People["ken"])
	}
	if r.People["info"].Departed() || r.People["room1"].Departed() {
		t.Fatal("a shared mailbox or room is not a leaver")
	}

	// Paul is purged; the date he left does not move, and he stays.
	day3 := day2.Add(40 * 24 * time.Hour)
	r.Update(day3, Observed{Listed: []Observation{ob("alice", PurposeUser, true, true, "d-alice")}})
	if p := r.People["paul"]; p == nil || !p.Left.Equal(deletedAt) {
		t.Fatalf("paul after purge: %+v", p)
	}
	path := filepath.Join(t.TempDir(), "people.json")
	if err := SaveRoster(path, r); err != nil {
		t.Fatal(err)
	}
	back, err := LoadRoster(path)
	if err != nil || len(back.People) != len(r.People) || !back.People["paul"].Left.Equal(deletedAt) {
		t.Fatalf("round trip: %v %+v", err, back.People["paul"])
	}
}
