package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

// exportTeams writes every channel's conversation as one web page.
func (a *app) exportTeams(cmd *cobra.Command, o exportFlags, dir string) error {
	repoDir, err := backupFolder(o.dir)
	if err != nil {
		return err
	}
	svc, b, err := a.browser(cmd, o.folderFlags, usesBackup)
	if err != nil {
		return err
	}
	b.Close()
	done, err := svc.ExportTeams(cmd.Context(), repoDir, "", dir)
	for _, e := range done {
		if o.json {
			printJSON(a.stdout, map[string]any{"event": "exported", "team": e.Team, "channel": e.Channel, "file": e.Path, "messages": e.Messages, "replies": e.Replies})
			continue
		}
		fmt.Fprintf(a.stdout, "%s, %s: %s and %s in %s\n", printable(e.Team), printable(e.Channel), plural(e.Messages, "message", "messages"),
			plural(e.Replies, "reply", "replies"), printable(e.Path))
	}
	if err == nil && len(done) == 0 {
		fmt.Fprintln(a.stdout, "The backup holds no Teams conversations.")
	}
	return err
}
