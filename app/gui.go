package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/driver/desktop"

	"github.com/lifeboat-backup/lifeboat/assets"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/secret"
	"github.com/lifeboat-backup/lifeboat/engine/volumes"
	"github.com/lifeboat-backup/lifeboat/ui"
)

// appID matches FyneApp.toml; preferences and storage are keyed by it.
const appID = "io.lifeboat.app"

type guiOptions struct {
	demo bool
	seed int64
	// tray starts the app hidden in the system tray.
	tray bool
	// autoApprove, with demo, approves the demo's sign-in codes by itself
	// after this long (the screenshot tour; 0: a person approves).
	autoApprove time.Duration
	// started, when set, is called once the window is built (the tour).
	started func(guiSession)
}

// guiSession is what the screenshot tour drives.
type guiSession struct {
	app    fyne.App
	window fyne.Window
	shell  *ui.Shell
	env    *guiEnv
	demo   *demoEnv
}

// runGUI opens the desktop app. With --demo it first starts the simulated
// tenant in this process, with throwaway settings, so a new user can try
// everything without an account.
func runGUI(ctx context.Context, g *globals, o guiOptions) error {
	e := &guiEnv{g: g, osSchedule: !o.demo}
	suggestion := ""
	var demo *demoEnv
	if o.demo {
		var err error
		demo, err = startDemo(g, o.seed, o.autoApprove)
		if err != nil {
			return err
		}
		defer demo.close()
		e.auth.keychain, e.repo.keychain = demo.keychain, demo.keychain
		e.estimate = demo.estimate
		suggestion = demo.folder
	}
	cfg, _, err := configDir()
	if err != nil {
		return err
	}
	logDir := filepath.Join(cfg, "logs")
	if f, err := openLogFile(logDir); err == nil {
		defer f.Close()
		g.stderr = io.MultiWriter(g.stderr, f)
		if g.logLevel == "warn" {
			g.logLevel = "info" // the log file is for support; the terminal default stays quiet
		}
	} else {
		fmt.Fprintln(g.stderr, "warning:", err)
	}
	e.settings = &settingsStore{dir: cfg}
	st, err := e.settings.load()
	if err != nil {
		return err
	}
	step := ui.StepWelcome
	if s := st.gui().SetupStep; s != nil {
		step = *s
	}

	a := fyneapp.NewWithID(appID)
	a.SetIcon(assets.Icon())
	w := a.NewWindow("Lifeboat")
	if o.demo {
		w.SetTitle("Lifeboat — demo")
	}
	env := ui.Env{App: a, Window: w}
	var trayStatus *fyne.MenuItem
	var trayMenu *fyne.Menu
	var shell *ui.Shell
	deps := e.appDeps(logDir, step)
	deps.Demo, deps.Suggestion = o.demo, suggestion
	deps.OpenFolder = func(path string) error {
		if err := os.MkdirAll(path, 0o700); err != nil {
			return err
		}
		return a.OpenURL(&url.URL{Scheme: "file", Path: filepath.ToSlash(path)})
	}
	deps.OpenRestore = func() { openRestoreWindow(a, w, e) }
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
		if o.tray {
			// Started for the tray: closing the window keeps Lifeboat there.
			w.SetCloseIntercept(w.Hide)
		}
	}
	if !o.demo {
		watchForMissedBackup(ctx, cfg, volumes.FindOptions{}, driveWatchEvery, g.logger(), func() { fyne.Do(shell.BackUpNow) })
	}
	go func() {
		<-ctx.Done()
		fyne.Do(a.Quit)
	}()
	if o.started != nil {
		o.started(guiSession{app: a, window: w, shell: shell, env: e, demo: demo})
	}
	if o.tray {
		a.Run()
	} else {
		w.ShowAndRun()
	}
	return nil
}

// appDeps wires the app's screens to the engine.
func (e *guiEnv) appDeps(logDir string, setupStep int) ui.AppDeps {
	return ui.AppDeps{
		Accounts: guiAccounts{e}, Destinations: guiDestinations{e}, RecoveryKeys: guiRecoveryKeys{e}, Scheduler: guiScheduler{e},
		Backup: guiBackup{e}, Status: guiStatus{e: e}, History: guiHistory{e}, Preferences: guiPreferences{e},
		Diagnostics: guiDiagnostics{e: e, logDir: logDir, version: version},
		Version:     version, SetupStep: setupStep,
		SaveSetupStep: func(step int) {
			if err := e.settings.update(func(_ *settings, gs *guiSettings) { gs.SetupStep = &step }); err != nil {
				e.g.logger().Warn("saving the setup step", "err", err)
			}
		},
	}
}

// openRestoreWindow opens the restore wizard (app/guirestore.go).
func openRestoreWindow(a fyne.App, w fyne.Window, e *guiEnv) {
	openRestoreWizard(a, w, e)
}

// demoEnv is the --demo session: the simulated tenant, a throwaway config
// folder and the keychain stand-in that lives in it.
type demoEnv struct {
	srv      *m365sim.Server
	tmp      string
	keychain secret.Keychain
	folder   string
	estimate func() int64
}

func (d *demoEnv) close() {
	d.srv.Close()
	os.RemoveAll(d.tmp)
}

// startDemo starts the demo company in this process and points this
// process's settings at a throwaway config folder: the demo never touches
// the owner's real sign-in or settings.
func startDemo(g *globals, seed int64, autoApprove time.Duration) (*demoEnv, error) {
	tenant, err := m365sim.GenerateDemo(seed, m365sim.DemoOptions{})
	if err != nil {
		return nil, fmt.Errorf("demo company: %w", err)
	}
	srv, err := m365sim.NewServer(tenant, m365sim.Options{Logger: g.logger(), AutoApprove: autoApprove})
	if err != nil {
		return nil, fmt.Errorf("demo company: %w", err)
	}
	tmp, err := os.MkdirTemp("", "lifeboat-demo-")
	if err != nil {
		srv.Close()
		return nil, fmt.Errorf("demo: %w", err)
	}
	d := &demoEnv{srv: srv, tmp: tmp}
	profile := filepath.Join(tmp, "tenant.json")
	if err := m365sim.WriteProfile(profile, srv.Profile()); err != nil {
		d.close()
		return nil, fmt.Errorf("demo: %w", err)
	}
	cfg := filepath.Join(tmp, "config")
	// Read by configDir everywhere in this process; set once, before any
	// screen exists.
	if err := os.Setenv("LIFEBOAT_CONFIG_DIR", cfg); err != nil {
		d.close()
		return nil, fmt.Errorf("demo: %w", err)
	}
	g.tenantProfile = profile
	// The demo's keys are throwaway too: a file in the throwaway folder,
	// not the owner's keychain.
	d.keychain = secret.File{Dir: cfg}
	d.folder = demoBackupFolder()
	d.estimate = func() int64 { return demoSize(tenant) }
	g.logger().Info("demo tenant running", "url", srv.BaseURL(), "profile", profile)
	return d, nil
}

// demoBackupFolder suggests a new folder in the home folder for the demo's
// backup: "Lifeboat demo backup", or with a number when that is taken.
func demoBackupFolder() string {
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	base := filepath.Join(home, "Lifeboat demo backup")
	for i := 1; i < 100; i++ {
		p := base
		if i > 1 {
			p += " " + strconv.Itoa(i)
		}
		if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
			return p
		}
	}
	return base
}

// demoSize is how much the demo company's mail and files take.
func demoSize(t *m365sim.Tenant) int64 {
	var n int64
	for _, u := range t.Users() {
		msgs, _ := t.Messages(u.UPN, "")
		for _, m := range msgs {
			n += int64(len(m.MIME))
		}
		items, _ := t.DriveItems(u.UPN)
		for _, it := range items {
			if it.Content != nil {
				n += it.Content.Size()
			}
		}
	}
	return n
}
