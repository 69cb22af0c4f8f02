package auth

import (
	"encoding/json"
	"errors"
	"strings"
)

// ErrSignInRequired means Microsoft will not give Lifeboat a token without
// the person signing in again: the refresh token was revoked, the password
// changed, consent was withdrawn, multi-factor authentication is now
// required, the saved sign-in is damaged, or there is none. Match it with
// errors.Is; *SignInRequiredError says why.
var ErrSignInRequired error = sentinel("Lifeboat needs you to sign in again")

// sentinel is an error constant; a type of its own lets the message start
// with the product's name.
type sentinel string

func (s sentinel) Error() string { return string(s) }

// ErrCacheDamaged means the saved sign-in could not be read back (damaged
// file, wrong or missing key). It also matches ErrSignInRequired: signing in
// again replaces the damaged file.
var ErrCacheDamaged = errors.New("the saved sign-in is damaged; sign in again")

// Outcomes of a device code sign-in other than success.
var (
	ErrDeclined    = errors.New("the sign-in was declined on Microsoft's page")
	ErrCodeExpired = errors.New("the sign-in code expired before it was used; start again for a new code")
	ErrCancelled   = errors.New("sign-in cancelled")
)

// SignInRequiredError is ErrSignInRequired with the reason, in words for
// the owner, and the error that revealed it.
type SignInRequiredError struct {
	// Account is the UPN or home account ID concerned, when known.
	Account string
	// Reason is a short explanation, e.g. "your password was changed or
	// your sign-in was revoked".
	Reason string
	// Err is the underlying error (MSAL's, without tokens).
	Err error
}

func (e *SignInRequiredError) Error() string {
	msg := ErrSignInRequired.Error()
	if e.Account != "" {
		msg += " as " + e.Account
	}
	if e.Reason != "" {
		msg += " (" + e.Reason + ")"
	}
	return msg
}

// Unwrap returns ErrSignInRequired and the cause, so errors.Is finds both.
func (e *SignInRequiredError) Unwrap() []error { return []error{ErrSignInRequired, e.Err} }

// CacheDamagedError is ErrCacheDamaged with the file and the cause.
type CacheDamagedError struct {
	Path   string
	Reason string
	Err    error
}

func (e *CacheDamagedError) Error() string {
	return "the saved sign-in (" + e.Path + ") is damaged: " + e.Reason + "; sign in again with `lifeboat login`"
}

// Unwrap returns ErrCacheDamaged, ErrSignInRequired and the cause.
func (e *CacheDamagedError) Unwrap() []error {
	return []error{ErrCacheDamaged, ErrSignInRequired, e.Err}
}

// flowError is a sign-in outcome (ErrDeclined, ErrCodeExpired,
// ErrCancelled) with its cause; its message is the outcome's alone.
type flowError struct{ kind, cause error }

func (e *flowError) Error() string   { return e.kind.Error() }
func (e *flowError) Unwrap() []error { return []error{e.kind, e.cause} }

// oauthError is the identity platform's error body, as far as it matters.
type oauthError struct {
	Code       string `json:"error"`
	ErrorCodes []int  `json:"error_codes"`
	SubError   string `json:"suberror"`
}

// oauthErrorOf finds the identity platform's error in an MSAL error. MSAL
// puts the response body in the message of its CallErr (the body itself is
// already consumed by then), so the JSON is taken from the message.
func oauthErrorOf(err error) (oauthError, bool) {
	var oe oauthError
	if err == nil {
		return oe, false
	}
	msg := err.Error()
	if i := strings.Index(msg, "{"); i >= 0 {
		dec := json.NewDecoder(strings.NewReader(msg[i:]))
		if dec.Decode(&oe) == nil && oe.Code != "" {
			return oe, true
		}
	}
	for _, code := range []string{"authorization_declined", "expired_token", "invalid_grant", "interaction_required", "consent_required", "login_required"} {
		if strings.Contains(msg, `"`+code+`"`) {
			return oauthError{Code: code}, true
		}
	}
	return oe, false
}

func (oe oauthError) has(code int) bool {
	for _, c := range oe.ErrorCodes {
		if c == code {
			return true
		}
	}
	return false
}

// signInRequiredReason says why a refresh failed in words for the owner,
// and ok is false when the error is not one that signing in again fixes.
func signInRequiredReason(err error) (reason string, ok bool) {
	if err != nil && err.Error() == "no token found" { // MSAL: no refresh token for the account
		return "there is no saved sign-in for this account", true
	}
	oe, found := oauthErrorOf(err)
	if !found {
		return "", false
	}
	switch oe.Code {
	case "invalid_grant", "interaction_required", "consent_required", "login_required":
	default:
		return "", false
	}
	switch {
	case oe.has(50173) || oe.has(50133) || oe.has(50089):
		return "your password was changed or your sign-in was revoked", true
	case oe.has(50076) || oe.has(50079) || oe.has(50158) || oe.SubError == "basic_action":
		return "your organization now requires multi-factor authentication", true
	case oe.has(65001) || oe.Code == "consent_required" || oe.SubError == "consent_required":
		return "permission for Lifeboat was withdrawn", true
	case oe.has(700082) || oe.has(70043) || oe.has(700084):
		return "the saved sign-in expired after a long time unused", true
	case oe.has(50034) || oe.has(50057):
		return "the account no longer exists or is disabled", true
	}
	return "Microsoft no longer accepts the saved sign-in", true
}
