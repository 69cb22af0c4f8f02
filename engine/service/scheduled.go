package service

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/auth"
	"github.com/lifeboat-backup/lifeboat/engine/notify"
	"github.com/lifeboat-backup/lifeboat/engine/report"
	"github.com/lifeboat-backup/lifeboat/engine/runlock"
	"github.com/lifeboat-backup/lifeboat/engine/volumes"
)

const (
	// scheduledLockWait is how long a scheduled run waits for another
	// backup of the same folder before skipping.
	scheduledLockWait = 15 * time.Minute
	// pruneEvery is how often retention runs after a scheduled backup.
	pruneEvery = 7 * 24 * time.Hour
)

// ScheduledRequest is the scheduled run's choices.
type ScheduledRequest struct {
	// Dir overrides the chosen backup folder.
	Dir string
	// OnlyWhenConnected ends quietly when the drive is not there, instead
	// of asking for it.
	OnlyWhenConnected bool
	// Wait for a running backup of the same folder (default 15 minutes).
	Wait   time.Duration
	Events BackupEvents
}

// ScheduledBackup is what the OS scheduler runs: find the backup drive
// (by ID if it moved, or another drive of a rotation), back up with the
// run lock, prune when due, remember the outcome for the health warnings,
// and notify what needs a person. A run that finds another backup of the
// folder running leaves it the work and returns nil.
func (s *Service) ScheduledBackup(ctx context.Context, req ScheduledRequest) error {
	cfgDir := s.o.ConfigDir
	set, err := s.Settings()
	if err != nil {
		return err
	}
	st, err := LoadScheduleState(cfgDir)
	if err != nil {
		s.o.Logger.Warn("schedule record unreadable; starting a new one", "err", err)
		st = ScheduleState{}
	}
	tell := func(m notify.Message) {
		if err := s.o.Notifier.Notify(ctx, m); err != nil {
			s.o.Logger.Warn("could not show a notification", "err", err)
		}
	}
	ev := req.Events
	batchStart := s.now()

	dir, id := firstNonEmpty(req.Dir, set.Destination), set.RepositoryID
	curID := "" // the ID of the backup at dir, when known
	if dir == "" && id == "" {
		return badInput(errors.New("no backup folder is set up: run `lifeboat schedule set --to DIR` or pass --to"))
	}
	if id != "" && (dir == "" || !volumes.IsRepository(dir, id)) {
		found, ferr := s.findBackup(ctx, st, id)
		switch {
		case ferr == nil:
			if found.path != dir {
				ev.note("Found the backup drive at %s.", found.path)
			}
			dir, curID = found.path, found.id
			if found.id == id {
				if err := s.UpdateSettings(func(set *Settings) { set.Destination = dir }); err != nil {
					return err
				}
			}
		case !errors.Is(ferr, volumes.ErrNotFound):
			return ferr
		}
	} else if id != "" {
		curID = id
	}
	if _, err := os.Stat(dir); dir == "" || errors.Is(err, fs.ErrNotExist) {
		st.LastMissing = s.now().UTC()
		if err := SaveScheduleState(cfgDir, st); err != nil {
			s.o.Logger.Warn("could not save the schedule record", "err", err)
		}
		if req.OnlyWhenConnected {
			ev.note("The backup drive is not connected; this scheduled backup is skipped.")
		} else {
			tell(notify.Message{Title: "Connect your backup drive", Urgency: notify.Critical,
				Body: "Lifeboat could not find the backup drive for the scheduled backup. Plug it in; the backup runs at the next scheduled time."})
			s.mailReport(ctx, st, ev, report.Run{Destination: firstNonEmpty(dir, "the backup drive"), Started: batchStart, Ended: s.now(),
				Problem: "The backup drive was not connected. Plug it in; the backup runs at the next scheduled time."})
		}
		return driveNotFound(firstNonEmpty(dir, "the backup drive"))
	}

	ejectDir := "" // set when the backup worked: the drive is ejected last
	wait := req.Wait
	if wait == 0 {
		wait = scheduledLockWait
	}
	sum, berr := s.Backup(ctx, BackupRequest{Dir: dir, Wait: wait, Scheduled: true, Events: ev})
	if errors.Is(berr, ErrBackupSkipped) {
		return nil
	}
	st.LastBatchStart = batchStart.UTC()
	st.LastMissing = time.Time{}
	var sire *auth.SignInRequiredError
	switch {
	case errors.As(berr, &sire):
		acct := firstNonEmpty(sire.Account, "your account")
		if !slices.Contains(st.SignInNeeded, acct) {
			st.SignInNeeded = append(st.SignInNeeded, acct)
		}
		tell(notify.Message{Title: "Sign in again to keep backing up", Urgency: notify.Critical,
			Body: "Microsoft no longer accepts Lifeboat's sign-in for " + acct + ". Open Lifeboat and sign in."})
	case berr == nil || errors.Is(berr, ErrItemsSkipped):
		st.SignInNeeded = nil
		rememberDrive(&st, curID, dir, s.now().UTC())
		if s.now().Sub(st.LastPrune) > pruneEvery {
			if err := s.scheduledPrune(ctx, dir, curID, wait, ev); err != nil {
				ev.note("Retention did not run: %v. It is tried again after the next backup.", err)
			} else {
				st.LastPrune = s.now().UTC()
			}
		}
		s.afterScheduledBackup(ctx, dir, ev, tell) // off-site copy and locks (after.go)
		ejectDir = dir
	case !errors.Is(berr, context.Canceled):
		tell(notify.Message{Title: "The scheduled backup failed", Body: berr.Error(), Urgency: notify.Critical})
	}
	if !errors.Is(berr, context.Canceled) {
		set, _ = s.Settings()
		items, _ := s.Health(ctx, set, st, s.now())
		for _, m := range HealthNotifications(items, &st, s.now()) {
			tell(m)
		}
		run := report.Run{Destination: dir, Started: batchStart, Ended: s.now(), Accounts: reportAccounts(sum)}
		if berr != nil && len(sum.Accounts) == 0 {
			run.Problem = berr.Error()
		}
		s.mailReport(ctx, st, ev, run)
	}
	if err := SaveScheduleState(cfgDir, st); err != nil {
		s.o.Logger.Warn("could not save the schedule record", "err", err)
	}
	s.ejectAfterScheduled(ctx, ejectDir, ev)
	return berr
}

// reportAccounts is each account's part of the e-mail report.
func reportAccounts(sum BackupSummary) []report.Account {
	var out []report.Account
	for _, ar := range sum.Accounts {
		res := ar.Result
		a := report.Account{UPN: ar.Account, New: res.Counts.ItemsNew, Changed: res.Counts.ItemsChanged, Deleted: res.Counts.ItemsDeleted,
			Skipped: res.Counts.ItemsSkipped}
		for _, sk := range res.Skipped {
			a.SkippedItems = append(a.SkippedItems, sk.ItemRef+": "+sk.Reason)
		}
		if ar.Err != nil {
			a.Failed, a.Error = true, ar.Err.Error()
		}
		out = append(out, a)
	}
	return out
}

// mailReport sends the e-mail report when it is on and due, from the
// first signed-in account to itself. A report that cannot be sent is
// said, never a reason to fail the backup.
func (s *Service) mailReport(ctx context.Context, st ScheduleState, ev BackupEvents, run report.Run) {
	if !report.When(st.EmailReport).Due(run) {
		return
	}
	run.Computer, _ = os.Hostname()
	if err := s.sendReport(ctx, run); err != nil {
		ev.note("The e-mail report was not sent: %v", err)
		return
	}
	ev.note("The e-mail report was sent.")
}

func (s *Service) sendReport(ctx context.Context, run report.Run) error {
	m, err := s.SignInManager(append(auth.Scopes(), "Mail.Send"))
	if err != nil {
		return err
	}
	accounts, err := m.Accounts(ctx)
	if err != nil {
		return Explain(err)
	}
	if len(accounts) == 0 {
		return errors.New("no account is signed in")
	}
	host, err := s.graphHost()
	if err != nil {
		return err
	}
	a := accounts[0]
	ts, err := m.TokenSource(a.HomeAccountID, host)
	if err != nil {
		return err
	}
	graphURL, hc := s.graphEndpoint()
	subject, body := report.Compose(run)
	err = report.Send(ctx, report.Options{GraphURL: graphURL, HTTPClient: hc, Auth: ts}, a.UPN, subject, body)
	if errors.Is(err, auth.ErrSignInRequired) {
		return errors.New("Microsoft has not allowed Lifeboat to send mail as " + a.UPN + " yet; run `lifeboat login` once more to allow it")
	}
	return err
}

type foundBackup struct{ path, id string }

// findBackup looks for the backup by ID on every connected drive, then for
// any other drive of a rotation.
func (s *Service) findBackup(ctx context.Context, st ScheduleState, id string) (foundBackup, error) {
	fo := volumes.FindOptions{Roots: s.o.FindRoots}
	p, err := volumes.FindRepository(ctx, id, fo)
	if err == nil {
		return foundBackup{p, id}, nil
	}
	if !errors.Is(err, volumes.ErrNotFound) {
		return foundBackup{}, err
	}
	for _, d := range st.Drives {
		if d.RepositoryID == id {
			continue
		}
		if d.Path != "" && volumes.IsRepository(d.Path, d.RepositoryID) {
			return foundBackup{d.Path, d.RepositoryID}, nil
		}
		if p, err := volumes.FindRepository(ctx, d.RepositoryID, fo); err == nil {
			return foundBackup{p, d.RepositoryID}, nil
		}
	}
	return foundBackup{}, volumes.ErrNotFound
}

// rememberDrive records that the backup id at dir just received a
// backup: with two or more, the dashboard shows drive rotation.
func rememberDrive(st *ScheduleState, id, dir string, now time.Time) {
	if id == "" {
		return
	}
	for i := range st.Drives {
		if st.Drives[i].RepositoryID == id {
			st.Drives[i].Path, st.Drives[i].LastBackup = dir, now
			return
		}
	}
	st.Drives = append(st.Drives, RotatedDrive{RepositoryID: id, Name: dir, Path: dir, LastBackup: now})
}

// scheduledPrune applies the owner's retention (Settings › Old versions)
// through the repository's safe prune. It holds the run lock too, so a
// backup starting meanwhile waits rather than failing on the repository's
// exclusive lock.
func (s *Service) scheduledPrune(ctx context.Context, dir, id string, wait time.Duration, ev BackupEvents) error {
	if id != "" {
		l, err := runlock.Acquire(ctx, s.runLockPath(id), wait, "prune")
		if err != nil {
			return err
		}
		defer l.Release()
	}
	ev.note("Applying retention (weekly)…")
	set, err := s.Settings()
	if err != nil {
		return err
	}
	r, err := s.OpenBackup(ctx, dir, "")
	if err != nil {
		return err
	}
	defer r.Close()
	res, err := s.Prune(ctx, r, PruneRequest{Policy: set.Retention().Policy()})
	if err != nil {
		return err
	}
	if n := len(res.Report.Problems); n > 0 {
		return fmt.Errorf("prune finished but found %d damaged data files; run `lifeboat verify --read-data`", n)
	}
	ev.note("Retention kept %d snapshots and forgot %d.", len(res.Keep), len(res.Forget))
	return nil
}
