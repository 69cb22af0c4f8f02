// Package schedule registers Lifeboat's backup with the operating system's
// own scheduler, so backups run with the app closed: a systemd user timer
// (cron as the fallback) on Linux, a LaunchAgent on macOS, and a Task
// Scheduler task on Windows.
//
// Generating the definitions (units, cron line, plist, task XML) is pure
// and tested against golden files; Scheduler installs, shows and removes
// them through a command runner and paths given in Options, so tests
// decide what really runs.
package schedule
