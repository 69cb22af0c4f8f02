package catalog

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fingerprintQueries runs a fixed set of queries and returns their results.
func fingerprintQueries(t *testing.T, c *Catalog) []any {
	t.Helper()
	ctx := context.Background()
	var out []any
	for _, q := range []SearchQuery{{Text: "präsentation"}, {Text: "invoice"}, {People: "billing"}, {Text: "会議"}, {Text: "invoice", DeletedOnly: true}} {
		hits, err := c.Search(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, hits)
	}
	for _, q := range []AsOfQuery{{Account: paul, Kind: KindMail, Snapshot: 1, Recursive: true}, {Account: paul, Kind: KindFile, Recursive: true}} {
		_, vs, err := c.AsOf(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, vs)
	}
	d, err := c.RecentlyDeleted(ctx, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	runs, err := c.Runs(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	snaps, err := c.Snapshots(ctx, "", "")
	if err != nil {
		t.Fatal(err)
	}
	return append(out, d, runs, snaps)
}

func TestExportAndImport(t *testing.T) {
	c := searchCatalog(t)
	ctx := context.Background()
	run, _ := c.BeginRun(ctx, day(6))
	if err := c.RecordSkipped(ctx, run, SkippedItem{Account: paul, ItemRef: "x", Reason: "timeout"}); err != nil {
		t.Fatal(err)
	}
	want := fingerprintQueries(t, c)

	t.Run("ExportTo", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "copy.db")
		if err := c.ExportTo(ctx, path); err != nil {
			t.Fatal(err)
		}
		if err := c.ExportTo(ctx, path); !errors.Is(err, os.ErrExist) {
			t.Errorf("export over an existing file: %v", err)
		}
		copyCat, err := Open(ctx, path, Options{IntegrityCheck: true})
		if err != nil {
			t.Fatal(err)
		}
		defer copyCat.Close()
		if got := fingerprintQueries(t, copyCat); !reflect.DeepEqual(got, want) {
			t.Errorf("reopened copy differs:\n got %+v\nwant %+v", got, want)
		}
	})

	t.Run("WriteCopy and Import", func(t *testing.T) {
		var buf bytes.Buffer
		n, err := c.WriteCopy(ctx, &buf)
		if err != nil {
			t.Fatal(err)
		}
		if n != int64(buf.Len()) || n == 0 {
			t.Fatalf("WriteCopy wrote %d bytes, reported %d", buf.Len(), n)
		}
		dir := t.TempDir()
		path := filepath.Join(dir, "catalog.db")
		// A stale catalog with a write-ahead log sits where the copy goes.
		old := openAt(t, path)
		if err := old.UpsertAccount(ctx, Account{HomeID: "stale"}); err != nil {
			t.Fatal(err)
		}
		old.Close()
		if err := os.WriteFile(path+"-wal", []byte("stale wal"), 0o600); err != nil {
			t.Fatal(err)
		}
		imported, err := Import(ctx, bytes.NewReader(buf.Bytes()), path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer imported.Close()
		if got := fingerprintQueries(t, imported); !reflect.DeepEqual(got, want) {
			t.Errorf("imported copy differs")
		}
		// It is a working catalog: the next run can write to it.
		if _, err := imported.BeginRun(ctx, day(8)); err != nil {
			t.Fatal(err)
		}
		snapshot(t, imported, paul, SnapshotMail, day(8), false, up(mail("m9", "after import", "Inbox", day(8))))
		if hits, _ := imported.Search(ctx, SearchQuery{Text: "import"}); len(hits) != 1 {
			t.Errorf("search after import: %+v", hits)
		}
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if e.IsDir() {
				t.Errorf("temporary directory %s left behind", e.Name())
			}
		}
	})
}

func TestImportHostile(t *testing.T) {
	c := searchCatalog(t)
	ctx := context.Background()
	var good bytes.Buffer
	if _, err := c.WriteCopy(ctx, &good); err != nil {
		t.Fatal(err)
	}
	pageSize := 4096
	mutate := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good.Bytes())) }
	viaSQL := func(stmts ...string) []byte {
		path := filepath.Join(t.TempDir(), "h.db")
		if err := os.WriteFile(path, good.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		db, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range stmts {
			if _, err := db.Exec(s); err != nil {
				t.Fatalf("%s: %v", s, err)
			}
		}
		db.Close()
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, ErrCorrupt},
		{"garbage", bytes.Repeat([]byte("garbage!"), 1000), ErrCorrupt},
		{"truncated", good.Bytes()[:len(good.Bytes())/2], ErrCorrupt},
		{"zeroed pages", mutate(func(b []byte) []byte {
			for i := 2 * pageSize; i < len(b) && i < 6*pageSize; i++ {
				b[i] = 0
			}
			return b
		}), ErrCorrupt},
		{"scrambled pages", mutate(func(b []byte) []byte {
			for i := pageSize; i < len(b); i += 7 {
				b[i] ^= 0x5a
			}
			return b
		}), ErrCorrupt},
		{"foreign database", viaSQL("PRAGMA application_id=42"), ErrNotCatalog},
		{"newer schema", viaSQL("INSERT INTO schema_migrations VALUES (7, 0)"), ErrNewerSchema},
		{"extra trigger", viaSQL("CREATE TRIGGER evil AFTER INSERT ON runs BEGIN DELETE FROM items; END"), ErrSchemaMismatch},
		{"extra view", viaSQL("CREATE VIEW v AS SELECT 1"), ErrSchemaMismatch},
		{"dropped index", viaSQL("DROP INDEX versions_item"), ErrSchemaMismatch},
		{"damaged search index", viaSQL("DELETE FROM search_data WHERE id > 10"), ErrCorrupt},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "catalog.db")
			got, err := Import(ctx, bytes.NewReader(tc.data), path, Options{})
			if got != nil {
				got.Close()
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("Import: %v, want %v", err, tc.want)
			}
			if tc.want != nil {
				if _, statErr := os.Stat(path); !errors.Is(statErr, os.ErrNotExist) {
					t.Errorf("rejected copy was installed at %s", path)
				}
			}
		})
	}
}

func TestOpenCheckCorrupt(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "catalog.db")
	c := searchCatalog(t)
	if err := c.ExportTo(ctx, path); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	for i := 4096; i < len(b); i += 5 {
		b[i] ^= 0xff
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	cat, err := Open(ctx, path, Options{Check: true})
	if cat != nil {
		cat.Close()
	}
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Open(Check) of a corrupt file: %v", err)
	}
}

func TestConcurrentReadersAndWriter(t *testing.T) {
	c := newCatalog(t)
	ctx := context.Background()
	const batches, perBatch = 20, 25
	var wg sync.WaitGroup
	var done atomic.Bool
	errs := make(chan error, 16)
	for r := 0; r < 4; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			last := 0
			for !done.Load() {
				hits, err := c.Search(ctx, SearchQuery{Text: "report", Limit: 1000})
				if err != nil {
					errs <- err
					return
				}
				// Readers see whole batches, never a partial one, and never go back.
				if len(hits)%perBatch != 0 || len(hits) < last {
					errs <- errors.New("reader saw a partial or shrinking result")
					return
				}
				last = len(hits)
				if _, err := c.RecentlyDeleted(ctx, paul, 10); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	seq, err := c.RecordSnapshot(ctx, Snapshot{Account: paul, Kind: SnapshotMail, Time: day(0)})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < batches; i++ {
		b, err := c.Begin(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		for j := 0; j < perBatch; j++ {
			v := mail(time.Duration(i*perBatch+j).String(), "monthly report", "Inbox", day(0).Add(time.Duration(i*perBatch+j)*time.Minute))
			v.Item.Account, v.Item.Kind = paul, KindMail
			if _, err := b.Upsert(v); err != nil {
				t.Fatal(err)
			}
		}
		if err := b.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	done.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if hits, _ := c.Search(ctx, SearchQuery{Text: "report", Limit: 1000}); len(hits) != batches*perBatch {
		t.Errorf("%d hits after all batches, want %d", len(hits), batches*perBatch)
	}
	checkConsistency(t, c)
}

func TestRebuild(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "catalog.db")
	old := openAt(t, path)
	if err := old.UpsertAccount(ctx, Account{HomeID: "old"}); err != nil {
		t.Fatal(err)
	}
	old.Close()

	// A failed rebuild leaves the old catalog alone.
	boom := errors.New("repository unreadable")
	if _, err := Rebuild(ctx, path, Options{}, func(ctx context.Context, c *Catalog) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("Rebuild: %v", err)
	}
	c := openAt(t, path)
	if a, _ := c.Accounts(ctx); len(a) != 1 || a[0].HomeID != "old" {
		t.Fatalf("old catalog changed: %+v", a)
	}
	c.Close()

	rebuilt, err := Rebuild(ctx, path, Options{}, func(ctx context.Context, c *Catalog) error {
		if err := c.UpsertAccount(ctx, Account{HomeID: paul, UPN: "paul@contoso.com"}); err != nil {
			return err
		}
		seq, err := c.RecordSnapshot(ctx, Snapshot{Account: paul, Kind: SnapshotMail, Time: day(0), RepoID: repoID(1)})
		if err != nil {
			return err
		}
		_, err = c.UpsertItemVersion(ctx, seq, Version{Item: ItemRef{paul, KindMail, "m1"}, Name: "rebuilt mail", Folder: "Inbox"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	defer rebuilt.Close()
	if hits, err := rebuilt.Search(ctx, SearchQuery{Text: "rebuilt"}); err != nil || len(hits) != 1 {
		t.Errorf("search after rebuild: %+v %v", hits, err)
	}
	if a, _ := rebuilt.Accounts(ctx); len(a) != 1 || a[0].HomeID != paul {
		t.Errorf("accounts after rebuild: %+v", a)
	}
}

func TestExportDuringBatch(t *testing.T) {
	c := newCatalog(t)
	ctx := context.Background()
	snapshot(t, c, paul, SnapshotMail, day(0), false, up(mail("m1", "committed", "Inbox", day(0))))
	seq, err := c.RecordSnapshot(ctx, Snapshot{Account: paul, Kind: SnapshotMail, Time: day(1)})
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Begin(ctx, seq)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Rollback()
	if _, err := b.Upsert(Version{Item: ItemRef{paul, KindMail, "m2"}, Name: "uncommitted"}); err != nil {
		t.Fatal(err)
	}
	tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var buf bytes.Buffer
	if _, err := c.WriteCopy(tctx, &buf); err != nil {
		t.Fatal(err)
	}
	imported, err := Import(ctx, &buf, filepath.Join(t.TempDir(), "c.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer imported.Close()
	for q, want := range map[string]int{"committed": 1, "uncommitted": 0} {
		if hits, _ := imported.Search(ctx, SearchQuery{Text: q}); len(hits) != want {
			t.Errorf("%q: %d hits, want %d", q, len(hits), want)
		}
	}
}

// FuzzImport feeds damaged catalog copies to Import: whatever the bytes,
// it must fail cleanly or give a catalog that answers queries.
func FuzzImport(f *testing.F) {
	c := newCatalog(f)
	ctx := context.Background()
	m := mail("m1", "fuzz seed", "Inbox", day(0))
	m.Body = "some body text"
	snapshot(f, c, paul, SnapshotMail, day(0), false, up(m))
	var good bytes.Buffer
	if _, err := c.WriteCopy(ctx, &good); err != nil {
		f.Fatal(err)
	}
	g := good.Bytes()
	f.Add(g)
	f.Add(g[:100])
	f.Add(g[:len(g)-4096])
	for _, off := range []int{18, 28, 52, 100, 4096 + 8, 2*4096 + 20, len(g) - 100} {
		if off < len(g) {
			b := bytes.Clone(g)
			b[off] ^= 0x40
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cat, err := Import(ctx, bytes.NewReader(data), filepath.Join(t.TempDir(), "c.db"), Options{})
		if err != nil {
			return
		}
		defer cat.Close()
		_, _ = cat.Search(ctx, SearchQuery{Text: "fuzz"})
		_, _ = cat.RecentlyDeleted(ctx, "", 10)
		_, _ = cat.Runs(ctx, 10)
		_, _, _ = cat.AsOf(ctx, AsOfQuery{Account: paul, Kind: KindMail, Recursive: true})
	})
}
