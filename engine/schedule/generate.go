package schedule

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
)

// Job is what the scheduler runs and when.
type Job struct {
	// Name names the job everywhere: the systemd units (<Name>.service,
	// <Name>.timer), the cron block's markers, the Windows task and the
	// launchd label (LaunchdLabel).
	Name string
	// Description is shown in the OS's own scheduler UI.
	Description string
	// Command is the absolute path of the program and its arguments.
	Command []string
	// Env is set for the run, so a scheduled run sees the same settings
	// (config folder, secret store) as the person who set it up.
	Env map[string]string
	// Spec is when the job runs.
	Spec Spec
	// Created is the task's registration date (Windows shows it); its
	// date is also the start boundary of the Windows trigger.
	Created time.Time
}

var (
	nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)
	envRE  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,63}$`)
)

// Validate rejects what would break or inject into a definition: the
// values end up in unit files, a crontab and XML, so control characters
// (a newline would start a new cron line or unit directive) and cron's %
// are refused rather than escaped.
func (j Job) Validate() error {
	if !nameRE.MatchString(j.Name) {
		return fmt.Errorf("schedule: job name %q: use letters, digits, '.', '_' and '-'", j.Name)
	}
	if len(j.Command) == 0 || !isAbs(j.Command[0]) {
		return errors.New("schedule: the command must start with the program's absolute path")
	}
	check := func(what, s string) error {
		for _, r := range s {
			if r < 0x20 || r == 0x7f || r == '%' {
				return fmt.Errorf("schedule: %s %q holds a character a schedule cannot carry (control character or %%)", what, s)
			}
		}
		return nil
	}
	for _, a := range j.Command {
		if err := check("argument", a); err != nil {
			return err
		}
	}
	if err := check("description", j.Description); err != nil {
		return err
	}
	for k, v := range j.Env {
		if !envRE.MatchString(k) {
			return fmt.Errorf("schedule: environment variable name %q is not valid", k)
		}
		if err := check("environment value", v); err != nil {
			return err
		}
	}
	return j.Spec.Validate()
}

// isAbs accepts absolute paths of any OS: definitions for every OS are
// generated (and tested) everywhere.
func isAbs(p string) bool {
	if filepath.IsAbs(p) || strings.HasPrefix(p, "/") {
		return true
	}
	return len(p) >= 3 && p[1] == ':' && (p[2] == '\\' || p[2] == '/')
}

// LaunchdLabel is the launchd label of the job called name.
func LaunchdLabel(name string) string { return "io.lifeboat.app." + name }

func (j Job) envKeys() []string {
	keys := make([]string, 0, len(j.Env))
	for k := range j.Env {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// systemdQuote quotes one word for ExecStart= and Environment=: double
// quotes, with backslash, quote, and systemd's specifiers (%) and
// variable expansion ($) escaped.
func systemdQuote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, `$`, `$$`)
	return `"` + r.Replace(s) + `"`
}

// SystemdUnits returns the user service and timer. The timer uses
// OnCalendar with Persistent=true, so a run missed while the computer was
// off or asleep starts as soon as it is back; the service is a oneshot
// with low I/O and CPU priority so the owner's work is not slowed.
func SystemdUnits(j Job) (service, timer []byte, err error) {
	if err := j.Validate(); err != nil {
		return nil, nil, err
	}
	var s bytes.Buffer
	fmt.Fprintf(&s, "[Unit]\nDescription=%s\n\n[Service]\nType=oneshot\n", j.Description)
	for _, k := range j.envKeys() {
		fmt.Fprintf(&s, "Environment=%s\n", systemdQuote(k+"="+j.Env[k]))
	}
	words := make([]string, len(j.Command))
	for i, a := range j.Command {
		words[i] = systemdQuote(a)
	}
	fmt.Fprintf(&s, "ExecStart=%s\n", strings.Join(words, " "))
	// Exit 4 (items skipped) and 5 (drive missing) are reported by
	// Lifeboat itself; they are not failures of the unit.
	s.WriteString("SuccessExitStatus=4 5\nNice=10\nIOSchedulingClass=idle\n")

	var t bytes.Buffer
	fmt.Fprintf(&t, "[Unit]\nDescription=%s (%s)\n\n[Timer]\nOnCalendar=%s\nPersistent=true\nRandomizedDelaySec=60\nUnit=%s.service\n\n[Install]\nWantedBy=timers.target\n",
		j.Description, j.Spec, onCalendar(j.Spec), j.Name)
	return s.Bytes(), t.Bytes(), nil
}

func onCalendar(sp Spec) string {
	switch {
	case sp.Daily:
		return fmt.Sprintf("*-*-* %02d:%02d:00", sp.Hour, sp.Minute)
	case sp.Every%time.Hour == 0:
		return fmt.Sprintf("*-*-* 00/%d:00:00", sp.Every/time.Hour)
	default:
		return fmt.Sprintf("*-*-* *:00/%d:00", sp.Every/time.Minute)
	}
}

// shQuote quotes one word for /bin/sh (cron runs its command through it).
func shQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=,+@") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// CronLine returns the crontab entry (without a newline). Cron has no
// catch-up of missed runs; the next scheduled time is the next chance.
func CronLine(j Job) (string, error) {
	if err := j.Validate(); err != nil {
		return "", err
	}
	var when string
	switch {
	case j.Spec.Daily:
		when = fmt.Sprintf("%d %d * * *", j.Spec.Minute, j.Spec.Hour)
	case j.Spec.Every == 24*time.Hour:
		when = "0 0 * * *"
	case j.Spec.Every == time.Hour:
		when = "0 * * * *"
	case j.Spec.Every%time.Hour == 0:
		when = fmt.Sprintf("0 */%d * * *", j.Spec.Every/time.Hour)
	default:
		when = fmt.Sprintf("*/%d * * * *", j.Spec.Every/time.Minute)
	}
	var words []string
	for _, k := range j.envKeys() {
		words = append(words, k+"="+shQuote(j.Env[k]))
	}
	for _, a := range j.Command {
		words = append(words, shQuote(a))
	}
	return when + " " + strings.Join(words, " "), nil
}

// cronBlock is the job's lines in a crontab, between markers that let
// Scheduler find, replace and remove exactly its own entry.
func cronBlock(j Job) (string, error) {
	line, err := CronLine(j)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s\n# %s\n%s\n%s\n", cronBegin(j.Name), j.Spec, line, cronEnd(j.Name)), nil
}

func cronBegin(name string) string { return "# BEGIN " + name + " (managed by Lifeboat; do not edit)" }
func cronEnd(name string) string   { return "# END " + name }

// LaunchdPlist returns the LaunchAgent property list. Calendar intervals
// rather than StartInterval: launchd starts a calendar job that came due
// while the Mac slept as soon as it wakes (several missed runs coalesce).
func LaunchdPlist(j Job) ([]byte, error) {
	if err := j.Validate(); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString(xml.Header)
	b.WriteString(`<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">` + "\n")
	b.WriteString("<plist version=\"1.0\">\n<dict>\n")
	key := func(k string) { fmt.Fprintf(&b, "\t<key>%s</key>\n", xmlText(k)) }
	str := func(indent, s string) { fmt.Fprintf(&b, "%s<string>%s</string>\n", indent, xmlText(s)) }
	key("Label")
	str("\t", LaunchdLabel(j.Name))
	key("ProgramArguments")
	b.WriteString("\t<array>\n")
	for _, a := range j.Command {
		str("\t\t", a)
	}
	b.WriteString("\t</array>\n")
	if len(j.Env) > 0 {
		key("EnvironmentVariables")
		b.WriteString("\t<dict>\n")
		for _, k := range j.envKeys() {
			fmt.Fprintf(&b, "\t\t<key>%s</key>\n", xmlText(k))
			str("\t\t", j.Env[k])
		}
		b.WriteString("\t</dict>\n")
	}
	key("StartCalendarInterval")
	b.WriteString("\t<array>\n")
	hours, minutes := j.Spec.times()
	for _, h := range hours {
		for _, m := range minutes {
			b.WriteString("\t\t<dict>\n")
			if h >= 0 {
				fmt.Fprintf(&b, "\t\t\t<key>Hour</key>\n\t\t\t<integer>%d</integer>\n", h)
			}
			fmt.Fprintf(&b, "\t\t\t<key>Minute</key>\n\t\t\t<integer>%d</integer>\n", m)
			b.WriteString("\t\t</dict>\n")
		}
	}
	b.WriteString("\t</array>\n")
	key("RunAtLoad")
	b.WriteString("\t<false/>\n")
	key("ProcessType")
	str("\t", "Background")
	key("LowPriorityIO")
	b.WriteString("\t<true/>\n")
	b.WriteString("</dict>\n</plist>\n")
	return b.Bytes(), nil
}

func xmlText(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// TaskXML returns the Task Scheduler definition as UTF-8 text (see
// TaskXMLFile for the bytes schtasks reads). It runs as the signed-in
// user whether or not Lifeboat's window is open (InteractiveToken: the
// keychain, Windows Credential Manager, is only reachable in the user's
// session), never wakes the computer, starts as soon as possible after a
// missed run (StartWhenAvailable), runs on battery, and never runs twice
// at once.
func TaskXML(j Job) (string, error) {
	if err := j.Validate(); err != nil {
		return "", err
	}
	if len(j.Env) > 0 {
		// Task Scheduler has no per-task environment; the app passes
		// what matters as flags instead.
		return "", errors.New("schedule: a Windows task cannot carry environment variables")
	}
	created := j.Created
	if created.IsZero() {
		created = time.Now()
	}
	var start string
	var repetition string
	switch {
	case j.Spec.Daily:
		start = fmt.Sprintf("%sT%02d:%02d:00", created.Format(time.DateOnly), j.Spec.Hour, j.Spec.Minute)
	default:
		start = created.Format(time.DateOnly) + "T00:00:00"
		if j.Spec.Every < 24*time.Hour {
			repetition = fmt.Sprintf("      <Repetition>\n        <Interval>%s</Interval>\n        <StopAtDurationEnd>false</StopAtDurationEnd>\n      </Repetition>\n", isoDuration(j.Spec.Every))
		}
	}
	var args []string
	for _, a := range j.Command[1:] {
		args = append(args, winQuote(a))
	}
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-16"?>` + "\n")
	b.WriteString(`<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">` + "\n")
	fmt.Fprintf(&b, "  <RegistrationInfo>\n    <Date>%s</Date>\n    <Description>%s</Description>\n    <URI>\\%s</URI>\n  </RegistrationInfo>\n",
		created.Format("2006-01-02T15:04:05"), xmlText(j.Description), xmlText(j.Name))
	fmt.Fprintf(&b, "  <Triggers>\n    <CalendarTrigger>\n%s      <StartBoundary>%s</StartBoundary>\n      <Enabled>true</Enabled>\n      <ScheduleByDay>\n        <DaysInterval>1</DaysInterval>\n      </ScheduleByDay>\n    </CalendarTrigger>\n  </Triggers>\n",
		repetition, start)
	b.WriteString("  <Principals>\n    <Principal id=\"Author\">\n      <LogonType>InteractiveToken</LogonType>\n      <RunLevel>LeastPrivilege</RunLevel>\n    </Principal>\n  </Principals>\n")
	b.WriteString("  <Settings>\n" +
		"    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>\n" +
		"    <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>\n" +
		"    <StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>\n" +
		"    <AllowHardTerminate>true</AllowHardTerminate>\n" +
		"    <StartWhenAvailable>true</StartWhenAvailable>\n" +
		"    <RunOnlyIfNetworkAvailable>false</RunOnlyIfNetworkAvailable>\n" +
		"    <IdleSettings>\n      <StopOnIdleEnd>false</StopOnIdleEnd>\n      <RestartOnIdle>false</RestartOnIdle>\n    </IdleSettings>\n" +
		"    <AllowStartOnDemand>true</AllowStartOnDemand>\n" +
		"    <Enabled>true</Enabled>\n" +
		"    <Hidden>false</Hidden>\n" +
		"    <RunOnlyIfIdle>false</RunOnlyIfIdle>\n" +
		"    <WakeToRun>false</WakeToRun>\n" +
		"    <ExecutionTimeLimit>PT0S</ExecutionTimeLimit>\n" +
		"    <Priority>7</Priority>\n" +
		"  </Settings>\n")
	fmt.Fprintf(&b, "  <Actions Context=\"Author\">\n    <Exec>\n      <Command>%s</Command>\n", xmlText(j.Command[0]))
	if len(args) > 0 {
		fmt.Fprintf(&b, "      <Arguments>%s</Arguments>\n", xmlText(strings.Join(args, " ")))
	}
	b.WriteString("    </Exec>\n  </Actions>\n</Task>\n")
	return b.String(), nil
}

// TaskXMLFile encodes the task XML as schtasks /XML expects it: UTF-16LE
// with a byte-order mark, CRLF line ends.
func TaskXMLFile(xmlText string) []byte {
	u := utf16.Encode([]rune(strings.ReplaceAll(xmlText, "\n", "\r\n")))
	out := make([]byte, 2, 2+2*len(u))
	out[0], out[1] = 0xff, 0xfe
	for _, c := range u {
		out = append(out, byte(c), byte(c>>8))
	}
	return out
}

// isoDuration writes an interval as an XML duration (PT4H, PT30M).
func isoDuration(d time.Duration) string {
	if d%time.Hour == 0 {
		return "PT" + strconv.Itoa(int(d/time.Hour)) + "H"
	}
	return "PT" + strconv.Itoa(int(d/time.Minute)) + "M"
}

// winQuote quotes one argument by the rules CommandLineToArgvW undoes:
// backslashes are literal except before a quote, where they are doubled.
func winQuote(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\"") {
		return s
	}
	var b strings.Builder
	b.WriteByte('"')
	slashes := 0
	for _, r := range s {
		switch r {
		case '\\':
			slashes++
		case '"':
			b.WriteString(strings.Repeat(`\`, slashes+1))
			slashes = 0
		default:
			slashes = 0
		}
		b.WriteRune(r)
	}
	b.WriteString(strings.Repeat(`\`, slashes))
	b.WriteByte('"')
	return b.String()
}
