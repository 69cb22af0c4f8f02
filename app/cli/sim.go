package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/lifeboat-backup/lifeboat/app/environ"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
)

// maxSimUpload bounds a file sent through `sim put-file`.
const maxSimUpload = 256 << 20

func (a *app) simCommand() *cobra.Command {
	sim := &cobra.Command{
		Use:   "sim",
		Short: "Run and change the simulated Microsoft 365 tenant",
		Long: "The simulated tenant stands in for Microsoft 365 on this computer: sign-in and Microsoft Graph\n" +
			"over TLS on loopback. `sim serve` runs it and writes a tenant profile that other commands take\n" +
			"with --tenant-profile; the other `sim` commands change it while it runs.",
	}
	sim.AddCommand(a.simServeCommand())
	sim.AddCommand(a.simControlCommands()...)
	return sim
}

type serveOptions struct {
	listen      string
	importDir   string
	demo        bool
	company     bool
	seed        int64
	throttle    string
	faults      string
	profileOut  string
	autoApprove time.Duration
}

func (a *app) simServeCommand() *cobra.Command {
	var o serveOptions
	cmd := &cobra.Command{
		Use:   "serve --profile-out FILE [--import DIR | --demo [--seed N]]",
		Short: "Run the simulated tenant in the foreground until Ctrl-C",
		Args:  requireArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.simServe(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.listen, "listen", "127.0.0.1:0", "address to listen on (loopback)")
	f.StringVar(&o.importDir, "import", "", "seed the tenant from this folder (users/<upn>/mail/..., users/<upn>/onedrive/...)")
	f.BoolVar(&o.demo, "demo", false, "seed the tenant with generated demo data")
	f.BoolVar(&o.company, "company", false, "with --demo: the whole company (staff, the shared info@ mailbox, a meeting room and a former employee), for organization mode")
	f.Int64Var(&o.seed, "seed", 1, "with --demo: the generator seed (same seed, same data)")
	f.StringVar(&o.throttle, "throttle", "off", "throttling model: off, graph (Microsoft's limits) or graph-fast (the same on a faster clock)")
	f.StringVar(&o.faults, "faults", "", "inject faults, e.g. 429=0.05,503=0.01,reset=0.01,truncate=0.01,gone=0.01,lost=0.01,token-expiry=30s,seed=7")
	f.StringVar(&o.profileOut, "profile-out", "", "write the tenant profile to this file (required)")
	f.DurationVar(&o.autoApprove, "auto-approve", 0, "approve sign-ins automatically after this delay (0: sign in on the /devicelogin page)")
	return cmd
}

func (a *app) buildSimOptions(o serveOptions) (m365sim.Options, error) {
	opts := m365sim.Options{Listen: o.listen, AutoApprove: o.autoApprove, Logger: environ.Logger(a.stderr, a.logLevel)}
	mode, err := m365sim.ParseThrottleMode(o.throttle)
	if err != nil {
		return opts, usageError{fmt.Errorf("--throttle: %w", err)}
	}
	opts.Throttle.Mode = mode
	if o.faults != "" {
		fc, err := m365sim.ParseFaults(o.faults)
		if err != nil {
			return opts, usageError{fmt.Errorf("--faults: %w", err)}
		}
		opts.Faults = fc
	}
	return opts, nil
}

func loadSimTenant(importDir string, demo, company bool, seed int64) (*m365sim.Tenant, error) {
	switch {
	case importDir != "" && demo:
		return nil, usageError{errors.New("choose --import DIR or --demo, not both")}
	case company && importDir != "":
		return nil, usageError{errors.New("--company goes with --demo")}
	case importDir != "":
		return m365sim.ImportTenant(importDir)
	default:
		return m365sim.GenerateDemo(seed, m365sim.DemoOptions{Company: company})
	}
}

func (a *app) simServe(ctx context.Context, o serveOptions) error {
	if o.profileOut == "" {
		return usageError{errors.New("sim serve: --profile-out FILE is required, so other commands can find the tenant")}
	}
	opts, err := a.buildSimOptions(o)
	if err != nil {
		return err
	}
	tenant, err := loadSimTenant(o.importDir, o.demo, o.company, o.seed)
	if err != nil {
		return err
	}
	srv, err := m365sim.NewServer(tenant, opts)
	if err != nil {
		return err
	}
	defer srv.Close()
	if err := m365sim.WriteProfile(o.profileOut, srv.Profile()); err != nil {
		return err
	}
	out := a.stdout
	fmt.Fprintf(out, "Simulated tenant %q is running at %s\n", tenant.Name, srv.BaseURL())
	fmt.Fprintf(out, "  sign-in page:   %s/devicelogin\n", srv.BaseURL())
	fmt.Fprintf(out, "  Graph:          %s\n", srv.GraphURL())
	fmt.Fprintf(out, "  tenant profile: %s (use --tenant-profile %s)\n", o.profileOut, o.profileOut)
	for _, u := range tenant.Users() {
		fmt.Fprintf(out, "  user:           %s (%s)\n", u.UPN, u.DisplayName)
	}
	fmt.Fprintln(out, "Press Ctrl-C to stop.")
	<-ctx.Done()
	fmt.Fprintln(out, "Stopping the simulated tenant.")
	return nil
}

// simControlCommands are the subcommands that change a running simulator.
func (a *app) simControlCommands() []*cobra.Command {
	var req m365sim.ControlRequest
	call := func(cmd *cobra.Command, op string, r m365sim.ControlRequest) error {
		path := firstNonEmpty(a.tenantProfile, os.Getenv("LIFEBOAT_TENANT_PROFILE"))
		if path == "" {
			return usageError{errors.New("no tenant profile: pass --tenant-profile FILE (written by `lifeboat sim serve --profile-out FILE`)")}
		}
		p, err := m365sim.LoadProfile(path)
		if err != nil {
			return err
		}
		c, err := m365sim.NewControlClient(p)
		if err != nil {
			return err
		}
		res, err := c.Call(cmd.Context(), op, r)
		if err != nil {
			return err
		}
		a.printControlResult(res)
		return nil
	}
	userFlag := func(c *cobra.Command) {
		c.Flags().StringVar(&req.User, "user", "", "the user (email address)")
		_ = c.MarkFlagRequired("user")
	}
	msgFlags := func(c *cobra.Command) {
		userFlag(c)
		c.Flags().StringVar(&req.ID, "id", "", "the message ID")
		c.Flags().StringVar(&req.Subject, "subject", "", "every message whose subject contains this text")
	}
	var cmds []*cobra.Command

	status := &cobra.Command{Use: "status", Short: "Show the users and what they hold", Args: requireArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error { return call(cmd, "status", req) }}
	var reset bool
	requests := &cobra.Command{Use: "requests [--reset]", Short: "Show how many requests each endpoint answered", Args: requireArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if reset {
				return call(cmd, "requests/reset", req)
			}
			return call(cmd, "requests", req)
		}}
	requests.Flags().BoolVar(&reset, "reset", false, "clear the counts")
	cmds = append(cmds, status, requests)

	addMail := &cobra.Command{Use: "add-mail --user U [--folder PATH] FILE.eml", Short: "Deliver a message (MIME file) into a folder", Args: requireArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := readLimited(args[0], maxSimUpload)
			if err != nil {
				return err
			}
			r := req
			r.MIME = b
			return call(cmd, "mail/add", r)
		}}
	userFlag(addMail)
	addMail.Flags().StringVar(&req.Folder, "folder", "Inbox", "mail folder path, e.g. Inbox/Invoices")

	delMail := &cobra.Command{Use: "delete-mail --user U (--id ID | --subject TEXT)", Short: "Delete messages for good", Args: requireArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error { return call(cmd, "mail/delete", req) }}
	msgFlags(delMail)

	moveMail := &cobra.Command{Use: "move-mail --user U (--id ID | --subject TEXT) --to PATH", Short: "Move messages to another folder", Args: requireArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error { return call(cmd, "mail/move", req) }}
	msgFlags(moveMail)
	moveMail.Flags().StringVar(&req.ToFolder, "to", "", "destination folder path (created if missing)")

	var read, unread bool
	var flag, importance string
	var cats []string
	editMail := &cobra.Command{Use: "edit-mail --user U (--id ID | --subject TEXT) [--read|--unread] [--flag S] [--category C]... [--importance I]",
		Short: "Change read state, flag, categories or importance", Args: requireArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			r := req
			if read && unread {
				return usageError{errors.New("--read and --unread contradict each other")}
			}
			if read || unread {
				v := read
				r.IsRead = &v
			}
			if cmd.Flags().Changed("flag") {
				r.FlagStatus = &flag
			}
			if cmd.Flags().Changed("importance") {
				r.Importance = &importance
			}
			if cmd.Flags().Changed("category") {
				r.Categories = &cats
			}
			return call(cmd, "mail/edit", r)
		}}
	msgFlags(editMail)
	editMail.Flags().BoolVar(&read, "read", false, "mark as read")
	editMail.Flags().BoolVar(&unread, "unread", false, "mark as unread")
	editMail.Flags().StringVar(&flag, "flag", "", "notFlagged, flagged or complete")
	editMail.Flags().StringSliceVar(&cats, "category", nil, "set the categories (repeat the flag)")
	editMail.Flags().StringVar(&importance, "importance", "", "low, normal or high")
	cmds = append(cmds, addMail, delMail, moveMail, editMail)

	var mtime string
	putFile := &cobra.Command{Use: "put-file --user U --path PATH LOCALFILE", Short: "Create or replace a OneDrive file", Args: requireArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := readLimited(args[0], maxSimUpload)
			if err != nil {
				return err
			}
			r := req
			r.Content = b
			if mtime != "" {
				t, err := time.Parse(time.RFC3339, mtime)
				if err != nil {
					return usageError{fmt.Errorf("--modified %q: use RFC 3339, e.g. 2026-03-14T09:26:53Z", mtime)}
				}
				r.ModTime = t
			}
			return call(cmd, "files/put", r)
		}}
	userFlag(putFile)
	putFile.Flags().StringVar(&req.Path, "path", "", "path in the OneDrive, e.g. Documents/budget.xlsx")
	putFile.Flags().StringVar(&mtime, "modified", "", "modification time to record (RFC 3339)")
	_ = putFile.MarkFlagRequired("path")

	delFile := &cobra.Command{Use: "delete-file --user U --path PATH", Short: "Delete a OneDrive file or folder", Args: requireArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error { return call(cmd, "files/delete", req) }}
	userFlag(delFile)
	delFile.Flags().StringVar(&req.Path, "path", "", "path in the OneDrive")
	_ = delFile.MarkFlagRequired("path")

	moveFile := &cobra.Command{Use: "move-file --user U --path PATH [--to FOLDER] [--name NEWNAME]", Short: "Move or rename a OneDrive file or folder", Args: requireArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error { return call(cmd, "files/move", req) }}
	userFlag(moveFile)
	moveFile.Flags().StringVar(&req.Path, "path", "", "path in the OneDrive")
	moveFile.Flags().StringVar(&req.ToFolder, "to", "", "destination folder path")
	moveFile.Flags().StringVar(&req.NewName, "name", "", "new name")
	_ = moveFile.MarkFlagRequired("path")

	expire := &cobra.Command{Use: "expire-delta", Short: "Make every OneDrive delta link answer 410 Gone (forces a full resync)", Args: requireArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error { return call(cmd, "delta/expire", req) }}
	cmds = append(cmds, putFile, delFile, moveFile, expire)

	approve := &cobra.Command{Use: "approve CODE [--user U]", Short: "Approve a pending sign-in code as a user", Args: requireArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			r := req
			r.Code = args[0]
			return call(cmd, "signin/approve", r)
		}}
	approve.Flags().StringVar(&req.User, "user", "", "the user who signs in (default: the first user)")
	decline := &cobra.Command{Use: "decline CODE", Short: "Decline a pending sign-in code", Args: requireArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			r := req
			r.Code = args[0]
			return call(cmd, "signin/decline", r)
		}}
	revoke := &cobra.Command{Use: "revoke --user U", Short: "Revoke a user's refresh tokens (as a password change does)", Args: requireArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error { return call(cmd, "signin/revoke", req) }}
	userFlag(revoke)
	expireTok := &cobra.Command{Use: "expire-tokens --user U", Short: "Make a user's access tokens expire now", Args: requireArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error { return call(cmd, "signin/expire", req) }}
	userFlag(expireTok)
	faults := &cobra.Command{Use: "faults SPEC", Short: "Change injected faults while running (\"\" turns them off)", Args: requireArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			r := req
			r.Spec = args[0]
			return call(cmd, "faults", r)
		}}
	cmds = append(cmds, approve, decline, revoke, expireTok, faults)
	cmds = append(cmds, a.simOrgCommands(call)...)
	return cmds
}

func readLimited(path string, limit int64) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	if st.Size() > limit {
		return nil, fmt.Errorf("%s is %d bytes; the limit is %d", path, st.Size(), limit)
	}
	return os.ReadFile(path)
}

func (a *app) printControlResult(res m365sim.ControlResult) {
	out := a.stdout
	if res.Message != "" {
		fmt.Fprintln(out, res.Message)
	}
	for _, u := range res.Users {
		fmt.Fprintf(out, "%-32s %-24s %7d emails %6d files\n", u.UPN, u.DisplayName, u.Messages, u.Files)
	}
	if len(res.Counts) > 0 {
		keys := make([]string, 0, len(res.Counts))
		for k := range res.Counts {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(out, "%6d  %s\n", res.Counts[k], k)
		}
	}
	if len(res.IDs) > 0 && len(res.IDs) <= 20 {
		fmt.Fprintln(out, "ids:", strings.Join(res.IDs, " "))
	}
}
