package service

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
	"github.com/lifeboat-backup/lifeboat/engine/notify"
	"github.com/lifeboat-backup/lifeboat/engine/s3store/s3test"
)

// recordingNotifier keeps the notifications a run shows.
type recordingNotifier struct {
	mu   sync.Mutex
	msgs []notify.Message
}

func (n *recordingNotifier) Notify(_ context.Context, m notify.Message) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.msgs = append(n.msgs, m)
	return nil
}

func (n *recordingNotifier) titles() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []string
	for _, m := range n.msgs {
		out = append(out, m.Title)
	}
	return out
}

// offsiteSetup is the real S3 server's bucket as the owner enters it.
func offsiteSetup(gw *s3test.Server, bucket string) OffsiteSetup {
	o := gw.Options(bucket)
	return OffsiteSetup{OffsiteSettings: OffsiteSettings{Provider: string(o.Provider), Endpoint: o.Endpoint, Region: o.Region,
		Bucket: bucket, AccessKeyID: o.Credentials.AccessKeyID, RetentionDays: 2}, Secret: o.Credentials.Secret}
}

// TestOffsiteSetupRefusesAnUnlockedBucket: a bucket without versioning
// and Object Lock is not saved, with the reasons in plain words; a locked
// one is, with the secret in the keychain and never in settings.json.
func TestOffsiteSetupRefusesAnUnlockedBucket(t *testing.T) {
	gw := s3test.Start(t)
	svc := testService(t, nil)
	ctx := t.Context()
	chk, err := svc.SetupOffsite(ctx, offsiteSetup(gw, gw.Bucket(t, false)))
	if err != nil || chk.OK() || chk.ObjectLock || len(chk.Problems) == 0 {
		t.Fatalf("unlocked bucket: %+v %v", chk, err)
	}
	if st, _ := svc.OffsiteStatus(); st.Configured {
		t.Fatal("a bucket that failed the check was saved")
	}
	setup := offsiteSetup(gw, gw.Bucket(t, true))
	chk, err = svc.SetupOffsite(ctx, setup)
	if err != nil || !chk.OK() || !chk.ObjectLock || !chk.Versioning {
		t.Fatalf("locked bucket: %+v %v", chk, err)
	}
	// The root keys can delete versions: the owner is warned.
	if !strings.Contains(strings.Join(chk.Warnings, " "), "delete old versions") {
		t.Errorf("warnings %q, want the one about deleting versions", chk.Warnings)
	}
	st, err := svc.OffsiteStatus()
	if err != nil || !st.Configured || st.Settings.RetentionDays != 2 || st.Settings.Checked.IsZero() {
		t.Fatalf("status after setup: %+v %v", st, err)
	}
	b, err := os.ReadFile(filepath.Join(svc.ConfigDir(), SettingsFile))
	if err != nil || strings.Contains(string(b), setup.Secret) || !strings.Contains(string(b), setup.Bucket) {
		t.Fatalf("settings.json holds the secret, or not the bucket: %v\n%s", err, b)
	}
	// Checking again needs no secret: it is read from the keychain.
	setup.Secret = ""
	if chk, err := svc.CheckOffsite(ctx, setup); err != nil || !chk.OK() {
		t.Fatalf("check with the keychain's secret: %+v %v", chk, err)
	}
}

// TestScheduledRunCopiesOffsiteAndAFreshComputerRestores: the scheduled
// run copies the new backup off site after the backup, verifies it and
// records when; a fresh computer with only the bucket's details and the
// recovery key restores a file from the off-site copy alone, byte for
// byte.
func TestScheduledRunCopiesOffsiteAndAFreshComputerRestores(t *testing.T) {
	gw := s3test.Start(t)
	svc, srv := simService(t)
	ctx := t.Context()
	dir := filepath.Join(t.TempDir(), "backup")
	nb, err := svc.InitBackup(ctx, dir, true)
	if err != nil {
		t.Fatal(err)
	}
	setup := offsiteSetup(gw, gw.Bucket(t, true))
	if chk, err := svc.SetupOffsite(ctx, setup); err != nil || !chk.OK() {
		t.Fatalf("setup: %+v %v", chk, err)
	}
	var mu sync.Mutex
	var notes []string
	ev := BackupEvents{Note: func(s string) { mu.Lock(); notes = append(notes, s); mu.Unlock() }}
	if err := svc.ScheduledBackup(ctx, ScheduledRequest{Events: ev}); err != nil {
		t.Fatalf("scheduled run: %v (notes %q)", err, notes)
	}
	st, err := svc.OffsiteStatus()
	if err != nil || st.LastCopy.IsZero() || st.Newest.IsZero() || st.LastError != "" || st.LastSnapshots == 0 || st.LastMaintain.IsZero() {
		t.Fatalf("off-site record after the scheduled run: %+v %v (notes %q)", st, err, notes)
	}
	if !strings.Contains(strings.Join(notes, "\n"), "off-site copy is up to date") {
		t.Errorf("notes %q", notes)
	}

	// A fresh computer: another config folder, an empty keychain.
	fresh := testService(t, func(o *Options) { o.Tenant = svc.Options().Tenant })
	if _, err := fresh.OpenOffsiteBrowser(ctx, OffsiteOpen{}); err == nil {
		t.Fatal("opened an off-site copy that was never set up")
	}
	if chk, err := fresh.SetupOffsite(ctx, setup); err != nil || !chk.OK() {
		t.Fatalf("setup on the fresh computer: %+v %v", chk, err)
	}
	var need *NeedRecoveryKeyError
	if _, err := fresh.OpenOffsiteBrowser(ctx, OffsiteOpen{}); !errors.As(err, &need) {
		t.Fatalf("without the recovery key: %v, want NeedRecoveryKeyError", err)
	}
	b, err := fresh.OpenOffsiteBrowser(ctx, OffsiteOpen{RecoveryKey: nb.RecoveryKey})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	hits, err := b.Find(ctx, FindRequest{Text: "budget"})
	if err != nil || len(hits) == 0 {
		t.Fatalf("find budget in the off-site copy: %d %v", len(hits), err)
	}
	items, err := b.Select(ctx, []Selection{{Version: hits[0].Version.ID}})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out")
	pl, err := b.PlanRestore(ctx, RestoreRequest{Items: items, To: ToDir, Dir: out})
	if err != nil {
		t.Fatal(err)
	}
	res, err := b.RunRestore(ctx, pl, RestoreEvents{})
	pl.Close()
	if err != nil || res.Restored != 1 {
		t.Fatalf("restore from the off-site copy: %+v %v", res, err)
	}
	item, _ := srv.Tenant().DriveItemByPath(simtest.Alice, "Documents/budget.xlsx")
	var want bytes.Buffer
	want.ReadFrom(item.Content.Open())
	got, err := os.ReadFile(filepath.Join(out, "OneDrive", "Documents", "budget.xlsx"))
	if err != nil || !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("budget.xlsx restored from off site: %d bytes %v, want the %d bytes of the original", len(got), err, want.Len())
	}

	// As the bucket was before the copy: there was no backup yet.
	if _, err := fresh.OpenOffsiteBrowser(ctx, OffsiteOpen{RecoveryKey: nb.RecoveryKey, AsOf: time.Now().Add(-time.Hour)}); err == nil {
		t.Fatal("the bucket as of an hour ago opened, but it was empty then")
	}
}
