package gui

import (
	"context"

	"github.com/lifeboat-backup/lifeboat/engine/auth"
	"github.com/lifeboat-backup/lifeboat/ui"
)

// companySetup is ui.CompanySetup: organization mode's one administrator
// sign-in (engine/service SetUpCompany).
type companySetup struct{ e *Env }

func (c companySetup) SetUp(ctx context.Context, update func(ui.SignInUpdate), progress func(string)) error {
	started := false
	_, err := c.e.svc.SetUpCompany(ctx, func(ev auth.Event) {
		started = true
		update(signInUpdate(ev))
	}, progress)
	if err != nil && !started {
		update(ui.SignInUpdate{Step: ui.SignInFailed, Err: err})
	}
	return err
}

func (c companySetup) Enabled(context.Context) (bool, error) { return c.e.svc.CompanyMode() }
