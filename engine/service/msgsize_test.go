package service

import (
	"bytes"
	"encoding/base64"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
	"github.com/lifeboat-backup/lifeboat/engine/restore"
)

// TestRestoreEmailOverTheSizeLimit: an email with a 36 MB attachment is
// backed up; putting it back into the mailbox, past Microsoft 365's
// default 35 MB limit, is announced by the plan, refused by Outlook and
// explained in a sentence, with no half-made copy left; once the limit is
// raised it goes back (through an upload session: more than 3 MB), and on
// disk it is restored byte for byte.
func TestRestoreEmailOverTheSizeLimit(t *testing.T) {
	svc, srv := simService(t)
	ctx := t.Context()
	tn := srv.Tenant()
	big := make([]byte, 36<<20)
	rnd := rand.New(rand.NewPCG(36, 36))
	for i := range big {
		big[i] = byte(rnd.Uint32())
	}
	var mime bytes.Buffer
	mime.WriteString("From: Bob Books <bob@contoso.test>\r\nTo: Alice Archer <" + simtest.Alice + ">\r\nSubject: Scans of the year\r\n" +
		"Date: Wed, 06 May 2026 08:30:00 +0000\r\nMessage-ID: <scans@contoso.test>\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nAll of them.\r\n" +
		"--b\r\nContent-Type: application/zip; name=\"scans.zip\"\r\nContent-Disposition: attachment; filename=\"scans.zip\"\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	enc := base64.StdEncoding.EncodeToString(big)
	for len(enc) > 76 {
		mime.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	mime.WriteString(enc + "\r\n--b--\r\n")
	if _, err := tn.AddMessage(simtest.Alice, "inbox", mime.Bytes(), m365sim.MessageOptions{}); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "backup")
	if _, err := svc.InitBackup(ctx, dir, true); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Backup(ctx, BackupRequest{Dir: dir}); err != nil {
		t.Fatalf("backup: %v", err)
	}
	b, err := svc.OpenBrowser(ctx, dir, "")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	hits, err := b.Find(ctx, FindRequest{Text: "Scans of the year", Kind: catalog.KindMail})
	if err != nil || len(hits) != 1 {
		t.Fatalf("find: %d %v", len(hits), err)
	}
	items, err := b.Select(ctx, []Selection{{Version: hits[0].Version.ID}})
	if err != nil {
		t.Fatal(err)
	}
	toMailbox := func() RestoreOutcome {
		t.Helper()
		pl, err := b.PlanRestore(ctx, RestoreRequest{Items: items, To: ToNewFolder})
		if err != nil {
			t.Fatal(err)
		}
		defer pl.Close()
		if n := pl.Groups[0].Plan.Notes; len(n) != 1 || !strings.Contains(n[0], "more than the 35 MB Microsoft 365 accepts") {
			t.Fatalf("plan notes: %q", n)
		}
		res, err := b.RunRestore(ctx, pl, RestoreEvents{})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	res := toMailbox()
	var tl *restore.TooLargeError
	if len(res.Failures) != 1 || !errors.As(res.Failures[0].Err, &tl) ||
		!strings.Contains(res.Failures[0].Err.Error(), "is larger than this mailbox accepts for one email") {
		t.Fatalf("restore past the limit: %+v", res)
	}
	t.Logf("the owner reads: %v", res.Failures[0].Err)
	// The half-made copy was deleted (DELETE moves it to Deleted Items).
	del, err := tn.EnsureFolderPath(simtest.Alice, "Deleted Items")
	if err != nil {
		t.Fatal(err)
	}
	live := func() []m365sim.Message {
		got, _ := tn.FindMessages(simtest.Alice, "Scans of the year")
		return slices.DeleteFunc(got, func(m m365sim.Message) bool { return m.FolderID == del.ID })
	}
	if got := live(); len(got) != 1 {
		t.Fatalf("%d copies outside Deleted Items after the refused restore", len(got))
	}

	tn.SetMessageSizeLimit(150 << 20) // the administrator raised it
	if res := toMailbox(); res.Restored != 1 || len(res.Failures) != 0 {
		t.Fatalf("restore with the limit raised: %+v", res)
	}
	got := live()
	restored := false
	for _, m := range got {
		for _, a := range m.Attachments {
			restored = restored || bytes.Equal(a.Content, big)
		}
	}
	if len(got) != 2 || !restored {
		t.Fatalf("the restored email: %d copies, attachment back %v", len(got), restored)
	}

	out := filepath.Join(t.TempDir(), "out")
	pl, err := b.PlanRestore(ctx, RestoreRequest{Items: items, To: ToDir, Dir: out})
	if err != nil {
		t.Fatal(err)
	}
	if len(pl.Groups[0].Plan.Notes) != 0 {
		t.Errorf("a note about the mailbox's limit for a restore to disk: %q", pl.Groups[0].Plan.Notes)
	}
	if res, err := b.RunRestore(ctx, pl, RestoreEvents{}); err != nil || res.Restored != 1 {
		t.Fatalf("restore to disk: %+v %v", res, err)
	}
	pl.Close()
	if disk, err := os.ReadFile(filepath.Join(out, "Mail", "Inbox", "Scans of the year.eml")); err != nil || !bytes.Equal(disk, mime.Bytes()) {
		t.Fatalf("the email on disk: %v", err)
	}
}
