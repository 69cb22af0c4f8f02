package ui

import (
	"context"
	"errors"
	"sort"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// rwVersionStep is step 2: the versions of one item, newest first.
type rwVersionStep struct {
	w        *restoreWizard
	item     RestoreItem
	content  fyne.CanvasObject
	status   *widget.Label
	list     *widget.List
	versions []ItemVersion
	sel      int
	preview  *rwPreviewPane
}

func newRWVersionStep(w *restoreWizard, item RestoreItem) *rwVersionStep {
	v := &rwVersionStep{w: w, item: item, sel: -1}
	v.status = widget.NewLabel("Looking for the versions of “" + rwOrNone(item.Name) + "” in your backup…")
	v.status.Wrapping = fyne.TextWrapWord
	v.list = widget.NewList(
		func() int { return len(v.versions) },
		func() fyne.CanvasObject {
			top := widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
			top.Truncation = fyne.TextTruncateEllipsis
			sub := widget.NewLabel("")
			sub.Truncation = fyne.TextTruncateEllipsis
			sub.Importance = widget.LowImportance
			return container.NewVBox(top, sub)
		},
		func(id widget.ListItemID, o fyne.CanvasObject) {
			if id >= len(v.versions) {
				return
			}
			c := o.(*fyne.Container)
			top, sub := v.rowText(id)
			c.Objects[0].(*widget.Label).SetText(top)
			c.Objects[1].(*widget.Label).SetText(sub)
		})
	v.list.OnSelected = func(id widget.ListItemID) {
		v.sel = id
		if id < len(v.versions) {
			v.preview.show(v.versions[id].RestoreItem)
		}
		w.updateButtons()
	}
	v.preview = newRWPreviewPane(w)
	split := container.NewHSplit(container.NewBorder(v.status, nil, nil, nil, v.list), v.preview.content)
	split.Offset = 0.56
	v.content = split
	return v
}

func (v *rwVersionStep) load() {
	item := v.item
	v.w.bg(func(ctx context.Context) func() {
		vs, err := v.w.svc.Versions(ctx, item)
		return func() {
			if err != nil {
				what, todo := rwExplain(err)
				v.status.SetText(what + " " + todo)
				return
			}
			// Newest first, whatever order the service used.
			sort.SliceStable(vs, func(i, j int) bool { return vs[i].Seen.After(vs[j].Seen) })
			v.versions = vs
			switch len(vs) {
			case 0:
				v.status.SetText("The backup holds no version of “" + rwOrNone(item.Name) + "”.")
			case 1:
				v.status.SetText("The backup holds one version of “" + rwOrNone(item.Name) + "”.")
			default:
				v.status.SetText("The backup holds " + rwItoa(len(vs)) + " versions of “" + rwOrNone(item.Name) + "”, newest first. Choose one to see it.")
			}
			v.list.Refresh()
			rwPick := 0
			for i, x := range vs {
				if x.ID == item.ID {
					rwPick = i
				}
			}
			if len(vs) > 0 {
				v.list.Select(rwPick)
			}
		}
	})
}

// rowText is a version's two lines: when it was that way, and the details.
func (v *rwVersionStep) rowText(i int) (string, string) {
	x := v.versions[i]
	now := v.w.opts.Now()
	var top string
	if x.Kind == ItemFile && !x.Date.IsZero() {
		top = "Saved " + rwLongDate(x.Date, now)
	} else {
		top = "As backed up " + rwLongDate(x.Seen, now)
	}
	switch {
	case i == 0 && x.Current:
		top += " — the newest"
	case i == 0 && !v.item.Deleted.IsZero():
		top += " — the last before it was deleted"
	case i == 0:
		top += " — the newest in the backup"
	}
	var sub string
	switch {
	case x.Current:
		sub = "In your backups since " + rwInSentence(rwShortDate(x.Seen, now))
	case x.Until.IsZero() || x.Until.Equal(x.Seen):
		sub = "In the backup of " + rwInSentence(rwShortDate(x.Seen, now))
	default:
		sub = "In backups from " + rwInSentence(rwShortDate(x.Seen, now)) + " to " + rwInSentence(rwShortDate(x.Until, now))
	}
	sub += " · " + rwSize(x.Size)
	if x.Folder != "" {
		sub += " · " + rwFolderText(x.Folder, x.Kind)
	}
	return top, sub
}

func (v *rwVersionStep) selected() *ItemVersion {
	if v.sel < 0 || v.sel >= len(v.versions) {
		return nil
	}
	return &v.versions[v.sel]
}

// rwWhereStep is step 3: back where it was, a new folder, or this computer.
type rwWhereStep struct {
	w        *restoreWizard
	content  fyne.CanvasObject
	radios   []*widget.RadioGroup // one option each, so each has its explanation under it
	selected RestoreTarget
	original *widget.Label
	// newFolder and computer explain the other two choices; describe
	// words them for calendars and contacts (restore_pim.go).
	newFolder, computer *widget.Label
	folder              *widget.Entry
	pick                *widget.Button
}

const (
	rwWhereOriginal = "Back where it was"
	rwWhereNew      = "In a new folder, next to what is there now"
	rwWhereComputer = "In a folder on this computer"
)

func newRWWhereStep(w *restoreWizard) *rwWhereStep {
	s := &rwWhereStep{w: w}
	s.original = widget.NewLabel("")
	s.original.Wrapping = fyne.TextWrapWord
	newFolder := widget.NewLabel(rwNewFolderText)
	newFolder.Wrapping = fyne.TextWrapWord
	computer := widget.NewLabel(rwComputerText)
	computer.Wrapping = fyne.TextWrapWord
	s.newFolder, s.computer = newFolder, computer
	s.folder = widget.NewEntry()
	s.folder.SetPlaceHolder("Choose a folder on this computer…")
	s.folder.OnChanged = func(string) { w.updateButtons() }
	s.pick = widget.NewButtonWithIcon("Choose folder…", theme.FolderOpenIcon(), func() {
		w.opts.ChooseFolder(func(p string) {
			if p != "" {
				s.folder.SetText(p)
			}
		})
	})
	box := container.NewVBox()
	for i, opt := range []string{rwWhereOriginal, rwWhereNew, rwWhereComputer} {
		dest := RestoreTarget(i)
		r := widget.NewRadioGroup([]string{opt}, func(sel string) {
			if sel != "" {
				s.choose(dest)
			} else if s.selected == dest {
				// A tap on the chosen option unselects it; keep it chosen.
				s.choose(dest)
			}
		})
		s.radios = append(s.radios, r)
		desc := []*widget.Label{s.original, newFolder, computer}[i]
		desc.Importance = widget.LowImportance
		indent := container.NewBorder(nil, nil, widget.NewLabel("   "), nil, desc)
		box.Add(r)
		box.Add(indent)
		if dest == ToComputer {
			box.Add(container.NewBorder(nil, nil, widget.NewLabel("   "), s.pick, s.folder))
		}
	}
	s.content = container.NewVScroll(container.NewPadded(box))
	s.choose(ToOriginal)
	return s
}

// choose selects one destination and clears the others.
func (s *rwWhereStep) choose(d RestoreTarget) {
	s.selected = d
	for i, r := range s.radios {
		want := ""
		if RestoreTarget(i) == d {
			want = r.Options[0]
		}
		if r.Selected != want {
			r.Selected = want
			r.Refresh()
		}
	}
	if d == ToComputer {
		s.folder.Enable()
		s.pick.Enable()
	} else {
		s.folder.Disable()
		s.pick.Disable()
	}
	s.w.updateButtons()
}

// describe says where "back where it was" is for this choice.
func (s *rwWhereStep) describe(items []RestoreItem, folders []FolderChoice) {
	n := len(items) + len(folders)
	switch {
	case len(items) == 1 && len(folders) == 0:
		it := items[0]
		s.original.SetText("Into " + rwFolderText(it.Folder, it.Kind) + rwWhoseSuffix(it.Account, it.Kind) +
			". If that " + rwContainerNoun(it.Kind) + " no longer exists, Lifeboat makes it again.")
	case len(folders) == 1 && len(items) == 0:
		f := folders[0]
		s.original.SetText("Everything goes back into " + rwFolderText(f.Folder, f.Kind) + " as it was on " +
			rwLongDate(f.At, s.w.opts.Now()) + ". Missing folders are made again.")
	case n > 1:
		s.original.SetText("Each one goes back into the folder it came from. Missing folders are made again.")
	}
	s.describePIM(items, folders)
}

func (s *rwWhereStep) destination() RestoreTarget { return s.selected }

func (s *rwWhereStep) dir() string {
	if s.destination() != ToComputer {
		return ""
	}
	return strings.TrimSpace(s.folder.Text)
}

func (s *rwWhereStep) valid() bool {
	return s.destination() != ToComputer || s.dir() != ""
}

// rwReviewStep is step 4: the dry run in plain words, and the conflict
// choice when something is in the way.
type rwReviewStep struct {
	w        *restoreWizard
	content  fyne.CanvasObject
	box      *fyne.Container
	summary  *widget.Label
	lines    *widget.Label
	conflict *widget.RadioGroup
	confBox  *fyne.Container
	busy     *widget.ProgressBarInfinite
	result   *RestorePlan
	gen      int
}

const (
	rwKeepBothText  = "Keep both (recommended)"
	rwOverwriteText = "Replace what is there with the backed-up version"
	rwSkipText      = "Leave what is there, and do not restore those"
)

func newRWReviewStep(w *restoreWizard) *rwReviewStep {
	r := &rwReviewStep{w: w}
	r.summary = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	r.summary.Wrapping = fyne.TextWrapWord
	r.lines = widget.NewLabel("")
	r.lines.Wrapping = fyne.TextWrapWord
	r.busy = widget.NewProgressBarInfinite()
	r.conflict = widget.NewRadioGroup([]string{rwKeepBothText, rwOverwriteText, rwSkipText}, func(string) {
		w.req.Conflict = r.mode()
		r.plan()
	})
	r.conflict.Required = true
	r.conflict.Selected = rwKeepBothText
	switch w.req.Conflict {
	case ConflictOverwrite:
		r.conflict.Selected = rwOverwriteText
	case ConflictSkip:
		r.conflict.Selected = rwSkipText
	}
	r.confBox = container.NewVBox(widget.NewSeparator(),
		widget.NewLabelWithStyle("Some of these are already there. What should Lifeboat do?", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		r.conflict)
	r.confBox.Hide()
	r.box = container.NewVBox(r.summary, r.busy, r.lines, r.confBox)
	r.content = container.NewVScroll(container.NewPadded(r.box))
	return r
}

func (r *rwReviewStep) mode() ConflictMode {
	switch r.conflict.Selected {
	case rwOverwriteText:
		return ConflictOverwrite
	case rwSkipText:
		return ConflictSkip
	}
	return ConflictKeepBoth
}

func (r *rwReviewStep) ready() bool {
	return r.result != nil && rwPlanWork(*r.result) > 0
}

// plan runs the dry run for the current request.
func (r *rwReviewStep) plan() {
	r.gen++
	gen := r.gen
	r.result = nil
	r.summary.SetText("Checking what will happen…")
	r.lines.SetText("")
	r.busy.Show()
	r.busy.Start()
	r.box.Refresh()
	r.w.updateButtons()
	req := r.w.req
	req.Conflict = r.mode()
	r.w.bg(func(ctx context.Context) func() {
		p, err := r.w.svc.Plan(ctx, req)
		return func() {
			if gen != r.gen {
				return
			}
			r.busy.Stop()
			r.busy.Hide()
			if err != nil {
				what, todo := rwExplain(err)
				r.summary.SetText(what)
				r.lines.SetText(todo)
				r.box.Refresh()
				r.w.updateButtons()
				return
			}
			r.result = &p
			summary, lines := rwPlanSentences(p, req.To)
			r.summary.SetText(summary)
			r.lines.SetText(strings.Join(lines, "\n"))
			if rwPlanConflicts(p) > 0 {
				r.confBox.Show()
			}
			r.box.Refresh()
			r.w.updateButtons()
		}
	})
}

// rwRunningStep shows a restore's progress with a way to stop it.
type rwRunningStep struct {
	content fyne.CanvasObject
	bar     *widget.ProgressBar
	what    *widget.Label
	cancel  *widget.Button
}

func (w *restoreWizard) startRestore() {
	req := w.req
	req.Conflict = w.review.mode()
	rs := &rwRunningStep{bar: widget.NewProgressBar(), what: widget.NewLabel("Starting…")}
	rs.what.Wrapping = fyne.TextWrapWord
	ctx, stop := context.WithCancel(w.ctx)
	w.restoreStop = stop
	rs.cancel = widget.NewButtonWithIcon("Stop", theme.CancelIcon(), func() {
		rs.what.SetText("Stopping after the item in progress…")
		rs.cancel.Disable()
		stop()
	})
	note := widget.NewLabel("You can keep using your computer. Stopping keeps whatever was already put back.")
	note.Wrapping = fyne.TextWrapWord
	note.Importance = widget.LowImportance
	rs.content = container.NewPadded(container.NewVBox(rs.bar, rs.what, note, container.NewHBox(rs.cancel)))
	w.running = rs
	w.show(rwRunning)

	w.jobs.Add(1)
	go func() {
		defer w.jobs.Done()
		out, err := w.svc.Restore(ctx, req, func(p RestoreProgress) {
			w.do(func() { rs.update(p) })
		})
		stopped := ctx.Err() != nil && w.ctx.Err() == nil
		stop()
		if w.ctx.Err() != nil {
			return // the window was closed
		}
		w.do(func() {
			w.restoreStop = nil
			w.done = newRWDoneStep(w, req, out, err, stopped)
			w.show(rwDone)
		})
	}()
}

func (rs *rwRunningStep) update(p RestoreProgress) {
	switch {
	case p.BytesTotal > 0:
		rs.bar.SetValue(float64(p.BytesDone) / float64(p.BytesTotal))
	case p.Total > 0:
		rs.bar.SetValue(float64(p.Done) / float64(p.Total))
	}
	if !rs.cancel.Disabled() {
		t := rwItoa(p.Done) + " of " + rwItoa(p.Total) + " done"
		if p.Current != "" {
			t += " — now: " + p.Current
		}
		rs.what.SetText(t)
	}
}

// rwDoneStep is step 5: what happened and where to look.
type rwDoneStep struct {
	title   string
	content fyne.CanvasObject
	open    *widget.Button
	retry   *widget.Button
	text    []string
}

func newRWDoneStep(w *restoreWizard, req RestoreRequest, out RestoreOutcome, err error, stopped bool) *rwDoneStep {
	d := &rwDoneStep{}
	put := out.Restored + out.Renamed + out.Overwritten
	var icon fyne.Resource
	var lines []string
	switch {
	case stopped:
		icon = theme.WarningIcon()
		d.title = "Stopped"
		lines = append(lines, "You stopped the restore. "+rwPutBackSentence(put, req)+" The rest was not restored; you can start again at any time.")
	case err != nil:
		icon = theme.ErrorIcon()
		d.title = "Lifeboat could not put it back"
		what, todo := rwExplain(err)
		lines = append(lines, what, todo)
		if put > 0 {
			lines = append(lines, rwPutBackSentence(put, req)+" Those stay where they are.")
		}
	case len(out.Failed) > 0:
		icon = theme.WarningIcon()
		d.title = "Almost done"
		lines = append(lines, rwPutBackSentence(put, req))
	case put == 0:
		icon = theme.InfoIcon()
		d.title = "Nothing needed restoring"
		lines = append(lines, "Everything you chose was already there, so Lifeboat left it as it was.")
	default:
		icon = theme.ConfirmIcon()
		d.title = "Done"
		lines = append(lines, rwPutBackSentence(put, req))
		if rwHasEvents(req) && req.To != ToComputer {
			lines = append(lines, "Meetings came back as appointments, so nobody was sent an invitation.")
		}
	}
	if out.Renamed > 0 {
		lines = append(lines, rwPick(out.Renamed, "Something with the same name was already there, so Lifeboat kept both: the restored copy has a new name next to it.",
			rwItoa(out.Renamed)+" were already there, so Lifeboat kept both: the restored copies have new names next to them."))
	}
	if out.Overwritten > 0 {
		lines = append(lines, rwPick(out.Overwritten, "What was there before was replaced with the backed-up version.",
			rwItoa(out.Overwritten)+" that were there before were replaced with their backed-up versions."))
	}
	if out.Skipped > 0 {
		lines = append(lines, rwPick(out.Skipped, "1 was already there, so Lifeboat left it as it was.",
			rwItoa(out.Skipped)+" were already there, so Lifeboat left them as they were."))
	}
	if len(out.Failed) > 0 {
		lines = append(lines, rwCountText(len(out.Failed), "", "")+" could not be put back:")
		for i, f := range out.Failed {
			if i == 20 {
				lines = append(lines, "…and "+rwItoa(len(out.Failed)-20)+" more.")
				break
			}
			lines = append(lines, "• "+f.Name+": "+f.Reason)
		}
		lines = append(lines, "Try those again in a few minutes. If they keep failing, open History and use “Copy details” to ask for help.")
	}
	if err != nil && !stopped {
		var p *RestoreProblem
		if errors.As(err, &p) && p.Err != nil {
			lines = append(lines, "Details: "+p.Err.Error())
		} else if !errors.As(err, &p) {
			lines = append(lines, "Details: "+err.Error())
		}
	}
	d.text = lines

	// The first sentence is the big one next to the icon; the window's
	// title already says "Done" or what failed.
	box := container.NewVBox()
	for _, l := range lines[1:] {
		lb := widget.NewLabel(l)
		lb.Wrapping = fyne.TextWrapWord
		box.Add(lb)
	}
	buttons := container.NewHBox()
	if out.WebURL != "" && put > 0 {
		label := "Open in Outlook on the web"
		if !rwHasMail(req) {
			label = "Open in OneDrive on the web"
		}
		u := out.WebURL
		d.open = widget.NewButtonWithIcon(label, theme.ComputerIcon(), func() {
			if err := w.opts.OpenURL(u); err != nil {
				w.showError(err)
			}
		})
		buttons.Add(d.open)
	}
	if out.LocalDir != "" && put > 0 {
		dir := out.LocalDir
		d.open = widget.NewButtonWithIcon("Open folder", theme.FolderOpenIcon(), func() {
			if err := w.opts.OpenURL(rwFileURL(dir)); err != nil {
				w.showError(err)
			}
		})
		buttons.Add(d.open)
	}
	if err != nil || stopped || len(out.Failed) > 0 {
		d.retry = widget.NewButtonWithIcon("Try again", theme.ViewRefreshIcon(), func() {
			w.review = newRWReviewStep(w)
			w.show(rwReview)
			w.review.plan()
		})
		buttons.Add(d.retry)
	}
	big := widget.NewIcon(icon)
	head := container.NewBorder(nil, nil, container.NewGridWrap(fyne.NewSize(48, 48), big), nil, rwHeading(lines[0]))
	d.content = container.NewVScroll(container.NewPadded(container.NewVBox(head, box, buttons)))
	return d
}

func rwPutBackSentence(n int, req RestoreRequest) string {
	if n == 0 {
		return "Nothing was put back."
	}
	verb := " put back"
	switch req.To {
	case ToNewFolder:
		verb = " put in a new folder"
	case ToComputer:
		verb = " saved in " + req.Dir
	}
	return rwCountKinds(n, req) + " " + rwPick(n, "was", "were") + verb + "."
}

func rwHasMail(req RestoreRequest) bool {
	for _, it := range req.Items {
		if it.Kind == ItemEmail {
			return true
		}
	}
	for _, f := range req.Folders {
		if f.Kind == ItemEmail {
			return true
		}
	}
	return false
}

// rwCountKinds names n things by what was chosen: emails, files,
// calendar events or contacts when all are of one kind, else items.
func rwCountKinds(n int, req RestoreRequest) string {
	kinds := map[ItemKind]bool{}
	for _, it := range req.Items {
		kinds[it.Kind] = true
	}
	for _, f := range req.Folders {
		kinds[f.Kind] = true
	}
	if len(kinds) == 1 {
		for k := range kinds {
			return rwCountNoun(n, k)
		}
	}
	return rwItoa(n) + rwPick(n, " item", " items")
}

// rwHasEvents says whether calendar events were chosen.
func rwHasEvents(req RestoreRequest) bool {
	for _, it := range req.Items {
		if it.Kind == ItemEvent {
			return true
		}
	}
	for _, f := range req.Folders {
		if f.Kind == ItemEvent {
			return true
		}
	}
	return false
}

func rwCountText(n int, one, many string) string {
	s := rwItoa(n) + rwPick(n, " item", " items")
	if one == "" {
		return s
	}
	return s + " " + rwPick(n, one, many)
}
