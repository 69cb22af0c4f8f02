package service

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/health"
	"github.com/lifeboat-backup/lifeboat/engine/report"
	"github.com/lifeboat-backup/lifeboat/engine/schedule"
)

const (
	// ScheduleJobName names the registered job: lifeboat-backup.timer,
	// the cron block, the Windows task.
	ScheduleJobName = "lifeboat-backup"
	// ScheduleStateFile keeps what the schedule needs between runs, in
	// the config folder beside settings.json.
	ScheduleStateFile = "schedule.json"
)

// ScheduleState is schedule.json.
type ScheduleState struct {
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
	Drives []RotatedDrive `json:"drives,omitempty"`
	// EmailReport is when a scheduled run mails a report to the account
	// itself: "", "failures" or "always" (report.When).
	EmailReport string `json:"emailReport,omitempty"`
	// Notified is when each health warning (by kind and subject) was last
	// shown as an OS notification, so one is not repeated every run.
	Notified map[string]time.Time `json:"notified,omitempty"`
}

// RotatedDrive is one backup drive of a rotation.
type RotatedDrive struct {
	RepositoryID string    `json:"repositoryID"`
	Name         string    `json:"name"`
	Path         string    `json:"path"`
	LastBackup   time.Time `json:"lastBackup,omitzero"`
}

// ParsedSpec is the state's schedule, ok false when there is none.
func (st ScheduleState) ParsedSpec() (schedule.Spec, bool) {
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

// LoadScheduleState reads dir/schedule.json; a missing file is an empty
// state.
func LoadScheduleState(dir string) (ScheduleState, error) {
	var st ScheduleState
	b, path, err := readStateFile(dir, ScheduleStateFile)
	if err != nil || b == nil {
		return st, err
	}
	if err := json.NewDecoder(bytes.NewReader(b)).Decode(&st); err != nil {
		return ScheduleState{}, fmt.Errorf("%s is damaged (delete it and set the schedule again): %w", path, err)
	}
	return st, nil
}

// SaveScheduleState writes schedule.json crash-safely, like settings.json.
func SaveScheduleState(dir string, st ScheduleState) error {
	if err := writeJSONFile(dir, ScheduleStateFile, st); err != nil {
		return fmt.Errorf("save the schedule: %w", err)
	}
	return nil
}

func (s *Service) scheduler(backend string) *schedule.Scheduler {
	var so schedule.Options
	if s.o.Scheduler != nil {
		so = *s.o.Scheduler
	}
	if backend != "" {
		so.Backend = schedule.Backend(backend)
	}
	if so.Logger == nil {
		so.Logger = s.o.Logger
	}
	return schedule.New(so)
}

// ScheduleRequest says when scheduled backups run.
type ScheduleRequest struct {
	// Daily is "HH:MM", or Every an interval ("4h"): exactly one.
	Daily, Every string
	// Dir is the backup folder (default: the chosen one).
	Dir, RecoveryKey  string
	OnlyWhenConnected bool
	// Backend forces systemd or cron on Linux.
	Backend string
	// EmailReport is "", "off", "failures" or "always" ("": unchanged).
	EmailReport string
}

// ScheduleSet is a schedule just registered.
type ScheduleSet struct {
	Dir     string
	Spec    schedule.Spec
	Backend schedule.Backend
	// AskPermission: the e-mail report was turned on, which needs a new
	// sign-in that allows sending mail.
	AskPermission bool
}

// SetSchedule registers `lifeboat backup --scheduled` with the operating
// system's scheduler (with Options.OSSchedule) and remembers the choice.
// It first opens the backup the way the scheduled run will, so a schedule
// that cannot open its backup fails here, in front of the person.
func (s *Service) SetSchedule(ctx context.Context, req ScheduleRequest) (ScheduleSet, error) {
	var out ScheduleSet
	var specText string
	var err error
	switch {
	case req.Daily != "" && req.Every != "", req.Daily == "" && req.Every == "":
		return out, badInput(errors.New("choose one: --daily HH:MM or --every INTERVAL"))
	case req.Daily != "":
		out.Spec, err = schedule.ParseDaily(req.Daily)
		specText = "daily " + req.Daily
	default:
		out.Spec, err = schedule.ParseEvery(req.Every)
		specText = "every " + req.Every
	}
	if err != nil {
		return out, badInput(err)
	}
	switch req.Backend {
	case "", string(schedule.Systemd), string(schedule.Cron):
	default:
		return out, badInput(fmt.Errorf("--backend %q: use systemd or cron", req.Backend))
	}
	var emailWhen report.When
	if req.EmailReport != "" {
		if emailWhen, err = report.ParseWhen(req.EmailReport); err != nil {
			return out, badInput(fmt.Errorf("--email-report %w", err))
		}
	}
	choice := ScheduleChoice{OnlyWhenConnected: req.OnlyWhenConnected}
	if req.Daily != "" {
		choice.At = req.Daily
	} else if h := int(out.Spec.Interval() / time.Hour); h >= 1 && out.Spec.Interval()%time.Hour == 0 {
		choice.EveryHours = h
	}
	if !s.o.OSSchedule {
		return out, s.UpdateSettings(func(st *Settings) { st.App.Schedule = &choice })
	}
	set, err := s.Settings()
	if err != nil {
		return out, err
	}
	dir := firstNonEmpty(req.Dir, set.Destination)
	if dir == "" {
		return out, badInput(errors.New("which backup? name the backup folder (made with `lifeboat init`)"))
	}
	if dir, err = filepath.Abs(dir); err != nil {
		return out, err
	}
	r, err := s.OpenBackup(ctx, dir, req.RecoveryKey)
	if err != nil {
		return out, err
	}
	id := r.Config().ID.String()
	r.Close()
	if err := s.UpdateSettings(func(st *Settings) {
		st.Destination, st.RepositoryID = dir, id
		st.App.Schedule = &choice
	}); err != nil {
		return out, err
	}
	out.Dir = dir
	if out.Backend, err = s.installJob(ctx, out.Spec, req); err != nil {
		return out, err
	}
	st, err := LoadScheduleState(s.o.ConfigDir)
	if err != nil {
		st = ScheduleState{} // a damaged state file is replaced
	}
	st.Spec, st.OnlyWhenConnected, st.Backend, st.Since = specText, req.OnlyWhenConnected, string(out.Backend), s.now().UTC()
	if req.EmailReport != "" {
		out.AskPermission = st.EmailReport == "" && emailWhen != report.Off
		st.EmailReport = string(emailWhen)
	}
	return out, SaveScheduleState(s.o.ConfigDir, st)
}

// installJob registers the scheduled command with the OS.
func (s *Service) installJob(ctx context.Context, spec schedule.Spec, req ScheduleRequest) (schedule.Backend, error) {
	exe := s.o.Executable
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			return "", fmt.Errorf("cannot find Lifeboat's own program file: %w", err)
		}
		if resolved, err := filepath.EvalSymlinks(exe); err == nil {
			exe = resolved
		}
	}
	cmdline := []string{exe, "backup", "--scheduled"}
	if req.OnlyWhenConnected {
		cmdline = append(cmdline, "--only-when-connected")
	}
	env := s.scheduledEnv()
	sched := s.scheduler(req.Backend)
	backend, err := sched.Backend(ctx)
	if err != nil {
		return "", err
	}
	if backend == schedule.TaskScheduler {
		// Task Scheduler carries no environment: pass what it can as flags.
		if s.o.CustomConfigDir {
			return "", errors.New("a custom config folder (LIFEBOAT_CONFIG_DIR) cannot be used with Task Scheduler")
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
	job := schedule.Job{Name: ScheduleJobName, Description: "Lifeboat scheduled backup", Command: cmdline, Env: env, Spec: spec, Created: s.now()}
	return sched.Install(ctx, job)
}

// scheduledEnv is what a scheduled run must see to act like this one: the
// config folder, the simulated tenant, the secret store, the client ID —
// only those that are set.
func (s *Service) scheduledEnv() map[string]string {
	env := map[string]string{}
	for k, v := range s.o.Environment {
		env[k] = v
	}
	if s.o.CustomConfigDir {
		env["LIFEBOAT_CONFIG_DIR"] = s.o.ConfigDir
	}
	if p := s.o.Tenant.ProfilePath; p != "" {
		env["LIFEBOAT_TENANT_PROFILE"] = p
	}
	if s.o.SecretStore != "" {
		env["LIFEBOAT_SECRET_STORE"] = s.o.SecretStore
	}
	if s.o.ClientID != "" {
		env["LIFEBOAT_CLIENT_ID"] = s.o.ClientID
	}
	return env
}

// ScheduleStatus is what `schedule show` and the app's settings show.
type ScheduleStatus struct {
	State ScheduleState
	// Registered is what the OS scheduler says; RegisterErr why it could
	// not be asked (the schedule is then assumed registered).
	Registered  schedule.Status
	RegisterErr error
	Destination string
	Health      []health.Item
	LastGood    time.Time
}

// ScheduleStatus reports the schedule, the last good backup and what
// needs attention.
func (s *Service) ScheduleStatus(ctx context.Context) (ScheduleStatus, error) {
	var out ScheduleStatus
	st, err := LoadScheduleState(s.o.ConfigDir)
	if err != nil {
		return out, err
	}
	set, err := s.Settings()
	if err != nil {
		return out, err
	}
	out.State, out.Destination = st, set.Destination
	reg, err := s.scheduler(st.Backend).Show(ctx, ScheduleJobName)
	if err != nil {
		if st.Spec == "" {
			reg = schedule.Status{} // nothing set up, and no scheduler to ask
		} else {
			out.RegisterErr = err
			reg = schedule.Status{Backend: schedule.Backend(st.Backend), Installed: true}
		}
	}
	out.Registered = reg
	out.Health, out.LastGood = s.Health(ctx, set, st, s.now())
	return out, nil
}

// RemoveSchedule stops automatic backups.
func (s *Service) RemoveSchedule(ctx context.Context) error {
	st, _ := LoadScheduleState(s.o.ConfigDir) // a damaged record must not block removal
	if err := s.scheduler(st.Backend).Remove(ctx, ScheduleJobName); err != nil {
		return err
	}
	st.Spec, st.Backend, st.Since, st.OnlyWhenConnected = "", "", time.Time{}, false
	return SaveScheduleState(s.o.ConfigDir, st)
}

// Schedule is when backups run: what the OS has (schedule.json, written
// by `lifeboat schedule set` and by the app), else the app's saved choice.
func (s *Service) Schedule() ScheduleChoice {
	if s.o.OSSchedule {
		if ss, err := LoadScheduleState(s.o.ConfigDir); err == nil {
			if sp, ok := ss.ParsedSpec(); ok {
				if sp.Daily {
					return ScheduleChoice{At: fmt.Sprintf("%02d:%02d", sp.Hour, sp.Minute), OnlyWhenConnected: ss.OnlyWhenConnected}
				}
				if h := int(sp.Interval() / time.Hour); h >= 1 && sp.Interval()%time.Hour == 0 {
					return ScheduleChoice{EveryHours: h, OnlyWhenConnected: ss.OnlyWhenConnected}
				}
			}
		}
	}
	st, err := s.Settings()
	if err != nil || st.app().Schedule == nil {
		return DefaultScheduleChoice()
	}
	return *st.app().Schedule
}

// SetScheduleChoice is the app's "when to back up": it registers the
// schedule for the chosen backup, as SetSchedule does.
func (s *Service) SetScheduleChoice(ctx context.Context, c ScheduleChoice) error {
	req := ScheduleRequest{OnlyWhenConnected: c.OnlyWhenConnected}
	if c.EveryHours > 0 {
		req.Every = fmt.Sprintf("%dh", c.EveryHours)
	} else {
		req.Daily = c.At
	}
	if s.o.OSSchedule && s.Destination() == "" {
		return errors.New("choose the backup drive first")
	}
	_, err := s.SetSchedule(ctx, req)
	return err
}

// NextRun is when the schedule runs next after now (and after last for
// "every N hours").
func NextRun(c ScheduleChoice, last, now time.Time) time.Time {
	if c.EveryHours > 0 {
		every := time.Duration(c.EveryHours) * time.Hour
		if last.IsZero() || last.Add(every).Before(now) {
			return now.Add(every).Truncate(time.Minute)
		}
		return last.Add(every)
	}
	at, err := time.ParseInLocation("15:04", c.At, time.Local)
	if err != nil {
		return time.Time{}
	}
	now = now.Local()
	next := time.Date(now.Year(), now.Month(), now.Day(), at.Hour(), at.Minute(), 0, 0, time.Local)
	if !next.After(now) {
		next = next.AddDate(0, 0, 1)
	}
	return next
}
