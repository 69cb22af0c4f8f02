package ui

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

// fakeRestore is a small in-memory RestoreService: the engine is not the
// point of these tests (app/guirestore_test.go drives the real one).
type fakeRestore struct {
	mu       sync.Mutex
	accounts []RestoreAccount
	backups  []time.Time
	items    []RestoreItem // newest version of everything, deleted ones too
	versions map[string][]ItemVersion
	// existing names at the destination (Where + "/" + Name) for Plan.
	existing map[string]bool
	// searches records the search texts asked for.
	searches []string
	plans    []RestoreRequest
	restores []RestoreRequest
	// restoreErr fails Restore; block makes it wait for ctx.
	restoreErr error
	failed     []RestoreFailure
	block      bool
	started    chan struct{}
}

var (
	testNow = time.Date(2026, 11, 27, 15, 0, 0, 0, time.UTC)
	paul    = RestoreAccount{ID: "acct-paul", Name: "Paul Baker", Email: "paul@contoso.test"}
)

func newFakeRestore() *fakeRestore {
	f := &fakeRestore{
		accounts: []RestoreAccount{paul},
		backups:  []time.Time{testNow.Add(-2 * time.Hour), testNow.Add(-26 * time.Hour), testNow.Add(-50 * time.Hour)},
		existing: map[string]bool{},
		versions: map[string][]ItemVersion{},
		started:  make(chan struct{}, 1),
	}
	f.items = []RestoreItem{
		{ID: "v-inv", Item: "m-inv", Kind: ItemEmail, Account: paul, Name: "Invoice March", From: "Anna Supplier <anna@flour.test>",
			Folder: "Inbox/Invoices", Date: time.Date(2026, 3, 14, 9, 30, 0, 0, time.UTC), Size: 48200, Deleted: testNow.Add(-26 * time.Hour), Attachment: true},
		{ID: "v-lunch", Item: "m-lunch", Kind: ItemEmail, Account: paul, Name: "Lunch on Friday?", From: "Zoe Bakker <zoe@contoso.test>",
			Folder: "Inbox", Date: testNow.Add(-3 * time.Hour), Size: 2100},
		{ID: "v-budget3", Item: "f-budget", Kind: ItemFile, Account: paul, Name: "budget.xlsx", Folder: "Documents",
			Date: testNow.Add(-24 * time.Hour), Size: 1_250_000},
	}
	f.versions["f-budget"] = []ItemVersion{
		{RestoreItem: withID(f.items[2], "v-budget1", testNow.Add(-72*time.Hour)), Seen: testNow.Add(-72 * time.Hour), Until: testNow.Add(-50 * time.Hour)},
		{RestoreItem: f.items[2], Seen: testNow.Add(-26 * time.Hour), Current: true},
		{RestoreItem: withID(f.items[2], "v-budget2", testNow.Add(-49*time.Hour)), Seen: testNow.Add(-50 * time.Hour), Until: testNow.Add(-26 * time.Hour)},
	}
	return f
}

func withID(it RestoreItem, id string, date time.Time) RestoreItem {
	it.ID, it.Date = id, date
	return it
}

func (f *fakeRestore) Accounts(context.Context) ([]RestoreAccount, error) { return f.accounts, nil }

func (f *fakeRestore) Backups(_ context.Context, account string, _ ItemKind) ([]time.Time, error) {
	return f.backups, nil
}

func (f *fakeRestore) Browse(_ context.Context, q BrowseRequest) (FolderListing, error) {
	l := FolderListing{At: q.At}
	subs := map[string]bool{}
	for _, it := range f.items {
		if it.Kind != q.Kind || (!it.Deleted.IsZero() && !it.Deleted.After(q.At)) {
			continue
		}
		switch {
		case it.Folder == q.Folder:
			l.Items = append(l.Items, it)
		case q.Folder == "" || strings.HasPrefix(it.Folder, q.Folder+"/"):
			rest := strings.TrimPrefix(strings.TrimPrefix(it.Folder, q.Folder), "/")
			sub := strings.SplitN(rest, "/", 2)[0]
			path := strings.TrimPrefix(q.Folder+"/"+sub, "/")
			if !subs[path] {
				subs[path] = true
				l.Folders = append(l.Folders, RestoreItem{Kind: q.Kind, Account: paul, Folder: path, Name: sub})
			}
		}
	}
	return l, nil
}

func (f *fakeRestore) Search(_ context.Context, q RestoreSearch) ([]RestoreItem, error) {
	f.mu.Lock()
	f.searches = append(f.searches, q.Text)
	f.mu.Unlock()
	var out []RestoreItem
	for _, it := range f.items {
		if strings.Contains(strings.ToLower(it.Name+" "+it.From), strings.ToLower(q.Text)) {
			out = append(out, it)
		}
	}
	return out, nil
}

func (f *fakeRestore) RecentlyDeleted(context.Context, int) ([]RestoreItem, error) {
	var out []RestoreItem
	for _, it := range f.items {
		if !it.Deleted.IsZero() {
			out = append(out, it)
		}
	}
	return out, nil
}

func (f *fakeRestore) Versions(_ context.Context, it RestoreItem) ([]ItemVersion, error) {
	if vs, ok := f.versions[it.Item]; ok {
		return vs, nil
	}
	return []ItemVersion{{RestoreItem: it, Seen: it.Date, Current: it.Deleted.IsZero()}}, nil
}

func (f *fakeRestore) Preview(_ context.Context, it RestoreItem) (ItemPreview, error) {
	if it.Kind == ItemEmail {
		return ItemPreview{Kind: ItemEmail, Subject: it.Name, From: it.From, To: "Paul Baker <paul@contoso.test>", Date: it.Date,
			Body: "Body of " + it.Name + ".\nPlease pay within 30 days.", Attachments: []PreviewAttachment{{Name: "invoice-0314.pdf", Size: 45000}}}, nil
	}
	return ItemPreview{Kind: ItemFile, Name: it.Name, Folder: it.Folder, Size: it.Size, Modified: it.Date, Type: "Excel workbook"}, nil
}

func (f *fakeRestore) where(it RestoreItem, req RestoreRequest) string {
	switch req.To {
	case ToNewFolder:
		return "Restored by Lifeboat 2026-11-27/" + it.Folder
	case ToComputer:
		return req.Dir + "/" + it.Folder
	}
	if it.Kind == ItemFile {
		return "OneDrive/" + it.Folder
	}
	return it.Folder
}

func (f *fakeRestore) Plan(_ context.Context, req RestoreRequest) (RestorePlan, error) {
	f.mu.Lock()
	f.plans = append(f.plans, req)
	f.mu.Unlock()
	var p RestorePlan
	items := slices.Clone(req.Items)
	for _, fc := range req.Folders {
		for _, it := range f.items {
			if it.Kind == fc.Kind && (it.Folder == fc.Folder || strings.HasPrefix(it.Folder, fc.Folder+"/")) {
				items = append(items, it)
			}
		}
	}
	for _, it := range items {
		where := f.where(it, req)
		s := PlanStep{Action: PlanCreate, Kind: it.Kind, Name: it.Name, Where: where}
		if f.existing[where+"/"+it.Name] {
			switch req.Conflict {
			case ConflictKeepBoth:
				s.Action = PlanRename
				if it.Kind == ItemFile {
					ext := it.Name[strings.LastIndex(it.Name, "."):]
					s.NewName = strings.TrimSuffix(it.Name, ext) + " (1)" + ext
				}
			case ConflictOverwrite:
				s.Action = PlanOverwrite
			case ConflictSkip:
				s.Action = PlanSkip
			}
		}
		p.Steps = append(p.Steps, s)
		p.Bytes += it.Size
	}
	return p, nil
}

func (f *fakeRestore) Restore(ctx context.Context, req RestoreRequest, progress func(RestoreProgress)) (RestoreOutcome, error) {
	f.mu.Lock()
	f.restores = append(f.restores, req)
	f.mu.Unlock()
	p, _ := f.Plan(ctx, req)
	var out RestoreOutcome
	progress(RestoreProgress{Total: len(p.Steps)})
	if f.block {
		f.started <- struct{}{}
		<-ctx.Done()
		return out, ctx.Err()
	}
	if f.restoreErr != nil {
		return out, f.restoreErr
	}
	for i, s := range p.Steps {
		switch s.Action {
		case PlanCreate:
			out.Restored++
		case PlanRename:
			out.Renamed++
		case PlanOverwrite:
			out.Overwritten++
		case PlanSkip:
			out.Skipped++
		}
		progress(RestoreProgress{Done: i + 1, Total: len(p.Steps), Current: s.Name})
	}
	out.Failed = f.failed
	out.Restored -= len(f.failed)
	if req.To == ToComputer {
		out.LocalDir = req.Dir
	} else {
		out.WebURL = "https://outlook.office.com/mail/"
	}
	return out, nil
}

// harness is a wizard in a test window.
type harness struct {
	t      *testing.T
	w      *restoreWizard
	win    fyne.Window
	svc    *fakeRestore
	opened []string
	folder string
	// queue holds the wizard's UI updates; settle runs them on the test
	// goroutine, so only one goroutine ever touches widgets.
	queue chan func()
}

// settle runs queued UI updates until no background work is left.
func (h *harness) settle() {
	for {
		h.w.jobs.Wait()
		ran := false
		for done := false; !done; {
			select {
			case f := <-h.queue:
				f()
				ran = true
			default:
				done = true
			}
		}
		if !ran {
			return
		}
	}
}

func newHarness(t *testing.T, svc *fakeRestore) *harness {
	t.Helper()
	test.NewTempApp(t)
	h := &harness{t: t, svc: svc, folder: "/home/paul/Restored", queue: make(chan func(), 10000)}
	h.win = test.NewWindow(nil)
	h.w = newRestoreWizard(h.win, svc, RestoreWizardOptions{
		Do:           func(f func()) { h.queue <- f },
		Debounce:     20 * time.Millisecond,
		Now:          func() time.Time { return testNow },
		OpenURL:      func(u string) error { h.opened = append(h.opened, u); return nil },
		ChooseFolder: func(done func(string)) { done(h.folder) },
	})
	h.win.SetContent(h.w.root)
	h.win.Resize(fyne.NewSize(1100, 760))
	t.Cleanup(func() {
		h.w.stop()
		h.settle()
		h.win.Close()
	})
	h.settle()
	return h
}

// text is everything the window shows, one widget's text per line.
func (h *harness) text() string {
	h.settle()
	return strings.Join(visibleTexts(h.win.Content()), "\n")
}

func (h *harness) mustShow(wants ...string) {
	h.t.Helper()
	got := h.text()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			h.t.Errorf("the window does not show %q; it shows:\n%s", w, got)
		}
	}
}

func (h *harness) mustNotShow(nots ...string) {
	h.t.Helper()
	got := h.text()
	for _, n := range nots {
		if strings.Contains(got, n) {
			h.t.Errorf("the window shows %q but should not; it shows:\n%s", n, got)
		}
	}
}

func (h *harness) tap(b *widget.Button) {
	h.t.Helper()
	if b.Disabled() || !b.Visible() {
		h.t.Fatalf("button %q cannot be tapped (disabled or hidden)", b.Text)
	}
	test.Tap(b)
	h.settle()
}

// tickRow taps the check box of the drawn row that shows name.
func (h *harness) tickRow(name string) {
	h.t.Helper()
	var found *widget.Check
	var walk func(o fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		if o == nil || !o.Visible() || found != nil {
			return
		}
		switch v := o.(type) {
		case *fyne.Container:
			if len(v.Objects) > 2 {
				if chk, ok := v.Objects[0].(*widget.Check); ok {
					for _, c := range v.Objects[2:] {
						if l, ok := c.(*widget.Label); ok && l.Text == name {
							found = chk
							return
						}
					}
				}
			}
			for _, c := range v.Objects {
				walk(c)
			}
		case fyne.Widget:
			for _, c := range test.WidgetRenderer(v).Objects() {
				walk(c)
			}
		}
	}
	walk(h.win.Content())
	if found == nil {
		h.t.Fatalf("no row showing %q with a check box", name)
	}
	test.Tap(found)
	h.settle()
}

func (h *harness) search(text string) {
	test.Type(h.w.find.search, text)
	h.settle()
}

// visibleTexts walks what is on screen (through widget renderers, so list
// rows count only when they are drawn) and collects widget texts.
func visibleTexts(o fyne.CanvasObject) []string {
	var out []string
	var walk func(fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		if o == nil || !o.Visible() {
			return
		}
		switch v := o.(type) {
		case *widget.Label:
			out = append(out, v.Text)
			return
		case *widget.Button:
			out = append(out, "["+v.Text+"]")
			return
		case *widget.Check:
			if v.Checked {
				out = append(out, "[x] "+v.Text)
			}
			return
		case *widget.RadioGroup:
			for _, opt := range v.Options {
				if opt == v.Selected {
					out = append(out, "(o) "+opt)
				} else {
					out = append(out, "( ) "+opt)
				}
			}
			return
		case *widget.Entry:
			out = append(out, "{"+v.Text+"}")
			return
		case *container.AppTabs:
			if t := v.Selected(); t != nil {
				out = append(out, "<"+t.Text+">")
				walk(t.Content)
			}
			return
		case *fyne.Container:
			for _, c := range v.Objects {
				walk(c)
			}
			return
		case fyne.Widget:
			for _, c := range test.WidgetRenderer(v).Objects() {
				walk(c)
			}
		}
	}
	walk(o)
	return out
}

func TestRestoreSearchShowsResultsAndPreview(t *testing.T) {
	svc := newFakeRestore()
	h := newHarness(t, svc)
	h.mustShow("Find what you want back", "Choose something in the list to see it here.")
	if !h.w.next.Disabled() {
		t.Error("Next is enabled before anything was chosen")
	}
	h.search("invoice")
	h.mustShow("1 match for “invoice”.", "Invoice March", "Anna Supplier <anna@flour.test>", "14 Mar 09:30", "48 KB")
	h.mustNotShow("Lunch on Friday?")
	// Debouncing: typing "invoice" letter by letter ran one search.
	svc.mu.Lock()
	searches := slices.Clone(svc.searches)
	svc.mu.Unlock()
	if len(searches) != 1 || searches[0] != "invoice" {
		t.Errorf("searches run while typing = %q, want just [invoice]", searches)
	}

	h.w.find.results.list.Select(0)
	h.settle()
	h.mustShow("From: Anna Supplier <anna@flour.test>", "Received: Saturday 14 March 2026 at 09:30",
		"In: Inbox/Invoices in Paul Baker's mailbox", "1 attachment", "invoice-0314.pdf (45 KB)",
		"Please pay within 30 days.", "Deleted: the backup of yesterday at 13:00 found it gone.")
	if h.w.next.Disabled() {
		t.Error("Next is disabled with an email selected")
	}

	test.Type(h.w.find.search, "zzz")
	h.settle()
	h.mustShow("Nothing found for “invoicezzz”")
}

func TestRestoreEmptySearchClearsResults(t *testing.T) {
	h := newHarness(t, newFakeRestore())
	h.search("budget")
	h.mustShow("budget.xlsx", "OneDrive/Documents", "1.3 MB")
	h.w.find.search.SetText("")
	h.settle()
	h.mustNotShow("budget.xlsx")
	h.mustShow("Type a few words above")
}

func TestRestoreRecentlyDeletedTab(t *testing.T) {
	h := newHarness(t, newFakeRestore())
	h.w.find.tabs.Select(h.w.find.deletedTab)
	h.mustShow("<Recently deleted>", "What was deleted (emails, files, appointments, contacts), most recently deleted first.", "Invoice March", "Yesterday 13:00")
	h.mustNotShow("Lunch on Friday?", "budget.xlsx")
}

func TestRestoreBrowseMailAsOfDateAndChooseFolder(t *testing.T) {
	svc := newFakeRestore()
	h := newHarness(t, svc)
	h.w.find.tabs.SelectIndex(1)
	h.settle()
	b := h.w.find.mail
	h.mustShow("<Mail>", "All folders", "Inbox")
	if got := b.at.Selected; got != "today at 13:00 (latest)" {
		t.Errorf("newest backup is not preselected: %q", got)
	}
	// At the latest backup the deleted invoice is gone; two days ago it was there.
	b.list.list.Select(0) // Inbox
	h.settle()
	h.mustShow("All folders › Inbox", "Lunch on Friday?")
	h.mustNotShow("Invoice March")
	b.at.SetSelectedIndex(2)
	h.settle()
	h.mustShow("Invoices", "Lunch on Friday?")

	// Tick the Invoices folder: a bulk choice, restored as it was then.
	var row int = -1
	for i, it := range b.list.items {
		if it.IsFolder && it.Folder == "Inbox/Invoices" {
			row = i
		}
	}
	if row < 0 {
		t.Fatalf("no Invoices folder row in %+v", b.list.items)
	}
	h.w.toggle(b.list.items[row], true)
	h.settle()
	h.mustShow("1 folder chosen", "[Clear choice]")
	h.tap(h.w.next)
	// A folder skips "Choose version".
	h.mustShow("Choose where to put it", "Everything goes back into Inbox/Invoices as it was on Wednesday 25 November 2026 at 13:00.")
	h.tap(h.w.next)
	h.mustShow("Lifeboat will restore 1 email (48 KB).", "1 email will be put back in Inbox/Invoices")
	svc.mu.Lock()
	req := svc.plans[len(svc.plans)-1]
	svc.mu.Unlock()
	if len(req.Folders) != 1 || req.Folders[0].Folder != "Inbox/Invoices" || !req.Folders[0].At.Equal(svc.backups[2]) || len(req.Items) != 0 {
		t.Errorf("plan request = %+v, want the Invoices folder at the oldest backup", req)
	}
}

func TestRestoreFilesTabBrowsesFolders(t *testing.T) {
	h := newHarness(t, newFakeRestore())
	h.w.find.tabs.SelectIndex(2)
	h.settle()
	h.mustShow("<Files>", "OneDrive", "Documents", "Name", "Folder", "Size", "Modified")
	h.w.find.files.list.list.Select(0)
	h.settle()
	h.mustShow("OneDrive › Documents", "budget.xlsx", "Yesterday 15:00")
	if h.w.find.files.up.Disabled() {
		t.Error("Up is disabled inside a folder")
	}
	h.tap(h.w.find.files.up)
	h.mustShow("Documents")
	if !h.w.find.files.up.Disabled() {
		t.Error("Up is enabled at the top")
	}
}

func TestRestoreVersionsNewestFirstAndBackNext(t *testing.T) {
	svc := newFakeRestore()
	h := newHarness(t, svc)
	h.search("budget")
	h.w.find.results.list.Select(0)
	h.settle()
	h.mustShow("Type: Excel workbook", "Size: 1.3 MB")
	h.tap(h.w.next)
	h.mustShow("Choose which version", "The backup holds 3 versions of “budget.xlsx”, newest first.")
	v := h.w.version
	var tops []string
	for i := range v.versions {
		top, _ := v.rowText(i)
		tops = append(tops, top)
	}
	want := []string{
		"Saved yesterday at 15:00 — the newest",
		"Saved Wednesday 25 November 2026 at 14:00",
		"Saved Tuesday 24 November 2026 at 15:00",
	}
	if !slices.Equal(tops, want) {
		t.Errorf("versions shown:\n%q\nwant newest first:\n%q", tops, want)
	}
	h.mustShow(want[0], "In your backups since yesterday 13:00 · 1.3 MB · OneDrive/Documents")
	if sel := v.selected(); sel == nil || sel.ID != "v-budget3" {
		t.Errorf("the chosen (newest) version is not preselected: %+v", sel)
	}
	// Choose Tuesday's version; it is what gets restored.
	v.list.Select(2)
	h.settle()
	h.tap(h.w.next)
	h.mustShow("Choose where to put it", "Into OneDrive/Documents (Paul Baker's OneDrive).")
	h.tap(h.w.back)
	h.mustShow("Choose which version")
	h.tap(h.w.back)
	h.mustShow("Find what you want back", "budget.xlsx")
	if !h.w.back.Disabled() {
		t.Error("Back is enabled on the first step")
	}
	h.tap(h.w.next)
	h.w.version.list.Select(2)
	h.settle()
	h.tap(h.w.next)
	h.tap(h.w.next)
	svc.mu.Lock()
	req := svc.plans[len(svc.plans)-1]
	svc.mu.Unlock()
	if len(req.Items) != 1 || req.Items[0].ID != "v-budget1" {
		t.Errorf("planned %+v, want Tuesday's version v-budget1", req.Items)
	}
}

func TestRestoreDestinationChoice(t *testing.T) {
	svc := newFakeRestore()
	h := newHarness(t, svc)
	h.search("lunch")
	h.w.find.results.list.Select(0)
	h.settle()
	h.tap(h.w.next) // versions
	h.tap(h.w.next) // where
	h.mustShow("(o) Back where it was", "( ) In a new folder, next to what is there now", "( ) In a folder on this computer",
		"Into Inbox in Paul Baker's mailbox.")
	ws := h.w.where
	ws.radios[2].SetSelected(rwWhereComputer)
	h.settle()
	h.mustShow("(o) In a folder on this computer", "( ) Back where it was")
	if !h.w.next.Disabled() {
		t.Error("Next is enabled with no folder on this computer chosen")
	}
	h.tap(ws.pick)
	h.mustShow("{/home/paul/Restored}")
	h.tap(h.w.next)
	h.mustShow("1 email will be saved in /home/paul/Restored/Inbox")
	h.tap(h.w.back)
	ws.radios[1].SetSelected(rwWhereNew)
	h.settle()
	if h.w.next.Disabled() {
		t.Error("Next is disabled for a new folder")
	}
	h.tap(h.w.next)
	h.mustShow("1 email will be put in Restored by Lifeboat 2026-11-27/Inbox")
	svc.mu.Lock()
	tos := []RestoreTarget{}
	for _, p := range svc.plans {
		tos = append(tos, p.To)
	}
	dir := svc.plans[0].Dir
	svc.mu.Unlock()
	if !slices.Equal(tos, []RestoreTarget{ToComputer, ToNewFolder}) || dir != "/home/paul/Restored" {
		t.Errorf("planned destinations %v (dir %q)", tos, dir)
	}
}

// toReview chooses budget.xlsx (newest) back where it was.
func toReview(t *testing.T, svc *fakeRestore) *harness {
	h := newHarness(t, svc)
	h.search("budget")
	h.w.find.results.list.Select(0)
	h.settle()
	h.tap(h.w.next)
	h.tap(h.w.next)
	h.tap(h.w.next)
	return h
}

func TestRestoreReviewConflictModes(t *testing.T) {
	svc := newFakeRestore()
	svc.existing["OneDrive/Documents/budget.xlsx"] = true
	h := toReview(t, svc)
	h.mustShow("Check and put it back", "Lifeboat will restore 1 file (1.3 MB).",
		"budget.xlsx exists in OneDrive/Documents; Lifeboat will keep both and name the restored one budget (1).xlsx",
		"Some of these are already there. What should Lifeboat do?", "(o) Keep both (recommended)", "[Put it back]")

	h.w.review.conflict.SetSelected(rwOverwriteText)
	h.settle()
	h.mustShow("budget.xlsx exists in OneDrive/Documents; Lifeboat will replace it with the backed-up version")
	h.mustNotShow("keep both and name")
	if h.w.next.Disabled() {
		t.Error("Put it back is disabled when overwriting")
	}

	h.w.review.conflict.SetSelected(rwSkipText)
	h.settle()
	h.mustShow("Nothing will be restored: everything you chose is already there and will be left as it is.",
		"budget.xlsx exists in OneDrive/Documents; Lifeboat will leave it as it is and not restore this one")
	if !h.w.next.Disabled() {
		t.Error("Put it back is enabled although everything would be skipped")
	}
}

func TestRestoreReviewWithoutConflictsHidesTheChoice(t *testing.T) {
	h := toReview(t, newFakeRestore())
	h.mustShow("Lifeboat will restore 1 file (1.3 MB).", "1 file will be put back in OneDrive/Documents")
	h.mustNotShow("What should Lifeboat do?")
}

func TestRestoreDoneOpensOutlookAndRestarts(t *testing.T) {
	svc := newFakeRestore()
	h := newHarness(t, svc)
	h.search("invoice")
	h.w.find.results.list.Select(0)
	h.settle()
	h.tap(h.w.next)
	h.tap(h.w.next)
	h.tap(h.w.next)
	h.mustShow("1 email will be put back in Inbox/Invoices")
	h.tap(h.w.next)
	h.mustShow("Done", "1 email was put back.", "[Open in Outlook on the web]", "[Get something else back]")
	h.mustNotShow("[Try again]", "[Back]")
	h.tap(h.w.done.open)
	if !slices.Equal(h.opened, []string{"https://outlook.office.com/mail/"}) {
		t.Errorf("opened %q", h.opened)
	}
	svc.mu.Lock()
	n := len(svc.restores)
	svc.mu.Unlock()
	if n != 1 {
		t.Errorf("%d restores ran, want 1", n)
	}
	h.tap(h.w.next)
	h.mustShow("Find what you want back", "Choose something in the list to see it here.")
	if !h.w.next.Disabled() {
		t.Error("Next is enabled after starting over")
	}
}

func TestRestoreDoneToComputerOpensFolder(t *testing.T) {
	svc := newFakeRestore()
	h := newHarness(t, svc)
	h.search("lunch")
	h.w.find.results.list.Select(0)
	h.settle()
	h.tap(h.w.next)
	h.tap(h.w.next)
	h.w.where.choose(ToComputer)
	h.tap(h.w.where.pick)
	h.tap(h.w.next)
	h.tap(h.w.next)
	h.mustShow("1 email was saved in /home/paul/Restored.", "[Open folder]")
	h.tap(h.w.done.open)
	if !slices.Equal(h.opened, []string{"file:///home/paul/Restored"}) {
		t.Errorf("opened %q", h.opened)
	}
}

func TestRestoreFailedPageSaysWhatToDo(t *testing.T) {
	svc := newFakeRestore()
	svc.restoreErr = &RestoreProblem{What: "Microsoft asked Lifeboat to sign in again.", Todo: "Open Settings, sign in, and try again.",
		Err: errors.New("graph: 401 token expired")}
	h := toReview(t, svc)
	h.tap(h.w.next)
	h.mustShow("Lifeboat could not put it back", "Microsoft asked Lifeboat to sign in again.",
		"Open Settings, sign in, and try again.", "Details: graph: 401 token expired", "[Try again]")
	h.mustNotShow("[Open in Outlook on the web]")
	svc.restoreErr = nil
	h.tap(h.w.done.retry)
	h.mustShow("Check and put it back", "1 file will be put back in OneDrive/Documents")
	h.tap(h.w.next)
	h.mustShow("Done", "1 file was put back.", "[Open in OneDrive on the web]")
}

func TestRestorePartialFailureListsItems(t *testing.T) {
	svc := newFakeRestore()
	svc.failed = []RestoreFailure{{Name: "budget.xlsx", Reason: "OneDrive is full"}}
	svc.existing["OneDrive/Documents/budget.xlsx"] = true
	h := toReview(t, svc)
	h.tap(h.w.next)
	h.mustShow("Almost done", "1 item could not be put back:", "• budget.xlsx: OneDrive is full", "[Try again]")
}

func TestRestoreProgressAndStop(t *testing.T) {
	svc := newFakeRestore()
	svc.block = true
	h := toReview(t, svc)
	test.Tap(h.w.next)
	<-svc.started
	if h.w.step != rwRunning {
		t.Fatalf("step = %v, want the progress page", h.w.step)
	}
	if h.w.closeBtn.Visible() || h.w.next.Visible() {
		t.Error("Close or Next is offered while restoring")
	}
	test.Tap(h.w.running.cancel)
	h.settle()
	h.mustShow("Stopped", "You stopped the restore. Nothing was put back.", "[Try again]")
}

func TestRestoreMultiSelectSkipsVersionStep(t *testing.T) {
	svc := newFakeRestore()
	h := newHarness(t, svc)
	h.search("e") // everything with an "e"
	items := h.w.find.results.items
	if len(items) != 3 {
		t.Fatalf("%d results, want 3", len(items))
	}
	// Tick two rows through their check boxes, as a person would.
	h.tickRow("Invoice March")
	h.tickRow("budget.xlsx")
	h.mustShow("1 email and 1 file chosen", "[x] ")
	h.tap(h.w.next)
	h.mustShow("Choose where to put it", "Each one goes back into the folder it came from.")
	h.tap(h.w.next)
	h.mustShow("Lifeboat will restore 1 email and 1 file", "1 email will be put back in Inbox/Invoices", "1 file will be put back in OneDrive/Documents")
	h.tap(h.w.back)
	h.tap(h.w.back)
	h.mustShow("Find what you want back", "1 email and 1 file chosen")
	h.tap(h.w.clearBtn)
	h.mustNotShow("chosen")
}

func TestRestoreWords(t *testing.T) {
	for _, c := range []struct {
		n    int64
		want string
	}{{0, "0 bytes"}, {1, "1 byte"}, {999, "999 bytes"}, {48200, "48 KB"}, {1_250_000, "1.3 MB"}, {3_000_000_000, "3 GB"}} {
		if got := rwSize(c.n); got != c.want {
			t.Errorf("rwSize(%d) = %q, want %q", c.n, got, c.want)
		}
	}
	p := RestorePlan{Steps: []PlanStep{
		{Action: PlanCreate, Kind: ItemEmail, Name: "a", Where: "Inbox/Invoices"},
		{Action: PlanCreate, Kind: ItemEmail, Name: "b", Where: "Inbox/Invoices"},
		{Action: PlanRename, Kind: ItemEmail, Name: "c", Where: "Inbox"},
		{Action: PlanSkip, Kind: ItemFile, Name: "d.txt", Where: "OneDrive"},
	}}
	sum, lines := rwPlanSentences(p, ToOriginal)
	if sum != "Lifeboat will restore 3 emails. 1 item is already there and will be left as it is." {
		t.Errorf("summary %q", sum)
	}
	want := []string{"• 2 emails will be put back in Inbox/Invoices", "• “c” exists in Inbox; Lifeboat will keep both",
		"• d.txt exists in OneDrive; Lifeboat will leave it as it is and not restore this one"}
	if !slices.Equal(lines, want) {
		t.Errorf("lines %q\nwant %q", lines, want)
	}
	if got := rwFileURL(`/tmp/a b`); got != "file:///tmp/a%20b" {
		t.Errorf("rwFileURL = %q", got)
	}
	if got := fmt.Sprint(rwShortDate(testNow.Add(-400*24*time.Hour), testNow)); got != "23 Oct 2025" {
		t.Errorf("old date %q", got)
	}
}

// TestRestoreMarkup keeps reference renderings of every step (in
// testdata/restore/), so an unintended change to a screen shows up in review.
func TestRestoreMarkup(t *testing.T) {
	svc := newFakeRestore()
	svc.existing["OneDrive/Documents/budget.xlsx"] = true
	h := newHarness(t, svc)
	h.win.Resize(fyne.NewSize(900, 640))
	h.settle()
	test.AssertRendersToMarkup(t, "restore/find-empty.xml", h.win.Canvas())
	h.search("budget")
	h.w.find.results.list.Select(0)
	h.settle()
	test.AssertRendersToMarkup(t, "restore/find-search-preview.xml", h.win.Canvas())
	h.tap(h.w.next)
	test.AssertRendersToMarkup(t, "restore/version.xml", h.win.Canvas())
	h.tap(h.w.next)
	test.AssertRendersToMarkup(t, "restore/where.xml", h.win.Canvas())
	h.tap(h.w.next)
	test.AssertRendersToMarkup(t, "restore/review-conflict.xml", h.win.Canvas())
	h.tap(h.w.next)
	test.AssertRendersToMarkup(t, "restore/done.xml", h.win.Canvas())

	svc.restoreErr = &RestoreProblem{What: "Lifeboat cannot read your backup drive.", Todo: "Connect the backup drive and try again.",
		Err: errors.New("open packs/3f: no such file or directory")}
	h.tap(h.w.next) // Get something else back
	h.search("lunch")
	h.w.find.results.list.Select(0)
	h.settle()
	h.tap(h.w.next)
	h.tap(h.w.next)
	h.tap(h.w.next)
	h.tap(h.w.next)
	test.AssertRendersToMarkup(t, "restore/failed.xml", h.win.Canvas())
}

// TestRestoreEnterSearchesAtOnce: Enter in the search box does not wait
// for the typing pause.
func TestRestoreEnterSearchesAtOnce(t *testing.T) {
	svc := newFakeRestore()
	h := newHarness(t, svc)
	h.w.opts.Debounce = time.Hour
	test.Type(h.w.find.search, "lunch")
	h.w.find.search.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	h.settle()
	h.mustShow("1 match for “lunch”.", "Lunch on Friday?")
	svc.mu.Lock()
	defer svc.mu.Unlock()
	if !slices.Equal(svc.searches, []string{"lunch"}) {
		t.Errorf("searches = %q", svc.searches)
	}
}
