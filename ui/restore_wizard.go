package ui

import (
	"context"
	"net/url"
	"path/filepath"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// The wizard's steps, in order. rwRunning is the progress page between
// Review and Done.
type rwStep int

const (
	rwFind rwStep = iota
	rwVersion
	rwWhere
	rwReview
	rwRunning
	rwDone
)

var rwStepNames = []string{"Find", "Choose version", "Choose where", "Review", "Done"}

// restoreWizard holds the wizard's state. Everything here is touched only
// on the UI goroutine, except jobs and ctx.
type restoreWizard struct {
	win  fyne.Window
	svc  RestoreService
	opts RestoreWizardOptions

	ctx    context.Context
	cancel context.CancelFunc
	// jobs counts background work (queries, debounce timers, the restore)
	// so tests can wait until the wizard is idle.
	jobs sync.WaitGroup

	root      *fyne.Container
	title     *widget.Label
	stepMarks []*widget.Label
	body      *fyne.Container
	back      *widget.Button
	next      *widget.Button
	closeBtn  *widget.Button
	chosenLbl *widget.Label
	clearBtn  *widget.Button
	footer    *fyne.Container

	step rwStep

	find    *rwFindStep
	version *rwVersionStep
	where   *rwWhereStep
	review  *rwReviewStep
	running *rwRunningStep
	done    *rwDoneStep

	// The choice so far.
	chosen      []RestoreItem // checked items and folders (folders as IsFolder rows)
	chosenSet   map[string]bool
	current     *RestoreItem // the row being previewed
	accounts    []RestoreAccount
	restoreStop context.CancelFunc
	req         RestoreRequest
}

func newRestoreWizard(win fyne.Window, svc RestoreService, opts RestoreWizardOptions) *restoreWizard {
	if opts.Debounce == 0 {
		opts.Debounce = 200 * time.Millisecond
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.OpenURL == nil {
		opts.OpenURL = func(s string) error {
			u, err := url.Parse(s)
			if err != nil {
				return err
			}
			return fyne.CurrentApp().OpenURL(u)
		}
	}
	if opts.ChooseFolder == nil {
		opts.ChooseFolder = func(done func(string)) {
			if win == nil {
				done("")
				return
			}
			dialog.ShowFolderOpen(func(u fyne.ListableURI, err error) {
				if err != nil || u == nil {
					done("")
					return
				}
				done(filepath.FromSlash(u.Path()))
			}, win)
		}
	}
	w := &restoreWizard{win: win, svc: svc, opts: opts, chosenSet: map[string]bool{}}
	w.ctx, w.cancel = context.WithCancel(context.Background())

	w.title = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	w.title.SizeName = theme.SizeNameHeadingText
	marks := container.NewHBox()
	for i, n := range rwStepNames {
		l := widget.NewLabel(rwItoa(i+1) + ". " + n)
		l.Importance = widget.LowImportance
		w.stepMarks = append(w.stepMarks, l)
		marks.Add(l)
	}
	header := container.NewVBox(w.title, marks, widget.NewSeparator())

	w.back = widget.NewButtonWithIcon("Back", theme.NavigateBackIcon(), w.goBack)
	w.next = widget.NewButtonWithIcon("Next", theme.NavigateNextIcon(), w.goNext)
	w.next.IconPlacement = widget.ButtonIconTrailingText
	w.next.Importance = widget.HighImportance
	w.closeBtn = widget.NewButton("Close", w.close)
	w.chosenLbl = widget.NewLabel("")
	w.clearBtn = widget.NewButton("Clear choice", w.clearChosen)
	w.clearBtn.Importance = widget.LowImportance
	w.footer = container.NewVBox(widget.NewSeparator(),
		container.NewBorder(nil, nil, container.NewHBox(w.closeBtn, w.chosenLbl, w.clearBtn), container.NewHBox(w.back, w.next)))

	w.body = container.NewStack()
	w.root = container.NewBorder(header, w.footer, nil, nil, w.body)

	w.find = newRWFindStep(w)
	w.show(rwFind)
	w.find.start()
	return w
}

// bg runs fn off the UI goroutine with the wizard's context; the function
// fn returns, if any, is applied on the UI goroutine.
func (w *restoreWizard) bg(fn func(ctx context.Context) func()) {
	w.jobs.Add(1)
	go func() {
		defer w.jobs.Done()
		if apply := fn(w.ctx); apply != nil && w.ctx.Err() == nil {
			w.do(apply)
		}
	}()
}

// do runs f on the UI goroutine (opts.Do, or fyne.DoAndWait so that a
// job's update is applied before the job counts as finished).
func (w *restoreWizard) do(f func()) {
	if w.opts.Do != nil {
		w.opts.Do(f)
		return
	}
	fyne.DoAndWait(f)
}

// stop cancels everything the wizard started (the window was closed).
func (w *restoreWizard) stop() { w.cancel() }

func (w *restoreWizard) close() {
	if w.restoreStop != nil {
		w.restoreStop()
	}
	w.stop()
	if w.opts.OnClose != nil {
		w.opts.OnClose()
	}
}

// show switches to step s.
func (w *restoreWizard) show(s rwStep) {
	w.step = s
	var content fyne.CanvasObject
	switch s {
	case rwFind:
		w.title.SetText("Find what you want back")
		content = w.find.content
	case rwVersion:
		w.title.SetText("Choose which version")
		content = w.version.content
	case rwWhere:
		w.title.SetText("Choose where to put it")
		content = w.where.content
	case rwReview:
		w.title.SetText("Check and put it back")
		content = w.review.content
	case rwRunning:
		w.title.SetText("Putting it back…")
		content = w.running.content
	case rwDone:
		content = w.done.content
		w.title.SetText(w.done.title)
	}
	mark := int(s)
	if s >= rwRunning {
		mark = int(s) - 1
	}
	for i, l := range w.stepMarks {
		l.TextStyle.Bold = i == mark
		if i == mark {
			l.Importance = widget.MediumImportance
		} else {
			l.Importance = widget.LowImportance
		}
		l.Refresh()
	}
	w.body.Objects = []fyne.CanvasObject{content}
	w.body.Refresh()
	w.updateButtons()
}

// updateButtons sets the footer for the current step and state.
func (w *restoreWizard) updateButtons() {
	w.back.Show()
	w.next.Show()
	w.closeBtn.Show()
	w.next.SetIcon(theme.NavigateNextIcon())
	w.next.SetText("Next")
	w.chosenLbl.Hide()
	w.clearBtn.Hide()
	switch w.step {
	case rwFind:
		w.back.Disable()
		n := len(w.chosen)
		if n > 0 {
			w.chosenLbl.SetText(rwChosenText(w.chosen))
			w.chosenLbl.Show()
			w.clearBtn.Show()
		}
		if n > 0 || (w.current != nil && !w.current.IsFolder) {
			w.next.Enable()
		} else {
			w.next.Disable()
		}
	case rwVersion:
		w.back.Enable()
		if w.version.selected() != nil {
			w.next.Enable()
		} else {
			w.next.Disable()
		}
	case rwWhere:
		w.back.Enable()
		if w.where.valid() {
			w.next.Enable()
		} else {
			w.next.Disable()
		}
	case rwReview:
		w.back.Enable()
		w.next.SetText("Put it back")
		w.next.SetIcon(theme.ConfirmIcon())
		if w.review.ready() {
			w.next.Enable()
		} else {
			w.next.Disable()
		}
	case rwRunning:
		w.back.Hide()
		w.next.Hide()
		w.closeBtn.Hide()
	case rwDone:
		w.back.Hide()
		w.next.SetText("Get something else back")
		w.next.SetIcon(theme.SearchIcon())
		w.next.Enable()
	}
	// Buttons changed text and visibility: lay the footer out again.
	if w.footer != nil {
		w.footer.Refresh()
	}
}

func (w *restoreWizard) goBack() {
	switch w.step {
	case rwVersion:
		w.show(rwFind)
	case rwWhere:
		if w.version != nil && w.usesVersionStep() {
			w.show(rwVersion)
		} else {
			w.show(rwFind)
		}
	case rwReview:
		w.show(rwWhere)
	}
}

func (w *restoreWizard) goNext() {
	switch w.step {
	case rwFind:
		w.req = RestoreRequest{}
		if w.usesVersionStep() {
			w.version = newRWVersionStep(w, w.singleChoice())
			w.show(rwVersion)
			w.version.load()
			return
		}
		w.enterWhere()
	case rwVersion:
		w.enterWhere()
	case rwWhere:
		w.req.To = w.where.destination()
		w.req.Dir = w.where.dir()
		w.review = newRWReviewStep(w)
		w.show(rwReview)
		w.review.plan()
	case rwReview:
		w.startRestore()
	case rwDone:
		w.restart()
	}
}

// usesVersionStep: one email or file was chosen (a bulk choice is restored
// as it was at the chosen backup, or its newest version).
func (w *restoreWizard) usesVersionStep() bool {
	items, folders := w.choice()
	return len(items) == 1 && len(folders) == 0
}

// choice is what Next takes: the checked items and folders, or else the
// item being previewed.
func (w *restoreWizard) choice() ([]RestoreItem, []FolderChoice) {
	var items []RestoreItem
	var folders []FolderChoice
	for _, it := range w.chosen {
		if it.IsFolder {
			folders = append(folders, FolderChoice{Account: it.Account.ID, Kind: it.Kind, Folder: it.Folder, At: it.Date})
		} else {
			items = append(items, it)
		}
	}
	if len(w.chosen) == 0 && w.current != nil && !w.current.IsFolder {
		items = append(items, *w.current)
	}
	return items, folders
}

func (w *restoreWizard) singleChoice() RestoreItem {
	items, _ := w.choice()
	return items[0]
}

func (w *restoreWizard) enterWhere() {
	items, folders := w.choice()
	if w.step == rwVersion {
		if v := w.version.selected(); v != nil {
			items = []RestoreItem{v.RestoreItem}
		}
	}
	w.req.Items, w.req.Folders = items, folders
	if w.where == nil {
		w.where = newRWWhereStep(w)
	}
	w.where.describe(items, folders)
	w.show(rwWhere)
}

func (w *restoreWizard) restart() {
	w.clearChosen()
	w.current = nil
	w.find.preview.clear()
	w.find.unselectAll()
	w.find.search.SetText("")
	w.where = nil
	w.show(rwFind)
}

// toggle adds or removes an item (or folder) from the choice.
func (w *restoreWizard) toggle(it RestoreItem, on bool) {
	k := rwChosenKey(it)
	if on == w.chosenSet[k] {
		return
	}
	if on {
		w.chosenSet[k] = true
		w.chosen = append(w.chosen, it)
	} else {
		delete(w.chosenSet, k)
		for i, c := range w.chosen {
			if rwChosenKey(c) == k {
				w.chosen = append(w.chosen[:i], w.chosen[i+1:]...)
				break
			}
		}
	}
	w.updateButtons()
}

func (w *restoreWizard) isChosen(it RestoreItem) bool { return w.chosenSet[rwChosenKey(it)] }

func (w *restoreWizard) clearChosen() {
	w.chosen = nil
	w.chosenSet = map[string]bool{}
	w.find.refreshLists()
	w.updateButtons()
}

// rwChosenKey identifies a choice: a version, or a folder at a backup.
func rwChosenKey(it RestoreItem) string {
	if it.IsFolder {
		return "folder\x00" + it.Account.ID + "\x00" + rwItoa(int(it.Kind)) + "\x00" + it.Folder + "\x00" + it.Date.UTC().Format(time.RFC3339Nano)
	}
	return "item\x00" + it.ID
}

func (w *restoreWizard) setCurrent(it *RestoreItem) {
	w.current = it
	w.updateButtons()
}

// showError reports a failed background query in a dialog.
func (w *restoreWizard) showError(err error) {
	if w.win == nil || err == nil {
		return
	}
	what, todo := rwExplain(err)
	dialog.ShowInformation("Something went wrong", what+"\n\n"+todo, w.win)
}
