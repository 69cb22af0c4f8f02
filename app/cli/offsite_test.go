package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
	"github.com/lifeboat-backup/lifeboat/engine/notify"
	"github.com/lifeboat-backup/lifeboat/engine/s3store"
	"github.com/lifeboat-backup/lifeboat/engine/s3store/s3test"
	"github.com/lifeboat-backup/lifeboat/engine/secret"
	"github.com/lifeboat-backup/lifeboat/engine/service"
)

// keptNotes keeps the notifications a run shows, in place of the desktop.
type keptNotes struct {
	mu   sync.Mutex
	msgs []notify.Message
}

func (k *keptNotes) Notify(_ context.Context, m notify.Message) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.msgs = append(k.msgs, m)
	return nil
}

// TestOffsiteCommands against a real S3 server (versitygw on loopback):
// setup refuses an unlocked bucket and takes a locked one with the
// secret from the environment, never a flag; the scheduled run copies
// off site; status says when; a fresh computer with only the bucket's
// details and the recovery key restores a file from the off-site copy
// alone, byte for byte; the alarm shows and is acknowledged; the eject
// setting is kept.
func TestOffsiteCommands(t *testing.T) {
	gw := s3test.Start(t)
	f, rk := newOffsiteFixture(t)
	nt := &keptNotes{}
	opts := func(o *service.Options) { o.Notifier = nt }
	setup := func(bucket string) []string {
		return []string{"offsite", "setup", "--provider", "versitygw", "--endpoint", gw.Endpoint, "--region", "us-east-1",
			"--bucket", bucket, "--access-key-id", gw.Access, "--retention-days", "2"}
	}

	t.Setenv(secretEnv, "")
	if code, _, errOut := f.run(t, opts, setup(gw.Bucket(t, true))...); code != exitUsage || !strings.Contains(errOut, secretEnv) {
		t.Fatalf("setup without a secret: exit %d\n%s", code, errOut)
	}
	t.Setenv(secretEnv, gw.Secret)
	code, out, errOut := f.run(t, opts, setup(gw.Bucket(t, false))...)
	if code != exitFailure || !strings.Contains(out, "Object Lock: OFF") || !strings.Contains(out, "Problem: Object Lock is off") {
		t.Fatalf("setup on an unlocked bucket: exit %d\n%s\n%s", code, out, errOut)
	}
	bucket := gw.Bucket(t, true)
	code, out, errOut = f.run(t, opts, setup(bucket)...)
	if code != exitOK || !strings.Contains(out, "Object Lock: on") || !strings.Contains(out, "Saved.") {
		t.Fatalf("setup: exit %d\n%s\n%s", code, out, errOut)
	}
	if b, _ := os.ReadFile(filepath.Join(f.cfg, service.SettingsFile)); bytes.Contains(b, []byte(gw.Secret)) {
		t.Fatal("the secret key is in settings.json")
	}
	t.Setenv(secretEnv, "")
	if code, out, errOut := f.run(t, opts, "offsite", "check"); code != exitOK || !strings.Contains(out, "can take the off-site copy") {
		t.Fatalf("check with the keychain's secret: exit %d\n%s\n%s", code, out, errOut)
	}
	if code, out, _ := f.run(t, opts, "offsite", "status"); code != exitOK || !strings.Contains(out, "Nothing has been copied yet") {
		t.Fatalf("status before a copy: exit %d\n%s", code, out)
	}

	code, out, errOut = f.run(t, opts, "backup", "--scheduled", "--to", f.dir)
	if code != exitOK || !strings.Contains(out, "The off-site copy is up to date") {
		t.Fatalf("scheduled backup: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, _ = f.run(t, opts, "offsite", "status", "--json")
	var st map[string]any
	if code != exitOK || json.Unmarshal([]byte(out), &st) != nil || !strings.HasPrefix(fmt.Sprint(st["lastCopy"]), "20") || st["bucket"] != bucket || st["lastError"] != "" {
		t.Fatalf("status --json: exit %d\n%s", code, out)
	}
	if code, out, _ := f.run(t, opts, "offsite", "status"); code != exitOK || !strings.Contains(out, "Last copy: ") {
		t.Fatalf("status: exit %d\n%s", code, out)
	}
	if code, out, errOut := f.run(t, opts, "offsite", "copy", "--backup", f.dir); code != exitOK || !strings.Contains(out, "0 new backups copied") {
		t.Fatalf("a second copy with nothing new: exit %d\n%s\n%s", code, out, errOut)
	}

	// The alarm: mail thrown into Deleted Items en masse.
	if _, err := f.srv.Tenant().AttackTrashMail(simtest.Alice); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := f.run(t, opts, "backup", "--scheduled", "--to", f.dir); code != exitOK || !strings.Contains(out, "Alarm: ") {
		t.Fatalf("backup after the attack: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, _ = f.run(t, opts, "alarm")
	if code != exitWarnings || !strings.Contains(out, "of Alice's emails were moved to Deleted Items in the last run.") || !strings.Contains(out, "lifeboat restore --at") {
		t.Fatalf("alarm: exit %d\n%s", code, out)
	}
	if code, _, errOut := f.run(t, opts, "prune", "--to", f.dir); code == exitOK || !strings.Contains(errOut, "wipe alarm is open") {
		t.Fatalf("prune while the alarm is open: exit %d\n%s", code, errOut)
	}
	if code, out, _ := f.run(t, opts, "alarm", "ok"); code != exitOK || !strings.Contains(out, "1 alarm(s) closed") {
		t.Fatalf("alarm ok: exit %d\n%s", code, out)
	}
	if code, out, _ := f.run(t, opts, "alarm", "show"); code != exitOK || !strings.Contains(out, "No alarm") {
		t.Fatalf("alarm show after ok: exit %d\n%s", code, out)
	}

	if code, _, _ := f.run(t, opts, "schedule", "eject", "on"); code != exitOK {
		t.Fatal("schedule eject on")
	}
	if s, _ := service.LoadSettings(f.cfg); s.App == nil || !s.App.EjectAfterBackup {
		t.Fatalf("eject setting not saved: %+v", s.App)
	}

	// A fresh computer: its own config folder and keychain, only the
	// bucket's details and the recovery key.
	t.Setenv("LIFEBOAT_CONFIG_DIR", filepath.Join(t.TempDir(), "fresh"))
	t.Setenv(secretEnv, gw.Secret)
	if code, out, errOut := f.run(t, opts, setup(bucket)...); code != exitOK {
		t.Fatalf("setup on the fresh computer: exit %d\n%s\n%s", code, out, errOut)
	}
	dest := filepath.Join(t.TempDir(), "restored")
	if code, _, errOut := f.run(t, opts, "restore", "--offsite", "--to-dir", dest, simtest.Alice+"/files/Documents/budget.xlsx"); code == exitOK {
		t.Fatalf("restored from off site without the recovery key: %s", errOut)
	}
	t.Setenv("LIFEBOAT_RECOVERY_KEY", rk)
	code, out, errOut = f.run(t, opts, "restore", "--offsite", "--to-dir", dest, simtest.Alice+"/files/Documents/budget.xlsx")
	if code != exitOK {
		t.Fatalf("restore from off site: exit %d\n%s\n%s", code, out, errOut)
	}
	item, _ := f.srv.Tenant().DriveItemByPath(simtest.Alice, "Documents/budget.xlsx")
	var want bytes.Buffer
	want.ReadFrom(item.Content.Open())
	if got, err := os.ReadFile(filepath.Join(dest, "OneDrive", "Documents", "budget.xlsx")); err != nil || !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("budget.xlsx from the off-site copy: %d bytes, %v", len(got), err)
	}
	// As the bucket was an hour ago: empty, so nothing to open.
	if code, _, _ := f.run(t, opts, "ls", "--offsite", "--as-of", time.Now().Add(-time.Hour).Format(time.RFC3339)); code == exitOK {
		t.Fatal("the bucket as of an hour ago, when it was empty, opened")
	}
	if code, out, errOut := f.run(t, opts, "ls", "--offsite", "--as-of", time.Now().Add(time.Minute).Format(time.RFC3339)); code != exitOK || !strings.Contains(out, simtest.Alice) {
		t.Fatalf("ls of the bucket as of now: exit %d\n%s\n%s", code, out, errOut)
	}
}

// newOffsiteFixture is newSchedFixture that keeps the recovery key.
func newOffsiteFixture(t *testing.T) (schedFixture, string) {
	t.Helper()
	srv, profile, cfg := loginEnv(t, m365sim.Options{AutoApprove: 10 * time.Millisecond})
	t.Setenv("LIFEBOAT_RECOVERY_KEY", "")
	t.Setenv("LIFEBOAT_REPO", "")
	t.Setenv("LIFEBOAT_SECRET_STORE", "file")
	if code, out, errOut := lifeboat(t, t.Context(), "--tenant-profile", profile, "login"); code != exitOK {
		t.Fatalf("login: exit %d\n%s\n%s", code, out, errOut)
	}
	dir, rk := initRepo(t)
	return schedFixture{srv: srv, profile: profile, cfg: cfg, dir: dir}, rk
}

// TestOffsiteSecretInTheSystemKeychain: with the system keychain (the
// default), `offsite setup` keeps the secret key there and nowhere in the
// config folder, and `offsite check` finds it there.
func TestOffsiteSecretInTheSystemKeychain(t *testing.T) {
	if runtime.GOOS == "linux" && os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		t.Fatal("no D-Bus session: run with the real keychain, e.g. `bash installer/test-session.sh go test ./app/cli` (as `make test` does)")
	}
	gw := s3test.Start(t)
	_, profile, cfg := loginEnv(t, m365sim.Options{})
	bucket := gw.Bucket(t, true)
	account := s3store.KeychainAccount(gw.Endpoint, bucket, gw.Access)
	t.Cleanup(func() { _ = s3store.DeleteCredentials(secret.OS{}, account) })
	t.Setenv(secretEnv, gw.Secret)
	code, out, errOut := lifeboat(t, t.Context(), "--tenant-profile", profile, "offsite", "setup", "--provider", "versitygw", "--endpoint", gw.Endpoint,
		"--region", "us-east-1", "--bucket", bucket, "--access-key-id", gw.Access)
	if code != exitOK {
		t.Fatalf("setup: exit %d\n%s\n%s", code, out, errOut)
	}
	c, err := s3store.LoadCredentials(secret.OS{}, account)
	if err != nil || c.Secret != gw.Secret {
		t.Fatalf("the system keychain does not hold the secret key: %v", err)
	}
	err = filepath.WalkDir(cfg, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if b, _ := os.ReadFile(p); bytes.Contains(b, []byte(gw.Secret)) {
			t.Errorf("%s holds the secret key", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(secretEnv, "")
	if code, out, errOut := lifeboat(t, t.Context(), "--tenant-profile", profile, "offsite", "check"); code != exitOK {
		t.Fatalf("check: exit %d\n%s\n%s", code, out, errOut)
	}
}
