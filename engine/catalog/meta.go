package catalog

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// UpsertAccount adds an account or updates its names and kind.
func (c *Catalog) UpsertAccount(ctx context.Context, a Account) error {
	if a.HomeID == "" {
		return fmt.Errorf("catalog: saving account: %w: empty home account id", ErrInvalid)
	}
	return c.writeTx(ctx, "saving account "+a.UPN, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO accounts(home_id, upn, display_name, kind) VALUES (?, ?, ?, ?)
ON CONFLICT(home_id) DO UPDATE SET upn=excluded.upn, display_name=excluded.display_name, kind=excluded.kind`,
			a.HomeID, a.UPN, a.DisplayName, string(a.Kind))
		return err
	})
}

// Accounts lists the accounts, by UPN.
func (c *Catalog) Accounts(ctx context.Context) ([]Account, error) {
	var out []Account
	err := c.readTx(ctx, "listing accounts", func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, "SELECT home_id, upn, display_name, kind FROM accounts ORDER BY upn, home_id")
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var a Account
			var kind string
			if err := rows.Scan(&a.HomeID, &a.UPN, &a.DisplayName, &kind); err != nil {
				return err
			}
			a.Kind = AccountKind(kind)
			out = append(out, a)
		}
		return rows.Err()
	})
	return out, err
}

// accountID resolves a home account id.
func accountID(ctx context.Context, q querier, homeID string) (int64, error) {
	var id int64
	err := q.QueryRowContext(ctx, "SELECT id FROM accounts WHERE home_id = ?", homeID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("%w: account %q", ErrNotFound, homeID)
	}
	return id, err
}

// RecordSnapshot adds a snapshot of an account (which must exist) and
// returns its Seq. Status defaults to SnapshotPending, or SnapshotComplete
// when RepoID is set (as in a rebuild). A stream can have only one pending
// snapshot: if there is one, ErrPendingSnapshot is returned and the caller
// resumes it (PendingSnapshot) or discards it (DiscardSnapshot).
// Snapshots of a stream must be recorded in time order.
func (c *Catalog) RecordSnapshot(ctx context.Context, s Snapshot) (int64, error) {
	if _, err := s.Kind.ItemKind(); err != nil {
		return 0, fmt.Errorf("catalog: recording snapshot: %w", err)
	}
	if s.Status == "" {
		s.Status = SnapshotPending
		if s.RepoID != "" {
			s.Status = SnapshotComplete
		}
	}
	if s.Status != SnapshotPending && s.Status != SnapshotComplete {
		return 0, fmt.Errorf("catalog: recording snapshot: %w: status %q", ErrInvalid, s.Status)
	}
	if s.Time.IsZero() {
		s.Time = c.opts.Now()
	}
	var seq int64
	err := c.writeTx(ctx, "recording snapshot", func(tx *sql.Tx) error {
		acct, err := accountID(ctx, tx, s.Account)
		if err != nil {
			return err
		}
		var pending int64
		err = tx.QueryRowContext(ctx, "SELECT seq FROM snapshots WHERE account_id=? AND kind=? AND status='pending'", acct, string(s.Kind)).Scan(&pending)
		if err == nil {
			return fmt.Errorf("%w (seq %d)", ErrPendingSnapshot, pending)
		} else if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		var last int64
		if err := tx.QueryRowContext(ctx, "SELECT coalesce(max(time), 0) FROM snapshots WHERE account_id=? AND kind=?", acct, string(s.Kind)).Scan(&last); err != nil {
			return err
		}
		if ms(s.Time) < last {
			return fmt.Errorf("%w: snapshot time %s is before the stream's latest snapshot", ErrInvalid, s.Time.Format(time.RFC3339))
		}
		var repoID any
		if s.RepoID != "" {
			repoID = s.RepoID
		}
		var runID any
		if s.RunID != 0 {
			runID = s.RunID
		}
		res, err := tx.ExecContext(ctx, "INSERT INTO snapshots(repo_id, account_id, kind, time, status, parent, run_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
			repoID, acct, string(s.Kind), ms(s.Time), string(s.Status), s.Parent, runID)
		if err != nil {
			return err
		}
		seq, err = res.LastInsertId()
		return err
	})
	return seq, err
}

// CompleteSnapshot marks a pending snapshot as saved in the repository under repoID.
func (c *Catalog) CompleteSnapshot(ctx context.Context, seq int64, repoID string) error {
	if repoID == "" {
		return fmt.Errorf("catalog: completing snapshot %d: %w: empty repository id", seq, ErrInvalid)
	}
	return c.writeTx(ctx, fmt.Sprintf("completing snapshot %d", seq), func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "UPDATE snapshots SET status='complete', repo_id=? WHERE seq=? AND status='pending'", repoID, seq)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fmt.Errorf("%w: pending snapshot %d", ErrNotFound, seq)
		}
		return nil
	})
}

const snapshotCols = "s.seq, coalesce(s.repo_id, ''), a.home_id, s.kind, s.time, s.status, s.parent, coalesce(s.run_id, 0)"

func scanSnapshot(sc interface{ Scan(...any) error }) (Snapshot, error) {
	var s Snapshot
	var kind, status string
	var t int64
	err := sc.Scan(&s.Seq, &s.RepoID, &s.Account, &kind, &t, &status, &s.Parent, &s.RunID)
	s.Kind, s.Status, s.Time = SnapshotKind(kind), SnapshotStatus(status), fromMS(t)
	return s, err
}

// Snapshots lists snapshots oldest first. An empty account or kind matches all.
func (c *Catalog) Snapshots(ctx context.Context, account string, kind SnapshotKind) ([]Snapshot, error) {
	var out []Snapshot
	err := c.readTx(ctx, "listing snapshots", func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, "SELECT "+snapshotCols+` FROM snapshots s JOIN accounts a ON a.id = s.account_id
WHERE (?1 = '' OR a.home_id = ?1) AND (?2 = '' OR s.kind = ?2) ORDER BY s.seq`, account, string(kind))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			s, err := scanSnapshot(rows)
			if err != nil {
				return err
			}
			out = append(out, s)
		}
		return rows.Err()
	})
	return out, err
}

// GetSnapshot returns the snapshot with the given seq.
func (c *Catalog) GetSnapshot(ctx context.Context, seq int64) (Snapshot, error) {
	var s Snapshot
	err := c.readTx(ctx, fmt.Sprintf("reading snapshot %d", seq), func(tx *sql.Tx) error {
		var err error
		s, err = getSnapshot(ctx, tx, seq)
		return err
	})
	return s, err
}

func getSnapshot(ctx context.Context, q querier, seq int64) (Snapshot, error) {
	s, err := scanSnapshot(q.QueryRowContext(ctx, "SELECT "+snapshotCols+" FROM snapshots s JOIN accounts a ON a.id = s.account_id WHERE s.seq = ?", seq))
	if errors.Is(err, sql.ErrNoRows) {
		return s, fmt.Errorf("%w: snapshot %d", ErrNotFound, seq)
	}
	return s, err
}

// PendingSnapshot returns the unfinished snapshot of a stream, if any.
func (c *Catalog) PendingSnapshot(ctx context.Context, account string, kind SnapshotKind) (Snapshot, bool, error) {
	var s Snapshot
	found := false
	err := c.readTx(ctx, "finding pending snapshot", func(tx *sql.Tx) error {
		var err error
		s, err = scanSnapshot(tx.QueryRowContext(ctx, "SELECT "+snapshotCols+` FROM snapshots s JOIN accounts a ON a.id = s.account_id
WHERE a.home_id = ? AND s.kind = ? AND s.status = 'pending'`, account, string(kind)))
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		found = err == nil
		return err
	})
	return s, found, err
}

// BeginRun records the start of a backup run and returns its id.
func (c *Catalog) BeginRun(ctx context.Context, started time.Time) (int64, error) {
	if started.IsZero() {
		started = c.opts.Now()
	}
	var id int64
	err := c.writeTx(ctx, "starting run", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "INSERT INTO runs(started, status) VALUES (?, 'running')", ms(started))
		if err != nil {
			return err
		}
		id, err = res.LastInsertId()
		return err
	})
	return id, err
}

// RecordSkipped records an item a run could not back up. When Attempts is
// 0 it is one more than the item's attempts in the latest earlier run that
// skipped it (1 if none).
func (c *Catalog) RecordSkipped(ctx context.Context, runID int64, s SkippedItem) error {
	return c.writeTx(ctx, fmt.Sprintf("recording skipped item in run %d", runID), func(tx *sql.Tx) error {
		var acct any
		if s.Account != "" {
			id, err := accountID(ctx, tx, s.Account)
			if err != nil {
				return err
			}
			acct = id
		}
		if s.Attempts <= 0 {
			var prev int
			err := tx.QueryRowContext(ctx, `SELECT attempts FROM skipped WHERE account_id IS ? AND item_ref = ? AND run_id < ?
ORDER BY run_id DESC LIMIT 1`, acct, s.ItemRef, runID).Scan(&prev)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			s.Attempts = prev + 1
		}
		_, err := tx.ExecContext(ctx, "INSERT INTO skipped(run_id, account_id, item_ref, reason, attempts) VALUES (?, ?, ?, ?, ?)",
			runID, acct, s.ItemRef, s.Reason, s.Attempts)
		return err
	})
}

// FinishRun records how a run ended.
func (c *Catalog) FinishRun(ctx context.Context, runID int64, r RunResult) error {
	switch r.Status {
	case RunCompleted, RunCompletedWithWarnings, RunFailed, RunCancelled:
	default:
		return fmt.Errorf("catalog: finishing run %d: %w: status %q", runID, ErrInvalid, r.Status)
	}
	if r.Ended.IsZero() {
		r.Ended = c.opts.Now()
	}
	warnings := r.Warnings
	if warnings == nil {
		warnings = []string{}
	}
	wj, err := json.Marshal(warnings)
	if err != nil {
		return fmt.Errorf("catalog: finishing run %d: %w", runID, err)
	}
	return c.writeTx(ctx, fmt.Sprintf("finishing run %d", runID), func(tx *sql.Tx) error {
		n := r.Counts
		res, err := tx.ExecContext(ctx, `UPDATE runs SET ended=?, status=?, items_new=?, items_changed=?, items_deleted=?, items_skipped=?,
bytes_new=?, bytes_changed=?, bytes_deleted=?, bytes_skipped=?, warnings=?, error=? WHERE id=?`,
			ms(r.Ended), string(r.Status), n.ItemsNew, n.ItemsChanged, n.ItemsDeleted, n.ItemsSkipped,
			n.BytesNew, n.BytesChanged, n.BytesDeleted, n.BytesSkipped, string(wj), r.Error, runID)
		if err != nil {
			return err
		}
		if k, _ := res.RowsAffected(); k != 1 {
			return fmt.Errorf("%w: run %d", ErrNotFound, runID)
		}
		return nil
	})
}

// Runs lists the latest runs, newest first, with their skipped items.
func (c *Catalog) Runs(ctx context.Context, limit int) ([]Run, error) {
	if limit <= 0 {
		limit = 50
	}
	var out []Run
	err := c.readTx(ctx, "listing runs", func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id, started, ended, status, items_new, items_changed, items_deleted, items_skipped,
bytes_new, bytes_changed, bytes_deleted, bytes_skipped, warnings, error FROM runs ORDER BY id DESC LIMIT ?`, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var r Run
			var started, ended int64
			var status, wj string
			n := &r.Counts
			if err := rows.Scan(&r.ID, &started, &ended, &status, &n.ItemsNew, &n.ItemsChanged, &n.ItemsDeleted, &n.ItemsSkipped,
				&n.BytesNew, &n.BytesChanged, &n.BytesDeleted, &n.BytesSkipped, &wj, &r.Error); err != nil {
				return err
			}
			r.Started, r.Ended, r.Status = fromMS(started), fromMS(ended), RunStatus(status)
			if err := json.Unmarshal([]byte(wj), &r.Warnings); err != nil {
				r.Warnings = []string{wj} // keep a damaged value visible rather than fail the listing
			}
			out = append(out, r)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows.Close()
		for i := range out {
			sk, err := tx.QueryContext(ctx, `SELECT coalesce(a.home_id, ''), s.item_ref, s.reason, s.attempts
FROM skipped s LEFT JOIN accounts a ON a.id = s.account_id WHERE s.run_id = ? ORDER BY s.id`, out[i].ID)
			if err != nil {
				return err
			}
			for sk.Next() {
				var s SkippedItem
				if err := sk.Scan(&s.Account, &s.ItemRef, &s.Reason, &s.Attempts); err != nil {
					sk.Close()
					return err
				}
				out[i].Skipped = append(out[i].Skipped, s)
			}
			err = sk.Err()
			sk.Close()
			if err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}
