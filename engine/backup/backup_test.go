package backup

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/graph"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
	"github.com/lifeboat-backup/lifeboat/engine/repo"
)

func downloads(srv *m365sim.Server) (mime, files int) {
	// Messages' MIME only: contact photos are $value too.
	return srv.Requests().Count("/messages/{id}/$value"), srv.Requests().Count("/_download/")
}

func TestFullBackupRoundTrip(t *testing.T) {
	e := newEnv(t, nil, simtest.Alice)
	var last Progress
	var phases []Phase
	res := e.mustRun(func(o *Options) {
		o.ProgressInterval = time.Nanosecond
		o.OnProgress = func(p Progress) {
			last = p
			if len(phases) == 0 || phases[len(phases)-1] != p.Phase {
				phases = append(phases, p.Phase)
			}
		}
	})
	if res.Status != catalog.RunCompleted {
		t.Fatalf("status %s, warnings %v, skipped %v", res.Status, res.Warnings, res.Skipped)
	}
	e.checkMail(res)
	e.checkFiles(res)
	msgs, _ := e.tn.Messages(simtest.Alice, "")
	if res.Counts.ItemsNew != int64(len(msgs))+4 {
		t.Errorf("new items %d, want %d", res.Counts.ItemsNew, len(msgs)+4)
	}
	mime, files := downloads(e.srv)
	if mime != len(msgs) || files != 3 { // the empty file has no download
		t.Logf("downloads: %d MIME, %d files", mime, files)
	}
	if last.Phase != PhaseDone || last.ItemsDone == 0 || last.BytesDone == 0 {
		t.Errorf("last progress %+v", last)
	}
	if want := []Phase{PhaseStarting, PhaseMailAndOneDrive, PhaseCatalog, PhaseDone}; strings.Join(asStrings(phases), ",") != strings.Join(asStrings(want), ",") {
		t.Errorf("phases %v, want %v", phases, want)
	}
	// Nested folders, a catalog that finds the mail, and a verifiable repository.
	hits, err := e.c.Search(t.Context(), catalog.SearchQuery{Text: "invoice"})
	if err != nil || len(hits) == 0 {
		t.Errorf("search invoice: %d hits, %v", len(hits), err)
	}
	hits, err = e.c.Search(t.Context(), catalog.SearchQuery{Text: "budget"})
	if err != nil || len(hits) != 1 {
		t.Errorf("search budget: %d hits, %v", len(hits), err)
	}
	rep, err := e.r.Check(t.Context(), repo.CheckOptions{ReadData: true, Refs: Refs})
	if err != nil || !rep.OK() {
		t.Fatalf("check: %v %+v", err, rep)
	}
	if _, ok := res.Snapshots[KindCatalog]; !ok {
		t.Error("no catalog copy")
	}
}

func asStrings(ps []Phase) []string {
	var out []string
	for _, p := range ps {
		out = append(out, string(p))
	}
	return out
}

func TestIncremental(t *testing.T) {
	e := newEnv(t, nil, simtest.Alice)
	first := e.mustRun(nil)
	folders := len(e.contents(first, KindMail).Folders)

	// No change: about one request per folder and per drive (plus the
	// calendar and contact folder lists, one per calendar and one per
	// contact folder: see TestCalendarContactsNoChangeCost).
	e.srv.Requests().Reset()
	res := e.mustRun(nil)
	pimRequests := e.srv.Requests().Count("/calendars") + e.srv.Requests().Count("/contact")
	t.Logf("no-change run: %d requests for %d mail folders and one drive, %d for calendars and contacts", e.srv.Requests().Total(), folders, pimRequests)
	if total := e.srv.Requests().Total() - pimRequests; total > folders+3 {
		t.Errorf("no-change run made %d requests for %d folders and a drive:\n%s", total, folders, strings.Join(e.srv.Requests().Summary(), "\n"))
	}
	if res.Counts.ItemsNew+res.Counts.ItemsChanged+res.Counts.ItemsDeleted != 0 {
		t.Errorf("no-change run counts %+v", res.Counts)
	}

	// Paul deletes the invoice; a message arrives; a file is edited and another renamed;
	// a message is read and moved.
	inv, err := e.tn.FindMessages(simtest.Alice, "Invoice 0005")
	if err != nil || len(inv) != 1 {
		t.Fatalf("find invoice: %v %d", err, len(inv))
	}
	if err := e.tn.DeleteMessage(simtest.Alice, inv[0].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.tn.AddMessage(simtest.Alice, "inbox", simtest.MIMEMessage(77), m365sim.MessageOptions{}); err != nil {
		t.Fatal(err)
	}
	read := true
	other, _ := e.tn.FindMessages(simtest.Alice, "Invoice 0003")
	if _, err := e.tn.EditMessage(simtest.Alice, other[0].ID, m365sim.MessageEdit{IsRead: &read}); err != nil {
		t.Fatal(err)
	}
	moved, _ := e.tn.FindMessages(simtest.Alice, "Invoice 0004")
	if _, err := e.tn.MoveMessage(simtest.Alice, moved[0].ID, "archive"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.tn.PutFile(simtest.Alice, "Documents/Notes/todo.txt", m365sim.BytesContent("buy milk\nand bread\n"), time.Time{}); err != nil {
		t.Fatal(err)
	}
	budget, _ := e.tn.DriveItemByPath(simtest.Alice, "Documents/budget.xlsx")
	if _, err := e.tn.MoveDriveItem(simtest.Alice, budget.ID, "Archive", "budget 2025.xlsx"); err != nil {
		t.Fatal(err)
	}
	e.srv.Requests().Reset()
	res = e.mustRun(nil)
	mime, files := downloads(e.srv)
	if mime != 1 || files != 1 {
		t.Errorf("incremental downloaded %d messages and %d files, want 1 and 1:\n%s", mime, files, strings.Join(e.srv.Requests().Summary(), "\n"))
	}
	if res.Counts.ItemsDeleted != 1 || res.Counts.ItemsNew != 1 {
		t.Errorf("counts %+v", res.Counts)
	}
	e.checkMail(res)
	e.checkFiles(res)
	del, err := e.c.RecentlyDeleted(t.Context(), e.acct.HomeID, 10)
	if err != nil || len(del) != 1 || !strings.Contains(del[0].Name, "Invoice 0005") {
		t.Fatalf("recently deleted: %v %+v", err, del)
	}
	// The deleted invoice is still in the repository.
	ref, err := decodeContent(del[0].Content)
	if err != nil || string(e.read(ref)) != string(inv[0].MIME) {
		t.Errorf("deleted invoice content: %v", err)
	}
	vs, err := e.c.Versions(t.Context(), catalog.ItemRef{Account: e.acct.HomeID, Kind: catalog.KindFile, ID: budget.ID})
	if err != nil || len(vs) != 2 || vs[0].Folder != "Archive" {
		t.Errorf("budget versions %v %+v", err, vs)
	}

	// Folder rename: messages get the new path, nothing is downloaded.
	f, err := e.tn.EnsureFolderPath(simtest.Alice, "Inbox/Invoices")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.tn.RenameFolder(simtest.Alice, f.ID, "Bills"); err != nil {
		t.Fatal(err)
	}
	e.srv.Requests().Reset()
	res = e.mustRun(nil)
	if mime, files := downloads(e.srv); mime+files != 0 {
		t.Errorf("rename downloaded %d", mime+files)
	}
	e.checkMail(res)
	_, items, err := e.c.AsOf(t.Context(), catalog.AsOfQuery{Account: e.acct.HomeID, Kind: catalog.KindMail, Folder: "Inbox/Bills"})
	if err != nil || len(items) != 4 { // 5 invoices, one of them deleted
		t.Errorf("Inbox/Bills as of now: %v, %d items", err, len(items))
	}
}

func TestResyncAfterGone(t *testing.T) {
	e := newEnv(t, nil, simtest.Alice)
	e.mustRun(nil)
	e.tn.ExpireDeltaTokens()
	before := e.r.Stats()
	e.srv.Requests().Reset()
	res := e.mustRun(func(o *Options) { o.Only = ScopeOneDrive; o.NoCatalogCopy = true })
	if _, files := downloads(e.srv); files != 0 {
		t.Errorf("resync downloaded %d files", files)
	}
	if e.srv.Requests().Count("delta") < 2 {
		t.Errorf("no resync happened:\n%s", strings.Join(e.srv.Requests().Summary(), "\n"))
	}
	after := e.r.Stats()
	t.Logf("410 resync stored %d new blobs, %d new bytes", after.NewBlobs-before.NewBlobs, after.RawBytes-before.RawBytes)
	if n := after.RawBytes - before.RawBytes; n > 4096 {
		t.Errorf("resync stored %d new bytes", n)
	}
	e.checkFiles(res)
}

func TestItemFailuresAreSkippedAndRetried(t *testing.T) {
	e := newEnv(t, nil, simtest.Alice)
	// Every download of one file is corrupted: skipped after a retry.
	todo, _ := e.tn.DriveItemByPath(simtest.Alice, "Documents/Notes/todo.txt")
	e.setCorrupt(todo.ID)
	// And one message download fails every attempt.
	bad, _ := e.tn.FindMessages(simtest.Alice, "Invoice 0007")
	e.srv.FaultInjector().SetConfig(m365sim.FaultConfig{Only: bad[0].ID})
	e.srv.FaultInjector().Force(m365sim.Fault504, 3)
	res := e.mustRun(nil)
	if res.Status != catalog.RunCompletedWithWarnings || len(res.Skipped) != 2 {
		t.Fatalf("status %s, skipped %+v, warnings %v", res.Status, res.Skipped, res.Warnings)
	}
	var reasons []string
	for _, s := range res.Skipped {
		reasons = append(reasons, s.ItemRef+": "+s.Reason)
	}
	if !strings.Contains(strings.Join(reasons, "\n"), "did not match the hash") {
		t.Errorf("reasons: %v", reasons)
	}
	runs, err := e.c.Runs(t.Context(), 1)
	if err != nil || len(runs) != 1 || len(runs[0].Skipped) != 2 || runs[0].Status != catalog.RunCompletedWithWarnings {
		t.Fatalf("runs: %v %+v", err, runs)
	}
	// Next run: both come again and are stored; nothing else is downloaded.
	e.setCorrupt("")
	e.srv.Requests().Reset()
	res = e.mustRun(nil)
	if res.Status != catalog.RunCompleted {
		t.Fatalf("second run: %s %+v", res.Status, res.Skipped)
	}
	if mime, files := downloads(e.srv); mime != 1 || files != 1 {
		t.Errorf("second run downloaded %d messages, %d files", mime, files)
	}
	e.checkMail(res)
	e.checkFiles(res)
}

func TestDeletedInFlightIsSkipped(t *testing.T) {
	e := newEnv(t, nil, simtest.Alice)
	e.srv.FaultInjector().SetConfig(m365sim.FaultConfig{Only: "/_download/"})
	e.srv.FaultInjector().Force(m365sim.FaultGone, 1)
	res := e.mustRun(nil)
	if res.Status != catalog.RunCompletedWithWarnings || len(res.Skipped) != 1 || !strings.Contains(res.Skipped[0].Reason, "deleted") {
		t.Fatalf("status %s, skipped %+v", res.Status, res.Skipped)
	}
	res = e.mustRun(nil)
	if res.Status != catalog.RunCompleted {
		t.Fatalf("second run %s %+v", res.Status, res.Skipped)
	}
	e.checkFiles(res)
}

func TestResume(t *testing.T) {
	tn, err := m365sim.GenerateDemo(3, m365sim.DemoOptions{Users: 1, MessagesPerUser: 60, FilesPerUser: 12, MaxFileSize: 200 << 10})
	if err != nil {
		t.Fatal(err)
	}
	upn := tn.Users()[0].UPN
	e := newEnv(t, tn, upn)
	ctx, cancel := context.WithCancel(t.Context())
	var done atomic.Int64
	const stopAfter = 25
	_, err = e.run(ctx, func(o *Options) {
		o.ProgressInterval = time.Nanosecond
		o.OnProgress = func(p Progress) {
			done.Store(p.ItemsDone)
			if p.ItemsDone >= stopAfter {
				cancel()
			}
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: %v", err)
	}
	mime1, files1 := downloads(e.srv)
	// A new process: the repository opened again, unflushed work lost.
	e.reopen()
	e.srv.Requests().Reset()
	res := e.mustRun(nil)
	mime2, files2 := downloads(e.srv)
	msgs, _ := e.tn.Messages(upn, "")
	if mime1+mime2 > len(msgs)+4 {
		t.Errorf("MIME downloads %d + %d for %d messages: stored content was fetched again", mime1, mime2, len(msgs))
	}
	t.Logf("first run: %d MIME %d files; second: %d MIME %d files; %d messages", mime1, files1, mime2, files2, len(msgs))
	e.checkMail(res)
	e.checkFiles(res)
	rep, err := e.r.Check(t.Context(), repo.CheckOptions{Refs: Refs})
	if err != nil || !rep.OK() {
		t.Fatalf("check: %v %+v", err, rep.Problems)
	}
}

func TestRefs(t *testing.T) {
	if _, err := Refs([]byte(`{"format":"bench"}`)); !errors.Is(err, ErrUnknownTree) {
		t.Errorf("foreign tree: %v", err)
	}
	if _, err := Refs([]byte(`not json`)); !errors.Is(err, ErrUnknownTree) {
		t.Errorf("garbage: %v", err)
	}
	ref := repo.ContentRef{Size: 5, Chunks: []repo.ID{{1}, {2}}}
	got, err := decodeContent(encodeContent(ref))
	if err != nil || got.Size != 5 || len(got.Chunks) != 2 || got.Chunks[1] != (repo.ID{2}) {
		t.Errorf("content round trip: %v %+v", err, got)
	}
	if got, err := decodeContent(encodeContent(repo.ContentRef{})); err != nil || got.Size != 0 || got.Chunks != nil {
		t.Errorf("empty content: %v %+v", err, got)
	}
}

func TestParseMIME(t *testing.T) {
	info := parseMIME(simtest.MIMEMessage(3))
	if !strings.Contains(info.body, "please find invoice 3 attached") {
		t.Errorf("body %q", info.body)
	}
	if len(info.attachments) != 1 || info.attachments[0] != "invoice-3.pdf" {
		t.Errorf("attachments %q", info.attachments)
	}
	if got := parseMIME([]byte("garbage")); got.body != "" {
		t.Errorf("garbage: %+v", got)
	}
}

func TestThrottlingIsReported(t *testing.T) {
	e := newEnv(t, nil, simtest.Alice)
	e.srv.FaultInjector().SetConfig(m365sim.FaultConfig{RetryAfter: 300 * time.Millisecond, Storm: -1})
	e.srv.FaultInjector().Force(m365sim.Fault429, 2)
	mon := NewMonitor()
	var mu sync.Mutex
	var said []string
	res := e.mustRun(func(o *Options) {
		o.Monitor = mon
		o.Graph = e.client(mon.Observe)
		// Only reports that something forces: a wait must be one of them,
		// since while everything waits nothing else would say why.
		o.ProgressInterval = time.Hour
		o.OnProgress = func(p Progress) {
			mu.Lock()
			said = append(said, p.Throttled)
			mu.Unlock()
		}
	})
	if res.Status != catalog.RunCompleted {
		t.Fatalf("status %s %+v", res.Status, res.Skipped)
	}
	mu.Lock()
	told := slices.ContainsFunc(said, func(s string) bool { return strings.Contains(s, "slow down") })
	mu.Unlock()
	if !told {
		t.Errorf("no progress report said Microsoft asked to slow down: %q", said)
	}
	if e.srv.FaultInjector().Injected()[m365sim.Fault429] == 0 {
		t.Fatal("no 429 injected")
	}
	if mon.Throttles() == 0 {
		t.Error("the monitor saw no throttling")
	}
	mon.Observe(graph.Event{Kind: graph.EventThrottled, Wait: time.Minute})
	if s := mon.State(); !strings.Contains(s, "slow down") {
		t.Errorf("throttle state %q", s)
	}
	p := Progress{Elapsed: 10 * time.Second, BytesDone: 25, BytesTotal: 100}
	if got := eta(p); got != 30*time.Second {
		t.Errorf("eta %v", got)
	}
}

// TestMoveWithNewID: Graph gives a moved message a new id; its MIME is
// not fetched again (matched by internetMessageId, received time, subject).
func TestMoveWithNewID(t *testing.T) {
	e := newEnv(t, nil, simtest.Alice)
	e.mustRun(nil)
	m, _ := e.tn.FindMessages(simtest.Alice, "Invoice 0008")
	if err := e.tn.DeleteMessage(simtest.Alice, m[0].ID); err != nil {
		t.Fatal(err)
	}
	moved, err := e.tn.AddMessage(simtest.Alice, "archive", m[0].MIME, m365sim.MessageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	e.srv.Requests().Reset()
	res := e.mustRun(nil)
	if mime, _ := downloads(e.srv); mime != 0 {
		t.Errorf("moved message fetched again (%d MIME downloads)", mime)
	}
	e.checkMail(res)
	vs, err := e.c.Versions(t.Context(), catalog.ItemRef{Account: e.acct.HomeID, Kind: catalog.KindMail, ID: moved.ID})
	if err != nil || len(vs) != 1 || vs[0].Folder != "Archive" {
		t.Errorf("moved message versions: %v %+v", err, vs)
	}
}

// TestResumeFiles interrupts a run during the OneDrive phase.
func TestResumeFiles(t *testing.T) {
	tn, err := m365sim.GenerateDemo(5, m365sim.DemoOptions{Users: 1, MessagesPerUser: 5, FilesPerUser: 30, MaxFileSize: 300 << 10})
	if err != nil {
		t.Fatal(err)
	}
	upn := tn.Users()[0].UPN
	e := newEnv(t, tn, upn)
	ctx, cancel := context.WithCancel(t.Context())
	_, err = e.run(ctx, func(o *Options) {
		o.Only = ScopeOneDrive
		o.Workers = 2
		o.ProgressInterval = time.Nanosecond
		o.OnProgress = func(p Progress) {
			if p.ItemsDone >= 10 {
				cancel()
			}
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: %v", err)
	}
	_, files1 := downloads(e.srv)
	e.reopen()
	e.srv.Requests().Reset()
	res := e.mustRun(func(o *Options) { o.Only = ScopeOneDrive })
	_, files2 := downloads(e.srv)
	items, _ := e.tn.DriveItems(upn)
	n := 0
	for _, it := range items {
		if !it.Folder {
			n++
		}
	}
	t.Logf("files: %d; downloads %d before the interruption, %d after", n, files1, files2)
	if files1 < 10 || files1+files2 > n+2 {
		t.Errorf("downloads %d + %d for %d files", files1, files2, n)
	}
	e.checkFiles(res)
}
