// Package stdlog silences the standard library's log from the start of
// the program, before any other package's init runs: Fyne's
// initialisation logs through it ("Fyne error: Error parsing user locale
// C" under LANG=C.UTF-8), and a command-line run must print nothing that
// is not Lifeboat's own. Package main imports it first and hands the log
// back to stderr when it opens the app window.
//
// It relies on Go's package initialisation order (dependencies first,
// then, among packages whose dependencies are done, by import path): this
// package depends only on io and log, so it is initialised before Fyne's,
// which needs many more. TestCommandLinePrintsNothingOfFynes guards it.
package stdlog

import (
	"io"
	"log"
)

func init() { log.SetOutput(io.Discard) }

// To sends the standard library's log to w from now on.
func To(w io.Writer) { log.SetOutput(w) }
