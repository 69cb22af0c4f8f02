package service

import (
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
	"github.com/lifeboat-backup/lifeboat/engine/people"
)

// TestDepartedPersonsLastCopyOutlivesRetention: Bob empties his mailbox
// and leaves (account turned off; the licence stays a while, so Microsoft
// still serves the mailbox); the next run marks him
// as having left, and eight simulated years later a prune with the default
// policy (deleted items kept seven years) still keeps the snapshot holding
// his email, which the restore search still finds. Without the rule the
// snapshot would be forgotten.
func TestDepartedPersonsLastCopyOutlivesRetention(t *testing.T) {
	tn := companyTenant(t)
	var mu sync.Mutex
	offset := time.Duration(0)
	srv, svc, dir := companyOffice(t, tn, func(o *Options) {
		o.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return time.Now().Add(offset) }
	})
	ctx := t.Context()
	if _, err := svc.Backup(ctx, BackupRequest{Dir: dir}); err != nil {
		t.Fatal(err)
	}
	msgs, err := srv.Tenant().FindMessages(simtest.Bob, "Invoice")
	if err != nil || len(msgs) == 0 {
		t.Fatalf("Bob's mail: %d %v", len(msgs), err)
	}
	for _, m := range msgs {
		if err := srv.Tenant().DeleteMessage(simtest.Bob, m.ID); err != nil {
			t.Fatal(err)
		}
	}
	if err := srv.Tenant().SetUserState(simtest.Bob, m365sim.UserState{Licensed: true, Mailbox: m365sim.MailboxUser, OneDrive: true}); err != nil {
		t.Fatal(err)
	}
	var notes []string
	if _, err := svc.Backup(ctx, BackupRequest{Dir: dir, Events: BackupEvents{Note: func(s string) { mu.Lock(); notes = append(notes, s); mu.Unlock() }}}); err != nil {
		t.Fatal(err)
	}
	list, _ := svc.People()
	var bob people.Person
	for _, p := range list {
		if p.UPN == simtest.Bob {
			bob = p
		}
	}
	if !bob.Departed() || bob.LeftReason != people.LeftDisabled {
		t.Fatalf("Bob after leaving: %+v", bob)
	}
	if !slices.ContainsFunc(notes, func(s string) bool { return strings.Contains(s, "left the company") }) {
		t.Errorf("no note that Bob left: %q", notes)
	}

	mu.Lock()
	offset = 8 * 365 * 24 * time.Hour
	mu.Unlock()
	r, err := svc.OpenBackup(ctx, dir, "")
	if err != nil {
		t.Fatal(err)
	}
	res, err := svc.Prune(ctx, r, PruneRequest{Policy: DefaultRetention().Policy(), Grace: -1})
	r.Close()
	if err != nil {
		t.Fatal(err)
	}
	pinned := 0
	for _, why := range res.Reasons {
		if strings.Contains(why, "Bob") && strings.Contains(why, "left the company") {
			pinned++
		}
	}
	if pinned == 0 || len(res.Forget) == 0 {
		t.Fatalf("prune kept %d snapshots for Bob and forgot %d (reasons %v)", pinned, len(res.Forget), res.Reasons)
	}
	b, err := svc.OpenBrowser(ctx, dir, "")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	hits, err := b.Find(ctx, FindRequest{Text: "Invoice", DeletedOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, h := range hits {
		if strings.HasPrefix(h.Version.Item.Account, bob.ID+".") {
			found++
		}
	}
	if found != len(msgs) {
		t.Fatalf("eight years later the search finds %d of Bob's %d emails", found, len(msgs))
	}
}

// TestPaulLeaves: the simulator deletes a person after a backup; the next
// run marks them as having left on Microsoft's deletion date, does not
// fail on them, says how long Microsoft keeps their mailbox, and a year
// later a prune with the default policy still leaves their email findable.
func TestPaulLeaves(t *testing.T) {
	tn := companyTenant(t)
	var mu sync.Mutex
	offset := time.Duration(0)
	srv, svc, dir := companyOffice(t, tn, func(o *Options) {
		o.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return time.Now().Add(offset) }
	})
	ctx := t.Context()
	if _, err := svc.Backup(ctx, BackupRequest{Dir: dir}); err != nil {
		t.Fatal(err)
	}
	if err := srv.Tenant().DeleteUser(simtest.Bob); err != nil {
		t.Fatal(err)
	}
	sum, err := svc.Backup(ctx, BackupRequest{Dir: dir})
	if err != nil {
		t.Fatalf("the run after Bob was deleted: %v", err)
	}
	for _, ar := range sum.Accounts {
		if ar.Account == simtest.Bob {
			t.Fatalf("a deleted person was backed up again: %+v", ar)
		}
	}
	list, _ := svc.People()
	var bob people.Person
	for _, p := range list {
		if p.UPN == simtest.Bob {
			bob = p
		}
	}
	if !bob.Departed() || !bob.Gone || bob.LeftReason != people.LeftDeleted || bob.MicrosoftKeepsUntil().IsZero() {
		t.Fatalf("Bob after deletion: %+v", bob)
	}

	mu.Lock()
	offset = 365 * 24 * time.Hour
	mu.Unlock()
	r, err := svc.OpenBackup(ctx, dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Prune(ctx, r, PruneRequest{Policy: DefaultRetention().Policy(), Grace: -1}); err != nil {
		t.Fatal(err)
	}
	r.Close()
	b, err := svc.OpenBrowser(ctx, dir, "")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	hits, err := b.Find(ctx, FindRequest{Text: "Invoice", Account: homeIDOf(bob, tn.ID)})
	if err != nil || len(hits) == 0 {
		t.Fatalf("a year later Bob's email is not found: %d %v", len(hits), err)
	}
}
