package catalog

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// A catalog written at schema version 1 keeps every snapshot, item,
// version and search row when it is migrated to version 2, and then takes
// calendar and contacts snapshots.
func TestMigrationToV2KeepsEverything(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "c.db")
	c, err := open(ctx, path, Options{}, migsUpTo(migrations, 1))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.UpsertAccount(ctx, Account{HomeID: paul, UPN: "paul@contoso.com"}); err != nil {
		t.Fatal(err)
	}
	mail := func(id, subject string) Version {
		return Version{Item: ItemRef{Account: paul, Kind: KindMail, ID: id}, Content: "1:" + id, Size: 1, Name: subject, Folder: "Inbox", Time: t0}
	}
	snapshot(t, c, paul, SnapshotMail, t0, false, op{v: mail("m1", "invoice march")}, op{v: mail("m2", "lunch")})
	snapshot(t, c, paul, SnapshotMail, t0.Add(time.Hour), false, op{v: mail("m1", "invoice march (edited)")}, op{del: true, v: mail("m2", "")})
	c.Close()

	c, err = Open(ctx, path, Options{Check: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	vs, err := c.Versions(ctx, ItemRef{Account: paul, Kind: KindMail, ID: "m1"})
	if err != nil || len(vs) != 2 {
		t.Fatalf("versions of m1 after migration: %d, %v", len(vs), err)
	}
	del, err := c.RecentlyDeleted(ctx, paul, 10)
	if err != nil || len(del) != 1 || del[0].Item.ID != "m2" {
		t.Fatalf("deleted after migration: %v, %v", del, err)
	}
	hits, err := c.Search(ctx, SearchQuery{Text: "invoice"})
	if err != nil || len(hits) != 1 {
		t.Fatalf("search after migration: %d, %v", len(hits), err)
	}
	ev := Version{Item: ItemRef{Account: paul, Kind: KindEvent, ID: "e1"}, Content: "2:e1", Size: 2, Name: "Weekly sync", Folder: "Calendar", Time: t0,
		People: []Person{{Name: "Carol", Address: "carol@example.com"}}, Body: "Room 4"}
	snapshot(t, c, paul, SnapshotCalendar, t0.Add(2*time.Hour), false, op{v: ev})
	ct := Version{Item: ItemRef{Account: paul, Kind: KindContact, ID: "c1"}, Content: "3:c1", Size: 3, Name: "Mila Jansen", Folder: "Contacts", Time: t0}
	snapshot(t, c, paul, SnapshotContacts, t0.Add(2*time.Hour), false, op{v: ct})
	hits, err = c.Search(ctx, SearchQuery{Text: "carol", Kind: KindEvent})
	if err != nil || len(hits) != 1 || hits[0].Item.ID != "e1" {
		t.Fatalf("event search: %v, %v", hits, err)
	}
	if err := verifySchema(ctx, c.w, migrations); err != nil {
		t.Fatal(err)
	}
}

func TestCurrentCounts(t *testing.T) {
	c := newCatalog(t)
	ev := func(id string) Version {
		return Version{Item: ItemRef{Account: paul, Kind: KindEvent, ID: id}, Content: "1:" + id, Size: 1, Name: id, Folder: "Calendar", Time: t0}
	}
	snapshot(t, c, paul, SnapshotCalendar, t0, false, op{v: ev("a")}, op{v: ev("b")})
	snapshot(t, c, paul, SnapshotCalendar, t0.Add(time.Hour), false, op{del: true, v: ev("b")})
	snapshot(t, c, anna, SnapshotContacts, t0, false, op{v: Version{Item: ItemRef{Account: anna, Kind: KindContact, ID: "c"}, Content: "1:c", Size: 1, Name: "Mila", Folder: "Contacts", Time: t0}})
	n, err := c.CurrentCounts(context.Background())
	if err != nil || n[KindEvent] != 1 || n[KindContact] != 1 || n[KindMail] != 0 {
		t.Fatalf("counts %v, %v", n, err)
	}
}
