// Package catalog owns Lifeboat's local index of what the repository holds:
// accounts, snapshots, backup runs (with their counts, warnings and skipped
// items), every item (an email or a file) and each version of it, and a
// full-text index for search. It is a SQLite database (modernc.org/sqlite,
// pure Go) in WAL mode on the local disk.
//
// The catalog is never the only copy of anything. Everything in it except
// the run history can be rebuilt from the repository: Reset empties the
// derived tables and a rebuild replays the repository's snapshots through
// the same write API a backup uses (RecordSnapshot, Begin/Batch.Upsert,
// Batch.Delete, Batch.CloseUnseen, CompleteSnapshot). After each run a
// consistent copy (Catalog.WriteCopy / ExportTo, made with VACUUM INTO) is
// stored encrypted in the repository; Import opens such a copy again and
// treats it as hostile: integrity check, full-text index check, schema
// version and exact schema shape are all verified before it is used.
//
// # Versions and snapshot ranges
//
// Snapshots get a sequence number (Seq) from the catalog, increasing across
// all accounts; a stream is the snapshots of one account and one kind
// (mail, onedrive, calendar or contacts; their items are mail, file, event
// and contact). A version of an item records the first snapshot it
// was seen in (First) and, once it was replaced or deleted, the last
// snapshot it existed in (Last) and the snapshot that replaced or deleted
// it (End). A version still current has no End; its Last is reported as
// the stream's latest snapshot. So "as of snapshot X" is the single
// condition First <= X AND (End IS NULL OR End > X), and "deleted since X"
// is an item whose newest version has End >= X. Incremental (delta) runs
// only touch what changed: unchanged items cost nothing. Full enumerations
// Upsert every item they see and then call CloseUnseen, which closes what
// was not seen.
//
// # A backup run, as the catalog sees it
//
//	run, _ := c.BeginRun(ctx, time.Time{})
//	seq, _ := c.RecordSnapshot(ctx, catalog.Snapshot{Account: homeID, Kind: catalog.SnapshotMail, RunID: run})
//	b, _ := c.Begin(ctx, seq)            // one transaction per few thousand items
//	b.Upsert(v)                          // new or changed messages (and unchanged ones in a full resync)
//	b.Delete(ref)                        // @removed entries of a delta
//	b.CloseUnseen()                      // only after a full enumeration
//	b.Commit()
//	id, _ := repository.SaveSnapshot(...) // the repository side
//	c.CompleteSnapshot(ctx, seq, id.String())
//	c.FinishRun(ctx, run, catalog.RunResult{Status: catalog.RunCompleted, Counts: n})
//	c.WriteCopy(ctx, w)                   // consistent copy, stored encrypted in the repository
//
// A run that dies before CompleteSnapshot leaves a pending snapshot: the
// next run finds it with PendingSnapshot and resumes it or calls
// DiscardSnapshot, which undoes everything it wrote.
//
// # Search
//
// Search uses FTS5 with the unicode61 tokenizer (case folding and
// diacritics removal, so "cafe" finds "Café"). Chinese, Japanese and
// Korean text has no spaces, so each such character is indexed as its own
// token and a query word becomes a phrase of them; this finds any substring.
// The full-text row of an item holds the text of its newest version and
// its rowid is derived from the item's date, so "newest first" is the
// index's own order and a search stops after the requested page.
//
// # Concurrency
//
// One Catalog may be used from many goroutines. Writes go through a single
// connection (one Batch at a time; other writes wait for it), reads use a
// pool of read-only connections and see the last committed state.
package catalog
