package service

import (
	"errors"
	"strings"
	"testing"

	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
	"github.com/lifeboat-backup/lifeboat/engine/repo"
)

// TestCompanyBackupFiresTheAlarm: in organization mode, as for the people
// signed in on this computer, one person's mail thrown into Deleted Items
// en masse fires the alarm after the run that sees it, naming the person,
// and pruning is held. Without the company run judging each person, no
// alert comes.
func TestCompanyBackupFiresTheAlarm(t *testing.T) {
	tn := companyTenant(t)
	rec := &recordingNotifier{}
	srv, svc, dir := companyOffice(t, tn, func(o *Options) { o.Notifier = rec })
	ctx := t.Context()
	for range 2 { // the first backup, then an ordinary one
		if _, err := svc.Backup(ctx, BackupRequest{Dir: dir}); err != nil {
			t.Fatal(err)
		}
	}
	if al, err := svc.Alerts(); err != nil || len(al) != 0 {
		t.Fatalf("alerts after ordinary runs: %+v %v", al, err)
	}
	if _, err := srv.Tenant().AttackTrashMail(simtest.Alice); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Backup(ctx, BackupRequest{Dir: dir}); err != nil {
		t.Fatal(err)
	}
	al, err := svc.Alerts()
	if err != nil || len(al) != 1 {
		t.Fatalf("alerts after the attack: %+v %v", al, err)
	}
	if !strings.Contains(al[0].Text(), "of Alice's emails were moved to Deleted Items in the last run.") {
		t.Errorf("alert text %q", al[0].Text())
	}
	if got := rec.titles(); len(got) != 1 {
		t.Errorf("notifications %q", got)
	}
	r, err := svc.OpenBackup(ctx, dir, "")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := svc.Prune(ctx, r, PruneRequest{Policy: repo.Policy{KeepDaily: 1}}); !errors.Is(err, ErrPruneHeld) {
		t.Errorf("prune while the alarm is open: %v", err)
	}
}
