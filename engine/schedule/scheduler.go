package schedule

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// Backend is the OS facility a schedule is registered with.
type Backend string

// The backends.
const (
	Systemd       Backend = "systemd"  // a systemd user timer (Linux)
	Cron          Backend = "cron"     // the user's crontab (Linux without user systemd)
	Launchd       Backend = "launchd"  // a LaunchAgent (macOS)
	TaskScheduler Backend = "schtasks" // Task Scheduler (Windows)
)

// Runner runs a program with stdin and returns its standard output; a
// non-zero exit is an error that includes what the program wrote on
// standard error.
type Runner interface {
	Run(ctx context.Context, stdin []byte, name string, args ...string) ([]byte, error)
}

// ExecRunner runs real programs.
type ExecRunner struct{}

// Run implements Runner.
func (ExecRunner) Run(ctx context.Context, stdin []byte, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(errb.String())
		if len(msg) > 500 {
			msg = msg[:500] + "…"
		}
		return out.Bytes(), fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, msg)
	}
	return out.Bytes(), nil
}

// Options say where a Scheduler writes and what it runs. Zero values mean
// the real system.
type Options struct {
	// GOOS picks the OS (default runtime.GOOS).
	GOOS string
	// Backend forces a backend; empty chooses: systemd when a user
	// systemd answers, else cron, on Linux.
	Backend Backend
	// Runner runs systemctl, crontab, launchctl and schtasks.
	Runner Runner
	// UnitDir is where systemd user units go (default
	// $XDG_CONFIG_HOME/systemd/user or ~/.config/systemd/user).
	UnitDir string
	// AgentDir is where LaunchAgents go (default ~/Library/LaunchAgents).
	AgentDir string
	// TempDir holds the task XML while schtasks reads it (default os.TempDir()).
	TempDir string
	// Crontab is the crontab command (default ["crontab"]), e.g.
	// ["busybox", "crontab", "-c", dir] for a private cron spool.
	Crontab []string
	// UID is the user's ID for launchctl's gui/<uid> domain (default os.Getuid()).
	UID int
	// Logger receives what the scheduler does.
	Logger *slog.Logger
}

// Scheduler registers, shows and removes jobs.
type Scheduler struct{ o Options }

// New returns a Scheduler.
func New(o Options) *Scheduler {
	if o.GOOS == "" {
		o.GOOS = runtime.GOOS
	}
	if o.Runner == nil {
		o.Runner = ExecRunner{}
	}
	if len(o.Crontab) == 0 {
		o.Crontab = []string{"crontab"}
	}
	if o.UID == 0 {
		o.UID = os.Getuid()
	}
	if o.TempDir == "" {
		o.TempDir = os.TempDir()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Scheduler{o: o}
}

// Status is what is registered for a job.
type Status struct {
	Backend   Backend
	Installed bool
	// Definition is what is installed: unit files, the cron block, the
	// plist, or the task XML as the OS reports it.
	Definition string
	// Next is the next run as the OS reports it, when it does.
	Next string
}

// Backend is the backend Install uses.
func (s *Scheduler) Backend(ctx context.Context) (Backend, error) {
	if s.o.Backend != "" {
		return s.o.Backend, nil
	}
	switch s.o.GOOS {
	case "linux":
		if _, err := s.o.Runner.Run(ctx, nil, "systemctl", "--user", "show-environment"); err == nil {
			return Systemd, nil
		}
		return Cron, nil
	case "darwin":
		return Launchd, nil
	case "windows":
		return TaskScheduler, nil
	}
	return Cron, nil
}

// Install registers j, replacing an earlier registration of the same name.
func (s *Scheduler) Install(ctx context.Context, j Job) (Backend, error) {
	b, err := s.Backend(ctx)
	if err != nil {
		return "", err
	}
	if err := j.Validate(); err != nil {
		return "", err
	}
	switch b {
	case Systemd:
		err = s.installSystemd(ctx, j)
	case Cron:
		err = s.installCron(ctx, j)
	case Launchd:
		err = s.installLaunchd(ctx, j)
	case TaskScheduler:
		err = s.installTask(ctx, j)
	default:
		err = fmt.Errorf("schedule: unknown backend %q", b)
	}
	if err != nil {
		return b, fmt.Errorf("registering the schedule with %s: %w", b, err)
	}
	s.o.Logger.Info("schedule registered", "backend", b, "job", j.Name, "when", j.Spec.String())
	return b, nil
}

// Show reports what is registered under name.
func (s *Scheduler) Show(ctx context.Context, name string) (Status, error) {
	b, err := s.Backend(ctx)
	if err != nil {
		return Status{}, err
	}
	st := Status{Backend: b}
	switch b {
	case Systemd:
		svc, err1 := os.ReadFile(filepath.Join(s.unitDir(), name+".service"))
		tmr, err2 := os.ReadFile(filepath.Join(s.unitDir(), name+".timer"))
		if errors.Is(err2, fs.ErrNotExist) {
			return st, nil
		}
		if err := errors.Join(err1, err2); err != nil {
			return st, fmt.Errorf("reading the schedule: %w", err)
		}
		st.Installed, st.Definition = true, string(svc)+"\n"+string(tmr)
		if out, err := s.systemctl(ctx, "show", name+".timer", "--property=NextElapseUSecRealtime", "--value"); err == nil {
			st.Next = strings.TrimSpace(string(out))
		}
	case Cron:
		tab, err := s.readCrontab(ctx)
		if err != nil {
			return st, err
		}
		if block, ok := findCronBlock(tab, name); ok {
			st.Installed, st.Definition = true, block
		}
	case Launchd:
		b, err := os.ReadFile(s.plistPath(name))
		if errors.Is(err, fs.ErrNotExist) {
			return st, nil
		}
		if err != nil {
			return st, fmt.Errorf("reading the schedule: %w", err)
		}
		st.Installed, st.Definition = true, string(b)
	case TaskScheduler:
		out, err := s.o.Runner.Run(ctx, nil, "schtasks", "/Query", "/TN", name, "/XML")
		if err != nil {
			// schtasks reports an unknown task as an error; there is no
			// separate "not found" exit code to tell it apart.
			return st, nil
		}
		st.Installed, st.Definition = true, string(out)
	}
	return st, nil
}

// Remove unregisters name; removing what is not there is not an error.
func (s *Scheduler) Remove(ctx context.Context, name string) error {
	b, err := s.Backend(ctx)
	if err != nil {
		return err
	}
	switch b {
	case Systemd:
		timer := filepath.Join(s.unitDir(), name+".timer")
		if _, err := os.Stat(timer); err == nil {
			if _, err := s.systemctl(ctx, "disable", "--now", name+".timer"); err != nil {
				s.o.Logger.Warn("could not stop the timer", "err", err)
			}
		}
		for _, p := range []string{timer, filepath.Join(s.unitDir(), name+".service")} {
			if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("removing the schedule: %w", err)
			}
		}
		if _, err := s.systemctl(ctx, "daemon-reload"); err != nil {
			return fmt.Errorf("removing the schedule: %w", err)
		}
	case Cron:
		tab, err := s.readCrontab(ctx)
		if err != nil {
			return err
		}
		rest, found := stripCronBlock(tab, name)
		if !found {
			return nil
		}
		if err := s.writeCrontab(ctx, rest); err != nil {
			return err
		}
	case Launchd:
		path := s.plistPath(name)
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if _, err := s.o.Runner.Run(ctx, nil, "launchctl", "bootout", s.launchdTarget(name)); err != nil {
			s.o.Logger.Warn("launchctl bootout", "err", err)
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("removing the schedule: %w", err)
		}
	case TaskScheduler:
		if st, _ := s.Show(ctx, name); !st.Installed {
			return nil
		}
		if _, err := s.o.Runner.Run(ctx, nil, "schtasks", "/Delete", "/TN", name, "/F"); err != nil {
			return fmt.Errorf("removing the schedule: %w", err)
		}
	}
	s.o.Logger.Info("schedule removed", "backend", b, "job", name)
	return nil
}

func (s *Scheduler) systemctl(ctx context.Context, args ...string) ([]byte, error) {
	return s.o.Runner.Run(ctx, nil, "systemctl", append([]string{"--user"}, args...)...)
}

func (s *Scheduler) unitDir() string {
	if s.o.UnitDir != "" {
		return s.o.UnitDir
	}
	if x := os.Getenv("XDG_CONFIG_HOME"); x != "" {
		return filepath.Join(x, "systemd", "user")
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".config", "systemd", "user")
}

func (s *Scheduler) installSystemd(ctx context.Context, j Job) error {
	svc, tmr, err := SystemdUnits(j)
	if err != nil {
		return err
	}
	dir := s.unitDir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(dir, j.Name+".service"), svc, 0o644); err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(dir, j.Name+".timer"), tmr, 0o644); err != nil {
		return err
	}
	if _, err := s.systemctl(ctx, "daemon-reload"); err != nil {
		return err
	}
	// restart, not just start: a changed OnCalendar takes effect now.
	if _, err := s.systemctl(ctx, "enable", j.Name+".timer"); err != nil {
		return err
	}
	_, err = s.systemctl(ctx, "restart", j.Name+".timer")
	return err
}

// maxCrontab bounds what is read back from crontab -l.
const maxCrontab = 1 << 20

func (s *Scheduler) readCrontab(ctx context.Context) (string, error) {
	out, err := s.o.Runner.Run(ctx, nil, s.o.Crontab[0], append(s.o.Crontab[1:], "-l")...)
	if err != nil {
		// An empty crontab: vixie cron says "no crontab for <user>",
		// busybox "can't open '<user>'".
		if msg := err.Error(); strings.Contains(msg, "no crontab") || strings.Contains(msg, "can't open '") {
			return "", nil
		}
		return "", fmt.Errorf("reading your crontab: %w", err)
	}
	if len(out) > maxCrontab {
		return "", errors.New("reading your crontab: it is larger than 1 MiB")
	}
	return string(out), nil
}

func (s *Scheduler) writeCrontab(ctx context.Context, tab string) error {
	if _, err := s.o.Runner.Run(ctx, []byte(tab), s.o.Crontab[0], append(s.o.Crontab[1:], "-")...); err != nil {
		return fmt.Errorf("writing your crontab: %w", err)
	}
	return nil
}

func (s *Scheduler) installCron(ctx context.Context, j Job) error {
	block, err := cronBlock(j)
	if err != nil {
		return err
	}
	tab, err := s.readCrontab(ctx)
	if err != nil {
		return err
	}
	rest, _ := stripCronBlock(tab, j.Name)
	if rest != "" && !strings.HasSuffix(rest, "\n") {
		rest += "\n"
	}
	return s.writeCrontab(ctx, rest+block)
}

// stripCronBlock removes the job's block from a crontab, keeping every
// other line (the person's own entries) as it was.
func stripCronBlock(tab, name string) (string, bool) {
	var out []string
	in, found := false, false
	for _, line := range strings.SplitAfter(tab, "\n") {
		t := strings.TrimRight(line, "\r\n")
		switch {
		case !in && t == cronBegin(name):
			in, found = true, true
		case in && t == cronEnd(name):
			in = false
		case !in:
			out = append(out, line)
		}
	}
	return strings.Join(out, ""), found
}

func findCronBlock(tab, name string) (string, bool) {
	start := strings.Index(tab, cronBegin(name)+"\n")
	if start < 0 {
		return "", false
	}
	end := strings.Index(tab[start:], cronEnd(name))
	if end < 0 {
		return tab[start:], true
	}
	return tab[start : start+end+len(cronEnd(name))], true
}

func (s *Scheduler) plistPath(name string) string {
	dir := s.o.AgentDir
	if dir == "" {
		home, _ := os.UserHomeDir()
		dir = filepath.Join(home, "Library", "LaunchAgents")
	}
	return filepath.Join(dir, LaunchdLabel(name)+".plist")
}

func (s *Scheduler) launchdTarget(name string) string {
	return "gui/" + strconv.Itoa(s.o.UID) + "/" + LaunchdLabel(name)
}

func (s *Scheduler) installLaunchd(ctx context.Context, j Job) error {
	b, err := LaunchdPlist(j)
	if err != nil {
		return err
	}
	path := s.plistPath(j.Name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	// A loaded agent keeps its old definition until booted out.
	if _, err := s.o.Runner.Run(ctx, nil, "launchctl", "bootout", s.launchdTarget(j.Name)); err != nil {
		s.o.Logger.Debug("launchctl bootout (not loaded yet?)", "err", err)
	}
	if err := writeFileAtomic(path, b, 0o644); err != nil {
		return err
	}
	_, err = s.o.Runner.Run(ctx, nil, "launchctl", "bootstrap", "gui/"+strconv.Itoa(s.o.UID), path)
	return err
}

func (s *Scheduler) installTask(ctx context.Context, j Job) error {
	x, err := TaskXML(j)
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(s.o.TempDir, "lifeboat-task-*.xml")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	_, werr := f.Write(TaskXMLFile(x))
	if err := errors.Join(werr, f.Close()); err != nil {
		return err
	}
	_, err = s.o.Runner.Run(ctx, nil, "schtasks", "/Create", "/TN", j.Name, "/XML", f.Name(), "/F")
	return err
}

// writeFileAtomic writes path through a synced temporary file and a
// rename, so a crash leaves the old definition or the new one.
func writeFileAtomic(path string, b []byte, perm os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	_, werr := f.Write(b)
	if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
		return err
	}
	if err := os.Chmod(tmp, perm); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync() // best effort: not supported on every OS
		d.Close()
	}
	return nil
}
