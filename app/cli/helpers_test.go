package cli

import (
	"context"
	"io"
	"testing"

	"github.com/lifeboat-backup/lifeboat/app/apptest"
	"github.com/lifeboat-backup/lifeboat/engine/repo"
	"github.com/lifeboat-backup/lifeboat/engine/service"
)

// The tests' names for the exit codes.
const (
	exitOK                 = ExitOK
	exitFailure            = ExitFailure
	exitUsage              = ExitUsage
	exitSignInRequired     = ExitSignInRequired
	exitWarnings           = ExitWarnings
	exitDestinationMissing = ExitDestinationMissing
	exitCancelled          = ExitCancelled
)

// version is what --version prints in the tests.
const version = "1.2.3-test"

// run runs the command line as the binary would, with the environment
// the test set.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return runAdjusted(ctx, nil, args, stdout, stderr)
}

// runAdjusted is run with the application layer's options changed by
// adjust (a private scheduler, simulated disks, a notifier).
func runAdjusted(ctx context.Context, adjust func(*service.Options), args []string, stdout, stderr io.Writer) int {
	return Run(ctx, Options{Stdout: stdout, Stderr: stderr, Version: version, Adjust: adjust, Interactive: func() bool { return false }}, args)
}

func exitCodeFor(err error) int { return ExitCode(err) }

func openWithFileKeychain(t *testing.T, dir, configDir string) *repo.Repository {
	return apptest.OpenWithFileKeychain(t, dir, configDir)
}
