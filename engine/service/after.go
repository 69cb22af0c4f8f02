package service

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/notify"
	"github.com/lifeboat-backup/lifeboat/engine/offsite"
	"github.com/lifeboat-backup/lifeboat/engine/volumes"
)

// offsiteMaintainEvery is how often a scheduled run does the off-site
// copy's upkeep. Locks are extended with a slack of a third of the lock
// period, so a daily upkeep catches every lock long before it lapses.
const offsiteMaintainEvery = 24 * time.Hour

// afterScheduledBackup is what a scheduled run does once the backup on
// the drive is done: copy what is new off site and verify it, then, once
// a day, the off-site copy's upkeep (lock extension, hiding what is no
// longer needed, held while the alarm is open). Failures are told, and
// never undo the backup on the drive.
func (s *Service) afterScheduledBackup(ctx context.Context, dir string, ev BackupEvents, tell func(notify.Message)) {
	set, err := s.Settings()
	if err != nil || set.Offsite == nil {
		return
	}
	ev.note("Copying the new backup off site…")
	res, err := s.CopyOffsite(ctx, dir, "")
	if err != nil {
		ev.note("The off-site copy did not finish: %v. It is tried again after the next backup.", err)
		if !errors.Is(err, context.Canceled) {
			tell(notify.Message{Title: "The off-site copy did not finish", Urgency: notify.Normal,
				Body: "The backup on the drive is fine, but copying it off site failed: " + err.Error() + ". Lifeboat tries again after the next backup."})
		}
		return
	}
	ev.note("The off-site copy is up to date (%d new backups, %s sent, checked).", res.Snapshots, humanBytes(res.Bytes))
	rec, _ := s.OffsiteState()
	if s.now().Sub(rec.LastMaintain) < offsiteMaintainEvery {
		return
	}
	rep, err := s.MaintainOffsite(ctx)
	switch {
	case errors.Is(err, offsite.ErrPruneHeld):
		ev.note("The off-site copy's locks were extended; its old backups are all kept while the alarm is open.")
	case err != nil:
		ev.note("The off-site copy's upkeep did not finish: %v. It is tried again after the next backup.", err)
	case rep != nil && rep.Locks != nil:
		ev.note("The off-site copy's locks were extended where needed.")
	}
}

// ejectAfterScheduled ejects the backup drive when the owner asked for
// it, so a drive left plugged in is not reachable (by ransomware either)
// between backups.
func (s *Service) ejectAfterScheduled(ctx context.Context, dir string, ev BackupEvents) {
	set, err := s.Settings()
	if err != nil || dir == "" || !set.app().EjectAfterBackup {
		return
	}
	err = volumes.Eject(ctx, dir, volumes.EjectOptions{Options: s.o.Volumes})
	switch {
	case errors.Is(err, volumes.ErrEjectUnsupported):
		ev.note("This backup folder is not on a drive Lifeboat can eject (a network folder or this computer's own disk), so it stays connected.")
	case err != nil:
		ev.note("The backup drive could not be ejected: %v. Eject it yourself, or close what is using it.", err)
	default:
		ev.note("The backup drive was ejected. Unplug it, or plug it in again before the next backup.")
	}
}

// EjectAfterBackup reports whether the drive is ejected after each
// scheduled backup.
func (s *Service) EjectAfterBackup() bool {
	set, err := s.Settings()
	return err == nil && set.app().EjectAfterBackup
}

// SetEjectAfterBackup turns ejecting the drive after each scheduled
// backup on or off.
func (s *Service) SetEjectAfterBackup(on bool) error {
	return s.UpdateSettings(func(st *Settings) { st.App.EjectAfterBackup = on })
}

// humanBytes is a size for people.
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d bytes", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(n)/float64(div), "KMGTPE"[exp])
}
