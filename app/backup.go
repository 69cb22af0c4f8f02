package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/lifeboat-backup/lifeboat/engine/auth"
	"github.com/lifeboat-backup/lifeboat/engine/backup"
	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/graph"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/repo"
)

// backupOptions are the flags of backup.
type backupOptions struct {
	repo    repoOptions
	auth    authOptions
	account string
	only    string
	json    bool
	// Scheduled runs (schedule.go): find the drive by ID, wait for or
	// skip a running backup, prune when due, notify.
	scheduled         bool
	onlyWhenConnected bool
	wait              time.Duration
	notifier          notifier // tests: replaces OS notifications
	findRoots         []string // tests: where to look for a moved drive
	// checkpoint is how often a run makes its progress crash-proof: the
	// repository writes its index and the catalog commits (hidden flag;
	// tests make it short).
	checkpoint time.Duration
}

// defaultCheckpoint bounds what a crash or a pulled drive costs: at most
// a minute of downloads is fetched again.
const defaultCheckpoint = time.Minute

// personalTenant is the tenant of personal Microsoft accounts.
const personalTenant = "9188040d-6c67-4c5b-b112-36a304b66dad"

func newBackupCommand(g *globals) *cobra.Command {
	var o backupOptions
	cmd := &cobra.Command{
		Use:   "backup --to DIR [--account A] [--only mail|onedrive] [--json]",
		Short: "Back up Microsoft 365 mail and OneDrive to a backup folder",
		Long: "Back up the mailbox and OneDrive of every signed-in account (or only --account) into the\n" +
			"backup folder. The first backup copies everything; later ones only what changed. An\n" +
			"interrupted backup continues where it stopped when run again.\n\n" +
			"Exit codes: 0 done, 4 done but some items were skipped (listed; they are tried again\n" +
			"next time), 3 sign-in needed (run `lifeboat login`), 5 backup drive not found, 1 failed.",
		Args: requireArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error { return runBackup(cmd.Context(), g, o) },
	}
	addRepoFlags(cmd, &o.repo, true)
	f := cmd.Flags()
	f.StringVar(&o.auth.clientID, "client-id", "", "application (client) ID to sign in with; also LIFEBOAT_CLIENT_ID")
	f.StringVar(&o.account, "account", "", "back up only this signed-in account (e-mail address or account ID)")
	f.StringVar(&o.only, "only", "", "back up only mail or only onedrive")
	f.BoolVar(&o.json, "json", false, "print machine-readable progress events, one JSON object a line")
	f.BoolVar(&o.scheduled, "scheduled", false, "run as the scheduled backup (see 'lifeboat schedule'): find the drive, wait for a running backup, prune weekly, notify")
	f.BoolVar(&o.onlyWhenConnected, "only-when-connected", false, "with --scheduled: skip quietly when the backup drive is not connected")
	f.DurationVar(&o.wait, "wait", 0, "when another backup of this folder is running, wait up to this long for it (--scheduled: 15m)")
	f.DurationVar(&o.checkpoint, "checkpoint-every", defaultCheckpoint, "how often to make the progress of a run crash-proof")
	_ = f.MarkHidden("checkpoint-every")
	return cmd
}

// backupObserver receives a backup's progress and each account's result:
// the terminal printer for the CLI, the dashboard for the GUI.
type backupObserver interface {
	progress(pr backup.Progress)
	result(account string, res backup.Result, err error)
}

func runBackup(ctx context.Context, g *globals, o backupOptions) error {
	if o.scheduled {
		return runScheduledBackup(ctx, g, o)
	}
	return backupAccounts(ctx, g, o, newBackupPrinter(g.stdout, o.json))
}

// backupAccounts backs up every signed-in account (or o.account) into the
// backup folder, reporting to obs. Its errors carry the CLI's exit codes
// (exitCodeFor): warnings, sign-in needed, destination missing.
func backupAccounts(ctx context.Context, g *globals, o backupOptions, obs backupObserver) error {
	var scope backup.Scope
	switch o.only {
	case "":
		scope = backup.ScopeBoth
	case "mail":
		scope = backup.ScopeMail
	case "onedrive":
		scope = backup.ScopeOneDrive
	default:
		return usageError{fmt.Errorf("--only %q: use mail or onedrive", o.only)}
	}
	o.auth.secretStore = o.repo.secretStore
	dir, err := o.repo.destination()
	if err != nil {
		return err
	}
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return exitError{exitDestinationMissing, driveNotFound(dir)}
	}

	m, err := authManager(g, o.auth)
	if err != nil {
		return err
	}
	accounts, err := m.Accounts(ctx)
	if err != nil {
		return explain(err)
	}
	if o.account != "" {
		a, err := m.Account(ctx, o.account)
		if err != nil {
			return explain(err)
		}
		accounts = []auth.Account{a}
	}
	if len(accounts) == 0 {
		return &auth.SignInRequiredError{Reason: "no account is signed in; run `lifeboat login`"}
	}
	graphURL, hc, err := graphEndpoint(g)
	if err != nil {
		return err
	}
	u, err := url.Parse(graphURL)
	if err != nil {
		return fmt.Errorf("graph URL: %w", err)
	}

	if o.checkpoint > 0 {
		o.repo.checkpoint = o.checkpoint
	}
	r, err := openRepo(ctx, g, o.repo)
	if err != nil {
		if _, serr := os.Stat(dir); errors.Is(serr, fs.ErrNotExist) {
			return exitError{exitDestinationMissing, err}
		}
		return err
	}
	defer r.Close()
	slot, err := acquireBackupSlot(ctx, g, r, o)
	if err != nil {
		return err
	}
	defer slot.Release()
	catPath, err := localCatalogPath(r)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(catPath), 0o700); err != nil {
		return fmt.Errorf("cannot create the catalog folder: %w", err)
	}
	cat, err := catalog.Open(ctx, catPath, catalog.Options{})
	if err != nil {
		return fmt.Errorf("opening the local catalog: %w", err)
	}
	defer cat.Close()

	pacer, err := newPacer(g)
	if err != nil {
		return err
	}
	warnings := 0
	for _, a := range accounts {
		ts, err := m.TokenSource(a.HomeAccountID, u.Hostname())
		if err != nil {
			return err
		}
		mon := backup.NewMonitor()
		gc, err := graph.New(graph.Options{GraphURL: graphURL, HTTPClient: hc, Auth: ts, Account: a.UPN, Pacer: pacer,
			Logger: g.logger(), OnEvent: mon.Observe})
		if err != nil {
			return err
		}
		kind := catalog.AccountWork
		if a.TenantID == personalTenant {
			kind = catalog.AccountPersonal
		}
		res, err := backup.Run(ctx, backup.Options{
			Graph: gc, Repo: r, Catalog: cat, User: "me", Only: scope, Monitor: mon, Logger: g.logger(),
			Account:        catalog.Account{HomeID: a.HomeAccountID, UPN: a.UPN, DisplayName: a.Name, Kind: kind},
			OnProgress:     obs.progress,
			NoCatalogCopy:  true,
			CommitInterval: o.checkpoint,
		})
		obs.result(a.UPN, res, err)
		if err != nil {
			if errors.Is(err, graph.ErrAuth) && !errors.Is(err, auth.ErrSignInRequired) {
				return fmt.Errorf("backup of %s: %w", a.UPN, &auth.SignInRequiredError{Account: a.UPN, Reason: "Microsoft refused access", Err: err})
			}
			return fmt.Errorf("backup of %s: %w", a.UPN, err)
		}
		if res.Status == catalog.RunCompletedWithWarnings {
			warnings++
		}
	}
	if _, err := backup.StoreCatalogCopy(ctx, r, cat); err != nil {
		return err
	}
	if warnings > 0 {
		return exitError{exitWarnings, fmt.Errorf("the backup finished, but some items were skipped (listed above); they are tried again next time")}
	}
	return nil
}

// newPacer is the pacer for one process's Graph traffic: Microsoft's
// limits, on the simulated tenant's fast clock when its profile has one.
func newPacer(g *globals) (*graph.Pacer, error) {
	p, ok, err := g.profile()
	if err != nil {
		return nil, err
	}
	if !ok {
		return graph.NewPacer(graph.PacerConfig{}), nil
	}
	return graph.NewPacer(graph.PacerConfig{}.OnClock(p.ClockSpeedup)), nil
}

// graphEndpoint is the Graph URL and HTTP client: the tenant profile's, or
// Microsoft's.
func graphEndpoint(g *globals) (string, *http.Client, error) {
	p, ok, err := g.profile()
	if err != nil {
		return "", nil, err
	}
	if !ok {
		return graph.DefaultGraphURL, &http.Client{Transport: http.DefaultTransport}, nil
	}
	hc := &http.Client{Transport: http.DefaultTransport}
	if p.CACertPEM != "" {
		if hc, err = m365sim.ClientTrustingPEM([]byte(p.CACertPEM)); err != nil {
			return "", nil, fmt.Errorf("tenant profile: %w", err)
		}
	}
	return p.GraphURL, hc, nil
}

// backupPrinter shows progress: a bar redrawn in place on a terminal,
// a line every few seconds otherwise, or JSON events.
type backupPrinter struct {
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
	now := time.Now()
	phaseChanged := pr.Phase != p.phase
	p.phase = pr.Phase
	switch {
	case p.json:
		if !phaseChanged && now.Sub(p.last) < time.Second {
			return
		}
		p.last = now
		b, _ := json.Marshal(progressEvent{Event: "progress", Account: pr.Account, Phase: string(pr.Phase), ItemsDone: pr.ItemsDone,
			ItemsTotal: pr.ItemsTotal, BytesDone: pr.BytesDone, BytesTotal: pr.BytesTotal, Skipped: pr.Skipped, Current: pr.Current,
			Throttled: pr.Throttled, ETASeconds: pr.ETA.Seconds()})
		fmt.Fprintln(p.w, string(b))
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
	case pr.BytesTotal > 0:
		frac = min(float64(pr.BytesDone)/float64(pr.BytesTotal), 1)
	case pr.ItemsTotal > 0:
		frac = min(float64(pr.ItemsDone)/float64(pr.ItemsTotal), 1)
	}
	if bar && frac >= 0 {
		n := int(frac * 20)
		b.WriteString("[" + strings.Repeat("#", n) + strings.Repeat(".", 20-n) + "] ")
	}
	fmt.Fprintf(&b, "%d", pr.ItemsDone)
	if pr.ItemsTotal > 0 {
		fmt.Fprintf(&b, "/%d", pr.ItemsTotal)
	}
	fmt.Fprintf(&b, " items, %s", formatBytes(pr.BytesDone))
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

func (p *backupPrinter) result(account string, res backup.Result, err error) {
	if p.drawn {
		fmt.Fprintln(p.w)
		p.drawn = false
	}
	if p.json {
		ev := resultEvent{Event: "result", Account: account, Status: string(res.Status), Counts: res.Counts, Skipped: res.Skipped,
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
		fmt.Fprintf(p.w, "%s: the backup stopped.\n", account)
		return
	}
	c := res.Counts
	fmt.Fprintf(p.w, "%s: backed up: %d new, %d changed, %d deleted since last time (%s new data).\n",
		account, c.ItemsNew, c.ItemsChanged, c.ItemsDeleted, formatBytes(c.BytesNew+c.BytesChanged))
	for _, s := range res.Skipped {
		fmt.Fprintf(p.w, "  skipped %s: %s\n", s.ItemRef, s.Reason)
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(p.w, "  warning: %s\n", w)
	}
}

// backupRefs follows both the backup trees and the bench trees. strict
// (prune) refuses trees neither knows.
func backupRefs(strict bool) func([]byte) ([]repo.ID, error) {
	bench := benchRefs(strict)
	return func(b []byte) ([]repo.ID, error) {
		ids, err := backup.Refs(b)
		if err == nil {
			return ids, nil
		}
		if !errors.Is(err, backup.ErrUnknownTree) {
			return nil, err
		}
		return bench(b)
	}
}

// localCatalogPath is where this computer keeps the catalog of a backup:
// on the local disk (SQLite locking is unreliable on network shares), one
// file per repository ID. The folder is created only by what writes there.
func localCatalogPath(r *repo.Repository) (string, error) {
	cfgDir, _, err := configDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(cfgDir, "catalogs", r.Config().ID.String()+".db"), nil
}

// openLocalCatalog opens this computer's catalog of r, restoring it from
// the newest copy stored in the backup when it is missing (a fresh
// computer). Without a stored copy the error matches
// backup.ErrNoCatalogCopy.
func openLocalCatalog(ctx context.Context, r *repo.Repository) (*catalog.Catalog, error) {
	path, err := localCatalogPath(r)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		return catalog.Open(ctx, path, catalog.Options{})
	}
	c, _, err := backup.RestoreCatalogCopy(ctx, r, path, catalog.Options{})
	return c, err
}

// repairCatalog checks this computer's catalog of the backup and, when it
// is missing or damaged, restores the newest copy stored in the backup.
func repairCatalog(ctx context.Context, g *globals, r *repo.Repository) error {
	path, err := localCatalogPath(r)
	if err != nil {
		return err
	}
	w := g.stdout
	if _, err := os.Stat(path); err == nil {
		c, err := catalog.Open(ctx, path, catalog.Options{IntegrityCheck: true})
		if err == nil {
			c.Close()
			fmt.Fprintln(w, "The catalog on this computer is undamaged.")
			return nil
		}
		fmt.Fprintf(w, "The catalog on this computer is damaged (%v); restoring it from the backup.\n", err)
	}
	c, snap, err := backup.RestoreCatalogCopy(ctx, r, path, catalog.Options{})
	if errors.Is(err, backup.ErrNoCatalogCopy) {
		fmt.Fprintln(w, "This backup holds no catalog copy yet; the next backup run builds the catalog.")
		return nil
	}
	if err != nil {
		return err
	}
	c.Close()
	fmt.Fprintf(w, "Restored the catalog from the copy saved %s.\n", snap.Time.Local().Format("2006-01-02 15:04"))
	return nil
}
