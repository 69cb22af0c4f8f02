package m365sim

// Service principals and app role assignments over Graph (sources in
// appshttp.go).

import (
	"net/http"
	"strings"
	"time"
)

// spForAppIDLocked finds a service principal by appId, Microsoft Graph's
// included.
func (o *orgDirectory) spForAppIDLocked(appID string) *ServicePrincipal {
	if strings.EqualFold(appID, graphAppID) {
		return o.graphServicePrincipalLocked(time.Now().UTC())
	}
	return o.spByAppIDLocked(appID)
}

func (o *orgDirectory) spByIDLocked(id string) *ServicePrincipal {
	g := o.graphServicePrincipalLocked(time.Now().UTC())
	if strings.EqualFold(g.ID, id) {
		return g
	}
	for _, sp := range o.sps {
		if strings.EqualFold(sp.ID, id) {
			return sp
		}
	}
	return nil
}

// replicatedLocked says whether a service principal is visible yet: one
// created moments ago is not, until directory replication catches up.
func (s *Server) spReplicated(sp *ServicePrincipal) bool {
	return sp.AppID == graphAppID || !time.Now().Before(sp.replicated.Add(s.directoryDelay()))
}

func appRoleJSON(r graphAppRole) map[string]any {
	return map[string]any{
		"allowedMemberTypes": []string{"Application"},
		"description":        r.Description,
		"displayName":        r.DisplayName,
		"id":                 r.ID,
		"isEnabled":          true,
		"origin":             "Application",
		"value":              r.Value,
	}
}

func (s *Server) servicePrincipalJSON(sp *ServicePrincipal) map[string]any {
	roles := []map[string]any{}
	owner := s.tenant.ID
	if sp.AppID == graphAppID {
		for _, r := range graphAppRoles {
			roles = append(roles, appRoleJSON(r))
		}
		owner = "f8cdef31-a31e-4b4a-93e4-5f571e91255a" // Microsoft Services, the owner of first-party apps
	}
	return map[string]any{
		"id":                                     sp.ID,
		"deletedDateTime":                        nil,
		"accountEnabled":                         true,
		"appDisplayName":                         sp.DisplayName,
		"appId":                                  sp.AppID,
		"appOwnerOrganizationId":                 owner,
		"appRoleAssignmentRequired":              false,
		"appRoles":                               roles,
		"displayName":                            sp.DisplayName,
		"keyCredentials":                         []any{},
		"oauth2PermissionScopes":                 []any{},
		"servicePrincipalNames":                  []string{sp.AppID},
		"servicePrincipalType":                   "Application",
		"signInAudience":                         "AzureADMyOrg",
		"tags":                                   []string{},
		"homepage":                               nil,
		"logoutUrl":                              nil,
		"publisherName":                          s.publisherName(sp),
		"replyUrls":                              []string{},
		"addIns":                                 []any{},
		"info":                                   infoJSON(),
		"passwordCredentials":                    []any{},
		"alternativeNames":                       []string{},
		"endpoints":                              []any{},
		"resourceSpecificApplicationPermissions": []any{},
		"disabledByMicrosoftStatus":              nil,
		"verifiedPublisher":                      map[string]any{"displayName": nil, "verifiedPublisherId": nil, "addedDateTime": nil},
		"tokenEncryptionKeyId":                   nil,
	}
}

func (s *Server) publisherName(sp *ServicePrincipal) string {
	if sp.AppID == graphAppID {
		return "Microsoft Services"
	}
	return s.tenant.Name
}

func (s *Server) handleGetServicePrincipal(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("spid")
	s.serveServicePrincipal(w, r, func(o *orgDirectory) *ServicePrincipal { return o.spByIDLocked(id) }, id)
}

func (s *Server) serveServicePrincipal(w http.ResponseWriter, r *http.Request, find func(*orgDirectory) *ServicePrincipal, key string) {
	if _, ok := s.allowed(w, r, appReadDelegated, appReadApp, nil); !ok {
		return
	}
	o := &s.tenant.org
	o.mu.Lock()
	sp := find(o)
	o.mu.Unlock()
	if sp == nil || !s.spReplicated(sp) {
		writeResourceNotFound(w, key)
		return
	}
	v := selectFields(s.servicePrincipalJSON(sp), r.URL.Query().Get("$select"))
	v["@odata.context"] = s.GraphURL() + "/$metadata#servicePrincipals/$entity"
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) handleListServicePrincipals(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.allowed(w, r, appReadDelegated, appReadApp, nil); !ok {
		return
	}
	match, ok := directoryFilter(w, r.URL.Query().Get("$filter"))
	if !ok {
		return
	}
	o := &s.tenant.org
	o.mu.Lock()
	all := append([]*ServicePrincipal{o.graphServicePrincipalLocked(time.Now().UTC())}, o.sps...)
	o.mu.Unlock()
	items := []map[string]any{}
	for _, sp := range all {
		if s.spReplicated(sp) && match(sp.AppID, sp.DisplayName, sp.ID, nil) {
			items = append(items, selectFields(s.servicePrincipalJSON(sp), r.URL.Query().Get("$select")))
		}
	}
	s.writePage(w, r, "servicePrincipals", items, 100, 999)
}

// writeNoBackingApplication is Graph's answer to POST /servicePrincipals
// for an application the directory does not show yet (or at all).
func writeNoBackingApplication(w http.ResponseWriter, appID string) {
	msg := "The appId '" + appID + "' of the service principal does not reference a valid application object."
	writeJSON(w, http.StatusBadRequest, map[string]any{"error": map[string]any{
		"code": "Request_BadRequest", "message": msg,
		"details":    []map[string]any{{"code": "NoBackingApplicationObject", "message": msg, "target": "appId"}},
		"innerError": map[string]any{"date": time.Now().UTC().Format("2006-01-02T15:04:05"), "request-id": newGUID(), "client-request-id": newGUID()},
	}})
}

func (s *Server) handleCreateServicePrincipal(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.allowed(w, r, appWriteDelegated, appWriteApp, s.tenant.mayRegisterApps); !ok {
		return
	}
	var in struct {
		AppID string `json:"appId"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	if in.AppID == "" {
		writeGraphError(w, http.StatusBadRequest, "Request_BadRequest", "Property 'appId' is required.")
		return
	}
	o := &s.tenant.org
	o.mu.Lock()
	a := o.appByAppIDLocked(in.AppID)
	if a == nil || time.Now().Before(a.replicated.Add(s.directoryDelay())) {
		o.mu.Unlock()
		writeNoBackingApplication(w, in.AppID)
		return
	}
	if o.spByAppIDLocked(a.AppID) != nil {
		o.mu.Unlock()
		writeGraphError(w, http.StatusConflict, "Request_MultipleObjectsWithSameKeyValue", "The service principal cannot be created, updated, or restored because the service principal name "+a.AppID+" is already in use.")
		return
	}
	sp := s.tenant.ensureServicePrincipalLocked(a)
	v := s.servicePrincipalJSON(sp)
	o.mu.Unlock()
	v["@odata.context"] = s.GraphURL() + "/$metadata#servicePrincipals/$entity"
	writeJSON(w, http.StatusCreated, v)
}

func (s *Server) assignmentJSON(o *orgDirectory, x *AppRoleAssignment) map[string]any {
	name, resName := "", ""
	if sp := o.spByIDLocked(x.PrincipalID); sp != nil {
		name = sp.DisplayName
	}
	if sp := o.spByIDLocked(x.ResourceID); sp != nil {
		resName = sp.DisplayName
	}
	return map[string]any{
		"id":                   x.ID,
		"deletedDateTime":      nil,
		"appRoleId":            x.AppRoleID,
		"createdDateTime":      graphTime(x.Created),
		"principalDisplayName": name,
		"principalId":          x.PrincipalID,
		"principalType":        "ServicePrincipal",
		"resourceDisplayName":  resName,
		"resourceId":           x.ResourceID,
	}
}

func (s *Server) handleListAssignedTo(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.allowed(w, r, grantReadDeleg, grantReadApp, nil); !ok {
		return
	}
	id := r.PathValue("spid")
	o := &s.tenant.org
	o.mu.Lock()
	if o.spByIDLocked(id) == nil {
		o.mu.Unlock()
		writeResourceNotFound(w, id)
		return
	}
	items := []map[string]any{}
	for _, x := range o.assignments {
		if strings.EqualFold(x.ResourceID, id) {
			items = append(items, s.assignmentJSON(o, x))
		}
	}
	o.mu.Unlock()
	s.writePage(w, r, "servicePrincipals('"+id+"')/appRoleAssignedTo", items, 100, 999)
}

// handleAssignRole grants an app role of the resource service principal
// ({spid}) to a client service principal. For Microsoft Graph's roles in a
// delegated context the signed-in user must be a Global Administrator or
// Privileged Role Administrator.
func (s *Server) handleAssignRole(w http.ResponseWriter, r *http.Request) {
	resID := r.PathValue("spid")
	var in struct {
		PrincipalID string `json:"principalId"`
		ResourceID  string `json:"resourceId"`
		AppRoleID   string `json:"appRoleId"`
	}
	if _, ok := s.allowed(w, r, grantDelegated, grantApp, func(u *User) bool {
		o := &s.tenant.org
		o.mu.Lock()
		isGraph := o.graphServicePrincipalLocked(time.Now().UTC()).ID == resID
		o.mu.Unlock()
		return !isGraph || s.tenant.mayGrantGraphAppRoles(u)
	}); !ok {
		return
	}
	if !readJSON(w, r, &in) {
		return
	}
	o := &s.tenant.org
	o.mu.Lock()
	defer o.mu.Unlock()
	res := o.spByIDLocked(resID)
	if res == nil {
		writeResourceNotFound(w, resID)
		return
	}
	if in.ResourceID != "" && !strings.EqualFold(in.ResourceID, res.ID) {
		writeGraphError(w, http.StatusBadRequest, "Request_BadRequest", "The resourceId in the request body does not match the service principal in the request URL.")
		return
	}
	principal := o.spByIDLocked(in.PrincipalID)
	if principal == nil || !s.spReplicated(principal) {
		writeResourceNotFound(w, in.PrincipalID)
		return
	}
	if res.AppID != graphAppID {
		writeGraphError(w, http.StatusBadRequest, "Request_BadRequest", "Permission being assigned was not found on application '"+res.AppID+"'.")
		return
	}
	if _, ok := graphAppRoleByID(in.AppRoleID); !ok {
		writeGraphError(w, http.StatusBadRequest, "Request_BadRequest", "Permission being assigned was not found on application '"+res.AppID+"'.")
		return
	}
	if o.hasAssignmentLocked(principal.ID, res.ID, strings.ToLower(in.AppRoleID)) {
		writeGraphError(w, http.StatusBadRequest, "Request_BadRequest", "Permission being assigned already exists on the object")
		return
	}
	x := &AppRoleAssignment{ID: base64URLGUID(), PrincipalID: principal.ID, ResourceID: res.ID, AppRoleID: strings.ToLower(in.AppRoleID),
		Created: s.tenant.now().UTC(), replicated: time.Now()}
	o.assignments = append(o.assignments, x)
	v := s.assignmentJSON(o, x)
	v["@odata.context"] = s.GraphURL() + "/$metadata#servicePrincipals('" + res.ID + "')/appRoleAssignedTo/$entity"
	writeJSON(w, http.StatusCreated, v)
}

// base64URLGUID is an appRoleAssignment ID as Graph issues them (base64url
// text, not a GUID).
func base64URLGUID() string { return randomToken(32)[:43] }
