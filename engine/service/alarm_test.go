package service

import (
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
	"github.com/lifeboat-backup/lifeboat/engine/notify"
	"github.com/lifeboat-backup/lifeboat/engine/repo"
)

// TestAlarmAfterABackup: mail thrown into Deleted Items en masse fires
// the alarm after the backup that sees it: an OS notification, the plain
// sentence and the backup from before it for the dashboard, and pruning
// held until the owner acknowledges.
func TestAlarmAfterABackup(t *testing.T) {
	rec := &recordingNotifier{}
	svc, srv := simService(t)
	svc.o.Notifier = rec
	ctx := t.Context()
	dir := filepath.Join(t.TempDir(), "backup")
	if _, err := svc.InitBackup(ctx, dir, true); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var notes []string
	ev := BackupEvents{Note: func(s string) { mu.Lock(); notes = append(notes, s); mu.Unlock() }}
	for range 2 { // the first backup, then an ordinary one
		if _, err := svc.Backup(ctx, BackupRequest{Dir: dir, Events: ev}); err != nil {
			t.Fatal(err)
		}
	}
	if al, err := svc.Alerts(); err != nil || len(al) != 0 {
		t.Fatalf("alerts after ordinary runs: %+v %v", al, err)
	}
	r, err := svc.OpenBackup(ctx, dir, "")
	if err != nil {
		t.Fatal(err)
	}
	before, _ := r.ListSnapshots(ctx)
	r.Close()
	if _, err := srv.Tenant().AttackTrashMail(simtest.Alice); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Backup(ctx, BackupRequest{Dir: dir, Events: ev}); err != nil {
		t.Fatal(err)
	}
	al, err := svc.Alerts()
	if err != nil || len(al) != 1 {
		t.Fatalf("alerts after the attack: %+v %v", al, err)
	}
	a := al[0]
	if !strings.Contains(a.Text(), "of Alice's emails were moved to Deleted Items in the last run.") || !strings.Contains(a.Advice, "restore wizard") {
		t.Errorf("alert text %q", a.Text())
	}
	newestMail := before[0].Time
	for _, sn := range before {
		if sn.Kind == "mail" && sn.Time.After(newestMail) {
			newestMail = sn.Time
		}
	}
	if a.BeforeSnapshots["mail"].IsZero() || a.Before.Before(newestMail) {
		t.Errorf("restore offered %v (%+v), want the mail backup of %v", a.Before, a.BeforeSnapshots, newestMail)
	}
	if got := rec.titles(); len(got) != 1 || rec.msgs[0].Urgency != notify.Critical {
		t.Errorf("notifications %q", got)
	}
	if !strings.Contains(strings.Join(notes, "\n"), "Alarm: ") {
		t.Errorf("notes %q", notes)
	}

	r, err = svc.OpenBackup(ctx, dir, "")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := svc.Prune(ctx, r, PruneRequest{Policy: repo.Policy{KeepDaily: 1}}); !errors.Is(err, ErrPruneHeld) {
		t.Fatalf("prune while the alarm is open: %v, want ErrPruneHeld", err)
	}
	if after, _ := r.ListSnapshots(ctx); len(after) <= len(before) {
		t.Fatalf("snapshots forgotten while held: %d, before the attack %d", len(after), len(before))
	}
	if n, err := svc.AcknowledgeAlert(""); err != nil || n != 1 {
		t.Fatalf("acknowledge: %d %v", n, err)
	}
	if _, err := svc.Prune(ctx, r, PruneRequest{Policy: repo.Policy{KeepDaily: 1}}); err != nil {
		t.Fatalf("prune after acknowledging: %v", err)
	}
}

// TestEjectAfterScheduledBackup: with the setting on, the scheduled run
// tries to eject the drive after the backup and says what happened (a
// temporary folder is not a drive that can be ejected); off, it does not.
func TestEjectAfterScheduledBackup(t *testing.T) {
	svc, _ := simService(t)
	ctx := t.Context()
	if _, err := svc.InitBackup(ctx, filepath.Join(t.TempDir(), "backup"), true); err != nil {
		t.Fatal(err)
	}
	run := func() string {
		var mu sync.Mutex
		var notes []string
		ev := BackupEvents{Note: func(s string) { mu.Lock(); notes = append(notes, s); mu.Unlock() }}
		if err := svc.ScheduledBackup(ctx, ScheduledRequest{Events: ev}); err != nil {
			t.Fatal(err)
		}
		return strings.Join(notes, "\n")
	}
	if n := run(); strings.Contains(n, "eject") {
		t.Errorf("ejected with the setting off: %q", n)
	}
	if err := svc.SetEjectAfterBackup(true); err != nil || !svc.EjectAfterBackup() {
		t.Fatal(err)
	}
	if n := run(); !strings.Contains(n, "eject") {
		t.Errorf("notes %q, want what became of ejecting the drive", n)
	}
}
