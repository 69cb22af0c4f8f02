package restore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/catalog"
)

// Catalog is what choosing items to restore reads from the catalog
// (*catalog.Catalog).
type Catalog interface {
	AsOf(ctx context.Context, q catalog.AsOfQuery) (catalog.Snapshot, []catalog.VersionInfo, error)
	Snapshots(ctx context.Context, account string, kind catalog.SnapshotKind) ([]catalog.Snapshot, error)
	Versions(ctx context.Context, ref catalog.ItemRef) ([]catalog.VersionInfo, error)
}

// asOfPage is how many versions one AsOf call lists (its maximum).
const asOfPage = 100000

// ItemsAsOf lists everything a stream held at a snapshot or time (see
// catalog.AsOfQuery; Limit and Offset are ignored): a folder with
// Recursive for a folder and everything below it, "" with Recursive for a
// whole mailbox or drive. Bulk restores start here.
func ItemsAsOf(ctx context.Context, c Catalog, q catalog.AsOfQuery) (catalog.Snapshot, []catalog.VersionInfo, error) {
	var all []catalog.VersionInfo
	var snap catalog.Snapshot
	q.Limit, q.Offset = asOfPage, 0
	for {
		s, page, err := c.AsOf(ctx, q)
		if err != nil {
			return s, nil, err
		}
		if snap.Seq == 0 {
			snap = s
			// Later pages must read the same snapshot even if a backup
			// completes meanwhile.
			q.Snapshot = s.Seq
		}
		all = append(all, page...)
		if len(page) < asOfPage {
			return snap, all, nil
		}
		q.Offset += len(page)
	}
}

// SnapshotAt returns the latest complete snapshot of an account's stream
// taken at or before t (the latest of all when t is zero).
func SnapshotAt(ctx context.Context, c Catalog, account string, kind catalog.ItemKind, t time.Time) (catalog.Snapshot, error) {
	sk, err := kind.SnapshotKind()
	if err != nil {
		return catalog.Snapshot{}, err
	}
	snaps, err := c.Snapshots(ctx, account, sk)
	if err != nil {
		return catalog.Snapshot{}, err
	}
	var best catalog.Snapshot
	for _, s := range snaps {
		if s.Status == catalog.SnapshotComplete && (t.IsZero() || !s.Time.After(t)) {
			best = s
		}
	}
	if best.Seq == 0 {
		return best, fmt.Errorf("restore: %w", catalog.ErrNoSnapshot)
	}
	return best, nil
}

// ErrNotAtThatTime is returned by VersionAt for an item that did not exist
// at the chosen time.
var ErrNotAtThatTime = errors.New("the item did not exist at that time")

// VersionAt returns the version of an item that the backup of time t held
// (the newest version when t is zero).
func VersionAt(ctx context.Context, c Catalog, ref catalog.ItemRef, t time.Time) (catalog.VersionInfo, error) {
	vs, err := c.Versions(ctx, ref)
	if err != nil {
		return catalog.VersionInfo{}, err
	}
	if t.IsZero() {
		return vs[0], nil
	}
	snap, err := SnapshotAt(ctx, c, ref.Account, ref.Kind, t)
	if err != nil {
		return catalog.VersionInfo{}, err
	}
	for _, v := range vs {
		if v.First <= snap.Seq && (v.End == 0 || v.End > snap.Seq) {
			return v, nil
		}
	}
	return catalog.VersionInfo{}, fmt.Errorf("restore: %q at %s: %w", vs[0].Name, snap.Time.Format(time.DateTime), ErrNotAtThatTime)
}
