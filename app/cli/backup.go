package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/lifeboat-backup/lifeboat/engine/backup"
	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/service"
)

// backupFlags are the flags of backup.
type backupFlags struct {
	folderFlags
	account           string
	only              string
	json              bool
	scheduled         bool
	onlyWhenConnected bool
	wait              time.Duration
	checkpoint        time.Duration
}

func (a *app) backupCommand() *cobra.Command {
	var o backupFlags
	cmd := &cobra.Command{
		Use:   "backup --to DIR [--account A] [--only mail|onedrive|calendar|contacts] [--json]",
		Short: "Back up Microsoft 365 mail, OneDrive, calendars and contacts to a backup folder",
		Long: "Back up the mail, calendars, contacts and OneDrive of every signed-in account (or only\n" +
			"--account) into the backup folder. The first backup copies everything; later ones only\n" +
			"what changed. An interrupted backup continues where it stopped when run again.\n\n" +
			"Exit codes: 0 done, 4 done but some items were skipped (listed; they are tried again\n" +
			"next time), 3 sign-in needed (run `lifeboat login`), 5 backup drive not found, 1 failed.",
		Args: requireArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error { return a.backup(cmd, o) },
	}
	addTargetFlags(cmd, &o.folderFlags, true)
	f := cmd.Flags()
	f.StringVar(&o.clientID, "client-id", "", "application (client) ID to sign in with; also LIFEBOAT_CLIENT_ID")
	f.StringVar(&o.account, "account", "", "back up only this signed-in account (e-mail address or account ID)")
	f.StringVar(&o.only, "only", "", "back up only mail, onedrive, calendar or contacts")
	f.BoolVar(&o.json, "json", false, "print machine-readable progress events, one JSON object a line")
	f.BoolVar(&o.scheduled, "scheduled", false, "run as the scheduled backup (see 'lifeboat schedule'): find the drive, wait for a running backup, prune weekly, notify")
	f.BoolVar(&o.onlyWhenConnected, "only-when-connected", false, "with --scheduled: skip quietly when the backup drive is not connected")
	f.DurationVar(&o.wait, "wait", 0, "when another backup of this folder is running, wait up to this long for it (--scheduled: 15m)")
	f.DurationVar(&o.checkpoint, "checkpoint-every", service.DefaultCheckpoint, "how often to make the progress of a run crash-proof")
	_ = f.MarkHidden("checkpoint-every")
	return cmd
}

func (a *app) backup(cmd *cobra.Command, o backupFlags) error {
	var scope backup.Scope
	switch o.only {
	case "":
		scope = backup.ScopeBoth
	case "mail":
		scope = backup.ScopeMail
	case "onedrive":
		scope = backup.ScopeOneDrive
	case "calendar", "calendars":
		scope = backup.ScopeCalendar
	case "contacts":
		scope = backup.ScopeContacts
	default:
		return usageError{fmt.Errorf("--only %q: use mail, onedrive, calendar or contacts", o.only)}
	}
	svc, err := a.service(o.common, usesSignIn|usesBackup, func(so *service.Options) {
		if o.checkpoint > 0 {
			so.Checkpoint = o.checkpoint
		}
	})
	if err != nil {
		return err
	}
	pr := newBackupPrinter(a.stdout, o.json)
	events := service.BackupEvents{Progress: pr.progress, Result: pr.result, Note: pr.note}
	if o.scheduled {
		return svc.ScheduledBackup(cmd.Context(), service.ScheduledRequest{Dir: firstNonEmpty(o.dir, os.Getenv("LIFEBOAT_REPO")),
			OnlyWhenConnected: o.onlyWhenConnected, Wait: o.wait, Events: events})
	}
	dir, err := backupFolder(o.dir)
	if err != nil {
		return usageError{errors.New("which backup? pass --to DIR or set LIFEBOAT_REPO")}
	}
	_, err = withKey(a, a.recoveryKey(o.recoveryKey), func(key string) (service.BackupSummary, error) {
		return svc.Backup(cmd.Context(), service.BackupRequest{Dir: dir, RecoveryKey: key, Account: o.account, Only: scope, Wait: o.wait, Events: events})
	})
	if errors.Is(err, service.ErrItemsSkipped) {
		return exitError{ExitWarnings, errors.New("the backup finished, but some items were skipped (listed above); they are tried again next time")}
	}
	return err
}

// backupPrinter shows progress: a bar redrawn in place on a terminal,
// a line every few seconds otherwise, or JSON events.
type backupPrinter struct {
	mu       sync.Mutex
	w        io.Writer
	json     bool
	terminal bool
	last     time.Time
	phase    backup.Phase
	drawn    bool
}

func newBackupPrinter(w io.Writer, jsonOut bool) *backupPrinter {
	p := &backupPrinter{w: w, json: jsonOut}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			p.terminal = true
		}
	}
	return p
}

// progressEvent is a --json progress line.
type progressEvent struct {
	Event      string  `json:"event"`
	Account    string  `json:"account"`
	Phase      string  `json:"phase,omitempty"`
	ItemsDone  int64   `json:"itemsDone"`
	ItemsTotal int64   `json:"itemsTotal"`
	BytesDone  int64   `json:"bytesDone"`
	BytesTotal int64   `json:"bytesTotal"`
	Skipped    int64   `json:"skipped"`
	Current    string  `json:"current,omitempty"`
	Throttled  string  `json:"throttled,omitempty"`
	ETASeconds float64 `json:"etaSeconds,omitempty"`
}

// resultEvent is the --json line for an account's finished run.
type resultEvent struct {
	Event     string                `json:"event"`
	Account   string                `json:"account"`
	Status    string                `json:"status"`
	Counts    catalog.Counts        `json:"counts"`
	Skipped   []catalog.SkippedItem `json:"skipped,omitempty"`
	Warnings  []string              `json:"warnings,omitempty"`
	Snapshots map[string]string     `json:"snapshots,omitempty"`
	Error     string                `json:"error,omitempty"`
}

func (p *backupPrinter) progress(pr backup.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	phaseChanged := pr.Phase != p.phase
	p.phase = pr.Phase
	switch {
	case p.json:
		if !phaseChanged && now.Sub(p.last) < time.Second {
			return
		}
		p.last = now
		printJSON(p.w, progressEvent{Event: "progress", Account: pr.Account, Phase: string(pr.Phase), ItemsDone: pr.ItemsDone,
			ItemsTotal: pr.ItemsTotal, BytesDone: pr.BytesDone, BytesTotal: pr.BytesTotal, Skipped: pr.Skipped, Current: pr.Current,
			Throttled: pr.Throttled, ETASeconds: pr.ETA.Seconds()})
	case p.terminal:
		if !phaseChanged && now.Sub(p.last) < 200*time.Millisecond {
			return
		}
		p.last = now
		fmt.Fprintf(p.w, "\r\033[K%s", progressLine(pr, true))
		p.drawn = true
	default:
		if !phaseChanged && now.Sub(p.last) < 5*time.Second {
			return
		}
		p.last = now
		fmt.Fprintln(p.w, progressLine(pr, false))
	}
}

// progressLine is one line of progress for a person.
func progressLine(pr backup.Progress, bar bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %-8s ", pr.Account, pr.Phase)
	frac := -1.0
	switch {
	case pr.BytesTotal > 0 && pr.BytesDone <= pr.BytesTotal:
		frac = float64(pr.BytesDone) / float64(pr.BytesTotal)
	case pr.ItemsTotal > 0 && pr.ItemsDone <= pr.ItemsTotal:
		frac = float64(pr.ItemsDone) / float64(pr.ItemsTotal)
	}
	if bar && frac >= 0 {
		n := int(frac * 20)
		b.WriteString("[" + strings.Repeat("#", n) + strings.Repeat(".", 20-n) + "] ")
	}
	fmt.Fprintf(&b, "%s items, %s", counted(pr.ItemsDone, pr.ItemsTotal), formatBytes(pr.BytesDone))
	if pr.Skipped > 0 {
		fmt.Fprintf(&b, ", %d skipped", pr.Skipped)
	}
	if pr.ETA > 0 {
		fmt.Fprintf(&b, ", about %s left", roughDuration(pr.ETA))
	}
	if pr.Throttled != "" {
		b.WriteString(" — " + pr.Throttled)
	}
	return b.String()
}

// endLine ends a progress bar drawn in place.
func (p *backupPrinter) endLine() {
	if p.drawn {
		fmt.Fprintln(p.w)
		p.drawn = false
	}
}

func (p *backupPrinter) note(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.endLine()
	if p.json {
		printJSON(p.w, map[string]string{"event": "note", "text": s})
		return
	}
	fmt.Fprintln(p.w, s)
}

func (p *backupPrinter) result(ar service.AccountResult) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.endLine()
	res, err := ar.Result, ar.Err
	if p.json {
		ev := resultEvent{Event: "result", Account: ar.Account, Status: string(res.Status), Counts: res.Counts, Skipped: res.Skipped,
			Warnings: res.Warnings, Snapshots: map[string]string{}}
		for k, id := range res.Snapshots {
			ev.Snapshots[k] = id.String()
		}
		if err != nil {
			ev.Error = err.Error()
		}
		b, _ := json.Marshal(ev)
		fmt.Fprintln(p.w, string(b))
		return
	}
	if err != nil {
		fmt.Fprintf(p.w, "%s: the backup stopped.\n", ar.Account)
		return
	}
	c := res.Counts
	fmt.Fprintf(p.w, "%s: backed up: %d new, %d changed, %d deleted since last time (%s new data).\n",
		ar.Account, c.ItemsNew, c.ItemsChanged, c.ItemsDeleted, formatBytes(c.BytesNew+c.BytesChanged))
	for _, s := range res.Skipped {
		fmt.Fprintf(p.w, "  skipped %s: %s\n", s.ItemRef, s.Reason)
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(p.w, "  warning: %s\n", w)
	}
}
