package service

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/lifeboat-backup/lifeboat/engine/auth"
	"github.com/lifeboat-backup/lifeboat/engine/secret"
)

// InputError marks a mistake in what was asked (an unknown account, a
// missing choice): the command line exits with its usage code.
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// badInput wraps err as an InputError.
func badInput(err error) error { return &InputError{Err: err} }

// Explain turns keychain errors into the owner-facing message alone.
func Explain(err error) error {
	var ue *secret.UnavailableError
	if errors.As(err, &ue) {
		return fmt.Errorf("cannot keep your sign-in safe: %w", ue)
	}
	return err
}

// SignInManager is the sign-in manager for this computer's saved
// sign-ins, asking for scopes (nil: the usual ones, see SignInScopes).
func (s *Service) SignInManager(scopes []string) (*auth.Manager, error) {
	t := s.o.Tenant
	cfg := auth.Config{Logger: s.o.Logger, Authority: auth.DefaultAuthority, Dir: s.o.ConfigDir, Keychain: s.o.Keychain, Scopes: scopes}
	saved, err := s.Settings()
	if err != nil {
		return nil, err
	}
	// A simulated tenant names the client it accepts, so it comes before
	// the saved setting; an explicit choice comes first.
	cfg.ClientID = firstNonEmpty(s.o.ClientID, t.ClientID, saved.ClientID, s.o.DefaultClientID)
	if cfg.ClientID == "" {
		return nil, badInput(errors.New("no application (client) ID: pass --client-id, set LIFEBOAT_CLIENT_ID, " +
			"or put \"clientID\" in " + filepath.Join(s.o.ConfigDir, SettingsFile) + " (this build of Lifeboat has none built in)"))
	}
	if t.Authority != "" {
		cfg.Authority = t.Authority
	}
	cfg.HTTPClient = t.HTTPClient
	if s.o.CustomConfigDir {
		// Another config folder is another installation: its own key.
		cfg.KeyAccount = auth.DefaultKeyAccount + ":" + s.o.ConfigDir
	}
	m, err := auth.New(cfg)
	if err != nil {
		return nil, err
	}
	s.o.Logger.Debug("sign-in settings", "authority", cfg.Authority, "client_id", cfg.ClientID, "cache", m.CachePath(), "secret_store", s.o.SecretStore)
	return m, nil
}

// SignInScopes are the permissions a sign-in asks for: the usual ones,
// plus Mail.Send only while the e-mail report is on.
func (s *Service) SignInScopes() []string {
	if st, err := LoadScheduleState(s.o.ConfigDir); err == nil && st.EmailReport != "" {
		return append(auth.Scopes(), "Mail.Send")
	}
	return nil
}

// SignIn signs a person in with a code entered in a browser, reporting
// each step through events.
func (s *Service) SignIn(ctx context.Context, events func(auth.Event)) (auth.Account, error) {
	m, err := s.SignInManager(s.SignInScopes())
	if err != nil {
		return auth.Account{}, err
	}
	a, err := m.SignIn(ctx, events)
	return a, Explain(err)
}

// Accounts lists who is signed in on this computer. A damaged saved
// sign-in lists nobody (signing in again replaces it) when
// damagedIsEmpty, else it is an error matching auth.ErrCacheDamaged.
func (s *Service) Accounts(ctx context.Context, damagedIsEmpty bool) ([]auth.Account, error) {
	m, err := s.SignInManager(nil)
	if err != nil {
		return nil, err
	}
	accs, err := m.Accounts(ctx)
	if errors.Is(err, auth.ErrCacheDamaged) && damagedIsEmpty {
		return nil, nil
	}
	return accs, Explain(err)
}

// SignOutResult is what signing out did.
type SignOutResult struct {
	// Gone is who was signed out; zero when nobody was signed in.
	Gone auth.Account
	// Left is who is still signed in.
	Left []auth.Account
	// WasDamaged: the saved sign-in was damaged and has been removed.
	WasDamaged bool
}

// SignOut forgets a sign-in: account (e-mail address or account ID), or
// the only one when account is "". When nobody is left, the saved sign-in
// and its key are deleted too.
func (s *Service) SignOut(ctx context.Context, account string) (SignOutResult, error) {
	var res SignOutResult
	m, err := s.SignInManager(nil)
	if err != nil {
		return res, err
	}
	accounts, err := m.Accounts(ctx)
	if errors.Is(err, auth.ErrCacheDamaged) {
		if ferr := m.Forget(); ferr != nil {
			return res, fmt.Errorf("remove the damaged saved sign-in: %w", ferr)
		}
		res.WasDamaged = true
		return res, nil
	}
	if err != nil {
		return res, Explain(err)
	}
	if account == "" {
		switch len(accounts) {
		case 0:
			return res, nil
		case 1:
			account = accounts[0].HomeAccountID
		default:
			return res, badInput(fmt.Errorf("several accounts are signed in (%s); say which", upns(accounts)))
		}
	}
	gone, err := m.Account(ctx, account)
	if err != nil {
		return res, Explain(err)
	}
	left, err := m.SignOut(ctx, gone.HomeAccountID)
	if err != nil {
		return res, Explain(err)
	}
	res.Gone, res.Left = gone, left
	return res, nil
}

// AccountStatus is one signed-in account and whether it can get a token.
type AccountStatus struct {
	Account auth.Account
	// Token is valid when Err is nil.
	Token auth.Token
	Err   error
}

// Whoami lists every signed-in account with a fresh token (or why none
// can be had).
func (s *Service) Whoami(ctx context.Context) ([]AccountStatus, error) {
	m, err := s.SignInManager(nil)
	if err != nil {
		return nil, err
	}
	accounts, err := m.Accounts(ctx)
	if err != nil {
		return nil, Explain(err)
	}
	out := make([]AccountStatus, 0, len(accounts))
	for _, a := range accounts {
		tok, err := m.Token(ctx, a.HomeAccountID)
		if err == nil && tok.Account.Name != "" {
			a.Name = tok.Account.Name
		}
		out = append(out, AccountStatus{Account: a, Token: tok, Err: err})
	}
	return out, nil
}

func upns(accounts []auth.Account) string {
	s := ""
	for i, a := range accounts {
		if i > 0 {
			s += ", "
		}
		s += a.UPN
	}
	return s
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}
