package m365sim

// The Graph endpoints of app registrations, as an administrator's
// delegated token (Application.ReadWrite.All, AppRoleAssignment.ReadWrite.All)
// or an app-only token uses them.
//
// Sources (v1.0 reference pages, "Permissions", "Request body", "Response"):
//   - application-list, application-post-applications, application-get,
//     application-delete (204):
//     https://learn.microsoft.com/graph/api/application-post-applications?view=graph-rest-1.0
//   - serviceprincipal-get (also by appId: /servicePrincipals(appId='{appId}')),
//     serviceprincipal-post-serviceprincipals:
//     https://learn.microsoft.com/graph/api/serviceprincipal-post-serviceprincipals?view=graph-rest-1.0
//   - serviceprincipal-post-approleassignedto, serviceprincipal-list-approleassignedto:
//     https://learn.microsoft.com/graph/api/serviceprincipal-post-approleassignedto?view=graph-rest-1.0
//   - a service principal for an application not yet replicated:
//     400 Request_BadRequest with details[0].code NoBackingApplicationObject,
//     "The appId '{appId}' of the service principal does not reference a
//     valid application object." (what Graph answers; scripts that register
//     apps retry on it).

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Permission lists of the app registration endpoints (delegated, application).
var (
	appReadDelegated  = []string{"Application.Read.All", "Application.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All", "Directory.AccessAsUser.All"}
	appReadApp        = []string{"Application.Read.All", "Application.ReadWrite.OwnedBy", "Application.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}
	appWriteDelegated = []string{"Application.ReadWrite.All", "Directory.ReadWrite.All", "Directory.AccessAsUser.All"}
	appWriteApp       = []string{"Application.ReadWrite.OwnedBy", "Application.ReadWrite.All", "Directory.ReadWrite.All"}
	grantDelegated    = []string{"AppRoleAssignment.ReadWrite.All", "Directory.AccessAsUser.All"}
	grantApp          = []string{"AppRoleAssignment.ReadWrite.All"}
	grantReadDeleg    = []string{"Application.Read.All", "Application.ReadWrite.All", "AppRoleAssignment.ReadWrite.All", "Directory.Read.All", "Directory.AccessAsUser.All"}
	grantReadApp      = []string{"Application.Read.All", "Application.ReadWrite.All", "AppRoleAssignment.ReadWrite.All", "Directory.Read.All"}
)

func (s *Server) applicationRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /applications", s.handleListApplications)
	mux.HandleFunc("POST /applications", s.handleCreateApplication)
	mux.HandleFunc("GET /applications/{oid}", s.handleGetApplication)
	mux.HandleFunc("DELETE /applications/{oid}", s.handleDeleteApplication)
	mux.HandleFunc("POST /applications/{oid}/addKey", s.handleAddKey)
	mux.HandleFunc("GET /servicePrincipals", s.handleListServicePrincipals)
	mux.HandleFunc("POST /servicePrincipals", s.handleCreateServicePrincipal)
	mux.HandleFunc("GET /servicePrincipals/{spid}", s.handleGetServicePrincipal)
	mux.HandleFunc("GET /servicePrincipals/{spid}/appRoleAssignedTo", s.handleListAssignedTo)
	mux.HandleFunc("POST /servicePrincipals/{spid}/appRoleAssignedTo", s.handleAssignRole)
	// The alternate keys, /applications(appId='…') and
	// /servicePrincipals(appId='…'), are one path segment.
	mux.HandleFunc("GET /{entity}", s.handleAlternateKey)
}

// allowed checks a delegated token's scopes and the signed-in user's
// privilege, or an app-only token's roles, and answers 403
// Authorization_RequestDenied when they fall short.
func (s *Server) allowed(w http.ResponseWriter, r *http.Request, delegated, application []string, privileged func(*User) bool) (*Session, bool) {
	sess := sessionFrom(r.Context())
	ok := false
	switch {
	case sess == nil:
	case sess.App:
		ok = holds(sess, application...)
	default:
		ok = holds(sess, delegated...) && (privileged == nil || privileged(sess.User))
	}
	if !ok {
		writeInsufficientPrivileges(w)
	}
	return sess, ok
}

var alternateKey = regexp.MustCompile(`^(applications|servicePrincipals)\(appId='([^']*)'\)$`)

func (s *Server) handleAlternateKey(w http.ResponseWriter, r *http.Request) {
	m := alternateKey.FindStringSubmatch(r.PathValue("entity"))
	if m == nil {
		writeGraphError(w, http.StatusBadRequest, "BadRequest", "Resource not found for the segment '"+lastSegment(r.URL.Path)+"'.")
		return
	}
	if m[1] == "applications" {
		s.serveApplication(w, r, func(o *orgDirectory) *Application { return o.appByAppIDLocked(m[2]) }, m[2])
		return
	}
	s.serveServicePrincipal(w, r, func(o *orgDirectory) *ServicePrincipal { return o.spForAppIDLocked(m[2]) }, m[2])
}

func writeResourceNotFound(w http.ResponseWriter, id string) {
	writeGraphError(w, http.StatusNotFound, "Request_ResourceNotFound", "Resource '"+id+"' does not exist or one of its queried reference-property objects are not present.")
}

// ---- applications ----

func (s *Server) applicationJSON(a *Application, withKeys bool) map[string]any {
	keys := []map[string]any{}
	for _, k := range a.KeyCredentials {
		kv := map[string]any{
			"customKeyIdentifier": base64.StdEncoding.EncodeToString(thumbprintSHA1(k.Cert)),
			"displayName":         k.DisplayName,
			"endDateTime":         k.End.UTC().Format(time.RFC3339),
			"key":                 nil,
			"keyId":               k.KeyID,
			"startDateTime":       k.Start.UTC().Format(time.RFC3339),
			"type":                k.Type,
			"usage":               k.Usage,
		}
		if withKeys {
			// key is returned only on $select for a single object.
			kv["key"] = base64.StdEncoding.EncodeToString(k.Cert.Raw)
		}
		keys = append(keys, kv)
	}
	rra := json.RawMessage(`[]`)
	if len(a.RequiredResourceAccess) > 0 {
		rra = a.RequiredResourceAccess
	}
	tags := a.Tags
	if tags == nil {
		tags = []string{}
	}
	return map[string]any{
		"id":                     a.ID,
		"deletedDateTime":        nil,
		"appId":                  a.AppID,
		"applicationTemplateId":  nil,
		"createdDateTime":        graphTime(a.Created),
		"displayName":            a.DisplayName,
		"description":            nil,
		"notes":                  nullIfEmpty(a.Notes),
		"signInAudience":         a.SignInAudience,
		"publisherDomain":        s.tenant.Domain,
		"identifierUris":         []string{},
		"tags":                   tags,
		"keyCredentials":         keys,
		"passwordCredentials":    []any{},
		"requiredResourceAccess": rra,
		"isFallbackPublicClient": nil,
		"publicClient":           map[string]any{"redirectUris": []string{}},
		"web": map[string]any{"redirectUris": []string{}, "homePageUrl": nil, "logoutUrl": nil,
			"implicitGrantSettings": map[string]any{"enableIdTokenIssuance": false, "enableAccessTokenIssuance": false}},
		// A registration made through Graph has no requestedAccessTokenVersion
		// (v1.0 access tokens) until someone sets it.
		"api": map[string]any{"requestedAccessTokenVersion": nil, "acceptMappedClaims": nil, "knownClientApplications": []any{},
			"oauth2PermissionScopes": []any{}, "preAuthorizedApplications": []any{}},
		"appRoles":                  []any{},
		"addIns":                    []any{},
		"disabledByMicrosoftStatus": nil,
		"isDeviceOnlyAuthSupported": nil,
		"groupMembershipClaims":     nil,
		"optionalClaims":            nil,
		"samlMetadataUrl":           nil,
		"tokenEncryptionKeyId":      nil,
		"info":                      infoJSON(),
		"parentalControlSettings":   map[string]any{"countriesBlockedForMinors": []string{}, "legalAgeGroupRule": "Allow"},
		"verifiedPublisher":         map[string]any{"displayName": nil, "verifiedPublisherId": nil, "addedDateTime": nil},
		"certification":             nil,
	}
}

func infoJSON() map[string]any {
	return map[string]any{"termsOfServiceUrl": nil, "supportUrl": nil, "privacyStatementUrl": nil, "marketingUrl": nil, "logoUrl": nil}
}

type keyCredentialInput struct {
	Type          string     `json:"type"`
	Usage         string     `json:"usage"`
	Key           string     `json:"key"`
	DisplayName   string     `json:"displayName"`
	StartDateTime *time.Time `json:"startDateTime"`
	EndDateTime   *time.Time `json:"endDateTime"`
}

// keyCredentialFrom checks a keyCredential of a request body: an X.509
// certificate (base64 DER) used to verify. A refusal is the message of
// Graph's 400 answer.
func keyCredentialFrom(in keyCredentialInput) (KeyCredential, string) {
	if in.Type != "AsymmetricX509Cert" || in.Usage != "Verify" {
		return KeyCredential{}, "Invalid value specified for property 'type' or 'usage' of resource 'KeyCredential'."
	}
	der, err := base64.StdEncoding.DecodeString(in.Key)
	if err != nil {
		return KeyCredential{}, "Invalid value specified for property 'key' of resource 'KeyCredential'."
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return KeyCredential{}, "Invalid value specified for property 'key' of resource 'KeyCredential'."
	}
	k := newKeyCredential(cert, in.DisplayName)
	if in.StartDateTime != nil {
		k.Start = in.StartDateTime.UTC()
	}
	if in.EndDateTime != nil {
		if in.EndDateTime.After(cert.NotAfter) {
			return KeyCredential{}, "Key credential end date is invalid."
		}
		k.End = in.EndDateTime.UTC()
	}
	return k, ""
}

func (s *Server) handleCreateApplication(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.allowed(w, r, appWriteDelegated, appWriteApp, s.tenant.mayRegisterApps)
	if !ok {
		return
	}
	var in struct {
		DisplayName            string               `json:"displayName"`
		SignInAudience         string               `json:"signInAudience"`
		Notes                  string               `json:"notes"`
		Tags                   []string             `json:"tags"`
		RequiredResourceAccess json.RawMessage      `json:"requiredResourceAccess"`
		KeyCredentials         []keyCredentialInput `json:"keyCredentials"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	if strings.TrimSpace(in.DisplayName) == "" {
		writeGraphError(w, http.StatusBadRequest, "Request_BadRequest", "Property 'displayName' is required.")
		return
	}
	aud := in.SignInAudience
	if aud == "" {
		aud = "AzureADandPersonalMicrosoftAccount" // the documented default
	}
	switch aud {
	case "AzureADMyOrg", "AzureADMultipleOrgs", "AzureADandPersonalMicrosoftAccount", "PersonalMicrosoftAccount":
	default:
		writeGraphError(w, http.StatusBadRequest, "Request_BadRequest", "Invalid value specified for property 'signInAudience' of resource 'Application'.")
		return
	}
	now := s.tenant.now().UTC()
	a := &Application{ID: newGUID(), AppID: newGUID(), DisplayName: in.DisplayName, SignInAudience: aud, Notes: in.Notes,
		Tags: in.Tags, RequiredResourceAccess: in.RequiredResourceAccess, Created: now, replicated: time.Now()}
	for _, kin := range in.KeyCredentials {
		k, msg := keyCredentialFrom(kin)
		if msg != "" {
			writeGraphError(w, http.StatusBadRequest, "Request_BadRequest", msg)
			return
		}
		a.KeyCredentials = append(a.KeyCredentials, k)
	}
	if sess.User != nil {
		a.OwnerID = sess.User.ID
	}
	o := &s.tenant.org
	o.mu.Lock()
	o.apps = append(o.apps, a)
	v := s.applicationJSON(a, false)
	o.mu.Unlock()
	v["@odata.context"] = s.GraphURL() + "/$metadata#applications/$entity"
	w.Header().Set("Location", s.GraphURL()+"/directoryObjects/"+a.ID+"/Microsoft.DirectoryServices.Application")
	writeJSON(w, http.StatusCreated, v)
}

var (
	eqFilter   = regexp.MustCompile(`^\s*(appId|displayName|id)\s+eq\s+'((?:[^']|'')*)'\s*$`)
	tagsFilter = regexp.MustCompile(`^\s*tags/any\(\s*(\w+)\s*:\s*(\w+)\s+eq\s+'((?:[^']|'')*)'\s*\)\s*$`)
)

// directoryFilter understands the $filter forms a client uses to find its
// own registration: appId, displayName or id eq '…', tags/any(t:t eq '…').
func directoryFilter(w http.ResponseWriter, q string) (func(appID, name, id string, tags []string) bool, bool) {
	if q == "" {
		return func(string, string, string, []string) bool { return true }, true
	}
	if m := eqFilter.FindStringSubmatch(q); m != nil {
		want := strings.ReplaceAll(m[2], "''", "'")
		return func(appID, name, id string, _ []string) bool {
			switch m[1] {
			case "appId":
				return strings.EqualFold(appID, want)
			case "id":
				return strings.EqualFold(id, want)
			}
			return strings.EqualFold(name, want)
		}, true
	}
	if m := tagsFilter.FindStringSubmatch(q); m != nil && m[1] == m[2] {
		want := strings.ReplaceAll(m[3], "''", "'")
		return func(_, _, _ string, tags []string) bool {
			return slices.ContainsFunc(tags, func(t string) bool { return strings.EqualFold(t, want) })
		}, true
	}
	writeGraphError(w, http.StatusBadRequest, "Request_UnsupportedQuery", "Unsupported or invalid query filter clause specified for property or navigation property of resource.")
	return nil, false
}

func (s *Server) handleListApplications(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.allowed(w, r, appReadDelegated, appReadApp, nil); !ok {
		return
	}
	match, ok := directoryFilter(w, r.URL.Query().Get("$filter"))
	if !ok {
		return
	}
	o := &s.tenant.org
	o.mu.Lock()
	items := []map[string]any{}
	for _, a := range o.apps {
		if match(a.AppID, a.DisplayName, a.ID, a.Tags) {
			items = append(items, selectFields(s.applicationJSON(a, false), r.URL.Query().Get("$select")))
		}
	}
	o.mu.Unlock()
	s.writePage(w, r, "applications", items, 100, 999)
}

func (s *Server) handleGetApplication(w http.ResponseWriter, r *http.Request) {
	oid := r.PathValue("oid")
	s.serveApplication(w, r, func(o *orgDirectory) *Application { return o.appByIDLocked(oid) }, oid)
}

func (s *Server) serveApplication(w http.ResponseWriter, r *http.Request, find func(*orgDirectory) *Application, key string) {
	if _, ok := s.allowed(w, r, appReadDelegated, appReadApp, nil); !ok {
		return
	}
	sel := r.URL.Query().Get("$select")
	o := &s.tenant.org
	o.mu.Lock()
	a := find(o)
	var v map[string]any
	if a != nil {
		v = selectFields(s.applicationJSON(a, strings.Contains(sel, "keyCredentials")), sel)
	}
	o.mu.Unlock()
	if a == nil {
		writeResourceNotFound(w, key)
		return
	}
	v["@odata.context"] = s.GraphURL() + "/$metadata#applications/$entity"
	writeJSON(w, http.StatusOK, v)
}

func (o *orgDirectory) appByIDLocked(id string) *Application {
	for _, a := range o.apps {
		if strings.EqualFold(a.ID, id) {
			return a
		}
	}
	return nil
}

// handleDeleteApplication deletes the registration; its service principal
// and the permissions granted to it go with it.
func (s *Server) handleDeleteApplication(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.allowed(w, r, appWriteDelegated, appWriteApp, nil)
	if !ok {
		return
	}
	oid := r.PathValue("oid")
	o := &s.tenant.org
	o.mu.Lock()
	a := o.appByIDLocked(oid)
	if a == nil {
		o.mu.Unlock()
		writeResourceNotFound(w, oid)
		return
	}
	owner := a.OwnerID
	o.mu.Unlock()
	if !sess.App && !(sess.User != nil && sess.User.ID == owner) && !s.tenant.mayManageApps(sess.User) {
		writeInsufficientPrivileges(w)
		return
	}
	if sess.App && !holds(sess, "Application.ReadWrite.All", "Directory.ReadWrite.All") && !s.ownedByCaller(sess, a) {
		writeInsufficientPrivileges(w)
		return
	}
	s.tenant.deleteApplication(a.ID)
	w.WriteHeader(http.StatusNoContent)
}

// ownedByCaller says whether an app-only caller is the application itself
// (Application.ReadWrite.OwnedBy covers what it created or owns).
func (s *Server) ownedByCaller(sess *Session, a *Application) bool {
	return sess.App && strings.EqualFold(sess.ClientID, a.AppID)
}

// DeleteApplication deletes an app registration (by object ID or appId)
// with its service principal and permission grants, as the Entra admin
// center's "Delete" does.
func (t *Tenant) DeleteApplication(idOrAppID string) error {
	o := &t.org
	o.mu.Lock()
	a := o.appByIDLocked(idOrAppID)
	if a == nil {
		a = o.appByAppIDLocked(idOrAppID)
	}
	o.mu.Unlock()
	if a == nil {
		return fmt.Errorf("%w: %s", ErrNoApplication, idOrAppID)
	}
	t.deleteApplication(a.ID)
	return nil
}

func (t *Tenant) deleteApplication(oid string) {
	o := &t.org
	o.mu.Lock()
	defer o.mu.Unlock()
	a := o.appByIDLocked(oid)
	if a == nil {
		return
	}
	o.apps = slices.DeleteFunc(o.apps, func(x *Application) bool { return x == a })
	if sp := o.spByAppIDLocked(a.AppID); sp != nil {
		o.sps = slices.DeleteFunc(o.sps, func(x *ServicePrincipal) bool { return x == sp })
		o.assignments = slices.DeleteFunc(o.assignments, func(x *AppRoleAssignment) bool { return x.PrincipalID == sp.ID })
	}
}
