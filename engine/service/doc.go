// Package service is Lifeboat's application layer: the use cases both
// front ends share, with plain Go inputs and outputs.
//
// The command line (app/cli) and the desktop app (app/gui) only parse,
// print, render and wire; everything they do — open a backup (with this
// computer's keychain or the recovery key, the local catalog or the copy
// stored in the backup), back up the accounts in scope, browse and find,
// plan and run a restore, the scheduled run (drive lookup, one run at a
// time, weekly prune, health, report), settings and schedule state — is a
// method of Service. Progress reaches the front ends through the engine's
// own observer types (backup.Progress, restore.Progress) and small
// callbacks; errors carry sentinels (ErrDriveMissing, ErrItemsSkipped,
// auth.ErrSignInRequired, InputError) that each front end turns into its
// own form: an exit code, a dashboard state.
//
// The second copy (offsite.go, after.go): an S3-compatible bucket under
// Object Lock, checked before it is saved (its secret key in the keychain
// only), brought up to date and verified after each scheduled backup, its
// locks extended daily, and opened for a restore — on a fresh computer with
// the recovery key, or as the bucket was at a time. The wipe alarm
// (alarm.go) judges every backup run; while an alert is open, pruning of
// both copies is held. The drive can be ejected after scheduled runs.
//
// Everything that needs a clock, a keychain, a notifier or a place on
// disk receives it through Options, so tests run the real engine against
// the simulated tenant with throwaway folders. The package imports
// neither cobra nor Fyne (TestNoFrontEndImports).
package service
