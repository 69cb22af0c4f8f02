package m365sim

// App registrations in the tenant: application objects with their
// certificate credentials, service principals, and the application
// permissions (app role assignments to Microsoft Graph's service
// principal) that end up in an app-only token's roles claim.
//
// Sources:
//   - application resource: https://learn.microsoft.com/graph/api/resources/application?view=graph-rest-1.0
//   - keyCredential resource (type AsymmetricX509Cert, usage Verify,
//     startDateTime/endDateTime, customKeyIdentifier = certificate
//     thumbprint): https://learn.microsoft.com/graph/api/resources/keycredential?view=graph-rest-1.0
//   - servicePrincipal resource: https://learn.microsoft.com/graph/api/resources/serviceprincipal?view=graph-rest-1.0
//   - appRoleAssignment resource: https://learn.microsoft.com/graph/api/resources/approleassignment?view=graph-rest-1.0
//   - "Grant or revoke API permissions programmatically":
//     https://learn.microsoft.com/graph/permissions-grant-via-msgraph

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Errors of the app registration methods.
var (
	ErrNoApplication = errors.New("m365sim: no such application")
	ErrNoAppRole     = errors.New("m365sim: Microsoft Graph has no such application permission")
)

// Application is an app registration (the application object).
type Application struct {
	ID             string // object ID
	AppID          string // application (client) ID
	DisplayName    string
	SignInAudience string
	Notes          string
	Tags           []string
	// RequiredResourceAccess is kept as sent: Graph stores it and does not
	// act on it (admin consent is the app role assignments).
	RequiredResourceAccess json.RawMessage
	KeyCredentials         []KeyCredential
	Created                time.Time
	// OwnerID is the user who created it through Graph, if any.
	OwnerID string
	// replicated is the wall-clock time the object was written, from which
	// Options.DirectoryReplicationDelay counts (Created follows the
	// tenant's clock, which tests may fake).
	replicated time.Time
}

// KeyCredential is a certificate registered on an application.
type KeyCredential struct {
	KeyID       string
	DisplayName string
	Type        string // AsymmetricX509Cert
	Usage       string // Verify
	Start, End  time.Time
	Cert        *x509.Certificate
}

// ServicePrincipal is an application's instance in the tenant.
type ServicePrincipal struct {
	ID          string
	AppID       string
	DisplayName string
	Created     time.Time
	replicated  time.Time // see Application.replicated
}

// AppRoleAssignment grants a principal an app role of a resource.
type AppRoleAssignment struct {
	ID          string
	PrincipalID string // the client's service principal
	ResourceID  string // Microsoft Graph's service principal
	AppRoleID   string
	Created     time.Time
	replicated  time.Time // see Application.replicated
}

// orgDirectory holds the app registrations; the zero value is empty.
type orgDirectory struct {
	mu          sync.Mutex
	apps        []*Application
	sps         []*ServicePrincipal
	assignments []*AppRoleAssignment
	graphSP     *ServicePrincipal
	// usersCannotRegister is "Users can register applications: No".
	usersCannotRegister bool
	// replDelay and roleDelay, when set (value+1, 0 = unset), override
	// Options.DirectoryReplicationDelay and RoleReplicationDelay while the
	// server runs (control API directory/replication). Atomic: they are
	// read with mu held.
	replDelay, roleDelay atomic.Int64
}

// graphServicePrincipalLocked is Microsoft Graph's service principal, which
// every tenant has.
func (o *orgDirectory) graphServicePrincipalLocked(now time.Time) *ServicePrincipal {
	if o.graphSP == nil {
		o.graphSP = &ServicePrincipal{ID: newGUID(), AppID: graphAppID, DisplayName: "Microsoft Graph", Created: now}
	}
	return o.graphSP
}

func (o *orgDirectory) appByAppIDLocked(appID string) *Application {
	for _, a := range o.apps {
		if strings.EqualFold(a.AppID, appID) {
			return a
		}
	}
	return nil
}

func (o *orgDirectory) spByAppIDLocked(appID string) *ServicePrincipal {
	for _, sp := range o.sps {
		if strings.EqualFold(sp.AppID, appID) {
			return sp
		}
	}
	return nil
}

// newKeyCredential describes a certificate as Entra ID stores it: valid
// from the certificate's notBefore to its notAfter.
func newKeyCredential(cert *x509.Certificate, name string) KeyCredential {
	if name == "" {
		name = cert.Subject.String()
	}
	return KeyCredential{KeyID: newGUID(), DisplayName: name, Type: "AsymmetricX509Cert", Usage: "Verify",
		Start: cert.NotBefore.UTC(), End: cert.NotAfter.UTC(), Cert: cert}
}

// thumbprints of a certificate: SHA-1 (x5t, customKeyIdentifier) and
// SHA-256 (x5t#S256).
func thumbprintSHA1(cert *x509.Certificate) []byte {
	sum := sha1.Sum(cert.Raw) // #nosec G401 -- the x5t thumbprint is SHA-1 by definition (RFC 7515 4.1.7)
	return sum[:]
}

func thumbprintSHA256(cert *x509.Certificate) []byte {
	sum := sha256.Sum256(cert.Raw)
	return sum[:]
}

func copyApp(a *Application) *Application {
	c := *a
	c.Tags = slices.Clone(a.Tags)
	c.KeyCredentials = slices.Clone(a.KeyCredentials)
	c.RequiredResourceAccess = slices.Clone(a.RequiredResourceAccess)
	return &c
}

// RegisterApplication creates a single-tenant app registration
// (signInAudience AzureADMyOrg) with the certificates as its credentials,
// as an administrator would in the Entra admin center. It returns a copy.
func (t *Tenant) RegisterApplication(displayName string, certs ...*x509.Certificate) (*Application, error) {
	if strings.TrimSpace(displayName) == "" {
		return nil, errors.New("m365sim: an application needs a display name")
	}
	now := t.now().UTC()
	a := &Application{ID: newGUID(), AppID: newGUID(), DisplayName: displayName, SignInAudience: "AzureADMyOrg", Created: now, replicated: time.Now()}
	for _, c := range certs {
		a.KeyCredentials = append(a.KeyCredentials, newKeyCredential(c, ""))
	}
	o := &t.org
	o.mu.Lock()
	defer o.mu.Unlock()
	o.apps = append(o.apps, a)
	return copyApp(a), nil
}

// Applications returns copies of the app registrations, oldest first.
func (t *Tenant) Applications() []*Application {
	o := &t.org
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make([]*Application, len(o.apps))
	for i, a := range o.apps {
		out[i] = copyApp(a)
	}
	return out
}

// ensureServicePrincipalLocked returns the app's service principal,
// creating it.
func (t *Tenant) ensureServicePrincipalLocked(a *Application) *ServicePrincipal {
	o := &t.org
	if sp := o.spByAppIDLocked(a.AppID); sp != nil {
		return sp
	}
	sp := &ServicePrincipal{ID: newGUID(), AppID: a.AppID, DisplayName: a.DisplayName, Created: t.now().UTC(), replicated: time.Now()}
	o.sps = append(o.sps, sp)
	return sp
}

// GrantApplicationPermissions gives the application the Microsoft Graph
// application permissions named by value (e.g. "Mail.ReadWrite"), creating
// its service principal if needed, as an administrator's consent does. It
// is idempotent.
func (t *Tenant) GrantApplicationPermissions(appID string, permissions ...string) error {
	o := &t.org
	o.mu.Lock()
	defer o.mu.Unlock()
	a := o.appByAppIDLocked(appID)
	if a == nil {
		return fmt.Errorf("%w: %s", ErrNoApplication, appID)
	}
	now := t.now().UTC()
	sp := t.ensureServicePrincipalLocked(a)
	graph := o.graphServicePrincipalLocked(now)
	for _, p := range permissions {
		role, ok := graphAppRoleByValue(p)
		if !ok {
			return fmt.Errorf("%w: %s", ErrNoAppRole, p)
		}
		if o.hasAssignmentLocked(sp.ID, graph.ID, role.ID) {
			continue
		}
		o.assignments = append(o.assignments, &AppRoleAssignment{ID: newGUID(), PrincipalID: sp.ID, ResourceID: graph.ID, AppRoleID: role.ID, Created: now, replicated: time.Now()})
	}
	return nil
}

func (o *orgDirectory) hasAssignmentLocked(principal, resource, role string) bool {
	return slices.ContainsFunc(o.assignments, func(x *AppRoleAssignment) bool {
		return x.PrincipalID == principal && x.ResourceID == resource && x.AppRoleID == role
	})
}

// rolesLocked are the Graph permission values granted to a service
// principal, as the roles claim lists them: the assignments written (wall
// clock) no later than notAfter, since a token may lack a just-granted role
// until replication catches up.
func (o *orgDirectory) rolesLocked(spID string, notAfter time.Time) []string {
	var out []string
	for _, x := range o.assignments {
		if x.PrincipalID != spID || o.graphSP == nil || x.ResourceID != o.graphSP.ID || x.replicated.After(notAfter) {
			continue
		}
		if r, ok := graphAppRoleByID(x.AppRoleID); ok {
			out = appendUnique(out, r.Value)
		}
	}
	return out
}

// GraphServicePrincipalID is the object ID of Microsoft Graph's service
// principal in the tenant.
func (t *Tenant) GraphServicePrincipalID() string {
	t.org.mu.Lock()
	defer t.org.mu.Unlock()
	return t.org.graphServicePrincipalLocked(t.now().UTC()).ID
}

// ApplicationPermissions are the Graph application permissions granted
// to the application, by value.
func (t *Tenant) ApplicationPermissions(appID string) []string {
	o := &t.org
	o.mu.Lock()
	defer o.mu.Unlock()
	sp := o.spByAppIDLocked(appID)
	if sp == nil {
		return nil
	}
	return o.rolesLocked(sp.ID, time.Now())
}

// ServicePrincipalID is the object ID of the application's service
// principal, "" when it has none.
func (t *Tenant) ServicePrincipalID(appID string) string {
	t.org.mu.Lock()
	defer t.org.mu.Unlock()
	if sp := t.org.spForAppIDLocked(appID); sp != nil {
		return sp.ID
	}
	return ""
}
