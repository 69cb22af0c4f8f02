package catalog

import (
	"context"
	"database/sql"
)

// CurrentCounts counts the items that still exist (not deleted), by kind,
// over every account: what the dashboard says the backup holds.
func (c *Catalog) CurrentCounts(ctx context.Context) (map[ItemKind]int64, error) {
	out := map[ItemKind]int64{}
	err := c.readTx(ctx, "counting items", func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT kind, count(*) FROM items WHERE deleted_seq IS NULL AND cur_version IS NOT NULL GROUP BY kind`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var k string
			var n int64
			if err := rows.Scan(&k, &n); err != nil {
				return err
			}
			out[ItemKind(k)] = n
		}
		return rows.Err()
	})
	return out, err
}
