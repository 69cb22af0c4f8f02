package repo

import (
	"context"
	"errors"
	"fmt"

	"github.com/lifeboat-backup/lifeboat/engine/store"
)

// PurposeBackup is the Purpose of the lock a backup run holds from start
// to end.
const PurposeBackup = "backup"

// LockBackup takes the shared lock of a backup run. Besides what Lock
// refuses, it refuses (a *LockedError naming the computer) while another
// computer's backup holds one: two office PCs pointed at one folder would
// otherwise download every mailbox twice and overwrite each other's copy
// of the catalog. A backup of this computer is not its business (the app
// has its own run lock per computer), and stale locks are ignored as Lock
// ignores them.
func (r *Repository) LockBackup(ctx context.Context) (*Lock, error) {
	return r.lockFor(ctx, false, PurposeBackup)
}

// checkOtherBackups returns a *LockedError for a live backup lock of
// another computer. Two that write at once both see each other and back
// off (lockFor retries after a random delay).
func (r *Repository) checkOtherBackups(ctx context.Context, own ID) error {
	locks, err := r.ListLocks(ctx)
	if err != nil {
		return err
	}
	for _, li := range locks {
		if li.ID == own || li.Purpose != PurposeBackup || r.sameHost(li) {
			continue
		}
		if r.IsStale(li) {
			if err := r.st.Delete(ctx, lockName(li.ID)); err != nil && !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("repo: removing stale lock: %w", err)
			}
			continue
		}
		return r.lockedError(li)
	}
	return nil
}
