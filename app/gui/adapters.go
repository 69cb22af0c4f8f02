package gui

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"sync"

	"github.com/lifeboat-backup/lifeboat/engine/auth"
	"github.com/lifeboat-backup/lifeboat/engine/backup"
	"github.com/lifeboat-backup/lifeboat/engine/service"
	"github.com/lifeboat-backup/lifeboat/ui"
)

// Env is what the app's adapters share: the application layer and what
// the window knows besides.
type Env struct {
	svc     *service.Service
	Version string
	LogDir  string
	// Estimate, when set, is the size of the first backup (the demo
	// knows it; for a real tenant it is not known up front).
	Estimate func() int64
	// backupMu makes "Back up now" and a resumed backup take turns.
	backupMu sync.Mutex
}

// NewEnv returns the adapters' environment over svc.
func NewEnv(svc *service.Service, version, logDir string) *Env {
	return &Env{svc: svc, Version: version, LogDir: logDir}
}

// Service is the application layer the app runs on.
func (e *Env) Service() *service.Service { return e.svc }

// AppDeps wires the app's screens to the application layer.
func (e *Env) AppDeps(setupStep int) ui.AppDeps {
	return ui.AppDeps{
		Accounts: accounts{e}, Destinations: destinations{e}, RecoveryKeys: recoveryKeys{e}, Scheduler: scheduler{e},
		Backup: backupRunner{e}, Status: status{e}, History: history{e}, Preferences: preferences{e},
		Diagnostics: diagnostics{e}, Offsite: offsiteSetup{e}, Alarm: alarm{e},
		Company: companySetup{e}, // company.go
		Version: e.Version, SetupStep: setupStep,
		SaveSetupStep: func(step int) {
			if err := e.svc.SaveSetupStep(step); err != nil {
				e.svc.Logger().Warn("saving the setup step", "err", err)
			}
		},
	}
}

// accounts is ui.Accounts.
type accounts struct{ e *Env }

func (a accounts) SignIn(ctx context.Context, update func(ui.SignInUpdate)) error {
	started := false
	_, err := a.e.svc.SignIn(ctx, func(ev auth.Event) {
		started = true
		update(signInUpdate(ev))
	})
	if err != nil && !started {
		// The sign-in could not begin (no client ID, no keychain).
		update(ui.SignInUpdate{Step: ui.SignInFailed, Err: err})
	}
	return err
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
		return ui.SignInUpdate{Step: ui.SignInFailed, Err: service.Explain(ev.Err)}
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

func (a accounts) List(ctx context.Context) ([]ui.Person, error) {
	accs, err := a.e.svc.Accounts(ctx, true)
	if err != nil {
		return nil, err
	}
	var out []ui.Person
	for _, acc := range accs {
		out = append(out, ui.Person{Name: acc.Name, Email: acc.UPN})
	}
	return out, nil
}

func (a accounts) SignOut(ctx context.Context, email string) error {
	_, err := a.e.svc.SignOut(ctx, email)
	return err
}

// destinations is ui.Destinations.
type destinations struct{ e *Env }

func uiDrive(d service.Drive) ui.Drive {
	return ui.Drive{Name: d.Name, Path: d.Path, Free: d.Free, Total: d.Total, External: d.External, System: d.System}
}

func (d destinations) Drives(ctx context.Context) ([]ui.Drive, error) {
	ds, err := d.e.svc.Drives()
	if err != nil {
		return nil, err
	}
	out := make([]ui.Drive, 0, len(ds))
	for _, x := range ds {
		out = append(out, uiDrive(x))
	}
	return out, nil
}

func (d destinations) Inspect(ctx context.Context, path string) (ui.Drive, error) {
	x, err := d.e.svc.InspectDrive(path)
	return uiDrive(x), err
}

func (d destinations) EstimatedSize(ctx context.Context) (int64, error) {
	if d.e.Estimate == nil {
		return 0, nil
	}
	return d.e.Estimate(), nil
}

func (d destinations) Current() string { return d.e.svc.Destination() }

// Create makes a new backup in path, keeps this computer's key in the
// keychain, and remembers the folder.
func (d destinations) Create(ctx context.Context, path string) (string, error) {
	nb, err := d.e.svc.InitBackup(ctx, path, true)
	if err != nil {
		return "", err
	}
	if nb.KeychainErr != nil {
		return "", fmt.Errorf("the backup is created, but this computer cannot keep its key, so backups cannot run by themselves: %w", nb.KeychainErr)
	}
	return nb.RecoveryKey, nil
}

// recoveryKeys is ui.RecoveryKeys.
type recoveryKeys struct{ e *Env }

func (k recoveryKeys) Replace(ctx context.Context) (string, error) {
	return k.e.svc.ReplaceRecoveryKey(ctx)
}

// scheduler is ui.Scheduler.
type scheduler struct{ e *Env }

func (s scheduler) Schedule(ctx context.Context) (ui.Schedule, error) {
	c := s.e.svc.Schedule()
	return ui.Schedule{EveryHours: c.EveryHours, At: c.At, OnlyWhenConnected: c.OnlyWhenConnected}, nil
}

func (s scheduler) SetSchedule(ctx context.Context, sc ui.Schedule) error {
	return s.e.svc.SetScheduleChoice(ctx, service.ScheduleChoice{EveryHours: sc.EveryHours, At: sc.At, OnlyWhenConnected: sc.OnlyWhenConnected})
}

// backupRunner is ui.BackupRunner.
type backupRunner struct{ e *Env }

func (b backupRunner) Backup(ctx context.Context, progress func(ui.Progress)) ui.BackupResult {
	b.e.backupMu.Lock()
	defer b.e.backupMu.Unlock()
	svc := b.e.svc
	dir := svc.FindDestination(ctx)
	if dir == "" {
		return ui.BackupResult{Outcome: ui.OutcomeFailed, Message: "no backup drive is chosen yet (Settings › Backup drive)."}
	}
	sum, err := svc.Backup(ctx, service.BackupRequest{Dir: dir, Events: service.BackupEvents{Progress: func(pr backup.Progress) {
		progress(ui.Progress{Account: pr.Account, Phase: string(pr.Phase), ItemsDone: pr.ItemsDone, ItemsTotal: pr.ItemsTotal,
			BytesDone: pr.BytesDone, BytesTotal: pr.BytesTotal, Skipped: pr.Skipped, Current: pr.Current, Throttled: pr.Throttled, ETA: pr.ETA})
	}}})
	res := ui.BackupResult{Items: sum.Items, Bytes: sum.Bytes, Skipped: sum.Skipped}
	if err == nil || errors.Is(err, service.ErrItemsSkipped) {
		b.e.copyOffsite(ctx, dir) // offsite.go
	}
	if err != nil {
		svc.Logger().Warn("backup ended", "err", err)
		res.Message = service.Explain(err).Error()
	}
	var sire *auth.SignInRequiredError
	switch {
	case err == nil:
		res.Outcome = ui.OutcomeDone
	case errors.Is(err, service.ErrItemsSkipped):
		res.Outcome = ui.OutcomeDoneWithSkips
	case errors.Is(err, context.Canceled), errors.Is(err, auth.ErrCancelled):
		res.Outcome = ui.OutcomeStopped
	case errors.Is(err, auth.ErrSignInRequired), errors.As(err, &sire):
		res.Outcome = ui.OutcomeSignInNeeded
	case errors.Is(err, service.ErrDriveMissing):
		res.Outcome = ui.OutcomeDriveMissing
	default:
		res.Outcome = ui.OutcomeFailed
	}
	return res
}

// status is ui.StatusSource.
type status struct{ e *Env }

func (s status) Status(ctx context.Context) (ui.Status, error) {
	st, err := s.e.svc.Status(ctx)
	out := ui.Status{LastGood: st.LastGood, LastRun: st.LastRun, LastRunFailed: st.LastRunFailed, NextRun: st.NextRun,
		Destination: st.Destination, Connected: st.Connected, Free: st.Free, Warnings: st.Warnings}
	out.Holds = holdings(ctx, s.e.svc)
	s.e.addCopies(&out) // offsite.go
	return out, err
}

// history is ui.History.
type history struct{ e *Env }

func (h history) Runs(ctx context.Context, limit int) ([]ui.RunRecord, error) {
	runs, names, err := h.e.svc.History(ctx, limit)
	if err != nil {
		return nil, err
	}
	out := make([]ui.RunRecord, 0, len(runs))
	for _, r := range runs {
		rec := ui.RunRecord{ID: r.ID, Started: r.Started, Ended: r.Ended, Status: ui.RunStatus(r.Status),
			New: r.Counts.ItemsNew, Changed: r.Counts.ItemsChanged, Deleted: r.Counts.ItemsDeleted,
			Skipped: max(r.Counts.ItemsSkipped, int64(len(r.Skipped))), Bytes: r.Counts.BytesNew + r.Counts.BytesChanged,
			Warnings: r.Warnings, Error: r.Error}
		for _, sk := range r.Skipped {
			name := names[sk.Account]
			if name == "" {
				name = sk.Account
			}
			rec.SkippedItems = append(rec.SkippedItems, ui.SkippedItem{Account: name, Item: sk.ItemRef, Reason: sk.Reason})
		}
		out = append(out, rec)
	}
	return out, nil
}

// preferences is ui.Preferences.
type preferences struct{ e *Env }

func (p preferences) Retention(ctx context.Context) (ui.Retention, error) {
	st, err := p.e.svc.Settings()
	r := service.DefaultRetention()
	if err == nil {
		r = st.Retention()
	}
	return ui.Retention(r), err
}

func (p preferences) SetRetention(ctx context.Context, r ui.Retention) error {
	return p.e.svc.SetRetention(service.Retention(r))
}

func (p preferences) Notifications() bool { return p.e.svc.Notifications() }

func (p preferences) SetNotifications(on bool) error { return p.e.svc.SetNotifications(on) }
