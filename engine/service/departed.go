package service

import (
	"context"
	"fmt"
	"maps"

	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/people"
	"github.com/lifeboat-backup/lifeboat/engine/repo"
)

// pinDeparted adds to policy the newest complete snapshot of every stream
// (mail, OneDrive, calendars, contacts) of each person who left the
// company: retention never forgets a departed person's last copy, whatever
// the policy says, because once Microsoft deletes their data it is the only
// one. cat may be nil; it is then opened for this.
func (s *Service) pinDeparted(ctx context.Context, r *repo.Repository, cat *catalog.Catalog, policy repo.Policy) (repo.Policy, error) {
	roster, err := people.LoadRoster(s.peoplePath())
	if err != nil {
		return policy, err
	}
	var left []people.Person
	for _, p := range roster.People {
		if p.Departed() {
			left = append(left, *p)
		}
	}
	if len(left) == 0 {
		return policy, nil
	}
	if cat == nil {
		c, err := s.catalogForRetention(ctx, r)
		if err != nil {
			return policy, err
		}
		defer c.Close()
		cat = c
	}
	accounts, err := cat.Accounts(ctx)
	if err != nil {
		return policy, fmt.Errorf("keep the backups of people who left: %w", err)
	}
	pins := maps.Clone(policy.Pinned)
	if pins == nil {
		pins = map[repo.ID]string{}
	}
	for _, p := range left {
		for _, a := range accounts {
			// The catalog's key is "<object ID>.<directory ID>" (homeIDOf).
			if len(a.HomeID) <= len(p.ID) || a.HomeID[:len(p.ID)+1] != p.ID+"." {
				continue
			}
			for _, k := range []catalog.SnapshotKind{catalog.SnapshotMail, catalog.SnapshotOneDrive, catalog.SnapshotCalendar, catalog.SnapshotContacts} {
				snaps, err := cat.Snapshots(ctx, a.HomeID, k)
				if err != nil {
					return policy, fmt.Errorf("keep the backups of people who left: %w", err)
				}
				for i := len(snaps) - 1; i >= 0; i-- {
					if snaps[i].Status != catalog.SnapshotComplete || snaps[i].RepoID == "" {
						continue
					}
					id, err := repo.ParseID(snaps[i].RepoID)
					if err != nil {
						return policy, fmt.Errorf("keep the backups of people who left: %w", err)
					}
					pins[id] = fmt.Sprintf("the last copy of %s, who left the company on %s", name(p), p.Left.Local().Format("2 January 2006"))
					break
				}
			}
		}
	}
	policy.Pinned = pins
	return policy, nil
}
