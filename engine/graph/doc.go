// Package graph is Lifeboat's Microsoft Graph client (DESIGN.md section 5).
//
// It owns every request Lifeboat makes to Graph and to OneDrive's download
// hosts:
//
//   - metadata through msgraph-sdk-go (users, mail folders, message delta
//     pages, drives, drive root delta pages), converted at once into small
//     typed structs (MailFolder, MessageMeta, DriveItem) so that nothing
//     above this package sees the SDK's models or their nil pointers;
//   - content as native, streamed requests (OpenMIME for a message's
//     $value, OpenDownload for a drive item's downloadUrl) that never hold a
//     whole message or file in memory, have no overall timeout (only a stall
//     timeout), and resume transparently after a reset or a truncated body;
//   - a Pacer that keeps each mailbox within Microsoft's documented limits
//     (4 concurrent requests, 10,000 requests per 10 minutes) and the tenant's
//     OneDrive requests within their resource-unit budget, honours
//     Retry-After per resource (a throttled mailbox waits, the others go on),
//     and retries 429/500/502/503/504, resets and truncated bodies with
//     exponential backoff and jitter, a bounded number of times;
//   - typed errors: ErrThrottled, ErrGone (410 resync), ErrNotFound,
//     ErrAuth, ErrForbidden (a 403: a permission the sign-in lacks; also
//     ErrAuth) and ErrTransient, matched with errors.Is, with *Error carrying
//     the status, Graph's error code, Retry-After and a 410's Location.
//
// Message IDs: every mailbox request carries Prefer: IdType="ImmutableId".
// A message's default ID changes whenever it moves to another folder
// (deleting it in Outlook is such a move, to Deleted Items), which a backup
// would see as one message deleted and another one created, and a restore
// "to where it was" would look for under an ID that no longer exists. An
// immutable ID stays the same as long as the message stays in the mailbox,
// so the catalog keeps one history per message across moves. The
// documented cases where it still changes — the message is moved to an
// archive mailbox, or exported and imported again — arrive as a removal and
// a new message; engine/backup then finds the stored content by
// internetMessageId, received time and subject and downloads nothing.
// Folder IDs never change. Backups made before this choice hold default
// IDs; engine/backup lists their folders again once (mail.ids state).
//
// msgraph-sdk-go's own retry handler is left out of the middleware chain so
// retries are never doubled, and its 100 s client timeout is not used:
// metadata requests get a per-attempt timeout (Options.RequestTimeout) and
// streams none.
//
// Access tokens come from a TokenProvider (engine/auth's TokenSource is
// one); they are sent only to URLs below Options.GraphURL, never to download
// URLs. Nothing here logs a token, and URLs are logged without their query
// string (download URLs carry a tempauth credential there).
package graph
