package notify

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"os/exec"
	"runtime"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/godbus/dbus/v5"
)

// Urgency says how insistently the desktop shows a notification.
type Urgency int

// Urgencies.
const (
	Normal Urgency = iota
	Critical
)

// Message is one notification.
type Message struct {
	Title string
	Body  string
	// Urgency: Critical stays on screen until dismissed where the desktop allows.
	Urgency Urgency
}

// Runner runs a program to its end.
type Runner func(ctx context.Context, name string, args ...string) error

// ExecRunner runs real programs.
func ExecRunner(ctx context.Context, name string, args ...string) error {
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		msg := strings.TrimSpace(string(out))
		if len(msg) > 300 {
			msg = msg[:300] + "…"
		}
		return fmt.Errorf("%s: %w: %s", name, err, msg)
	}
	return nil
}

// Options say how notifications are delivered. Zero values mean the real
// system.
type Options struct {
	// GOOS picks the mechanism (default runtime.GOOS).
	GOOS string
	// AppName is shown as the sender (default "Lifeboat").
	AppName string
	// BusAddress is the D-Bus session bus (default: the session's,
	// DBUS_SESSION_BUS_ADDRESS).
	BusAddress string
	// Run runs notify-send, osascript or powershell (default ExecRunner).
	Run Runner
	// WindowsAppID is the AppUserModelID a toast is shown under; the
	// default is PowerShell's own, which exists on every Windows, until
	// the installer registers Lifeboat's.
	WindowsAppID string
	// Timeout bounds one notification (default 10s): a hung desktop
	// service must not hang a scheduled backup.
	Timeout time.Duration
	Logger  *slog.Logger
}

// Notifier shows notifications.
type Notifier struct{ o Options }

// New returns a Notifier.
func New(o Options) *Notifier {
	if o.GOOS == "" {
		o.GOOS = runtime.GOOS
	}
	if o.AppName == "" {
		o.AppName = "Lifeboat"
	}
	if o.Run == nil {
		o.Run = ExecRunner
	}
	if o.WindowsAppID == "" {
		o.WindowsAppID = `{1AC14E77-02E7-4E5D-B744-2EB1AE5198B7}\WindowsPowerShell\v1.0\powershell.exe`
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Notifier{o: o}
}

// maxText bounds what is shown: titles and bodies may quote outside data
// (file names, subjects).
const (
	maxTitle = 200
	maxBody  = 2000
)

// clean removes control characters other than newlines and bounds the length.
func clean(s string, limit int) string {
	s = strings.Map(func(r rune) rune {
		if r == '\n' {
			return r
		}
		if r < 0x20 || r == 0x7f || r == 0xfeff {
			return -1
		}
		return r
	}, s)
	if r := []rune(s); len(r) > limit {
		s = string(r[:limit-1]) + "…"
	}
	return s
}

// Notify shows m.
func (n *Notifier) Notify(ctx context.Context, m Message) error {
	ctx, cancel := context.WithTimeout(ctx, n.o.Timeout)
	defer cancel()
	m.Title, m.Body = clean(m.Title, maxTitle), clean(m.Body, maxBody)
	if m.Title == "" {
		return errors.New("notify: a notification needs a title")
	}
	switch n.o.GOOS {
	case "darwin":
		return n.osascript(ctx, m)
	case "windows":
		return n.toast(ctx, m)
	}
	derr := n.dbus(ctx, m)
	if derr == nil {
		return nil
	}
	n.o.Logger.Debug("notification over D-Bus failed; trying notify-send", "err", derr)
	if err := n.notifySend(ctx, m); err != nil {
		return fmt.Errorf("notify: no notification service answered: %w", errors.Join(derr, err))
	}
	return nil
}

// dbus calls org.freedesktop.Notifications.Notify (Desktop Notifications
// Specification): app name, replaces id, icon, summary, body, actions,
// hints, expiry in ms (-1: the server's default).
func (n *Notifier) dbus(ctx context.Context, m Message) error {
	var conn *dbus.Conn
	var err error
	if n.o.BusAddress != "" {
		conn, err = dbus.Connect(n.o.BusAddress, dbus.WithContext(ctx))
	} else {
		conn, err = dbus.ConnectSessionBus(dbus.WithContext(ctx))
	}
	if err != nil {
		return fmt.Errorf("session bus: %w", err)
	}
	defer conn.Close()
	urgency := byte(1)
	if m.Urgency == Critical {
		urgency = 2
	}
	obj := conn.Object("org.freedesktop.Notifications", "/org/freedesktop/Notifications")
	call := obj.CallWithContext(ctx, "org.freedesktop.Notifications.Notify", 0, n.o.AppName, uint32(0), "drive-harddisk",
		m.Title, m.Body, []string{}, map[string]dbus.Variant{"urgency": dbus.MakeVariant(urgency)}, int32(-1))
	if call.Err != nil {
		return fmt.Errorf("Notify: %w", call.Err)
	}
	return nil
}

func (n *Notifier) notifySend(ctx context.Context, m Message) error {
	urg := "normal"
	if m.Urgency == Critical {
		urg = "critical"
	}
	// "--" ends the options: a title starting with "-" is text, not a flag.
	return n.o.Run(ctx, "notify-send", "--app-name="+n.o.AppName, "--urgency="+urg, "--", m.Title, m.Body)
}

// osascript passes title and body as arguments of the script rather than
// inside it, so no quoting can go wrong.
func (n *Notifier) osascript(ctx context.Context, m Message) error {
	return n.o.Run(ctx, "osascript",
		"-e", "on run argv",
		"-e", "display notification (item 2 of argv) with title (item 1 of argv)",
		"-e", "end run",
		m.Title, m.Body)
}

// psQuote is a PowerShell single-quoted string: only ' needs doubling
// (and its typographic variants, which PowerShell also treats as quotes).
func psQuote(s string) string {
	r := strings.NewReplacer("'", "''", "\u2018", "\u2018\u2018", "\u2019", "\u2019\u2019", "\u201a", "\u201a\u201a", "\u201b", "\u201b\u201b")
	return "'" + r.Replace(s) + "'"
}

// ToastScript is the PowerShell that shows a toast through the Windows
// Runtime notification API.
func ToastScript(appID string, m Message) string {
	return strings.Join([]string{
		"$ErrorActionPreference = 'Stop'",
		"[Windows.UI.Notifications.ToastNotificationManager, Windows.UI.Notifications, ContentType = WindowsRuntime] > $null",
		"$t = [Windows.UI.Notifications.ToastNotificationManager]::GetTemplateContent([Windows.UI.Notifications.ToastTemplateType]::ToastText02)",
		"$x = $t.GetElementsByTagName('text')",
		"$x.Item(0).AppendChild($t.CreateTextNode(" + psQuote(m.Title) + ")) > $null",
		"$x.Item(1).AppendChild($t.CreateTextNode(" + psQuote(m.Body) + ")) > $null",
		"[Windows.UI.Notifications.ToastNotificationManager]::CreateToastNotifier(" + psQuote(appID) + ").Show([Windows.UI.Notifications.ToastNotification]::new($t))",
	}, "\n")
}

// toast runs ToastScript as -EncodedCommand (base64 of UTF-16LE), so the
// command line needs no quoting at all.
func (n *Notifier) toast(ctx context.Context, m Message) error {
	u := utf16.Encode([]rune(ToastScript(n.o.WindowsAppID, m)))
	b := make([]byte, 0, 2*len(u))
	for _, c := range u {
		b = append(b, byte(c), byte(c>>8))
	}
	return n.o.Run(ctx, "powershell.exe", "-NoProfile", "-NonInteractive", "-WindowStyle", "Hidden",
		"-EncodedCommand", base64.StdEncoding.EncodeToString(b))
}
