package orgsetup

import (
	"context"
	"errors"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/auth"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
	"github.com/lifeboat-backup/lifeboat/engine/secret"
)

type fixture struct {
	srv   *m365sim.Server
	store *auth.AppStore
	dir   string
	kc    secret.Keychain
}

func newFixture(t *testing.T, opts m365sim.Options) *fixture {
	t.Helper()
	tn := simtest.SmallTenant(t)
	if err := tn.SetDirectoryRoles(simtest.Alice, m365sim.RoleGlobalAdministrator); err != nil {
		t.Fatal(err)
	}
	srv := simtest.Start(t, tn, opts)
	dir := t.TempDir()
	kc := secret.File{Dir: dir}
	store, err := auth.NewAppStore(auth.AppStoreConfig{Dir: dir, Keychain: kc})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{srv: srv, store: store, dir: dir, kc: kc}
}

// admin signs upn in with the real MSAL device code flow, with the
// delegated permissions setup asks for.
func (f *fixture) admin(t *testing.T, upn string) (*auth.TokenSource, auth.Account) {
	t.Helper()
	m, err := auth.New(auth.Config{ClientID: f.srv.Profile().ClientID, Authority: f.srv.Authority(), HTTPClient: f.srv.HTTPClient(),
		Dir: filepath.Join(f.dir, "admin-"+upn), Keychain: f.kc, KeyAccount: "admin-" + upn, Scopes: AdminScopes()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	a, err := m.SignIn(ctx, func(e auth.Event) {
		if c, ok := e.(auth.CodeIssued); ok {
			go func() { _ = f.srv.ApproveDeviceCode(c.UserCode, upn) }()
		}
	})
	if err != nil {
		t.Fatalf("administrator sign-in: %v", err)
	}
	ts, err := m.TokenSource(a.HomeAccountID, f.host())
	if err != nil {
		t.Fatal(err)
	}
	return ts, a
}

func (f *fixture) host() string {
	u, _ := url.Parse(f.srv.GraphURL())
	return u.Hostname()
}

func (f *fixture) options(progress *[]string, mu *sync.Mutex) Options {
	return Options{GraphURL: f.srv.GraphURL(), Authority: f.srv.Authority(), HTTPClient: f.srv.HTTPClient(), Store: f.store,
		Wait: Wait{Timeout: 30 * time.Second, First: 50 * time.Millisecond, Max: 400 * time.Millisecond},
		Progress: func(s string) {
			if mu != nil {
				mu.Lock()
				*progress = append(*progress, s)
				mu.Unlock()
			}
		}}
}

func lifeboatApps(tn *m365sim.Tenant) []*m365sim.Application {
	var out []*m365sim.Application
	for _, a := range tn.Applications() {
		if slices.Contains(a.Tags, DefaultMarker) {
			out = append(out, a)
		}
	}
	return out
}

// TestRegisterThroughReplicationDelay: a Global Administrator signs in
// once; Lifeboat registers its app, waits out the directory's replication
// (the service principal, the first token, the roles) with a progress
// sentence, and ends with an app-only token holding every permission. Run
// again, it finds its app and makes or grants nothing new.
func TestRegisterThroughReplicationDelay(t *testing.T) {
	f := newFixture(t, m365sim.Options{DirectoryReplicationDelay: 1500 * time.Millisecond})
	ts, a := f.admin(t, simtest.Alice)
	var mu sync.Mutex
	var progress []string
	reg, err := Register(t.Context(), ts, a.DirectoryID(), f.options(&progress, &mu))
	if err != nil {
		t.Fatalf("register: %v (progress %q)", err, progress)
	}
	if !reg.Created || len(reg.Granted) != len(Permissions()) {
		t.Fatalf("registration: created %v granted %v", reg.Created, reg.Granted)
	}
	if !slices.ContainsFunc(progress, func(s string) bool { return strings.Contains(s, "still getting ready") }) {
		t.Errorf("no progress sentence while waiting for the directory: %q", progress)
	}
	tn := f.srv.Tenant()
	apps := lifeboatApps(tn)
	if len(apps) != 1 || apps[0].SignInAudience != "AzureADMyOrg" || len(apps[0].KeyCredentials) != 1 {
		t.Fatalf("apps in the tenant: %+v", apps)
	}
	if !apps[0].KeyCredentials[0].Cert.Equal(reg.Credential.Current.Cert) {
		t.Fatal("the registered certificate is not Lifeboat's")
	}
	perms := tn.ApplicationPermissions(apps[0].AppID)
	slices.Sort(perms)
	want := Permissions()
	slices.Sort(want)
	if !slices.Equal(perms, want) {
		t.Fatalf("granted %v, want %v", perms, want)
	}
	saved, err := f.store.Load()
	if err != nil || saved.AppID != apps[0].AppID || saved.ObjectID != apps[0].ID || saved.ServicePrincipalID == "" || saved.Completed.IsZero() {
		t.Fatalf("saved credential: %+v %v", saved, err)
	}

	again, err := Register(t.Context(), ts, a.DirectoryID(), f.options(nil, nil))
	if err != nil || again.Created || len(again.Granted) != 0 {
		t.Fatalf("second run: created %v granted %v err %v", again.Created, again.Granted, err)
	}
	if n := len(lifeboatApps(tn)); n != 1 {
		t.Fatalf("%d apps after the second run", n)
	}

	// The stored object ID lost (a half-saved setup): the marker finds it.
	saved.ObjectID = ""
	if err := f.store.Save(saved); err != nil {
		t.Fatal(err)
	}
	third, err := Register(t.Context(), ts, a.DirectoryID(), f.options(nil, nil))
	if err != nil || third.Created || len(lifeboatApps(tn)) != 1 {
		t.Fatalf("found by its marker: created %v err %v apps %d", third.Created, err, len(lifeboatApps(tn)))
	}

	// Leaving organization mode deletes it.
	if err := Remove(t.Context(), ts, f.options(nil, nil)); err != nil {
		t.Fatal(err)
	}
	if n := len(lifeboatApps(tn)); n != 0 {
		t.Fatalf("%d apps left after Remove", n)
	}
	if f.store.Exists() {
		t.Fatal("the credential is still on this computer")
	}
}

// TestOrdinaryUserGetsOnePlainSentence: Bob holds no administrator role;
// he gets the sentence naming the roles needed and nothing is left in the
// tenant or on this computer.
func TestOrdinaryUserGetsOnePlainSentence(t *testing.T) {
	f := newFixture(t, m365sim.Options{})
	ts, a := f.admin(t, simtest.Bob)
	_, err := Register(t.Context(), ts, a.DirectoryID(), f.options(nil, nil))
	if !errors.Is(err, ErrNotAdministrator) {
		t.Fatalf("got %v", err)
	}
	if !strings.Contains(ErrNotAdministrator.Error(), "Global Administrator") || !strings.Contains(ErrNotAdministrator.Error(), "Privileged Role Administrator") {
		t.Fatal("the sentence does not name the roles")
	}
	if apps := lifeboatApps(f.srv.Tenant()); len(apps) != 0 {
		t.Fatalf("left behind in the tenant: %+v", apps)
	}
	if f.store.Exists() {
		t.Fatal("a credential was left on this computer")
	}
}

// TestRenewRollsTheCertificateWithAddKey: 50 days before expiry a run
// rolls the certificate through addKey with a proof signed by the current
// one — app-only, no administrator — and the new certificate gets tokens.
func TestRenewRollsTheCertificateWithAddKey(t *testing.T) {
	f := newFixture(t, m365sim.Options{})
	admin, a := f.admin(t, simtest.Alice)
	reg, err := Register(t.Context(), admin, a.DirectoryID(), f.options(nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	old := reg.Credential.Current
	later := old.ExpiresOn().Add(-50 * 24 * time.Hour)
	o := f.options(nil, nil)
	o.Now = func() time.Time { return later }
	ts, err := auth.NewAppTokenSource(auth.AppTokenConfig{Authority: f.srv.Authority(), HTTPClient: f.srv.HTTPClient(),
		Credential: reg.Credential, GraphHosts: []string{f.host()}})
	if err != nil {
		t.Fatal(err)
	}
	renewed, err := Renew(t.Context(), ts, o)
	if err != nil || !renewed {
		t.Fatalf("renew: %v %v", renewed, err)
	}
	cur := ts.Credential().Current
	if cur.Cert.Equal(old.Cert) || cur.ExpiresOn().Before(old.ExpiresOn()) {
		t.Fatal("the certificate did not change")
	}
	saved, err := f.store.Load()
	if err != nil || !saved.Current.Cert.Equal(cur.Cert) || saved.Next.Valid() || saved.RenewalError != "" {
		t.Fatalf("saved after renewal: %v %v", saved.Current, err)
	}
	apps := lifeboatApps(f.srv.Tenant())
	if len(apps) != 1 || len(apps[0].KeyCredentials) != 2 {
		t.Fatalf("keys on the app: %+v", apps)
	}
	tok, err := ts.Token(t.Context())
	if err != nil || len(tok.Roles) != len(Permissions()) {
		t.Fatalf("token with the new certificate: %v %v", tok, err)
	}
	if renewed, err := Renew(t.Context(), ts, f.options(nil, nil)); err != nil || renewed {
		t.Fatalf("a fresh certificate renewed again: %v %v", renewed, err)
	}
}
