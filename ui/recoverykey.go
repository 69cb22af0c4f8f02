package ui

import (
	"fmt"
	"html"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// fileDialogSize is big enough to see the folders to choose from.
func fileDialogSize() fyne.Size { return fyne.NewSize(720, 500) }

// printFileLifetime is how long the printable copy of a recovery key stays
// in the temporary folder: long enough for the browser to open it, short
// enough that the key does not linger on disk.
const printFileLifetime = 2 * time.Minute

// KeyView shows a recovery key once, offers to save or print it, and asks
// for its last group to be typed back before the person moves on.
type KeyView struct {
	env       Env
	key       string
	onConfirm func()

	// Key is the key as shown, in lines.
	Key     []*canvas.Text
	Save    *widget.Button
	Print   *widget.Button
	Confirm *widget.Entry
	Verdict *widget.Label
	content fyne.CanvasObject

	confirmed bool
}

// NewKeyView shows key; onConfirm (may be nil) is called on the UI
// goroutine when the last group has been typed correctly.
func NewKeyView(env Env, key string, onConfirm func()) *KeyView {
	v := &KeyView{env: env, key: key, onConfirm: onConfirm}
	// Two lines of large type: easy to copy by hand, and narrow enough
	// for a small window.
	lines := container.NewVBox()
	for _, part := range splitKey(key) {
		t := canvas.NewText(part, theme.Color(theme.ColorNameForeground))
		t.TextStyle = fyne.TextStyle{Monospace: true}
		t.TextSize = 22
		t.Alignment = fyne.TextAlignLeading
		v.Key = append(v.Key, t)
		lines.Add(t)
	}
	v.Save = widget.NewButtonWithIcon("Save as file…", theme.DocumentSaveIcon(), v.saveAsFile)
	v.Print = widget.NewButtonWithIcon("Print…", theme.DocumentPrintIcon(), v.print)
	v.Confirm = widget.NewEntry()
	v.Confirm.SetPlaceHolder("last group, e.g. " + strings.Repeat("X", len(lastGroup(key))))
	v.Confirm.OnChanged = func(string) { v.check() }
	v.Verdict = widget.NewLabel("")
	why := para("This key opens your backup on any computer, for example if this one is lost or stolen. " +
		"Lifeboat shows it only now. Save it as a file on a USB stick, print it, or write it down, and keep it somewhere safe — not on this computer.")
	v.content = container.NewVBox(why,
		container.NewPadded(container.NewCenter(lines)),
		container.NewCenter(container.NewHBox(v.Save, v.Print)),
		widget.NewLabel("To check you have it, type the last group of the key:"),
		container.NewHBox(container.NewGridWrap(fyne.NewSize(180, v.Confirm.MinSize().Height), v.Confirm), v.Verdict))
	return v
}

// Content is the view's canvas object.
func (v *KeyView) Content() fyne.CanvasObject { return v.content }

// KeyText is the key shown.
func (v *KeyView) KeyText() string { return v.key }

// splitKey cuts a key into two lines at a dash, the first one ending with
// the dash so the written-down key reads the same.
func splitKey(key string) []string {
	groups := strings.SplitAfter(key, "-")
	if len(groups) < 4 {
		return []string{key}
	}
	half := (len(groups) + 1) / 2
	return []string{strings.Join(groups[:half], ""), strings.Join(groups[half:], "")}
}

// Confirmed says whether the last group was typed correctly.
func (v *KeyView) Confirmed() bool { return v.confirmed }

func (v *KeyView) check() {
	typed := normalizeKeyText(v.Confirm.Text)
	want := normalizeKeyText(lastGroup(v.key))
	switch {
	case typed == "":
		v.Verdict.SetText("")
		v.confirmed = false
	case typed == want:
		v.Verdict.SetText("✓ Correct")
		v.Verdict.Importance = widget.SuccessImportance
		v.Verdict.Refresh()
		if !v.confirmed {
			v.confirmed = true
			if v.onConfirm != nil {
				v.onConfirm()
			}
		}
	default:
		v.confirmed = false
		v.Verdict.Importance = widget.DangerImportance
		v.Verdict.SetText("Does not match")
	}
}

// lastGroup is the part of the key after its last dash.
func lastGroup(key string) string {
	if i := strings.LastIndexByte(key, '-'); i >= 0 {
		return key[i+1:]
	}
	return key
}

// normalizeKeyText reads a typed key group as recovery keys are read:
// case does not matter, O is 0 and I or L is 1.
func normalizeKeyText(s string) string {
	s = strings.ToUpper(strings.TrimSpace(s))
	return strings.NewReplacer("O", "0", "I", "1", "L", "1", " ", "", "-", "").Replace(s)
}

// WriteKeyText writes the key as a text file a person can keep.
func WriteKeyText(w io.Writer, key string, created time.Time) error {
	_, err := fmt.Fprintf(w, "Lifeboat recovery key\r\n\r\n    %s\r\n\r\nMade on %s.\r\n"+
		"This key opens your Lifeboat backup on any computer. Keep it somewhere safe, away from this computer.\r\n"+
		"Anyone with this key and your backup drive can read your backed-up emails and files.\r\n",
		key, created.Format("2 January 2006 at 15:04"))
	return err
}

// WriteKeyHTML writes a printable page with the key.
func WriteKeyHTML(w io.Writer, key string, created time.Time) error {
	_, err := fmt.Fprintf(w, `<!DOCTYPE html><html><head><meta charset="utf-8"><title>Lifeboat recovery key</title>
<style>body{font-family:sans-serif;margin:3em}code{font-size:1.6em;letter-spacing:.08em}</style></head>
<body onload="window.print()"><h1>Lifeboat recovery key</h1><p><code>%s</code></p>
<p>Made on %s.</p><p>This key opens your Lifeboat backup on any computer. Keep this page somewhere safe, away from the computer.
Anyone with this key and your backup drive can read your backed-up emails and files.</p></body></html>
`, html.EscapeString(key), html.EscapeString(created.Format("2 January 2006 at 15:04")))
	return err
}

func (v *KeyView) saveAsFile() {
	if v.env.Window == nil {
		return
	}
	d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
		if err != nil || w == nil {
			if err != nil {
				dialog.ShowError(err, v.env.Window)
			}
			return
		}
		werr := WriteKeyText(w, v.key, v.env.now())
		if cerr := w.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			dialog.ShowError(fmt.Errorf("the key was not saved: %w", werr), v.env.Window)
			return
		}
		dialog.ShowInformation("Recovery key saved", "Saved as "+w.URI().Name()+". Move it to a USB stick or print it, then delete it from this computer.", v.env.Window)
	}, v.env.Window)
	d.SetFileName("Lifeboat recovery key.txt")
	d.SetFilter(storage.NewExtensionFileFilter([]string{".txt"}))
	d.Resize(fileDialogSize())
	d.Show()
}

// print opens a printable page in the browser, which offers to print it.
// The page is a private temporary file removed shortly after.
func (v *KeyView) print() {
	f, err := os.CreateTemp("", "lifeboat-key-*.html")
	if err == nil {
		err = WriteKeyHTML(f, v.key, v.env.now())
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		if f != nil {
			os.Remove(f.Name())
		}
		if v.env.Window != nil {
			dialog.ShowError(fmt.Errorf("cannot prepare the page to print: %w", err), v.env.Window)
		}
		return
	}
	name := f.Name()
	time.AfterFunc(printFileLifetime, func() { os.Remove(name) })
	abs, _ := filepath.Abs(name)
	_ = v.env.App.OpenURL(&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)})
}
