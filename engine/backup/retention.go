package backup

import (
	"context"
	"fmt"
	"maps"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/repo"
)

// RetentionPlan applies policy to the backup's snapshots, including the
// rule the repository cannot apply alone: an item deleted less than
// policy.KeepDeletedFor ago stays restorable. The catalog knows which
// snapshots hold each deleted item's last version; when the plain plan
// keeps none of them, the newest is pinned. Mail and OneDrive snapshots
// the catalog does not know (it is behind the backup: another computer
// wrote to it, or the catalog was rebuilt from an older copy) are kept,
// because nothing says what they alone hold.
//
// cat may be nil only when policy.KeepDeletedFor is zero.
func RetentionPlan(ctx context.Context, cat *catalog.Catalog, snaps []*repo.Snapshot, now time.Time, policy repo.Policy) (keep, forget []repo.ID, reasons map[repo.ID]string, err error) {
	infos := repo.SnapshotInfos(snaps)
	if policy.KeepDeletedFor <= 0 {
		keep, forget, reasons = repo.Plan(infos, now, policy)
		return keep, forget, reasons, nil
	}
	if cat == nil {
		return nil, nil, nil, fmt.Errorf("backup: keeping deleted items needs this computer's catalog")
	}
	pins := maps.Clone(policy.Pinned)
	if pins == nil {
		pins = map[repo.ID]string{}
	}

	// seq ↔ repository ID for every complete catalog snapshot, by stream.
	type streamKey struct {
		account string
		kind    catalog.ItemKind
	}
	idOf := map[int64]repo.ID{}
	seqOf := map[repo.ID]int64{}
	streamOf := map[int64]streamKey{}
	accounts, err := cat.Accounts(ctx)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("backup: retention: %w", err)
	}
	for _, a := range accounts {
		for _, k := range []catalog.SnapshotKind{catalog.SnapshotMail, catalog.SnapshotOneDrive, catalog.SnapshotCalendar, catalog.SnapshotContacts} {
			cs, err := cat.Snapshots(ctx, a.HomeID, k)
			if err != nil {
				return nil, nil, nil, fmt.Errorf("backup: retention: %w", err)
			}
			ik, err := k.ItemKind()
			if err != nil {
				return nil, nil, nil, fmt.Errorf("backup: retention: %w", err)
			}
			for _, s := range cs {
				if s.Status != catalog.SnapshotComplete || s.RepoID == "" {
					continue
				}
				id, err := repo.ParseID(s.RepoID)
				if err != nil {
					return nil, nil, nil, fmt.Errorf("backup: retention: catalog snapshot %d: %w", s.Seq, err)
				}
				idOf[s.Seq], seqOf[id], streamOf[s.Seq] = id, s.Seq, streamKey{a.HomeID, ik}
			}
		}
	}
	inRepo := map[repo.ID]bool{}
	for _, s := range snaps {
		inRepo[s.ID] = true
		if (s.Kind == KindMail || s.Kind == KindOneDrive || s.Kind == KindCalendar || s.Kind == KindContacts) && seqOf[s.ID] == 0 {
			if _, ok := pins[s.ID]; !ok {
				pins[s.ID] = "not in this computer's catalog yet (run `lifeboat repair`)"
			}
		}
	}

	policy.Pinned = pins
	keep, _, _ = repo.Plan(infos, now, policy)
	kept := map[repo.ID]bool{}
	for _, id := range keep {
		kept[id] = true
	}
	ranges, err := cat.DeletedRanges(ctx, now.Add(-policy.KeepDeletedFor))
	if err != nil {
		return nil, nil, nil, fmt.Errorf("backup: retention: %w", err)
	}
	type pin struct {
		items int64
		until time.Time
	}
	extra := map[repo.ID]*pin{}
	for _, d := range ranges {
		var holder repo.ID
		covered := false
		for seq := d.Last; seq >= d.First; seq-- {
			id, ok := idOf[seq]
			if !ok || streamOf[seq] != (streamKey{d.Account, d.Kind}) || !inRepo[id] {
				continue
			}
			if kept[id] {
				covered = true
				break
			}
			if holder == (repo.ID{}) {
				holder = id // the newest existing holder
			}
		}
		if covered || holder == (repo.ID{}) {
			// Kept anyway, or no snapshot holds the items any more.
			continue
		}
		p := extra[holder]
		if p == nil {
			p = &pin{}
			extra[holder] = p
		}
		p.items += d.Items
		if u := d.NewestDeletion.Add(policy.KeepDeletedFor); u.After(p.until) {
			p.until = u
		}
	}
	for id, p := range extra {
		pins[id] = fmt.Sprintf("holds %d deleted items until %s", p.items, p.until.Local().Format(time.DateOnly))
	}
	keep, forget, reasons = repo.Plan(infos, now, policy)
	return keep, forget, reasons, nil
}
