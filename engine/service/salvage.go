package service

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/backup"
	"github.com/lifeboat-backup/lifeboat/engine/repo"
)

// SalvageResult is what "repair --salvage" did to a damaged backup.
type SalvageResult struct {
	*repo.SalvageReport
	// Damage counts the problems the salvage's own check found.
	Damage int
	// Lost names, for people, each email, file, list or snapshot that can
	// no longer be restored because data it needs could not be read.
	Lost []string
}

// salvage reads every byte of the backup, rebuilds the index without what
// could not be read, and names what that loses. The caller holds an
// exclusive lock.
func (s *Service) salvage(ctx context.Context, r *repo.Repository) (*SalvageResult, error) {
	sv, err := r.Salvage(ctx)
	if err != nil {
		return nil, err
	}
	out := &SalvageResult{SalvageReport: sv}
	var unreadable []repo.ID
	for _, p := range sv.Before.Problems {
		if p.Severity != repo.Error {
			continue
		}
		out.Damage++
		if !p.Snapshot.IsZero() && p.Blob.IsZero() && !slices.Contains(unreadable, p.Snapshot) {
			unreadable = append(unreadable, p.Snapshot)
		}
	}
	lost := map[repo.ID]bool{}
	for _, id := range sv.Lost {
		lost[id] = true
	}
	if len(lost) == 0 && len(unreadable) == 0 {
		return out, nil
	}
	seen := map[string]bool{}
	add := func(s string) {
		if !seen[s] {
			seen[s] = true
			out.Lost = append(out.Lost, s)
		}
	}
	aff, err := backup.AffectedItems(ctx, r, lost, unreadable)
	if err != nil {
		s.o.Logger.Warn("naming what the salvage lost", "err", err)
	}
	for _, a := range aff {
		add(a.String())
	}
	// The catalog names versions whose own lists were lost too.
	if c, err := s.OpenCatalog(ctx, r); err == nil {
		inCat, err := backup.AffectedInCatalog(ctx, c, lost)
		c.Close()
		if err == nil {
			for _, a := range inCat {
				add(a.String())
			}
		}
	}
	for _, f := range ingestedLost(ctx, r, lost) {
		add(f)
	}
	return out, nil
}

// ingestedLost names the files of "bench ingest" snapshots with a lost
// chunk (backup.AffectedItems knows the backup's own trees only).
func ingestedLost(ctx context.Context, r *repo.Repository, lost map[repo.ID]bool) []string {
	snaps, err := r.ListSnapshots(ctx)
	if err != nil {
		return nil
	}
	var out []string
	for _, sn := range snaps {
		if sn.Root.IsZero() || lost[sn.Root] {
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
			if slices.ContainsFunc(f.Content.Chunks, func(id repo.ID) bool { return lost[id] }) {
				out = append(out, fmt.Sprintf("file %s (snapshot %s of %s)", f.Path, sn.ID.Short(), sn.Time.Local().Format("2 Jan 2006 15:04")))
			}
		}
	}
	return out
}

// RepairOptions say how far a repair goes.
type RepairOptions struct {
	// Salvage reads back every byte and drops from the index what cannot
	// be read, naming what that loses; without it the index is rebuilt
	// from the data files' headers and nothing is dropped.
	Salvage bool
}

// RepairWith is Repair with options.
func (s *Service) RepairWith(ctx context.Context, r *repo.Repository, o RepairOptions) (RepairResult, error) {
	var res RepairResult
	if err := s.refuseUnsafeShare(ctx, r); err != nil {
		return res, err
	}
	lock, err := r.Lock(ctx, true)
	if err != nil {
		return res, fmt.Errorf("repair needs the backup to itself: %w", err)
	}
	defer lock.Unlock(context.WithoutCancel(ctx))
	start := time.Now()
	if o.Salvage {
		if res.Salvage, err = s.salvage(ctx, r); err != nil {
			return res, fmt.Errorf("salvaging the backup: %w", err)
		}
		res.Index = res.Salvage.Rebuild
		res.Took = time.Since(start)
	} else if res.Index, err = r.RebuildIndex(ctx); err != nil {
		return res, fmt.Errorf("rebuilding the index: %w", err)
	}
	if res.Catalog, err = s.RepairCatalog(ctx, r); err != nil {
		return res, fmt.Errorf("repairing the catalog: %w", err)
	}
	return res, lock.Unlock(ctx)
}
