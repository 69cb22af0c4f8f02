// Command lifeboat backs up a small business's Microsoft 365 mail and
// OneDrive files to a drive the owner controls, and restores them.
//
// Without a subcommand it opens the desktop app; with one it is the
// command-line tool. This package only wires parts together: everything
// else lives in engine/ and ui/.
package main
