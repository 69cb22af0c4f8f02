package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
)

// TestRestoreCommands backs up the simulated tenant through the CLI,
// deletes a message and a file, finds them with find --deleted, looks at
// their versions, dry-runs and runs restores to a folder and to the
// original place, and lists folders as of a time.
func TestRestoreCommands(t *testing.T) {
	srv, profile, _ := loginEnv(t, m365sim.Options{AutoApprove: 10 * time.Millisecond})
	t.Setenv("LIFEBOAT_RECOVERY_KEY", "")
	t.Setenv("LIFEBOAT_REPO", "")
	ctx := t.Context()
	tn := srv.Tenant()
	cli := func(want int, args ...string) string {
		t.Helper()
		args = append([]string{"--tenant-profile", profile}, args...)
		code, out, errOut := lifeboat(t, ctx, args...)
		if code != want {
			t.Fatalf("lifeboat %s: exit %d, want %d\n%s\n%s", strings.Join(args, " "), code, want, out, errOut)
		}
		return out
	}
	cli(exitOK, "login", "--secret-store", "file")
	dir, _ := initRepo(t, "--secret-store", "file")
	repoFlags := []string{"--to", dir, "--secret-store", "file"}
	with := func(args ...string) []string { return append(args, repoFlags...) }
	cli(exitOK, with("backup")...)
	firstBackup := time.Now()

	if out := cli(exitOK, with("ls")...); !strings.Contains(out, simtest.Alice+"/") {
		t.Errorf("ls:\n%s", out)
	}
	out := cli(exitOK, with("ls", simtest.Alice+"/mail/Inbox")...)
	if !strings.Contains(out, simtest.Alice+"/mail/Inbox/Invoices/") || !strings.Contains(out, "Invoice 0001 for March") {
		t.Errorf("ls Inbox:\n%s", out)
	}

	// Paul deletes an invoice and the budget.
	msgs, _ := tn.FindMessages(simtest.Alice, "Invoice 0005")
	orig := msgs[0]
	budget, _ := tn.DriveItemByPath(simtest.Alice, "Documents/budget.xlsx")
	budgetBytes := readAll(t, budget.Content)
	if err := tn.DeleteMessage(simtest.Alice, orig.ID); err != nil {
		t.Fatal(err)
	}
	if err := tn.DeleteDriveItem(simtest.Alice, budget.ID); err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Millisecond)
	cli(exitOK, with("backup")...)

	var hit struct {
		Item    string    `json:"item"`
		Name    string    `json:"name"`
		Deleted time.Time `json:"deleted"`
	}
	out = cli(exitOK, with("find", "invoice", "0005", "--deleted", "--json")...)
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 1 || json.Unmarshal([]byte(lines[0]), &hit) != nil || hit.Deleted.IsZero() {
		t.Fatalf("find --deleted:\n%s", out)
	}
	mailItem := hit.Item
	out = cli(exitOK, with("find", "--deleted", "--files")...)
	fields := strings.Fields(out)
	if len(fields) == 0 || !strings.Contains(out, "budget.xlsx") || !strings.Contains(out, "deleted by") {
		t.Fatalf("find --deleted --files:\n%s", out)
	}
	fileItem := fields[0]
	if out := cli(exitOK, with("find", "invoice", "0005")...); !strings.Contains(out, mailItem) {
		t.Errorf("find without --deleted:\n%s", out)
	}
	if out := cli(exitOK, with("versions", fileItem)...); !strings.Contains(out, "1 versions") || !strings.Contains(out, fileItem) {
		t.Errorf("versions:\n%s", out)
	}

	// To a folder on this computer: a dry run first, changing nothing.
	local := filepath.Join(t.TempDir(), "restored")
	out = cli(exitOK, with("restore", mailItem, fileItem, "--to-dir", local, "--dry-run")...)
	if !strings.Contains(out, "Dry run") || strings.Count(out, "\n  create ") != 2 {
		t.Errorf("dry run:\n%s", out)
	}
	if ents, _ := os.ReadDir(local); len(ents) != 0 {
		t.Errorf("the dry run wrote %v", ents)
	}
	cli(exitOK, with("restore", mailItem, fileItem, "--to-dir", local)...)
	if b, err := os.ReadFile(filepath.Join(local, "Mail", "Inbox", "Invoices", "Invoice 0005 for March.eml")); err != nil || !bytes.Equal(b, orig.MIME) {
		t.Errorf("restored .eml: %v", err)
	}
	fp := filepath.Join(local, "OneDrive", "Documents", "budget.xlsx")
	if b, err := os.ReadFile(fp); err != nil || !bytes.Equal(b, budgetBytes) {
		t.Errorf("restored file: %v", err)
	}
	if fi, err := os.Stat(fp); err != nil || !fi.ModTime().Equal(budget.FSModified) {
		t.Errorf("restored file's time: %v", err)
	}
	// Again: kept both.
	out = cli(exitOK, with("restore", fileItem, "--to-dir", local, "--json")...)
	if !strings.Contains(out, `"action":"rename"`) || !strings.Contains(out, `"event":"result"`) {
		t.Errorf("second restore:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(local, "OneDrive", "Documents", "budget (1).xlsx")); err != nil {
		t.Error(err)
	}

	// Back where they were, through Graph.
	cli(exitOK, with("restore", mailItem, fileItem, "--to-original")...)
	back, _ := tn.FindMessages(simtest.Alice, "Invoice 0005")
	if len(back) != 1 || back[0].IsDraft || !back[0].Header.Received.Equal(orig.Header.Received) {
		t.Errorf("restored message: %+v", back)
	}
	if it, err := tn.DriveItemByPath(simtest.Alice, "Documents/budget.xlsx"); err != nil || !bytes.Equal(readAll(t, it.Content), budgetBytes) {
		t.Errorf("restored file in OneDrive: %v", err)
	}

	// A folder as of the first backup, when the budget still existed.
	asOf := filepath.Join(t.TempDir(), "asof")
	cli(exitOK, with("restore", simtest.Alice+"/files/Documents", "--to-dir", asOf, "--at", firstBackup.Format(time.RFC3339Nano))...)
	for _, p := range []string{"OneDrive/Documents/budget.xlsx", "OneDrive/Documents/Notes/todo.txt"} {
		if _, err := os.Stat(filepath.Join(asOf, filepath.FromSlash(p))); err != nil {
			t.Errorf("as of the first backup: %v", err)
		}
	}
	if out := cli(exitOK, with("ls", simtest.Alice+"/files/Documents", "--at", firstBackup.Format(time.RFC3339Nano))...); !strings.Contains(out, "budget.xlsx") {
		t.Errorf("ls --at:\n%s", out)
	}

	// Everything of an account by its address, naming the backup with
	// --backup: mail and files, without listing both. A quick restore
	// ends with its result, never with "0/N items" just before it.
	whole := filepath.Join(t.TempDir(), "alice")
	out = cli(exitOK, "restore", simtest.Alice, "--to-dir", whole, "--backup", dir, "--secret-store", "file")
	for _, p := range []string{"Mail/Inbox/Invoice 0001 for March.eml", "Mail/Inbox/Invoices/Invoice 0010 for March.eml", "OneDrive/Documents/Notes/todo.txt"} {
		if _, err := os.Stat(filepath.Join(whole, filepath.FromSlash(p))); err != nil {
			t.Errorf("restore ACCOUNT: %v\n%s", err, out)
		}
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if last := lines[len(lines)-1]; !strings.HasPrefix(last, "Restored ") || strings.Contains(out, " 0/") {
		t.Errorf("restore ACCOUNT said:\n%s", out)
	}
	everyone := filepath.Join(t.TempDir(), "everyone")
	out = cli(exitOK, "restore", "--all", "--to-dir", everyone, "--backup", dir, "--secret-store", "file")
	if _, err := os.Stat(filepath.Join(everyone, "OneDrive", "Documents", "Notes", "todo.txt")); err != nil || !strings.Contains(out, "Restored ") {
		t.Errorf("restore --all: %v\n%s", err, out)
	}
	if n, m := countFiles(t, whole), countFiles(t, everyone); n == 0 || n != m {
		t.Errorf("restore ACCOUNT wrote %d files, --all %d (one account in this backup)", n, m)
	}

	// Mistakes in the command line.
	cli(exitUsage, with("restore", mailItem)...)
	cli(exitUsage, with("restore", mailItem, "--to-dir", local, "--to-original")...)
	cli(exitUsage, with("restore", "v999999", "--to-dir", local)...)
	cli(exitUsage, with("restore", mailItem, "--to-dir", local, "--conflict", "merge")...)
	cli(exitUsage, with("find")...)
	cli(exitUsage, with("ls", "nobody@contoso.test/mail")...)
	cli(exitUsage, with("restore", "--to-dir", local)...)
	cli(exitUsage, with("restore", "nobody@contoso.test", "--to-dir", local)...)
}

func countFiles(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			n++
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func readAll(t *testing.T, c m365sim.Content) []byte {
	t.Helper()
	var b bytes.Buffer
	if _, err := b.ReadFrom(c.Open()); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
