package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/auth"
	"github.com/lifeboat-backup/lifeboat/engine/backup"
	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/repo"
	"github.com/lifeboat-backup/lifeboat/engine/schedule"
	"github.com/lifeboat-backup/lifeboat/engine/volumes"
	"github.com/lifeboat-backup/lifeboat/ui"
)

// guiEnv is the wiring shared by the app's adapters: the command-line
// globals, the sign-in and backup options, and the settings file.
type guiEnv struct {
	g        *globals
	auth     authOptions
	repo     repoOptions
	settings *settingsStore
	// estimate, when set, is the size of the first backup (the demo
	// knows it; for a real tenant it is not known up front).
	estimate func() int64
	// osSchedule registers the schedule with the operating system (as
	// `lifeboat schedule set` does); off for the throwaway demo.
	osSchedule bool
	// sched, when set, replaces the OS scheduler's options (tests).
	sched *schedule.Options
	// backupMu makes "Back up now" and a resumed backup take turns.
	backupMu sync.Mutex
}

// destination is the chosen backup folder, "" when none is.
func (e *guiEnv) destination() string {
	st, err := e.settings.load()
	if err != nil {
		return ""
	}
	return st.Destination
}

// repoOptionsFor are the repository options for the backup folder dir.
func (e *guiEnv) repoOptionsFor(dir string) repoOptions {
	o := e.repo
	o.to = dir
	return o
}

// catalogPath is this computer's catalog of the chosen backup, "" when no
// backup is chosen yet.
func (e *guiEnv) catalogPath() (string, error) {
	st, err := e.settings.load()
	if err != nil || st.RepositoryID == "" {
		return "", err
	}
	id, err := repo.ParseID(st.RepositoryID)
	if err != nil {
		return "", fmt.Errorf("settings: repositoryID: %w", err)
	}
	cfg, _, err := configDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(cfg, "catalogs", id.String()+".db"), nil
}

// openCatalog opens the catalog for reading; nil without error when no
// backup has run yet (it is not created just to be read).
func (e *guiEnv) openCatalog(ctx context.Context) (*catalog.Catalog, error) {
	path, err := e.catalogPath()
	if err != nil || path == "" {
		return nil, err
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	c, err := catalog.Open(ctx, path, catalog.Options{})
	if err != nil {
		return nil, fmt.Errorf("opening the backup history: %w", err)
	}
	return c, nil
}

// guiAccounts is ui.Accounts over engine/auth.
type guiAccounts struct{ e *guiEnv }

func (a guiAccounts) manager() (*auth.Manager, error) { return authManager(a.e.g, a.e.auth) }

func (a guiAccounts) SignIn(ctx context.Context, update func(ui.SignInUpdate)) error {
	m, err := a.manager()
	if err != nil {
		update(ui.SignInUpdate{Step: ui.SignInFailed, Err: explain(err)})
		return err
	}
	_, err = m.SignIn(ctx, func(ev auth.Event) { update(signInUpdate(ev)) })
	return explain(err)
}

// signInUpdate translates a sign-in event for the sign-in page.
func signInUpdate(ev auth.Event) ui.SignInUpdate {
	switch ev := ev.(type) {
	case auth.CodeIssued:
		return ui.SignInUpdate{Step: ui.SignInCodeIssued, Code: ev.UserCode, URL: ev.VerificationURL, Expires: ev.ExpiresOn}
	case auth.Waiting:
		return ui.SignInUpdate{Step: ui.SignInWaiting}
	case auth.SignedIn:
		return ui.SignInUpdate{Step: ui.SignInDone, Name: ev.Name, Email: ev.UPN}
	case auth.Declined:
		return ui.SignInUpdate{Step: ui.SignInDeclined}
	case auth.Expired:
		return ui.SignInUpdate{Step: ui.SignInExpired}
	case auth.Cancelled:
		return ui.SignInUpdate{Step: ui.SignInCancelled}
	case auth.Failed:
		if isOffline(ev.Err) {
			return ui.SignInUpdate{Step: ui.SignInOffline, Err: ev.Err}
		}
		return ui.SignInUpdate{Step: ui.SignInFailed, Err: explain(ev.Err)}
	}
	return ui.SignInUpdate{Step: ui.SignInFailed, Err: fmt.Errorf("unexpected sign-in step %T", ev)}
}

// isOffline says whether err means the network is not reachable (as
// opposed to Microsoft refusing something).
func isOffline(err error) bool {
	var dns *net.DNSError
	var op *net.OpError
	var ue *url.Error
	return errors.As(err, &dns) || errors.As(err, &op) || (errors.As(err, &ue) && (ue.Timeout() || errors.As(ue.Err, &op)))
}

func (a guiAccounts) List(ctx context.Context) ([]ui.Person, error) {
	m, err := a.manager()
	if err != nil {
		return nil, err
	}
	accs, err := m.Accounts(ctx)
	if errors.Is(err, auth.ErrCacheDamaged) {
		return nil, nil // signing in again replaces it
	}
	if err != nil {
		return nil, explain(err)
	}
	var out []ui.Person
	for _, acc := range accs {
		out = append(out, ui.Person{Name: acc.Name, Email: acc.UPN})
	}
	return out, nil
}

func (a guiAccounts) SignOut(ctx context.Context, email string) error {
	m, err := a.manager()
	if err != nil {
		return err
	}
	acc, err := m.Account(ctx, email)
	if err != nil {
		return explain(err)
	}
	_, err = m.SignOut(ctx, acc.HomeAccountID)
	return explain(err)
}

// guiDestinations is ui.Destinations over engine/volumes and engine/repo.
type guiDestinations struct{ e *guiEnv }

func (d guiDestinations) Drives(ctx context.Context) ([]ui.Drive, error) {
	vols, err := volumes.List(d.e.g.volumes)
	if err != nil {
		return nil, fmt.Errorf("listing drives: %w", err)
	}
	home, _ := os.UserHomeDir()
	var out []ui.Drive
	for _, v := range vols {
		path := filepath.Join(v.Path, "Lifeboat Backup")
		if v.System && home != "" {
			// The root of the system disk is not writable; its suggestion
			// is a folder in the person's home.
			path = filepath.Join(home, "Lifeboat Backup")
		}
		out = append(out, ui.Drive{Name: v.Label, Path: path, Free: v.Free, Total: v.Total, External: v.External || v.Network, System: v.System})
	}
	return out, nil
}

func (d guiDestinations) Inspect(ctx context.Context, path string) (ui.Drive, error) {
	if !filepath.IsAbs(path) && !strings.HasPrefix(path, `\\`) {
		return ui.Drive{}, fmt.Errorf("type the full path of the folder, such as %s", filepath.Join(string(filepath.Separator)+"media", "USB", "Lifeboat"))
	}
	vols, err := volumes.List(d.e.g.volumes)
	if err != nil {
		return ui.Drive{}, fmt.Errorf("listing drives: %w", err)
	}
	clean := filepath.Clean(path)
	best := -1
	for i, v := range vols {
		mp := filepath.Clean(v.Path)
		if clean == mp || strings.HasPrefix(clean, strings.TrimSuffix(mp, string(filepath.Separator))+string(filepath.Separator)) {
			if best < 0 || len(mp) > len(filepath.Clean(vols[best].Path)) {
				best = i
			}
		}
	}
	if best < 0 {
		return ui.Drive{Name: path}, nil
	}
	v := vols[best]
	return ui.Drive{Name: v.Label, Path: path, Free: v.Free, Total: v.Total, External: v.External || v.Network, System: v.System}, nil
}

func (d guiDestinations) EstimatedSize(ctx context.Context) (int64, error) {
	if d.e.estimate == nil {
		return 0, nil
	}
	return d.e.estimate(), nil
}

func (d guiDestinations) Current() string { return d.e.destination() }

// Create makes a new backup in path, as `lifeboat init` does, keeps this
// computer's key in the keychain, and remembers the folder.
func (d guiDestinations) Create(ctx context.Context, path string) (string, error) {
	o := d.e.repoOptionsFor(path)
	kc, err := o.keychainFor(d.e.g)
	if err != nil {
		return "", err
	}
	if err := prepareInitFolder(path); err != nil {
		return "", err
	}
	st, err := openStore(path)
	if err != nil {
		return "", err
	}
	r, rk, err := repo.Init(ctx, st, o.options(d.e.g))
	if errors.Is(err, repo.ErrAlreadyExists) {
		return "", fmt.Errorf("%s already holds a Lifeboat backup; choose a new or empty folder", path)
	}
	if err != nil {
		return "", fmt.Errorf("creating the backup in %s: %w", path, err)
	}
	defer r.Close()
	if _, err := r.AddKeyStoreSlot(ctx, repo.KeychainKeyStore(kc, repo.DefaultKeychainService)); err != nil {
		return "", fmt.Errorf("the backup is created, but this computer cannot keep its key, so backups cannot run by themselves: %w", explain(err))
	}
	id := r.Config().ID.String()
	if err := d.e.settings.update(func(st *settings, _ *guiSettings) {
		st.Destination, st.RepositoryID = path, id
	}); err != nil {
		return "", err
	}
	return rk.String(), nil
}

// guiRecoveryKeys is ui.RecoveryKeys over the chosen backup.
type guiRecoveryKeys struct{ e *guiEnv }

// Replace adds a new recovery key, then removes every other recovery-key
// slot, so the old key stops working. The keychain slot stays.
func (k guiRecoveryKeys) Replace(ctx context.Context) (string, error) {
	dir := k.e.destination()
	if dir == "" {
		return "", errors.New("no backup drive is chosen yet")
	}
	r, err := openRepo(ctx, k.e.g, k.e.repoOptionsFor(dir))
	if err != nil {
		return "", err
	}
	defer r.Close()
	before, err := r.Keys(ctx)
	if err != nil {
		return "", fmt.Errorf("reading the backup's keys: %w", err)
	}
	rk, info, err := r.AddRecoveryKey(ctx)
	if err != nil {
		return "", fmt.Errorf("making a new recovery key: %w", err)
	}
	for _, old := range before {
		if old.Kind == repo.RecoveryKeySlot && old.ID != info.ID {
			if err := r.RemoveKey(ctx, old.ID, nil); err != nil {
				return "", fmt.Errorf("the new key works, but the old one could not be removed (try again): %w", err)
			}
		}
	}
	return rk.String(), nil
}

// guiScheduler keeps the schedule in settings.json and, when wired,
// registers it with the operating system.
type guiScheduler struct{ e *guiEnv }

func (s guiScheduler) Schedule(ctx context.Context) (ui.Schedule, error) {
	st, err := s.e.settings.load()
	if err != nil {
		return ui.DefaultSchedule(), err
	}
	return s.e.schedule(st), nil
}

// schedule is the schedule the OS has (schedule.json, written by
// `lifeboat schedule set` and by the app), else the app's saved choice.
func (e *guiEnv) schedule(st settings) ui.Schedule {
	if cfg, _, err := configDir(); err == nil && e.osSchedule {
		if ss, err := loadScheduleState(cfg); err == nil {
			if sp, ok := ss.spec(); ok {
				if sp.Daily {
					return ui.Schedule{At: fmt.Sprintf("%02d:%02d", sp.Hour, sp.Minute), OnlyWhenConnected: ss.OnlyWhenConnected}
				}
				if h := int(sp.Interval() / time.Hour); h >= 1 && sp.Interval()%time.Hour == 0 {
					return ui.Schedule{EveryHours: h, OnlyWhenConnected: ss.OnlyWhenConnected}
				}
			}
		}
	}
	return scheduleOf(st)
}

func scheduleOf(st settings) ui.Schedule {
	ss := st.gui().Schedule
	if ss == nil {
		return ui.DefaultSchedule()
	}
	return ui.Schedule{EveryHours: ss.EveryHours, At: ss.At, OnlyWhenConnected: ss.OnlyWhenConnected}
}

// SetSchedule registers the schedule with the OS, as `lifeboat schedule
// set` does, and saves it.
func (s guiScheduler) SetSchedule(ctx context.Context, sc ui.Schedule) error {
	if s.e.osSchedule {
		dest := s.e.destination()
		if dest == "" {
			return errors.New("choose the backup drive first")
		}
		o := scheduleOptions{repo: s.e.repoOptionsFor(dest), onlyWhenConnected: sc.OnlyWhenConnected, sched: s.e.sched}
		if sc.EveryHours > 0 {
			o.every = fmt.Sprintf("%dh", sc.EveryHours)
		} else {
			o.daily = sc.At
		}
		quiet := *s.e.g
		quiet.stdout = io.Discard
		if err := runScheduleSet(ctx, &quiet, o); err != nil {
			return err
		}
	}
	return s.e.settings.update(func(_ *settings, gs *guiSettings) {
		gs.Schedule = &scheduleSettings{EveryHours: sc.EveryHours, At: sc.At, OnlyWhenConnected: sc.OnlyWhenConnected}
	})
}

// nextRun is when the schedule runs next after now (and after last for
// "every N hours").
func nextRun(sc ui.Schedule, last, now time.Time) time.Time {
	if sc.EveryHours > 0 {
		every := time.Duration(sc.EveryHours) * time.Hour
		if last.IsZero() || last.Add(every).Before(now) {
			return now.Add(every).Truncate(time.Minute)
		}
		return last.Add(every)
	}
	at, err := time.ParseInLocation("15:04", sc.At, time.Local)
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

// guiBackup is ui.BackupRunner over backupAccounts.
type guiBackup struct{ e *guiEnv }

// guiObserver turns a backup's progress and results into the UI's.
type guiObserver struct {
	report       func(ui.Progress)
	mu           sync.Mutex
	items, bytes int64
	skipped      int64
}

func (o *guiObserver) progress(pr backup.Progress) {
	o.report(ui.Progress{Account: pr.Account, Phase: string(pr.Phase), ItemsDone: pr.ItemsDone, ItemsTotal: pr.ItemsTotal,
		BytesDone: pr.BytesDone, BytesTotal: pr.BytesTotal, Skipped: pr.Skipped, Current: pr.Current, Throttled: pr.Throttled, ETA: pr.ETA})
}

func (o *guiObserver) result(account string, res backup.Result, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	c := res.Counts
	o.items += c.ItemsNew + c.ItemsChanged + c.ItemsDeleted
	o.bytes += c.BytesNew + c.BytesChanged
	o.skipped += int64(len(res.Skipped))
}

func (b guiBackup) Backup(ctx context.Context, progress func(ui.Progress)) ui.BackupResult {
	b.e.backupMu.Lock()
	defer b.e.backupMu.Unlock()
	dir := b.e.findDestination(ctx)
	if dir == "" {
		return ui.BackupResult{Outcome: ui.OutcomeFailed, Message: "no backup drive is chosen yet (Settings › Backup drive)."}
	}
	obs := &guiObserver{report: progress}
	err := backupAccounts(ctx, b.e.g, backupOptions{repo: b.e.repoOptionsFor(dir), auth: b.e.auth}, obs)
	res := ui.BackupResult{Items: obs.items, Bytes: obs.bytes, Skipped: obs.skipped}
	if err != nil {
		b.e.g.logger().Warn("backup ended", "err", err)
		res.Message = explain(err).Error()
	}
	switch {
	case err == nil:
		res.Outcome = ui.OutcomeDone
	case exitCodeFor(err) == exitWarnings:
		res.Outcome = ui.OutcomeDoneWithSkips
	case exitCodeFor(err) == exitCancelled:
		res.Outcome = ui.OutcomeStopped
	case exitCodeFor(err) == exitSignInRequired:
		res.Outcome = ui.OutcomeSignInNeeded
	case exitCodeFor(err) == exitDestinationMissing:
		res.Outcome = ui.OutcomeDriveMissing
	default:
		res.Outcome = ui.OutcomeFailed
	}
	return res
}

// findDestination is the backup folder; when it is missing, the backup is
// looked for on the connected drives (a USB drive that came back under
// another mount point) and the settings follow it.
func (e *guiEnv) findDestination(ctx context.Context) string {
	st, err := e.settings.load()
	if err != nil || st.Destination == "" {
		return ""
	}
	if _, err := os.Stat(st.Destination); err == nil || st.RepositoryID == "" {
		return st.Destination
	}
	found, err := volumes.FindRepository(ctx, st.RepositoryID, volumes.FindOptions{Volumes: e.g.volumes})
	if err != nil {
		return st.Destination // reported as a missing drive
	}
	e.g.logger().Info("backup drive found at a new place", "path", found)
	if err := e.settings.update(func(s *settings, _ *guiSettings) { s.Destination = found }); err != nil {
		e.g.logger().Warn("remembering the backup drive's new place", "err", err)
	}
	return found
}

// guiStatus is ui.StatusSource: the catalog's runs, the schedule and the
// drive.
type guiStatus struct {
	e   *guiEnv
	now func() time.Time
}

func (s guiStatus) Status(ctx context.Context) (ui.Status, error) {
	st, err := s.e.settings.load()
	if err != nil {
		return ui.Status{}, err
	}
	now := time.Now()
	if s.now != nil {
		now = s.now()
	}
	out := ui.Status{Destination: st.Destination}
	if st.Destination != "" {
		if _, err := os.Stat(filepath.Join(st.Destination, "config")); err == nil {
			out.Connected = true
			if d, err := (guiDestinations{s.e}).Inspect(ctx, st.Destination); err == nil {
				out.Free = d.Free
			}
		}
	}
	if people, err := (guiAccounts{s.e}).List(ctx); err == nil && len(people) == 0 {
		out.Warnings = append(out.Warnings, "Nobody is signed in, so backups cannot run. Sign in under Settings › Accounts.")
	}
	c, err := s.e.openCatalog(ctx)
	if err != nil {
		return out, err
	}
	if c != nil {
		defer c.Close()
		runs, err := c.Runs(ctx, 50)
		if err != nil {
			return out, fmt.Errorf("reading the backup history: %w", err)
		}
		// Items skipped once are tried again next time; the scheduler's
		// health check below warns when they keep being skipped.
		for _, r := range runs {
			if r.Status == catalog.RunRunning {
				continue
			}
			if out.LastRun.IsZero() {
				out.LastRun = r.Ended
				out.LastRunFailed = r.Status == catalog.RunFailed
			}
			if r.Status == catalog.RunCompleted || r.Status == catalog.RunCompletedWithWarnings {
				out.LastGood = r.Ended
				break
			}
		}
	}
	if st.Destination != "" {
		out.NextRun = nextRun(s.e.schedule(st), out.LastRun, now)
	}
	// The scheduler's own checks: overdue backups, a drive filling up or
	// missing at backup time, accounts Microsoft refused.
	if cfg, _, err := configDir(); err == nil {
		ss, _ := loadScheduleState(cfg)
		items, _ := scheduleHealth(ctx, s.e.g, cfg, st, ss, now)
		for _, it := range items {
			out.Warnings = append(out.Warnings, strings.TrimSpace(it.Title+" "+it.Action))
		}
	}
	return out, nil
}

// guiHistory is ui.History over the catalog.
type guiHistory struct{ e *guiEnv }

func (h guiHistory) Runs(ctx context.Context, limit int) ([]ui.RunRecord, error) {
	c, err := h.e.openCatalog(ctx)
	if err != nil || c == nil {
		return nil, err
	}
	defer c.Close()
	runs, err := c.Runs(ctx, limit)
	if err != nil {
		return nil, fmt.Errorf("reading the backup history: %w", err)
	}
	names := map[string]string{}
	if accs, err := c.Accounts(ctx); err == nil {
		for _, a := range accs {
			names[a.HomeID] = a.UPN
		}
	}
	out := make([]ui.RunRecord, 0, len(runs))
	for _, r := range runs {
		rec := ui.RunRecord{ID: r.ID, Started: r.Started, Ended: r.Ended, Status: ui.RunStatus(r.Status),
			New: r.Counts.ItemsNew, Changed: r.Counts.ItemsChanged, Deleted: r.Counts.ItemsDeleted,
			Skipped: max(r.Counts.ItemsSkipped, int64(len(r.Skipped))), Bytes: r.Counts.BytesNew + r.Counts.BytesChanged,
			Warnings: r.Warnings, Error: r.Error}
		for _, s := range r.Skipped {
			rec.SkippedItems = append(rec.SkippedItems, ui.SkippedItem{Account: firstNonEmpty(names[s.Account], s.Account), Item: s.ItemRef, Reason: s.Reason})
		}
		out = append(out, rec)
	}
	return out, nil
}

// guiPreferences is ui.Preferences in settings.json.
type guiPreferences struct{ e *guiEnv }

// defaultRetention is repo.DefaultPolicy in the settings' units.
func defaultRetention() ui.Retention {
	p := repo.DefaultPolicy()
	return ui.Retention{KeepAllDays: int(p.KeepAllWithin / (24 * time.Hour)), KeepDaily: p.KeepDaily, KeepWeekly: p.KeepWeekly,
		KeepMonthly: p.KeepMonthly, Years: p.KeepYearly, KeepDeletedYears: int(p.KeepDeletedFor / (365 * 24 * time.Hour))}
}

// retentionPolicy is r as a repository policy, for prune.
func retentionPolicy(r ui.Retention) repo.Policy {
	return repo.Policy{KeepAllWithin: time.Duration(r.KeepAllDays) * 24 * time.Hour, KeepDaily: r.KeepDaily, KeepWeekly: r.KeepWeekly,
		KeepMonthly: r.KeepMonthly, KeepYearly: r.Years, KeepDeletedFor: time.Duration(r.KeepDeletedYears) * 365 * 24 * time.Hour}
}

func (p guiPreferences) Retention(ctx context.Context) (ui.Retention, error) {
	st, err := p.e.settings.load()
	if err != nil {
		return defaultRetention(), err
	}
	if r := st.gui().Retention; r != nil {
		return *r, nil
	}
	return defaultRetention(), nil
}

func (p guiPreferences) SetRetention(ctx context.Context, r ui.Retention) error {
	if retentionPolicy(r).Empty() {
		return errors.New("keep at least some versions (for example every version for 30 days)")
	}
	return p.e.settings.update(func(_ *settings, gs *guiSettings) { gs.Retention = &r })
}

func (p guiPreferences) Notifications() bool {
	st, err := p.e.settings.load()
	if err != nil {
		return true
	}
	if n := st.gui().Notifications; n != nil {
		return *n
	}
	return true
}

func (p guiPreferences) SetNotifications(on bool) error {
	return p.e.settings.update(func(_ *settings, gs *guiSettings) { gs.Notifications = &on })
}
