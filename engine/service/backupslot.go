package service

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/health"
	"github.com/lifeboat-backup/lifeboat/engine/repo"
)

// acquireSharedBackup takes the backup folder's backup lock, which one
// computer at a time holds (repo.LockBackup): when another computer is
// backing up into the same folder, it waits up to req.Wait, checking
// every few seconds; a scheduled run then leaves the work to it
// (ErrBackupSkipped), others refuse with a sentence naming that computer
// and since when.
func (s *Service) acquireSharedBackup(ctx context.Context, r *repo.Repository, req BackupRequest) (*repo.Lock, error) {
	l, err := r.LockBackup(ctx)
	if err == nil || !errors.Is(err, repo.ErrLocked) {
		return l, err
	}
	if req.Wait > 0 {
		wait := health.Ago(req.Wait)
		if req.Wait < time.Minute {
			wait = req.Wait.Round(time.Second).String()
		}
		req.Events.note("%s Waiting up to %s for it to finish…", lockSentence(err), wait)
		poll := min(5*time.Second, max(req.Wait/20, 100*time.Millisecond))
		deadline := time.Now().Add(req.Wait)
		for time.Now().Before(deadline) {
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(min(poll, time.Until(deadline))):
			}
			l, err = r.LockBackup(ctx)
			if err == nil || !errors.Is(err, repo.ErrLocked) {
				return l, err
			}
		}
	}
	if req.Scheduled {
		req.Events.note("%s This scheduled backup is skipped.", lockSentence(err))
		return nil, ErrBackupSkipped
	}
	return nil, explained("this backup was not started: "+strings.TrimPrefix(err.Error(), "repo: "), err)
}

// lockSentence is a *repo.LockedError's sentence without the package's
// prefix.
func lockSentence(err error) string {
	var le *repo.LockedError
	if errors.As(err, &le) {
		return capitalize(strings.TrimPrefix(le.Error(), "repo: "))
	}
	return fmt.Sprint(err)
}
