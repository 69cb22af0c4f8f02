package schedule

import (
	"bytes"
	"encoding/xml"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf16"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file:\n--- got ---\n%s\n--- want ---\n%s", name, got, want)
	}
}

func mustDaily(t *testing.T, s string) Spec {
	sp, err := ParseDaily(s)
	if err != nil {
		t.Fatal(err)
	}
	return sp
}

func mustEvery(t *testing.T, s string) Spec {
	sp, err := ParseEvery(s)
	if err != nil {
		t.Fatal(err)
	}
	return sp
}

func unixJob(sp Spec) Job {
	return Job{
		Name:        "lifeboat-backup",
		Description: "Lifeboat scheduled backup",
		Command:     []string{"/opt/Lifeboat/lifeboat", "backup", "--scheduled"},
		Env:         map[string]string{"LIFEBOAT_SECRET_STORE": "file", "LIFEBOAT_CONFIG_DIR": "/home/anna/My Config/Lifeboat"},
		Spec:        sp,
	}
}

func windowsJob(sp Spec) Job {
	return Job{
		Name:        "LifeboatBackup",
		Description: "Lifeboat scheduled backup",
		Command:     []string{`C:\Program Files\Lifeboat\lifeboat.exe`, "backup", "--scheduled", "--to", `E:\Anna "A"\Lifeboat\`},
		Spec:        sp,
		Created:     time.Date(2026, 3, 2, 10, 30, 0, 0, time.Local),
	}
}

func TestGoldenDefinitions(t *testing.T) {
	for _, c := range []struct {
		name string
		spec Spec
	}{{"daily", mustDaily(t, "21:00")}, {"every4h", mustEvery(t, "4h")}, {"every15m", mustEvery(t, "15m")}} {
		t.Run(c.name, func(t *testing.T) {
			svc, tmr, err := SystemdUnits(unixJob(c.spec))
			if err != nil {
				t.Fatal(err)
			}
			golden(t, c.name+".service", svc)
			golden(t, c.name+".timer", tmr)
			line, err := CronLine(unixJob(c.spec))
			if err != nil {
				t.Fatal(err)
			}
			golden(t, c.name+".cron", []byte(line+"\n"))
			pl, err := LaunchdPlist(unixJob(c.spec))
			if err != nil {
				t.Fatal(err)
			}
			golden(t, c.name+".plist", pl)
			if err := xml.Unmarshal(pl, new(struct{})); err != nil {
				t.Errorf("plist is not well-formed XML: %v", err)
			}
			x, err := TaskXML(windowsJob(c.spec))
			if err != nil {
				t.Fatal(err)
			}
			golden(t, c.name+".task.xml", []byte(x))
			// encoding/xml refuses a UTF-16 declaration on UTF-8 text; the
			// structure is what is checked here.
			var task struct {
				Settings struct {
					StartWhenAvailable, WakeToRun, DisallowStartIfOnBatteries bool
					MultipleInstancesPolicy                                   string
				}
				Principals struct {
					Principal struct{ LogonType string }
				}
				Actions struct {
					Exec struct{ Command, Arguments string }
				}
			}
			if err := xml.Unmarshal([]byte(strings.Replace(x, `encoding="UTF-16"`, `encoding="UTF-8"`, 1)), &task); err != nil {
				t.Fatalf("task XML: %v", err)
			}
			s := task.Settings
			if !s.StartWhenAvailable || s.WakeToRun || s.DisallowStartIfOnBatteries || s.MultipleInstancesPolicy != "IgnoreNew" {
				t.Errorf("task settings %+v: want StartWhenAvailable, no wake, run on battery, one at a time", s)
			}
			if task.Principals.Principal.LogonType != "InteractiveToken" {
				t.Errorf("logon type %q", task.Principals.Principal.LogonType)
			}
			if task.Actions.Exec.Command != `C:\Program Files\Lifeboat\lifeboat.exe` ||
				task.Actions.Exec.Arguments != `backup --scheduled --to "E:\Anna \"A\"\Lifeboat\\"` {
				t.Errorf("action %+v", task.Actions.Exec)
			}
		})
	}
}

// TestSystemdAnalyzeVerify checks the generated units with systemd's own
// parser (installer/deps.sh installs systemd for it).
func TestSystemdAnalyzeVerify(t *testing.T) {
	tool, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Fatal("systemd-analyze is missing: run installer/deps.sh (package systemd)")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, sp := range []Spec{mustDaily(t, "07:05"), mustEvery(t, "2h"), mustEvery(t, "30m")} {
		dir := t.TempDir()
		j := unixJob(sp)
		j.Command[0] = exe // verify checks that the program exists
		svc, tmr, err := SystemdUnits(j)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, j.Name+".service"), svc, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, j.Name+".timer"), tmr, 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(tool, "verify", "--man=no", filepath.Join(dir, j.Name+".timer"), filepath.Join(dir, j.Name+".service"))
		cmd.Env = append(os.Environ(), "SYSTEMD_LOG_LEVEL=warning")
		out, err := cmd.CombinedOutput()
		if err != nil || len(bytes.TrimSpace(out)) > 0 {
			t.Errorf("systemd-analyze verify (%s): %v\n%s", sp, err, out)
		}
		// The calendar expression must be one systemd understands and that
		// fires at the intended times.
		cal := onCalendar(sp)
		out, err = exec.Command(tool, "calendar", "--iterations=2", cal).CombinedOutput()
		if err != nil {
			t.Errorf("systemd-analyze calendar %q: %v\n%s", cal, err, out)
		}
	}
}

func TestParse(t *testing.T) {
	good := map[string]string{"21:00": "every day at 21:00", "7:05": "every day at 07:05"}
	for in, want := range good {
		sp, err := ParseDaily(in)
		if err != nil || sp.String() != want || sp.Interval() != 24*time.Hour {
			t.Errorf("ParseDaily(%q) = %v, %v", in, sp, err)
		}
	}
	for _, in := range []string{"", "24:00", "21", "21:5", "21:60", "-1:00", "ab:cd", "21:00:00"} {
		if _, err := ParseDaily(in); err == nil {
			t.Errorf("ParseDaily(%q) accepted", in)
		}
	}
	every := map[string]string{"4h": "every 4 hours", "1h": "every hour", "24h": "every 24 hours", "30m": "every 30 minutes", "15m": "every 15 minutes"}
	for in, want := range every {
		sp, err := ParseEvery(in)
		if err != nil || sp.String() != want {
			t.Errorf("ParseEvery(%q) = %v, %v", in, sp, err)
		}
	}
	for _, in := range []string{"", "5h", "7m", "1m", "48h", "90m", "-4h", "0", "4h30m", "abc"} {
		if _, err := ParseEvery(in); err == nil {
			t.Errorf("ParseEvery(%q) accepted", in)
		}
	}
	if _, err := ParseEvery("5h"); err == nil || !strings.HasPrefix(err.Error(), "every 5h: choose") {
		t.Errorf("message %v", err)
	}
	if _, err := ParseEvery("90m"); err == nil || !strings.HasPrefix(err.Error(), "every 1h30m: choose") {
		t.Errorf("message %v", err)
	}
}

func TestHostileJobRejected(t *testing.T) {
	base := unixJob(mustDaily(t, "21:00"))
	bad := []func(*Job){
		func(j *Job) { j.Name = "x\nExecStart=/bin/evil" },
		func(j *Job) { j.Name = "../../etc/x" },
		func(j *Job) { j.Command = []string{"lifeboat", "backup"} },
		func(j *Job) { j.Command = append(j.Command, "--to", "/media/x\n* * * * * rm -rf ~") },
		func(j *Job) { j.Command = append(j.Command, "50%") },
		func(j *Job) { j.Env = map[string]string{"A B": "x"} },
		func(j *Job) { j.Env = map[string]string{"A": "x\ry"} },
		func(j *Job) { j.Description = "a\nb" },
		func(j *Job) { j.Spec = Spec{} },
	}
	for i, f := range bad {
		j := base
		j.Command = append([]string(nil), base.Command...)
		f(&j)
		if _, _, err := SystemdUnits(j); err == nil {
			t.Errorf("case %d: systemd accepted %+v", i, j)
		}
		if _, err := CronLine(j); err == nil {
			t.Errorf("case %d: cron accepted %+v", i, j)
		}
		if _, err := LaunchdPlist(j); err == nil {
			t.Errorf("case %d: launchd accepted %+v", i, j)
		}
	}
	// Shell and XML metacharacters are quoted, not refused.
	j := base
	j.Command = append(append([]string(nil), base.Command...), "--to", "/media/anna/it's <mine> & $HOME `x`")
	line, err := CronLine(j)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("/bin/sh", "-c", "printf '%s\\n' "+strings.SplitN(line, "/opt/Lifeboat/lifeboat backup --scheduled --to ", 2)[1]).Output()
	if err != nil || string(out) != "/media/anna/it's <mine> & $HOME `x`\n" {
		t.Errorf("sh read back %q, %v from %q", out, err, line)
	}
	pl, err := LaunchdPlist(j)
	if err != nil || !bytes.Contains(pl, []byte("it&#39;s &lt;mine&gt; &amp; $HOME")) {
		t.Errorf("plist did not escape: %s %v", pl, err)
	}
	if _, err := TaskXML(base); err == nil {
		t.Error("a Windows task with environment variables was accepted")
	}
}

func TestTaskXMLFileIsUTF16(t *testing.T) {
	b := TaskXMLFile("<a>é\n</a>")
	if b[0] != 0xff || b[1] != 0xfe || len(b)%2 != 0 {
		t.Fatalf("no UTF-16LE BOM: % x", b[:4])
	}
	u := make([]uint16, 0, len(b)/2-1)
	for i := 2; i < len(b); i += 2 {
		u = append(u, uint16(b[i])|uint16(b[i+1])<<8)
	}
	if got := string(utf16.Decode(u)); got != "<a>é\r\n</a>" {
		t.Errorf("decoded %q", got)
	}
}
