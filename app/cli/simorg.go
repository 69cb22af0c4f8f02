package cli

import (
	"errors"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
)

// simOrgCommands play the company's comings and goings on a running
// simulator: someone leaves, someone joins, who is an administrator, and
// how slowly the directory settles (engine/m365sim/controlorg.go).
func (a *app) simOrgCommands(call func(cmd *cobra.Command, op string, r m365sim.ControlRequest) error) []*cobra.Command {
	var del, unlicense, shared bool
	leave := &cobra.Command{
		Use:   "leave EMAIL (--delete | --unlicense | --shared)",
		Short: "Someone leaves the company: delete the account, remove the licence, or turn the mailbox into a shared one",
		Args:  requireArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			var modes []string
			if del {
				modes = append(modes, "delete")
			}
			if unlicense {
				modes = append(modes, "unlicense")
			}
			if shared {
				modes = append(modes, "shared")
			}
			if len(modes) != 1 {
				return usageError{errors.New("choose one of --delete, --unlicense or --shared")}
			}
			return call(cmd, "users/leave", m365sim.ControlRequest{User: args[0], Mode: modes[0]})
		}}
	leave.Flags().BoolVar(&del, "delete", false, "delete the account (the mailbox goes, the OneDrive is kept for a while)")
	leave.Flags().BoolVar(&unlicense, "unlicense", false, "remove the licence (the mailbox is no longer served)")
	leave.Flags().BoolVar(&shared, "shared", false, "convert the mailbox to a shared mailbox and block the account")

	var email string
	hire := &cobra.Command{
		Use:   "hire NAME [--email EMAIL]",
		Short: "Someone joins the company: a new account with a mailbox and a OneDrive",
		Args:  requireArgs(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return call(cmd, "users/hire", m365sim.ControlRequest{NewName: strings.Join(args, " "), User: email})
		}}
	hire.Flags().StringVar(&email, "email", "", "the new person's address (default: made from the name)")

	var roles []string
	admin := &cobra.Command{
		Use:   "admin EMAIL [--role R]...",
		Short: "Set someone's administrator roles (global-admin, privileged-role-admin, application-admin, cloud-app-admin; none makes an ordinary user)",
		Args:  requireArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return call(cmd, "users/roles", m365sim.ControlRequest{User: args[0], Roles: roles})
		}}
	admin.Flags().StringSliceVar(&roles, "role", nil, "a role to hold (repeat for several)")

	var roleDelay string
	repl := &cobra.Command{
		Use:   "replication DELAY [--roles DELAY]",
		Short: "How long new app registrations and permissions take to settle in the directory, e.g. 30s",
		Args:  requireArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return call(cmd, "directory/replication", m365sim.ControlRequest{Delay: args[0], RoleDelay: roleDelay})
		}}
	repl.Flags().StringVar(&roleDelay, "roles", "", "delay for new permissions to reach tokens (default: the same)")
	return []*cobra.Command{leave, hire, admin, repl}
}
