package notify

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/godbus/dbus/v5"
)

// privateBus starts a real dbus-daemon for the test and returns its address.
func privateBus(t *testing.T) string {
	t.Helper()
	daemon, err := exec.LookPath("dbus-daemon")
	if err != nil {
		t.Fatal("dbus-daemon is missing: run installer/deps.sh (package dbus)")
	}
	cmd := exec.Command(daemon, "--session", "--nofork", "--nopidfile", "--print-address=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the bus address: %v", err)
	}
	return strings.TrimSpace(line)
}

// server is a notification service on the bus that records each call.
type server struct {
	mu    sync.Mutex
	calls []call
}

type call struct {
	app, icon, summary, body string
	hints                    map[string]dbus.Variant
	timeout                  int32
}

func (s *server) Notify(app string, replaces uint32, icon, summary, body string, actions []string, hints map[string]dbus.Variant, timeout int32) (uint32, *dbus.Error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, call{app, icon, summary, body, hints, timeout})
	return uint32(len(s.calls)), nil
}

func startServer(t *testing.T, addr string) *server {
	t.Helper()
	conn, err := dbus.Connect(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	s := &server{}
	if err := conn.Export(s, "/org/freedesktop/Notifications", "org.freedesktop.Notifications"); err != nil {
		t.Fatal(err)
	}
	reply, err := conn.RequestName("org.freedesktop.Notifications", dbus.NameFlagDoNotQueue)
	if err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("owning the notification name: %v %v", reply, err)
	}
	return s
}

type capture struct {
	mu    sync.Mutex
	calls [][]string
	err   error
}

func (c *capture) run(_ context.Context, name string, args ...string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, append([]string{name}, args...))
	return c.err
}

func TestLinuxDBus(t *testing.T) {
	addr := privateBus(t)
	srv := startServer(t, addr)
	var cmds capture
	n := New(Options{GOOS: "linux", BusAddress: addr, Run: cmds.run})
	msg := Message{Title: "Connect your backup drive\x1b[31m", Body: "BACKUP (E:) was not found.\nPlug it in.", Urgency: Critical}
	if err := n.Notify(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if len(srv.calls) != 1 {
		t.Fatalf("server got %d calls", len(srv.calls))
	}
	c := srv.calls[0]
	if c.app != "Lifeboat" || c.summary != "Connect your backup drive[31m" || c.body != "BACKUP (E:) was not found.\nPlug it in." || c.timeout != -1 {
		t.Errorf("call %+v", c)
	}
	if u, ok := c.hints["urgency"].Value().(byte); !ok || u != 2 {
		t.Errorf("urgency hint %v", c.hints["urgency"])
	}
	if len(cmds.calls) != 0 {
		t.Errorf("notify-send ran although D-Bus worked: %v", cmds.calls)
	}
}

func TestLinuxFallsBackToNotifySend(t *testing.T) {
	addr := privateBus(t) // a bus with no notification service on it
	var cmds capture
	n := New(Options{GOOS: "linux", BusAddress: addr, Run: cmds.run, AppName: "Lifeboat test"})
	if err := n.Notify(context.Background(), Message{Title: "-rf", Body: "body"}); err != nil {
		t.Fatal(err)
	}
	want := "notify-send|--app-name=Lifeboat test|--urgency=normal|--|-rf|body"
	if len(cmds.calls) != 1 || strings.Join(cmds.calls[0], "|") != want {
		t.Errorf("ran %q, want %q", cmds.calls, want)
	}
	cmds.err = errors.New("not installed")
	err := n.Notify(context.Background(), Message{Title: "x"})
	if err == nil || !strings.Contains(err.Error(), "no notification service answered") {
		t.Errorf("both failing: %v", err)
	}
}

func TestMacOSArgumentsNotScript(t *testing.T) {
	var cmds capture
	n := New(Options{GOOS: "darwin", Run: cmds.run})
	title := `Drive "E" \ end tell`
	if err := n.Notify(context.Background(), Message{Title: title, Body: "b"}); err != nil {
		t.Fatal(err)
	}
	c := cmds.calls[0]
	if c[0] != "osascript" || c[len(c)-2] != title || c[len(c)-1] != "b" {
		t.Errorf("ran %q", c)
	}
	for _, a := range c[:len(c)-2] {
		if strings.Contains(a, "Drive") {
			t.Errorf("the title reached the script text: %q", a)
		}
	}
}

func TestWindowsToastQuoting(t *testing.T) {
	var cmds capture
	n := New(Options{GOOS: "windows", Run: cmds.run, WindowsAppID: "io.lifeboat.app"})
	title := "Paul's drive'); Remove-Item C:\\ -Recurse; ('"
	if err := n.Notify(context.Background(), Message{Title: title, Body: "it\u2019s gone"}); err != nil {
		t.Fatal(err)
	}
	c := cmds.calls[0]
	if c[0] != "powershell.exe" || c[len(c)-2] != "-EncodedCommand" {
		t.Fatalf("ran %q", c)
	}
	raw, err := base64.StdEncoding.DecodeString(c[len(c)-1])
	if err != nil || len(raw)%2 != 0 {
		t.Fatalf("encoded command: %v", err)
	}
	u := make([]uint16, len(raw)/2)
	for i := range u {
		u[i] = uint16(raw[2*i]) | uint16(raw[2*i+1])<<8
	}
	script := string(utf16.Decode(u))
	if script != ToastScript("io.lifeboat.app", Message{Title: title, Body: "it\u2019s gone"}) {
		t.Fatalf("decoded script differs:\n%s", script)
	}
	if !strings.Contains(script, `CreateTextNode('Paul''s drive''); Remove-Item C:\ -Recurse; (''')`) ||
		!strings.Contains(script, "CreateTextNode('it\u2019\u2019s gone')") || !strings.Contains(script, "CreateToastNotifier('io.lifeboat.app')") {
		t.Errorf("quoting:\n%s", script)
	}
}

func TestCleanAndTimeout(t *testing.T) {
	long := strings.Repeat("é", 3000)
	if got := clean(long, maxBody); len([]rune(got)) != maxBody || !strings.HasSuffix(got, "…") {
		t.Errorf("clean kept %d runes", len([]rune(got)))
	}
	if err := New(Options{GOOS: "linux"}).Notify(context.Background(), Message{Title: "\x00\x01"}); err == nil {
		t.Error("an empty title after cleaning was accepted")
	}
	// A runner that hangs is cut off by the timeout.
	n := New(Options{GOOS: "darwin", Timeout: 50 * time.Millisecond, Run: func(ctx context.Context, _ string, _ ...string) error {
		<-ctx.Done()
		return ctx.Err()
	}})
	start := time.Now()
	if err := n.Notify(context.Background(), Message{Title: "x"}); !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Errorf("hung runner: %v after %s", err, time.Since(start))
	}
}
