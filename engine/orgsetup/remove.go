package orgsetup

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/microsoft/kiota-abstractions-go/authentication"

	"github.com/lifeboat-backup/lifeboat/engine/auth"
)

// Remove deletes Lifeboat's registration from the directory (which removes
// its service principal and permissions with it) and then the credential on
// this computer. It needs the administrator's sign-in: an application
// cannot delete itself without Application.ReadWrite.All.
// https://learn.microsoft.com/graph/api/application-delete
func Remove(ctx context.Context, admin authentication.AccessTokenProvider, o Options) error {
	if err := o.defaults(); err != nil {
		return err
	}
	cred, err := o.Store.Load()
	if errors.Is(err, auth.ErrNoAppCredential) {
		return nil
	}
	if err != nil && !errors.Is(err, auth.ErrCacheDamaged) {
		return err
	}
	sdk, err := newSDK(admin, o.GraphURL, o.HTTPClient)
	if err != nil {
		return err
	}
	r := &registrar{o: o, sdk: sdk}
	id := cred.ObjectID
	if id == "" {
		app, err := r.findApp(ctx, cred)
		if err != nil {
			return err
		}
		if app != nil {
			id = deref(app.GetId())
		}
	}
	if id != "" {
		if err := sdk.Applications().ByApplicationId(id).Delete(ctx, nil); err != nil && !isStatus(err, http.StatusNotFound) {
			if isDenied(err) {
				return notAdmin(err)
			}
			return fmt.Errorf("delete Lifeboat's registration: %s: %w", describe(err), err)
		}
		o.progress("Lifeboat's registration was deleted from your company's Microsoft 365.")
	}
	return o.Store.Remove()
}
