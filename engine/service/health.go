package service

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/health"
	"github.com/lifeboat-backup/lifeboat/engine/notify"
	"github.com/lifeboat-backup/lifeboat/engine/repo"
)

// Health gathers the facts health.Check needs from the saved state, the
// catalog's runs and the destination drive, and returns its warnings and
// the end of the last good backup.
func (s *Service) Health(ctx context.Context, set Settings, st ScheduleState, now time.Time) ([]health.Item, time.Time) {
	in := health.Inputs{Now: now, ScheduledSince: st.Since, DestinationMissing: !st.LastMissing.IsZero()}
	if sp, ok := st.ParsedSpec(); ok {
		in.Interval = sp.Interval()
	}
	if set.Destination != "" {
		in.DestinationName = set.Destination
		if total, free, err := s.o.Volumes.SpaceAt(set.Destination); err == nil {
			in.DestinationTotal, in.DestinationFree = total, free
		}
	}
	for _, upn := range st.SignInNeeded {
		in.Accounts = append(in.Accounts, health.Account{UPN: upn, NeedsSignIn: true})
	}
	for _, d := range st.Drives {
		in.Drives = append(in.Drives, health.Drive{Name: d.Name, LastBackup: d.LastBackup})
	}
	if id, err := repo.ParseID(set.RepositoryID); err == nil {
		path := s.catalogPath(id.String())
		if _, err := os.Stat(path); err == nil {
			if cat, err := catalog.Open(ctx, path, catalog.Options{}); err == nil {
				if runs, err := cat.Runs(ctx, 100); err == nil {
					in.LastGood, in.Skipped = healthFromRuns(runs, st.LastBatchStart)
				}
				cat.Close()
			}
		}
	}
	// The drive that stopped the last backup (full, pulled out): the backup
	// recorded it (stopped.go); a later good run outdates it. Without a
	// chosen backup (the command line's --to), the last one backed up to.
	if st := s.lastStopped(set.RepositoryID); st != nil && !st.At.Before(in.LastGood) {
		in.Stopped = st
	}
	return health.Check(in), in.LastGood
}

// healthFromRuns finds the last good run's end, and the items skipped by
// the latest batch (the runs since batchStart, one per account; the
// newest run alone when unknown).
func healthFromRuns(runs []catalog.Run, batchStart time.Time) (time.Time, []health.Skip) {
	var lastGood time.Time
	for _, r := range runs {
		if (r.Status == catalog.RunCompleted || r.Status == catalog.RunCompletedWithWarnings) && r.Ended.After(lastGood) {
			lastGood = r.Ended
		}
	}
	var skips []health.Skip
	for i, r := range runs {
		if r.Status == catalog.RunRunning {
			continue
		}
		if i > 0 && (batchStart.IsZero() || r.Started.Before(batchStart)) {
			break
		}
		for _, sk := range r.Skipped {
			skips = append(skips, health.Skip{Item: sk.ItemRef, Reason: sk.Reason, Attempts: sk.Attempts})
		}
	}
	return lastGood, skips
}

// renotifyAfter is how long a health warning stays quiet once notified.
const renotifyAfter = 24 * time.Hour

// HealthNotifications picks the warnings to show as OS notifications now:
// those not shown in the last day (sign-in and the missing drive are
// notified where they happen). It records them in st.Notified and forgets
// warnings that went away, so they are shown again if they come back.
func HealthNotifications(items []health.Item, st *ScheduleState, now time.Time) []notify.Message {
	seen := map[string]time.Time{}
	var out []notify.Message
	for _, it := range items {
		if it.Kind == health.SignIn || it.Kind == health.DestinationMissing {
			continue
		}
		key := string(it.Kind) + "|" + it.Subject
		last, ok := st.Notified[key]
		if ok && now.Sub(last) < renotifyAfter {
			seen[key] = last
			continue
		}
		seen[key] = now
		urg := notify.Normal
		if it.Severity == health.Critical {
			urg = notify.Critical
		}
		out = append(out, notify.Message{Title: it.Title, Body: it.Detail + "\n" + it.Action, Urgency: urg})
	}
	st.Notified = seen
	if len(seen) == 0 {
		st.Notified = nil
	}
	return out
}

// Status answers "am I safe?" for the dashboard and the tray.
type Status struct {
	// LastGood is the end of the last backup that finished; zero if none.
	LastGood time.Time
	// LastRun is the end of the last backup, whatever its outcome.
	LastRun       time.Time
	LastRunFailed bool
	NextRun       time.Time
	Destination   string
	// Connected: the backup folder is there; Free is its drive's free
	// space.
	Connected bool
	Free      uint64
	// Warnings are sentences for the owner, most important first.
	Warnings []string
}

// Status reads the catalog's runs, the schedule and the drive.
func (s *Service) Status(ctx context.Context) (Status, error) {
	set, err := s.Settings()
	if err != nil {
		return Status{}, err
	}
	now := s.now()
	out := Status{Destination: set.Destination}
	if set.Destination != "" {
		if _, err := os.Stat(filepath.Join(set.Destination, "config")); err == nil {
			out.Connected = true
			if d, err := s.InspectDrive(set.Destination); err == nil {
				out.Free = d.Free
			}
		}
	}
	if company, _ := s.CompanyMode(); company { // organization mode (org.go): the certificate's health
		if err := s.CompanyCredentialProblem(); err != nil {
			out.Warnings = append(out.Warnings, capitalize(err.Error()))
		}
	} else if people, err := s.Accounts(ctx, true); err == nil && len(people) == 0 {
		out.Warnings = append(out.Warnings, "Nobody is signed in, so backups cannot run. Sign in under Settings › Accounts.")
	}
	c, err := s.chosenCatalog(ctx)
	if err != nil {
		return out, err
	}
	if c != nil {
		defer c.Close()
		runs, err := c.Runs(ctx, 50)
		if err != nil {
			return out, fmt.Errorf("reading the backup history: %w", err)
		}
		// Items skipped once are tried again next time; the health check
		// below warns when they keep being skipped.
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
	if set.Destination != "" {
		out.NextRun = NextRun(s.Schedule(), out.LastRun, now)
	}
	// The scheduler's own checks: overdue backups, a drive filling up or
	// missing at backup time, accounts Microsoft refused.
	st, _ := LoadScheduleState(s.o.ConfigDir)
	items, _ := s.Health(ctx, set, st, now)
	for _, it := range items {
		out.Warnings = append(out.Warnings, statusSentence(it))
	}
	return out, nil
}

// statusSentence is a warning as Status shows it: the title and what to
// do, and for a backup its drive stopped the facts too (how full, since
// when), which are the point of that warning.
func statusSentence(it health.Item) string {
	if it.Kind == health.DestinationFull || it.Kind == health.DestinationLost {
		return strings.TrimSpace(it.Detail + " " + it.Action)
	}
	return strings.TrimSpace(it.Title + " " + it.Action)
}

// History is the newest backup runs, with the e-mail address of each
// account the runs name (by home ID).
func (s *Service) History(ctx context.Context, limit int) ([]catalog.Run, map[string]string, error) {
	c, err := s.chosenCatalog(ctx)
	if err != nil || c == nil {
		return nil, nil, err
	}
	defer c.Close()
	runs, err := c.Runs(ctx, limit)
	if err != nil {
		return nil, nil, fmt.Errorf("reading the backup history: %w", err)
	}
	names := map[string]string{}
	if accs, err := c.Accounts(ctx); err == nil {
		for _, a := range accs {
			names[a.HomeID] = a.UPN
		}
	}
	return runs, names, nil
}
