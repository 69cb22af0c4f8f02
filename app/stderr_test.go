package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

// TestCommandLinePrintsNothingOfFynes: with the C locale of many servers
// and CI machines, a command-line run prints nothing on stderr that is not
// Lifeboat's own (Fyne's init used to log "Error parsing user locale C").
func TestCommandLinePrintsNothingOfFynes(t *testing.T) {
	c := newLifeboatCLI(t)
	dir := filepath.Join(t.TempDir(), "backup")
	c.init(t, dir)
	for _, locale := range []string{"C", "C.UTF-8", "POSIX"} {
		for _, args := range [][]string{{"--help"}, {"snapshots", "--to", dir}, {"snapshots", "--to", filepath.Join(dir, "missing")}} {
			cmd := c.command(args...)
			env := cmd.Env[:0:0]
			for _, kv := range cmd.Env {
				if !strings.HasPrefix(kv, "LANG=") && !strings.HasPrefix(kv, "LC_") && !strings.HasPrefix(kv, "LANGUAGE=") {
					env = append(env, kv)
				}
			}
			cmd.Env = append(env, "LANG="+locale)
			var out, errb bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errb
			_ = cmd.Run()
			if out.Len() == 0 && !strings.HasSuffix(args[len(args)-1], "missing") {
				t.Errorf("LANG=%s lifeboat %s printed nothing on stdout or failed at once: %s", locale, strings.Join(args, " "), errb.String())
			}
			for _, line := range strings.Split(strings.TrimRight(errb.String(), "\n"), "\n") {
				if line == "" || strings.HasPrefix(line, "lifeboat: ") || strings.HasPrefix(line, "warning: ") {
					continue
				}
				t.Errorf("LANG=%s lifeboat %s: stderr line not Lifeboat's own: %q", locale, strings.Join(args, " "), line)
			}
		}
	}
}
