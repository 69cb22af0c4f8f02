// Package alarm notices a tenant being wiped or encrypted. After each
// backup run it compares what changed in an account with the account's
// usual pattern — the share of files and emails deleted, files whose new
// content no longer matches their type (a .docx that is no longer a ZIP,
// text that became random bytes: by file signatures and entropy on the
// start of each file the backup downloads anyway), files renamed en masse
// to one new extension, a burst of emails moved to Deleted Items — and,
// when something is far outside it, raises an alert: plain sentences for
// the owner ("412 of Paul's files changed into unreadable data in the last
// run"), the last backup before the change named for the restore wizard,
// and pruning held until the owner has acknowledged it (so the backups
// from before the attack are not thinned out).
//
// State (the history of ordinary runs and the open alerts) is a small
// JSON file in the config folder, written crash-safely.
package alarm
