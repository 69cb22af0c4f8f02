package gui

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/lifeboat-backup/lifeboat/engine/auth"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
	"github.com/lifeboat-backup/lifeboat/engine/s3store/s3test"
	"github.com/lifeboat-backup/lifeboat/ui"
)

// TestGUIOffsiteCopyAndAlarm drives the real wiring against the simulator
// and a real S3 server (versitygw): the off-site screen checks and saves a
// locked bucket, Back up now copies off site and the dashboard shows both
// copies; mail thrown away en masse raises the alarm on the dashboard, and
// "I have looked" closes it in the application layer.
func TestGUIOffsiteCopyAndAlarm(t *testing.T) {
	gw := s3test.Start(t)
	e, srv, cfg, _ := testGUIEnv(t, m365sim.Options{AutoApprove: 10 * time.Millisecond})
	ctx := t.Context()
	if _, err := e.svc.SignIn(ctx, func(auth.Event) {}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.InitBackup(ctx, t.TempDir()+"/backup", true); err != nil {
		t.Fatal(err)
	}
	shell, q, _ := newTestShell(t, e, cfg+"/logs", ui.SetupDone)
	v := shell.Settings.Offsite
	if v == nil {
		t.Fatal("Settings has no off-site screen")
	}
	v.Provider.SetSelected("Other S3-compatible service")
	v.Endpoint.SetText(gw.Endpoint)
	v.Region.SetText("us-east-1")
	v.Bucket.SetText(gw.Bucket(t, false))
	v.AccessKey.SetText(gw.Access)
	v.Secret.SetText(gw.Secret)
	test.Tap(v.Check)
	q.waitFor(t, "the check", func() bool { return strings.Contains(v.Result.Text, "cannot take the off-site copy") })
	if !strings.Contains(v.Result.Text, "Object Lock is off") {
		t.Fatalf("check of an unlocked bucket: %q", v.Result.Text)
	}
	v.Bucket.SetText(gw.Bucket(t, true))
	test.Tap(v.Save)
	q.waitFor(t, "saving", func() bool { return strings.Contains(v.Result.Text, "All set") })
	if st, err := e.svc.OffsiteStatus(); err != nil || !st.Configured {
		t.Fatalf("not saved: %+v %v", st, err)
	}

	db := shell.Dashboard
	backUp := func() {
		t.Helper()
		test.Tap(db.BackUpNow)
		q.waitFor(t, "the backup to start", func() bool { return shell.Progress.Running() })
		q.waitFor(t, "the backup to end", func() bool { return !shell.Progress.Running() && !db.BackUpNow.Disabled() })
		db.Refresh()
	}
	backUp()
	q.waitFor(t, "both copies", func() bool { return strings.Contains(db.Details.Text, "· Off site: today at ") })
	if !strings.Contains(db.Details.Text, "On the backup drive: today at ") {
		t.Fatalf("details %q", db.Details.Text)
	}
	if st, _ := e.svc.OffsiteStatus(); st.LastCopy.IsZero() {
		t.Fatal("Back up now did not copy off site")
	}

	if _, err := srv.Tenant().AttackTrashMail(simtest.Alice); err != nil {
		t.Fatal(err)
	}
	backUp()
	q.waitFor(t, "the alarm", func() bool { return db.Alerts.Content().Visible() })
	if !strings.Contains(db.Alerts.Text.Text, "of Alice's emails were moved to Deleted Items in the last run.") || db.Verdict() != ui.VerdictAttention {
		t.Fatalf("alarm %q, verdict %v", db.Alerts.Text.Text, db.Verdict())
	}
	test.Tap(db.Alerts.OK)
	q.waitFor(t, "the alarm to close", func() bool { return !db.Alerts.Content().Visible() })
	if al, err := e.svc.Alerts(); err != nil || len(al) != 0 {
		t.Fatalf("alerts left: %+v %v", al, err)
	}
}
