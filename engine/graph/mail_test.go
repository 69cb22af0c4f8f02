package graph

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
)

func folderByName(t *testing.T, fs []MailFolder, name string) MailFolder {
	t.Helper()
	for _, f := range fs {
		if f.DisplayName == name {
			return f
		}
	}
	t.Fatalf("no folder %q in %v", name, fs)
	return MailFolder{}
}

func TestMailFoldersAndMessageDelta(t *testing.T) {
	srv := simtest.Start(t, nil, m365sim.Options{})
	tn := srv.Tenant()
	c, rec, _ := newClient(t, srv, simtest.Alice, func(o *Options) { o.MessagePageSize = 7 })
	ctx := ctxT(t)

	me, err := c.GetUser(ctx, "me")
	if err != nil {
		t.Fatal(err)
	}
	if me.UserPrincipalName != simtest.Alice || me.ID == "" {
		t.Fatalf("GetUser = %+v", me)
	}

	folders, err := c.ListMailFolders(ctx, "me")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range folders {
		names = append(names, f.DisplayName)
	}
	for _, want := range []string{"Inbox", "Invoices", "2026", "Drafts", "Sent Items", "Deleted Items", "Junk Email", "Archive", "Outbox"} {
		if !slices.Contains(names, want) {
			t.Errorf("folder %q missing from %v", want, names)
		}
	}
	if len(folders) != 9 {
		t.Errorf("got %d folders %v, want 9", len(folders), names)
	}
	inbox, invoices, y2026 := folderByName(t, folders, "Inbox"), folderByName(t, folders, "Invoices"), folderByName(t, folders, "2026")
	if invoices.ParentID != inbox.ID || y2026.ParentID != invoices.ID {
		t.Errorf("nesting: Invoices.parent=%s (Inbox %s), 2026.parent=%s (Invoices %s)", invoices.ParentID, inbox.ID, y2026.ParentID, invoices.ID)
	}
	if inbox.TotalItemCount != 20 || invoices.TotalItemCount != 5 || inbox.ChildFolderCount != 1 {
		t.Errorf("counts: inbox %+v invoices %+v", inbox, invoices)
	}

	wk, err := c.WellKnownFolders(ctx, "me")
	if err != nil {
		t.Fatal(err)
	}
	if wk[inbox.ID] != "inbox" || wk[folderByName(t, folders, "Archive").ID] != "archive" {
		t.Errorf("WellKnownFolders = %v", wk)
	}

	// Full enumeration of every folder.
	links := map[string]string{}
	total := 0
	for _, f := range folders {
		msgs, link := collectMessages(t, c, "me", f.ID, "")
		links[f.ID] = link
		want, err := tn.Messages(simtest.Alice, f.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) != len(want) {
			t.Errorf("folder %s: %d messages, want %d", f.DisplayName, len(msgs), len(want))
		}
		for _, m := range msgs {
			if m.Removed {
				t.Errorf("folder %s: removed entry %s in a first enumeration", f.DisplayName, m.ID)
			}
			tm, err := tn.Message(simtest.Alice, m.ID)
			if err != nil {
				t.Fatalf("message %s: %v", m.ID, err)
			}
			if m.ParentFolderID != f.ID || m.Subject != tm.Header.Subject || m.IsRead != tm.IsRead ||
				m.InternetMessageID != tm.Header.InternetMessageID || m.ChangeKey != tm.ChangeKey ||
				m.From.Address != "paul@supplier.example" || len(m.To) != 1 || m.Received.IsZero() ||
				m.Importance == "" || m.FlagStatus == "" {
				t.Errorf("message %s: got %+v, tenant %+v", m.ID, m, tm)
			}
		}
		total += len(msgs)
	}
	if !strings.Contains(rec.deltaQuery, "$select=id,parentFolderId,") || rec.deltaPrefer != "odata.maxpagesize=7" {
		t.Errorf("first delta request: query %q, Prefer %q", rec.deltaQuery, rec.deltaPrefer)
	}
	if total != 25 {
		t.Errorf("enumerated %d messages, want 25", total)
	}

	// Changes: add, delete, move, edit.
	inboxMsgs, _ := tn.Messages(simtest.Alice, inbox.ID)
	added, err := tn.AddMessage(simtest.Alice, inbox.ID, simtest.MIMEMessage(500), m365sim.MessageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	deleted, moved := inboxMsgs[0].ID, inboxMsgs[1].ID
	if err := tn.DeleteMessage(simtest.Alice, deleted); err != nil {
		t.Fatal(err)
	}
	if _, err := tn.MoveMessage(simtest.Alice, moved, invoices.ID); err != nil {
		t.Fatal(err)
	}
	invMsgs, _ := tn.Messages(simtest.Alice, invoices.ID)
	var edited string
	for _, m := range invMsgs {
		if m.ID != moved {
			edited = m.ID
			break
		}
	}
	flagged, cats := "flagged", []string{"Red category"}
	if _, err := tn.EditMessage(simtest.Alice, edited, m365sim.MessageEdit{FlagStatus: &flagged, Categories: &cats}); err != nil {
		t.Fatal(err)
	}

	got, newInbox := collectMessages(t, c, "me", inbox.ID, links[inbox.ID])
	byID := map[string]MessageMeta{}
	for _, m := range got {
		byID[m.ID] = m
	}
	if len(got) != 3 || byID[added.ID].Removed || byID[added.ID].Subject != "Invoice 0500 for March" ||
		!byID[deleted].Removed || !byID[moved].Removed {
		t.Errorf("inbox incremental = %+v", got)
	}
	got, _ = collectMessages(t, c, "me", invoices.ID, links[invoices.ID])
	byID = map[string]MessageMeta{}
	for _, m := range got {
		byID[m.ID] = m
	}
	if len(got) != 2 || byID[moved].Removed || byID[moved].ParentFolderID != invoices.ID ||
		byID[edited].FlagStatus != "flagged" || !slices.Equal(byID[edited].Categories, cats) {
		t.Errorf("invoices incremental = %+v", got)
	}
	// And nothing more the next time.
	if got, _ := collectMessages(t, c, "me", inbox.ID, newInbox); len(got) != 0 {
		t.Errorf("second incremental = %+v", got)
	}

	// A forged delta link is a resync.
	_, err = c.MessageDelta(ctx, "me", inbox.ID, srv.GraphURL()+"/me/mailFolders/"+inbox.ID+"/messages/delta()?$deltatoken=bogus", func([]MessageMeta) error { return nil })
	if !errors.Is(err, ErrGone) {
		t.Errorf("bogus delta link: err = %v, want ErrGone", err)
	}
	// A deleted folder is not found.
	_, err = c.MessageDelta(ctx, "me", "AAMkFolderNoSuch", "", func([]MessageMeta) error { return nil })
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("missing folder: err = %v, want ErrNotFound", err)
	}
	// fn's error stops the round and comes back as is.
	stop := errors.New("stop")
	if _, err := c.MessageDelta(ctx, "me", inbox.ID, "", func([]MessageMeta) error { return stop }); err != stop {
		t.Errorf("fn error: got %v", err)
	}
}

func TestOpenMIME(t *testing.T) {
	srv := simtest.Start(t, nil, m365sim.Options{})
	c, rec, _ := newClient(t, srv, simtest.Alice, nil)
	ctx := ctxT(t)
	msgs, err := srv.Tenant().Messages(simtest.Alice, "inbox")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs[:5] {
		for _, user := range []string{"me", simtest.Alice} {
			rc, size, err := c.OpenMIME(ctx, user, m.ID)
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b, m.MIME) || size != int64(len(m.MIME)) {
				t.Errorf("message %s as %s: %d bytes (size %d), want %d identical", m.ID, user, len(b), size, len(m.MIME))
			}
		}
	}
	if rec.auth["graph"] != rec.all["graph"] || rec.all["graph"] == 0 {
		t.Errorf("Graph requests with a token: %d of %d", rec.auth["graph"], rec.all["graph"])
	}
	_, _, err = c.OpenMIME(ctx, "me", "AAMkNoSuchMessage")
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("missing message: err = %v, want ErrNotFound", err)
	}
	// Bob's mailbox is not Alice's to read (delegated permissions).
	bobs, _ := srv.Tenant().Messages(simtest.Bob, "inbox")
	_, _, err = c.OpenMIME(ctx, simtest.Bob, bobs[0].ID)
	if !errors.Is(err, ErrAuth) {
		t.Errorf("another's mailbox: err = %v, want ErrAuth", err)
	}
}

func TestMailFolderDelta(t *testing.T) {
	srv := simtest.Start(t, nil, m365sim.Options{})
	c, _, _ := newClient(t, srv, simtest.Alice, func(o *Options) { o.MessagePageSize = 4 })
	ctx := ctxT(t)
	var all []MailFolder
	link, err := c.MailFolderDelta(ctx, "me", "", func(p []MailFolder) error { all = append(all, p...); return nil })
	if err != nil {
		t.Fatal(err)
	}
	listed, err := c.ListMailFolders(ctx, "me")
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != len(listed) {
		t.Errorf("folder delta gave %d folders, listing %d", len(all), len(listed))
	}
	invoices := folderByName(t, all, "Invoices")
	if err := srv.Tenant().RenameFolder(simtest.Alice, invoices.ID, "Bills"); err != nil {
		t.Fatal(err)
	}
	srv.Requests().Reset()
	var changed []MailFolder
	link, err = c.MailFolderDelta(ctx, "me", link, func(p []MailFolder) error { changed = append(changed, p...); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if len(changed) != 1 || changed[0].ID != invoices.ID || changed[0].DisplayName != "Bills" || changed[0].ParentID != invoices.ParentID {
		t.Errorf("after a rename: %+v", changed)
	}
	srv.Requests().Reset()
	changed = nil
	if _, err := c.MailFolderDelta(ctx, "me", link, func(p []MailFolder) error { changed = append(changed, p...); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(changed) != 0 || srv.Requests().Total() != 1 {
		t.Errorf("no-change folder delta: %d folders, %d requests", len(changed), srv.Requests().Total())
	}
}
