package orgsetup

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/microsoftgraph/msgraph-sdk-go/applications"

	"github.com/lifeboat-backup/lifeboat/engine/auth"
)

// Renew rolls Lifeboat's certificate when it is due (auth.RenewBefore
// ahead of expiry), with no administrator: a new certificate is saved as
// Next first, then added with addKey and a proof of possession signed by
// the current one, and becomes current once Microsoft took it. ts is the
// running app-only token source; it is switched to the new certificate.
// A failure is recorded in the credential (for the dashboard's warning,
// auth.AppCredential.Check) and returned; the old certificate keeps
// working until it expires.
// https://learn.microsoft.com/graph/api/application-addkey
func Renew(ctx context.Context, ts *auth.AppTokenSource, o Options) (renewed bool, err error) {
	if err := o.defaults(); err != nil {
		return false, err
	}
	cred := ts.Credential()
	if !cred.RenewalDue(o.Now()) {
		return false, nil
	}
	if cred.ObjectID == "" {
		return false, errors.New("orgsetup: the registration's object ID is unknown; set up organization mode again")
	}
	fail := func(err error) (bool, error) {
		cred.RenewalError, cred.RenewalFailed = plainRenewal(err), o.Now()
		if serr := o.Store.Save(cred); serr != nil {
			o.Logger.Warn("orgsetup: could not record the failed renewal", "err", serr)
		}
		_ = ts.SetCredential(cred)
		o.Logger.Warn("orgsetup: certificate renewal failed", "err", err)
		return false, fmt.Errorf("renew Lifeboat's certificate: %w", err)
	}
	if !cred.Next.Valid() {
		next, err := auth.NewAppCertificate(o.DisplayName, time.Now()) // Microsoft checks validity against its own clock
		if err != nil {
			return fail(err)
		}
		cred.Next = next
		if err := o.Store.Save(cred); err != nil {
			return fail(err)
		}
	}
	proof, err := cred.Current.ProofToken(cred.ObjectID, time.Now())
	if err != nil {
		return fail(err)
	}
	sdk, err := newSDK(ts, o.GraphURL, o.HTTPClient)
	if err != nil {
		return fail(err)
	}
	r := &registrar{o: o, sdk: sdk}
	body := applications.NewItemAddKeyPostRequestBody()
	body.SetKeyCredential(r.keyCredential(cred.Next))
	body.SetProof(&proof)
	if _, err := sdk.Applications().ByApplicationId(cred.ObjectID).AddKey().Post(ctx, body, nil); err != nil {
		return fail(fmt.Errorf("%s: %w", describe(err), err))
	}
	cred.Current, cred.Next = cred.Next, auth.AppCertificate{}
	cred.RenewalError, cred.RenewalFailed = "", time.Time{}
	if err := o.Store.Save(cred); err != nil {
		return fail(err)
	}
	if err := ts.SetCredential(cred); err != nil {
		return false, err
	}
	o.Logger.Info("orgsetup: certificate renewed", "valid_until", cred.Current.ExpiresOn())
	return true, nil
}

// plainRenewal says why a renewal failed, briefly, for the dashboard.
func plainRenewal(err error) string {
	switch {
	case errors.Is(err, auth.ErrAdminSignInRequired):
		return "Microsoft no longer accepts Lifeboat's certificate"
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return "the backup was stopped before it could"
	}
	if ae, ok := graphError(err); ok {
		return fmt.Sprintf("Microsoft refused it (%s)", ae.Code)
	}
	return "Microsoft could not be reached"
}
