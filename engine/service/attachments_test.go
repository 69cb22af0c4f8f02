package service

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
)

// forwardAsAttachment is an email that forwards another one whole
// (message/rfc822, Outlook's "Forward as attachment"), the inner one with
// a PDF of its own.
func forwardAsAttachment() (outer, inner []byte) {
	inner = []byte("From: Carol Supplier <carol@supplier.test>\r\nTo: Alice Archer <" + simtest.Alice + ">\r\n" +
		"Subject: Invoice 4711 for May\r\nDate: Tue, 05 May 2026 10:00:00 +0000\r\nMessage-ID: <inv4711@supplier.test>\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"in\"\r\n\r\n--in\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nPlease find the invoice attached.\r\n" +
		"--in\r\nContent-Type: application/pdf; name=\"4711.pdf\"\r\nContent-Disposition: attachment; filename=\"4711.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		"JVBERi0xLjQgaW52b2ljZSA0NzEx\r\n--in--\r\n")
	outer = []byte("From: Bob Books <bob@contoso.test>\r\nTo: Alice Archer <" + simtest.Alice + ">\r\nSubject: Fw: the supplier's invoice\r\n" +
		"Date: Wed, 06 May 2026 08:30:00 +0000\r\nMessage-ID: <fw4711@contoso.test>\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"out\"\r\n\r\n--out\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nCan you pay this one?\r\n" +
		"--out\r\nContent-Type: message/rfc822; name=\"Invoice 4711 for May.eml\"\r\nContent-Disposition: attachment; filename=\"Invoice 4711 for May.eml\"\r\n\r\n")
	outer = append(append(outer, inner...), "\r\n--out--\r\n"...)
	return outer, inner
}

// TestItemAndLinkAttachmentsRoundTrip: an email with an attached email
// and a link to a OneDrive file is backed up (the attached email inside
// the MIME, the link's name from the attachments list), previewed with
// both, restored to disk byte for byte and to the mailbox with the
// attached email whole; the restore says, in a sentence, that the link
// could not be put back.
func TestItemAndLinkAttachmentsRoundTrip(t *testing.T) {
	svc, srv := simService(t)
	ctx := t.Context()
	tn := srv.Tenant()
	outer, inner := forwardAsAttachment()
	m, err := tn.AddMessage(simtest.Alice, "inbox", outer, m365sim.MessageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tn.AddReferenceAttachment(simtest.Alice, m.ID, m365sim.ReferenceAttachment{Name: "Payment plan.xlsx",
		SourceURL: "https://contoso-my.sharepoint.com/personal/alice/Documents/Payment%20plan.xlsx"}); err != nil {
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
	hits, err := b.Find(ctx, FindRequest{Text: "supplier's invoice", Kind: catalog.KindMail})
	if err != nil || len(hits) != 1 {
		t.Fatalf("find: %d %v", len(hits), err)
	}
	v := hits[0].Version

	pv, err := b.Preview(ctx, v.ID)
	if err != nil {
		t.Fatal(err)
	}
	var email, link bool
	for _, a := range pv.Attachments {
		email = email || a.Email && strings.Contains(a.Name, "Invoice 4711 for May") && strings.Contains(a.Name, "attached email")
		link = link || a.Link && strings.HasPrefix(a.Name, "Payment plan.xlsx (a link to a file in OneDrive")
	}
	if !email || !link {
		t.Fatalf("preview attachments: %+v", pv.Attachments)
	}

	items, err := b.Select(ctx, []Selection{{Version: v.ID}})
	if err != nil || len(items) != 1 {
		t.Fatalf("select: %d %v", len(items), err)
	}
	out := filepath.Join(t.TempDir(), "out")
	pl, err := b.PlanRestore(ctx, RestoreRequest{Items: items, To: ToDir, Dir: out})
	if err != nil {
		t.Fatal(err)
	}
	if n := pl.Groups[0].Plan.Notes; len(n) != 1 || !strings.Contains(n[0], `link to the file "Payment plan.xlsx"`) {
		t.Fatalf("plan notes: %q", n)
	}
	if res, err := b.RunRestore(ctx, pl, RestoreEvents{}); err != nil || res.Restored != 1 {
		t.Fatalf("restore to disk: %+v %v", res, err)
	}
	pl.Close()
	got, err := os.ReadFile(filepath.Join(out, "Mail", "Inbox", "Fw_ the supplier's invoice.eml"))
	if err != nil {
		entries, _ := filepath.Glob(filepath.Join(out, "Mail", "Inbox", "*"))
		t.Fatalf("the email on disk: %v (%q)", err, entries)
	}
	if !bytes.Equal(got, outer) {
		t.Fatal("the email on disk differs from the one backed up")
	}

	pl, err = b.PlanRestore(ctx, RestoreRequest{Items: items, To: ToNewFolder})
	if err != nil {
		t.Fatal(err)
	}
	if res, err := b.RunRestore(ctx, pl, RestoreEvents{}); err != nil || res.Restored != 1 {
		t.Fatalf("restore to the mailbox: %+v %v", res, err)
	}
	pl.Close()
	back, err := tn.FindMessages(simtest.Alice, "supplier's invoice")
	if err != nil || len(back) != 2 {
		t.Fatalf("the mailbox after the restore: %d %v", len(back), err)
	}
	var restored m365sim.Message
	for _, c := range back {
		if c.ID != m.ID {
			restored = c
		}
	}
	// Graph v1.0 takes an attached item as JSON only (which would drop its
	// headers and its own attachments), so the restore attaches the
	// backed-up message whole, as an .eml Outlook opens as an email.
	found := false
	for _, a := range restored.Attachments {
		found = found || bytes.Equal(a.Content, inner) && a.ContentType == "message/rfc822" && a.Name == "Invoice 4711 for May.eml"
	}
	if !found {
		t.Fatalf("the attached email is not restored byte for byte: %+v", restored.Attachments)
	}
}
