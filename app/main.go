package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	// First: silences the standard log before Fyne's init writes to it.
	"github.com/lifeboat-backup/lifeboat/app/stdlog"

	"github.com/lifeboat-backup/lifeboat/app/cli"
	"github.com/lifeboat-backup/lifeboat/app/environ"
	"github.com/lifeboat-backup/lifeboat/app/gui"
)

// version and build are stamped at build time:
// -ldflags "-X main.version=1.2.3 -X main.build=7".
var (
	version = "0.1.0-dev"
	build   = ""
)

// defaultClientID is the application (client) ID used when no flag,
// environment variable or tenant profile names one. Release builds set it:
// -ldflags "-X main.defaultClientID=<GUID of Lifeboat's app registration>".
var defaultClientID = ""

func main() {
	attachParentConsole()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, options(os.Stdout, os.Stderr), os.Args[1:])
	stop()
	os.Exit(code)
}

// options wire the command line to the app window: lifeboat without a
// command opens it.
func options(stdout, stderr *os.File) cli.Options {
	return cli.Options{Stdout: stdout, Stderr: stderr, Version: version, DefaultClientID: defaultClientID,
		RunGUI: func(ctx context.Context, f environ.Flags, g cli.GUIChoices) error {
			stdlog.To(stderr) // the app's own problems belong in its log
			return gui.Run(ctx, gui.Options{Flags: f, Demo: g.Demo, Seed: g.Seed, Tray: g.Tray, Stderr: stderr,
				Version: version, Build: build, DefaultClientID: defaultClientID})
		}}
}
