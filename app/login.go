package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/lifeboat-backup/lifeboat/engine/auth"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/secret"
)

// defaultClientID is the application (client) ID used when no flag,
// environment variable or tenant profile names one. Release builds set it:
// -ldflags "-X main.defaultClientID=<GUID of Lifeboat's app registration>".
var defaultClientID = ""

// authOptions are the flags of login, logout and whoami.
type authOptions struct {
	clientID    string
	secretStore string
	// keychain, when set, replaces the keychain --secret-store picks; tests
	// use it to make the keychain fail.
	keychain secret.Keychain
	// scopes, when set, replace auth.Scopes(): Mail.Send for the e-mail
	// report, asked for only when it is on (schedule.go).
	scopes []string
}

func addAuthFlags(cmd *cobra.Command, o *authOptions) {
	f := cmd.Flags()
	f.StringVar(&o.clientID, "client-id", "", "application (client) ID to sign in with; also LIFEBOAT_CLIENT_ID (default: the tenant profile's, then Lifeboat's own)")
	f.StringVar(&o.secretStore, "secret-store", "", "where the key of the saved sign-in is kept: keychain (the system's, default) or file (a 0600 file next to it: less safe); also LIFEBOAT_SECRET_STORE")
}

// newLoginCommands returns login, logout and whoami.
func newLoginCommands(g *globals) []*cobra.Command {
	var lo, oo, wo authOptions
	login := &cobra.Command{
		Use:   "login [--client-id ID] [--secret-store keychain|file]",
		Short: "Sign in to Microsoft 365 with a code shown here",
		Long: "Sign in to Microsoft 365. Lifeboat shows a web address and a code: open the address on any\n" +
			"device, enter the code and sign in there. Lifeboat then stays signed in (the sign-in is saved\n" +
			"encrypted, its key in the system keychain) until Microsoft asks for you again.\n" +
			"Sign in again with another account to back up several side by side.",
		Args: requireArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error { return runLogin(cmd.Context(), g, lo) },
	}
	addAuthFlags(login, &lo)
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
			return runLogout(cmd.Context(), g, oo, account)
		},
	}
	addAuthFlags(logout, &oo)
	whoami := &cobra.Command{
		Use:   "whoami",
		Short: "Show who is signed in, until when, with which permissions",
		Args:  requireArgs(cobra.NoArgs),
		RunE:  func(cmd *cobra.Command, args []string) error { return runWhoami(cmd.Context(), g, wo) },
	}
	addAuthFlags(whoami, &wo)
	return []*cobra.Command{login, logout, whoami}
}

// configDir is where Lifeboat keeps its own files: LIFEBOAT_CONFIG_DIR, or
// Lifeboat under the user's config folder. custom is true for the former.
func configDir() (dir string, custom bool, err error) {
	if d := os.Getenv("LIFEBOAT_CONFIG_DIR"); d != "" {
		abs, err := filepath.Abs(d)
		if err != nil {
			return "", false, fmt.Errorf("LIFEBOAT_CONFIG_DIR: %w", err)
		}
		return abs, true, nil
	}
	base, err := os.UserConfigDir()
	if err != nil {
		return "", false, fmt.Errorf("find your config folder (or set LIFEBOAT_CONFIG_DIR): %w", err)
	}
	return filepath.Join(base, "Lifeboat"), false, nil
}

// authManager builds the sign-in manager from the flags, the environment
// and the tenant profile. It prints the --secret-store file warning.
func authManager(g *globals, o authOptions) (*auth.Manager, error) {
	p, haveProfile, err := g.profile()
	if err != nil {
		return nil, err
	}
	cfg := auth.Config{Logger: g.logger(), Authority: auth.DefaultAuthority}
	dir, custom, err := configDir()
	if err != nil {
		return nil, err
	}
	saved, err := loadSettings(dir)
	if err != nil {
		return nil, err
	}
	// A tenant profile names the client its tenant accepts, so it comes
	// before the saved setting; explicit flags and environment come first.
	cfg.ClientID = firstNonEmpty(o.clientID, os.Getenv("LIFEBOAT_CLIENT_ID"), p.ClientID, saved.ClientID, defaultClientID)
	if cfg.ClientID == "" {
		return nil, usageError{errors.New("no application (client) ID: pass --client-id, set LIFEBOAT_CLIENT_ID, " +
			"or put \"clientID\" in " + filepath.Join(dir, settingsFile) + " (this build of Lifeboat has none built in)")}
	}
	if haveProfile {
		cfg.Authority = p.Authority
		if p.CACertPEM != "" {
			hc, err := m365sim.ClientTrustingPEM([]byte(p.CACertPEM))
			if err != nil {
				return nil, fmt.Errorf("tenant profile: %w", err)
			}
			cfg.HTTPClient = hc
		}
	}
	cfg.Dir = dir
	if custom {
		// Another config folder is another installation: its own key.
		cfg.KeyAccount = auth.DefaultKeyAccount + ":" + dir
	}
	kc, store, err := secretStore(g, o.secretStore, dir, secret.FileWarning)
	if err != nil {
		return nil, err
	}
	cfg.Keychain = kc
	if o.keychain != nil {
		cfg.Keychain = o.keychain
	}
	cfg.Scopes = o.scopes
	m, err := auth.New(cfg)
	if err != nil {
		return nil, err
	}
	g.logger().Debug("sign-in settings", "authority", cfg.Authority, "client_id", cfg.ClientID, "cache", m.CachePath(), "secret_store", store)
	return m, nil
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// explain turns keychain errors into the owner-facing message alone.
func explain(err error) error {
	var ue *secret.UnavailableError
	if errors.As(err, &ue) {
		return fmt.Errorf("cannot keep your sign-in safe: %w", ue)
	}
	return err
}

func runLogin(ctx context.Context, g *globals, o authOptions) error {
	o.scopes = signInScopes()
	m, err := authManager(g, o)
	if err != nil {
		return err
	}
	out := g.stdout
	_, err = m.SignIn(ctx, func(e auth.Event) { renderSignInEvent(out, e) })
	return explain(err)
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

func runLogout(ctx context.Context, g *globals, o authOptions, account string) error {
	m, err := authManager(g, o)
	if err != nil {
		return err
	}
	accounts, err := m.Accounts(ctx)
	if errors.Is(err, auth.ErrCacheDamaged) {
		if ferr := m.Forget(); ferr != nil {
			return fmt.Errorf("remove the damaged saved sign-in: %w", ferr)
		}
		fmt.Fprintln(g.stdout, "The saved sign-in was damaged; it is removed. No account is signed in now.")
		return nil
	}
	if err != nil {
		return explain(err)
	}
	if account == "" {
		switch len(accounts) {
		case 0:
			fmt.Fprintln(g.stdout, "No account is signed in.")
			return nil
		case 1:
			account = accounts[0].HomeAccountID
		default:
			var names []string
			for _, a := range accounts {
				names = append(names, a.UPN)
			}
			return usageError{fmt.Errorf("several accounts are signed in (%s); say which: lifeboat logout ACCOUNT", strings.Join(names, ", "))}
		}
	}
	gone, err := m.Account(ctx, account)
	if err != nil {
		return explain(err)
	}
	left, err := m.SignOut(ctx, gone.HomeAccountID)
	if err != nil {
		return explain(err)
	}
	fmt.Fprintf(g.stdout, "Signed out %s.\n", displayName(gone.Name, gone.UPN))
	if len(left) == 0 {
		fmt.Fprintln(g.stdout, "No account is signed in now; the saved sign-in and its key are deleted.")
		return nil
	}
	var names []string
	for _, a := range left {
		names = append(names, a.UPN)
	}
	fmt.Fprintf(g.stdout, "Still signed in: %s.\n", strings.Join(names, ", "))
	return nil
}

func runWhoami(ctx context.Context, g *globals, o authOptions) error {
	m, err := authManager(g, o)
	if err != nil {
		return err
	}
	accounts, err := m.Accounts(ctx)
	if err != nil {
		return explain(err)
	}
	if len(accounts) == 0 {
		fmt.Fprintln(g.stdout, "Not signed in. Run `lifeboat login` to sign in.")
		return &auth.SignInRequiredError{Reason: "no account is signed in"}
	}
	var failed []error
	for i, a := range accounts {
		if i > 0 {
			fmt.Fprintln(g.stdout)
		}
		tok, err := m.Token(ctx, a.HomeAccountID)
		name := a.Name
		if err == nil {
			name = tok.Account.Name
		}
		fmt.Fprintf(g.stdout, "%s\n", displayName(name, a.UPN))
		fmt.Fprintf(g.stdout, "  account ID:  %s\n", a.HomeAccountID)
		if host := authorityHost(g); host != "" {
			fmt.Fprintf(g.stdout, "  signed in at: %s\n", host)
		}
		if err != nil {
			if errors.Is(err, auth.ErrSignInRequired) {
				fmt.Fprintf(g.stdout, "  status:      %v; run `lifeboat login`\n", err)
			} else {
				fmt.Fprintf(g.stdout, "  status:      cannot get a token now: %v\n", explain(err))
			}
			failed = append(failed, err)
			continue
		}
		fmt.Fprintf(g.stdout, "  token valid until: %s (%s from now; renewed automatically)\n", tok.ExpiresOn.Local().Format("2006-01-02 15:04 MST"), roughDuration(time.Until(tok.ExpiresOn)))
		fmt.Fprintf(g.stdout, "  permissions: %s\n", strings.Join(tok.Scopes, " "))
	}
	switch len(failed) {
	case 0:
		return nil
	case 1:
		return failed[0]
	}
	return fmt.Errorf("%d accounts cannot get a token: %w", len(failed), errors.Join(failed...))
}

// roughDuration is d for people: "45 min", "1 h 5 min".
func roughDuration(d time.Duration) string {
	m := int(d.Round(time.Minute) / time.Minute)
	switch {
	case m < 1:
		return "less than a minute"
	case m < 60:
		return fmt.Sprintf("%d min", m)
	case m%60 == 0:
		return fmt.Sprintf("%d h", m/60)
	}
	return fmt.Sprintf("%d h %d min", m/60, m%60)
}

// authorityHost is the sign-in host when it is not Microsoft's, so a
// simulated tenant is never mistaken for the real one.
func authorityHost(g *globals) string {
	p, ok, err := g.profile()
	if err != nil || !ok {
		return ""
	}
	u, err := url.Parse(p.Authority)
	if err != nil {
		return ""
	}
	return p.Name + " (" + u.Host + ")"
}
