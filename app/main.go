package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/lifeboat-backup/lifeboat/engine/auth"
)

// version is stamped at build time: -ldflags "-X main.version=1.2.3".
var version = "0.1.0-dev"

// Exit codes shared by every command.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
	// exitSignInRequired: the saved sign-in is missing, damaged or no longer
	// accepted; run `lifeboat login`.
	exitSignInRequired = 3
	// exitWarnings: a backup finished but skipped some items.
	exitWarnings = 4
	// exitDestinationMissing: the backup folder (drive) is not there.
	exitDestinationMissing = 5
	// exitCancelled: the person cancelled (Ctrl-C), as shells report SIGINT.
	exitCancelled = 130
)

// usageError marks errors in the command line itself.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func main() {
	attachParentConsole()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRootCommand(stdout, stderr)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	fmt.Fprintln(stderr, "lifeboat:", err)
	return exitCodeFor(err)
}

// exitError ends a command with a specific exit code.
type exitError struct {
	code int
	err  error
}

func (e exitError) Error() string { return e.err.Error() }
func (e exitError) Unwrap() error { return e.err }

// exitCodeFor maps an error to the process exit code: the one an
// exitError carries, else by what went wrong.
func exitCodeFor(err error) int {
	var ee exitError
	var ue usageError
	switch {
	case errors.As(err, &ee):
		return ee.code
	case errors.Is(err, auth.ErrCancelled), errors.Is(err, context.Canceled):
		return exitCancelled
	case errors.Is(err, auth.ErrSignInRequired):
		return exitSignInRequired
	case errors.As(err, &ue), strings.HasPrefix(err.Error(), "unknown command"):
		return exitUsage
	}
	return exitFailure
}
