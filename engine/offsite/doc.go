// Package offsite is the second copy of the backup and what keeps it
// immutable: after a backup, Copy sends the new data (encrypted,
// deduplicated, only what is missing) from the primary repository (the
// USB drive or NAS folder) to a second destination — S3-compatible object
// storage under Object Lock, or another folder — and verifies it; Maintain
// runs retention, prune and lock maintenance on a locked destination;
// OpenAsOf reads a locked destination as it was at a time, which undoes an
// attacker's deletions and overwrites.
//
// The repository format of copies and locks is engine/repo's (FORMAT.md
// §12 and §13); the S3 client is engine/s3store. This package only
// orchestrates them, with the facts the dashboard shows ("off site: today
// 21:04").
package offsite
