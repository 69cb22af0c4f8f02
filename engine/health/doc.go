// Package health turns the facts about a computer's backups (when the last
// good one was, the schedule, free space on the drive, the state of each
// sign-in, items skipped run after run, rotated drives) into the warnings
// the dashboard, the tray and OS notifications show. Check is a pure
// function: everything it knows is passed in, so each warning is tested
// with its exact wording.
package health
