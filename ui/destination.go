package ui

import (
	"context"
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// DestinationPage lets the person choose where the backup lives: one of
// the connected drives, a folder, or a network share.
type DestinationPage struct {
	env  Env
	dest Destinations

	Drives   *widget.RadioGroup
	Folder   *widget.Entry
	Browse   *widget.Button
	Warning  *widget.Label
	Info     *widget.Label
	content  fyne.CanvasObject
	drives   []Drive
	labels   []string
	estimate int64
	// DemoNote, when set, follows the warnings (the demo's backup may sit
	// on this computer's own disk).
	DemoNote string
	// OnChanged is called when the chosen folder changes.
	OnChanged func(path string)
}

// NewDestinationPage builds the page; suggestion prefills the folder.
func NewDestinationPage(env Env, dest Destinations, suggestion string) *DestinationPage {
	p := &DestinationPage{env: env, dest: dest}
	p.Drives = widget.NewRadioGroup(nil, p.driveChosen)
	p.Folder = widget.NewEntry()
	p.Folder.SetPlaceHolder(`a folder, or a network share such as \\NAS\Backups\Lifeboat`)
	p.Folder.OnChanged = func(string) { p.inspect() }
	p.Browse = widget.NewButtonWithIcon("Choose a folder…", theme.FolderOpenIcon(), p.browse)
	p.Warning = para("")
	p.Warning.Importance = widget.WarningImportance
	p.Warning.Hide()
	p.Info = widget.NewLabel("")
	p.content = container.NewVBox(
		heading("Where should the backup go?"),
		para("Pick your backup drive. An external USB drive or network storage (NAS) is best: if this computer breaks or is stolen, your backup is safe elsewhere."),
		widget.NewLabelWithStyle("Connected drives", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		p.Drives,
		widget.NewLabelWithStyle("Backup folder", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		container.NewBorder(nil, nil, nil, p.Browse, p.Folder),
		p.Info, p.Warning)
	if suggestion != "" {
		p.Folder.SetText(suggestion)
	}
	return p
}

// Content is the page's canvas object.
func (p *DestinationPage) Content() fyne.CanvasObject { return p.content }

// Path is the chosen backup folder.
func (p *DestinationPage) Path() string { return strings.TrimSpace(p.Folder.Text) }

// Load lists the connected drives and the estimated backup size.
func (p *DestinationPage) Load() {
	go func() {
		ctx := context.Background()
		drives, err := p.dest.Drives(ctx)
		est, _ := p.dest.EstimatedSize(ctx)
		p.env.do(func() {
			p.estimate = est
			if err != nil {
				p.Info.SetText("Cannot list the drives: " + err.Error())
			}
			p.setDrives(drives)
			p.inspect()
		})
	}()
}

func (p *DestinationPage) setDrives(drives []Drive) {
	p.drives = drives
	p.labels = nil
	for _, d := range drives {
		p.labels = append(p.labels, driveLabel(d))
	}
	if len(drives) == 0 {
		p.labels = nil
	}
	p.Drives.Options = p.labels
	p.Drives.Refresh()
}

func driveLabel(d Drive) string {
	kind := "this computer's disk"
	if d.External {
		kind = "external drive"
	} else if !d.System {
		kind = "disk"
	}
	free := ""
	if d.Total > 0 {
		free = fmt.Sprintf(" — %s free of %s", formatBytes(int64(d.Free)), formatBytes(int64(d.Total)))
	}
	return fmt.Sprintf("%s (%s)%s", d.Name, kind, free)
}

func (p *DestinationPage) driveChosen(label string) {
	for i, l := range p.labels {
		if l == label && i < len(p.drives) {
			p.Folder.SetText(p.drives[i].Path)
			return
		}
	}
}

func (p *DestinationPage) browse() {
	if p.env.Window == nil {
		return
	}
	d := dialog.NewFolderOpen(func(u fyne.ListableURI, err error) {
		if err != nil || u == nil {
			return
		}
		p.Folder.SetText(u.Path())
	}, p.env.Window)
	d.Resize(fileDialogSize())
	d.Show()
}

// inspect checks the chosen folder's drive in the background and warns
// about the system disk or too little space.
func (p *DestinationPage) inspect() {
	path := p.Path()
	if p.OnChanged != nil {
		p.OnChanged(path)
	}
	if path == "" {
		p.Warning.Hide()
		p.Info.SetText("")
		return
	}
	est := p.estimate
	go func() {
		d, err := p.dest.Inspect(context.Background(), path)
		p.env.do(func() {
			if p.Path() != path {
				return // the person typed on
			}
			p.showInspection(d, est, err)
		})
	}()
}

func (p *DestinationPage) showInspection(d Drive, est int64, err error) {
	if err != nil {
		p.Info.SetText("")
		p.Warning.SetText(err.Error())
		p.Warning.Show()
		return
	}
	info := ""
	if d.Total > 0 {
		info = formatBytes(int64(d.Free)) + " free on " + d.Name
	}
	if est > 0 {
		info += fmt.Sprintf("; the first backup needs about %s", formatBytes(est))
	}
	p.Info.SetText(info)
	var warn []string
	if d.System {
		warn = append(warn, "This folder is on this computer's own disk. If the computer breaks or is stolen, the backup is lost with it. An external drive or network storage is safer.")
	}
	if est > 0 && d.Total > 0 && d.Free < uint64(est) {
		warn = append(warn, fmt.Sprintf("There is not enough free space: about %s is needed and only %s is free.", formatBytes(est), formatBytes(int64(d.Free))))
	}
	if len(warn) > 0 && p.DemoNote != "" {
		warn = append(warn, p.DemoNote)
	}
	p.Warning.SetText(strings.Join(warn, "\n"))
	setVisible(p.Warning, len(warn) > 0)
}
