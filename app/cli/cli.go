package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"

	"github.com/lifeboat-backup/lifeboat/app/environ"
	"github.com/lifeboat-backup/lifeboat/engine/auth"
	"github.com/lifeboat-backup/lifeboat/engine/secret"
	"github.com/lifeboat-backup/lifeboat/engine/service"
)

// Exit codes shared by every command.
const (
	ExitOK      = 0
	ExitFailure = 1
	ExitUsage   = 2
	// ExitSignInRequired: the saved sign-in is missing, damaged or no
	// longer accepted; run `lifeboat login`.
	ExitSignInRequired = 3
	// ExitWarnings: a backup finished but skipped some items.
	ExitWarnings = 4
	// ExitDestinationMissing: the backup folder (drive) is not there.
	ExitDestinationMissing = 5
	// ExitCancelled: the person cancelled (Ctrl-C), as shells report SIGINT.
	ExitCancelled = 130
)

// Options wire the command line.
type Options struct {
	Stdout, Stderr io.Writer
	// Stdin is where a recovery key is typed (default os.Stdin);
	// Interactive says a person is there to type it.
	Stdin       io.Reader
	Interactive func() bool
	Version     string
	// DefaultClientID is the build's application (client) ID.
	DefaultClientID string
	// RunGUI opens the desktop app: lifeboat without a command.
	RunGUI func(ctx context.Context, f environ.Flags, g GUIChoices) error
	// Adjust, when set, changes the application layer's options after
	// the environment is read (tests: a cheap key derivation, a private
	// scheduler, simulated disks).
	Adjust func(*service.Options)
}

// GUIChoices are the flags of lifeboat without a command.
type GUIChoices struct {
	Demo bool
	Seed int64
	Tray bool
}

// Run runs the command line args and returns the exit code.
func Run(ctx context.Context, o Options, args []string) int {
	root := New(o)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	fmt.Fprintln(o.Stderr, "lifeboat:", err)
	return ExitCode(err)
}

// usageError marks errors in the command line itself.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// exitError ends a command with a specific exit code.
type exitError struct {
	code int
	err  error
}

func (e exitError) Error() string { return e.err.Error() }
func (e exitError) Unwrap() error { return e.err }

// ExitCode maps an error to the process exit code: the one an exitError
// carries, else by what went wrong.
func ExitCode(err error) int {
	var ee exitError
	var ue usageError
	var in *service.InputError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &ee):
		return ee.code
	case errors.Is(err, auth.ErrCancelled), errors.Is(err, context.Canceled):
		return ExitCancelled
	case errors.Is(err, auth.ErrSignInRequired):
		return ExitSignInRequired
	case errors.Is(err, service.ErrItemsSkipped):
		return ExitWarnings
	case errors.Is(err, service.ErrDriveMissing):
		return ExitDestinationMissing
	case errors.As(err, &ue), errors.As(err, &in), errors.Is(err, environ.ErrBadSecretStore), strings.HasPrefix(err.Error(), "unknown command"):
		return ExitUsage
	}
	return ExitFailure
}

// cliMemoryLimit is the soft heap limit of command-line runs. The rest
// of a backup's resident memory is the program's own pages (about 90 MiB
// of this large binary are touched) and SQLite's, outside Go's heap: the
// three together stay under the 256 MiB target with room to spare.
const cliMemoryLimit = 100 << 20

// app is the state of one command line.
type app struct {
	o             Options
	stdout        io.Writer
	stderr        io.Writer
	tenantProfile string
	logLevel      string
}

// New returns the root command.
func New(o Options) *cobra.Command {
	if o.Stdin == nil {
		o.Stdin = os.Stdin
	}
	if o.Interactive == nil {
		o.Interactive = stdinIsTerminal
	}
	a := &app{o: o, stdout: o.Stdout, stderr: o.Stderr}
	var gui GUIChoices
	root := &cobra.Command{
		Use:   "lifeboat",
		Short: "Back up Microsoft 365 mail and OneDrive to a drive you own",
		Long: "Lifeboat keeps a copy of your company's Microsoft 365 emails and OneDrive files on a drive\n" +
			"or network folder you control, and restores what was deleted.\n\n" +
			"Run without a command to open the app.",
		Version:       o.Version,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.RunGUI == nil {
				return errors.New("this build of Lifeboat has no app window; use a command (see lifeboat --help)")
			}
			return o.RunGUI(cmd.Context(), environ.Flags{TenantProfile: a.tenantProfile, LogLevel: a.logLevel}, gui)
		},
	}
	root.PersistentPreRun = func(cmd *cobra.Command, _ []string) {
		// Commands stream data through bounded buffers; a soft heap limit
		// stops the collector from letting peak memory drift far above
		// what is live (the target is under 256 MB even for a 4 GB file).
		// The app window keeps Go's defaults.
		if cmd != cmd.Root() && os.Getenv("GOMEMLIMIT") == "" {
			debug.SetMemoryLimit(cliMemoryLimit)
		}
	}
	root.SetOut(o.Stdout)
	root.SetErr(o.Stderr)
	root.SetVersionTemplate("lifeboat {{.Version}}\n")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError{fmt.Errorf("%w (see `%s --help`)", err, c.CommandPath())}
	})
	pf := root.PersistentFlags()
	pf.StringVar(&a.tenantProfile, "tenant-profile", "", "talk to the tenant in this profile `FILE` (written by lifeboat sim serve) instead of Microsoft; also LIFEBOAT_TENANT_PROFILE")
	pf.StringVar(&a.logLevel, "log-level", "warn", "log detail: debug, info, warn or error")
	root.Flags().BoolVar(&gui.Demo, "demo", false, "open the app on the built-in demo company instead of Microsoft 365")
	root.Flags().Int64Var(&gui.Seed, "seed", 1, "with --demo: which generated demo company")
	root.Flags().BoolVar(&gui.Tray, "tray", false, "start hidden in the system tray (at login); closing the window keeps Lifeboat there")
	root.AddCommand(a.simCommand())
	root.AddCommand(a.loginCommands()...)
	root.AddCommand(a.repoCommands()...)
	root.AddCommand(a.backupCommand())
	root.AddCommand(a.scheduleCommand())
	root.AddCommand(a.statusCommand())
	root.AddCommand(a.browseCommands()...)
	root.AddCommand(a.exportCommand())
	root.AddCommand(a.offsiteCommand(), a.alarmCommand())
	root.AddCommand(a.setupCommand(), a.peopleCommand()) // company.go
	return root
}

// requireArgs wraps cobra's argument validators so a wrong count is a usage error.
func requireArgs(v cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := v(cmd, args); err != nil {
			return usageError{fmt.Errorf("%s: %w", cmd.CommandPath(), err)}
		}
		return nil
	}
}

// common are the flags of commands that sign in or open a backup.
type common struct {
	secretStore string
	clientID    string
}

// uses says which keys a command reads, for the file store's warnings.
type uses int

const (
	usesSignIn uses = 1 << iota // the saved sign-in
	usesBackup                  // this computer's key of a backup
)

// backupKeyWarning is said on every run that keeps the key of a backup in
// a file (--secret-store file).
func backupKeyWarning(dir string) string {
	return "warning: --secret-store file: the key that opens this backup on this computer is kept in a file in " + dir +
		", not in the system keychain. Anyone who can read your user folder can open the backup."
}

// service builds the application layer for one command: the environment,
// then this command's flags. It says when keys are kept in a file.
func (a *app) service(c common, u uses, adjust ...func(*service.Options)) (*service.Service, error) {
	res, err := environ.Resolve(environ.Flags{TenantProfile: a.tenantProfile, SecretStore: c.secretStore, ClientID: c.clientID, LogLevel: a.logLevel},
		a.stderr, a.o.DefaultClientID)
	if err != nil {
		if errors.Is(err, environ.ErrBadSecretStore) {
			return nil, usageError{err}
		}
		return nil, err
	}
	if res.FileStore && u&usesSignIn != 0 {
		fmt.Fprintln(a.stderr, secret.FileWarning)
	}
	if res.FileStore && u&usesBackup != 0 {
		fmt.Fprintln(a.stderr, backupKeyWarning(res.Options.ConfigDir))
	}
	for _, f := range adjust {
		f(&res.Options)
	}
	if a.o.Adjust != nil {
		a.o.Adjust(&res.Options)
	}
	return service.New(res.Options)
}

// backupFolder is the backup folder named by a flag, else LIFEBOAT_REPO.
func backupFolder(flag string) (string, error) {
	dir := firstNonEmpty(flag, os.Getenv("LIFEBOAT_REPO"))
	if dir == "" {
		return "", usageError{errors.New("which backup? pass --backup DIR or set LIFEBOAT_REPO")}
	}
	return dir, nil
}

// recoveryKey is --recovery-key, else LIFEBOAT_RECOVERY_KEY. The flag is
// visible to every user of the computer in the process list, so using it
// is warned about.
func (a *app) recoveryKey(flag string) string {
	if flag != "" {
		fmt.Fprintln(a.stderr, "warning: --recovery-key is visible to other users of this computer while Lifeboat runs; "+
			"prefer LIFEBOAT_RECOVERY_KEY or typing it when asked.")
		return flag
	}
	return os.Getenv("LIFEBOAT_RECOVERY_KEY")
}

// withBackup runs f with the backup open: with the recovery key if one
// is given, else this computer's keychain, else by asking for the
// recovery key when a person is at the terminal.
func withKey[T any](a *app, key string, f func(key string) (T, error)) (T, error) {
	v, err := f(key)
	var need *service.NeedRecoveryKeyError
	if err == nil || !errors.As(err, &need) {
		return v, err
	}
	if !a.o.Interactive() {
		return v, fmt.Errorf("%s; pass --recovery-key or set LIFEBOAT_RECOVERY_KEY", need.Why)
	}
	fmt.Fprintf(a.stderr, "%s.\nEnter the recovery key (it is shown as you type): ", need.Why)
	line, rerr := bufio.NewReader(a.o.Stdin).ReadString('\n')
	if rerr != nil && line == "" {
		return v, fmt.Errorf("reading the recovery key: %w", rerr)
	}
	return f(strings.TrimSpace(line))
}

// stdinIsTerminal is true when a person can type an answer: a character
// device is not enough (/dev/null, which scheduled runs get, is one).
func stdinIsTerminal() bool {
	fd := os.Stdin.Fd()
	return isatty.IsTerminal(fd) || isatty.IsCygwinTerminal(fd)
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}
