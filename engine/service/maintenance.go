package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/backup"
	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/repo"
)

// VerifyReport is what a check of a backup found.
type VerifyReport struct {
	*repo.CheckReport
	Took time.Duration
	// Errors counts the problems that are damage (not notes).
	Errors int
	// Affected names what the damage touches, for people.
	Affected []string
}

// Verify checks the backup's structure and, with opts.ReadData, reads
// back and authenticates its data. It holds a shared lock, so a prune
// cannot delete data while it is checked.
func (s *Service) Verify(ctx context.Context, r *repo.Repository, opts repo.CheckOptions) (VerifyReport, error) {
	opts.Refs = backupRefs(false)
	lock, err := r.Lock(ctx, false)
	if err != nil {
		return VerifyReport{}, fmt.Errorf("cannot verify now: %w", err)
	}
	defer lock.Unlock(context.WithoutCancel(ctx))
	start := time.Now()
	rep, err := r.Check(ctx, opts)
	if err != nil {
		return VerifyReport{}, fmt.Errorf("verify could not run: %w", err)
	}
	out := VerifyReport{CheckReport: rep, Took: time.Since(start)}
	for _, p := range rep.Problems {
		if p.Severity == repo.Error {
			out.Errors++
		}
	}
	if out.Errors > 0 {
		out.Affected = affectedFiles(ctx, r, rep.Problems)
	}
	return out, nil
}

// affectedFiles names the snapshot files whose content includes a damaged
// blob, for the trees this build can read.
func affectedFiles(ctx context.Context, r *repo.Repository, problems []repo.Problem) []string {
	damaged := map[repo.ID]bool{}
	for _, p := range problems {
		if p.Severity == repo.Error && !p.Blob.IsZero() {
			damaged[p.Blob] = true
		}
	}
	if len(damaged) == 0 {
		return nil
	}
	snaps, err := r.ListSnapshots(ctx)
	if err != nil {
		return nil
	}
	var out []string
	for _, sn := range snaps {
		label := fmt.Sprintf("snapshot %s (%s %s)", sn.ID.Short(), sn.Kind, sn.Time.Local().Format(time.DateTime))
		if damaged[sn.Root] {
			out = append(out, label+": its list of files")
			continue
		}
		if sn.Root.IsZero() {
			continue
		}
		b, err := r.LoadBlob(ctx, sn.Root)
		if err != nil {
			continue
		}
		var t ingestTree
		if json.Unmarshal(b, &t) != nil || t.Format != ingestTreeFormat {
			continue
		}
		for _, f := range t.Files {
			if slices.ContainsFunc(f.Content.Chunks, func(id repo.ID) bool { return damaged[id] }) {
				out = append(out, label+": "+f.Path)
			}
		}
	}
	return out
}

// PruneRequest says what retention to apply.
type PruneRequest struct {
	Policy repo.Policy
	DryRun bool
	// Grace: data written less than this long ago is never deleted (a
	// backup may be writing it); 0 for the repository's default, < 0 none.
	Grace time.Duration
}

// PruneResult is what a prune kept, forgot and freed.
type PruneResult struct {
	// Policy is the policy applied (the deletion rule is dropped when no
	// snapshot holds items it could protect).
	Policy repo.Policy
	Keep   []*repo.Snapshot
	// Reasons says why each kept snapshot is kept, by ID.
	Reasons map[repo.ID]string
	Forget  []*repo.Snapshot
	Report  *repo.PruneReport
}

// Prune applies retention to each account's snapshots, then deletes the
// data no remaining snapshot needs (mark and sweep; interruptible; an
// exclusive lock). Snapshots holding the last version of items deleted in
// Microsoft 365 stay for Policy.KeepDeletedFor, which needs the catalog:
// it is restored from the backup's copy when this computer lacks it.
func (s *Service) Prune(ctx context.Context, r *repo.Repository, req PruneRequest) (PruneResult, error) {
	policy := req.Policy
	res := PruneResult{}
	if err := s.alarmHeld(); err != nil && !req.DryRun {
		return res, explained("old backups are not thinned out while the wipe alarm is open (see `lifeboat alarm show`; `lifeboat alarm ok` once you have looked)", err)
	}
	if err := s.refuseUnsafeShare(ctx, r); err != nil { // sharecheck.go
		return res, err
	}
	snaps, err := r.ListSnapshots(ctx)
	if err != nil {
		return res, err
	}
	if !holdsItems(snaps) {
		policy.KeepDeletedFor = 0 // nothing a deletion rule could protect
	}
	var cat *catalog.Catalog
	if policy.KeepDeletedFor > 0 {
		if cat, err = s.catalogForRetention(ctx, r); err != nil {
			return res, err
		}
		defer cat.Close()
	}
	if policy, err = s.pinDeparted(ctx, r, cat, policy); err != nil { // departed.go
		return res, err
	}
	keep, forget, reasons, err := backup.RetentionPlan(ctx, cat, snaps, s.now(), policy)
	if err != nil {
		return res, err
	}
	byID := map[repo.ID]*repo.Snapshot{}
	for _, sn := range snaps {
		byID[sn.ID] = sn
	}
	res.Policy, res.Reasons = policy, reasons
	for _, id := range keep {
		res.Keep = append(res.Keep, byID[id])
	}
	for _, id := range forget {
		res.Forget = append(res.Forget, byID[id])
	}
	grace := req.Grace
	if grace <= 0 {
		grace = -1
	}
	if req.Grace == 0 {
		grace = repo.DefaultPruneGrace
	}
	rep, err := r.Prune(ctx, repo.PruneOptions{Forget: forget, Refs: backupRefs(true), DryRun: req.DryRun, Grace: grace})
	if err != nil {
		if errors.Is(err, repo.ErrLocked) {
			return res, fmt.Errorf("%w; prune needs the backup to itself: try again when the other run is finished", err)
		}
		return res, err
	}
	res.Report = rep
	return res, nil
}

// holdsItems reports whether any snapshot holds mail or OneDrive items.
func holdsItems(snaps []*repo.Snapshot) bool {
	for _, sn := range snaps {
		if sn.Kind == backup.KindMail || sn.Kind == backup.KindOneDrive {
			return true
		}
	}
	return false
}

// catalogForRetention opens this computer's catalog of r, restoring it
// from the backup's copy when it is missing: prune must know which
// snapshots hold deleted items before it may forget any.
func (s *Service) catalogForRetention(ctx context.Context, r *repo.Repository) (*catalog.Catalog, error) {
	c, err := s.OpenCatalog(ctx, r)
	if errors.Is(err, backup.ErrNoCatalogCopy) {
		return nil, errors.New("prune needs the catalog to know which snapshots hold deleted items, and this backup has no copy of it yet; " +
			"run a backup first, or pass --keep-deleted 0")
	}
	if err != nil {
		return nil, fmt.Errorf("opening the catalog (run `lifeboat repair` if it is damaged): %w", err)
	}
	return c, nil
}

// RepairResult is what a repair did.
type RepairResult struct {
	Index   *repo.RebuildReport
	Catalog CatalogRepair
	// Salvage is set by a repair with RepairOptions.Salvage (salvage.go).
	Salvage *SalvageResult
	Took    time.Duration
}

// Repair rebuilds the backup's index from its data files alone (nothing
// is deleted), then checks this computer's catalog of it and restores the
// backup's newest copy when it is missing or damaged.
func (s *Service) Repair(ctx context.Context, r *repo.Repository) (RepairResult, error) {
	return s.RepairWith(ctx, r, RepairOptions{})
}

// Unlock removes the locks of runs that are no longer running (their
// process is gone, or they have not been refreshed for 30 minutes); with
// all, every lock. It returns how many were removed and how many are left.
func (s *Service) Unlock(ctx context.Context, r *repo.Repository, all bool) (removed, left int, err error) {
	if all {
		removed, err = r.RemoveAllLocks(ctx)
		return removed, 0, err
	}
	if removed, err = r.RemoveStaleLocks(ctx); err != nil {
		return removed, 0, err
	}
	locks, err := r.ListLocks(ctx)
	return removed, len(locks), err
}
