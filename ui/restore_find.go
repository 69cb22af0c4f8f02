package ui

import (
	"context"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// rwSearchLimit is how many search results are shown; a person refines the
// words rather than scrolling through thousands.
const rwSearchLimit = 200

// rwFindStep is step 1: the search box, the Mail and Files browsers,
// Recently deleted, and the preview pane.
type rwFindStep struct {
	w       *restoreWizard
	content fyne.CanvasObject

	search       *widget.Entry
	searchStatus *widget.Label
	results      *rwItemList
	tabs         *container.AppTabs
	searchTab    *container.TabItem
	mail, files  *rwBrowser
	deleted      *rwItemList
	deletedTab   *container.TabItem
	delStatus    *widget.Label
	deletedReady bool
	preview      *rwPreviewPane

	// Search debouncing: timer is the pending query, gen its generation;
	// only the newest generation's results are shown.
	mu          sync.Mutex
	timer       *time.Timer
	gen         int
	cancelQuery context.CancelFunc
}

func newRWFindStep(w *restoreWizard) *rwFindStep {
	f := &rwFindStep{w: w}
	f.search = widget.NewEntry()
	f.search.SetPlaceHolder("Search your emails, files, calendars and contacts: a subject, a name, a person, a word…")
	f.search.OnChanged = f.typed
	f.search.OnSubmitted = func(string) { f.runSearchNow() }
	f.search.ActionItem = widget.NewButtonWithIcon("", theme.SearchIcon(), f.runSearchNow)

	f.preview = newRWPreviewPane(w)

	f.searchStatus = widget.NewLabel("Type a few words above: a subject, a name, a person or a word in the text.")
	f.searchStatus.Wrapping = fyne.TextWrapWord
	f.results = newRWItemList(w, rwMixedColumns(w), f.selected)
	f.searchTab = container.NewTabItemWithIcon("Search", theme.SearchIcon(),
		container.NewBorder(f.searchStatus, nil, nil, nil, f.results.view()))

	f.mail = newRWBrowser(w, ItemEmail, f.selected)
	f.files = newRWBrowser(w, ItemFile, f.selected)

	f.delStatus = widget.NewLabel("")
	f.delStatus.Wrapping = fyne.TextWrapWord
	f.deleted = newRWItemList(w, rwDeletedColumns(w), f.selected)
	f.deletedTab = container.NewTabItemWithIcon("Recently deleted", theme.DeleteIcon(),
		container.NewBorder(f.delStatus, nil, nil, nil, f.deleted.view()))

	f.tabs = container.NewAppTabs(f.searchTab,
		container.NewTabItemWithIcon("Mail", theme.MailComposeIcon(), f.mail.content),
		container.NewTabItemWithIcon("Files", theme.FolderIcon(), f.files.content),
		f.deletedTab)
	f.tabs.OnSelected = func(t *container.TabItem) { f.tabShown(t) }
	f.startTab() // restore_before.go

	split := container.NewHSplit(f.tabs, f.preview.content)
	split.Offset = 0.64
	f.content = container.NewBorder(f.search, nil, nil, nil, split)
	return f
}

// start loads what the browsers need and focuses the search box.
func (f *rwFindStep) start() {
	f.w.bg(func(ctx context.Context) func() {
		accts, err := f.w.svc.Accounts(ctx)
		return func() {
			if err != nil {
				f.mail.setError(err)
				f.files.setError(err)
				return
			}
			f.w.accounts = accts
			f.mail.setAccounts(accts)
			f.files.setAccounts(accts)
		}
	})
	if f.w.win != nil {
		f.w.win.Canvas().Focus(f.search)
	}
}

func (f *rwFindStep) tabShown(t *container.TabItem) {
	switch {
	case t == f.deletedTab && !f.deletedReady:
		f.deletedReady = true
		f.loadDeleted()
	case t.Content == f.mail.content:
		f.mail.ensureLoaded()
	case t.Content == f.files.content:
		f.files.ensureLoaded()
	}
}

func (f *rwFindStep) loadDeleted() {
	f.delStatus.SetText("Looking for what was deleted…")
	f.w.bg(func(ctx context.Context) func() {
		items, err := f.w.svc.RecentlyDeleted(ctx, 500)
		return func() {
			switch {
			case err != nil:
				what, todo := rwExplain(err)
				f.delStatus.SetText(what + " " + todo)
				f.deletedReady = false
			case len(items) == 0:
				f.delStatus.SetText("Nothing has been deleted since your first backup.")
			default:
				f.delStatus.SetText("What was deleted (emails, files, appointments, contacts), most recently deleted first.")
			}
			f.deleted.setItems(items)
		}
	})
}

// typed schedules a search once typing pauses.
func (f *rwFindStep) typed(string) {
	f.schedule(f.w.opts.Debounce)
}

func (f *rwFindStep) runSearchNow() { f.schedule(0) }

// schedule (re)starts the debounce timer; the timer's goroutine runs the
// query and applies the results only if no newer query was asked for.
func (f *rwFindStep) schedule(after time.Duration) {
	text := strings.TrimSpace(f.search.Text)
	if f.tabs.Selected() != f.searchTab && text != "" {
		f.tabs.Select(f.searchTab)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gen++
	gen := f.gen
	if f.timer != nil && f.timer.Stop() {
		f.w.jobs.Done() // the stopped timer's job never runs
	}
	if f.cancelQuery != nil {
		f.cancelQuery()
		f.cancelQuery = nil
	}
	if text == "" {
		f.timer = nil
		f.results.setItems(nil)
		f.searchStatus.SetText("Type a few words above: a subject, a name, a person or a word in the text.")
		return
	}
	f.searchStatus.SetText("Searching…")
	ctx, cancel := context.WithCancel(f.w.ctx)
	f.cancelQuery = cancel
	f.w.jobs.Add(1)
	f.timer = time.AfterFunc(after, func() {
		defer f.w.jobs.Done()
		items, err := f.w.svc.Search(ctx, RestoreSearch{Text: text, Limit: rwSearchLimit})
		if ctx.Err() != nil {
			return
		}
		f.w.do(func() {
			f.mu.Lock()
			stale := gen != f.gen
			f.mu.Unlock()
			if stale {
				return
			}
			f.showResults(text, items, err)
		})
	})
}

func (f *rwFindStep) showResults(text string, items []RestoreItem, err error) {
	switch {
	case err != nil:
		what, todo := rwExplain(err)
		f.searchStatus.SetText(what + " " + todo)
	case len(items) == 0:
		f.searchStatus.SetText("Nothing found for “" + text + "”. Try fewer or different words, or look in Mail, Files or Recently deleted.")
	case len(items) >= rwSearchLimit:
		f.searchStatus.SetText("The newest " + rwItoa(len(items)) + " matches for “" + text + "”. Add a word to narrow it down.")
	case len(items) == 1:
		f.searchStatus.SetText("1 match for “" + text + "”.")
	default:
		f.searchStatus.SetText(rwItoa(len(items)) + " matches for “" + text + "”, newest first.")
	}
	f.results.setItems(items)
}

// selected is called when a row is tapped in any list.
func (f *rwFindStep) selected(it RestoreItem) {
	cp := it
	f.w.setCurrent(&cp)
	f.preview.show(it)
}

func (f *rwFindStep) refreshLists() {
	f.results.list.Refresh()
	f.deleted.list.Refresh()
	f.mail.list.list.Refresh()
	f.files.list.list.Refresh()
}

func (f *rwFindStep) unselectAll() {
	f.results.list.UnselectAll()
	f.deleted.list.UnselectAll()
	f.mail.list.list.UnselectAll()
	f.files.list.list.UnselectAll()
}

// rwColumn is one rwColumn of a results list.
type rwColumn struct {
	title  string
	weight float32
	text   func(RestoreItem) string
	// name marks the rwColumn that shows a folder's name.
	name bool
}

func rwMixedColumns(w *restoreWizard) []rwColumn {
	return []rwColumn{
		{title: "Subject or name", weight: 3, text: func(it RestoreItem) string { return rwOrNone(it.Name) }, name: true},
		{title: "From or folder", weight: 1.8, text: rwFromOrFolder},
		{title: "Date", weight: 1.7, text: func(it RestoreItem) string { return rwShortDate(it.Date, w.opts.Now()) }},
		{title: "Size", weight: 1, text: func(it RestoreItem) string { return rwSizeShort(it.Size) }},
	}
}

func rwDeletedColumns(w *restoreWizard) []rwColumn {
	return []rwColumn{
		{title: "Subject or name", weight: 3, text: func(it RestoreItem) string { return rwOrNone(it.Name) }, name: true},
		{title: "From or folder", weight: 1.8, text: rwFromOrFolder},
		{title: "Deleted", weight: 1.7, text: func(it RestoreItem) string { return rwShortDate(it.Deleted, w.opts.Now()) }},
		{title: "Size", weight: 1, text: func(it RestoreItem) string { return rwSizeShort(it.Size) }},
	}
}

func rwMailColumns(w *restoreWizard) []rwColumn {
	return []rwColumn{
		{title: "From", weight: 2, text: func(it RestoreItem) string { return it.From }},
		{title: "Subject", weight: 3, text: func(it RestoreItem) string { return rwOrNone(it.Name) }, name: true},
		{title: "Received", weight: 1.7, text: func(it RestoreItem) string { return rwShortDate(it.Date, w.opts.Now()) }},
		{title: "Size", weight: 1, text: func(it RestoreItem) string { return rwSizeShort(it.Size) }},
	}
}

func rwFileColumns(w *restoreWizard) []rwColumn {
	return []rwColumn{
		{title: "Name", weight: 3, text: func(it RestoreItem) string { return it.Name }, name: true},
		{title: "Folder", weight: 2, text: func(it RestoreItem) string { return rwFolderText(it.Folder, ItemFile) }},
		{title: "Size", weight: 1, text: func(it RestoreItem) string { return rwSizeShort(it.Size) }},
		{title: "Modified", weight: 1.7, text: func(it RestoreItem) string { return rwShortDate(it.Date, w.opts.Now()) }},
	}
}

func rwFromOrFolder(it RestoreItem) string {
	if it.Kind == ItemEmail || (it.Kind == ItemEvent || it.Kind == ItemContact) && it.From != "" {
		return it.From
	}
	if it.Kind == ItemEvent || it.Kind == ItemContact {
		return rwFolderText(it.Folder, it.Kind)
	}
	return rwFolderText(it.Folder, ItemFile)
}

// rwItemList is a list of items with a rwColumn header, a check box per row
// (to choose several) and a tap to preview.
type rwItemList struct {
	w     *restoreWizard
	cols  []rwColumn
	items []RestoreItem
	list  *widget.List
	head  fyne.CanvasObject
	// onSelect is called for a tapped row (folders included).
	onSelect func(RestoreItem)
}

// Fixed widths of the check box and icon columns.
const (
	rwCheckWidth = 36
	rwIconWidth  = 28
)

func newRWItemList(w *restoreWizard, cols []rwColumn, onSelect func(RestoreItem)) *rwItemList {
	l := &rwItemList{w: w, cols: cols, onSelect: onSelect}
	weights := make([]float32, len(cols))
	head := []fyne.CanvasObject{widget.NewLabel(""), widget.NewLabel("")}
	for i, c := range cols {
		weights[i] = c.weight
		h := widget.NewLabelWithStyle(c.title, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		h.Truncation = fyne.TextTruncateEllipsis
		head = append(head, h)
	}
	lay := &rwColumnsLayout{fixed: []float32{rwCheckWidth, rwIconWidth}, weights: weights}
	l.head = container.New(lay, head...)
	l.list = widget.NewList(
		func() int { return len(l.items) },
		func() fyne.CanvasObject {
			objs := []fyne.CanvasObject{widget.NewCheck("", nil), widget.NewIcon(theme.MailComposeIcon())}
			for range cols {
				lb := widget.NewLabel("")
				lb.Truncation = fyne.TextTruncateEllipsis
				objs = append(objs, lb)
			}
			return container.New(lay, objs...)
		},
		func(id widget.ListItemID, o fyne.CanvasObject) {
			if id >= len(l.items) {
				return
			}
			it := l.items[id]
			row := o.(*fyne.Container)
			chk := row.Objects[0].(*widget.Check)
			chk.OnChanged = nil
			chk.SetChecked(w.isChosen(it))
			chk.OnChanged = func(on bool) { w.toggle(it, on) }
			row.Objects[1].(*widget.Icon).SetResource(itemIcon(it))
			for i, c := range cols {
				lb := row.Objects[2+i].(*widget.Label)
				txt := c.text(it)
				if it.IsFolder {
					txt = ""
					if c.name {
						txt = rwFolderName(it.Folder)
					}
				}
				lb.TextStyle.Bold = it.IsFolder
				lb.TextStyle.Italic = !it.Deleted.IsZero()
				lb.SetText(txt)
			}
		})
	l.list.OnSelected = func(id widget.ListItemID) {
		if id < len(l.items) {
			l.onSelect(l.items[id])
		}
	}
	return l
}

func (l *rwItemList) view() fyne.CanvasObject {
	return container.NewBorder(l.head, nil, nil, nil, l.list)
}

func (l *rwItemList) setItems(items []RestoreItem) {
	l.items = items
	l.list.UnselectAll()
	l.list.Refresh()
	l.list.ScrollToTop()
}

func itemIcon(it RestoreItem) fyne.Resource {
	switch {
	case it.IsFolder:
		return theme.FolderIcon()
	case it.Kind == ItemEmail && it.Attachment:
		return theme.MailAttachmentIcon()
	case it.Kind == ItemEmail:
		return theme.MailComposeIcon()
	case it.Kind == ItemEvent:
		return theme.CalendarIcon()
	case it.Kind == ItemContact:
		return theme.AccountIcon()
	}
	return theme.FileIcon()
}

// rwColumnsLayout lays out a row: fixed-width leading cells, then the rest of
// the width shared by weight.
type rwColumnsLayout struct {
	fixed   []float32
	weights []float32
}

func (c *rwColumnsLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	pad := theme.Padding()
	x := float32(0)
	for i, o := range objs {
		if i >= len(c.fixed) {
			break
		}
		h := o.MinSize().Height
		o.Resize(fyne.NewSize(c.fixed[i], h))
		o.Move(fyne.NewPos(x, (size.Height-h)/2))
		x += c.fixed[i]
	}
	total := float32(0)
	for _, w := range c.weights {
		total += w
	}
	rest := size.Width - x - pad*float32(len(c.weights)-1)
	if rest < 0 {
		rest = 0
	}
	for i, o := range objs[min(len(c.fixed), len(objs)):] {
		if i >= len(c.weights) {
			break
		}
		w := rest * c.weights[i] / total
		o.Resize(fyne.NewSize(w, size.Height))
		o.Move(fyne.NewPos(x, 0))
		x += w + pad
	}
}

func (c *rwColumnsLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	w := float32(0)
	for _, f := range c.fixed {
		w += f
	}
	h := float32(0)
	for _, o := range objs {
		h = max(h, o.MinSize().Height)
	}
	return fyne.NewSize(w+float32(len(c.weights))*40, h)
}

// rwBrowser is the Mail or Files tab: an account, a backup date and a folder.
type rwBrowser struct {
	w       *restoreWizard
	kind    ItemKind
	content fyne.CanvasObject

	account   *widget.Select
	at        *widget.Select
	up        *widget.Button
	path      *widget.Label
	status    *widget.Label
	list      *rwItemList
	onSelect  func(RestoreItem)
	accounts  []RestoreAccount
	backups   []time.Time
	acct      RestoreAccount
	folder    string
	listing   FolderListing
	loaded    bool
	gen       int
	suspended bool // while the selects are filled in code
}

func newRWBrowser(w *restoreWizard, kind ItemKind, onSelect func(RestoreItem)) *rwBrowser {
	b := &rwBrowser{w: w, kind: kind, onSelect: onSelect}
	cols := rwMailColumns(w)
	if kind == ItemFile {
		cols = rwFileColumns(w)
	}
	b.list = newRWItemList(w, cols, b.tapped)
	b.account = widget.NewSelect(nil, func(string) { b.accountChosen() })
	b.account.PlaceHolder = "Whose?"
	b.at = widget.NewSelect(nil, func(string) { b.reload() })
	b.at.PlaceHolder = "Choose a backup"
	b.up = widget.NewButtonWithIcon("Up", theme.MoveUpIcon(), b.goUp)
	b.up.Disable()
	b.path = widget.NewLabel("")
	b.path.Truncation = fyne.TextTruncateEllipsis
	b.status = widget.NewLabel("Loading…")
	b.status.Wrapping = fyne.TextWrapWord
	whose := "Mailbox"
	if kind == ItemFile {
		whose = "OneDrive"
	}
	bar := container.NewBorder(nil, nil, nil, nil,
		container.New(&rwColumnsLayout{weights: []float32{1, 1.4}},
			container.NewBorder(nil, nil, widget.NewLabel(whose), nil, b.account),
			container.NewBorder(nil, nil, widget.NewLabel("As it was on"), nil, b.at)))
	nav := container.NewBorder(nil, nil, b.up, nil, b.path)
	b.content = container.NewBorder(container.NewVBox(bar, nav, b.status), nil, nil, nil, b.list.view())
	return b
}

func (b *rwBrowser) setError(err error) {
	what, todo := rwExplain(err)
	b.status.SetText(what + " " + todo)
	b.status.Show()
	b.content.Refresh()
}

func (b *rwBrowser) setAccounts(accts []RestoreAccount) {
	b.accounts = accts
	var names []string
	for _, a := range accts {
		names = append(names, rwAccountLabel(a))
	}
	b.suspended = true
	b.account.SetOptions(names)
	b.suspended = false
	if len(accts) == 0 {
		b.status.SetText("The backup holds nothing yet. Once the first backup has run, you can look through it here.")
		return
	}
	if b.loaded {
		b.selectFirstAccount()
	}
}

// ensureLoaded loads the first account when the tab is first shown.
func (b *rwBrowser) ensureLoaded() {
	if b.loaded {
		return
	}
	b.loaded = true
	if len(b.accounts) > 0 {
		b.selectFirstAccount()
	}
}

func (b *rwBrowser) selectFirstAccount() {
	if b.account.SelectedIndex() < 0 {
		b.account.SetSelectedIndex(0)
	}
}

func (b *rwBrowser) accountChosen() {
	if b.suspended {
		return
	}
	i := b.account.SelectedIndex()
	if i < 0 || i >= len(b.accounts) {
		return
	}
	b.acct = b.accounts[i]
	b.folder = ""
	b.status.SetText("Looking for backups…")
	b.status.Show()
	b.content.Refresh()
	b.gen++
	gen, acct := b.gen, b.acct
	b.w.bg(func(ctx context.Context) func() {
		times, err := b.w.svc.Backups(ctx, acct.ID, b.kind)
		return func() {
			if gen != b.gen {
				return
			}
			if err != nil {
				b.setError(err)
				return
			}
			b.backups = times
			var labels []string
			for i, t := range times {
				l := rwLongDate(t, b.w.opts.Now())
				if i == 0 {
					l += " (latest)"
				}
				l += b.beforeLabel(times, i)
				labels = append(labels, l)
			}
			b.suspended = true
			b.at.SetOptions(labels)
			b.at.ClearSelected()
			b.suspended = false
			if len(times) == 0 {
				b.status.SetText("No backup of " + rwWhoseThing(acct, b.kind) + " yet.")
				b.list.setItems(nil)
				return
			}
			b.at.SetSelectedIndex(b.startIndex(times))
		}
	})
}

// reload lists the current folder at the chosen backup.
func (b *rwBrowser) reload() {
	if b.suspended {
		return
	}
	i := b.at.SelectedIndex()
	if i < 0 || i >= len(b.backups) {
		return
	}
	q := BrowseRequest{Account: b.acct.ID, Kind: b.kind, At: b.backups[i], Folder: b.folder}
	b.path.SetText(rwBreadcrumb(b.folder, b.kind))
	if b.folder == "" {
		b.up.Disable()
	} else {
		b.up.Enable()
	}
	b.status.SetText("Loading…")
	b.status.Show()
	b.content.Refresh()
	b.gen++
	gen := b.gen
	b.w.bg(func(ctx context.Context) func() {
		l, err := b.w.svc.Browse(ctx, q)
		return func() {
			if gen != b.gen {
				return
			}
			if err != nil {
				b.setError(err)
				return
			}
			if l.At.IsZero() {
				l.At = q.At
			}
			b.listing = l
			rows := make([]RestoreItem, 0, len(l.Folders)+len(l.Items))
			for _, f := range l.Folders {
				f.IsFolder, f.Kind, f.Date = true, b.kind, l.At
				if f.Account.ID == "" {
					f.Account = b.acct
				}
				rows = append(rows, f)
			}
			rows = append(rows, l.Items...)
			if len(rows) == 0 {
				b.status.SetText("This folder was empty on " + rwLongDate(l.At, b.w.opts.Now()) + ".")
			} else {
				b.status.SetText("Tick a folder to get all of it back as it was then; open it to choose what is inside.")
			}
			b.list.setItems(rows)
		}
	})
}

func (b *rwBrowser) tapped(it RestoreItem) {
	if it.IsFolder {
		// Opening a folder is not a selection (and row 0 must open the
		// next folder too).
		b.list.list.UnselectAll()
		b.folder = it.Folder
		b.reload()
		return
	}
	b.onSelect(it)
}

func (b *rwBrowser) goUp() {
	if b.folder == "" {
		return
	}
	if i := strings.LastIndex(b.folder, "/"); i >= 0 {
		b.folder = b.folder[:i]
	} else {
		b.folder = ""
	}
	b.reload()
}

// rwPreviewPane shows the item being looked at.
type rwPreviewPane struct {
	w       *restoreWizard
	content *fyne.Container
	box     *fyne.Container
	gen     int
}

func newRWPreviewPane(w *restoreWizard) *rwPreviewPane {
	p := &rwPreviewPane{w: w}
	p.box = container.NewVBox()
	p.content = container.NewStack(container.NewVScroll(container.NewPadded(p.box)))
	p.clear()
	return p
}

func (p *rwPreviewPane) clear() {
	p.gen++
	hint := widget.NewLabel("Choose something in the list to see it here.")
	hint.Wrapping = fyne.TextWrapWord
	hint.Importance = widget.LowImportance
	p.box.Objects = []fyne.CanvasObject{hint}
	p.box.Refresh()
}

// show loads and shows the preview of it.
func (p *rwPreviewPane) show(it RestoreItem) {
	p.gen++
	gen := p.gen
	title := rwHeading(rwOrNone(it.Name))
	p.box.Objects = []fyne.CanvasObject{title, widget.NewProgressBarInfinite()}
	p.box.Refresh()
	p.w.bg(func(ctx context.Context) func() {
		pv, err := p.w.svc.Preview(ctx, it)
		return func() {
			if gen != p.gen {
				return
			}
			if err != nil {
				what, todo := rwExplain(err)
				msg := widget.NewLabel("Lifeboat cannot show this one: " + what + " " + todo)
				msg.Wrapping = fyne.TextWrapWord
				p.box.Objects = []fyne.CanvasObject{title, msg}
				p.box.Refresh()
				return
			}
			p.box.Objects = rwPreviewObjects(it, pv, p.w.opts.Now())
			p.box.Refresh()
		}
	})
}

// rwPreviewObjects lays out a preview: an email's headers, attachments and
// text, or a file's details.
func rwPreviewObjects(it RestoreItem, pv ItemPreview, now time.Time) []fyne.CanvasObject {
	var out []fyne.CanvasObject
	line := func(label, value string) {
		if value == "" {
			return
		}
		l := widget.NewLabel(label + ": " + value)
		l.Wrapping = fyne.TextWrapWord
		out = append(out, l)
	}
	if !it.Deleted.IsZero() {
		d := widget.NewLabel("Deleted: the backup of " + rwLongDate(it.Deleted, now) + " found it gone.")
		d.Importance = widget.WarningImportance
		d.Wrapping = fyne.TextWrapWord
		out = append(out, d)
	}
	if pv.Kind == ItemEvent || pv.Kind == ItemContact {
		return rwPIMPreviewObjects(it, pv, now, out)
	}
	if pv.Kind == ItemEmail {
		out = append([]fyne.CanvasObject{rwHeading(rwOrNone(pv.Subject))}, out...)
		line("From", pv.From)
		line("To", pv.To)
		line("Cc", pv.Cc)
		if !pv.Date.IsZero() {
			line("Received", rwLongDate(pv.Date, now))
		}
		line("In", rwFolderText(it.Folder, ItemEmail)+rwWhoseSuffix(it.Account, ItemEmail))
		if len(pv.Attachments) > 0 {
			out = append(out, widget.NewLabelWithStyle(rwAttachmentsTitle(len(pv.Attachments)), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
			for _, a := range pv.Attachments {
				l := widget.NewLabel(a.Name + " (" + rwSize(a.Size) + ")")
				l.Truncation = fyne.TextTruncateEllipsis
				out = append(out, container.NewBorder(nil, nil, widget.NewIcon(theme.FileIcon()), nil, l))
			}
		}
		out = append(out, widget.NewSeparator())
		body := pv.Body
		if strings.TrimSpace(body) == "" {
			body = "(This email has no text.)"
		}
		if pv.BodyTruncated {
			body += "\n\n… (the rest of the text is not shown here; it will be restored in full)"
		}
		b := widget.NewLabel(body)
		b.Wrapping = fyne.TextWrapWord
		out = append(out, b)
		return out
	}
	name := pv.Name
	if name == "" {
		name = it.Name
	}
	out = append([]fyne.CanvasObject{rwHeading(name)}, out...)
	line("Folder", rwFolderText(pv.Folder, ItemFile)+rwWhoseSuffix(it.Account, ItemFile))
	line("Size", rwSize(pv.Size))
	if !pv.Modified.IsZero() {
		line("Modified", rwLongDate(pv.Modified, now))
	}
	if !pv.Created.IsZero() {
		line("Created", rwLongDate(pv.Created, now))
	}
	line("Type", pv.Type)
	return out
}

func rwHeading(s string) *widget.Label {
	l := widget.NewLabelWithStyle(s, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	l.SizeName = theme.SizeNameSubHeadingText
	l.Wrapping = fyne.TextWrapWord
	return l
}

func rwAttachmentsTitle(n int) string {
	if n == 1 {
		return "1 attachment"
	}
	return rwItoa(n) + " attachments"
}
