package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"testing"
	"time"
)

func day(n int) time.Time { return t0.Add(time.Duration(n) * 24 * time.Hour) }

// rangesOf returns "id@first-last/end" for each version, for compact comparisons.
func rangesOf(vs []VersionInfo) []string {
	var out []string
	for _, v := range vs {
		out = append(out, v.Item.ID+":"+v.Name+"@"+itoa(v.First)+"-"+itoa(v.Last)+"/"+itoa(v.End))
	}
	return out
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestVersionsAcrossSnapshots(t *testing.T) {
	c := newCatalog(t)
	ctx := context.Background()
	m1 := mail("m1", "Invoice March", "Inbox", day(0))
	m2 := mail("m2", "Lunch", "Inbox", day(0))
	m1flag := m1
	m1flag.Metadata = json.RawMessage(`{"flag": "flagged"}`)

	type step struct {
		ops  []op
		want []Change
	}
	steps := []step{
		{[]op{up(m1), up(m2)}, []Change{Added, Added}},
		{nil, nil},                             // 2: incremental, nothing changed
		{[]op{up(m1)}, []Change{Unchanged}},    // 3: seen again, same
		{[]op{up(m1flag)}, []Change{Modified}}, // 4: flagged
		{[]op{del("m1")}, nil},                 // 5: deleted
	}
	for i, st := range steps {
		seq, err := c.RecordSnapshot(ctx, Snapshot{Account: paul, Kind: SnapshotMail, Time: day(i)})
		if err != nil {
			t.Fatal(err)
		}
		if seq != int64(i+1) {
			t.Fatalf("snapshot %d got seq %d", i+1, seq)
		}
		b, err := c.Begin(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		var got []Change
		for _, o := range st.ops {
			o.v.Item.Account, o.v.Item.Kind = paul, KindMail
			if o.del {
				if ok, err := b.Delete(o.v.Item); err != nil || !ok {
					t.Fatalf("Delete: %v %v", ok, err)
				}
				continue
			}
			ch, err := b.Upsert(o.v)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, ch)
		}
		if err := b.Commit(); err != nil {
			t.Fatal(err)
		}
		if err := c.CompleteSnapshot(ctx, seq, repoID(seq)); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, st.want) {
			t.Errorf("snapshot %d: changes %v, want %v", seq, got, st.want)
		}
	}

	vs, err := c.Versions(ctx, ItemRef{paul, KindMail, "m1"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := rangesOf(vs), []string{"m1:Invoice March@4-4/5", "m1:Invoice March@1-3/4"}; !slices.Equal(got, want) {
		t.Errorf("m1 versions %v, want %v", got, want)
	}
	if string(vs[0].Metadata) != `{"flag":"flagged"}` || string(vs[1].Metadata) != `{}` {
		t.Errorf("metadata %s / %s", vs[0].Metadata, vs[1].Metadata)
	}
	vs, err = c.Versions(ctx, ItemRef{paul, KindMail, "m2"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := rangesOf(vs), []string{"m2:Lunch@1-5/0"}; !slices.Equal(got, want) || !vs[0].Current() {
		t.Errorf("m2 versions %v, want %v", got, want)
	}
	if _, err := c.Versions(ctx, ItemRef{paul, KindMail, "nope"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("Versions of unknown item: %v", err)
	}

	asOf := []struct {
		name string
		q    AsOfQuery
		want []string // id:first
		seq  int64
	}{
		{"snapshot 1", AsOfQuery{Snapshot: 1}, []string{"m1@1", "m2@1"}, 1},
		{"snapshot 2", AsOfQuery{Snapshot: 2}, []string{"m1@1", "m2@1"}, 2},
		{"snapshot 4", AsOfQuery{Snapshot: 4}, []string{"m1@4", "m2@1"}, 4},
		{"snapshot 5", AsOfQuery{Snapshot: 5}, []string{"m2@1"}, 5},
		{"time between 3 and 4", AsOfQuery{Time: day(3).Add(-time.Hour)}, []string{"m1@1", "m2@1"}, 3},
		{"time of 4", AsOfQuery{Time: day(3)}, []string{"m1@4", "m2@1"}, 4},
		{"latest", AsOfQuery{}, []string{"m2@1"}, 5},
		{"other folder", AsOfQuery{Snapshot: 1, Folder: "Archive"}, nil, 1},
		{"recursive from top", AsOfQuery{Snapshot: 2, Recursive: true}, []string{"m1@1", "m2@1"}, 2},
	}
	for _, tc := range asOf {
		t.Run("AsOf "+tc.name, func(t *testing.T) {
			q := tc.q
			q.Account, q.Kind = paul, KindMail
			if q.Folder == "" && !q.Recursive {
				q.Folder = "Inbox"
			}
			snap, vs, err := c.AsOf(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, v := range vs {
				got = append(got, v.Item.ID+"@"+itoa(v.First))
			}
			if !slices.Equal(got, tc.want) || snap.Seq != tc.seq {
				t.Errorf("got %v at %d, want %v at %d", got, snap.Seq, tc.want, tc.seq)
			}
		})
	}
	if _, _, err := c.AsOf(ctx, AsOfQuery{Account: paul, Kind: KindMail, Time: day(-1)}); !errors.Is(err, ErrNoSnapshot) {
		t.Errorf("AsOf before the first snapshot: %v", err)
	}
	if _, _, err := c.AsOf(ctx, AsOfQuery{Account: paul, Kind: KindFile, Snapshot: 1}); !errors.Is(err, ErrInvalid) {
		t.Errorf("AsOf with a snapshot of another stream: %v", err)
	}

	deleted, err := c.RecentlyDeleted(ctx, paul, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(deleted) != 1 || deleted[0].Item.ID != "m1" || deleted[0].DeletedSeq != 5 || !deleted[0].DeletedAt.Equal(day(4)) || deleted[0].First != 4 {
		t.Fatalf("RecentlyDeleted = %+v", deleted)
	}
	if d, _ := c.DeletedSince(ctx, "", day(5), 10); len(d) != 0 {
		t.Errorf("DeletedSince after the deletion: %+v", d)
	}
	if d, _ := c.RecentlyDeleted(ctx, anna, 10); len(d) != 0 {
		t.Errorf("anna has deletions: %+v", d)
	}

	// 6: it comes back (e.g. restored by the user).
	s6 := snapshot(t, c, paul, SnapshotMail, day(5), false, up(m1))
	if d, _ := c.RecentlyDeleted(ctx, "", 10); len(d) != 0 {
		t.Errorf("restored item still listed as deleted: %+v", d)
	}
	if hits, _ := c.Search(ctx, SearchQuery{Text: "invoice", DeletedOnly: true}); len(hits) != 0 {
		t.Errorf("restored item found by a deleted-only search: %+v", hits)
	}
	if hits, _ := c.Search(ctx, SearchQuery{Text: "invoice", Account: paul, Kind: KindMail}); len(hits) != 1 || hits[0].Deleted() {
		t.Errorf("restored item: %+v", hits)
	}
	vs, _ = c.Versions(ctx, ItemRef{paul, KindMail, "m1"})
	if len(vs) != 3 || vs[0].First != s6 || !vs[0].Current() {
		t.Errorf("after restore: %v", rangesOf(vs))
	}
	checkConsistency(t, c)
}

func TestInterleavedStreams(t *testing.T) {
	c := newCatalog(t)
	ctx := context.Background()
	p1 := snapshot(t, c, paul, SnapshotMail, day(0), false, up(mail("m1", "A", "Inbox", day(0))))
	snapshot(t, c, anna, SnapshotMail, day(0), false, up(mail("m1", "Anna's", "Inbox", day(0))))
	snapshot(t, c, paul, SnapshotOneDrive, day(0), false, up(file("f1", "a.txt", "/Docs", day(0))))
	p2 := snapshot(t, c, paul, SnapshotMail, day(1), false, up(mail("m1", "A changed", "Inbox", day(0))))
	snapshot(t, c, anna, SnapshotMail, day(1), false, del("m1"))
	p3 := snapshot(t, c, paul, SnapshotMail, day(2), false)

	vs, err := c.Versions(ctx, ItemRef{paul, KindMail, "m1"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := rangesOf(vs), []string{"m1:A changed@" + itoa(p2) + "-" + itoa(p3) + "/0", "m1:A@" + itoa(p1) + "-" + itoa(p1) + "/" + itoa(p2)}; !slices.Equal(got, want) {
		t.Errorf("paul m1 %v, want %v", got, want)
	}
	d, _ := c.RecentlyDeleted(ctx, "", 10)
	if len(d) != 1 || d[0].Item.Account != anna {
		t.Errorf("RecentlyDeleted = %+v", d)
	}
	_, files, err := c.AsOf(ctx, AsOfQuery{Account: paul, Kind: KindFile, Folder: "/Docs"})
	if err != nil || len(files) != 1 || files[0].Name != "a.txt" {
		t.Errorf("files %+v %v", files, err)
	}
	// Items of the wrong stream are refused.
	if _, err := c.UpsertItemVersion(ctx, p3, Version{Item: ItemRef{anna, KindMail, "x"}}); !errors.Is(err, ErrInvalid) {
		t.Errorf("upsert of anna's mail into paul's snapshot: %v", err)
	}
	// Only the latest snapshot of a stream can be written.
	if _, err := c.UpsertItemVersion(ctx, p1, mail("zz", "late", "Inbox", day(0))); !errors.Is(err, ErrInvalid) {
		t.Errorf("write to an old snapshot: %v", err)
	}
	checkConsistency(t, c)
}

func TestFullEnumeration(t *testing.T) {
	c := newCatalog(t)
	ctx := context.Background()
	f1 := file("f1", "budget.xlsx", "/Finance", day(0))
	f2 := file("f2", "plan.docx", "/Finance/2026", day(0))
	f3 := file("f3", "old.txt", "/", day(0))
	f2b := f2
	f2b.Content, f2b.Size, f2b.Time = "blob-f2b", 2000, day(1)

	s1 := snapshot(t, c, paul, SnapshotOneDrive, day(0), true, up(f1), up(f2), up(f3))
	s2 := snapshot(t, c, paul, SnapshotOneDrive, day(1), true, up(f1), up(f2b))
	s3 := snapshot(t, c, paul, SnapshotOneDrive, day(2), true, up(f1), up(f2b))

	d, err := c.RecentlyDeleted(ctx, paul, 10)
	if err != nil || len(d) != 1 || d[0].Item.ID != "f3" || d[0].DeletedSeq != s2 || d[0].Last != s1 {
		t.Fatalf("RecentlyDeleted = %+v, %v", d, err)
	}
	for _, tc := range []struct {
		seq       int64
		folder    string
		recursive bool
		want      []string
	}{
		{s1, "", true, []string{"f3:old.txt@1-1/2", "f1:budget.xlsx@1-3/0", "f2:plan.docx@1-1/2"}},
		{s2, "", true, []string{"f1:budget.xlsx@1-3/0", "f2:plan.docx@2-3/0"}},
		{s3, "/Finance", false, []string{"f1:budget.xlsx@1-3/0"}},
		{s3, "/Finance", true, []string{"f1:budget.xlsx@1-3/0", "f2:plan.docx@2-3/0"}},
		{s3, "/Finance/", true, []string{"f1:budget.xlsx@1-3/0", "f2:plan.docx@2-3/0"}},
		{s3, "/Fin", true, nil},
	} {
		_, vs, err := c.AsOf(ctx, AsOfQuery{Account: paul, Kind: KindFile, Snapshot: tc.seq, Folder: tc.folder, Recursive: tc.recursive})
		if err != nil {
			t.Fatal(err)
		}
		if got := rangesOf(vs); !slices.Equal(got, tc.want) {
			t.Errorf("AsOf(%d, %q, %v) = %v, want %v", tc.seq, tc.folder, tc.recursive, got, tc.want)
		}
	}
	for q, want := range map[string]int{"old": 1, "budget": 0} {
		if hits, err := c.Search(ctx, SearchQuery{Text: q, DeletedOnly: true, Kind: KindFile, Account: paul}); err != nil || len(hits) != want {
			t.Errorf("deleted-only search %q: %+v %v, want %d", q, hits, err, want)
		}
	}
	folders, err := c.Folders(ctx, AsOfQuery{Account: paul, Kind: KindFile, Snapshot: s1})
	if err != nil || !slices.Equal(folders, []string{"/", "/Finance", "/Finance/2026"}) {
		t.Errorf("Folders = %v, %v", folders, err)
	}
	checkConsistency(t, c)
}

func TestSameSnapshotEdits(t *testing.T) {
	c := newCatalog(t)
	ctx := context.Background()
	a := mail("a", "first", "Inbox", day(0))
	a2 := a
	a2.Name = "second"
	s1 := snapshot(t, c, paul, SnapshotMail, day(0), false, up(a), up(a2), up(mail("b", "gone", "Inbox", day(0))), del("b"))
	vs, err := c.Versions(ctx, ItemRef{paul, KindMail, "a"})
	if err != nil || len(vs) != 1 || vs[0].Name != "second" {
		t.Fatalf("a: %v %v", rangesOf(vs), err)
	}
	if _, err := c.Versions(ctx, ItemRef{paul, KindMail, "b"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("item added and deleted in one snapshot still exists: %v", err)
	}
	if hits, _ := c.Search(ctx, SearchQuery{Text: "gone"}); len(hits) != 0 {
		t.Errorf("search finds a never-saved item: %+v", hits)
	}
	// Changed and then deleted in the same snapshot: the old version ends there.
	a3 := a2
	a3.Name = "third"
	s2 := snapshot(t, c, paul, SnapshotMail, day(1), false, up(a3), del("a"))
	vs, _ = c.Versions(ctx, ItemRef{paul, KindMail, "a"})
	if got, want := rangesOf(vs), []string{"a:second@" + itoa(s1) + "-" + itoa(s1) + "/" + itoa(s2)}; !slices.Equal(got, want) {
		t.Errorf("a: %v, want %v", got, want)
	}
	d, _ := c.RecentlyDeleted(ctx, paul, 10)
	if len(d) != 1 || d[0].DeletedSeq != s2 {
		t.Errorf("RecentlyDeleted = %+v", d)
	}
	// Deleted and seen again unchanged in the same snapshot (a move in a delta).
	b := mail("c", "kept", "Inbox", day(0))
	snapshot(t, c, paul, SnapshotMail, day(2), false, up(b))
	s4 := snapshot(t, c, paul, SnapshotMail, day(3), false, del("c"), up(b))
	vs, _ = c.Versions(ctx, ItemRef{paul, KindMail, "c"})
	if len(vs) != 1 || !vs[0].Current() || vs[0].Last != s4 {
		t.Errorf("c: %v", rangesOf(vs))
	}
	checkConsistency(t, c)
}

func TestDiscardSnapshot(t *testing.T) {
	c := newCatalog(t)
	ctx := context.Background()
	m1 := mail("m1", "Quarterly report", "Inbox", day(0))
	m1.Body = "the numbers are attached"
	gone := mail("m3", "Soon deleted", "Inbox", day(0))
	s1 := snapshot(t, c, paul, SnapshotMail, day(0), false, up(m1), up(gone))

	seq, err := c.RecordSnapshot(ctx, Snapshot{Account: paul, Kind: SnapshotMail, Time: day(1)})
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Begin(ctx, seq)
	if err != nil {
		t.Fatal(err)
	}
	m1b := m1
	m1b.Name, m1b.Folder, m1b.Time = "Quarterly report (moved)", "Archive", day(1)
	m1b.Body = ""
	for _, v := range []Version{m1b, mail("m2", "Brand new", "Inbox", day(1))} {
		v.Item.Account, v.Item.Kind = paul, KindMail
		if _, err := b.Upsert(v); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.Delete(ItemRef{paul, KindMail, "m3"}); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	if hits, _ := c.Search(ctx, SearchQuery{Text: "moved"}); len(hits) != 1 {
		t.Fatalf("pending change not searchable: %+v", hits)
	}
	if err := c.DiscardSnapshot(ctx, s1); !errors.Is(err, ErrInvalid) {
		t.Errorf("discarding a complete snapshot: %v", err)
	}
	if err := c.DiscardSnapshot(ctx, seq); err != nil {
		t.Fatal(err)
	}
	vs, err := c.Versions(ctx, ItemRef{paul, KindMail, "m1"})
	if err != nil || len(vs) != 1 || !vs[0].Current() || vs[0].Folder != "Inbox" || vs[0].Last != s1 {
		t.Fatalf("m1 after discard: %+v %v", vs, err)
	}
	if _, err := c.Versions(ctx, ItemRef{paul, KindMail, "m2"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("m2 survived the discard: %v", err)
	}
	if d, _ := c.RecentlyDeleted(ctx, paul, 10); len(d) != 0 {
		t.Errorf("deletion survived the discard: %+v", d)
	}
	if hits, _ := c.Search(ctx, SearchQuery{Text: "deleted", DeletedOnly: true}); len(hits) != 0 {
		t.Errorf("deleted-only search after discard: %+v", hits)
	}
	for q, want := range map[string]int{"moved": 0, "brand": 0, "quarterly": 1, "numbers": 1, "deleted": 1} {
		hits, err := c.Search(ctx, SearchQuery{Text: q})
		if err != nil || len(hits) != want {
			t.Errorf("search %q after discard: %d hits (%v), want %d", q, len(hits), err, want)
		}
	}
	if snaps, _ := c.Snapshots(ctx, paul, SnapshotMail); len(snaps) != 1 {
		t.Errorf("snapshots after discard: %+v", snaps)
	}
	if err := c.Check(ctx); err != nil {
		t.Fatal(err)
	}
	// The stream can go on.
	snapshot(t, c, paul, SnapshotMail, day(2), false, up(m1b))
	checkConsistency(t, c)
}

func TestReset(t *testing.T) {
	c := newCatalog(t)
	ctx := context.Background()
	run, _ := c.BeginRun(ctx, day(0))
	snapshot(t, c, paul, SnapshotMail, day(0), false, up(mail("m1", "hello", "Inbox", day(0))))
	if err := c.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	if hits, _ := c.Search(ctx, SearchQuery{Text: "hello"}); len(hits) != 0 {
		t.Errorf("search after reset: %+v", hits)
	}
	if s, _ := c.Snapshots(ctx, "", ""); len(s) != 0 {
		t.Errorf("snapshots after reset: %+v", s)
	}
	if runs, _ := c.Runs(ctx, 10); len(runs) != 1 || runs[0].ID != run {
		t.Errorf("run history lost: %+v", runs)
	}
	// Rebuild: replay a snapshot known to the repository.
	seq, err := c.RecordSnapshot(ctx, Snapshot{Account: paul, Kind: SnapshotMail, Time: day(0), RepoID: repoID(1)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpsertItemVersion(ctx, seq, Version{Item: ItemRef{paul, KindMail, "m1"}, Name: "hello", Folder: "Inbox"}); err != nil {
		t.Fatal(err)
	}
	if hits, _ := c.Search(ctx, SearchQuery{Text: "hello"}); len(hits) != 1 {
		t.Errorf("search after rebuild: %+v", hits)
	}
	if err := c.Check(ctx); err != nil {
		t.Fatal(err)
	}
	checkConsistency(t, c)
}

func TestMarkSeen(t *testing.T) {
	c := newCatalog(t)
	ctx := context.Background()
	snapshot(t, c, paul, SnapshotOneDrive, day(0), true, up(file("f1", "a", "/", day(0))), up(file("f2", "b", "/", day(0))))
	seq, err := c.RecordSnapshot(ctx, Snapshot{Account: paul, Kind: SnapshotOneDrive, Time: day(1)})
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Begin(ctx, seq)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		id   string
		want bool
	}{{"f1", true}, {"f1", true}, {"nope", false}} {
		if ok, err := b.MarkSeen(ItemRef{paul, KindFile, tc.id}); err != nil || ok != tc.want {
			t.Errorf("MarkSeen(%s) = %v, %v; want %v", tc.id, ok, err, tc.want)
		}
	}
	if n, err := b.CloseUnseen(); err != nil || n != 1 {
		t.Errorf("CloseUnseen = %d, %v; want 1 (f2)", n, err)
	}
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	d, _ := c.RecentlyDeleted(ctx, paul, 10)
	if len(d) != 1 || d[0].Item.ID != "f2" {
		t.Errorf("RecentlyDeleted = %+v", d)
	}
	checkConsistency(t, c)
}

func TestByInternetMessageID(t *testing.T) {
	c := newCatalog(t)
	ctx := context.Background()
	moved := mail("new-id", "moved", "Archive", day(0))
	moved.InternetMessageID = "<m1@contoso.com>"
	s1 := snapshot(t, c, paul, SnapshotMail, day(0), false, up(mail("m1", "moved", "Inbox", day(0))), up(moved))
	for _, tc := range []struct {
		account, id string
		want        []string
	}{
		{paul, "<m1@contoso.com>", []string{"m1", "new-id"}},
		{anna, "<m1@contoso.com>", nil},
		{paul, "", nil},
	} {
		vs, err := c.ByInternetMessageID(ctx, tc.account, tc.id)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, v := range vs {
			got = append(got, v.Item.ID)
			if v.Last != s1 {
				t.Errorf("%s: Last %d, want %d", v.Item.ID, v.Last, s1)
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, tc.want) {
			t.Errorf("ByInternetMessageID(%s, %q) = %v, want %v", tc.account, tc.id, got, tc.want)
		}
	}
}
