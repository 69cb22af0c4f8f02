package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/volumes"
)

// globals are the flags every command accepts.
type globals struct {
	tenantProfile string
	logLevel      string
	stdout        io.Writer
	stderr        io.Writer
	// volumes says where to look for drives and how to measure them
	// (zero: the real system).
	volumes volumes.Options
}

// logger returns a text logger on stderr at the chosen level.
func (g *globals) logger() *slog.Logger {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(g.logLevel)); err != nil {
		lvl = slog.LevelWarn
	}
	return slog.New(slog.NewTextHandler(g.stderr, &slog.HandlerOptions{Level: lvl}))
}

// profile loads the tenant profile named by --tenant-profile or
// LIFEBOAT_TENANT_PROFILE. ok is false when neither is set, which means
// "talk to Microsoft".
func (g *globals) profile() (p m365sim.Profile, ok bool, err error) {
	path := g.tenantProfile
	if path == "" {
		path = os.Getenv("LIFEBOAT_TENANT_PROFILE")
	}
	if path == "" {
		return p, false, nil
	}
	p, err = m365sim.LoadProfile(path)
	return p, err == nil, err
}

// cliMemoryLimit is the soft heap limit of command-line runs. The rest
// of a backup's resident memory is the program's own pages (about 90 MiB
// of this large binary are touched) and SQLite's, outside Go's heap: the
// three together stay under the 256 MiB target with room to spare.
const cliMemoryLimit = 100 << 20

func newRootCommand(stdout, stderr io.Writer) *cobra.Command {
	g := &globals{stdout: stdout, stderr: stderr}
	var gui guiOptions
	root := &cobra.Command{
		Use:   "lifeboat",
		Short: "Back up Microsoft 365 mail and OneDrive to a drive you own",
		Long: "Lifeboat keeps a copy of your company's Microsoft 365 emails and OneDrive files on a drive\n" +
			"or network folder you control, and restores what was deleted.\n\n" +
			"Run without a command to open the app.",
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runGUI(cmd.Context(), g, gui)
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
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetVersionTemplate("lifeboat {{.Version}}\n")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError{fmt.Errorf("%w (see `%s --help`)", err, c.CommandPath())}
	})
	pf := root.PersistentFlags()
	pf.StringVar(&g.tenantProfile, "tenant-profile", "", "talk to the tenant in this profile `FILE` (written by lifeboat sim serve) instead of Microsoft; also LIFEBOAT_TENANT_PROFILE")
	pf.StringVar(&g.logLevel, "log-level", "warn", "log detail: debug, info, warn or error")
	root.Flags().BoolVar(&gui.demo, "demo", false, "open the app on the built-in demo company instead of Microsoft 365")
	root.Flags().Int64Var(&gui.seed, "seed", 1, "with --demo: which generated demo company")
	root.Flags().BoolVar(&gui.tray, "tray", false, "start hidden in the system tray (at login); closing the window keeps Lifeboat there")
	root.AddCommand(newSimCommand(g))
	root.AddCommand(newLoginCommands(g)...)
	root.AddCommand(newRepoCommands(g)...)
	root.AddCommand(newBackupCommand(g))
	root.AddCommand(newScheduleCommand(g))
	root.AddCommand(newRestoreCommands(g)...)
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
