package ui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// historyLimit is how many past backups the history lists.
const historyLimit = 200

// HistoryView lists past backups; selecting one shows its details, with
// "Copy details" for support.
type HistoryView struct {
	env Env
	src History

	List    *widget.List
	Details *widget.Label
	Copy    *widget.Button
	Empty   *widget.Label
	content fyne.CanvasObject

	runs     []RunRecord
	selected int
}

// NewHistoryView builds the history screen; Refresh loads it.
func NewHistoryView(env Env, src History) *HistoryView {
	h := &HistoryView{env: env, src: src, selected: -1}
	h.List = widget.NewList(func() int { return len(h.runs) },
		func() fyne.CanvasObject {
			return container.NewHBox(widget.NewIcon(theme.ConfirmIcon()), widget.NewLabel("Mon 30 Dec 2026 at 21:00 — completed"))
		},
		func(id widget.ListItemID, o fyne.CanvasObject) {
			if id >= len(h.runs) {
				return
			}
			r := h.runs[id]
			box := o.(*fyne.Container)
			box.Objects[0].(*widget.Icon).SetResource(statusIcon(r.Status))
			box.Objects[1].(*widget.Label).SetText(h.line(r))
		})
	h.List.OnSelected = h.Select
	h.Details = widget.NewLabel("Select a backup to see what it did.")
	h.Details.Wrapping = fyne.TextWrapWord
	h.Details.Selectable = true
	h.Copy = widget.NewButtonWithIcon("Copy details", theme.ContentCopyIcon(), h.copyDetails)
	h.Copy.Disable()
	h.Empty = para("No backups yet. They appear here as they run.")
	h.Empty.Hide()
	right := container.NewBorder(nil, container.NewHBox(h.Copy), nil, nil, container.NewVScroll(h.Details))
	split := container.NewHSplit(container.NewBorder(h.Empty, nil, nil, nil, h.List), right)
	split.Offset = 0.45
	h.content = split
	return h
}

// Content is the screen's canvas object.
func (h *HistoryView) Content() fyne.CanvasObject { return h.content }

// Runs are the backups listed.
func (h *HistoryView) Runs() []RunRecord { return h.runs }

// Refresh reloads the list in the background.
func (h *HistoryView) Refresh() {
	go func() {
		runs, err := h.src.Runs(context.Background(), historyLimit)
		h.env.do(func() {
			if err != nil {
				h.Empty.SetText("The backup history cannot be read: " + err.Error())
				h.Empty.Show()
				return
			}
			h.runs = runs
			setVisible(h.Empty, len(runs) == 0)
			h.List.UnselectAll()
			h.selected = -1
			h.Copy.Disable()
			h.List.Refresh()
			if len(runs) > 0 {
				h.List.Select(0)
			}
		})
	}()
}

// Select shows the details of run i.
func (h *HistoryView) Select(i int) {
	if i < 0 || i >= len(h.runs) {
		return
	}
	h.selected = i
	h.Details.SetText(RunDetails(h.runs[i]))
	h.Copy.Enable()
}

func (h *HistoryView) copyDetails() {
	if h.selected < 0 {
		return
	}
	h.env.App.Clipboard().SetContent(RunDetails(h.runs[h.selected]))
}

func (h *HistoryView) line(r RunRecord) string {
	return r.Started.Local().Format("Mon 2 Jan 2006 at 15:04") + " — " + statusWords(r.Status)
}

func statusIcon(s RunStatus) fyne.Resource {
	switch s {
	case RunCompleted:
		return theme.ConfirmIcon()
	case RunWithWarnings:
		return theme.WarningIcon()
	case RunRunning:
		return theme.MediaPlayIcon()
	case RunCancelled:
		return theme.MediaPauseIcon()
	default:
		return theme.ErrorIcon()
	}
}

func statusWords(s RunStatus) string {
	switch s {
	case RunCompleted:
		return "finished"
	case RunWithWarnings:
		return "finished, some items skipped"
	case RunRunning:
		return "running or interrupted"
	case RunCancelled:
		return "stopped"
	case RunFailed:
		return "did not finish"
	default:
		return string(s)
	}
}

// RunDetails is a run described in full, as shown and as copied for
// support.
func RunDetails(r RunRecord) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Backup of %s: %s\n", r.Started.Local().Format("Mon 2 Jan 2006 at 15:04"), statusWords(r.Status))
	if !r.Ended.IsZero() && r.Ended.After(r.Started) {
		fmt.Fprintf(&b, "Took %s\n", r.Ended.Sub(r.Started).Round(time.Second))
	}
	fmt.Fprintf(&b, "New: %d · Changed: %d · Deleted since last time: %d · Skipped: %d\n", r.New, r.Changed, r.Deleted, r.Skipped)
	fmt.Fprintf(&b, "Data copied: %s\n", formatBytes(r.Bytes))
	if r.Error != "" {
		fmt.Fprintf(&b, "\nWhat went wrong: %s\n", r.Error)
	}
	if len(r.Warnings) > 0 {
		b.WriteString("\nWarnings:\n")
		for _, w := range r.Warnings {
			fmt.Fprintf(&b, "  • %s\n", w)
		}
	}
	if len(r.SkippedItems) > 0 {
		b.WriteString("\nSkipped (tried again next time):\n")
		for _, s := range r.SkippedItems {
			who := ""
			if s.Account != "" {
				who = s.Account + ": "
			}
			fmt.Fprintf(&b, "  • %s%s — %s\n", who, s.Item, s.Reason)
		}
	}
	fmt.Fprintf(&b, "\n(run %d)\n", r.ID)
	return b.String()
}
