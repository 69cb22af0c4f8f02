package service

// Organization mode: one administrator sign-in sets Lifeboat up for the
// whole company (DESIGN.md section 9).

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/lifeboat-backup/lifeboat/engine/auth"
	"github.com/lifeboat-backup/lifeboat/engine/orgsetup"
)

// companyAdminDir holds the administrator's sign-in while setup runs; it
// is deleted afterwards (Lifeboat keeps no administrator token).
const companyAdminDir = "company-admin"

// CompanySetup is what setting up organization mode did.
type CompanySetup struct {
	// Admin is the administrator who signed in.
	Admin string
	// Created: the registration was made now (not found from before).
	Created bool
	// Granted are the permissions granted now.
	Granted []string
}

// companyStore is the encrypted company credential.
func (s *Service) companyStore() (*auth.AppStore, error) {
	ka := auth.DefaultAppKeyAccount
	if s.o.CustomConfigDir {
		ka += ":" + s.o.ConfigDir
	}
	return auth.NewAppStore(auth.AppStoreConfig{Dir: s.o.ConfigDir, Keychain: s.o.Keychain, KeyAccount: ka, Logger: s.o.Logger})
}

// CompanyMode reports whether Lifeboat backs up the whole company: the
// registration is complete on this computer.
func (s *Service) CompanyMode() (bool, error) {
	st, err := s.companyStore()
	if err != nil {
		return false, err
	}
	if !st.Exists() {
		return false, nil
	}
	c, err := st.Load()
	if errors.Is(err, auth.ErrNoAppCredential) {
		return false, nil
	}
	if err != nil {
		return false, Explain(err)
	}
	return c.AppID != "" && !c.Completed.IsZero(), nil
}

// adminManager signs the administrator in with the delegated permissions
// setup needs, into a folder of its own (not the personal sign-ins).
func (s *Service) adminManager() (*auth.Manager, error) {
	t := s.o.Tenant
	saved, err := s.Settings()
	if err != nil {
		return nil, err
	}
	cfg := auth.Config{Logger: s.o.Logger, Authority: auth.DefaultAuthority, Dir: filepath.Join(s.o.ConfigDir, companyAdminDir),
		Keychain: s.o.Keychain, KeyAccount: "company-admin-key", Scopes: orgsetup.AdminScopes(), HTTPClient: t.HTTPClient}
	cfg.ClientID = firstNonEmpty(s.o.ClientID, t.ClientID, saved.ClientID, s.o.DefaultClientID)
	if cfg.ClientID == "" {
		return nil, badInput(errors.New("no application (client) ID: pass --client-id or set LIFEBOAT_CLIENT_ID"))
	}
	if t.Authority != "" {
		cfg.Authority = t.Authority
	}
	if s.o.CustomConfigDir {
		cfg.KeyAccount += ":" + s.o.ConfigDir
	}
	return auth.New(cfg)
}

// orgOptions are orgsetup's options for this service's tenant.
func (s *Service) orgOptions(store *auth.AppStore, progress func(string)) (orgsetup.Options, error) {
	graphURL, hc := s.graphEndpoint()
	host, err := s.graphHost()
	if err != nil {
		return orgsetup.Options{}, err
	}
	authority := s.o.Tenant.Authority
	if authority == "" {
		authority = auth.DefaultAuthority
	}
	return orgsetup.Options{GraphURL: graphURL, Authority: authority, HTTPClient: hc, GraphHosts: []string{host},
		Store: store, Progress: progress, Wait: s.o.CompanySetupWait, Logger: s.o.Logger, Now: s.o.Now}, nil
}

// withAdmin signs the administrator in (events report the code), runs fn
// with their token source and directory, and forgets the sign-in.
func (s *Service) withAdmin(ctx context.Context, events func(auth.Event), fn func(ts *auth.TokenSource, a auth.Account) error) error {
	m, err := s.adminManager()
	if err != nil {
		return err
	}
	defer func() {
		if err := m.Forget(); err != nil {
			s.o.Logger.Warn("could not delete the administrator's sign-in", "err", err)
		}
	}()
	a, err := m.SignIn(ctx, events)
	if err != nil {
		return Explain(err)
	}
	host, err := s.graphHost()
	if err != nil {
		return err
	}
	ts, err := m.TokenSource(a.HomeAccountID, host)
	if err != nil {
		return err
	}
	return fn(ts, a)
}

// SetUpCompany signs an administrator in once and registers Lifeboat in
// the company's Microsoft 365 (or finishes a registration that stopped).
// A person who may not grant the permissions gets
// orgsetup.ErrNotAdministrator and nothing is left made.
func (s *Service) SetUpCompany(ctx context.Context, events func(auth.Event), progress func(string)) (CompanySetup, error) {
	var out CompanySetup
	store, err := s.companyStore()
	if err != nil {
		return out, err
	}
	opts, err := s.orgOptions(store, progress)
	if err != nil {
		return out, err
	}
	err = s.withAdmin(ctx, events, func(ts *auth.TokenSource, a auth.Account) error {
		out.Admin = a.UPN
		reg, err := orgsetup.Register(ctx, ts, a.DirectoryID(), opts)
		if err != nil {
			return err
		}
		out.Created, out.Granted = reg.Created, reg.Granted
		return nil
	})
	if err != nil {
		return out, Explain(err)
	}
	return out, nil
}

// LeaveCompany ends organization mode on this computer. With deleteApp the
// administrator signs in once more and Lifeboat's registration is deleted
// from the company's Microsoft 365; without it the registration stays (and
// can be removed in the Entra admin center, "App registrations", "Lifeboat
// Backup"). The backups and the list of people stay.
func (s *Service) LeaveCompany(ctx context.Context, deleteApp bool, events func(auth.Event), progress func(string)) error {
	store, err := s.companyStore()
	if err != nil {
		return err
	}
	if !deleteApp {
		return Explain(store.Remove())
	}
	opts, err := s.orgOptions(store, progress)
	if err != nil {
		return err
	}
	return s.withAdmin(ctx, events, func(ts *auth.TokenSource, _ auth.Account) error {
		if err := orgsetup.Remove(ctx, ts, opts); err != nil {
			return fmt.Errorf("leave organization mode: %w", err)
		}
		return nil
	})
}

// companyTokens is the app-only token source of the company credential.
func (s *Service) companyTokens() (*auth.AppTokenSource, *auth.AppStore, error) {
	store, err := s.companyStore()
	if err != nil {
		return nil, nil, err
	}
	cred, err := store.Load()
	if err != nil {
		return nil, nil, Explain(err)
	}
	if cred.AppID == "" || cred.Completed.IsZero() {
		return nil, nil, errors.New("setting Lifeboat up for the whole company did not finish: run the setup again (it continues where it stopped)")
	}
	host, err := s.graphHost()
	if err != nil {
		return nil, nil, err
	}
	authority := s.o.Tenant.Authority
	if authority == "" {
		authority = auth.DefaultAuthority
	}
	ts, err := auth.NewAppTokenSource(auth.AppTokenConfig{Authority: authority, HTTPClient: s.o.Tenant.HTTPClient,
		Credential: cred, GraphHosts: []string{host}, Logger: s.o.Logger, Now: s.o.Now})
	if err != nil {
		return nil, nil, err
	}
	return ts, store, nil
}

// CompanyCredentialProblem is the company credential's health for the
// dashboard: nil while all is well or outside organization mode; an error
// matching auth.ErrCertificateExpiring within 30 days of the certificate's
// end when renewing it failed; one matching auth.ErrAdminSignInRequired
// once it expired. Both say in plain words what to do.
func (s *Service) CompanyCredentialProblem() error {
	on, err := s.CompanyMode()
	if err != nil || !on {
		return err
	}
	st, err := s.companyStore()
	if err != nil {
		return err
	}
	c, err := st.Load()
	if err != nil {
		return Explain(err)
	}
	return c.Check(s.now())
}
