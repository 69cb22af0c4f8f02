package service

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/auth"
	"github.com/lifeboat-backup/lifeboat/engine/backup"
	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
	"github.com/lifeboat-backup/lifeboat/engine/restore"
)

// simService is a service on a simulated tenant, signed in as Alice with
// the real MSAL device-code flow.
func simService(t *testing.T) (*Service, *m365sim.Server) {
	t.Helper()
	srv := simtest.Start(t, nil, m365sim.Options{AutoApprove: 10 * time.Millisecond})
	tenant, err := TenantFromProfile(srv.Profile(), "")
	if err != nil {
		t.Fatal(err)
	}
	svc := testService(t, func(o *Options) { o.Tenant = tenant })
	var steps []string
	a, err := svc.SignIn(t.Context(), func(e auth.Event) { steps = append(steps, fmtEvent(e)) })
	if err != nil || a.UPN != simtest.Alice {
		t.Fatalf("sign-in: %+v %v (steps %q)", a, err, steps)
	}
	return svc, srv
}

func fmtEvent(e auth.Event) string {
	switch e.(type) {
	case auth.CodeIssued:
		return "code"
	case auth.SignedIn:
		return "signed in"
	}
	return "other"
}

// TestBackUpFindAndRestore is the owner's use case end to end through the
// application layer alone: back up, lose an email and a file, find them as
// deleted, and put them back both on disk and where they were.
func TestBackUpFindAndRestore(t *testing.T) {
	svc, srv := simService(t)
	ctx := t.Context()
	dir := filepath.Join(t.TempDir(), "backup")
	nb, err := svc.InitBackup(ctx, dir, true)
	if err != nil || nb.KeychainErr != nil || nb.RecoveryKey == "" {
		t.Fatalf("init: %+v %v", nb, err)
	}
	var mu sync.Mutex
	var results []AccountResult
	back := func() BackupSummary {
		t.Helper()
		sum, err := svc.Backup(ctx, BackupRequest{Dir: svc.FindDestination(ctx), Events: BackupEvents{Result: func(ar AccountResult) {
			mu.Lock()
			results = append(results, ar)
			mu.Unlock()
		}}})
		if err != nil {
			t.Fatalf("backup: %v", err)
		}
		return sum
	}
	if sum := back(); sum.Items == 0 || len(sum.Accounts) != 1 || sum.Accounts[0].Account != simtest.Alice {
		t.Fatalf("first backup: %+v", sum)
	}
	tn := srv.Tenant()
	msgs, _ := tn.FindMessages(simtest.Alice, "Invoice 0005")
	budget, _ := tn.DriveItemByPath(simtest.Alice, "Documents/budget.xlsx")
	var budgetBytes bytes.Buffer
	budgetBytes.ReadFrom(budget.Content.Open())
	if err := tn.DeleteMessage(simtest.Alice, msgs[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := tn.DeleteDriveItem(simtest.Alice, budget.ID); err != nil {
		t.Fatal(err)
	}
	if sum := back(); sum.Items != 2 {
		t.Fatalf("second backup saw %d changes, want the 2 deletions", sum.Items)
	}
	if len(results) != 2 {
		t.Fatalf("%d account results reported", len(results))
	}

	b, err := svc.OpenBrowser(ctx, dir, "")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	hits, err := b.Find(ctx, FindRequest{DeletedOnly: true})
	if err != nil || len(hits) != 2 {
		t.Fatalf("deleted: %d %v", len(hits), err)
	}
	var sels []Selection
	for _, h := range hits {
		if h.Deleted.IsZero() {
			t.Errorf("%s: no deletion time", h.Version.Name)
		}
		sels = append(sels, Selection{Version: h.Version.ID})
	}
	items, err := b.Select(ctx, sels)
	if err != nil || len(items) != 2 {
		t.Fatalf("select: %d %v", len(items), err)
	}
	out := filepath.Join(t.TempDir(), "out")
	pl, err := b.PlanRestore(ctx, RestoreRequest{Items: items, To: ToDir, Dir: out})
	if err != nil || pl.Items != 2 || len(pl.Groups) != 1 {
		t.Fatalf("plan: %+v %v", pl, err)
	}
	var last RestoreProgress
	res, err := b.RunRestore(ctx, pl, RestoreEvents{Progress: func(p RestoreProgress) { last = p }})
	pl.Close()
	if err != nil || res.Restored != 2 || len(res.Failures) != 0 || last.ItemsDone != 2 || last.ItemsTotal != 2 {
		t.Fatalf("restore to disk: %+v %v (last progress %+v)", res, err, last)
	}
	if got, err := os.ReadFile(filepath.Join(out, "OneDrive", "Documents", "budget.xlsx")); err != nil || !bytes.Equal(got, budgetBytes.Bytes()) {
		t.Errorf("budget.xlsx on disk: %v", err)
	}
	if got, err := os.ReadFile(filepath.Join(out, "Mail", "Inbox", "Invoices", "Invoice 0005 for March.eml")); err != nil || !bytes.Equal(got, msgs[0].MIME) {
		t.Errorf("the email on disk: %v", err)
	}

	// Back where they were, in Alice's mailbox and OneDrive.
	pl, err = b.PlanRestore(ctx, RestoreRequest{Items: items, To: ToOriginal, Conflict: restore.ConflictRename})
	if err != nil {
		t.Fatal(err)
	}
	res, err = b.RunRestore(ctx, pl, RestoreEvents{})
	pl.Close()
	if err != nil || res.Restored != 2 || len(res.Accounts) != 1 {
		t.Fatalf("restore to the original place: %+v %v", res, err)
	}
	if again, _ := tn.FindMessages(simtest.Alice, "Invoice 0005"); len(again) != 1 || again[0].IsDraft {
		t.Errorf("the email is not back as it was: %+v", again)
	}
	if _, err := tn.DriveItemByPath(simtest.Alice, "Documents/budget.xlsx"); err != nil {
		t.Errorf("budget.xlsx is not back: %v", err)
	}

	// Everything of the account at the first backup, of every kind.
	all, err := b.Select(ctx, []Selection{{Account: hits[0].Version.Item.Account}})
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[catalog.ItemKind]int{}
	for _, v := range all {
		kinds[v.Item.Kind]++
	}
	if kinds[catalog.KindMail] == 0 || kinds[catalog.KindFile] == 0 {
		t.Errorf("everything of the account: %v", kinds)
	}
}

// TestBackupOutcomes: what the front ends tell apart comes back as
// sentinels.
func TestBackupOutcomes(t *testing.T) {
	svc, _ := simService(t)
	ctx := t.Context()
	_, err := svc.Backup(ctx, BackupRequest{Dir: filepath.Join(t.TempDir(), "unplugged", "backup")})
	if !errors.Is(err, ErrDriveMissing) {
		t.Errorf("missing drive: %v", err)
	}
	var in *InputError
	if _, err := svc.Backup(ctx, BackupRequest{}); !errors.As(err, &in) {
		t.Errorf("no folder: %v", err)
	}
	dir := filepath.Join(t.TempDir(), "b")
	if _, err := svc.InitBackup(ctx, dir, false); err != nil {
		t.Fatal(err)
	}
	// Another computer's config folder: no key for this backup.
	other := testService(t, func(o *Options) { o.Tenant = svc.Options().Tenant })
	var need *NeedRecoveryKeyError
	if _, err := other.OpenBackup(ctx, dir, ""); !errors.As(err, &need) {
		t.Errorf("without this computer's key: %v", err)
	}
	if _, err := svc.Backup(ctx, BackupRequest{Dir: dir, Only: backup.ScopeMail}); err != nil {
		t.Errorf("mail only: %v", err)
	}
}
