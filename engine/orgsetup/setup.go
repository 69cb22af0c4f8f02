package orgsetup

import (
	"bytes"
	"context"
	"crypto/sha1" // keyCredential.customKeyIdentifier holds the certificate's SHA-1 thumbprint
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/microsoft/kiota-abstractions-go/authentication"
	msgraphsdk "github.com/microsoftgraph/msgraph-sdk-go"
	"github.com/microsoftgraph/msgraph-sdk-go/applications"
	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"github.com/lifeboat-backup/lifeboat/engine/auth"
)

// GraphAppID is Microsoft Graph's application ID in every directory.
const GraphAppID = "00000003-0000-0000-c000-000000000000"

// Defaults of Options.
const (
	DefaultDisplayName = "Lifeboat Backup"
	// DefaultMarker is the tag that marks Lifeboat's own application, so a
	// second run finds it even without the stored object ID.
	DefaultMarker = "LifeboatBackup"
)

// AdminScopes are the delegated permissions the administrator's sign-in
// asks for: enough to register an application and grant it permissions.
func AdminScopes() []string {
	return []string{"Application.ReadWrite.All", "AppRoleAssignment.ReadWrite.All"}
}

// Permissions are the Microsoft Graph application permissions Lifeboat
// needs, by value: the directory of people, mailbox settings (what kind of
// mailbox), mail, files, calendars, contacts and sites, read and write
// because restores write.
// https://learn.microsoft.com/graph/permissions-reference
func Permissions() []string {
	return []string{"User.Read.All", "MailboxSettings.Read", "Mail.ReadWrite", "Files.ReadWrite.All",
		"Calendars.ReadWrite", "Contacts.ReadWrite", "Sites.ReadWrite.All",
		"Team.ReadBasic.All", "Channel.ReadBasic.All", "ChannelMessage.Read.All", "Group.Read.All"}
}

// ErrNotAdministrator is the one plain sentence for a person who may not
// grant Lifeboat access to the whole company.
var ErrNotAdministrator = errors.New("only a Global Administrator or a Privileged Role Administrator of your company's Microsoft 365 can let Lifeboat back up everyone: sign in with such an account, or ask the person who manages your Microsoft 365")

// ErrStillReplicating means Microsoft had not finished setting Lifeboat up
// within the wait; running the setup again continues where it stopped.
var ErrStillReplicating error = sentence("Microsoft has not finished setting Lifeboat up in your company yet; try again in a few minutes (Lifeboat continues where it stopped)")

// Wait bounds the retries that wait out the directory's replication.
type Wait struct {
	// Timeout is the longest wait for one step (default 10 minutes).
	Timeout time.Duration
	// First is the first pause (default 2 s), doubling up to Max (default 30 s).
	First, Max time.Duration
}

// Options configure Register, Renew and Remove.
type Options struct {
	// GraphURL is Microsoft Graph's base URL (default graph.DefaultGraphURL's).
	GraphURL string
	// Authority is the sign-in authority (default auth.DefaultAuthority).
	Authority string
	// HTTPClient carries every request (a simulated tenant's CA).
	HTTPClient *http.Client
	// GraphHosts are the hosts tokens may go to (default the GraphURL's).
	GraphHosts []string
	// Scope is the app-only token's scope (default auth.GraphDefaultScope).
	Scope string
	// Store keeps the credential (required).
	Store *auth.AppStore
	// DisplayName and Marker name the application (defaults above).
	DisplayName, Marker string
	// Permissions default to Permissions().
	Permissions []string
	// Progress receives sentences for the person while it works (may be nil).
	Progress func(string)
	Wait     Wait
	Logger   *slog.Logger
	Now      func() time.Time
}

func (o *Options) defaults() error {
	if o.Store == nil {
		return errors.New("orgsetup: no credential store")
	}
	if o.GraphURL == "" {
		o.GraphURL = "https://graph.microsoft.com/v1.0"
	}
	if o.Authority == "" {
		o.Authority = auth.DefaultAuthority
	}
	if len(o.GraphHosts) == 0 {
		h, err := hostOf(o.GraphURL)
		if err != nil {
			return err
		}
		o.GraphHosts = []string{h}
	}
	if o.DisplayName == "" {
		o.DisplayName = DefaultDisplayName
	}
	if o.Marker == "" {
		o.Marker = DefaultMarker
	}
	if len(o.Permissions) == 0 {
		o.Permissions = Permissions()
	}
	if o.Wait.Timeout <= 0 {
		o.Wait.Timeout = 10 * time.Minute
	}
	if o.Wait.First <= 0 {
		o.Wait.First = 2 * time.Second
	}
	if o.Wait.Max <= 0 {
		o.Wait.Max = 30 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return nil
}

func (o *Options) progress(s string) {
	if o.Progress != nil {
		o.Progress(s)
	}
	o.Logger.Info("orgsetup: " + s)
}

// Registration is what Register made or found.
type Registration struct {
	Credential auth.AppCredential
	// Created is true when this run made the application.
	Created bool
	// Granted are the permissions this run granted (none when all were).
	Granted []string
}

// Register sets Lifeboat up in the administrator's directory (tenantID)
// with tokens from admin (the administrator's delegated sign-in), or
// resumes a setup that stopped. It returns once an app-only token carries
// every permission.
func Register(ctx context.Context, admin authentication.AccessTokenProvider, tenantID string, o Options) (Registration, error) {
	if err := o.defaults(); err != nil {
		return Registration{}, err
	}
	sdk, err := newSDK(admin, o.GraphURL, o.HTTPClient)
	if err != nil {
		return Registration{}, err
	}
	r := &registrar{o: o, sdk: sdk}
	return r.run(ctx, tenantID)
}

type registrar struct {
	o   Options
	sdk *msgraphsdk.GraphServiceClient
}

func (r *registrar) run(ctx context.Context, tenantID string) (Registration, error) {
	o := r.o
	cred, err := o.Store.Load()
	switch {
	case errors.Is(err, auth.ErrNoAppCredential):
		cred = auth.AppCredential{TenantID: tenantID}
	case err != nil && errors.Is(err, auth.ErrCacheDamaged):
		o.Logger.Warn("orgsetup: the saved company credential does not open; making a new one", "err", err)
		cred = auth.AppCredential{TenantID: tenantID}
	case err != nil:
		return Registration{}, err
	}
	if cred.TenantID != "" && !strings.EqualFold(cred.TenantID, tenantID) {
		return Registration{}, errors.New("this computer already backs up another company's Microsoft 365; leave organization mode first")
	}
	cred.TenantID = tenantID
	if !cred.Current.Valid() || !o.Now().Before(cred.Current.ExpiresOn().Add(-auth.RenewBefore)) {
		// A new key before anything is made in the directory, saved first:
		// the application is created with this key, so a crash in between
		// still leaves a registration this computer can use.
		c, err := auth.NewAppCertificate(o.DisplayName, time.Now()) // validity is on Microsoft's clock
		if err != nil {
			return Registration{}, err
		}
		cred.Current, cred.Next = c, auth.AppCertificate{}
		if err := o.Store.Save(cred); err != nil {
			return Registration{}, err
		}
	}

	o.progress("Finding Microsoft Graph's permissions…")
	graphSP, roles, err := r.graphRoles(ctx)
	if err != nil {
		return Registration{}, err
	}

	reg := Registration{}
	o.progress("Registering Lifeboat in your company's Microsoft 365…")
	app, err := r.findApp(ctx, cred)
	if err != nil {
		return Registration{}, err
	}
	if app == nil {
		app, err = r.createApp(ctx, cred, graphSP, roles)
		if err != nil {
			return Registration{}, err
		}
		reg.Created = true
	} else if err := r.ensureKey(ctx, app, cred); err != nil {
		return Registration{}, err
	}
	cred.ObjectID, cred.AppID = deref(app.GetId()), deref(app.GetAppId())
	if err := o.Store.Save(cred); err != nil {
		return Registration{}, err
	}
	undo := func(cause error) (Registration, error) {
		if reg.Created && isDenied(cause) {
			// Nothing half-made: the application (and with it its service
			// principal) goes, and so does the credential made for it.
			if err := r.sdk.Applications().ByApplicationId(cred.ObjectID).Delete(ctx, nil); err != nil && !isStatus(err, http.StatusNotFound) {
				o.Logger.Warn("orgsetup: could not delete the half-made registration", "err", describe(err))
			}
			_ = o.Store.Remove()
		}
		if isDenied(cause) {
			return Registration{}, notAdmin(cause)
		}
		return Registration{}, cause
	}

	spID, err := r.ensureServicePrincipal(ctx, cred.AppID)
	if err != nil {
		return undo(err)
	}
	cred.ServicePrincipalID = spID
	if err := o.Store.Save(cred); err != nil {
		return Registration{}, err
	}

	o.progress("Giving Lifeboat permission to back up everyone's mail, files, calendars and contacts…")
	granted, err := r.grant(ctx, spID, graphSP, roles)
	if err != nil {
		return undo(err)
	}
	reg.Granted = granted

	o.progress("Waiting for Microsoft to let Lifeboat in (this can take a few minutes)…")
	if err := r.waitForToken(ctx, cred); err != nil {
		return Registration{}, err
	}
	cred.Completed = o.Now()
	if err := o.Store.Save(cred); err != nil {
		return Registration{}, err
	}
	reg.Credential = cred
	o.progress("Lifeboat is set up for everyone in your company.")
	return reg, nil
}

// graphRoles returns Microsoft Graph's service principal ID and the IDs of
// the wanted application permissions, looked up by value in its appRoles.
func (r *registrar) graphRoles(ctx context.Context) (string, map[string]uuid.UUID, error) {
	sp, err := r.sdk.ServicePrincipalsWithAppId(ptr(GraphAppID)).Get(ctx, nil)
	if err != nil {
		if isDenied(err) {
			return "", nil, notAdmin(err)
		}
		return "", nil, fmt.Errorf("read Microsoft Graph's permissions: %s: %w", describe(err), err)
	}
	roles := map[string]uuid.UUID{}
	for _, ar := range sp.GetAppRoles() {
		v := deref(ar.GetValue())
		if !slices.Contains(r.o.Permissions, v) || ar.GetId() == nil {
			continue
		}
		if en := ar.GetIsEnabled(); en != nil && !*en {
			continue
		}
		if t := ar.GetAllowedMemberTypes(); len(t) > 0 && !slices.Contains(t, "Application") {
			continue
		}
		roles[v] = *ar.GetId()
	}
	for _, p := range r.o.Permissions {
		if _, ok := roles[p]; !ok {
			return "", nil, fmt.Errorf("this directory's Microsoft Graph has no application permission %q", p)
		}
	}
	return deref(sp.GetId()), roles, nil
}

// findApp finds Lifeboat's application by its stored object ID, else by
// the marker tag; nil when there is none.
func (r *registrar) findApp(ctx context.Context, cred auth.AppCredential) (models.Applicationable, error) {
	sel := []string{"id", "appId", "keyCredentials", "tags", "displayName"}
	if cred.ObjectID != "" {
		app, err := r.sdk.Applications().ByApplicationId(cred.ObjectID).Get(ctx, &applications.ApplicationItemRequestBuilderGetRequestConfiguration{
			QueryParameters: &applications.ApplicationItemRequestBuilderGetQueryParameters{Select: sel}})
		if err == nil {
			return app, nil
		}
		if !isStatus(err, http.StatusNotFound) {
			if isDenied(err) {
				return nil, notAdmin(err)
			}
			return nil, fmt.Errorf("look for Lifeboat's registration: %s: %w", describe(err), err)
		}
		r.o.Logger.Info("orgsetup: the stored registration is gone; looking for the marker")
	}
	filter := "tags/any(t:t eq '" + strings.ReplaceAll(r.o.Marker, "'", "''") + "')"
	page, err := r.sdk.Applications().Get(ctx, &applications.ApplicationsRequestBuilderGetRequestConfiguration{
		QueryParameters: &applications.ApplicationsRequestBuilderGetQueryParameters{Filter: &filter, Select: sel}})
	if err != nil {
		if isDenied(err) {
			return nil, notAdmin(err)
		}
		return nil, fmt.Errorf("look for Lifeboat's registration: %s: %w", describe(err), err)
	}
	for _, app := range page.GetValue() {
		if slices.Contains(app.GetTags(), r.o.Marker) { // the filter is trusted no further than this
			return app, nil
		}
	}
	return nil, nil
}

func (r *registrar) keyCredential(c auth.AppCertificate) models.KeyCredentialable {
	kc := models.NewKeyCredential()
	kc.SetTypeEscaped(ptr("AsymmetricX509Cert"))
	kc.SetUsage(ptr("Verify"))
	kc.SetKey(c.Cert.Raw)
	kc.SetDisplayName(ptr("CN=" + c.Cert.Subject.CommonName))
	thumb := sha1.Sum(c.Cert.Raw)
	kc.SetCustomKeyIdentifier(thumb[:])
	start, end := c.Cert.NotBefore, c.Cert.NotAfter
	kc.SetStartDateTime(&start)
	kc.SetEndDateTime(&end)
	return kc
}

// createApp registers the single-tenant application with the certificate
// and the permissions it will be granted.
// https://learn.microsoft.com/graph/api/application-post-applications
func (r *registrar) createApp(ctx context.Context, cred auth.AppCredential, graphSP string, roles map[string]uuid.UUID) (models.Applicationable, error) {
	app := models.NewApplication()
	app.SetDisplayName(ptr(r.o.DisplayName))
	app.SetSignInAudience(ptr("AzureADMyOrg"))
	app.SetTags([]string{r.o.Marker})
	app.SetNotes(ptr("Made by Lifeboat to back up everyone's Microsoft 365 data. Deleting it stops those backups; Lifeboat deletes it itself when you leave organization mode."))
	rra := models.NewRequiredResourceAccess()
	rra.SetResourceAppId(ptr(GraphAppID))
	var access []models.ResourceAccessable
	for _, p := range r.o.Permissions {
		ra := models.NewResourceAccess()
		id := roles[p]
		ra.SetId(&id)
		ra.SetTypeEscaped(ptr("Role"))
		access = append(access, ra)
	}
	rra.SetResourceAccess(access)
	app.SetRequiredResourceAccess([]models.RequiredResourceAccessable{rra})
	app.SetKeyCredentials([]models.KeyCredentialable{r.keyCredential(cred.Current)})
	made, err := r.sdk.Applications().Post(ctx, app, nil)
	if err != nil {
		if isDenied(err) {
			return nil, notAdmin(err)
		}
		return nil, fmt.Errorf("register Lifeboat: %s: %w", describe(err), err)
	}
	r.o.Logger.Info("orgsetup: application registered", "object_id", deref(made.GetId()), "app_id", deref(made.GetAppId()))
	return made, nil
}

// ensureKey adds this computer's certificate to an application found
// again that does not have it (the key file was lost or made anew). PATCH
// replaces the whole list, and a listed key comes back without its value,
// so the list becomes this computer's key alone.
func (r *registrar) ensureKey(ctx context.Context, app models.Applicationable, cred auth.AppCredential) error {
	thumb := sha1.Sum(cred.Current.Cert.Raw)
	for _, kc := range app.GetKeyCredentials() {
		if bytes.Equal(kc.GetCustomKeyIdentifier(), thumb[:]) || bytes.Equal(kc.GetKey(), cred.Current.Cert.Raw) {
			return nil
		}
	}
	patch := models.NewApplication()
	patch.SetKeyCredentials([]models.KeyCredentialable{r.keyCredential(cred.Current)})
	if _, err := r.sdk.Applications().ByApplicationId(deref(app.GetId())).Patch(ctx, patch, nil); err != nil {
		if isDenied(err) {
			return notAdmin(err)
		}
		return fmt.Errorf("give Lifeboat's registration this computer's certificate: %s: %w", describe(err), err)
	}
	return nil
}

// ensureServicePrincipal finds or makes the application's service
// principal, waiting out NoBackingApplicationObject.
// https://learn.microsoft.com/graph/api/serviceprincipal-post-serviceprincipals
func (r *registrar) ensureServicePrincipal(ctx context.Context, appID string) (string, error) {
	sp, err := r.sdk.ServicePrincipalsWithAppId(&appID).Get(ctx, nil)
	if err == nil {
		return deref(sp.GetId()), nil
	}
	if !isStatus(err, http.StatusNotFound) {
		return "", fmt.Errorf("look for Lifeboat's service principal: %s: %w", describe(err), err)
	}
	var id string
	err = r.retry(ctx, "service principal", func() (bool, error) {
		body := models.NewServicePrincipal()
		body.SetAppId(&appID)
		body.SetTags([]string{r.o.Marker, "WindowsAzureActiveDirectoryIntegratedApp"})
		made, err := r.sdk.ServicePrincipals().Post(ctx, body, nil)
		if err == nil {
			id = deref(made.GetId())
			return true, nil
		}
		if isReplicationLag(err) {
			return false, nil
		}
		if ae, ok := graphError(err); ok && ae.Status == http.StatusConflict {
			// Made by an attempt whose answer was lost.
			sp, gerr := r.sdk.ServicePrincipalsWithAppId(&appID).Get(ctx, nil)
			if gerr == nil {
				id = deref(sp.GetId())
				return true, nil
			}
		}
		return false, fmt.Errorf("make Lifeboat's service principal: %s: %w", describe(err), err)
	})
	return id, err
}

// grant assigns every wanted permission the service principal does not
// have yet; it returns the ones it assigned.
// https://learn.microsoft.com/graph/api/serviceprincipal-post-approleassignedto
func (r *registrar) grant(ctx context.Context, spID, graphSP string, roles map[string]uuid.UUID) ([]string, error) {
	// Graph's service principal lists what has been granted on it
	// (serviceprincipal-list-approleassignedto); ours are those whose
	// principal is Lifeboat's service principal.
	have := map[uuid.UUID]bool{}
	err := r.retry(ctx, "permissions", func() (bool, error) {
		clear(have)
		page, err := r.sdk.ServicePrincipals().ByServicePrincipalId(graphSP).AppRoleAssignedTo().Get(ctx, nil)
		for pages := 0; ; pages++ {
			if err != nil {
				if isReplicationLag(err) {
					return false, nil
				}
				if isDenied(err) {
					return false, err
				}
				return false, fmt.Errorf("read the permissions granted: %s: %w", describe(err), err)
			}
			for _, a := range page.GetValue() {
				if a.GetAppRoleId() != nil && strings.EqualFold(uuidString(a.GetPrincipalId()), spID) {
					have[*a.GetAppRoleId()] = true
				}
			}
			next := page.GetOdataNextLink()
			if next == nil || *next == "" || pages > 10000 {
				return true, nil
			}
			page, err = r.sdk.ServicePrincipals().ByServicePrincipalId(graphSP).AppRoleAssignedTo().WithUrl(*next).Get(ctx, nil)
		}
	})
	if err != nil {
		return nil, err
	}
	principal, err := uuid.Parse(spID)
	if err != nil {
		return nil, fmt.Errorf("the service principal ID %q: %w", spID, err)
	}
	resource, err := uuid.Parse(graphSP)
	if err != nil {
		return nil, fmt.Errorf("the Microsoft Graph service principal ID %q: %w", graphSP, err)
	}
	var granted []string
	for _, p := range r.o.Permissions {
		roleID := roles[p]
		if have[roleID] {
			continue
		}
		err := r.retry(ctx, "permission "+p, func() (bool, error) {
			a := models.NewAppRoleAssignment()
			a.SetPrincipalId(&principal)
			a.SetResourceId(&resource)
			a.SetAppRoleId(&roleID)
			_, err := r.sdk.ServicePrincipals().ByServicePrincipalId(graphSP).AppRoleAssignedTo().Post(ctx, a, nil)
			switch {
			case err == nil:
				return true, nil
			case isDenied(err):
				return false, err
			case isReplicationLag(err) || isStatus(err, http.StatusBadRequest) && strings.Contains(strings.ToLower(describe(err)), "principal"):
				return false, nil
			case isStatus(err, http.StatusConflict) || isStatus(err, http.StatusBadRequest) && strings.Contains(strings.ToLower(describe(err)), "already exists"):
				return true, nil // granted by an attempt whose answer was lost
			}
			return false, fmt.Errorf("grant Lifeboat %s: %s: %w", p, describe(err), err)
		})
		if err != nil {
			return granted, err
		}
		granted = append(granted, p)
	}
	return granted, nil
}

// waitForToken asks for app-only tokens until one carries every
// permission: right after setup Microsoft may not know the application yet
// (AADSTS700016) or may hand out tokens without the roles just granted.
func (r *registrar) waitForToken(ctx context.Context, cred auth.AppCredential) error {
	ts, err := auth.NewAppTokenSource(auth.AppTokenConfig{Authority: r.o.Authority, HTTPClient: r.o.HTTPClient,
		Credential: cred, GraphHosts: r.o.GraphHosts, Scope: r.o.Scope, Logger: r.o.Logger, Now: r.o.Now})
	if err != nil {
		return err
	}
	return r.retry(ctx, "token", func() (bool, error) {
		if err := ts.SetCredential(cred); err != nil { // an empty token cache: a fresh token each try
			return false, err
		}
		t, err := ts.Token(ctx)
		if err != nil {
			if errors.Is(err, auth.ErrAppNotFound) {
				return false, nil
			}
			return false, err
		}
		for _, p := range r.o.Permissions {
			if !slices.Contains(t.Roles, p) {
				r.o.Logger.Debug("orgsetup: token lacks a permission yet", "permission", p)
				return false, nil
			}
		}
		return true, nil
	})
}

func ptr[T any](v T) *T { return &v }

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func uuidString(u *uuid.UUID) string {
	if u == nil {
		return ""
	}
	return u.String()
}

func hostOf(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Hostname() == "" {
		return "", fmt.Errorf("orgsetup: Graph URL %q is not absolute", raw)
	}
	return u.Hostname(), nil
}
