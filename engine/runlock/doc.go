// Package runlock makes sure only one backup of a repository runs at a
// time on this computer. It holds an operating-system file lock (flock on
// Unix, LockFileEx on Windows) that the OS releases when the process ends
// however it ends — kill -9 and power loss included — so a stale lock can
// never block the next scheduled run.
//
// The lock file also records who holds it, so the run that has to wait or
// skip can say which process is busy and since when.
package runlock
