package gui

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"image"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/lifeboat-backup/lifeboat/engine/backup"
	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/graph"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
	"github.com/lifeboat-backup/lifeboat/engine/repo"
	"github.com/lifeboat-backup/lifeboat/engine/restore"
	"github.com/lifeboat-backup/lifeboat/engine/secret"
	"github.com/lifeboat-backup/lifeboat/engine/service"
	"github.com/lifeboat-backup/lifeboat/ui"
)

// restoreEnv is the simulator backed up twice into a real repository and
// catalog, with the restore service over them.
type restoreEnv struct {
	t          *testing.T
	srv        *m365sim.Server
	tn         *m365sim.Tenant
	r          *repo.Repository
	cat        *catalog.Catalog
	acct       catalog.Account
	svc        ui.RestoreService
	browser    *service.Browser
	invoice    []byte // the MIME of the message deleted between the backups
	budget1    []byte // budget.xlsx as the first backup saw it
	budget1Mod time.Time
}

// invoiceMIME is a message with a text body and a PDF attachment.
func invoiceMIME() []byte {
	pdf := bytes.Repeat([]byte("%PDF-1.4 fake invoice "), 200)
	var b strings.Builder
	b.WriteString("From: Anna Supplier <anna@flour.example>\r\nTo: Alice Archer <alice@contoso.test>\r\n" +
		"Subject: =?utf-8?q?Quarterly_invoice_Q1_=E2=80=93_flour?=\r\nDate: Sat, 14 Mar 2026 09:30:00 +0000\r\n" +
		"Message-ID: <inv-q1@flour.example>\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n" +
		"--b1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" +
		"Dear Alice,=0D=0Aplease pay by Friday. The total is 1=C2=A0200 =E2=82=AC.\r\n" +
		"--b1\r\nContent-Type: application/pdf; name=\"invoice-0314.pdf\"\r\nContent-Disposition: attachment; filename=\"invoice-0314.pdf\"\r\n" +
		"Content-Transfer-Encoding: base64\r\n\r\n")
	b.WriteString(base64Lines(pdf))
	b.WriteString("--b1--\r\n")
	return []byte(b.String())
}

func base64Lines(b []byte) string {
	enc := base64.StdEncoding.EncodeToString(b)
	var out strings.Builder
	for len(enc) > 76 {
		out.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	out.WriteString(enc + "\r\n")
	return out.String()
}

func newRestoreEnv(t *testing.T) *restoreEnv {
	t.Helper()
	tn := simtest.SmallTenant(t)
	e := &restoreEnv{t: t, invoice: invoiceMIME()}
	inv, err := tn.EnsureFolderPath(simtest.Alice, "Inbox/Invoices")
	if err != nil {
		t.Fatal(err)
	}
	msg, err := tn.AddMessage(simtest.Alice, inv.ID, e.invoice, m365sim.MessageOptions{IsRead: true, Flagged: true})
	if err != nil {
		t.Fatal(err)
	}
	e.srv = simtest.Start(t, tn, m365sim.Options{})
	e.tn = e.srv.Tenant()
	e.r = repo.TestRepository(t)
	e.cat, err = catalog.Open(t.Context(), filepath.Join(t.TempDir(), "catalog.db"), catalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.cat.Close() })
	e.acct = catalog.Account{HomeID: "home-alice", UPN: simtest.Alice, DisplayName: "Alice Archer", Kind: catalog.AccountWork}

	it, err := e.tn.DriveItemByPath(simtest.Alice, "Documents/budget.xlsx")
	if err != nil {
		t.Fatal(err)
	}
	e.budget1 = readContent(t, it.Content)
	e.budget1Mod = it.FSModified
	e.backup()

	// Between the backups: the invoice and todo.txt are deleted, and
	// budget.xlsx is edited.
	if err := e.tn.DeleteMessage(simtest.Alice, msg.ID); err != nil {
		t.Fatal(err)
	}
	todo, err := e.tn.DriveItemByPath(simtest.Alice, "Documents/Notes/todo.txt")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.tn.DeleteDriveItem(simtest.Alice, todo.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.tn.PutFile(simtest.Alice, "Documents/budget.xlsx", m365sim.BytesContent("new budget"), e.budget1Mod.Add(48*time.Hour)); err != nil {
		t.Fatal(err)
	}
	e.backup()

	e.svc = e.restoreService(0)
	return e
}

// restoreService is the wizard's service over the env's backup, with
// workers items restored at once (0: the default).
func (e *restoreEnv) restoreService(workers int) ui.RestoreService {
	e.t.Helper()
	cfg := e.t.TempDir()
	svc, err := service.New(service.Options{ConfigDir: cfg, CustomConfigDir: true, Keychain: secret.File{Dir: cfg}, GraphClient: e.graph,
		RestoreWorkers: workers})
	if err != nil {
		e.t.Fatal(err)
	}
	e.browser = svc.NewBrowser(e.r, e.cat)
	return NewRestoreService(e.browser, false)
}

func readContent(t *testing.T, c m365sim.Content) []byte {
	t.Helper()
	b, err := io.ReadAll(c.Open())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (e *restoreEnv) graph(_ context.Context, a catalog.Account) (*graph.Client, error) {
	return graph.New(graph.Options{
		GraphURL:   e.srv.GraphURL(),
		HTTPClient: e.srv.HTTPClient(),
		Auth: graph.TokenFunc(func(context.Context) (string, error) {
			tok, _, err := e.srv.IssueAccessToken(a.UPN)
			return tok, err
		}),
		Account:     a.UPN,
		PacerConfig: graph.PacerConfig{BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, MaxAttempts: 3},
	})
}

func (e *restoreEnv) backup() {
	e.t.Helper()
	gc, err := e.graph(e.t.Context(), e.acct)
	if err != nil {
		e.t.Fatal(err)
	}
	res, err := backup.Run(e.t.Context(), backup.Options{Graph: gc, Repo: e.r, Catalog: e.cat, Account: e.acct, NoCatalogCopy: true})
	if err != nil {
		e.t.Fatalf("backup: %v", err)
	}
	if res.Status != catalog.RunCompleted {
		e.t.Fatalf("backup: %s %+v %v", res.Status, res.Skipped, res.Warnings)
	}
}

func (e *restoreEnv) find(text string) ui.RestoreItem {
	e.t.Helper()
	items, err := e.svc.Search(e.t.Context(), ui.RestoreSearch{Text: text, Limit: 50})
	if err != nil {
		e.t.Fatalf("Search(%q): %v", text, err)
	}
	if len(items) == 0 {
		e.t.Fatalf("Search(%q) found nothing", text)
	}
	return items[0]
}

func TestGUIRestoreFindsPreviewsAndBrowses(t *testing.T) {
	e := newRestoreEnv(t)
	ctx := t.Context()

	accts, err := e.svc.Accounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(accts) != 1 || accts[0] != (ui.RestoreAccount{ID: "home-alice", Name: "Alice Archer", Email: simtest.Alice}) {
		t.Errorf("accounts = %+v", accts)
	}

	// Search as the person types: "quarterly invo" already finds it.
	inv := e.find("quarterly invo")
	if inv.Name != "Quarterly invoice Q1 – flour" || inv.Kind != ui.ItemEmail || inv.Folder != "Inbox/Invoices" ||
		inv.From != "Anna Supplier <anna@flour.example>" || !inv.Attachment || inv.Deleted.IsZero() {
		t.Errorf("search hit = %+v", inv)
	}
	backups, err := e.svc.Backups(ctx, "home-alice", ui.ItemEmail)
	if err != nil || len(backups) != 2 || !backups[0].After(backups[1]) {
		t.Fatalf("backups = %v, %v; want two, newest first", backups, err)
	}
	if !inv.Deleted.Equal(backups[0]) {
		t.Errorf("deleted at %v, want the second backup's time %v", inv.Deleted, backups[0])
	}

	pv, err := e.svc.Preview(ctx, inv)
	if err != nil {
		t.Fatal(err)
	}
	if pv.Subject != inv.Name || pv.From != "Anna Supplier <anna@flour.example>" || pv.To != "Alice Archer <alice@contoso.test>" ||
		!strings.Contains(pv.Body, "please pay by Friday. The total is 1\u00a0200 €.") ||
		len(pv.Attachments) != 1 || pv.Attachments[0] != (ui.PreviewAttachment{Name: "invoice-0314.pdf", Size: 22 * 200}) {
		t.Errorf("preview = %+v", pv)
	}

	budget := e.find("budg")
	if budget.Name != "budget.xlsx" || budget.Folder != "Documents" || budget.Kind != ui.ItemFile || budget.Size != int64(len("new budget")) {
		t.Errorf("budget hit = %+v", budget)
	}
	fpv, err := e.svc.Preview(ctx, budget)
	if err != nil || fpv.Type != "Spreadsheet (Excel)" || fpv.Size != budget.Size || fpv.Modified.IsZero() {
		t.Errorf("file preview = %+v, %v", fpv, err)
	}

	vs, err := e.svc.Versions(ctx, budget)
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 2 || !vs[0].Current || vs[1].Current || vs[0].Size != int64(len("new budget")) || vs[1].Size != int64(len(e.budget1)) ||
		!vs[0].Seen.After(vs[1].Seen) || !vs[1].Until.Equal(vs[1].Seen) {
		t.Errorf("versions = %+v", vs)
	}

	del, err := e.svc.RecentlyDeleted(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range del {
		names = append(names, d.Name)
		if d.Deleted.IsZero() {
			t.Errorf("%q has no deletion time", d.Name)
		}
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"Quarterly invoice Q1 – flour", "todo.txt"}) {
		t.Errorf("recently deleted = %q", names)
	}

	// Browsing the Inbox as of each backup: the invoice folder's message is
	// there in the first, gone in the second.
	top, err := e.svc.Browse(ctx, ui.BrowseRequest{Account: "home-alice", Kind: ui.ItemEmail, At: backups[1]})
	if err != nil {
		t.Fatal(err)
	}
	if !top.At.Equal(backups[1]) || len(top.Folders) != 1 || top.Folders[0].Folder != "Inbox" || len(top.Items) != 0 {
		t.Errorf("top of the mailbox = %+v", top)
	}
	old, err := e.svc.Browse(ctx, ui.BrowseRequest{Account: "home-alice", Kind: ui.ItemEmail, At: backups[1], Folder: "Inbox/Invoices"})
	if err != nil {
		t.Fatal(err)
	}
	now, err := e.svc.Browse(ctx, ui.BrowseRequest{Account: "home-alice", Kind: ui.ItemEmail, At: backups[0], Folder: "Inbox/Invoices"})
	if err != nil {
		t.Fatal(err)
	}
	if len(old.Items) != len(now.Items)+1 || !containsName(old.Items, inv.Name) || containsName(now.Items, inv.Name) {
		t.Errorf("Invoices then: %d items, now %d", len(old.Items), len(now.Items))
	}
	for i := 1; i < len(old.Items); i++ {
		if old.Items[i].Date.After(old.Items[i-1].Date) {
			t.Errorf("mail is not newest first: %v after %v", old.Items[i].Date, old.Items[i-1].Date)
		}
	}
	fileBackups, err := e.svc.Backups(ctx, "home-alice", ui.ItemFile)
	if err != nil || len(fileBackups) != 2 {
		t.Fatalf("file backups = %v, %v", fileBackups, err)
	}
	files, err := e.svc.Browse(ctx, ui.BrowseRequest{Account: "home-alice", Kind: ui.ItemFile, At: fileBackups[1], Folder: "Documents"})
	if err != nil {
		t.Fatal(err)
	}
	if len(files.Folders) != 1 || files.Folders[0].Folder != "Documents/Notes" || !containsName(files.Items, "budget.xlsx") {
		t.Errorf("Documents then = %+v", files)
	}
}

func containsName(items []ui.RestoreItem, name string) bool {
	for _, it := range items {
		if it.Name == name {
			return true
		}
	}
	return false
}

func TestGUIRestoreToThisComputer(t *testing.T) {
	e := newRestoreEnv(t)
	ctx := t.Context()
	dir := t.TempDir()
	inv := e.find("quarterly invoice")
	budget := e.find("budget")
	vs, err := e.svc.Versions(ctx, budget)
	if err != nil {
		t.Fatal(err)
	}
	req := ui.RestoreRequest{Items: []ui.RestoreItem{inv, vs[1].RestoreItem}, To: ui.ToComputer, Dir: dir}

	plan, err := e.svc.Plan(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Steps) != 2 || plan.Bytes != int64(len(e.invoice)+len(e.budget1)) {
		t.Fatalf("plan = %+v", plan)
	}
	for _, s := range plan.Steps {
		if s.Action != ui.PlanCreate || !strings.HasPrefix(s.Where, dir) {
			t.Errorf("step %+v: want a create below %s", s, dir)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("the dry run wrote %d entries", len(entries))
	}

	var progress []ui.RestoreProgress
	out, err := e.svc.Restore(ctx, req, func(p ui.RestoreProgress) { progress = append(progress, p) })
	if err != nil {
		t.Fatal(err)
	}
	if out.Restored != 2 || len(out.Failed) != 0 || out.LocalDir != dir || out.WebURL != "" {
		t.Errorf("outcome = %+v", out)
	}
	if len(progress) == 0 || progress[len(progress)-1].Total != 2 {
		t.Errorf("progress = %+v", progress)
	}
	// The exact backed-up bytes: the MIME as an .eml, Tuesday's budget.
	var eml, xlsx string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case strings.HasSuffix(p, ".eml"):
			eml = p
		case strings.HasSuffix(p, "budget.xlsx"):
			xlsx = p
		}
		return nil
	})
	if b, err := os.ReadFile(eml); err != nil || !bytes.Equal(b, e.invoice) {
		t.Errorf("restored message %q: %v (equal: %v)", eml, err, bytes.Equal(b, e.invoice))
	}
	b, err := os.ReadFile(xlsx)
	if err != nil || !bytes.Equal(b, e.budget1) {
		t.Errorf("restored budget %q is not the first version: %v", xlsx, err)
	}
	if fi, err := os.Stat(xlsx); err != nil || !fi.ModTime().Equal(e.budget1Mod) {
		t.Errorf("budget modified %v, want %v (%v)", fi.ModTime(), e.budget1Mod, err)
	}

	// Again: both are there now, so each conflict mode says so.
	for _, c := range []struct {
		mode ui.ConflictMode
		want ui.PlanAction
	}{{ui.ConflictKeepBoth, ui.PlanRename}, {ui.ConflictOverwrite, ui.PlanOverwrite}, {ui.ConflictSkip, ui.PlanSkip}} {
		req.Conflict = c.mode
		plan, err := e.svc.Plan(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range plan.Steps {
			if s.Action != c.want {
				t.Errorf("mode %d: step %+v, want action %d", c.mode, s, c.want)
			}
			if c.want == ui.PlanRename && s.Kind == ui.ItemFile && s.NewName != "budget (1).xlsx" {
				t.Errorf("kept both under %q, want budget (1).xlsx", s.NewName)
			}
		}
	}
}

func TestGUIRestoreWholeFolderAsOfDate(t *testing.T) {
	e := newRestoreEnv(t)
	ctx := t.Context()
	backups, err := e.svc.Backups(ctx, "home-alice", ui.ItemEmail)
	if err != nil {
		t.Fatal(err)
	}
	old, err := e.svc.Browse(ctx, ui.BrowseRequest{Account: "home-alice", Kind: ui.ItemEmail, At: backups[1], Folder: "Inbox/Invoices"})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	req := ui.RestoreRequest{Folders: []ui.FolderChoice{{Account: "home-alice", Kind: ui.ItemEmail, Folder: "Inbox/Invoices", At: backups[1]}},
		To: ui.ToComputer, Dir: dir}
	out, err := e.svc.Restore(ctx, req, func(ui.RestoreProgress) {})
	if err != nil {
		t.Fatal(err)
	}
	var emls int
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".eml") {
			emls++
		}
		return err
	})
	if out.Restored != len(old.Items) || emls != len(old.Items) {
		t.Errorf("restored %d (%d .eml files), the folder held %d then", out.Restored, emls, len(old.Items))
	}
}

func TestGUIRestoreExplainsProblems(t *testing.T) {
	e := newRestoreEnv(t)
	ctx := t.Context()
	inv := e.find("quarterly invoice")
	_, err := e.svc.Plan(ctx, ui.RestoreRequest{Items: []ui.RestoreItem{inv}, To: ui.ToComputer, Dir: "relative/dir"})
	var p *ui.RestoreProblem
	if !errors.As(err, &p) || !strings.Contains(p.What, "whole folder") {
		t.Errorf("relative folder: %v", err)
	}
	bogus := inv
	bogus.ID = "999999"
	_, err = e.svc.Preview(ctx, bogus)
	if !errors.As(err, &p) || !errors.Is(err, catalog.ErrNotFound) || p.Todo == "" {
		t.Errorf("unknown version: %v", err)
	}
	bogus.ID = "../../etc"
	if _, err := e.svc.Preview(ctx, bogus); err == nil {
		t.Error("a malformed handle was accepted")
	}
}

// wizardDriver drives the real restore wizard in Fyne's test window:
// every UI update is queued and run on the test goroutine.
type wizardDriver struct {
	t     *testing.T
	win   fyne.Window
	queue chan func()
	shots string
}

func newWizardDriver(t *testing.T, svc ui.RestoreService, folder string) *wizardDriver {
	t.Helper()
	test.NewTempApp(t)
	d := &wizardDriver{t: t, queue: make(chan func(), 4096), shots: os.Getenv("LIFEBOAT_SHOTS_DIR")}
	if d.shots == "" {
		d.shots = t.TempDir()
	}
	d.win = test.NewWindow(nil)
	d.win.SetContent(ui.NewRestoreWizard(d.win, svc, ui.RestoreWizardOptions{
		Do:           func(f func()) { d.queue <- f },
		Debounce:     time.Millisecond,
		ChooseFolder: func(done func(string)) { done(folder) },
		OpenURL:      func(string) error { return nil },
	}))
	d.win.Resize(fyne.NewSize(1000, 680))
	t.Cleanup(d.win.Close)
	return d
}

// eventually runs queued UI updates until cond holds.
func (d *wizardDriver) eventually(what string, cond func() bool) {
	d.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		select {
		case f := <-d.queue:
			f()
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("timed out waiting for %s; the window shows:\n%s", what, strings.Join(shownTexts(d.win.Content()), "\n"))
		}
	}
}

// until runs queued UI updates until the window shows every want.
func (d *wizardDriver) until(wants ...string) {
	d.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case f := <-d.queue:
			f()
			continue
		case <-time.After(5 * time.Millisecond):
		}
		text := strings.Join(shownTexts(d.win.Content()), "\n")
		missing := ""
		for _, w := range wants {
			if !strings.Contains(text, w) {
				missing = w
				break
			}
		}
		if missing == "" {
			return
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("the wizard never showed %q; it shows:\n%s", missing, text)
		}
	}
}

// shot saves what the window shows as a PNG and checks it is not blank.
func (d *wizardDriver) shot(name string) {
	d.t.Helper()
	img := d.win.Canvas().Capture()
	if blank(img) {
		d.t.Errorf("screenshot %s is blank", name)
	}
	f, err := os.Create(filepath.Join(d.shots, "restore-"+name+".png"))
	if err != nil {
		d.t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		d.t.Fatal(err)
	}
}

// find returns the first shown object that matches.
func (d *wizardDriver) find(match func(fyne.CanvasObject) bool) fyne.CanvasObject {
	d.t.Helper()
	found := find(d.win.Content(), match)
	if found == nil {
		d.t.Fatal("no such widget in the window")
	}
	return found
}

func (d *wizardDriver) button(text string) *widget.Button {
	d.t.Helper()
	var b *widget.Button
	d.eventually("an enabled "+text+" button", func() bool { b = enabledButton(d.win.Content(), text); return b != nil })
	return b
}

// tapRow taps the list row that shows text, once it is shown.
func (d *wizardDriver) tapRow(text string) {
	d.t.Helper()
	var row fyne.Tappable
	d.eventually("a row showing "+text, func() bool { row = rowShowing(d.win.Content(), text); return row != nil })
	test.Tap(row)
}

// blank says whether an image is one colour (nothing was painted).
func blank(img image.Image) bool {
	b := img.Bounds()
	first := img.At(b.Min.X, b.Min.Y)
	for y := b.Min.Y; y < b.Max.Y; y += 5 {
		for x := b.Min.X; x < b.Max.X; x += 5 {
			if img.At(x, y) != first {
				return false
			}
		}
	}
	return true
}

func find(root fyne.CanvasObject, match func(fyne.CanvasObject) bool) fyne.CanvasObject {
	var found fyne.CanvasObject
	walkShown(root, nil, func(o fyne.CanvasObject, _ []fyne.CanvasObject) bool {
		if match(o) {
			found = o
		}
		return found == nil
	})
	return found
}

// enabledButton returns the shown, enabled button labelled text, or nil.
func enabledButton(root fyne.CanvasObject, text string) *widget.Button {
	b, _ := find(root, func(o fyne.CanvasObject) bool {
		v, ok := o.(*widget.Button)
		return ok && v.Text == text && !v.Disabled()
	}).(*widget.Button)
	return b
}

// rowShowing returns the tappable parent (a list row) of the label that
// shows text, or nil.
func rowShowing(root fyne.CanvasObject, text string) fyne.Tappable {
	var row fyne.Tappable
	walkShown(root, nil, func(o fyne.CanvasObject, parents []fyne.CanvasObject) bool {
		if l, ok := o.(*widget.Label); ok && l.Text == text {
			for i := len(parents) - 1; i >= 0 && row == nil; i-- {
				row, _ = parents[i].(fyne.Tappable)
			}
		}
		return row == nil
	})
	return row
}

func walkShown(o fyne.CanvasObject, parents []fyne.CanvasObject, fn func(o fyne.CanvasObject, parents []fyne.CanvasObject) bool) bool {
	if o == nil || !o.Visible() {
		return true
	}
	if !fn(o, parents) {
		return false
	}
	parents = append(parents, o)
	switch v := o.(type) {
	case *fyne.Container:
		for _, c := range v.Objects {
			if !walkShown(c, parents, fn) {
				return false
			}
		}
	case *widget.Label, *widget.Button, *widget.Entry, *widget.RadioGroup, *widget.Check, *widget.Select:
	case *container.AppTabs:
		if t := v.Selected(); t != nil {
			return walkShown(t.Content, parents, fn)
		}
	case fyne.Widget:
		for _, c := range test.WidgetRenderer(v).Objects() {
			if !walkShown(c, parents, fn) {
				return false
			}
		}
	}
	return true
}

func shownTexts(o fyne.CanvasObject) []string {
	var out []string
	walkShown(o, nil, func(o fyne.CanvasObject, _ []fyne.CanvasObject) bool {
		switch v := o.(type) {
		case *widget.Label:
			out = append(out, v.Text)
		case *widget.Button:
			out = append(out, "["+v.Text+"]")
		case *widget.Select:
			out = append(out, "<"+v.Selected+">")
		}
		return true
	})
	return out
}

// TestRestoreWizardWithTheRealEngine finds the deleted invoice and the
// deleted todo.txt through the wizard, as a person would, and restores
// them to a folder on this computer; the screenshots of each step go to
// LIFEBOAT_SHOTS_DIR when it is set.
func TestRestoreWizardWithTheRealEngine(t *testing.T) {
	e := newRestoreEnv(t)
	dir := t.TempDir()
	d := newWizardDriver(t, e.svc, dir)
	d.until("Find what you want back", "Choose something in the list to see it here.")
	d.shot("1-find-empty")

	entry := d.find(func(o fyne.CanvasObject) bool { _, ok := o.(*widget.Entry); return ok }).(*widget.Entry)
	test.Type(entry, "invoice")
	d.until("Quarterly invoice Q1 – flour", "Anna Supplier <anna@flour.example>")
	d.tapRow("Quarterly invoice Q1 – flour")
	d.until("please pay by Friday", "invoice-0314.pdf (4 KB)", "Deleted: the backup of")
	d.shot("2-find-search-preview")

	// Recently deleted shows both things that were deleted.
	tabs := d.find(func(o fyne.CanvasObject) bool { _, ok := o.(*container.AppTabs); return ok }).(*container.AppTabs)
	tabs.SelectIndex(3)
	d.until("What was deleted (emails, files, appointments, contacts), most recently deleted first.", "todo.txt", "Quarterly invoice Q1 – flour")
	d.shot("3-find-recently-deleted")
	tabs.SelectIndex(1)
	d.until("All folders", "Inbox", "(latest)")
	d.tapRow("Inbox")
	d.until("All folders › Inbox", "Invoices")
	d.shot("4-find-browse-mail")
	tabs.SelectIndex(3)
	d.until("todo.txt")
	d.tapRow("todo.txt")
	d.until("Folder: OneDrive/Documents/Notes (Alice Archer's OneDrive)", "Type: Text")

	test.Tap(d.button("Next"))
	d.until("Choose which version", "The backup holds one version of “todo.txt”.", "the last before it was deleted")
	d.shot("5-version")
	test.Tap(d.button("Next"))
	d.until("Choose where to put it", "Into OneDrive/Documents/Notes (Alice Archer's OneDrive).")
	radio := d.find(func(o fyne.CanvasObject) bool {
		r, ok := o.(*widget.RadioGroup)
		return ok && len(r.Options) == 1 && r.Options[0] == "In a folder on this computer"
	}).(*widget.RadioGroup)
	radio.SetSelected("In a folder on this computer")
	test.Tap(d.button("Choose folder…"))
	d.until("Choose where to put it")
	d.shot("6-where")
	test.Tap(d.button("Next"))
	d.until("Lifeboat will restore 1 file (9 bytes).", "1 file will be saved in "+filepath.Join(dir, "OneDrive", "Documents", "Notes"))
	d.shot("7-review")
	test.Tap(d.button("Put it back"))
	d.until("Done", "1 file was saved in "+dir+".", "[Open folder]")
	d.shot("8-done")
	b, err := os.ReadFile(filepath.Join(dir, "OneDrive", "Documents", "Notes", "todo.txt"))
	if err != nil || string(b) != "buy milk\n" {
		t.Errorf("restored todo.txt = %q, %v", b, err)
	}

	// Again into the same folder: it is there now, so Review offers the choice.
	test.Tap(d.button("Get something else back"))
	d.until("Find what you want back")
	tabs.SelectIndex(3)
	d.until("todo.txt")
	d.tapRow("todo.txt")
	d.until("Type: Text")
	test.Tap(d.button("Next"))
	d.until("The backup holds one version")
	test.Tap(d.button("Next"))
	d.until("Choose where to put it")
	radio = d.find(func(o fyne.CanvasObject) bool {
		r, ok := o.(*widget.RadioGroup)
		return ok && len(r.Options) == 1 && r.Options[0] == "In a folder on this computer"
	}).(*widget.RadioGroup)
	radio.SetSelected("In a folder on this computer")
	test.Tap(d.button("Choose folder…"))
	test.Tap(d.button("Next"))
	d.until("todo.txt exists in "+filepath.Join(dir, "OneDrive", "Documents", "Notes")+"; Lifeboat will keep both and name the restored one todo (1).txt",
		"Some of these are already there. What should Lifeboat do?")
	d.shot("9-review-conflict")
	test.Tap(d.button("Put it back"))
	d.until("Done", "so Lifeboat kept both: the restored copy has a new name next to it.")
	if b, err := os.ReadFile(filepath.Join(dir, "OneDrive", "Documents", "Notes", "todo (1).txt")); err != nil || string(b) != "buy milk\n" {
		t.Errorf("kept both: todo (1).txt = %q, %v", b, err)
	}
}

// restoredInvoice returns the copies of the invoice in the simulator's
// Inbox/Invoices.
func (e *restoreEnv) restoredInvoice() []m365sim.Message {
	e.t.Helper()
	ms, err := e.tn.FindMessages(simtest.Alice, "Quarterly invoice")
	if err != nil {
		e.t.Fatal(err)
	}
	var out []m365sim.Message
	for _, m := range ms {
		if p, _ := e.tn.FolderPath(simtest.Alice, m.FolderID); p == "Inbox/Invoices" && m.Header.InternetMessageID == "<inv-q1@flour.example>" {
			out = append(out, m)
		}
	}
	return out
}

// checkPutBack asserts that the deleted invoice and todo.txt are back in
// Microsoft 365 exactly: a received (not draft) message with its dates,
// read state, flag and attachment, and the file with its bytes and time.
func (e *restoreEnv) checkPutBack(todoMod time.Time) {
	e.t.Helper()
	got := e.restoredInvoice()
	if len(got) != 1 {
		e.t.Fatalf("%d copies of the invoice in Inbox/Invoices, want 1", len(got))
	}
	m := got[0]
	if m.IsDraft || !m.IsRead || m.FlagStatus != "flagged" {
		e.t.Errorf("restored message: draft %v, read %v, flag %q", m.IsDraft, m.IsRead, m.FlagStatus)
	}
	if want := time.Date(2026, 3, 14, 9, 30, 0, 0, time.UTC); !m.Header.Sent.Equal(want) {
		e.t.Errorf("sent %v, want %v", m.Header.Sent, want)
	}
	pdf := bytes.Repeat([]byte("%PDF-1.4 fake invoice "), 200)
	if len(m.Attachments) != 1 || m.Attachments[0].Name != "invoice-0314.pdf" || !bytes.Equal(m.Attachments[0].Content, pdf) {
		e.t.Errorf("attachments of the restored message: %d", len(m.Attachments))
	}
	todo, err := e.tn.DriveItemByPath(simtest.Alice, "Documents/Notes/todo.txt")
	if err != nil {
		e.t.Fatalf("todo.txt is not back: %v", err)
	}
	if b := readContent(e.t, todo.Content); string(b) != "buy milk\n" || !todo.FSModified.Equal(todoMod) {
		e.t.Errorf("todo.txt: %q modified %v, want %v", b, todo.FSModified, todoMod)
	}
}

func TestGUIRestoreBackIntoMicrosoft365(t *testing.T) {
	e := newRestoreEnv(t)
	ctx := t.Context()
	inv := e.find("quarterly invoice")
	todo := e.find("todo")
	req := ui.RestoreRequest{Items: []ui.RestoreItem{inv, todo}, To: ui.ToOriginal}
	plan, err := e.svc.Plan(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	wheres := map[string]ui.PlanAction{}
	for _, s := range plan.Steps {
		wheres[s.Where] = s.Action
	}
	if len(plan.Steps) != 2 || wheres["Inbox/Invoices"] != ui.PlanCreate || wheres["OneDrive/Documents/Notes"] != ui.PlanCreate {
		t.Fatalf("plan = %+v", plan)
	}
	if n := len(e.restoredInvoice()); n != 0 {
		t.Fatalf("the dry run restored %d messages", n)
	}
	out, err := e.svc.Restore(ctx, req, func(ui.RestoreProgress) {})
	if err != nil {
		t.Fatal(err)
	}
	if out.Restored != 2 || len(out.Failed) != 0 {
		t.Errorf("outcome %+v", out)
	}
	e.checkPutBack(time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC))

	// Again: keep both gives a second copy of each; skip leaves them.
	req.Conflict = ui.ConflictSkip
	out, err = e.svc.Restore(ctx, req, func(ui.RestoreProgress) {})
	if err != nil || out.Skipped != 2 || out.Restored != 0 {
		t.Errorf("skip: %+v, %v", out, err)
	}
	req.Conflict = ui.ConflictKeepBoth
	plan, err = e.svc.Plan(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range plan.Steps {
		if s.Action != ui.PlanRename || (s.Kind == ui.ItemFile && s.NewName != "todo (1).txt") {
			t.Errorf("keep both: %+v", s)
		}
	}

	// Into a new folder.
	out, err = e.svc.Restore(ctx, ui.RestoreRequest{Items: []ui.RestoreItem{todo}, To: ui.ToNewFolder}, func(ui.RestoreProgress) {})
	if err != nil || out.Restored != 1 {
		t.Fatalf("new folder: %+v, %v", out, err)
	}
	if !strings.Contains(out.Where, "Restored by Lifeboat") {
		t.Errorf("where = %q", out.Where)
	}
	p := restore.NewFolderName(time.Now()) + "/Documents/Notes/todo.txt"
	if it, err := e.tn.DriveItemByPath(simtest.Alice, p); err != nil || string(readContent(t, it.Content)) != "buy milk\n" {
		t.Errorf("%s: %v", p, err)
	}
}

// tickRow taps the check box of the shown row with text, once it is shown.
func (d *wizardDriver) tickRow(text string) {
	d.t.Helper()
	var chk *widget.Check
	d.eventually("a check box for "+text, func() bool {
		walkShown(d.win.Content(), nil, func(o fyne.CanvasObject, parents []fyne.CanvasObject) bool {
			if l, ok := o.(*widget.Label); ok && l.Text == text && len(parents) > 0 {
				if row, ok := parents[len(parents)-1].(*fyne.Container); ok && len(row.Objects) > 0 {
					chk, _ = row.Objects[0].(*widget.Check)
				}
			}
			return chk == nil
		})
		return chk != nil
	})
	test.Tap(chk)
}

// TestRestoreWizardPutsBackIntoMicrosoft365 is the owner's five clicks:
// tick the deleted invoice and todo.txt in Recently deleted, keep "Back
// where it was", read the review, put them back; the simulator then holds
// both exactly as they were.
func TestRestoreWizardPutsBackIntoMicrosoft365(t *testing.T) {
	e := newRestoreEnv(t)
	d := newWizardDriver(t, e.svc, "")
	tabs := d.find(func(o fyne.CanvasObject) bool { _, ok := o.(*container.AppTabs); return ok }).(*container.AppTabs)
	tabs.SelectIndex(3)
	d.until("Quarterly invoice Q1 – flour", "todo.txt")
	d.tickRow("Quarterly invoice Q1 – flour")
	d.tickRow("todo.txt")
	d.until("1 email and 1 file chosen")
	d.shot("b1-bulk-chosen")
	test.Tap(d.button("Next"))
	d.until("Choose where to put it", "Each one goes back into the folder it came from.")
	test.Tap(d.button("Next"))
	d.until("Lifeboat will restore 1 email and 1 file", "• 1 email will be put back in Inbox/Invoices",
		"• 1 file will be put back in OneDrive/Documents/Notes")
	d.shot("b2-bulk-review")
	test.Tap(d.button("Put it back"))
	d.until("Done", "2 items were put back.")
	d.shot("b3-bulk-done")
	e.checkPutBack(time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC))
}

// TestGUIRestoreOpensTheAppsBackup opens the restore wizard the way the
// dashboard does — on the backup the app made, on a computer whose catalog
// is gone (it comes back from the backup's own copy) — and puts a deleted
// email back into the mailbox.
func TestGUIRestoreOpensTheAppsBackup(t *testing.T) {
	e, srv, _, logs := testGUIEnv(t, m365sim.Options{AutoApprove: 10 * time.Millisecond, DeviceCodeInterval: time.Second})
	ctx := t.Context()
	if err := (accounts{e}).SignIn(ctx, func(ui.SignInUpdate) {}); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "Lifeboat Backup")
	if _, err := (destinations{e}).Create(ctx, dir); err != nil {
		t.Fatal(err)
	}
	backUp := func() {
		t.Helper()
		if res := (backupRunner{e}).Backup(ctx, func(ui.Progress) {}); res.Outcome != ui.OutcomeDone {
			t.Fatalf("backup: %+v\n%s", res, logs)
		}
	}
	backUp()
	tn := srv.Tenant()
	ms, err := tn.FindMessages(simtest.Alice, "Invoice 0005 for March")
	if err != nil || len(ms) != 1 {
		t.Fatalf("seed message: %v %d", err, len(ms))
	}
	if err := tn.DeleteMessage(simtest.Alice, ms[0].ID); err != nil {
		t.Fatal(err)
	}
	backUp()
	set, err := service.LoadSettings(e.Service().ConfigDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(e.Service().ConfigDir(), "catalogs", set.RepositoryID+".db")); err != nil {
		t.Fatal(err)
	}

	svc, closeAll, err := e.OpenRestoreService(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer closeAll()
	d := newWizardDriver(t, svc, "")
	tabs := d.find(func(o fyne.CanvasObject) bool { _, ok := o.(*container.AppTabs); return ok }).(*container.AppTabs)
	tabs.SelectIndex(3)
	d.until("Invoice 0005 for March")
	d.tapRow("Invoice 0005 for March")
	d.until("From: Paul Supplier <paul@supplier.example>")
	test.Tap(d.button("Next"))
	d.until("Choose which version")
	test.Tap(d.button("Next"))
	d.until("Into Inbox/Invoices in Alice Archer's mailbox.")
	test.Tap(d.button("Next"))
	d.until("• 1 email will be put back in Inbox/Invoices")
	test.Tap(d.button("Put it back"))
	d.until("Done", "1 email was put back.")
	back, err := tn.FindMessages(simtest.Alice, "Invoice 0005 for March")
	if err != nil || len(back) != 1 || back[0].IsDraft || back[0].Header.InternetMessageID != ms[0].Header.InternetMessageID {
		t.Fatalf("after the restore: %d messages (%v)", len(back), err)
	}
	if p, _ := tn.FolderPath(simtest.Alice, back[0].FolderID); p != "Inbox/Invoices" {
		t.Errorf("restored into %q", p)
	}

	// The drive unplugged: the owner is told so.
	if err := e.Service().UpdateSettings(func(st *service.Settings) { st.Destination = filepath.Join(t.TempDir(), "unplugged") }); err != nil {
		t.Fatal(err)
	}
	_, _, err = e.OpenRestoreService(ctx)
	if what, todo := service.ExplainOpen(err); what != "The backup drive or folder is not there." || todo == "" {
		t.Errorf("unplugged drive: %v → %q %q", err, what, todo)
	}
}

// TestGUIRestoreContinuesAfterStop stops a bulk restore after its first
// item; the next plan of the same restore says what was already put back,
// and running it finishes the rest without doing anything twice.
func TestGUIRestoreContinuesAfterStop(t *testing.T) {
	e := newRestoreEnv(t)
	e.svc = e.restoreService(1)
	backups, err := e.svc.Backups(t.Context(), "home-alice", ui.ItemEmail)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	req := ui.RestoreRequest{Folders: []ui.FolderChoice{{Account: "home-alice", Kind: ui.ItemEmail, Folder: "Inbox/Invoices", At: backups[1]}},
		To: ui.ToComputer, Dir: dir}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	first, err := e.svc.Restore(ctx, req, func(p ui.RestoreProgress) {
		if p.Done >= 1 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("stopped restore: %+v, %v", first, err)
	}
	plan, err := e.svc.Plan(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	done := 0
	for _, s := range plan.Steps {
		if s.Action == ui.PlanDone {
			done++
		}
	}
	if done == 0 || done != first.Restored || done == len(plan.Steps) {
		t.Fatalf("after stopping: %d of %d steps already done, the stopped run restored %d", done, len(plan.Steps), first.Restored)
	}
	out, err := e.svc.Restore(t.Context(), req, func(ui.RestoreProgress) {})
	if err != nil || out.Restored != len(plan.Steps) || out.Renamed != 0 {
		t.Fatalf("continuing: %+v, %v", out, err)
	}
	var emls int
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".eml") {
			emls++
		}
		return err
	})
	if emls != len(plan.Steps) {
		t.Errorf("%d .eml files for %d messages: something was done twice or not at all", emls, len(plan.Steps))
	}
}
