package catalog

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Batch is one write transaction against one snapshot: a backup run opens
// a batch, Upserts and Deletes a few thousand items, commits, and opens
// the next. Statements are prepared once per batch. A Batch is not safe
// for concurrent use, and while it is open every other write on the
// Catalog waits for it.
type Batch struct {
	c     *Catalog
	ctx   context.Context
	tx    *sql.Tx
	seq   int64
	prev  int64 // the stream's previous snapshot (0 if none)
	acct  int64
	snap  Snapshot
	kind  ItemKind
	stmts map[string]*sql.Stmt
	done  bool

	fts      map[int64]*ftsOp // pending search changes by rowid
	ftsBytes int
}

// Begin opens a write batch for snapshot seq, which must be the latest
// snapshot of its stream (snapshots are written in order).
func (c *Catalog) Begin(ctx context.Context, seq int64) (*Batch, error) {
	tx, err := c.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("catalog: beginning batch for snapshot %d: %w", seq, classify(err))
	}
	b := &Batch{c: c, ctx: ctx, tx: tx, seq: seq, stmts: map[string]*sql.Stmt{}, fts: map[int64]*ftsOp{}}
	if err := b.load(); err != nil {
		_ = tx.Rollback()
		return nil, fmt.Errorf("catalog: beginning batch for snapshot %d: %w", seq, classify(err))
	}
	return b, nil
}

func (b *Batch) load() error {
	s, err := getSnapshot(b.ctx, b.tx, b.seq)
	if err != nil {
		return err
	}
	b.snap = s
	if b.kind, err = s.Kind.ItemKind(); err != nil {
		return err
	}
	if err := b.tx.QueryRowContext(b.ctx, "SELECT account_id FROM snapshots WHERE seq=?", b.seq).Scan(&b.acct); err != nil {
		return err
	}
	var latest int64
	if err := b.tx.QueryRowContext(b.ctx, "SELECT max(seq) FROM snapshots WHERE account_id=? AND kind=?", b.acct, string(s.Kind)).Scan(&latest); err != nil {
		return err
	}
	if latest != b.seq {
		return fmt.Errorf("%w: snapshot %d is not the latest of its stream (%d is)", ErrInvalid, b.seq, latest)
	}
	return b.tx.QueryRowContext(b.ctx, "SELECT coalesce(max(seq), 0) FROM snapshots WHERE account_id=? AND kind=? AND seq<?", b.acct, string(s.Kind), b.seq).Scan(&b.prev)
}

// Seq returns the snapshot the batch writes to.
func (b *Batch) Seq() int64 { return b.seq }

func (b *Batch) stmt(q string) (*sql.Stmt, error) {
	if s, ok := b.stmts[q]; ok {
		return s, nil
	}
	s, err := b.tx.PrepareContext(b.ctx, q)
	if err != nil {
		return nil, err
	}
	b.stmts[q] = s
	return s, nil
}

func (b *Batch) exec(q string, args ...any) (sql.Result, error) {
	s, err := b.stmt(q)
	if err != nil {
		return nil, err
	}
	return s.ExecContext(b.ctx, args...)
}

func (b *Batch) queryRow(q string, args ...any) *sql.Row {
	s, err := b.stmt(q)
	if err != nil {
		// Surface the prepare error through Row.Scan.
		return b.tx.QueryRowContext(b.ctx, q, args...)
	}
	return s.QueryRowContext(b.ctx, args...)
}

// Commit commits the batch.
func (b *Batch) Commit() error {
	if b.done {
		return fmt.Errorf("catalog: committing batch for snapshot %d: %w", b.seq, sql.ErrTxDone)
	}
	if err := b.flushSearch(); err != nil {
		_ = b.Rollback()
		return fmt.Errorf("catalog: committing batch for snapshot %d: updating search index: %w", b.seq, classify(err))
	}
	b.close()
	if err := b.tx.Commit(); err != nil {
		return fmt.Errorf("catalog: committing batch for snapshot %d: %w", b.seq, classify(err))
	}
	return nil
}

// Rollback abandons the batch; it is a no-op after Commit.
func (b *Batch) Rollback() error {
	if b.done {
		return nil
	}
	b.close()
	if err := b.tx.Rollback(); err != nil {
		return fmt.Errorf("catalog: rolling back batch for snapshot %d: %w", b.seq, err)
	}
	return nil
}

func (b *Batch) close() {
	b.done = true
	for _, s := range b.stmts {
		_ = s.Close()
	}
}

// current is an item and its current version, as Upsert and Delete find them.
type current struct {
	item, sortKey, version, first int64
	deleted, end                  sql.NullInt64
	fp                            []byte
	content                       string
}

const currentQuery = `SELECT i.id, i.sort_key, i.deleted_seq, coalesce(v.id, 0), coalesce(v.first_seq, 0), v.end_seq, coalesce(v.fingerprint, x''), coalesce(v.content, '')
FROM items i LEFT JOIN versions v ON v.id = i.cur_version WHERE i.account_id=? AND i.kind=? AND i.ext_id=?`

func (b *Batch) current(id string) (current, bool, error) {
	var cur current
	err := b.queryRow(currentQuery, b.acct, string(b.kind), id).Scan(&cur.item, &cur.sortKey, &cur.deleted, &cur.version, &cur.first, &cur.end, &cur.fp, &cur.content)
	if errors.Is(err, sql.ErrNoRows) {
		return cur, false, nil
	}
	return cur, err == nil, err
}

func (b *Batch) checkRef(r ItemRef) error {
	if b.done {
		return sql.ErrTxDone
	}
	if r.ID == "" {
		return fmt.Errorf("%w: empty item id", ErrInvalid)
	}
	if r.Account != b.snap.Account || r.Kind != b.kind {
		return fmt.Errorf("%w: item %s/%s/%s does not belong in %s snapshot %d of %s", ErrInvalid, r.Account, r.Kind, r.ID, b.snap.Kind, b.seq, b.snap.Account)
	}
	return nil
}

// fingerprint hashes the versioned state of v.
func fingerprint(v *Version, meta []byte) []byte {
	h := sha256.New()
	var n [8]byte
	for _, s := range []string{v.Content, v.Name, v.Folder, v.InternetMessageID} {
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	binary.BigEndian.PutUint64(n[:], uint64(v.Size))
	h.Write(n[:])
	binary.BigEndian.PutUint64(n[:], uint64(ms(v.Time)))
	h.Write(n[:])
	h.Write(meta)
	return h.Sum(nil)
}

// compactMetadata validates and compacts metadata JSON ("{}" when empty).
func compactMetadata(m json.RawMessage) ([]byte, error) {
	if len(bytes.TrimSpace(m)) == 0 {
		return []byte("{}"), nil
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, m); err != nil {
		return nil, fmt.Errorf("%w: metadata is not valid JSON: %v", ErrInvalid, err)
	}
	return buf.Bytes(), nil
}

// Upsert records that snapshot Seq saw v. If the item's current version
// has the same versioned state, nothing changes but the version is marked
// seen (its range extends with the snapshot); otherwise the current
// version is closed at the previous snapshot and a new one starts here.
func (b *Batch) Upsert(v Version) (Change, error) {
	ch, err := b.upsert(&v)
	if err != nil {
		return ch, fmt.Errorf("catalog: recording %s %q in snapshot %d: %w", v.Item.Kind, v.Item.ID, b.seq, classify(err))
	}
	return ch, nil
}

func (b *Batch) upsert(v *Version) (Change, error) {
	if err := b.checkRef(v.Item); err != nil {
		return 0, err
	}
	if v.Size < 0 {
		return 0, fmt.Errorf("%w: negative size", ErrInvalid)
	}
	meta, err := compactMetadata(v.Metadata)
	if err != nil {
		return 0, err
	}
	fp := fingerprint(v, meta)
	cur, found, err := b.current(v.Item.ID)
	if err != nil {
		return 0, err
	}
	if !found {
		key, err := b.allocSortKey(v.Time, 0)
		if err != nil {
			return 0, err
		}
		res, err := b.exec("INSERT INTO items(account_id, kind, ext_id, message_id, sort_key) VALUES (?, ?, ?, ?, ?)",
			b.acct, string(b.kind), v.Item.ID, v.InternetMessageID, key)
		if err != nil {
			return 0, err
		}
		item, err := res.LastInsertId()
		if err != nil {
			return 0, err
		}
		if _, err := b.insertVersion(item, v, meta, fp); err != nil {
			return 0, err
		}
		return Added, b.writeSearch(0, key, v, searchText{}, false)
	}
	same := bytes.Equal(cur.fp, fp)
	switch {
	case same && !cur.end.Valid:
		if _, err := b.exec("UPDATE versions SET seen_seq=? WHERE id=? AND seen_seq<?", b.seq, cur.version, b.seq); err != nil {
			return 0, err
		}
		return Unchanged, nil
	case same && cur.end.Int64 == b.seq:
		// Deleted and seen again in the same snapshot: it never went away.
		if _, err := b.exec("UPDATE versions SET last_seq=NULL, end_seq=NULL, seen_seq=? WHERE id=?", b.seq, cur.version); err != nil {
			return 0, err
		}
		if _, err := b.exec("UPDATE items SET deleted_seq=NULL WHERE id=?", cur.item); err != nil {
			return 0, err
		}
		return Unchanged, b.retag(cur.sortKey, false)
	}
	old, err := b.readSearch(cur.sortKey)
	if err != nil {
		return 0, err
	}
	if v.Content == cur.content {
		old.keepUnless(v)
	} else {
		old = searchText{}
	}
	if cur.first == b.seq && !cur.end.Valid {
		// Already written by this snapshot: replace in place.
		if _, err := b.exec(`UPDATE versions SET content=?, size=?, name=?, folder=?, time=?, metadata=?, fingerprint=?, seen_seq=? WHERE id=?`,
			v.Content, v.Size, v.Name, v.Folder, ms(v.Time), string(meta), fp, b.seq, cur.version); err != nil {
			return 0, err
		}
		if _, err := b.exec("UPDATE items SET message_id=? WHERE id=?", v.InternetMessageID, cur.item); err != nil {
			return 0, err
		}
		key, err := b.allocSortKey(v.Time, cur.sortKey)
		if err != nil {
			return 0, err
		}
		return Modified, b.writeSearch(cur.sortKey, key, v, old, false)
	}
	change := Modified
	if cur.end.Valid && cur.end.Int64 != b.seq {
		change = Restored
	}
	if !cur.end.Valid {
		if _, err := b.exec("UPDATE versions SET last_seq=?, end_seq=? WHERE id=?", b.prev, b.seq, cur.version); err != nil {
			return 0, err
		}
	}
	if _, err := b.insertVersion(cur.item, v, meta, fp); err != nil {
		return 0, err
	}
	key, err := b.allocSortKey(v.Time, cur.sortKey)
	if err != nil {
		return 0, err
	}
	return change, b.writeSearch(cur.sortKey, key, v, old, false)
}

func (b *Batch) insertVersion(item int64, v *Version, meta, fp []byte) (int64, error) {
	res, err := b.exec(`INSERT INTO versions(item_id, account_id, kind, first_seq, seen_seq, content, size, name, folder, time, metadata, fingerprint)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		item, b.acct, string(b.kind), b.seq, b.seq, v.Content, v.Size, v.Name, v.Folder, ms(v.Time), string(meta), fp)
	if err != nil {
		return 0, err
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, err
	}
	if _, err := b.exec("UPDATE items SET cur_version=?, deleted_seq=NULL, message_id=? WHERE id=?", id, v.InternetMessageID, item); err != nil {
		return 0, err
	}
	return id, nil
}

// Sort keys order the search index newest first: the item's time in
// seconds, shifted left, plus a counter for items in the same second.
const (
	sortShift   = 20
	maxSortSecs = 1 << 42
)

func sortBase(t time.Time) int64 {
	s := t.Unix()
	if t.IsZero() || s < 0 {
		s = 0
	}
	if s >= maxSortSecs {
		s = maxSortSecs - 1
	}
	return s << sortShift
}

// allocSortKey returns a free sort key for t. If old (the item's current
// key) is already in t's second it is kept.
func (b *Batch) allocSortKey(t time.Time, old int64) (int64, error) {
	base := sortBase(t)
	if old != 0 && old>>sortShift == base>>sortShift {
		return old, nil
	}
	for ; base < maxSortSecs<<sortShift; base += 1 << sortShift {
		var top sql.NullInt64
		if err := b.queryRow("SELECT max(sort_key) FROM items WHERE sort_key BETWEEN ? AND ?", base, base+(1<<sortShift)-1).Scan(&top); err != nil {
			return 0, err
		}
		if !top.Valid {
			return base, nil
		}
		if top.Int64 < base+(1<<sortShift)-1 {
			return top.Int64 + 1, nil
		}
	}
	return 0, errors.New("no free sort key")
}

// Delete records that the item is gone as of this snapshot (a delta's
// @removed). It reports whether anything changed.
func (b *Batch) Delete(ref ItemRef) (bool, error) {
	ok, err := b.delete(ref)
	if err != nil {
		return false, fmt.Errorf("catalog: deleting %s %q in snapshot %d: %w", ref.Kind, ref.ID, b.seq, classify(err))
	}
	return ok, nil
}

func (b *Batch) delete(ref ItemRef) (bool, error) {
	if err := b.checkRef(ref); err != nil {
		return false, err
	}
	cur, found, err := b.current(ref.ID)
	if err != nil || !found || cur.end.Valid || cur.version == 0 {
		return false, err
	}
	if cur.first != b.seq {
		if _, err := b.exec("UPDATE versions SET last_seq=?, end_seq=? WHERE id=?", b.prev, b.seq, cur.version); err != nil {
			return false, err
		}
		if _, err := b.exec("UPDATE items SET deleted_seq=? WHERE id=?", b.seq, cur.item); err != nil {
			return false, err
		}
		return true, b.retag(cur.sortKey, true)
	}
	// The version was written by this very snapshot: it never existed in a
	// saved snapshot, so drop it and fall back to the one before, if any.
	if _, err := b.exec("DELETE FROM versions WHERE id=?", cur.version); err != nil {
		return false, err
	}
	return true, b.resetItem(cur.item, cur.sortKey)
}

// resetItem points an item at its newest remaining version (or removes
// the item if it has none) and rewrites its search row to match. The
// indexed people, attachments and body text are kept.
func (b *Batch) resetItem(item, sortKey int64) error {
	var ver int64
	var end sql.NullInt64
	var v Version
	var t int64
	err := b.queryRow("SELECT id, end_seq, name, folder, time, content FROM versions WHERE item_id=? ORDER BY id DESC LIMIT 1", item).
		Scan(&ver, &end, &v.Name, &v.Folder, &t, &v.Content)
	if errors.Is(err, sql.ErrNoRows) {
		b.searchDelete(sortKey)
		_, err := b.exec("DELETE FROM items WHERE id=?", item)
		return err
	}
	if err != nil {
		return err
	}
	v.Time = fromMS(t)
	v.Item.Kind = b.kind
	var deleted any
	if end.Valid {
		deleted = end.Int64
	}
	if _, err := b.exec("UPDATE items SET cur_version=?, deleted_seq=? WHERE id=?", ver, deleted, item); err != nil {
		return err
	}
	old, err := b.readSearch(sortKey)
	if err != nil {
		return err
	}
	key, err := b.allocSortKey(v.Time, sortKey)
	if err != nil {
		return err
	}
	return b.writeSearch(sortKey, key, &v, old, end.Valid)
}

// MarkSeen records that a full enumeration saw the item unchanged without
// building its Version (Upsert does this too). It reports whether the item
// has a current version.
func (b *Batch) MarkSeen(ref ItemRef) (bool, error) {
	if err := b.checkRef(ref); err != nil {
		return false, fmt.Errorf("catalog: marking %s %q seen in snapshot %d: %w", ref.Kind, ref.ID, b.seq, err)
	}
	res, err := b.exec(`UPDATE versions SET seen_seq=?1 WHERE id = (SELECT cur_version FROM items WHERE account_id=?2 AND kind=?3 AND ext_id=?4)
AND end_seq IS NULL AND seen_seq<?1`, b.seq, b.acct, string(b.kind), ref.ID)
	if err != nil {
		return false, fmt.Errorf("catalog: marking %s %q seen in snapshot %d: %w", ref.Kind, ref.ID, b.seq, classify(err))
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return true, nil
	}
	// Already seen in this snapshot, or gone.
	var open int
	err = b.queryRow(`SELECT count(*) FROM items i JOIN versions v ON v.id = i.cur_version
WHERE i.account_id=? AND i.kind=? AND i.ext_id=? AND v.end_seq IS NULL`, b.acct, string(b.kind), ref.ID).Scan(&open)
	if err != nil {
		return false, fmt.Errorf("catalog: marking %s %q seen in snapshot %d: %w", ref.Kind, ref.ID, b.seq, classify(err))
	}
	return open == 1, nil
}

// CloseUnseen ends every current version of the stream that this snapshot
// did not Upsert: after a full enumeration, what was not seen is deleted.
// It returns how many items it marked deleted.
func (b *Batch) CloseUnseen() (int64, error) {
	if b.done {
		return 0, fmt.Errorf("catalog: closing unseen items of snapshot %d: %w", b.seq, sql.ErrTxDone)
	}
	keys, err := b.unseenKeys()
	if err != nil {
		return 0, fmt.Errorf("catalog: closing unseen items of snapshot %d: %w", b.seq, classify(err))
	}
	_, err = b.exec(`UPDATE items SET deleted_seq=?1 WHERE account_id=?2 AND kind=?3 AND deleted_seq IS NULL AND cur_version IN
(SELECT id FROM versions WHERE account_id=?2 AND kind=?3 AND end_seq IS NULL AND seen_seq<?1)`, b.seq, b.acct, string(b.kind))
	if err != nil {
		return 0, fmt.Errorf("catalog: closing unseen items of snapshot %d: %w", b.seq, classify(err))
	}
	for _, k := range keys {
		if err := b.retag(k, true); err != nil {
			return 0, fmt.Errorf("catalog: closing unseen items of snapshot %d: %w", b.seq, classify(err))
		}
	}
	res, err := b.exec("UPDATE versions SET last_seq=?1, end_seq=?2 WHERE account_id=?3 AND kind=?4 AND end_seq IS NULL AND seen_seq<?2",
		b.prev, b.seq, b.acct, string(b.kind))
	if err != nil {
		return 0, fmt.Errorf("catalog: closing unseen items of snapshot %d: %w", b.seq, classify(err))
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// unseenKeys returns the search keys of the items CloseUnseen will close.
func (b *Batch) unseenKeys() ([]int64, error) {
	rows, err := b.tx.QueryContext(b.ctx, `SELECT i.sort_key FROM versions v JOIN items i ON i.id = v.item_id
WHERE v.account_id=?1 AND v.kind=?2 AND v.end_seq IS NULL AND v.seen_seq<?3`, b.acct, string(b.kind), b.seq)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var keys []int64
	for rows.Next() {
		var k int64
		if err := rows.Scan(&k); err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, rows.Err()
}

// withBatch runs fn in a batch of its own.
func (c *Catalog) withBatch(ctx context.Context, seq int64, fn func(b *Batch) error) error {
	b, err := c.Begin(ctx, seq)
	if err != nil {
		return err
	}
	if err := fn(b); err != nil {
		_ = b.Rollback()
		return err
	}
	return b.Commit()
}

// UpsertItemVersion is Batch.Upsert in a transaction of its own. Use a
// Batch for more than a handful of items.
func (c *Catalog) UpsertItemVersion(ctx context.Context, seq int64, v Version) (Change, error) {
	var ch Change
	err := c.withBatch(ctx, seq, func(b *Batch) error {
		var err error
		ch, err = b.Upsert(v)
		return err
	})
	return ch, err
}

// DeleteItem is Batch.Delete in a transaction of its own.
func (c *Catalog) DeleteItem(ctx context.Context, seq int64, ref ItemRef) (bool, error) {
	var ok bool
	err := c.withBatch(ctx, seq, func(b *Batch) error {
		var err error
		ok, err = b.Delete(ref)
		return err
	})
	return ok, err
}

// CloseUnseen is Batch.CloseUnseen in a transaction of its own.
func (c *Catalog) CloseUnseen(ctx context.Context, seq int64) (int64, error) {
	var n int64
	err := c.withBatch(ctx, seq, func(b *Batch) error {
		var err error
		n, err = b.CloseUnseen()
		return err
	})
	return n, err
}

// DiscardSnapshot undoes everything a pending snapshot wrote (an
// interrupted run that will not be resumed) and forgets the snapshot.
func (c *Catalog) DiscardSnapshot(ctx context.Context, seq int64) error {
	return c.withBatch(ctx, seq, func(b *Batch) error {
		if b.snap.Status != SnapshotPending {
			return fmt.Errorf("catalog: discarding snapshot %d: %w: it is %s", seq, ErrInvalid, b.snap.Status)
		}
		if err := b.discard(); err != nil {
			return fmt.Errorf("catalog: discarding snapshot %d: %w", seq, classify(err))
		}
		return nil
	})
}

func (b *Batch) discard() error {
	rows, err := b.tx.QueryContext(b.ctx, `SELECT DISTINCT i.id, i.sort_key FROM versions v JOIN items i ON i.id = v.item_id
WHERE v.first_seq=?1 OR v.end_seq=?1`, b.seq)
	if err != nil {
		return err
	}
	type affected struct{ id, key int64 }
	var items []affected
	for rows.Next() {
		var a affected
		if err := rows.Scan(&a.id, &a.key); err != nil {
			rows.Close()
			return err
		}
		items = append(items, a)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if _, err := b.exec("DELETE FROM versions WHERE first_seq=?", b.seq); err != nil {
		return err
	}
	if _, err := b.exec("UPDATE versions SET last_seq=NULL, end_seq=NULL WHERE end_seq=?", b.seq); err != nil {
		return err
	}
	for _, a := range items {
		if err := b.resetItem(a.id, a.key); err != nil {
			return err
		}
	}
	_, err = b.exec("DELETE FROM snapshots WHERE seq=?", b.seq)
	return err
}
