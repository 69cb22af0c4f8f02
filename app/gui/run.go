package gui

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/driver/desktop"

	"github.com/lifeboat-backup/lifeboat/app/environ"
	"github.com/lifeboat-backup/lifeboat/assets"
	"github.com/lifeboat-backup/lifeboat/engine/service"
	"github.com/lifeboat-backup/lifeboat/ui"
)

// AppID matches FyneApp.toml; preferences and storage are keyed by it.
const AppID = "io.lifeboat.app"

// driveWatchEvery is how often the app looks for a backup drive that a
// scheduled run missed.
const driveWatchEvery = 10 * time.Second

// Options open the app.
type Options struct {
	// Flags are the command line's global choices.
	Flags environ.Flags
	// Demo opens the app on the built-in demo company (Seed picks it);
	// Tray starts hidden in the system tray.
	Demo bool
	Seed int64
	Tray bool
	// Stderr gets the log (besides the log file).
	Stderr          io.Writer
	Version         string
	Build           string
	DefaultClientID string
	// AutoApprove, with Demo, approves the demo's sign-in codes by itself
	// after this long (the screenshot tour; 0: a person approves).
	AutoApprove time.Duration
	// Started, when set, is called once the window is built (the tour).
	Started func(Session)
	// Adjust, when set, changes the application layer's options (tests).
	Adjust func(*service.Options)
}

// Session is what the screenshot tour drives.
type Session struct {
	App    fyne.App
	Window fyne.Window
	Shell  *ui.Shell
	Env    *Env
	Demo   *Demo
}

// Metadata is FyneApp.toml's metadata as stamped into this binary.
// `fyne package` would generate this itself, but the release builds use
// plain `go build` (see installer/dist.sh), so it is set here: the About
// screen reads it with fyne.CurrentApp().Metadata().Version and .Build.
func Metadata(version, build string) fyne.AppMetadata {
	return fyne.AppMetadata{ID: AppID, Name: "Lifeboat", Version: version, Build: parseBuild(build), Icon: assets.Icon(), Release: build != ""}
}

// parseBuild reads a stamped build number; 0 when the binary was not
// stamped or the stamp is not a number.
func parseBuild(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// Run opens the desktop app and returns when it is closed. With Demo it
// first starts the simulated tenant in this process, with throwaway
// settings, so a new user can try everything without an account.
func Run(ctx context.Context, o Options) error {
	fyneapp.SetMetadata(Metadata(o.Version, o.Build))
	flags := o.Flags
	var demo *Demo
	if o.Demo {
		var err error
		if demo, err = StartDemo(o.Seed, o.AutoApprove, environ.Logger(o.Stderr, flags.LogLevel)); err != nil {
			return err
		}
		defer demo.Close()
		flags.TenantProfile, flags.ConfigDir, flags.Keychain = demo.Profile, demo.ConfigDir, demo.Keychain
	}
	res, err := environ.Resolve(flags, io.Discard, o.DefaultClientID)
	if err != nil {
		return err
	}
	logDir := filepath.Join(res.Options.ConfigDir, "logs")
	logw := o.Stderr
	level := flags.LogLevel
	if f, err := openLogFile(logDir); err == nil {
		defer f.Close()
		logw = io.MultiWriter(o.Stderr, f)
		if level == "" || level == "warn" {
			level = "info" // the log file is for support; the terminal default stays quiet
		}
	} else {
		fmt.Fprintln(o.Stderr, "warning:", err)
	}
	res.Options.Logger = environ.Logger(logw, level)
	res.Options.OSSchedule = !o.Demo
	if o.Adjust != nil {
		o.Adjust(&res.Options)
	}
	svc, err := service.New(res.Options)
	if err != nil {
		return err
	}
	e := &Env{svc: svc, Version: o.Version, LogDir: logDir}
	if demo != nil {
		e.Estimate = demo.Estimate
	}
	step := ui.StepWelcome
	if s, ok, err := svc.SetupStep(); err != nil {
		return err
	} else if ok {
		step = s
	}

	a := fyneapp.NewWithID(AppID)
	a.SetIcon(assets.Icon())
	w := a.NewWindow("Lifeboat")
	if o.Demo {
		w.SetTitle("Lifeboat — demo")
	}
	env := ui.Env{App: a, Window: w}
	var trayStatus *fyne.MenuItem
	var trayMenu *fyne.Menu
	var shell *ui.Shell
	deps := e.AppDeps(step)
	deps.Demo = o.Demo
	if demo != nil {
		deps.Suggestion = demo.Folder
	}
	deps.OpenFolder = func(path string) error {
		if err := os.MkdirAll(path, 0o700); err != nil {
			return err
		}
		return a.OpenURL(&url.URL{Scheme: "file", Path: filepath.ToSlash(path)})
	}
	deps.OpenRestore = func() { openRestoreWizard(a, w, e) }
	deps.OpenRestoreBefore = func(at time.Time, kind ui.ItemKind) { // after a wipe alarm
		openRestoreWizardWith(a, w, e, ui.RestoreWizardOptions{Before: at, BeforeKind: kind})
	}
	deps.OnStatus = func(line string) {
		if trayStatus != nil {
			trayStatus.Label = line
			trayMenu.Refresh()
		}
	}
	shell = ui.NewShell(env, deps)
	w.SetContent(shell.Content())
	w.Resize(fyne.NewSize(960, 680))

	if desk, ok := a.(desktop.App); ok {
		trayStatus = fyne.NewMenuItem("Lifeboat", nil)
		trayStatus.Disabled = true
		trayMenu = fyne.NewMenu("Lifeboat", trayStatus, fyne.NewMenuItemSeparator(),
			fyne.NewMenuItem("Back up now", func() { shell.BackUpNow() }),
			fyne.NewMenuItem("Open Lifeboat", func() { w.Show(); w.RequestFocus() }))
		desk.SetSystemTrayMenu(trayMenu)
		desk.SetSystemTrayIcon(assets.Icon())
		desk.SetSystemTrayWindow(w)
		if o.Tray {
			// Started for the tray: closing the window keeps Lifeboat there.
			w.SetCloseIntercept(w.Hide)
		}
	}
	if !o.Demo {
		svc.WatchForMissedBackup(ctx, driveWatchEvery, func() { fyne.Do(shell.BackUpNow) })
	}
	go func() {
		<-ctx.Done()
		fyne.Do(a.Quit)
	}()
	if o.Started != nil {
		o.Started(Session{App: a, Window: w, Shell: shell, Env: e, Demo: demo})
	}
	if o.Tray {
		a.Run()
	} else {
		w.ShowAndRun()
	}
	return nil
}
