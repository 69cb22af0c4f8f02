package cli

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lifeboat-backup/lifeboat/engine/schedule"
	"github.com/lifeboat-backup/lifeboat/engine/service"
)

// scheduleFlags are the flags of schedule set.
type scheduleFlags struct {
	folderFlags
	daily, every      string
	onlyWhenConnected bool
	backend           string
	emailReport       string
}

func (a *app) scheduleCommand() *cobra.Command {
	var o scheduleFlags
	cmd := &cobra.Command{
		Use:   "schedule",
		Short: "Run backups automatically, also when Lifeboat is closed",
		Args:  requireArgs(cobra.NoArgs),
	}
	set := &cobra.Command{
		Use:   "set (--daily HH:MM | --every 4h) [--only-when-connected] [--to DIR]",
		Short: "Back up on a schedule the operating system keeps",
		Long: "Register `lifeboat backup --scheduled` with the operating system's scheduler: a systemd\n" +
			"user timer on Linux (cron where there is no user systemd), a LaunchAgent on macOS, a Task\n" +
			"Scheduler task on Windows. It runs whether or not Lifeboat is open; a run missed while the\n" +
			"computer was off or asleep starts as soon as it is back (not with cron). The backup folder\n" +
			"is remembered by its identity, so a drive that comes back under another letter or mount\n" +
			"point is found again. With --only-when-connected a run without the drive ends quietly\n" +
			"instead of asking for it.",
		Args: requireArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error { return a.scheduleSet(cmd, o) },
	}
	addTargetFlags(set, &o.folderFlags, false)
	f := set.Flags()
	f.StringVar(&o.daily, "daily", "", "back up every day at this time (24-hour clock), e.g. 21:00")
	f.StringVar(&o.every, "every", "", "back up at this interval: 1h, 2h, 3h, 4h, 6h, 8h, 12h, 24h, or 5m…30m")
	f.BoolVar(&o.onlyWhenConnected, "only-when-connected", false, "when the backup drive is not connected, skip quietly instead of asking for it")
	f.StringVar(&o.backend, "backend", "", "Linux: systemd or cron (default: systemd when a user systemd runs, else cron)")
	f.StringVar(&o.emailReport, "email-report", "", "mail a report to your own account after each run: off, failures or always (asks Microsoft for permission to send mail)")

	show := &cobra.Command{
		Use:   "show",
		Short: "Show the schedule, the last backups and any warnings",
		Args:  requireArgs(cobra.NoArgs),
		RunE:  func(cmd *cobra.Command, args []string) error { return a.scheduleShow(cmd, o) },
	}
	remove := &cobra.Command{
		Use:   "remove",
		Short: "Stop automatic backups",
		Args:  requireArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, err := a.service(o.common, 0)
			if err != nil {
				return err
			}
			if err := svc.RemoveSchedule(cmd.Context()); err != nil {
				return err
			}
			fmt.Fprintln(a.stdout, "Automatic backups are off. Back up with `lifeboat backup`, or set a schedule again.")
			return nil
		},
	}
	cmd.AddCommand(set, show, remove, a.ejectCommand())
	return cmd
}

func (a *app) scheduleSet(cmd *cobra.Command, o scheduleFlags) error {
	svc, err := a.service(o.common, usesBackup)
	if err != nil {
		return err
	}
	req := service.ScheduleRequest{Daily: o.daily, Every: o.every, Dir: firstNonEmpty(o.dir, os.Getenv("LIFEBOAT_REPO")),
		OnlyWhenConnected: o.onlyWhenConnected, Backend: o.backend, EmailReport: o.emailReport}
	set, err := withKey(a, a.recoveryKey(""), func(key string) (service.ScheduleSet, error) {
		req.RecoveryKey = key
		return svc.SetSchedule(cmd.Context(), req)
	})
	if err != nil {
		return err
	}
	w := a.stdout
	fmt.Fprintf(w, "Backups of %s now run %s, also when Lifeboat is closed.\n", set.Dir, set.Spec)
	switch set.Backend {
	case schedule.Cron:
		fmt.Fprintln(w, "Registered with cron (no user systemd here): a run missed while the computer is off waits for the next scheduled time.")
	case schedule.Systemd:
		fmt.Fprintf(w, "Registered as the systemd user timer %s.timer: a run missed while the computer was off starts when it is back.\n", service.ScheduleJobName)
	case schedule.Launchd:
		fmt.Fprintf(w, "Registered as the LaunchAgent %s: a run missed while the Mac slept starts when it wakes.\n", schedule.LaunchdLabel(service.ScheduleJobName))
	case schedule.TaskScheduler:
		fmt.Fprintf(w, "Registered as the Task Scheduler task %q: a run missed while the computer was off starts when it is back.\n", service.ScheduleJobName)
	}
	if set.AskPermission {
		fmt.Fprintln(w, "The e-mail report is sent from your account to itself, which needs Microsoft's permission to send mail as you:\n"+
			"run `lifeboat login` once more to allow it. Backups go on meanwhile.")
	}
	return nil
}

func (a *app) scheduleShow(cmd *cobra.Command, o scheduleFlags) error {
	svc, err := a.service(o.common, 0)
	if err != nil {
		return err
	}
	st, err := svc.ScheduleStatus(cmd.Context())
	if err != nil {
		return err
	}
	w := a.stdout
	if st.RegisterErr != nil {
		fmt.Fprintf(w, "Could not ask the system about the schedule: %v\n", st.RegisterErr)
	}
	reg := st.Registered
	spec, ok := st.State.ParsedSpec()
	switch {
	case !reg.Installed:
		fmt.Fprintln(w, "No automatic backups are set up. Set them up with `lifeboat schedule set --daily 21:00`.")
	case ok:
		fmt.Fprintf(w, "Backups run %s (%s), to %s.\n", spec, reg.Backend, firstNonEmpty(st.Destination, "the backup folder"))
	default:
		fmt.Fprintf(w, "A schedule is registered with %s, but Lifeboat's record of it is missing; set it again.\n", reg.Backend)
	}
	if reg.Next != "" {
		fmt.Fprintf(w, "Next run: %s.\n", reg.Next)
	}
	if st.LastGood.IsZero() {
		fmt.Fprintln(w, "Last good backup: none yet.")
	} else {
		fmt.Fprintf(w, "Last good backup: %s.\n", st.LastGood.Local().Format("Mon 2 January 2006 15:04"))
	}
	if drives := st.State.Drives; len(drives) > 1 {
		fmt.Fprintln(w, "Rotated drives:")
		for _, d := range drives {
			when := "never"
			if !d.LastBackup.IsZero() {
				when = d.LastBackup.Local().Format("Mon 2 January 15:04")
			}
			fmt.Fprintf(w, "  %-20s last backup %s\n", d.Name, when)
		}
	}
	for _, h := range st.Health {
		fmt.Fprintf(w, "%s: %s\n  %s\n  %s\n", strings.ToUpper(h.Severity.String()), h.Title, strings.ReplaceAll(h.Detail, "\n", "\n  "), h.Action)
	}
	if len(st.Health) == 0 && reg.Installed {
		fmt.Fprintln(w, "All is well.")
	}
	return nil
}
