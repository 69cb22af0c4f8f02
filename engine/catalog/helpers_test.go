package catalog

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

const (
	paul = "home-paul"
	anna = "home-anna"
)

// newCatalog opens a fresh catalog in a temporary directory with two accounts.
func newCatalog(t testing.TB) *Catalog {
	t.Helper()
	c := openAt(t, filepath.Join(t.TempDir(), "catalog.db"))
	ctx := context.Background()
	for _, a := range []Account{
		{HomeID: paul, UPN: "paul@contoso.com", DisplayName: "Paul Müller", Kind: AccountWork},
		{HomeID: anna, UPN: "anna@contoso.com", DisplayName: "Anna Sato", Kind: AccountWork},
	} {
		if err := c.UpsertAccount(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

func openAt(t testing.TB, path string) *Catalog {
	t.Helper()
	c, err := Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// op is one change a test snapshot makes.
type op struct {
	del bool
	v   Version
}

// snapshot records and completes one snapshot of (account, kind) at time
// at, applying ops in one batch; full makes it a full enumeration.
func snapshot(t testing.TB, c *Catalog, account string, kind SnapshotKind, at time.Time, full bool, ops ...op) int64 {
	t.Helper()
	ctx := context.Background()
	seq, err := c.RecordSnapshot(ctx, Snapshot{Account: account, Kind: kind, Time: at})
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Begin(ctx, seq)
	if err != nil {
		t.Fatal(err)
	}
	ik, _ := kind.ItemKind()
	for _, o := range ops {
		o.v.Item.Account, o.v.Item.Kind = account, ik
		if o.del {
			if _, err := b.Delete(o.v.Item); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if _, err := b.Upsert(o.v); err != nil {
			t.Fatal(err)
		}
	}
	if full {
		if _, err := b.CloseUnseen(); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := c.CompleteSnapshot(ctx, seq, repoID(seq)); err != nil {
		t.Fatal(err)
	}
	return seq
}

func repoID(seq int64) string { return fmt.Sprintf("%064x", seq) }

func mail(id, subject, folder string, at time.Time) Version {
	return Version{
		Item:              ItemRef{ID: id},
		InternetMessageID: "<" + id + "@contoso.com>",
		Content:           "blob-" + id,
		Size:              int64(len(subject)) * 100,
		Name:              subject,
		Folder:            folder,
		Time:              at,
	}
}

func file(id, name, folder string, at time.Time) Version {
	return Version{Item: ItemRef{ID: id}, Content: "blob-" + id, Size: 1234, Name: name, Folder: folder, Time: at}
}

func del(id string) op { return op{del: true, v: Version{Item: ItemRef{ID: id}}} }
func up(v Version) op  { return op{v: v} }

// checkConsistency verifies the catalog's derived columns agree: every
// item points at its newest version, is deleted exactly when that version
// ended, and has one search row at its sort key with matching tags.
func checkConsistency(t testing.TB, c *Catalog) {
	t.Helper()
	ctx := context.Background()
	for _, q := range []string{
		// cur_version is the newest version
		`SELECT count(*) FROM items i WHERE cur_version IS NOT (SELECT max(id) FROM versions WHERE item_id = i.id)`,
		// deleted exactly when the current version ended
		`SELECT count(*) FROM items i JOIN versions v ON v.id = i.cur_version WHERE i.deleted_seq IS NOT v.end_seq`,
		// closed versions have both ends, open ones neither
		`SELECT count(*) FROM versions WHERE (last_seq IS NULL) != (end_seq IS NULL) OR last_seq >= end_seq OR first_seq > coalesce(last_seq, first_seq)`,
		// only the current version may be open
		`SELECT count(*) FROM versions v JOIN items i ON i.id = v.item_id WHERE v.end_seq IS NULL AND v.id != i.cur_version`,
		// one search row per item, none without
		`SELECT count(*) FROM items i WHERE NOT EXISTS (SELECT 1 FROM search WHERE rowid = i.sort_key)`,
		`SELECT (SELECT count(*) FROM search) - (SELECT count(*) FROM items)`,
		// tags follow the item
		`SELECT count(*) FROM items i JOIN search s ON s.rowid = i.sort_key
		 WHERE s.tags != 'lbacct' || i.account_id || ' lbkind' || i.kind || iif(i.deleted_seq IS NULL, '', ' lbdeleted')`,
		// sort keys follow the item's time
		`SELECT count(*) FROM items i JOIN versions v ON v.id = i.cur_version WHERE i.sort_key >> 20 != max(v.time / 1000, 0)`,
	} {
		var n int
		if err := c.r.QueryRowContext(ctx, q).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if n != 0 {
			t.Errorf("inconsistent catalog (%d): %s", n, q)
		}
	}
	if err := c.Check(ctx); err != nil {
		t.Error(err)
	}
}
