package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/lifeboat-backup/lifeboat/engine/auth"
	"github.com/lifeboat-backup/lifeboat/engine/backup"
	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/health"
	"github.com/lifeboat-backup/lifeboat/engine/notify"
	"github.com/lifeboat-backup/lifeboat/engine/repo"
	"github.com/lifeboat-backup/lifeboat/engine/report"
	"github.com/lifeboat-backup/lifeboat/engine/runlock"
	"github.com/lifeboat-backup/lifeboat/engine/schedule"
	"github.com/lifeboat-backup/lifeboat/engine/volumes"
)

const (
	// scheduleJobName names the registered job: lifeboat-backup.timer,
	// the cron block, the Windows task.
	scheduleJobName = "lifeboat-backup"
	// scheduleStateFile keeps what the schedule needs between runs, in
	// the config folder beside settings.json.
	scheduleStateFile = "schedule.json"
	// scheduledLockWait is how long a scheduled run waits for another
	// backup of the same folder before skipping.
	scheduledLockWait = 15 * time.Minute
	// pruneEvery is how often retention runs after a scheduled backup.
	pruneEvery = 7 * 24 * time.Hour
	// maxStateSize bounds schedule.json: it is small; a huge one is damage.
	maxStateSize = 1 << 20
)

// scheduleState is schedule.json.
type scheduleState struct {
	// Spec is "daily 21:00" or "every 4h"; empty: no schedule.
	Spec              string    `json:"spec,omitempty"`
	OnlyWhenConnected bool      `json:"onlyWhenConnected,omitempty"`
	Backend           string    `json:"backend,omitempty"`
	Since             time.Time `json:"since,omitzero"`
	// LastPrune is when retention last ran after a scheduled backup.
	LastPrune time.Time `json:"lastPrune,omitzero"`
	// LastBatchStart is when the latest scheduled run started: the
	// catalog runs since then are its per-account runs.
	LastBatchStart time.Time `json:"lastBatchStart,omitzero"`
	// LastMissing is when a scheduled run last found no backup drive;
	// zero once a run found it again.
	LastMissing time.Time `json:"lastMissing,omitzero"`
	// SignInNeeded lists accounts Microsoft refused at the last run.
	SignInNeeded []string `json:"signInNeeded,omitempty"`
	// Drives are the backups that received scheduled backups, by
	// repository ID: two or more means drive rotation.
	Drives []rotatedDrive `json:"drives,omitempty"`
	// EmailReport is when a scheduled run mails a report to the account
	// itself: "", "failures" or "always" (report.When).
	EmailReport string `json:"emailReport,omitempty"`
	// Notified is when each health warning (by kind and subject) was last
	// shown as an OS notification, so one is not repeated every run.
	Notified map[string]time.Time `json:"notified,omitempty"`
}

// renotifyAfter is how long a health warning stays quiet once notified.
const renotifyAfter = 24 * time.Hour

// healthNotifications picks the warnings to show as OS notifications now:
// those not shown in the last day (sign-in and the missing drive are
// notified where they happen). It records them in st.Notified and forgets
// warnings that went away, so they are shown again if they come back.
func healthNotifications(items []health.Item, st *scheduleState, now time.Time) []notify.Message {
	seen := map[string]time.Time{}
	var out []notify.Message
	for _, it := range items {
		if it.Kind == health.SignIn || it.Kind == health.DestinationMissing {
			continue
		}
		key := string(it.Kind) + "|" + it.Subject
		last, ok := st.Notified[key]
		if ok && now.Sub(last) < renotifyAfter {
			seen[key] = last
			continue
		}
		seen[key] = now
		urg := notify.Normal
		if it.Severity == health.Critical {
			urg = notify.Critical
		}
		out = append(out, notify.Message{Title: it.Title, Body: it.Detail + "\n" + it.Action, Urgency: urg})
	}
	st.Notified = seen
	if len(seen) == 0 {
		st.Notified = nil
	}
	return out
}

// signInScopes are the permissions `lifeboat login` asks for: the usual
// ones, plus Mail.Send only while the e-mail report is on.
func signInScopes() []string {
	cfgDir, _, err := configDir()
	if err != nil {
		return nil
	}
	if st, err := loadScheduleState(cfgDir); err == nil && st.EmailReport != "" {
		return append(auth.Scopes(), "Mail.Send")
	}
	return nil
}

// rotatedDrive is one backup drive of a rotation.
type rotatedDrive struct {
	RepositoryID string    `json:"repositoryID"`
	Name         string    `json:"name"`
	Path         string    `json:"path"`
	LastBackup   time.Time `json:"lastBackup,omitzero"`
}

func (st scheduleState) spec() (schedule.Spec, bool) {
	kind, val, _ := strings.Cut(st.Spec, " ")
	var sp schedule.Spec
	var err error
	switch kind {
	case "daily":
		sp, err = schedule.ParseDaily(val)
	case "every":
		sp, err = schedule.ParseEvery(val)
	default:
		return sp, false
	}
	return sp, err == nil
}

func loadScheduleState(dir string) (scheduleState, error) {
	var st scheduleState
	path := filepath.Join(dir, scheduleStateFile)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("read the schedule: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxStateSize+1))
	if err != nil {
		return st, fmt.Errorf("read the schedule: %w", err)
	}
	if len(b) > maxStateSize {
		return st, fmt.Errorf("%s is larger than %d bytes; delete it and set the schedule again", path, maxStateSize)
	}
	if err := json.NewDecoder(bytes.NewReader(b)).Decode(&st); err != nil {
		return scheduleState{}, fmt.Errorf("%s is damaged (delete it and set the schedule again): %w", path, err)
	}
	return st, nil
}

// saveScheduleState writes schedule.json crash-safely, like settings.json.
func saveScheduleState(dir string, st scheduleState) error {
	if err := writeJSONFile(dir, scheduleStateFile, st); err != nil {
		return fmt.Errorf("save the schedule: %w", err)
	}
	return nil
}

// scheduleOptions are the flags of schedule set/show/remove.
type scheduleOptions struct {
	repo              repoOptions
	daily, every      string
	onlyWhenConnected bool
	backend           string
	emailReport       string
	// sched, when set, replaces the OS scheduler's options (tests: the
	// command runner, a private crontab).
	sched *schedule.Options
	// executable, when set, is the program the schedule runs (tests: the
	// built binary instead of the test binary).
	executable string
}

func newScheduleCommand(g *globals) *cobra.Command {
	var o scheduleOptions
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
		RunE: func(cmd *cobra.Command, args []string) error { return runScheduleSet(cmd.Context(), g, o) },
	}
	addRepoFlags(set, &o.repo, false)
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
		RunE:  func(cmd *cobra.Command, args []string) error { return runScheduleShow(cmd.Context(), g, o) },
	}
	remove := &cobra.Command{
		Use:   "remove",
		Short: "Stop automatic backups",
		Args:  requireArgs(cobra.NoArgs),
		RunE:  func(cmd *cobra.Command, args []string) error { return runScheduleRemove(cmd.Context(), g, o) },
	}
	cmd.AddCommand(set, show, remove)
	return cmd
}

func (o scheduleOptions) scheduler(g *globals, backend string) *schedule.Scheduler {
	var so schedule.Options
	if o.sched != nil {
		so = *o.sched
	}
	if backend != "" {
		so.Backend = schedule.Backend(backend)
	}
	if so.Logger == nil {
		so.Logger = g.logger()
	}
	return schedule.New(so)
}

// scheduledEnv is what a scheduled run must see to act like the person's
// own runs: the config folder, the simulated tenant, the secret store,
// the client ID — only those that are set.
func scheduledEnv(g *globals, secretStore string) (map[string]string, error) {
	env := map[string]string{}
	if dir, custom, err := configDir(); err != nil {
		return nil, err
	} else if custom {
		env["LIFEBOAT_CONFIG_DIR"] = dir
	}
	if p := firstNonEmpty(g.tenantProfile, os.Getenv("LIFEBOAT_TENANT_PROFILE")); p != "" {
		abs, err := filepath.Abs(p)
		if err != nil {
			return nil, err
		}
		env["LIFEBOAT_TENANT_PROFILE"] = abs
	}
	if s := firstNonEmpty(secretStore, os.Getenv("LIFEBOAT_SECRET_STORE")); s != "" {
		env["LIFEBOAT_SECRET_STORE"] = s
	}
	if c := os.Getenv("LIFEBOAT_CLIENT_ID"); c != "" {
		env["LIFEBOAT_CLIENT_ID"] = c
	}
	return env, nil
}

func runScheduleSet(ctx context.Context, g *globals, o scheduleOptions) error {
	var spec schedule.Spec
	var specText string
	var err error
	switch {
	case o.daily != "" && o.every != "", o.daily == "" && o.every == "":
		return usageError{errors.New("choose one: --daily HH:MM or --every INTERVAL")}
	case o.daily != "":
		spec, err = schedule.ParseDaily(o.daily)
		specText = "daily " + o.daily
	default:
		spec, err = schedule.ParseEvery(o.every)
		specText = "every " + o.every
	}
	if err != nil {
		return usageError{err}
	}
	switch o.backend {
	case "", string(schedule.Systemd), string(schedule.Cron):
	default:
		return usageError{fmt.Errorf("--backend %q: use systemd or cron", o.backend)}
	}
	var emailWhen report.When
	if o.emailReport != "" {
		if emailWhen, err = report.ParseWhen(o.emailReport); err != nil {
			return usageError{fmt.Errorf("--email-report %w", err)}
		}
	}
	cfgDir, custom, err := configDir()
	if err != nil {
		return err
	}
	s, err := loadSettings(cfgDir)
	if err != nil {
		return err
	}
	dir := firstNonEmpty(o.repo.to, os.Getenv("LIFEBOAT_REPO"), s.Destination)
	if dir == "" {
		return usageError{errors.New("which backup? pass --to DIR (the backup folder, made with `lifeboat init`)")}
	}
	if dir, err = filepath.Abs(dir); err != nil {
		return err
	}
	// Open it now, the way the scheduled run will: a schedule that cannot
	// open its backup should fail here, in front of the person.
	ro := o.repo
	ro.to = dir
	r, err := openRepo(ctx, g, ro)
	if err != nil {
		return err
	}
	id := r.Config().ID.String()
	r.Close()
	s.Destination, s.RepositoryID = dir, id
	if err := saveSettings(cfgDir, s); err != nil {
		return err
	}

	exe := o.executable
	if exe == "" {
		if exe, err = os.Executable(); err != nil {
			return fmt.Errorf("cannot find Lifeboat's own program file: %w", err)
		}
		if resolved, err := filepath.EvalSymlinks(exe); err == nil {
			exe = resolved
		}
	}
	cmdline := []string{exe, "backup", "--scheduled"}
	if o.onlyWhenConnected {
		cmdline = append(cmdline, "--only-when-connected")
	}
	env, err := scheduledEnv(g, o.repo.secretStore)
	if err != nil {
		return err
	}
	sched := o.scheduler(g, o.backend)
	backend, err := sched.Backend(ctx)
	if err != nil {
		return err
	}
	if backend == schedule.TaskScheduler {
		// Task Scheduler carries no environment: pass what it can as flags.
		if custom {
			return errors.New("a custom config folder (LIFEBOAT_CONFIG_DIR) cannot be used with Task Scheduler")
		}
		if p := env["LIFEBOAT_TENANT_PROFILE"]; p != "" {
			cmdline = append(cmdline, "--tenant-profile", p)
		}
		if v := env["LIFEBOAT_SECRET_STORE"]; v != "" {
			cmdline = append(cmdline, "--secret-store", v)
		}
		env = nil
	}
	if backend == schedule.Cron {
		// Cron jobs start outside the desktop session; the session bus
		// (and with it the keychain) is at a fixed per-user address on
		// systemd systems, which is all that is passed on.
		if a := os.Getenv("DBUS_SESSION_BUS_ADDRESS"); strings.HasPrefix(a, "unix:path=/run/user/") {
			env["DBUS_SESSION_BUS_ADDRESS"] = a
		}
	}
	job := schedule.Job{Name: scheduleJobName, Description: "Lifeboat scheduled backup", Command: cmdline, Env: env, Spec: spec, Created: time.Now()}
	if backend, err = sched.Install(ctx, job); err != nil {
		return err
	}
	st, err := loadScheduleState(cfgDir)
	if err != nil {
		st = scheduleState{} // a damaged state file is replaced
	}
	st.Spec, st.OnlyWhenConnected, st.Backend, st.Since = specText, o.onlyWhenConnected, string(backend), time.Now().UTC()
	askPermission := false
	if o.emailReport != "" {
		askPermission = st.EmailReport == "" && emailWhen != report.Off
		st.EmailReport = string(emailWhen)
	}
	if err := saveScheduleState(cfgDir, st); err != nil {
		return err
	}
	w := g.stdout
	fmt.Fprintf(w, "Backups of %s now run %s, also when Lifeboat is closed.\n", dir, spec)
	switch backend {
	case schedule.Cron:
		fmt.Fprintln(w, "Registered with cron (no user systemd here): a run missed while the computer is off waits for the next scheduled time.")
	case schedule.Systemd:
		fmt.Fprintf(w, "Registered as the systemd user timer %s.timer: a run missed while the computer was off starts when it is back.\n", scheduleJobName)
	case schedule.Launchd:
		fmt.Fprintf(w, "Registered as the LaunchAgent %s: a run missed while the Mac slept starts when it wakes.\n", schedule.LaunchdLabel(scheduleJobName))
	case schedule.TaskScheduler:
		fmt.Fprintf(w, "Registered as the Task Scheduler task %q: a run missed while the computer was off starts when it is back.\n", scheduleJobName)
	}
	if askPermission {
		fmt.Fprintln(w, "The e-mail report is sent from your account to itself, which needs Microsoft's permission to send mail as you:\n"+
			"run `lifeboat login` once more to allow it. Backups go on meanwhile.")
	}
	return nil
}

func runScheduleShow(ctx context.Context, g *globals, o scheduleOptions) error {
	cfgDir, _, err := configDir()
	if err != nil {
		return err
	}
	st, err := loadScheduleState(cfgDir)
	if err != nil {
		return err
	}
	s, err := loadSettings(cfgDir)
	if err != nil {
		return err
	}
	w := g.stdout
	sched := o.scheduler(g, st.Backend)
	reg, err := sched.Show(ctx, scheduleJobName)
	if err != nil {
		if st.Spec == "" {
			reg = schedule.Status{} // nothing set up, and no scheduler to ask
		} else {
			fmt.Fprintf(w, "Could not ask the system about the schedule: %v\n", err)
			reg = schedule.Status{Backend: schedule.Backend(st.Backend), Installed: true}
		}
	}
	spec, ok := st.spec()
	switch {
	case !reg.Installed:
		fmt.Fprintln(w, "No automatic backups are set up. Set them up with `lifeboat schedule set --daily 21:00`.")
	case ok:
		fmt.Fprintf(w, "Backups run %s (%s), to %s.\n", spec, reg.Backend, firstNonEmpty(s.Destination, "the backup folder"))
	default:
		fmt.Fprintf(w, "A schedule is registered with %s, but Lifeboat's record of it is missing; set it again.\n", reg.Backend)
	}
	if reg.Next != "" {
		fmt.Fprintf(w, "Next run: %s.\n", reg.Next)
	}
	hs, lastGood := scheduleHealth(ctx, g, cfgDir, s, st, time.Now())
	if lastGood.IsZero() {
		fmt.Fprintln(w, "Last good backup: none yet.")
	} else {
		fmt.Fprintf(w, "Last good backup: %s.\n", lastGood.Local().Format("Mon 2 January 2006 15:04"))
	}
	if len(st.Drives) > 1 {
		fmt.Fprintln(w, "Rotated drives:")
		for _, d := range st.Drives {
			when := "never"
			if !d.LastBackup.IsZero() {
				when = d.LastBackup.Local().Format("Mon 2 January 15:04")
			}
			fmt.Fprintf(w, "  %-20s last backup %s\n", d.Name, when)
		}
	}
	for _, h := range hs {
		fmt.Fprintf(w, "%s: %s\n  %s\n  %s\n", strings.ToUpper(h.Severity.String()), h.Title, strings.ReplaceAll(h.Detail, "\n", "\n  "), h.Action)
	}
	if len(hs) == 0 && reg.Installed {
		fmt.Fprintln(w, "All is well.")
	}
	return nil
}

func runScheduleRemove(ctx context.Context, g *globals, o scheduleOptions) error {
	cfgDir, _, err := configDir()
	if err != nil {
		return err
	}
	st, _ := loadScheduleState(cfgDir) // a damaged record must not block removal
	if err := o.scheduler(g, st.Backend).Remove(ctx, scheduleJobName); err != nil {
		return err
	}
	st.Spec, st.Backend, st.Since, st.OnlyWhenConnected = "", "", time.Time{}, false
	if err := saveScheduleState(cfgDir, st); err != nil {
		return err
	}
	fmt.Fprintln(g.stdout, "Automatic backups are off. Back up with `lifeboat backup`, or set a schedule again.")
	return nil
}

// scheduleHealth gathers the facts health.Check needs from the saved
// state, the catalog's runs and the destination drive, and returns its
// warnings and the end of the last good backup. The GUI's dashboard and
// tray call it too.
func scheduleHealth(ctx context.Context, g *globals, cfgDir string, s settings, st scheduleState, now time.Time) ([]health.Item, time.Time) {
	in := health.Inputs{Now: now, ScheduledSince: st.Since, DestinationMissing: !st.LastMissing.IsZero()}
	if sp, ok := st.spec(); ok {
		in.Interval = sp.Interval()
	}
	if s.Destination != "" {
		in.DestinationName = s.Destination
		if total, free, err := g.volumes.SpaceAt(s.Destination); err == nil {
			in.DestinationTotal, in.DestinationFree = total, free
		}
	}
	for _, upn := range st.SignInNeeded {
		in.Accounts = append(in.Accounts, health.Account{UPN: upn, NeedsSignIn: true})
	}
	for _, d := range st.Drives {
		in.Drives = append(in.Drives, health.Drive{Name: d.Name, LastBackup: d.LastBackup})
	}
	if _, err := repo.ParseID(s.RepositoryID); err == nil {
		path := filepath.Join(cfgDir, "catalogs", s.RepositoryID+".db")
		if _, err := os.Stat(path); err == nil {
			if cat, err := catalog.Open(ctx, path, catalog.Options{}); err == nil {
				if runs, err := cat.Runs(ctx, 100); err == nil {
					in.LastGood, in.Skipped = healthFromRuns(runs, st.LastBatchStart)
				}
				cat.Close()
			}
		}
	}
	return health.Check(in), in.LastGood
}

// healthFromRuns finds the last good run's end, and the items skipped by
// the latest batch (the runs since batchStart, one per account; the
// newest run alone when unknown).
func healthFromRuns(runs []catalog.Run, batchStart time.Time) (time.Time, []health.Skip) {
	var lastGood time.Time
	for _, r := range runs {
		if (r.Status == catalog.RunCompleted || r.Status == catalog.RunCompletedWithWarnings) && r.Ended.After(lastGood) {
			lastGood = r.Ended
		}
	}
	var skips []health.Skip
	for i, r := range runs {
		if r.Status == catalog.RunRunning {
			continue
		}
		if i > 0 && (batchStart.IsZero() || r.Started.Before(batchStart)) {
			break
		}
		for _, sk := range r.Skipped {
			skips = append(skips, health.Skip{Item: sk.ItemRef, Reason: sk.Reason, Attempts: sk.Attempts})
		}
	}
	return lastGood, skips
}

// errBackupSkipped ends a scheduled run that found another backup of the
// same folder still running after waiting: not a failure.
var errBackupSkipped = errors.New("skipped")

// acquireBackupSlot holds this computer's run lock for the repository,
// so two backups of one folder never run at once: scheduled runs wait
// (up to o.wait), manual runs report the running one at once.
func acquireBackupSlot(ctx context.Context, g *globals, r *repo.Repository, o backupOptions) (*runlock.Lock, error) {
	cfgDir, _, err := configDir()
	if err != nil {
		return nil, err
	}
	path := runLockPath(cfgDir, r.Config().ID.String())
	l, err := runlock.Acquire(ctx, path, 0, "backup")
	if err == nil || !errors.Is(err, runlock.ErrBusy) {
		return l, err
	}
	if o.wait > 0 {
		wait := health.Ago(o.wait)
		if o.wait < time.Minute {
			wait = o.wait.Round(time.Second).String()
		}
		fmt.Fprintf(g.stdout, "%s; waiting up to %s for it to finish…\n", capitalize(err.Error()), wait)
		l, err = runlock.Acquire(ctx, path, o.wait, "backup")
		if err == nil || !errors.Is(err, runlock.ErrBusy) {
			return l, err
		}
	}
	if o.scheduled {
		fmt.Fprintf(g.stdout, "%s; this scheduled backup is skipped (the running one is backing up the same data).\n", capitalize(err.Error()))
		return nil, errBackupSkipped
	}
	return nil, fmt.Errorf("%w; this backup was not started: try again when it has finished", err)
}

// runLockPath is this computer's run lock for the backup with ID id.
func runLockPath(cfgDir, id string) string {
	return filepath.Join(cfgDir, "locks", id+".lock")
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// notifier is how a scheduled run tells the person something with no
// window open.
type notifier interface {
	Notify(ctx context.Context, m notify.Message) error
}

// runScheduledBackup is `backup --scheduled`: find the backup drive (by
// ID if it moved), back up with the run lock, prune when due, remember
// the outcome for the health warnings, and notify what needs a person.
func runScheduledBackup(ctx context.Context, g *globals, o backupOptions) error {
	cfgDir, _, err := configDir()
	if err != nil {
		return err
	}
	s, err := loadSettings(cfgDir)
	if err != nil {
		return err
	}
	st, err := loadScheduleState(cfgDir)
	if err != nil {
		g.logger().Warn("schedule record unreadable; starting a new one", "err", err)
		st = scheduleState{}
	}
	var nt notifier = o.notifier
	if nt == nil {
		nt = notify.New(notify.Options{Logger: g.logger()})
	}
	tell := func(m notify.Message) {
		if err := nt.Notify(ctx, m); err != nil {
			g.logger().Warn("could not show a notification", "err", err)
		}
	}
	batchStart := time.Now()

	dir, id := firstNonEmpty(o.repo.to, os.Getenv("LIFEBOAT_REPO"), s.Destination), s.RepositoryID
	curID := "" // the ID of the backup at dir, when known
	if dir == "" && id == "" {
		return usageError{errors.New("no backup folder is set up: run `lifeboat schedule set --to DIR` or pass --to")}
	}
	if id != "" && (dir == "" || !volumes.IsRepository(dir, id)) {
		found, ferr := findBackup(ctx, o, st, id)
		switch {
		case ferr == nil:
			if found.path != dir {
				fmt.Fprintf(g.stdout, "Found the backup drive at %s.\n", found.path)
			}
			dir, curID = found.path, found.id
			if found.id == id {
				s.Destination = dir
				if err := saveSettings(cfgDir, s); err != nil {
					return err
				}
			}
		case !errors.Is(ferr, volumes.ErrNotFound):
			return ferr
		}
	} else if id != "" {
		curID = id
	}
	if _, err := os.Stat(dir); dir == "" || errors.Is(err, fs.ErrNotExist) {
		st.LastMissing = time.Now().UTC()
		if err := saveScheduleState(cfgDir, st); err != nil {
			g.logger().Warn("could not save the schedule record", "err", err)
		}
		if o.onlyWhenConnected {
			fmt.Fprintln(g.stdout, "The backup drive is not connected; this scheduled backup is skipped.")
		} else {
			tell(notify.Message{Title: "Connect your backup drive", Urgency: notify.Critical,
				Body: "Lifeboat could not find the backup drive for the scheduled backup. Plug it in; the backup runs at the next scheduled time."})
			mailReport(ctx, g, o, st, report.Run{Destination: firstNonEmpty(dir, "the backup drive"), Started: batchStart, Ended: time.Now(),
				Problem: "The backup drive was not connected. Plug it in; the backup runs at the next scheduled time."})
		}
		return exitError{exitDestinationMissing, driveNotFound(firstNonEmpty(dir, "the backup drive"))}
	}

	o.repo.to = dir
	if o.wait == 0 {
		o.wait = scheduledLockWait
	}
	obs := &collectingObserver{backupObserver: newBackupPrinter(g.stdout, o.json)}
	berr := backupAccounts(ctx, g, o, obs)
	if errors.Is(berr, errBackupSkipped) {
		return nil
	}
	st.LastBatchStart = batchStart.UTC()
	st.LastMissing = time.Time{}
	var sire *auth.SignInRequiredError
	switch {
	case errors.As(berr, &sire):
		acct := firstNonEmpty(sire.Account, "your account")
		if !slices.Contains(st.SignInNeeded, acct) {
			st.SignInNeeded = append(st.SignInNeeded, acct)
		}
		tell(notify.Message{Title: "Sign in again to keep backing up", Urgency: notify.Critical,
			Body: "Microsoft no longer accepts Lifeboat's sign-in for " + acct + ". Open Lifeboat and sign in."})
	case berr == nil || exitCodeFor(berr) == exitWarnings:
		st.SignInNeeded = nil
		rememberDrive(&st, curID, dir, time.Now().UTC())
		if time.Since(st.LastPrune) > pruneEvery {
			if err := scheduledPrune(ctx, g, o, cfgDir, curID); err != nil {
				fmt.Fprintf(g.stdout, "Retention did not run: %v. It is tried again after the next backup.\n", err)
			} else {
				st.LastPrune = time.Now().UTC()
			}
		}
	case !errors.Is(berr, context.Canceled):
		tell(notify.Message{Title: "The scheduled backup failed", Body: berr.Error(), Urgency: notify.Critical})
	}
	if !errors.Is(berr, context.Canceled) {
		items, _ := scheduleHealth(ctx, g, cfgDir, s, st, time.Now())
		for _, m := range healthNotifications(items, &st, time.Now()) {
			tell(m)
		}
		run := report.Run{Destination: dir, Started: batchStart, Ended: time.Now(), Accounts: obs.accounts}
		if berr != nil && len(obs.accounts) == 0 {
			run.Problem = berr.Error()
		}
		mailReport(ctx, g, o, st, run)
	}
	if err := saveScheduleState(cfgDir, st); err != nil {
		g.logger().Warn("could not save the schedule record", "err", err)
	}
	return berr
}

// collectingObserver passes progress on and keeps each account's result
// for the e-mail report.
type collectingObserver struct {
	backupObserver
	accounts []report.Account
}

func (c *collectingObserver) result(account string, res backup.Result, err error) {
	c.backupObserver.result(account, res, err)
	a := report.Account{UPN: account, New: res.Counts.ItemsNew, Changed: res.Counts.ItemsChanged, Deleted: res.Counts.ItemsDeleted,
		Skipped: res.Counts.ItemsSkipped}
	for _, s := range res.Skipped {
		a.SkippedItems = append(a.SkippedItems, s.ItemRef+": "+s.Reason)
	}
	if err != nil {
		a.Failed, a.Error = true, err.Error()
	}
	c.accounts = append(c.accounts, a)
}

// mailReport sends the e-mail report when it is on and due, from the
// first signed-in account to itself. A report that cannot be sent is
// said, never a reason to fail the backup.
func mailReport(ctx context.Context, g *globals, o backupOptions, st scheduleState, run report.Run) {
	when := report.When(st.EmailReport)
	if !when.Due(run) {
		return
	}
	run.Computer, _ = os.Hostname()
	if err := sendReport(ctx, g, o, run); err != nil {
		fmt.Fprintf(g.stdout, "The e-mail report was not sent: %v\n", err)
		return
	}
	fmt.Fprintln(g.stdout, "The e-mail report was sent.")
}

func sendReport(ctx context.Context, g *globals, o backupOptions, run report.Run) error {
	ao := o.auth
	ao.secretStore = o.repo.secretStore
	ao.scopes = append(auth.Scopes(), "Mail.Send")
	m, err := authManager(g, ao)
	if err != nil {
		return err
	}
	accounts, err := m.Accounts(ctx)
	if err != nil {
		return explain(err)
	}
	if len(accounts) == 0 {
		return errors.New("no account is signed in")
	}
	graphURL, hc, err := graphEndpoint(g)
	if err != nil {
		return err
	}
	u, err := url.Parse(graphURL)
	if err != nil {
		return fmt.Errorf("graph URL: %w", err)
	}
	a := accounts[0]
	ts, err := m.TokenSource(a.HomeAccountID, u.Hostname())
	if err != nil {
		return err
	}
	subject, body := report.Compose(run)
	err = report.Send(ctx, report.Options{GraphURL: graphURL, HTTPClient: hc, Auth: ts}, a.UPN, subject, body)
	if errors.Is(err, auth.ErrSignInRequired) {
		return errors.New("Microsoft has not allowed Lifeboat to send mail as " + a.UPN + " yet; run `lifeboat login` once more to allow it")
	}
	return err
}

type foundBackup struct{ path, id string }

// findBackup looks for the backup by ID on every connected drive, then for
// any other drive of a rotation.
func findBackup(ctx context.Context, o backupOptions, st scheduleState, id string) (foundBackup, error) {
	fo := volumes.FindOptions{Roots: o.findRoots}
	p, err := volumes.FindRepository(ctx, id, fo)
	if err == nil {
		return foundBackup{p, id}, nil
	}
	if !errors.Is(err, volumes.ErrNotFound) {
		return foundBackup{}, err
	}
	for _, d := range st.Drives {
		if d.RepositoryID == id {
			continue
		}
		if d.Path != "" && volumes.IsRepository(d.Path, d.RepositoryID) {
			return foundBackup{d.Path, d.RepositoryID}, nil
		}
		if p, err := volumes.FindRepository(ctx, d.RepositoryID, fo); err == nil {
			return foundBackup{p, d.RepositoryID}, nil
		}
	}
	return foundBackup{}, volumes.ErrNotFound
}

// rememberDrive records that the backup id at dir just received a
// backup: with two or more, the dashboard shows drive rotation.
func rememberDrive(st *scheduleState, id, dir string, now time.Time) {
	if id == "" {
		return
	}
	for i := range st.Drives {
		if st.Drives[i].RepositoryID == id {
			st.Drives[i].Path, st.Drives[i].LastBackup = dir, now
			return
		}
	}
	st.Drives = append(st.Drives, rotatedDrive{RepositoryID: id, Name: dir, Path: dir, LastBackup: now})
}

// scheduledPrune applies the default retention through the repository's
// safe prune (mark and sweep, interruptible, exclusive lock).
// It holds the run lock too, so a backup starting meanwhile waits rather
// than failing on the repository's exclusive lock.
func scheduledPrune(ctx context.Context, g *globals, o backupOptions, cfgDir, id string) error {
	if id != "" {
		l, err := runlock.Acquire(ctx, runLockPath(cfgDir, id), o.wait, "prune")
		if err != nil {
			return err
		}
		defer l.Release()
	}
	fmt.Fprintln(g.stdout, "Applying retention (weekly)…")
	st, err := loadSettings(cfgDir)
	if err != nil {
		return err
	}
	within, policy := retentionFor(st) // the owner's choice in Settings
	return runPrune(ctx, g, o.repo, pruneFlags{keepWithin: within, policy: policy, grace: repo.DefaultPruneGrace})
}
