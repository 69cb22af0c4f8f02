package catalog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// fillLast sets Last of current versions to their stream's latest snapshot.
func fillLast(ctx context.Context, tx *sql.Tx, vs []*VersionInfo) error {
	type stream struct {
		acct string
		kind ItemKind
	}
	latest := map[stream]int64{}
	for _, v := range vs {
		if v.End != 0 {
			continue
		}
		st := stream{v.Item.Account, v.Item.Kind}
		seq, ok := latest[st]
		if !ok {
			sk, err := st.kind.SnapshotKind()
			if err != nil {
				return err
			}
			if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(s.seq), 0) FROM snapshots s JOIN accounts a ON a.id = s.account_id
WHERE a.home_id = ? AND s.kind = ?`, st.acct, string(sk)).Scan(&seq); err != nil {
				return err
			}
			latest[st] = seq
		}
		v.Last = seq
	}
	return nil
}

// AsOfQuery selects what a stream held at one snapshot.
type AsOfQuery struct {
	Account string   // Account.HomeID
	Kind    ItemKind // KindMail or KindFile
	// Snapshot is a snapshot seq of the stream. When 0, the latest
	// complete snapshot at or before Time is used (the latest if Time is zero).
	Snapshot int64
	Time     time.Time
	// Folder lists one folder ("" is the top); Recursive includes
	// everything below it too ("" and Recursive: everything).
	Folder    string
	Recursive bool
	Limit     int // default 1000, at most 100000
	Offset    int
}

// resolveSnapshot finds the snapshot an AsOfQuery refers to.
func resolveSnapshot(ctx context.Context, tx *sql.Tx, q AsOfQuery) (Snapshot, int64, error) {
	sk, err := q.Kind.SnapshotKind()
	if err != nil {
		return Snapshot{}, 0, err
	}
	acct, err := accountID(ctx, tx, q.Account)
	if err != nil {
		return Snapshot{}, 0, err
	}
	seq := q.Snapshot
	if seq == 0 {
		t := q.Time
		if t.IsZero() {
			t = time.Unix(1<<40, 0)
		}
		err := tx.QueryRowContext(ctx, `SELECT seq FROM snapshots WHERE account_id=? AND kind=? AND status='complete' AND time<=?
ORDER BY time DESC, seq DESC LIMIT 1`, acct, string(sk), ms(t)).Scan(&seq)
		if errors.Is(err, sql.ErrNoRows) {
			return Snapshot{}, 0, fmt.Errorf("%w: %s of %s at %s", ErrNoSnapshot, sk, q.Account, q.Time.Format(time.RFC3339))
		} else if err != nil {
			return Snapshot{}, 0, err
		}
	}
	s, err := getSnapshot(ctx, tx, seq)
	if err != nil {
		return s, 0, err
	}
	if s.Account != q.Account || s.Kind != sk {
		return s, 0, fmt.Errorf("%w: snapshot %d is not a %s snapshot of %s", ErrInvalid, seq, sk, q.Account)
	}
	return s, acct, nil
}

// folderCond returns the SQL condition and arguments for a folder filter on v.folder.
func folderCond(folder string, recursive bool) (string, []any) {
	f := strings.TrimSuffix(folder, "/")
	if !recursive {
		return " AND v.folder = ?", []any{f}
	}
	if strings.Trim(f, "/") == "" {
		return "", nil
	}
	lo, hi := folderBounds(f)
	return " AND (v.folder = ? OR (v.folder >= ? AND v.folder < ?))", []any{f, lo, hi}
}

// AsOf lists the versions a stream held at a snapshot (or time), by folder
// and name, and returns the snapshot it used.
func (c *Catalog) AsOf(ctx context.Context, q AsOfQuery) (Snapshot, []VersionInfo, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 1000
	}
	limit = min(limit, 100000)
	var snap Snapshot
	var out []VersionInfo
	err := c.readTx(ctx, "listing as of snapshot", func(tx *sql.Tx) error {
		var acct int64
		var err error
		snap, acct, err = resolveSnapshot(ctx, tx, q)
		if err != nil {
			return err
		}
		cond, cargs := folderCond(q.Folder, q.Recursive)
		args := append([]any{acct, string(q.Kind)}, cargs...)
		args = append(args, snap.Seq, snap.Seq, limit, max(q.Offset, 0))
		rows, err := tx.QueryContext(ctx, `SELECT `+versionCols+` FROM versions v JOIN items i ON i.id = v.item_id JOIN accounts a ON a.id = i.account_id
WHERE v.account_id = ? AND v.kind = ?`+cond+` AND v.first_seq <= ? AND (v.end_seq IS NULL OR v.end_seq > ?)
ORDER BY v.folder, v.name, v.id LIMIT ? OFFSET ?`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			v, err := scanVersion(rows)
			if err != nil {
				return err
			}
			out = append(out, v)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		return fillLast(ctx, tx, toPtrs(out, func(v *VersionInfo) *VersionInfo { return v }))
	})
	return snap, out, err
}

// Folders lists the distinct folders that held something at the snapshot
// an AsOfQuery selects (Folder, Recursive, Limit and Offset are ignored).
func (c *Catalog) Folders(ctx context.Context, q AsOfQuery) ([]string, error) {
	var out []string
	err := c.readTx(ctx, "listing folders", func(tx *sql.Tx) error {
		snap, acct, err := resolveSnapshot(ctx, tx, q)
		if err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT DISTINCT v.folder FROM versions v
WHERE v.account_id = ? AND v.kind = ? AND v.first_seq <= ? AND (v.end_seq IS NULL OR v.end_seq > ?) ORDER BY v.folder`,
			acct, string(q.Kind), snap.Seq, snap.Seq)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var f string
			if err := rows.Scan(&f); err != nil {
				return err
			}
			out = append(out, f)
		}
		return rows.Err()
	})
	return out, err
}

// Versions lists every version of an item, newest first.
func (c *Catalog) Versions(ctx context.Context, ref ItemRef) ([]VersionInfo, error) {
	var out []VersionInfo
	err := c.readTx(ctx, fmt.Sprintf("listing versions of %s %q", ref.Kind, ref.ID), func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+versionCols+` FROM items i JOIN accounts a ON a.id = i.account_id JOIN versions v ON v.item_id = i.id
WHERE a.home_id = ? AND i.kind = ? AND i.ext_id = ? ORDER BY v.id DESC`, ref.Account, string(ref.Kind), ref.ID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			v, err := scanVersion(rows)
			if err != nil {
				return err
			}
			out = append(out, v)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if len(out) == 0 {
			return ErrNotFound
		}
		return fillLast(ctx, tx, toPtrs(out, func(v *VersionInfo) *VersionInfo { return v }))
	})
	return out, err
}

// Version returns the version with the given id (VersionInfo.ID): the
// short, stable handle a person copies from a listing.
func (c *Catalog) Version(ctx context.Context, id int64) (VersionInfo, error) {
	var v VersionInfo
	err := c.readTx(ctx, fmt.Sprintf("reading version %d", id), func(tx *sql.Tx) error {
		var err error
		v, err = scanVersion(tx.QueryRowContext(ctx, `SELECT `+versionCols+` FROM versions v JOIN items i ON i.id = v.item_id
JOIN accounts a ON a.id = i.account_id WHERE v.id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		return fillLast(ctx, tx, []*VersionInfo{&v})
	})
	return v, err
}

// RecentlyDeleted lists deleted items, most recently deleted first, with
// the last version each had. An empty account lists all accounts.
func (c *Catalog) RecentlyDeleted(ctx context.Context, account string, limit int) ([]Deleted, error) {
	return c.DeletedSince(ctx, account, time.Time{}, limit)
}

// DeletedSince is RecentlyDeleted restricted to items found deleted by a
// snapshot taken at or after since.
func (c *Catalog) DeletedSince(ctx context.Context, account string, since time.Time, limit int) ([]Deleted, error) {
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 100000)
	var out []Deleted
	err := c.readTx(ctx, "listing deleted items", func(tx *sql.Tx) error {
		q := `SELECT ` + versionCols + `, i.deleted_seq, s.time FROM items i JOIN versions v ON v.id = i.cur_version
JOIN accounts a ON a.id = i.account_id JOIN snapshots s ON s.seq = i.deleted_seq
WHERE i.deleted_seq IS NOT NULL AND s.time >= ?`
		args := []any{ms(since)}
		if account != "" {
			acct, err := accountID(ctx, tx, account)
			if err != nil {
				return err
			}
			q += " AND i.account_id = ?"
			args = append(args, acct)
		}
		q += " ORDER BY i.deleted_seq DESC, i.id DESC LIMIT ?"
		args = append(args, limit)
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var d Deleted
			var t int64
			if d.VersionInfo, err = scanVersion(rows, &d.DeletedSeq, &t); err != nil {
				return err
			}
			d.DeletedAt = fromMS(t)
			out = append(out, d)
		}
		return rows.Err()
	})
	return out, err
}

// ByInternetMessageID returns the newest version of every mail item of an
// account with that internetMessageId (Graph message ids change when a
// message moves between folders; this one does not).
func (c *Catalog) ByInternetMessageID(ctx context.Context, account, messageID string) ([]VersionInfo, error) {
	var out []VersionInfo
	err := c.readTx(ctx, "finding message "+messageID, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+versionCols+` FROM items i JOIN accounts a ON a.id = i.account_id JOIN versions v ON v.id = i.cur_version
WHERE i.message_id = ? AND i.message_id <> '' AND a.home_id = ? AND i.kind = 'mail' ORDER BY v.time DESC, v.id DESC`, messageID, account)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			v, err := scanVersion(rows)
			if err != nil {
				return err
			}
			out = append(out, v)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		return fillLast(ctx, tx, toPtrs(out, func(v *VersionInfo) *VersionInfo { return v }))
	})
	return out, err
}

// DeletedRange is a group of deleted items whose last version existed in
// the same snapshots of one stream: any one of snapshots First..Last (by
// seq) still holds them.
type DeletedRange struct {
	Account     string   // Account.HomeID
	Kind        ItemKind // KindMail or KindFile
	First, Last int64    // the snapshot seqs the last versions existed in
	Items       int64
	// NewestDeletion is when the most recently deleted of them was found
	// gone.
	NewestDeletion time.Time
}

// DeletedRanges groups the items found deleted at or after since by the
// snapshots that hold their last version, for retention: keeping one of
// those snapshots keeps the items restorable.
func (c *Catalog) DeletedRanges(ctx context.Context, since time.Time) ([]DeletedRange, error) {
	var out []DeletedRange
	err := c.readTx(ctx, "grouping deleted items", func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT a.home_id, i.kind, v.first_seq, coalesce(v.last_seq, v.first_seq), count(*), max(s.time)
FROM items i JOIN versions v ON v.id = i.cur_version JOIN accounts a ON a.id = i.account_id JOIN snapshots s ON s.seq = i.deleted_seq
WHERE i.deleted_seq IS NOT NULL AND s.time >= ?
GROUP BY a.home_id, i.kind, v.first_seq, coalesce(v.last_seq, v.first_seq) ORDER BY 1, 2, 3, 4`, ms(since))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var d DeletedRange
			var kind string
			var t int64
			if err := rows.Scan(&d.Account, &kind, &d.First, &d.Last, &d.Items, &t); err != nil {
				return err
			}
			d.Kind, d.NewestDeletion = ItemKind(kind), fromMS(t)
			out = append(out, d)
		}
		return rows.Err()
	})
	return out, err
}
