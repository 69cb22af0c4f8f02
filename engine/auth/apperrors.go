package auth

import (
	"fmt"
	"math"
	"time"
)

// ErrAdminSignInRequired means Lifeboat can no longer read the company's
// Microsoft 365 on its own: the administrator must sign in again (which
// registers Lifeboat afresh). Match with errors.Is;
// *AdminSignInRequiredError says why.
var ErrAdminSignInRequired error = sentinel("Lifeboat can no longer reach your company's Microsoft 365: sign in as administrator again")

// ErrAppNotFound means Microsoft does not know Lifeboat's registration:
// just made (the directory has not caught up yet) or deleted since.
var ErrAppNotFound error = sentinel("Microsoft does not know Lifeboat's registration")

// AdminSignInRequiredError is ErrAdminSignInRequired with the reason.
type AdminSignInRequiredError struct {
	Reason   string
	Err      error
	notFound bool
}

func (e *AdminSignInRequiredError) Error() string {
	return "Lifeboat can no longer reach your company's Microsoft 365 (" + e.Reason + "): sign in as administrator again"
}

// Unwrap returns ErrAdminSignInRequired, ErrAppNotFound when that is the
// reason, and the cause.
func (e *AdminSignInRequiredError) Unwrap() []error {
	errs := []error{ErrAdminSignInRequired, e.Err}
	if e.notFound {
		errs = append(errs, ErrAppNotFound)
	}
	return errs
}

// ErrCertificateExpiring means Lifeboat's certificate ends within
// WarnBefore and renewing it has not worked.
var ErrCertificateExpiring error = sentinel("Lifeboat's certificate expires soon and renewing it failed")

// CertificateExpiringError is ErrCertificateExpiring with the days left and
// the renewal's last error.
type CertificateExpiringError struct {
	Days    int
	Expires time.Time
	Reason  string
}

func (e *CertificateExpiringError) Error() string {
	when := fmt.Sprintf("in %d days", e.Days)
	if e.Days <= 1 {
		when = "within a day"
	}
	msg := "Lifeboat's access to your company's Microsoft 365 ends " + when + " (" + e.Expires.Local().Format("2 January 2006") + ") because renewing its certificate failed"
	if e.Reason != "" {
		msg += ": " + e.Reason
	}
	return msg + ". If the next backup does not fix it, sign in as administrator again."
}

func (e *CertificateExpiringError) Is(target error) bool { return target == ErrCertificateExpiring }

// Check is the credential's health at now: nil while all is well (renewal
// not due, or due but the certificate still has more than WarnBefore), a
// *CertificateExpiringError within WarnBefore of expiry, an
// *AdminSignInRequiredError once it expired.
func (c AppCredential) Check(now time.Time) error {
	if !c.Current.Valid() {
		return &AdminSignInRequiredError{Reason: "there is no certificate"}
	}
	exp := c.Current.ExpiresOn()
	if !now.Before(exp) {
		return &AdminSignInRequiredError{Reason: "its certificate expired on " + exp.Local().Format("2 January 2006")}
	}
	if left := exp.Sub(now); left <= WarnBefore {
		reason := c.RenewalError
		if reason == "" {
			reason = "it was not tried yet"
		}
		return &CertificateExpiringError{Days: int(math.Ceil(left.Hours() / 24)), Expires: exp, Reason: reason}
	}
	return nil
}

// RenewalDue reports whether a run should roll the certificate now.
func (c AppCredential) RenewalDue(now time.Time) bool {
	return c.Current.Valid() && !now.Before(c.Current.ExpiresOn().Add(-RenewBefore))
}
