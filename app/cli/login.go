package cli

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/lifeboat-backup/lifeboat/engine/auth"
	"github.com/lifeboat-backup/lifeboat/engine/service"
)

func addSignInFlags(cmd *cobra.Command, c *common) {
	f := cmd.Flags()
	f.StringVar(&c.clientID, "client-id", "", "application (client) ID to sign in with; also LIFEBOAT_CLIENT_ID (default: the tenant profile's, then Lifeboat's own)")
	f.StringVar(&c.secretStore, "secret-store", "", "where the key of the saved sign-in is kept: keychain (the system's, default) or file (a 0600 file next to it: less safe); also LIFEBOAT_SECRET_STORE")
}

// loginCommands returns login, logout and whoami.
func (a *app) loginCommands() []*cobra.Command {
	var lo, oo, wo common
	login := &cobra.Command{
		Use:   "login [--client-id ID] [--secret-store keychain|file]",
		Short: "Sign in to Microsoft 365 with a code shown here",
		Long: "Sign in to Microsoft 365. Lifeboat shows a web address and a code: open the address on any\n" +
			"device, enter the code and sign in there. Lifeboat then stays signed in (the sign-in is saved\n" +
			"encrypted, its key in the system keychain) until Microsoft asks for you again.\n" +
			"Sign in again with another account to back up several side by side.",
		Args: requireArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, err := a.service(lo, usesSignIn)
			if err != nil {
				return err
			}
			_, err = svc.SignIn(cmd.Context(), func(e auth.Event) { renderSignInEvent(a.stdout, e) })
			return err
		},
	}
	addSignInFlags(login, &lo)
	logout := &cobra.Command{
		Use:   "logout [ACCOUNT]",
		Short: "Remove a saved sign-in (by e-mail address or account ID)",
		Long: "Remove the saved sign-in of ACCOUNT (its e-mail address or account ID), or of the only\n" +
			"account signed in. When no account is left, the saved sign-in file and its key in the\n" +
			"keychain are deleted too.",
		Args: requireArgs(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			account := ""
			if len(args) == 1 {
				account = args[0]
			}
			return a.logout(cmd, oo, account)
		},
	}
	addSignInFlags(logout, &oo)
	whoami := &cobra.Command{
		Use:   "whoami",
		Short: "Show who is signed in, until when, with which permissions",
		Args:  requireArgs(cobra.NoArgs),
		RunE:  func(cmd *cobra.Command, args []string) error { return a.whoami(cmd, wo) },
	}
	addSignInFlags(whoami, &wo)
	return []*cobra.Command{login, logout, whoami}
}

// renderSignInEvent prints a sign-in step for a person at a terminal.
func renderSignInEvent(w io.Writer, e auth.Event) {
	switch e := e.(type) {
	case auth.CodeIssued:
		fmt.Fprintf(w, "\nTo sign in, open this page in a web browser (on any device):\n\n    %s\n\n", e.VerificationURL)
		fmt.Fprintf(w, "and enter the code:\n\n    %s\n\n", e.UserCode)
		fmt.Fprintf(w, "The code works until %s. Press Ctrl-C to cancel.\n", e.ExpiresOn.Local().Format("15:04"))
	case auth.Waiting:
		fmt.Fprintln(w, "Waiting for you to finish signing in...")
	case auth.SignedIn:
		fmt.Fprintf(w, "Signed in as %s.\n", displayName(e.Name, e.UPN))
	case auth.Declined, auth.Expired, auth.Cancelled, auth.Failed:
		// The returned error says what happened.
	}
}

func displayName(name, upn string) string {
	if name == "" || name == upn {
		return upn
	}
	return name + " (" + upn + ")"
}

func (a *app) logout(cmd *cobra.Command, c common, account string) error {
	svc, err := a.service(c, usesSignIn)
	if err != nil {
		return err
	}
	res, err := svc.SignOut(cmd.Context(), account)
	var in *service.InputError
	if errors.As(err, &in) {
		return usageError{fmt.Errorf("%w: lifeboat logout ACCOUNT", err)}
	}
	if err != nil {
		return err
	}
	w := a.stdout
	switch {
	case res.WasDamaged:
		fmt.Fprintln(w, "The saved sign-in was damaged; it is removed. No account is signed in now.")
		return nil
	case res.Gone.HomeAccountID == "":
		fmt.Fprintln(w, "No account is signed in.")
		return nil
	}
	fmt.Fprintf(w, "Signed out %s.\n", displayName(res.Gone.Name, res.Gone.UPN))
	if len(res.Left) == 0 {
		fmt.Fprintln(w, "No account is signed in now; the saved sign-in and its key are deleted.")
		return nil
	}
	names := make([]string, 0, len(res.Left))
	for _, l := range res.Left {
		names = append(names, l.UPN)
	}
	fmt.Fprintf(w, "Still signed in: %s.\n", strings.Join(names, ", "))
	return nil
}

func (a *app) whoami(cmd *cobra.Command, c common) error {
	svc, err := a.service(c, usesSignIn)
	if err != nil {
		return err
	}
	accounts, err := svc.Whoami(cmd.Context())
	if err != nil {
		return err
	}
	w := a.stdout
	if len(accounts) == 0 {
		fmt.Fprintln(w, "Not signed in. Run `lifeboat login` to sign in.")
		return &auth.SignInRequiredError{Reason: "no account is signed in"}
	}
	var failed []error
	for i, st := range accounts {
		if i > 0 {
			fmt.Fprintln(w)
		}
		acc := st.Account
		fmt.Fprintf(w, "%s\n", displayName(acc.Name, acc.UPN))
		fmt.Fprintf(w, "  account ID:  %s\n", acc.HomeAccountID)
		if host := authorityHost(svc.Options().Tenant); host != "" {
			fmt.Fprintf(w, "  signed in at: %s\n", host)
		}
		if st.Err != nil {
			if errors.Is(st.Err, auth.ErrSignInRequired) {
				fmt.Fprintf(w, "  status:      %v; run `lifeboat login`\n", st.Err)
			} else {
				fmt.Fprintf(w, "  status:      cannot get a token now: %v\n", service.Explain(st.Err))
			}
			failed = append(failed, st.Err)
			continue
		}
		fmt.Fprintf(w, "  token valid until: %s (%s from now; renewed automatically)\n", st.Token.ExpiresOn.Local().Format("2006-01-02 15:04 MST"),
			roughDuration(time.Until(st.Token.ExpiresOn)))
		fmt.Fprintf(w, "  permissions: %s\n", strings.Join(st.Token.Scopes, " "))
	}
	switch len(failed) {
	case 0:
		return nil
	case 1:
		return failed[0]
	}
	return fmt.Errorf("%d accounts cannot get a token: %w", len(failed), errors.Join(failed...))
}

// authorityHost is the sign-in host when it is not Microsoft's, so a
// simulated tenant is never mistaken for the real one.
func authorityHost(t service.Tenant) string {
	if !t.Simulated() {
		return ""
	}
	u, err := url.Parse(t.Authority)
	if err != nil {
		return ""
	}
	return t.Name + " (" + u.Host + ")"
}
