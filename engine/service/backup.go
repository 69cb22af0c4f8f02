package service

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/alarm"
	"github.com/lifeboat-backup/lifeboat/engine/auth"
	"github.com/lifeboat-backup/lifeboat/engine/backup"
	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/graph"
	"github.com/lifeboat-backup/lifeboat/engine/health"
	"github.com/lifeboat-backup/lifeboat/engine/repo"
	"github.com/lifeboat-backup/lifeboat/engine/runlock"
)

// Backup outcomes that are not plain failures.
var (
	// ErrItemsSkipped: the backup finished, but some items were skipped
	// (each with its reason in the account's result); they are tried
	// again next time.
	ErrItemsSkipped = errors.New("the backup finished, but some items were skipped; they are tried again next time")
	// ErrBackupSkipped: a scheduled backup found another backup of the
	// same folder still running after waiting, and left it the work.
	ErrBackupSkipped = errors.New("skipped: another backup of this folder is running")
)

// personalTenant is the tenant of personal Microsoft accounts.
const personalTenant = "9188040d-6c67-4c5b-b112-36a304b66dad"

// BackupEvents are how a backup reports; every field may be nil. They
// are called from the backup's goroutines.
type BackupEvents struct {
	Progress func(backup.Progress)
	// Result is each account's outcome, as it finishes.
	Result func(AccountResult)
	// Note is a sentence for the person (waiting for another backup, the
	// drive found at a new place, retention running).
	Note func(string)
}

func (e BackupEvents) note(format string, args ...any) {
	if e.Note != nil {
		e.Note(fmt.Sprintf(format, args...))
	}
}

// AccountResult is one account's backup.
type AccountResult struct {
	Account string // e-mail address
	Result  backup.Result
	Err     error
}

// BackupRequest says what to back up where.
type BackupRequest struct {
	// Dir is the backup folder; RecoveryKey opens it on a computer whose
	// keychain holds no key for it.
	Dir, RecoveryKey string
	// Account, when set, backs up only this signed-in account (e-mail
	// address or account ID).
	Account string
	Only    backup.Scope
	// Wait is how long to wait when another backup of this folder is
	// running (0: refuse at once).
	Wait time.Duration
	// Scheduled: after waiting, leave the work to the running backup
	// (ErrBackupSkipped) rather than fail.
	Scheduled bool
	Events    BackupEvents
}

// BackupSummary adds up a backup of several accounts.
type BackupSummary struct {
	Accounts []AccountResult
	// Items counts new, changed and deleted items; Bytes the new data.
	Items, Bytes, Skipped int64
}

func (sum *BackupSummary) add(ar AccountResult) {
	sum.Accounts = append(sum.Accounts, ar)
	c := ar.Result.Counts
	sum.Items += c.ItemsNew + c.ItemsChanged + c.ItemsDeleted
	sum.Bytes += c.BytesNew + c.BytesChanged
	sum.Skipped += int64(len(ar.Result.Skipped))
}

// Backup backs up every signed-in account (or req.Account) into the
// backup folder. The error matches ErrItemsSkipped when items were
// skipped, auth.ErrSignInRequired when a sign-in is needed,
// ErrDriveMissing when the folder is not there, runlock.ErrBusy when
// another backup of it runs, and a *NeedRecoveryKeyError when this
// computer cannot open it.
func (s *Service) Backup(ctx context.Context, req BackupRequest) (BackupSummary, error) {
	var sum BackupSummary
	dir := req.Dir
	if dir == "" {
		return sum, badInput(errors.New("which backup? name the backup folder"))
	}
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return sum, driveNotFound(dir)
	}
	if company, err := s.CompanyMode(); err != nil || company && req.Account == "" {
		if err != nil {
			return sum, err
		}
		return s.CompanyBackup(ctx, req) // organization mode: everyone (org.go)
	}
	m, err := s.SignInManager(nil)
	if err != nil {
		return sum, err
	}
	accounts, err := m.Accounts(ctx)
	if err != nil {
		return sum, Explain(err)
	}
	if req.Account != "" {
		a, err := m.Account(ctx, req.Account)
		if err != nil {
			return sum, Explain(err)
		}
		accounts = []auth.Account{a}
	}
	if len(accounts) == 0 {
		return sum, &auth.SignInRequiredError{Reason: "no account is signed in; run `lifeboat login`"}
	}
	host, err := s.graphHost()
	if err != nil {
		return sum, err
	}
	r, release, err := s.openForBackup(ctx, req)
	if err != nil {
		return sum, err
	}
	defer release()
	cat, err := s.openCatalogForWriting(ctx, r)
	if err != nil {
		return sum, err
	}
	defer cat.Close()

	graphURL, hc := s.graphEndpoint()
	pacer := s.sharedPacer()
	warnings := 0
	col := alarm.NewCollector() // what the wipe alarm looks at (alarm.go)
	for _, a := range accounts {
		ts, err := m.TokenSource(a.HomeAccountID, host)
		if err != nil {
			return sum, err
		}
		mon := backup.NewMonitor()
		gc, err := graph.New(graph.Options{GraphURL: graphURL, HTTPClient: hc, Auth: ts, Account: a.UPN, Pacer: pacer,
			Logger: s.o.Logger, OnEvent: mon.Observe})
		if err != nil {
			return sum, err
		}
		kind := catalog.AccountWork
		if a.TenantID == personalTenant {
			kind = catalog.AccountPersonal
		}
		res, err := backup.Run(ctx, backup.Options{
			Graph: gc, Repo: r, Catalog: cat, User: "me", Only: req.Only, Monitor: mon, Logger: s.o.Logger,
			Account:        catalog.Account{HomeID: a.HomeAccountID, UPN: a.UPN, DisplayName: a.Name, Kind: kind},
			OnProgress:     req.Events.Progress,
			NoCatalogCopy:  true,
			CommitInterval: s.o.Checkpoint,
			OnFileContent:  col.Observe,
		})
		if err != nil && errors.Is(err, graph.ErrAuth) && !errors.Is(err, auth.ErrSignInRequired) {
			err = &auth.SignInRequiredError{Account: a.UPN, Reason: "Microsoft refused access", Err: err}
		}
		ar := AccountResult{Account: a.UPN, Result: res, Err: err}
		sum.add(ar)
		s.recordStopped(r, res)
		if req.Events.Result != nil {
			req.Events.Result(ar)
		}
		if err != nil {
			return sum, fmt.Errorf("backup of %s: %w", a.UPN, err)
		}
		s.judgeRun(ctx, r, a, res, col, req.Events)
		if res.Status == catalog.RunCompletedWithWarnings {
			warnings++
		}
	}
	if _, err := backup.StoreCatalogCopy(ctx, r, cat); err != nil {
		err = backup.DestinationError(err, r, 0)
		s.recordStopped(r, backup.Result{Ended: s.now(), DriveFull: asDriveFull(err), DriveMissing: errors.Is(err, backup.ErrDriveMissing)})
		return sum, err
	}
	if warnings > 0 {
		return sum, ErrItemsSkipped
	}
	return sum, nil
}

// openForBackup opens the backup folder for a run: this computer's turn
// at it (acquireBackupSlot), the network-share check, and the backup lock
// other computers see (acquireSharedBackup). release gives all of it back.
func (s *Service) openForBackup(ctx context.Context, req BackupRequest) (r *repo.Repository, release func(), err error) {
	r, err = s.OpenBackup(ctx, req.Dir, req.RecoveryKey)
	if err != nil {
		if _, serr := os.Stat(req.Dir); errors.Is(serr, fs.ErrNotExist) {
			return nil, nil, driveNotFound(req.Dir)
		}
		return nil, nil, err
	}
	slot, err := s.acquireBackupSlot(ctx, r, req)
	if err != nil {
		r.Close()
		return nil, nil, err
	}
	fail := func(err error) (*repo.Repository, func(), error) {
		slot.Release()
		r.Close()
		return nil, nil, err
	}
	warns, err := s.ShareWarnings(ctx, r)
	if err != nil {
		return fail(err)
	}
	for _, w := range warns {
		req.Events.note("%s", w)
	}
	shared, err := s.acquireSharedBackup(ctx, r, req)
	if err != nil {
		return fail(err)
	}
	return r, func() {
		shared.Unlock(context.WithoutCancel(ctx))
		slot.Release()
		r.Close()
	}, nil
}

// acquireBackupSlot holds this computer's run lock for the repository,
// so two backups of one folder never run at once: it waits up to
// req.Wait; a scheduled run then leaves the work to the running one
// (ErrBackupSkipped), others report it.
func (s *Service) acquireBackupSlot(ctx context.Context, r *repo.Repository, req BackupRequest) (*runlock.Lock, error) {
	path := s.runLockPath(r.Config().ID.String())
	l, err := runlock.Acquire(ctx, path, 0, "backup")
	if err == nil || !errors.Is(err, runlock.ErrBusy) {
		return l, err
	}
	if req.Wait > 0 {
		wait := health.Ago(req.Wait)
		if req.Wait < time.Minute {
			wait = req.Wait.Round(time.Second).String()
		}
		req.Events.note("%s; waiting up to %s for it to finish…", capitalize(err.Error()), wait)
		l, err = runlock.Acquire(ctx, path, req.Wait, "backup")
		if err == nil || !errors.Is(err, runlock.ErrBusy) {
			return l, err
		}
	}
	if req.Scheduled {
		req.Events.note("%s; this scheduled backup is skipped (the running one is backing up the same data).", capitalize(err.Error()))
		return nil, ErrBackupSkipped
	}
	return nil, fmt.Errorf("%w; this backup was not started: try again when it has finished", err)
}

// runLockPath is this computer's run lock for the backup with ID id.
func (s *Service) runLockPath(id string) string {
	return filepath.Join(s.o.ConfigDir, "locks", id+".lock")
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
