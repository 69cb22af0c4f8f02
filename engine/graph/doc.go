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
