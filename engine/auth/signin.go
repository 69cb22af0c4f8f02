package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/public"
)

// SignIn runs the device code flow: it asks Microsoft for a code, reports
// CodeIssued and Waiting through events (which may be nil; it is called on
// SignIn's goroutine), waits until the person has finished on the page,
// saves the sign-in and reports SignedIn. On failure it reports Declined,
// Expired, Cancelled (ctx done) or Failed and returns an error matching
// ErrDeclined, ErrCodeExpired, ErrCancelled or the cause.
//
// The keychain is checked before a code is asked for, so an unavailable
// keychain fails before the person does anything. A damaged saved sign-in is
// replaced.
func (m *Manager) SignIn(ctx context.Context, events func(Event)) (Account, error) {
	emit := func(e Event) {
		if events != nil {
			events(e)
		}
	}
	fail := func(err error) (Account, error) {
		switch {
		case errors.Is(err, ErrCancelled):
			emit(Cancelled{})
		case errors.Is(err, ErrDeclined):
			emit(Declined{})
		case errors.Is(err, ErrCodeExpired):
			emit(Expired{})
		default:
			emit(Failed{Err: err})
		}
		m.log.Debug("auth: sign-in did not complete", "outcome", outcome(err))
		return Account{}, err
	}
	if _, err := m.cache.loadKey(true); err != nil {
		return fail(fmt.Errorf("sign in: %w", err))
	}
	m.log.Debug("auth: sign-in started", "scopes", m.cfg.Scopes)
	dc, err := m.lenient.AcquireTokenByDeviceCode(ctx, m.cfg.Scopes)
	if err != nil {
		return fail(signInError(ctx, "sign in: ask for a code", err))
	}
	issued := CodeIssued{
		UserCode:        dc.Result.UserCode,
		VerificationURL: dc.Result.VerificationURL,
		ExpiresOn:       dc.Result.ExpiresOn,
		Message:         dc.Result.Message,
	}
	m.log.Debug("auth: sign-in code issued", "sign_in", issued)
	emit(issued)
	emit(Waiting{})
	ar, err := dc.AuthenticationResult(ctx)
	if err != nil {
		return fail(signInError(ctx, "sign in", err))
	}
	a := accountOf(ar.Account)
	if a.Name == "" {
		a.Name = ar.IDToken.Name
	}
	m.log.Debug("auth: signed in", "upn", a.UPN, "home_account_id", a.HomeAccountID, "expires_on", ar.ExpiresOn)
	emit(SignedIn{Name: a.Name, UPN: a.UPN, HomeAccountID: a.HomeAccountID})
	return a, nil
}

// signInError turns MSAL's error into a sign-in outcome.
func signInError(ctx context.Context, op string, err error) error {
	if ctx.Err() != nil {
		return &flowError{kind: ErrCancelled, cause: err}
	}
	if oe, ok := oauthErrorOf(err); ok {
		switch oe.Code {
		case "authorization_declined", "access_denied":
			return &flowError{kind: ErrDeclined, cause: err}
		case "expired_token", "code_expired":
			return &flowError{kind: ErrCodeExpired, cause: err}
		}
	}
	// MSAL stops polling at the code's expiry with its own deadline.
	if errors.Is(err, context.DeadlineExceeded) {
		return &flowError{kind: ErrCodeExpired, cause: err}
	}
	return fmt.Errorf("%s: %w", op, err)
}

// outcome names an error for a log line without its text.
func outcome(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, ErrCancelled):
		return "cancelled"
	case errors.Is(err, ErrDeclined):
		return "declined"
	case errors.Is(err, ErrCodeExpired):
		return "expired"
	case errors.Is(err, ErrCacheDamaged):
		return "cache damaged"
	case errors.Is(err, ErrSignInRequired):
		return "sign-in required"
	}
	if oe, ok := oauthErrorOf(err); ok {
		return fmt.Sprintf("%s %v", oe.Code, oe.ErrorCodes)
	}
	return "failed"
}

// Token is an access token for Graph. String and LogValue leave the token
// itself out.
type Token struct {
	Account     Account
	AccessToken string
	ExpiresOn   time.Time
	// Scopes are the scopes granted, as the identity provider reported them.
	Scopes []string
	// FromCache is true when no request to the identity provider was made.
	FromCache bool
}

func (t Token) String() string {
	return fmt.Sprintf("token for %s, expires %s", t.Account.UPN, t.ExpiresOn.Format(time.RFC3339))
}

// silent gets a token for a without the person, letting MSAL refresh it.
func (m *Manager) silent(ctx context.Context, a Account, claims string) (Token, error) {
	opts := []public.AcquireSilentOption{public.WithSilentAccount(a.msal)}
	if claims != "" {
		opts = append(opts, public.WithClaims(claims))
	}
	ar, err := m.client.AcquireTokenSilent(ctx, m.cfg.Scopes, opts...)
	if err != nil {
		if errors.Is(err, ErrSignInRequired) || ctx.Err() != nil {
			return Token{}, fmt.Errorf("get a token for %s: %w", a.UPN, err)
		}
		if reason, ok := signInRequiredReason(err); ok {
			m.log.Warn("auth: the saved sign-in no longer works", "upn", a.UPN, "reason", reason, "outcome", outcome(err))
			return Token{}, &SignInRequiredError{Account: a.UPN, Reason: reason, Err: err}
		}
		m.log.Debug("auth: token failed", "upn", a.UPN, "outcome", outcome(err))
		return Token{}, fmt.Errorf("get a token for %s: %w", a.UPN, err)
	}
	if a.Name == "" {
		a.Name = ar.IDToken.Name
	}
	t := Token{
		Account:     a,
		AccessToken: ar.AccessToken,
		ExpiresOn:   ar.ExpiresOn,
		Scopes:      ar.GrantedScopes,
		FromCache:   ar.Metadata.TokenSource == public.TokenSourceCache,
	}
	m.log.Debug("auth: token", "upn", a.UPN, "from_cache", t.FromCache, "expires_on", t.ExpiresOn)
	return t, nil
}

// Token gets an access token for the account (home account ID or UPN)
// silently. Errors that signing in again fixes match ErrSignInRequired;
// network errors stay network errors.
func (m *Manager) Token(ctx context.Context, account string) (Token, error) {
	a, err := m.account(ctx, account, false)
	if err != nil {
		return Token{}, err
	}
	return m.silent(ctx, a, "")
}

// LogValue leaves the access token out of logs.
func (t Token) LogValue() slog.Value {
	return slog.GroupValue(slog.String("upn", t.Account.UPN), slog.Time("expires_on", t.ExpiresOn), slog.Bool("from_cache", t.FromCache))
}
