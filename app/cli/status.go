package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"
)

// statusCommand is `lifeboat status`: am I safe?
func (a *app) statusCommand() *cobra.Command {
	var o common
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Say whether the backups are working: the last good backup, the next one, and what needs attention",
		Args:  requireArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, err := a.service(o, usesSignIn)
			if err != nil {
				return err
			}
			st, err := svc.Status(cmd.Context())
			if err != nil {
				return err
			}
			w := a.stdout
			const when = "Mon 2 January 2006 15:04"
			if st.LastGood.IsZero() {
				fmt.Fprintln(w, "Last good backup: none yet.")
			} else {
				fmt.Fprintf(w, "Last good backup: %s.\n", st.LastGood.Local().Format(when))
			}
			if st.LastRunFailed && !st.LastRun.IsZero() {
				fmt.Fprintf(w, "The last backup, %s, did not finish.\n", st.LastRun.Local().Format(when))
			}
			switch {
			case st.Destination == "":
				fmt.Fprintln(w, "No backup drive is chosen yet.")
			case st.Connected:
				fmt.Fprintf(w, "Backup drive: %s (connected, %s free).\n", st.Destination, formatBytes(int64(st.Free)))
			default:
				fmt.Fprintf(w, "Backup drive: %s (not connected).\n", st.Destination)
			}
			if !st.NextRun.IsZero() {
				fmt.Fprintf(w, "Next backup: %s.\n", st.NextRun.Local().Format(when))
			}
			for _, warn := range st.Warnings {
				fmt.Fprintf(w, "ATTENTION: %s\n", warn)
			}
			if len(st.Warnings) == 0 && !st.LastGood.IsZero() && time.Since(st.LastGood) < 8*24*time.Hour {
				fmt.Fprintln(w, "All is well.")
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&o.secretStore, "secret-store", "", "where this computer keeps its sign-ins and keys: keychain (the system's, default) or file; also LIFEBOAT_SECRET_STORE")
	return cmd
}
