// Package m365sim is a simulated Microsoft 365 tenant: an identity provider
// (OpenID configuration, device code, token and refresh endpoints) and a
// Microsoft Graph v1.0 API for users, mail folders, messages, OneDrive,
// calendars (events, recurring series, calendarView delta) and contacts
// (folders, per-folder delta, photos), served over TLS on loopback. Every
// invitation, update and cancellation a calendar change would send is
// recorded (Tenant.SentMessages).
//
// It exists because no machine that builds Lifeboat reaches Microsoft: every
// engine test runs the real MSAL and msgraph-sdk-go against it, and a new
// user tries Lifeboat with it (--demo). It therefore follows Microsoft's
// documented wire behaviour — paging with @odata.nextLink, delta links,
// @removed and deleted facets, 410 resync, pre-authenticated download URLs,
// throttling with 429 and Retry-After — rather than whatever is convenient.
//
// For organization mode it also plays the directory: users in every state
// (disabled, unlicensed, shared and room mailboxes, no mailbox, no
// OneDrive: directory.go), administrators (directoryroles.go), app
// registrations, service principals and Graph application permissions
// (applications.go, appshttp.go, sphttp.go, addKey in appkeys.go), the
// client credentials grant with a certificate (clientcreds.go), an
// eventually consistent directory (Options.DirectoryReplicationDelay,
// RoleReplicationDelay), and leavers and joiners (lifecycle.go).
//
// The tenant state lives in memory (Tenant). It is seeded from a folder
// (Import) or generated (GenerateDemo), and changed while the server runs
// through Go methods, the control API under /_sim/, or `lifeboat sim`.
// Knobs: the throttling model (Throttle), injected faults (Faults) and a
// request log (RequestLog).
package m365sim
