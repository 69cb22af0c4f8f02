package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/app/apptest"
	"github.com/lifeboat-backup/lifeboat/engine/backup"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
)

type syncBuffer = apptest.SyncBuffer

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb syncBuffer
	code := run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestVersion(t *testing.T) {
	code, out, _ := runCLI(t, "--version")
	if code != exitOK || strings.TrimSpace(out) != "lifeboat "+version {
		t.Fatalf("--version: exit %d, %q", code, out)
	}
}

func TestUsageErrorsExitTwo(t *testing.T) {
	profile := filepath.Join(t.TempDir(), "p.json")
	for _, args := range [][]string{
		{"--no-such-flag"},
		{"no-such-command"},
		{"sim", "serve"},
		{"sim", "serve", "--profile-out", profile, "--throttle", "sometimes"},
		{"sim", "serve", "--profile-out", profile, "--faults", "429=7"},
		{"sim", "serve", "--profile-out", profile, "--demo", "--import", "x"},
		{"sim", "delete-mail", "--user", "a@b.c", "--subject", "x"},
		{"sim", "add-mail", "--user", "a@b.c"},
	} {
		code, _, stderr := runCLI(t, args...)
		if code != exitUsage {
			t.Errorf("%v: exit %d, want %d (stderr %q)", args, code, exitUsage, stderr)
		}
		if !strings.HasPrefix(stderr, "lifeboat: ") {
			t.Errorf("%v: stderr %q does not say what is wrong", args, stderr)
		}
	}
	if _, err := os.Stat(profile); err == nil {
		t.Error("a refused serve wrote a profile")
	}
}

// seedDir writes a tiny import folder.
func seedDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	mail := filepath.Join(dir, "users", simtest.Alice, "mail", "Inbox", "Invoices")
	if err := os.MkdirAll(mail, 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := os.WriteFile(filepath.Join(mail, "m"+string(rune('a'+i))+".eml"), simtest.MIMEMessage(i), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	od := filepath.Join(dir, "users", simtest.Alice, "onedrive", "Documents")
	if err := os.MkdirAll(od, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(od, "budget.xlsx"), []byte("numbers"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestSimServeWritesProfileAndObeysControlCommands(t *testing.T) {
	profile := filepath.Join(t.TempDir(), "tenant.json")
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"sim", "serve", "--import", seedDir(t), "--profile-out", profile}, &out, &errb)
	}()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(out.String(), "Press Ctrl-C") {
		if time.Now().After(deadline) {
			t.Fatalf("sim serve did not start: %q %q", out.String(), errb.String())
		}
		select {
		case code := <-done:
			t.Fatalf("sim serve exited %d: %s", code, errb.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	st, err := os.Stat(profile)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("profile mode %v, want 0600 (it holds the control token)", st.Mode().Perm())
	}

	sim := func(args ...string) string {
		t.Helper()
		code, o, e := runCLI(t, append([]string{"--tenant-profile", profile, "sim"}, args...)...)
		if code != exitOK {
			t.Fatalf("sim %v: exit %d: %s", args, code, e)
		}
		return o
	}
	status := sim("status")
	if !strings.Contains(status, simtest.Alice) || !strings.Contains(status, "3 emails") || !strings.Contains(status, "1 files") {
		t.Fatalf("status:\n%s", status)
	}
	if o := sim("delete-mail", "--user", simtest.Alice, "--subject", "Invoice 0001"); !strings.Contains(o, "deleted 1 message") {
		t.Errorf("delete-mail said %q", o)
	}
	eml := filepath.Join(t.TempDir(), "new.eml")
	if err := os.WriteFile(eml, simtest.MIMEMessage(77), 0o644); err != nil {
		t.Fatal(err)
	}
	sim("add-mail", "--user", simtest.Alice, "--folder", "Inbox/Suppliers", eml)
	sim("move-mail", "--user", simtest.Alice, "--subject", "Invoice 0077", "--to", "Archive/2026")
	sim("edit-mail", "--user", simtest.Alice, "--subject", "Invoice 0002", "--read", "--flag", "flagged", "--category", "Red")
	local := filepath.Join(t.TempDir(), "plan.txt")
	if err := os.WriteFile(local, []byte("the plan"), 0o644); err != nil {
		t.Fatal(err)
	}
	sim("put-file", "--user", simtest.Alice, "--path", "Plans/plan.txt", "--modified", "2026-01-02T03:04:05Z", local)
	sim("move-file", "--user", simtest.Alice, "--path", "Plans/plan.txt", "--name", "plan-v2.txt")
	sim("delete-file", "--user", simtest.Alice, "--path", "Documents/budget.xlsx")
	sim("expire-delta")
	status = sim("status")
	if !strings.Contains(status, "3 emails") || !strings.Contains(status, "1 files") {
		t.Errorf("after the changes:\n%s", status)
	}
	if reqs := sim("requests"); strings.TrimSpace(reqs) == "" {
		t.Error("requests printed nothing")
	}

	// A mistake in a control command is reported, not crashed on.
	code, _, e := runCLI(t, "--tenant-profile", profile, "sim", "delete-mail", "--user", simtest.Alice, "--subject", "no such subject")
	if code != exitFailure || !strings.Contains(e, "no message") {
		t.Errorf("deleting a missing message: exit %d %q", code, e)
	}
	code, _, e = runCLI(t, "--tenant-profile", profile, "sim", "edit-mail", "--user", simtest.Alice, "--subject", "Invoice", "--flag", "purple")
	if code != exitFailure || !strings.Contains(e, "flag status") {
		t.Errorf("bad flag: exit %d %q", code, e)
	}

	cancel()
	select {
	case code := <-done:
		if code != exitOK {
			t.Fatalf("sim serve exit %d after Ctrl-C: %s", code, errb.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("sim serve did not stop on cancel")
	}
	code, _, e = runCLI(t, "--tenant-profile", profile, "sim", "status")
	if code != exitFailure || !strings.Contains(e, "still running") {
		t.Errorf("status after stop: exit %d %q", code, e)
	}
}

// TestProgressLines: a line of progress never says more is done than the
// total; a total the work outgrew is left out.
func TestProgressLines(t *testing.T) {
	for _, c := range []struct{ p backup.Progress }{
		{backup.Progress{Account: "a@b.c", Phase: backup.PhaseMail, ItemsDone: 12, ItemsTotal: 143, BytesDone: 1500}},
		{backup.Progress{Account: "a@b.c", Phase: backup.PhaseMail, ItemsDone: 156, ItemsTotal: 143}},
		{backup.Progress{Account: "a@b.c", Phase: backup.PhaseMail, ItemsDone: 156}},
	} {
		got := progressLine(c.p, true)
		if c.p.ItemsDone > c.p.ItemsTotal && strings.Contains(got, "/") {
			t.Errorf("%+v: %q shows a total below what is done", c.p, got)
		}
		if c.p.ItemsTotal >= c.p.ItemsDone && !strings.Contains(got, "12/143 items") {
			t.Errorf("%+v: %q lacks the count", c.p, got)
		}
	}
	if got := counted(3, 2); got != "3" {
		t.Errorf("counted(3, 2) = %q", got)
	}
}
