package service

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/backup"
	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/people"
	"github.com/lifeboat-backup/lifeboat/engine/repo"
)

// keepForever stands for "no end" in a retention rule (a century; more
// would overflow time.Duration).
const keepForever = 100 * 365 * 24 * time.Hour

// pinDeparted adds to policy every snapshot that holds the last copy of
// something of a person who left the company — the newest snapshot of each
// of their streams, and each one holding the last version of an item they
// deleted, however long ago: retention never forgets a departed person's
// last copy, whatever the policy says, because once Microsoft deletes
// their data it is the only one. (A departing employee who empties their
// mailbox first is exactly that case.) cat may be nil; it is then opened.
func (s *Service) pinDeparted(ctx context.Context, r *repo.Repository, cat *catalog.Catalog, policy repo.Policy) (repo.Policy, error) {
	roster, err := people.LoadRoster(s.peoplePath())
	if err != nil {
		return policy, err
	}
	left := map[string]people.Person{}
	leftByUPN := map[string]people.Person{}
	for _, p := range roster.People {
		if p.Departed() {
			left[p.ID] = *p
			leftByUPN[strings.ToLower(p.UPN)] = *p
		}
	}
	if len(left) == 0 {
		return policy, nil
	}
	snaps, err := r.ListSnapshots(ctx)
	if err != nil {
		return policy, err
	}
	var theirs []*repo.Snapshot
	owner := map[repo.ID]people.Person{}
	for _, sn := range snaps {
		// The account's home ID ("<object ID>.<directory ID>", homeIDOf)
		// is in the snapshot's state; its Account is the address.
		id, _, _ := strings.Cut(sn.State["account.home"], ".")
		p, gone := left[id]
		if !gone {
			p, gone = leftByUPN[strings.ToLower(sn.Account)]
		}
		if gone {
			theirs = append(theirs, sn)
			owner[sn.ID] = p
		}
	}
	if len(theirs) == 0 {
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
	keep, _, _, err := backup.RetentionPlan(ctx, cat, theirs, s.now(), repo.Policy{KeepYearly: 1, KeepDeletedFor: keepForever})
	if err != nil {
		return policy, fmt.Errorf("keep the backups of people who left: %w", err)
	}
	pins := maps.Clone(policy.Pinned)
	if pins == nil {
		pins = map[repo.ID]string{}
	}
	for _, id := range keep {
		p := owner[id]
		pins[id] = fmt.Sprintf("the last copy of %s's data (left the company on %s)", name(p), p.Left.Local().Format("2 January 2006"))
	}
	policy.Pinned = pins
	return policy, nil
}
