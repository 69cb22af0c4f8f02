package catalog

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestOpenPragmas(t *testing.T) {
	c := newCatalog(t)
	ctx := context.Background()
	for _, tc := range []struct {
		pragma, want string
	}{
		{"journal_mode", "wal"},
		{"foreign_keys", "1"},
		{"busy_timeout", "10000"},
		{"trusted_schema", "0"},
	} {
		var got string
		if err := c.w.QueryRowContext(ctx, "PRAGMA "+tc.pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("PRAGMA %s = %q, want %q", tc.pragma, got, tc.want)
		}
	}
	// The read pool cannot write.
	if _, err := c.r.ExecContext(ctx, "DELETE FROM accounts"); err == nil {
		t.Error("read-only pool accepted a write")
	}
	// Foreign keys are enforced.
	if _, err := c.w.ExecContext(ctx, "INSERT INTO snapshots(account_id, kind, time, status) VALUES (999, 'mail', 0, 'pending')"); err == nil {
		t.Error("snapshot of a missing account was accepted")
	}
}

func TestFTS5Available(t *testing.T) {
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var opt int
	if err := db.QueryRow("SELECT sqlite_compileoption_used('ENABLE_FTS5')").Scan(&opt); err != nil {
		t.Fatal(err)
	}
	if opt != 1 {
		t.Fatal("SQLite was built without FTS5")
	}
}

// testMigrationV2 stands in for a future migration (the one after the
// newest).
var testMigrationV2 = migration{len(migrations) + 1, "ALTER TABLE accounts ADD COLUMN color TEXT NOT NULL DEFAULT ''"}

func TestMigrations(t *testing.T) {
	ctx := context.Background()
	withV2 := append(append([]migration{}, migrations...), testMigrationV2)
	tests := []struct {
		name    string
		prepare func(t *testing.T, path string)
		migs    []migration
		check   bool
		wantErr error
		wantVer int
	}{
		{name: "new file", migs: migrations, wantVer: SchemaVersion()},
		{name: "new file checked", migs: migrations, check: true, wantVer: SchemaVersion()},
		{
			name: "version 0 catalog migrates", migs: migrations, wantVer: SchemaVersion(),
			prepare: func(t *testing.T, path string) {
				db, err := sql.Open("sqlite", path)
				if err != nil {
					t.Fatal(err)
				}
				defer db.Close()
				if err := migrate(ctx, db, nil); err != nil {
					t.Fatal(err)
				}
			},
		},
		{
			name: "older version migrates", migs: withV2, check: true, wantVer: SchemaVersion() + 1,
			prepare: func(t *testing.T, path string) {
				c, err := Open(ctx, path, Options{})
				if err != nil {
					t.Fatal(err)
				}
				if err := c.UpsertAccount(ctx, Account{HomeID: "h", UPN: "u@x"}); err != nil {
					t.Fatal(err)
				}
				c.Close()
			},
		},
		{
			name: "newer version refused", migs: migrations, wantErr: ErrNewerSchema,
			prepare: func(t *testing.T, path string) {
				c, err := open(ctx, path, Options{}, withV2)
				if err != nil {
					t.Fatal(err)
				}
				c.Close()
			},
		},
		{
			name: "newer version refused when checked", migs: migrations, check: true, wantErr: ErrNewerSchema,
			prepare: func(t *testing.T, path string) {
				execSQL(t, path, "PRAGMA application_id=1279411028", "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied INTEGER NOT NULL) STRICT",
					"INSERT INTO schema_migrations VALUES (99, 0)")
			},
		},
		{
			name: "foreign database", migs: migrations, wantErr: ErrNotCatalog,
			prepare: func(t *testing.T, path string) { execSQL(t, path, "CREATE TABLE notes(x)") },
		},
		{
			name: "garbage file", migs: migrations, wantErr: ErrCorrupt,
			prepare: func(t *testing.T, path string) {
				if err := os.WriteFile(path, []byte(strings.Repeat("this is not a database ", 400)), 0o600); err != nil {
					t.Fatal(err)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "c.db")
			if tc.prepare != nil {
				tc.prepare(t, path)
			}
			c, err := open(ctx, path, Options{Check: tc.check}, tc.migs)
			if tc.wantErr != nil {
				if c != nil {
					c.Close()
				}
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("open: %v, want %v", err, tc.wantErr)
				}
				if !strings.Contains(err.Error(), path) {
					t.Errorf("error %q does not name the file", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			var v int
			if err := c.r.QueryRow("SELECT max(version) FROM schema_migrations").Scan(&v); err != nil {
				t.Fatal(err)
			}
			if v != tc.wantVer {
				t.Errorf("schema version %d, want %d", v, tc.wantVer)
			}
			if err := verifySchema(ctx, c.w, tc.migs); err != nil {
				t.Errorf("schema after migration: %v", err)
			}
		})
	}
	if SchemaVersion() != 3 {
		t.Errorf("SchemaVersion() = %d", SchemaVersion())
	}
}

// execSQL runs statements on a database file directly.
func execSQL(t *testing.T, path string, stmts ...string) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

func TestRunLifecycle(t *testing.T) {
	c := newCatalog(t)
	ctx := context.Background()
	r1, err := c.BeginRun(ctx, t0)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.RecordSkipped(ctx, r1, SkippedItem{Account: paul, ItemRef: "msg-7", Reason: "503 from Graph"}); err != nil {
		t.Fatal(err)
	}
	if err := c.FinishRun(ctx, r1, RunResult{Ended: t0.Add(time.Minute), Status: RunCompletedWithWarnings,
		Counts: Counts{ItemsNew: 10, BytesNew: 1000, ItemsSkipped: 1}, Warnings: []string{"1 item skipped"}}); err != nil {
		t.Fatal(err)
	}
	r2, _ := c.BeginRun(ctx, t0.Add(time.Hour))
	if err := c.RecordSkipped(ctx, r2, SkippedItem{Account: paul, ItemRef: "msg-7", Reason: "503 again"}); err != nil {
		t.Fatal(err)
	}
	if err := c.RecordSkipped(ctx, r2, SkippedItem{ItemRef: "drive", Reason: "drive not found", Attempts: 5}); err != nil {
		t.Fatal(err)
	}
	r3, _ := c.BeginRun(ctx, t0.Add(2*time.Hour))

	tests := []struct {
		name string
		run  int64
		res  RunResult
		want error
	}{
		{"failed", r2, RunResult{Status: RunFailed, Error: "drive unplugged"}, nil},
		{"running is not an end", r3, RunResult{Status: RunRunning}, ErrInvalid},
		{"unknown run", 999, RunResult{Status: RunCancelled}, ErrNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := c.FinishRun(ctx, tc.run, tc.res)
			if !errors.Is(err, tc.want) {
				t.Fatalf("FinishRun: %v, want %v", err, tc.want)
			}
		})
	}

	runs, err := c.Runs(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 3 || runs[0].ID != r3 || runs[2].ID != r1 {
		t.Fatalf("runs not newest first: %+v", runs)
	}
	if runs[0].Status != RunRunning {
		t.Errorf("run 3 status %q", runs[0].Status)
	}
	got2 := runs[1]
	if got2.Status != RunFailed || got2.Error != "drive unplugged" || len(got2.Skipped) != 2 {
		t.Errorf("run 2 = %+v", got2)
	}
	if got2.Skipped[0].Attempts != 2 || got2.Skipped[0].Account != paul {
		t.Errorf("second skip of msg-7: %+v, want attempt 2", got2.Skipped[0])
	}
	if got2.Skipped[1].Attempts != 5 || got2.Skipped[1].Account != "" {
		t.Errorf("explicit attempts: %+v", got2.Skipped[1])
	}
	got1 := runs[2]
	if got1.Status != RunCompletedWithWarnings || got1.Counts.ItemsNew != 10 || got1.Counts.BytesNew != 1000 ||
		!got1.Started.Equal(t0) || !got1.Ended.Equal(t0.Add(time.Minute)) || len(got1.Warnings) != 1 || got1.Skipped[0].Attempts != 1 {
		t.Errorf("run 1 = %+v", got1)
	}
	if limited, _ := c.Runs(ctx, 1); len(limited) != 1 {
		t.Errorf("Runs(1) gave %d runs", len(limited))
	}
}

func TestSnapshots(t *testing.T) {
	c := newCatalog(t)
	ctx := context.Background()
	s1 := snapshot(t, c, paul, SnapshotMail, t0, false)
	snapshot(t, c, anna, SnapshotMail, t0, false)
	pending, err := c.RecordSnapshot(ctx, Snapshot{Account: paul, Kind: SnapshotMail, Time: t0.Add(time.Hour), Parent: repoID(s1)})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		s    Snapshot
		want error
	}{
		{"second pending in stream", Snapshot{Account: paul, Kind: SnapshotMail, Time: t0.Add(2 * time.Hour)}, ErrPendingSnapshot},
		{"other stream is fine", Snapshot{Account: paul, Kind: SnapshotOneDrive, Time: t0}, nil},
		{"unknown account", Snapshot{Account: "nobody", Kind: SnapshotMail}, ErrNotFound},
		{"bad kind", Snapshot{Account: paul, Kind: "sharepoint-chats"}, ErrInvalid},
		{"out of order", Snapshot{Account: anna, Kind: SnapshotMail, Time: t0.Add(-time.Hour)}, ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.RecordSnapshot(ctx, tc.s)
			if !errors.Is(err, tc.want) {
				t.Fatalf("RecordSnapshot: %v, want %v", err, tc.want)
			}
		})
	}
	p, ok, err := c.PendingSnapshot(ctx, paul, SnapshotMail)
	if err != nil || !ok || p.Seq != pending || p.Parent != repoID(s1) {
		t.Fatalf("PendingSnapshot = %+v %v %v", p, ok, err)
	}
	if err := c.CompleteSnapshot(ctx, pending, "abc"); err != nil {
		t.Fatal(err)
	}
	if err := c.CompleteSnapshot(ctx, pending, "abc"); !errors.Is(err, ErrNotFound) {
		t.Errorf("completing twice: %v", err)
	}
	if _, ok, _ := c.PendingSnapshot(ctx, paul, SnapshotMail); ok {
		t.Error("still pending after CompleteSnapshot")
	}
	all, err := c.Snapshots(ctx, paul, SnapshotMail)
	if err != nil || len(all) != 2 || all[1].RepoID != "abc" || all[1].Status != SnapshotComplete || !all[0].Time.Equal(t0) {
		t.Fatalf("Snapshots = %+v, %v", all, err)
	}
	accts, err := c.Accounts(ctx)
	if err != nil || len(accts) != 2 || accts[0].HomeID != anna || accts[1].DisplayName != "Paul Müller" {
		t.Fatalf("Accounts = %+v, %v", accts, err)
	}
}
