package restore

import (
	"bytes"
	"encoding/base64"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
)

// run plans and executes a restore, failing the test on any failure.
func (e *simEnv) run(dest Destination, conflict Conflict, items []catalog.VersionInfo) (*Plan, Result) {
	e.t.Helper()
	r := New(Options{Content: e.r, Conflict: conflict})
	pl, err := r.Plan(e.t.Context(), dest, items)
	if err != nil {
		e.t.Fatal(err)
	}
	res, err := r.Execute(e.t.Context(), pl)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, f := range res.Failures {
		e.t.Errorf("%s: %v", f.Step.Path, f.Err)
	}
	return pl, res
}

// inFolder returns the messages of a mail folder path with an
// internetMessageId.
func (e *simEnv) inFolder(path, messageID string) []m365sim.Message {
	e.t.Helper()
	msgs, err := e.tn.Messages(e.upn, "")
	if err != nil {
		e.t.Fatal(err)
	}
	var out []m365sim.Message
	for _, m := range msgs {
		if p, _ := e.tn.FolderPath(e.upn, m.FolderID); p == path && m.Header.InternetMessageID == messageID {
			out = append(out, m)
		}
	}
	return out
}

func readContent(t *testing.T, c m365sim.Content) []byte {
	t.Helper()
	b, err := io.ReadAll(c.Open())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The acceptance round trip: a message and a file are deleted in the
// tenant, found with the deleted filter, and restored to their original
// place through Graph — the message as a non-draft with its dates, read
// state, flag, categories, importance and attachment bytes, the files
// (one small, one through an upload session) with their bytes and times.
func TestRoundTripThroughGraph(t *testing.T) {
	e := newSimEnv(t, nil)
	big := bytes.Repeat([]byte("0123456789abcdef"), 5_000_000/16) // above the 4 MiB simple upload
	bigMod := time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC)
	if _, err := e.tn.PutFile(e.upn, "Videos/launch.mp4", m365sim.BytesContent(big), bigMod); err != nil {
		t.Fatal(err)
	}
	invoices, err := e.tn.FindMessages(e.upn, "Invoice 0005")
	if err != nil || len(invoices) != 1 {
		t.Fatalf("seed message: %v %d", err, len(invoices))
	}
	yes, flagged, high := true, "flagged", "high"
	cats := []string{"Red category", "Accounts"}
	orig, err := e.tn.EditMessage(e.upn, invoices[0].ID, m365sim.MessageEdit{IsRead: &yes, FlagStatus: &flagged, Categories: &cats, Importance: &high})
	if err != nil {
		t.Fatal(err)
	}
	origPath, _ := e.tn.FolderPath(e.upn, orig.FolderID)
	budget, err := e.tn.DriveItemByPath(e.upn, "Documents/budget.xlsx")
	if err != nil {
		t.Fatal(err)
	}
	budgetBytes := readContent(t, budget.Content)
	e.backup()

	// Paul deletes them.
	if err := e.tn.DeleteMessage(e.upn, orig.ID); err != nil {
		t.Fatal(err)
	}
	video, _ := e.tn.DriveItemByPath(e.upn, "Videos/launch.mp4")
	for _, id := range []string{budget.ID, video.ID} {
		if err := e.tn.DeleteDriveItem(e.upn, id); err != nil {
			t.Fatal(err)
		}
	}
	e.backup()

	// Found with the deleted filter.
	var items []catalog.VersionInfo
	for _, q := range []catalog.SearchQuery{
		{Text: "invoice 0005", Kind: catalog.KindMail, DeletedOnly: true},
		{Text: "budget", Kind: catalog.KindFile, DeletedOnly: true},
		{Text: "launch", Kind: catalog.KindFile, DeletedOnly: true},
	} {
		hits, err := e.c.Search(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		if len(hits) != 1 || !hits[0].Deleted() {
			t.Fatalf("search %q: %+v", q.Text, hits)
		}
		items = append(items, hits[0].VersionInfo)
	}
	if hits, _ := e.c.Search(t.Context(), catalog.SearchQuery{Text: "invoice 0006", DeletedOnly: true}); len(hits) != 0 {
		t.Errorf("the deleted filter finds a message that still exists: %+v", hits)
	}

	dest := ToOriginal(e.g, e.g, "me", e.acct.HomeID)
	pl, res := e.run(dest, ConflictRename, items)
	if c := pl.Counts(); c[ActionCreate] != 3 || len(res.Done) != 3 {
		t.Fatalf("plan %v, done %d", c, len(res.Done))
	}

	got := e.inFolder(origPath, orig.Header.InternetMessageID)
	if len(got) != 1 {
		t.Fatalf("%d restored copies in %s", len(got), origPath)
	}
	m := got[0]
	if m.IsDraft {
		t.Error("the restored message is a draft")
	}
	if !m.Header.Received.Equal(orig.Header.Received) || !m.Header.Sent.Equal(orig.Header.Sent) {
		t.Errorf("dates: received %v sent %v, want %v %v", m.Header.Received, m.Header.Sent, orig.Header.Received, orig.Header.Sent)
	}
	if !m.IsRead || m.FlagStatus != "flagged" || m.Importance != "high" || !slices.Equal(m.Categories, cats) {
		t.Errorf("properties: read %v flag %q importance %q categories %v", m.IsRead, m.FlagStatus, m.Importance, m.Categories)
	}
	if m.Header.Subject != orig.Header.Subject {
		t.Errorf("subject %q, want %q", m.Header.Subject, orig.Header.Subject)
	}
	pdf, _ := base64.StdEncoding.DecodeString("JVBERi0xLjQKJcOkw7zDtsOfCg==")
	if len(m.Attachments) != 1 || m.Attachments[0].Name != "invoice-5.pdf" || !bytes.Equal(m.Attachments[0].Content, pdf) {
		t.Errorf("attachments: %+v", m.Attachments)
	}

	for _, f := range []struct {
		path string
		data []byte
		was  m365sim.DriveItem
	}{{"Documents/budget.xlsx", budgetBytes, budget}, {"Videos/launch.mp4", big, video}} {
		it, err := e.tn.DriveItemByPath(e.upn, f.path)
		if err != nil {
			t.Fatalf("%s not restored: %v", f.path, err)
		}
		if !bytes.Equal(readContent(t, it.Content), f.data) {
			t.Errorf("%s: bytes differ", f.path)
		}
		if !it.FSModified.Equal(f.was.FSModified) || !it.FSCreated.Equal(f.was.FSCreated) {
			t.Errorf("%s: times %v/%v, want %v/%v", f.path, it.FSCreated, it.FSModified, f.was.FSCreated, f.was.FSModified)
		}
	}

	// Again, with each conflict policy.
	r := New(Options{Content: e.r, Conflict: ConflictSkip})
	pl, err = r.Plan(t.Context(), dest, items)
	if err != nil {
		t.Fatal(err)
	}
	if c := pl.Counts(); c[ActionSkip] != 3 {
		t.Errorf("skip plan: %v", c)
	}
	pl, _ = e.run(dest, ConflictRename, items[:2])
	var names []string
	for _, s := range pl.Steps {
		if s.Action != ActionRename {
			t.Errorf("%s: %s, want rename", s.Path, s.Action)
		}
		names = append(names, s.Path)
	}
	if !slices.Contains(names, "Documents/budget (1).xlsx") {
		t.Errorf("renamed to %v", names)
	}
	if _, err := e.tn.DriveItemByPath(e.upn, "Documents/budget (1).xlsx"); err != nil {
		t.Errorf("kept both: %v", err)
	}
	if n := len(e.inFolder(origPath, orig.Header.InternetMessageID)); n != 2 {
		t.Errorf("after keep-both, %d copies of the message", n)
	}
	pl, _ = e.run(dest, ConflictOverwrite, items[:1])
	if pl.Steps[0].Action != ActionOverwrite {
		t.Errorf("overwrite plan: %+v", pl.Steps[0])
	}
	if n := len(e.inFolder(origPath, orig.Header.InternetMessageID)); n != 1 {
		t.Errorf("after overwrite, %d copies of the message", n)
	}

	// Into a new folder, structure kept below it.
	folder := NewFolderName(time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC))
	e.run(ToNewFolder(e.g, e.g, "me", e.acct.HomeID, folder), ConflictRename, items[:2])
	if n := len(e.inFolder(folder+"/"+origPath, orig.Header.InternetMessageID)); n != 1 {
		t.Errorf("%d copies in the new mail folder", n)
	}
	if it, err := e.tn.DriveItemByPath(e.upn, folder+"/Documents/budget.xlsx"); err != nil || !bytes.Equal(readContent(t, it.Content), budgetBytes) {
		t.Errorf("file in the new folder: %v", err)
	}
	if !strings.HasPrefix(folder, "Restored by Lifeboat 2026-11-27") {
		t.Errorf("folder name %q", folder)
	}
}

// A message whose folder is gone is restored into a recreated folder of
// the same path.
func TestRestoreRecreatesMailFolder(t *testing.T) {
	e := newSimEnv(t, nil)
	msg, err := e.tn.AddMessage(e.upn, "inbox", []byte("From: a@example.com\r\nSubject: lonely\r\nMessage-ID: <lonely@x>\r\nDate: Mon, 02 Mar 2026 10:00:00 +0000\r\n\r\nhi\r\n"), m365sim.MessageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	e.backup()
	vs := e.all(catalog.KindMail)
	var v catalog.VersionInfo
	for _, x := range vs {
		if x.Item.ID == msg.ID {
			v = x
		}
	}
	// Pretend the message lived in a folder that no longer exists.
	v.Folder = "Inbox/Projects/Old client"
	pl, _ := e.run(ToOriginal(e.g, nil, "me", e.acct.HomeID), ConflictRename, []catalog.VersionInfo{v})
	if pl.Steps[0].Action != ActionCreate || !strings.Contains(pl.Steps[0].Reason, "created") {
		t.Errorf("plan: %+v", pl.Steps[0])
	}
	if n := len(e.inFolder("Inbox/Projects/Old client", "<lonely@x>")); n != 1 {
		t.Errorf("%d messages in the recreated folder", n)
	}
}

// A whole mailbox and drive as of a backup go into a new folder in
// parallel, with progress, folder structure kept.
func TestBulkRestoreToNewFolder(t *testing.T) {
	e := newSimEnv(t, nil)
	e.backup()
	mail, files := e.all(catalog.KindMail), e.all(catalog.KindFile)
	items := append(slices.Clone(mail), files...)
	var total int64
	for _, v := range items {
		total += v.Size
	}
	var last Progress
	calls := 0
	r := New(Options{Content: e.r, Workers: 4, ProgressInterval: time.Millisecond, OnProgress: func(p Progress) { last = p; calls++ }})
	folder := NewFolderName(time.Now())
	dest := ToNewFolder(e.g, e.g, "me", e.acct.HomeID, folder)
	pl, err := r.Plan(t.Context(), dest, items)
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.Execute(t.Context(), pl)
	if err != nil || len(res.Failures) > 0 || len(res.Done) != len(items) {
		t.Fatalf("%v: done %d of %d, failures %v", err, len(res.Done), len(items), res.Failures)
	}
	if last.ItemsDone != int64(len(items)) || last.ItemsTotal != int64(len(items)) || last.BytesDone != total || last.BytesTotal != total || calls < len(items) {
		t.Errorf("final progress %+v after %d calls; want %d items, %d bytes", last, calls, len(items), total)
	}
	for _, v := range mail {
		if n := len(e.inFolder(folder+"/"+v.Folder, v.InternetMessageID)); n != 1 {
			t.Errorf("%q: %d copies in %s/%s", v.Name, n, folder, v.Folder)
		}
	}
	for _, v := range files {
		p := strings.TrimSuffix(folder+"/"+v.Folder, "/") + "/" + v.Name
		if it, err := e.tn.DriveItemByPath(e.upn, p); err != nil || it.Content.Size() != v.Size {
			t.Errorf("%s: %v", p, err)
		}
	}
}

// Answers lost on the way back (Graph did the work; the connection
// dropped) must not make second copies or fail the restore: every
// restored message and file is there exactly once. First only the
// creates lose answers, often; then any request may.
func TestBulkRestoreSurvivesLostAnswers(t *testing.T) {
	for _, tc := range []struct {
		name string
		rate float64
		only string
	}{{"creates", 0.3, "POST "}, {"any request", 0.1, ""}} {
		t.Run(tc.name, func(t *testing.T) {
			e := newSimEnv(t, nil)
			e.backup()
			mail, files := e.all(catalog.KindMail), e.all(catalog.KindFile)
			items := append(slices.Clone(mail), files...)
			fi := e.srv.FaultInjector()
			fi.SetConfig(m365sim.FaultConfig{Seed: 11, Rate: map[m365sim.FaultKind]float64{m365sim.FaultLost: tc.rate}, Only: tc.only})
			g := e.graphClient(10)
			folder := NewFolderName(time.Now())
			r := New(Options{Content: e.r, Workers: 4})
			pl, err := r.Plan(t.Context(), ToNewFolder(g, g, "me", e.acct.HomeID, folder), items)
			if err != nil {
				t.Fatal(err)
			}
			res, err := r.Execute(t.Context(), pl)
			if err != nil || len(res.Failures) > 0 || len(res.Done) != len(items) {
				t.Fatalf("%v: done %d of %d, failures %v", err, len(res.Done), len(items), res.Failures)
			}
			if n := fi.Injected()[m365sim.FaultLost]; n < 3 {
				t.Fatalf("only %d answers were lost", n)
			}
			fi.SetConfig(m365sim.FaultConfig{})
			for _, v := range mail {
				if got := e.inFolder(folder+"/"+v.Folder, v.InternetMessageID); len(got) != 1 || got[0].IsDraft {
					t.Errorf("%q: %d copies in %s/%s", v.Name, len(got), folder, v.Folder)
				}
			}
			for _, v := range files {
				p := strings.TrimSuffix(folder+"/"+v.Folder, "/") + "/" + v.Name
				if it, err := e.tn.DriveItemByPath(e.upn, p); err != nil || it.Content.Size() != v.Size {
					t.Errorf("%s: %v", p, err)
				}
			}
			// No renamed second copy ("name 1.ext") beside them either.
			all, err := e.tn.DriveItems(e.upn)
			if err != nil {
				t.Fatal(err)
			}
			byID := map[string]m365sim.DriveItem{}
			for _, it := range all {
				byID[it.ID] = it
			}
			pathOf := func(it m365sim.DriveItem) string {
				p := it.Name
				for it.ParentID != "" {
					it = byID[it.ParentID]
					if it.ParentID != "" { // the root has no name in a path
						p = it.Name + "/" + p
					}
				}
				return p
			}
			restored := 0
			for _, it := range all {
				if !it.Folder && strings.HasPrefix(pathOf(it), folder+"/") {
					restored++
				}
			}
			if restored != len(files) {
				t.Errorf("%d files under %s, want %d", restored, folder, len(files))
			}
		})
	}
}
