package catalog

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
)

// A migration brings the schema from version-1 to version. Migrations are
// applied in order, each in the same transaction as its schema_migrations
// row, and never edited once released: a change is a new migration.
type migration struct {
	version int
	sql     string
}

// migrations is the catalog's schema history. Times are Unix milliseconds;
// seq columns are snapshots.seq.
var migrations = []migration{
	{1, schemaV1},
	{2, schemaV2},
	{3, schemaV3},
}

// SchemaVersion is the schema version this build writes.
func SchemaVersion() int { return migrations[len(migrations)-1].version }

const schemaV1 = `
CREATE TABLE accounts (
	id           INTEGER PRIMARY KEY,
	home_id      TEXT NOT NULL UNIQUE,
	upn          TEXT NOT NULL DEFAULT '',
	display_name TEXT NOT NULL DEFAULT '',
	kind         TEXT NOT NULL DEFAULT ''
) STRICT;

CREATE TABLE runs (
	id             INTEGER PRIMARY KEY,
	started        INTEGER NOT NULL,
	ended          INTEGER NOT NULL DEFAULT 0,
	status         TEXT NOT NULL CHECK (status IN ('running','completed','completed-with-warnings','failed','cancelled')),
	items_new      INTEGER NOT NULL DEFAULT 0,
	items_changed  INTEGER NOT NULL DEFAULT 0,
	items_deleted  INTEGER NOT NULL DEFAULT 0,
	items_skipped  INTEGER NOT NULL DEFAULT 0,
	bytes_new      INTEGER NOT NULL DEFAULT 0,
	bytes_changed  INTEGER NOT NULL DEFAULT 0,
	bytes_deleted  INTEGER NOT NULL DEFAULT 0,
	bytes_skipped  INTEGER NOT NULL DEFAULT 0,
	warnings       TEXT NOT NULL DEFAULT '[]',
	error          TEXT NOT NULL DEFAULT ''
) STRICT;

CREATE TABLE skipped (
	id         INTEGER PRIMARY KEY,
	run_id     INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
	account_id INTEGER REFERENCES accounts(id) ON DELETE CASCADE,
	item_ref   TEXT NOT NULL,
	reason     TEXT NOT NULL,
	attempts   INTEGER NOT NULL DEFAULT 1
) STRICT;
CREATE INDEX skipped_run ON skipped(run_id);
CREATE INDEX skipped_item ON skipped(account_id, item_ref);

CREATE TABLE snapshots (
	seq        INTEGER PRIMARY KEY,
	repo_id    TEXT UNIQUE,
	account_id INTEGER NOT NULL REFERENCES accounts(id),
	kind       TEXT NOT NULL CHECK (kind IN ('mail','onedrive')),
	time       INTEGER NOT NULL,
	status     TEXT NOT NULL CHECK (status IN ('pending','complete')),
	parent     TEXT NOT NULL DEFAULT '',
	run_id     INTEGER REFERENCES runs(id) ON DELETE SET NULL
) STRICT;
CREATE INDEX snapshots_stream ON snapshots(account_id, kind, time);

CREATE TABLE items (
	id          INTEGER PRIMARY KEY,
	account_id  INTEGER NOT NULL REFERENCES accounts(id),
	kind        TEXT NOT NULL CHECK (kind IN ('mail','file')),
	ext_id      TEXT NOT NULL,
	message_id  TEXT NOT NULL DEFAULT '',
	sort_key    INTEGER NOT NULL UNIQUE,
	cur_version INTEGER,
	deleted_seq INTEGER,
	UNIQUE (account_id, kind, ext_id)
) STRICT;
CREATE INDEX items_deleted ON items(account_id, deleted_seq) WHERE deleted_seq IS NOT NULL;
CREATE INDEX items_deleted_all ON items(deleted_seq) WHERE deleted_seq IS NOT NULL;
CREATE INDEX items_message_id ON items(message_id) WHERE message_id <> '';

CREATE TABLE versions (
	id          INTEGER PRIMARY KEY,
	item_id     INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
	account_id  INTEGER NOT NULL,
	kind        TEXT NOT NULL,
	first_seq   INTEGER NOT NULL,
	last_seq    INTEGER,
	end_seq     INTEGER,
	seen_seq    INTEGER NOT NULL,
	content     TEXT NOT NULL DEFAULT '',
	size        INTEGER NOT NULL DEFAULT 0,
	name        TEXT NOT NULL DEFAULT '',
	folder      TEXT NOT NULL DEFAULT '',
	time        INTEGER NOT NULL DEFAULT 0,
	metadata    TEXT NOT NULL DEFAULT '{}',
	fingerprint BLOB NOT NULL
) STRICT;
CREATE INDEX versions_item ON versions(item_id, first_seq);
CREATE INDEX versions_folder ON versions(account_id, kind, folder, first_seq);
CREATE INDEX versions_first ON versions(first_seq);
CREATE INDEX versions_end ON versions(end_seq) WHERE end_seq IS NOT NULL;
CREATE INDEX versions_open ON versions(account_id, kind, seen_seq) WHERE end_seq IS NULL;

CREATE VIRTUAL TABLE search USING fts5(
	name, people, body, attachments, path, tags,
	tokenize = 'unicode61 remove_diacritics 2'
);
`

// schemaV2 admits calendar and contacts snapshots and their items (event,
// contact). SQLite cannot change a CHECK constraint in place, so the three
// tables are rebuilt and their rows copied. versions is copied first into a
// table that already references the new items table, and the old versions
// table is dropped before the old items table, so no ON DELETE CASCADE
// fires while the old tables go (foreign keys stay on: migrations run in a
// transaction, where that pragma cannot change).
const schemaV2 = `
CREATE TABLE snapshots_v2 (
	seq        INTEGER PRIMARY KEY,
	repo_id    TEXT UNIQUE,
	account_id INTEGER NOT NULL REFERENCES accounts(id),
	kind       TEXT NOT NULL CHECK (kind IN ('mail','onedrive','calendar','contacts')),
	time       INTEGER NOT NULL,
	status     TEXT NOT NULL CHECK (status IN ('pending','complete')),
	parent     TEXT NOT NULL DEFAULT '',
	run_id     INTEGER REFERENCES runs(id) ON DELETE SET NULL
) STRICT;
INSERT INTO snapshots_v2 SELECT seq, repo_id, account_id, kind, time, status, parent, run_id FROM snapshots;

CREATE TABLE items_v2 (
	id          INTEGER PRIMARY KEY,
	account_id  INTEGER NOT NULL REFERENCES accounts(id),
	kind        TEXT NOT NULL CHECK (kind IN ('mail','file','event','contact')),
	ext_id      TEXT NOT NULL,
	message_id  TEXT NOT NULL DEFAULT '',
	sort_key    INTEGER NOT NULL UNIQUE,
	cur_version INTEGER,
	deleted_seq INTEGER,
	UNIQUE (account_id, kind, ext_id)
) STRICT;
INSERT INTO items_v2 SELECT id, account_id, kind, ext_id, message_id, sort_key, cur_version, deleted_seq FROM items;

CREATE TABLE versions_v2 (
	id          INTEGER PRIMARY KEY,
	item_id     INTEGER NOT NULL REFERENCES items_v2(id) ON DELETE CASCADE,
	account_id  INTEGER NOT NULL,
	kind        TEXT NOT NULL,
	first_seq   INTEGER NOT NULL,
	last_seq    INTEGER,
	end_seq     INTEGER,
	seen_seq    INTEGER NOT NULL,
	content     TEXT NOT NULL DEFAULT '',
	size        INTEGER NOT NULL DEFAULT 0,
	name        TEXT NOT NULL DEFAULT '',
	folder      TEXT NOT NULL DEFAULT '',
	time        INTEGER NOT NULL DEFAULT 0,
	metadata    TEXT NOT NULL DEFAULT '{}',
	fingerprint BLOB NOT NULL
) STRICT;
INSERT INTO versions_v2 SELECT id, item_id, account_id, kind, first_seq, last_seq, end_seq, seen_seq, content, size, name, folder, time, metadata, fingerprint FROM versions;

DROP TABLE versions;
DROP TABLE items;
DROP TABLE snapshots;
ALTER TABLE snapshots_v2 RENAME TO snapshots;
ALTER TABLE items_v2 RENAME TO items;
ALTER TABLE versions_v2 RENAME TO versions;

CREATE INDEX snapshots_stream ON snapshots(account_id, kind, time);
CREATE INDEX items_deleted ON items(account_id, deleted_seq) WHERE deleted_seq IS NOT NULL;
CREATE INDEX items_deleted_all ON items(deleted_seq) WHERE deleted_seq IS NOT NULL;
CREATE INDEX items_message_id ON items(message_id) WHERE message_id <> '';
CREATE INDEX versions_item ON versions(item_id, first_seq);
CREATE INDEX versions_folder ON versions(account_id, kind, folder, first_seq);
CREATE INDEX versions_first ON versions(first_seq);
CREATE INDEX versions_end ON versions(end_seq) WHERE end_seq IS NOT NULL;
CREATE INDEX versions_open ON versions(account_id, kind, seen_seq) WHERE end_seq IS NULL;
`

func migsUpTo(migs []migration, v int) []migration {
	var out []migration
	for _, m := range migs {
		if m.version <= v {
			out = append(out, m)
		}
	}
	return out
}

// schemaVersion reads a database's schema version without changing it:
// 0 for a new, empty file; ErrNotCatalog for someone else's database;
// ErrNewerSchema for a version newer than migs.
func schemaVersion(ctx context.Context, db *sql.DB, migs []migration) (int, error) {
	var appID int64
	if err := db.QueryRowContext(ctx, "PRAGMA application_id").Scan(&appID); err != nil {
		return 0, fmt.Errorf("reading application id: %w", classify(err))
	}
	var n int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master").Scan(&n); err != nil {
		return 0, fmt.Errorf("reading schema: %w", classify(err))
	}
	switch {
	case appID == 0 && n == 0:
		return 0, nil
	case appID != applicationID:
		return 0, fmt.Errorf("%w (application id %#x)", ErrNotCatalog, appID)
	}
	var has int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='schema_migrations'").Scan(&has); err != nil {
		return 0, fmt.Errorf("reading schema: %w", classify(err))
	}
	if has == 0 {
		if n > 0 {
			return 0, fmt.Errorf("%w: no schema_migrations table", ErrSchemaMismatch)
		}
		return 0, nil
	}
	var cur int
	if err := db.QueryRowContext(ctx, "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&cur); err != nil {
		return 0, fmt.Errorf("reading schema version: %w", classify(err))
	}
	if latest := migs[len(migs)-1].version; cur > latest {
		return 0, fmt.Errorf("%w: schema version %d, this build knows up to %d; update Lifeboat to open it", ErrNewerSchema, cur, latest)
	}
	return cur, nil
}

// migrate brings db to the newest version in migs, in one transaction.
func migrate(ctx context.Context, db *sql.DB, migs []migration) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrating schema: %w", classify(err))
	}
	defer tx.Rollback()
	var appID int64
	if err := tx.QueryRowContext(ctx, "PRAGMA application_id").Scan(&appID); err != nil {
		return fmt.Errorf("reading application id: %w", classify(err))
	}
	switch appID {
	case applicationID:
	case 0:
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master").Scan(&n); err != nil {
			return fmt.Errorf("reading schema: %w", classify(err))
		}
		if n > 0 {
			return ErrNotCatalog
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA application_id=%d", applicationID)); err != nil {
			return fmt.Errorf("setting application id: %w", classify(err))
		}
	default:
		return fmt.Errorf("%w (application id %#x)", ErrNotCatalog, appID)
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
	version INTEGER PRIMARY KEY,
	applied INTEGER NOT NULL
) STRICT`); err != nil {
		return fmt.Errorf("creating schema_migrations: %w", classify(err))
	}
	var cur int
	if err := tx.QueryRowContext(ctx, "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&cur); err != nil {
		return fmt.Errorf("reading schema version: %w", classify(err))
	}
	latest := 0
	if len(migs) > 0 {
		latest = migs[len(migs)-1].version
	}
	if cur > latest {
		return fmt.Errorf("%w: schema version %d, this build knows up to %d; update Lifeboat to open it", ErrNewerSchema, cur, latest)
	}
	for _, m := range migs {
		if m.version <= cur {
			continue
		}
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return fmt.Errorf("migrating schema to version %d: %w", m.version, classify(err))
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations(version, applied) VALUES (?, strftime('%s','now')*1000)", m.version); err != nil {
			return fmt.Errorf("recording schema version %d: %w", m.version, classify(err))
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrating schema: committing: %w", classify(err))
	}
	return nil
}

type schemaEntry struct{ typ, name, tbl, sql string }

func readSchema(ctx context.Context, db *sql.DB) ([]schemaEntry, error) {
	rows, err := db.QueryContext(ctx, "SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_master ORDER BY type, name")
	if err != nil {
		return nil, fmt.Errorf("reading schema: %w", classify(err))
	}
	defer rows.Close()
	var out []schemaEntry
	for rows.Next() {
		var e schemaEntry
		if err := rows.Scan(&e.typ, &e.name, &e.tbl, &e.sql); err != nil {
			return nil, fmt.Errorf("reading schema: %w", classify(err))
		}
		if strings.HasPrefix(e.name, "sqlite_stat") {
			continue // planner statistics from ANALYZE/optimize
		}
		if strings.HasPrefix(e.name, "search_") && e.typ == "table" {
			// FTS5's shadow tables: their SQL text is SQLite's, not ours,
			// and may differ between SQLite versions.
			e.sql = ""
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading schema: %w", classify(err))
	}
	return out, nil
}

// verifySchema checks that db's tables, indexes, triggers and views are
// exactly those migs create: an imported catalog could otherwise carry
// triggers or views that run when it is queried.
func verifySchema(ctx context.Context, db *sql.DB, migs []migration) error {
	ref, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		return fmt.Errorf("verifying schema: %w", err)
	}
	defer ref.Close()
	ref.SetMaxOpenConns(1)
	if err := migrate(ctx, ref, migs); err != nil {
		return fmt.Errorf("verifying schema: building reference: %w", err)
	}
	want, err := readSchema(ctx, ref)
	if err != nil {
		return err
	}
	got, err := readSchema(ctx, db)
	if err != nil {
		return err
	}
	if !slices.Equal(got, want) {
		for _, g := range got {
			if !slices.Contains(want, g) {
				return fmt.Errorf("%w: unexpected or altered %s %q", ErrSchemaMismatch, g.typ, g.name)
			}
		}
		for _, w := range want {
			if !slices.Contains(got, w) {
				return fmt.Errorf("%w: missing %s %q", ErrSchemaMismatch, w.typ, w.name)
			}
		}
		return ErrSchemaMismatch
	}
	return nil
}
