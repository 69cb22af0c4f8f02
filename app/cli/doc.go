// Package cli is Lifeboat's command line: flags and help text, the
// printing of results, progress bars and --json lines, and exit codes.
// Every command is a thin layer over one use case of engine/service; the
// root command without a subcommand hands over to the desktop app through
// Options.RunGUI, which package main wires.
package cli
