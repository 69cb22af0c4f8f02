// Package backup runs one backup of one Microsoft 365 account (DESIGN.md
// sections 2 and 5): it enumerates changes with Graph delta queries,
// streams new content into the repository, verifies OneDrive downloads
// against their hashes on the fly, writes a snapshot per kind (mail,
// onedrive, calendar, contacts) whose tree format is specified in
// FORMAT.md, updates the catalog, stores the catalog copy in the
// repository, and reports progress.
//
// Incremental: a snapshot's State carries the delta links (the mail
// folder delta, one message delta per folder, the drive's root delta), so
// the next run asks only for changes; a folder without changes costs one
// request and keeps its tree pages as they were. A 410 (graph.ErrGone)
// means a full enumeration that reuses stored content: nothing whose bytes
// are already in the repository is downloaded again.
//
// When content is fetched: a message's MIME is fetched only when its id
// (or, after a move that changed the id, its internetMessageId, received
// time and subject) is not known with stored content, or when it is a
// draft whose changeKey changed — a sent or received message's MIME never
// changes, whatever its read state, flags, categories or folder. A file is
// downloaded only when no stored content has its hash (QuickXorHash,
// SHA-256 or SHA-1, with its size; the cTag when the drive gives no hash).
//
// Resume: the repository checkpoints packs and index while a run saves,
// and the catalog records each item's content as it goes (in batches).
// A run that was interrupted leaves a pending catalog snapshot; the next
// run continues it, and finds content stored before the interruption
// through the catalog (every chunk is checked in the repository index
// before it is reused), so it does not download it again. Cancelling ctx
// stops downloads (the Graph streams fail) but lets a pack upload in
// progress finish, and the run then flushes what it stored before
// returning.
//
// Memory: a mail run holds one changed folder's messages at a time (plus
// the ids changed in the run); a OneDrive run holds the drive's item list
// (needed for paths). Content is streamed: MIME and file bytes go through
// repo.SaveStream, with only the first 256 KiB of a message kept to index
// its body text and attachment names.
//
// Failures: one item that cannot be fetched (after Graph's own retries,
// and for a hash mismatch one more download) is recorded as skipped with
// its reason and the run ends catalog.RunCompletedWithWarnings. The folder
// or drive it belonged to keeps its previous delta link, so the next run
// sees the item again. A 403 (graph.ErrForbidden: the sign-in lacks the
// permission for the mailbox or the OneDrive) is a warning that names the
// part not backed up, not a failure. Errors that end a run: sign-in needed (graph.ErrAuth,
// with auth.ErrSignInRequired in the chain when the person must sign in),
// the repository or catalog failing, and cancellation.
package backup
