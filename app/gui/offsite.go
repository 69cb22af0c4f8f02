package gui

import (
	"context"

	"github.com/lifeboat-backup/lifeboat/engine/backup"
	"github.com/lifeboat-backup/lifeboat/engine/service"
	"github.com/lifeboat-backup/lifeboat/ui"
)

// offsiteSetup is ui.Offsite.
type offsiteSetup struct{ e *Env }

func (o offsiteSetup) Providers() []ui.OffsiteProvider {
	var out []ui.OffsiteProvider
	for _, p := range service.OffsiteProviders() {
		out = append(out, ui.OffsiteProvider{ID: string(p.ID), Name: p.Name, EndpointHint: p.EndpointHint, Regions: p.Regions, Notes: p.Notes})
	}
	return out
}

func (o offsiteSetup) Current(context.Context) (ui.OffsiteConfig, bool, error) {
	st, err := o.e.svc.OffsiteStatus()
	if err != nil || !st.Configured {
		return ui.OffsiteConfig{}, false, err
	}
	c := st.Settings
	return ui.OffsiteConfig{Provider: c.Provider, Endpoint: c.Endpoint, Region: c.Region, Bucket: c.Bucket, AccessKeyID: c.AccessKeyID,
		RetentionDays: c.RetentionDays}, true, nil
}

func offsiteSetupOf(c ui.OffsiteConfig) service.OffsiteSetup {
	return service.OffsiteSetup{Secret: c.Secret, OffsiteSettings: service.OffsiteSettings{Provider: c.Provider, Endpoint: c.Endpoint,
		Region: c.Region, Bucket: c.Bucket, AccessKeyID: c.AccessKeyID, RetentionDays: c.RetentionDays}}
}

func uiCheck(c service.BucketCheck) ui.OffsiteCheck {
	return ui.OffsiteCheck{Versioning: c.Versioning, ObjectLock: c.ObjectLock, Problems: c.Problems, Warnings: c.Warnings}
}

func (o offsiteSetup) Check(ctx context.Context, c ui.OffsiteConfig) (ui.OffsiteCheck, error) {
	chk, err := o.e.svc.CheckOffsite(ctx, offsiteSetupOf(c))
	return uiCheck(chk), err
}

func (o offsiteSetup) Save(ctx context.Context, c ui.OffsiteConfig) (ui.OffsiteCheck, error) {
	chk, err := o.e.svc.SetupOffsite(ctx, offsiteSetupOf(c))
	return uiCheck(chk), err
}

func (o offsiteSetup) EjectAfterBackup() bool { return o.e.svc.EjectAfterBackup() }

func (o offsiteSetup) SetEjectAfterBackup(on bool) error { return o.e.svc.SetEjectAfterBackup(on) }

// alarm is ui.Alarm.
type alarm struct{ e *Env }

func (a alarm) Acknowledge(_ context.Context, id string) error {
	_, err := a.e.svc.AcknowledgeAlert(id)
	return err
}

// addCopies adds the off-site copy and the open alarms to the
// dashboard's status.
func (e *Env) addCopies(st *ui.Status) {
	if o, err := e.svc.OffsiteStatus(); err == nil && o.Configured {
		st.Offsite = &ui.OffsiteStatus{LastCopy: o.LastCopy}
		if o.LastError != "" && o.LastAttempt.After(o.LastCopy) {
			st.Offsite.Problem = o.LastError
		}
	}
	alerts, err := e.svc.Alerts()
	if err != nil {
		st.Warnings = append(st.Warnings, "Lifeboat cannot read its alarm record: "+err.Error())
	}
	for _, a := range alerts {
		kind := ui.ItemEmail
		if a.BeforeKind == backup.KindOneDrive {
			kind = ui.ItemFile
		}
		st.Alerts = append(st.Alerts, ui.AlarmAlert{ID: a.ID, Text: a.Text(), Before: a.Before, Kind: kind})
	}
}

// copyOffsite brings the off-site copy up to date after "Back up now", as
// the scheduled run does; a failure is recorded for the dashboard and
// leaves the backup on the drive as it is.
func (e *Env) copyOffsite(ctx context.Context, dir string) {
	if st, err := e.svc.OffsiteStatus(); err != nil || !st.Configured {
		return
	}
	if _, err := e.svc.CopyOffsite(ctx, dir, ""); err != nil {
		e.svc.Logger().Warn("the off-site copy did not finish", "err", err)
	}
}
