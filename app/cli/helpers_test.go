package cli

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/lifeboat-backup/lifeboat/engine/repo"
	"github.com/lifeboat-backup/lifeboat/engine/secret"
	"github.com/lifeboat-backup/lifeboat/engine/service"
	"github.com/lifeboat-backup/lifeboat/engine/store"
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

var quietLog = slog.New(slog.DiscardHandler)

// openWithFileKeychain opens the backup in dir with the key the file secret
// store in configDir keeps (no Argon2id, so it is cheap to do often).
func openWithFileKeychain(t *testing.T, dir, configDir string) *repo.Repository {
	t.Helper()
	st, err := store.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	ks := repo.KeychainKeyStore(secret.File{Dir: configDir}, repo.DefaultKeychainService)
	r, err := repo.OpenWithKeyStore(context.Background(), st, ks, repo.Options{Logger: quietLog})
	if err != nil {
		t.Fatalf("opening %s: %v", dir, err)
	}
	return r
}
