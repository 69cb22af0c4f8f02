package schedule

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"
)

// recorder stands in for systemctl, launchctl and schtasks, recording each
// command; respond decides output and errors.
type recorder struct {
	calls   []string
	stdin   []string
	respond func(cmd string, stdin []byte) ([]byte, error)
}

func (r *recorder) Run(_ context.Context, stdin []byte, name string, args ...string) ([]byte, error) {
	cmd := strings.Join(append([]string{name}, args...), " ")
	r.calls = append(r.calls, cmd)
	r.stdin = append(r.stdin, string(stdin))
	if r.respond != nil {
		return r.respond(cmd, stdin)
	}
	return nil, nil
}

func TestSystemdInstallShowRemove(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "systemd", "user")
	rec := &recorder{respond: func(cmd string, _ []byte) ([]byte, error) {
		if strings.Contains(cmd, "NextElapseUSecRealtime") {
			return []byte("Tue 2026-03-10 21:00:41 CET\n"), nil
		}
		return nil, nil
	}}
	s := New(Options{GOOS: "linux", Runner: rec, UnitDir: dir})
	j := unixJob(mustDaily(t, "21:00"))
	b, err := s.Install(ctx, j)
	if err != nil || b != Systemd {
		t.Fatalf("install: %v %v", b, err)
	}
	want := []string{"systemctl --user show-environment", "systemctl --user daemon-reload",
		"systemctl --user enable lifeboat-backup.timer", "systemctl --user restart lifeboat-backup.timer"}
	if strings.Join(rec.calls, "\n") != strings.Join(want, "\n") {
		t.Errorf("commands:\n%s", strings.Join(rec.calls, "\n"))
	}
	svc, _, _ := SystemdUnits(j)
	if got, err := os.ReadFile(filepath.Join(dir, "lifeboat-backup.service")); err != nil || string(got) != string(svc) {
		t.Errorf("service file: %v\n%s", err, got)
	}
	st, err := s.Show(ctx, j.Name)
	if err != nil || !st.Installed || st.Backend != Systemd || st.Next != "Tue 2026-03-10 21:00:41 CET" || !strings.Contains(st.Definition, "Persistent=true") {
		t.Errorf("show: %+v %v", st, err)
	}
	rec.calls = nil
	if err := s.Remove(ctx, j.Name); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(rec.calls, "\n"), "systemctl --user disable --now lifeboat-backup.timer") {
		t.Errorf("remove commands: %q", rec.calls)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("left behind: %v", ents)
	}
	if st, err := s.Show(ctx, j.Name); err != nil || st.Installed {
		t.Errorf("after remove: %+v %v", st, err)
	}
}

func TestNoUserSystemdMeansCron(t *testing.T) {
	tab := "MAILTO=anna\n5 4 * * * /usr/bin/own-job --keep\n"
	rec := &recorder{respond: func(cmd string, stdin []byte) ([]byte, error) {
		switch {
		case strings.HasPrefix(cmd, "systemctl"):
			return nil, errors.New("Failed to connect to bus: No medium found")
		case cmd == "crontab -l":
			return []byte(tab), nil
		case cmd == "crontab -":
			tab = string(stdin)
		}
		return nil, nil
	}}
	s := New(Options{GOOS: "linux", Runner: rec})
	j := unixJob(mustEvery(t, "4h"))
	if b, err := s.Install(context.Background(), j); err != nil || b != Cron {
		t.Fatalf("install: %v %v", b, err)
	}
	// Installing again replaces, never duplicates.
	j.Spec = mustDaily(t, "21:00")
	if _, err := s.Install(context.Background(), j); err != nil {
		t.Fatal(err)
	}
	line, _ := CronLine(j)
	want := "MAILTO=anna\n5 4 * * * /usr/bin/own-job --keep\n" + cronBegin(j.Name) + "\n# every day at 21:00\n" + line + "\n" + cronEnd(j.Name) + "\n"
	if tab != want {
		t.Fatalf("crontab:\n%s\nwant:\n%s", tab, want)
	}
	if err := s.Remove(context.Background(), j.Name); err != nil {
		t.Fatal(err)
	}
	if tab != "MAILTO=anna\n5 4 * * * /usr/bin/own-job --keep\n" {
		t.Errorf("after remove the person's own entries changed:\n%s", tab)
	}
}

func TestLaunchdAndTaskScheduler(t *testing.T) {
	ctx := context.Background()
	agents := t.TempDir()
	rec := &recorder{}
	s := New(Options{GOOS: "darwin", Runner: rec, AgentDir: agents, UID: 501})
	j := unixJob(mustDaily(t, "21:00"))
	if b, err := s.Install(ctx, j); err != nil || b != Launchd {
		t.Fatal(b, err)
	}
	plist := filepath.Join(agents, "io.lifeboat.app.lifeboat-backup.plist")
	want := []string{"launchctl bootout gui/501/io.lifeboat.app.lifeboat-backup", "launchctl bootstrap gui/501 " + plist}
	if strings.Join(rec.calls, "\n") != strings.Join(want, "\n") {
		t.Errorf("launchctl: %q", rec.calls)
	}
	if st, err := s.Show(ctx, j.Name); err != nil || !st.Installed || !strings.Contains(st.Definition, "StartCalendarInterval") {
		t.Errorf("show %+v %v", st, err)
	}
	if err := s.Remove(ctx, j.Name); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(plist); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("plist left: %v", err)
	}

	tmp := t.TempDir()
	var xmlSeen string
	installed := false
	rec = &recorder{respond: func(cmd string, _ []byte) ([]byte, error) {
		switch {
		case strings.HasPrefix(cmd, "schtasks /Create"):
			f := strings.Fields(cmd)
			b, err := os.ReadFile(f[5])
			if err != nil {
				return nil, err
			}
			u := make([]uint16, 0, len(b)/2)
			for i := 2; i+1 < len(b); i += 2 {
				u = append(u, uint16(b[i])|uint16(b[i+1])<<8)
			}
			xmlSeen, installed = string(utf16.Decode(u)), true
		case strings.HasPrefix(cmd, "schtasks /Query"):
			if !installed {
				return nil, errors.New("ERROR: The system cannot find the file specified.")
			}
			return []byte(xmlSeen), nil
		case strings.HasPrefix(cmd, "schtasks /Delete"):
			installed = false
		}
		return nil, nil
	}}
	s = New(Options{GOOS: "windows", Runner: rec, TempDir: tmp})
	wj := windowsJob(mustEvery(t, "4h"))
	if _, err := s.Install(ctx, wj); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(xmlSeen, "<StartWhenAvailable>true</StartWhenAvailable>\r\n") {
		t.Errorf("schtasks read:\n%s", xmlSeen)
	}
	if ents, _ := os.ReadDir(tmp); len(ents) != 0 {
		t.Errorf("temporary XML left behind: %v", ents)
	}
	if st, _ := s.Show(ctx, wj.Name); !st.Installed {
		t.Error("not shown as installed")
	}
	if err := s.Remove(ctx, wj.Name); err != nil {
		t.Fatal(err)
	}
	if err := s.Remove(ctx, wj.Name); err != nil {
		t.Errorf("removing twice: %v", err)
	}
	if n := strings.Count(strings.Join(rec.calls, "\n"), "schtasks /Delete"); n != 1 {
		t.Errorf("%d deletes", n)
	}
}

// TestRealCrontab installs, shows and removes the entry with a real
// crontab program (busybox's, on a private spool folder).
func TestRealCrontab(t *testing.T) {
	bb, err := exec.LookPath("busybox")
	if err != nil {
		t.Fatal("busybox is missing: run installer/deps.sh (package busybox-static)")
	}
	spool := t.TempDir()
	s := New(Options{Backend: Cron, Crontab: []string{bb, "crontab", "-c", spool}})
	ctx := context.Background()
	if st, err := s.Show(ctx, "lifeboat-backup"); err != nil || st.Installed {
		t.Fatalf("empty spool: %+v %v", st, err)
	}
	j := unixJob(mustEvery(t, "30m"))
	if _, err := s.Install(ctx, j); err != nil {
		t.Fatal(err)
	}
	line, _ := CronLine(j)
	st, err := s.Show(ctx, j.Name)
	if err != nil || !st.Installed || !strings.Contains(st.Definition, line) {
		t.Fatalf("show: %+v %v", st, err)
	}
	if err := s.Remove(ctx, j.Name); err != nil {
		t.Fatal(err)
	}
	if st, err := s.Show(ctx, j.Name); err != nil || st.Installed {
		t.Fatalf("after remove: %+v %v", st, err)
	}
}
