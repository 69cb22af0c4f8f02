// Command lifeboat backs up a small business's Microsoft 365 mail and
// OneDrive files to a drive the owner controls, and restores them.
//
// Without a command it opens the desktop app (app/gui); with one it is the
// command-line tool (app/cli). Both call the one application layer,
// engine/service; this package only wires them together.
package main
