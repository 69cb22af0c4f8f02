package m365sim

// Directory roles: who may register applications and who may grant
// Microsoft Graph application permissions. With a delegated token, what an
// app may do is the intersection of its scopes and the signed-in user's
// privileges (permissions reference, "effective permissions").
//
// Sources:
//   - Microsoft Entra built-in roles and their template IDs:
//     https://learn.microsoft.com/entra/identity/role-based-access-control/permissions-reference
//     (Application Administrator "can consent ... with the exception of
//     application permissions for Microsoft Graph"; Application Developer
//     "can create application registrations independent of the 'Users can
//     register applications' setting").
//   - serviceprincipal-post-approleassignedto: granting Microsoft Graph app
//     roles in a delegated context needs Privileged Role Administrator (or
//     Global Administrator).
//   - "Users can register applications" is Yes by default
//     (https://learn.microsoft.com/entra/identity/role-based-access-control/delegate-app-roles).
//   - GET /me/memberOf lists directoryRole objects with roleTemplateId:
//     https://learn.microsoft.com/graph/api/user-list-memberof?view=graph-rest-1.0

import (
	"net/http"
	"slices"
	"strings"
)

// Directory role template IDs.
const (
	RoleGlobalAdministrator           = "62e90394-69f5-4237-9190-012177145e10"
	RolePrivilegedRoleAdministrator   = "e8611ab8-c189-46e8-94e1-60213ab1f814"
	RoleApplicationAdministrator      = "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3"
	RoleCloudApplicationAdministrator = "158c047a-c907-4556-b7ef-446551a6b5f7"
	RoleApplicationDeveloper          = "cf1c38e5-3621-4004-a7cb-879624dced7c"
)

var roleNames = map[string]string{
	RoleGlobalAdministrator:           "Global Administrator",
	RolePrivilegedRoleAdministrator:   "Privileged Role Administrator",
	RoleApplicationAdministrator:      "Application Administrator",
	RoleCloudApplicationAdministrator: "Cloud Application Administrator",
	RoleApplicationDeveloper:          "Application Developer",
}

// SetDirectoryRoles replaces the directory roles (template IDs, the Role*
// constants) a user holds. A user with none is an ordinary user.
func (t *Tenant) SetDirectoryRoles(user string, roles ...string) error {
	for _, r := range roles {
		if _, ok := roleNames[r]; !ok {
			return &unknownRoleError{r}
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	u, err := t.userLocked(user)
	if err != nil {
		return err
	}
	u.roles = slices.Clone(roles)
	return nil
}

type unknownRoleError struct{ id string }

func (e *unknownRoleError) Error() string {
	return "m365sim: unknown directory role template ID " + e.id
}

// DirectoryRoles returns the role template IDs a user holds.
func (t *Tenant) DirectoryRoles(user string) ([]string, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	u, err := t.userLocked(user)
	if err != nil {
		return nil, err
	}
	return slices.Clone(u.roles), nil
}

// SetUsersCanRegisterApplications is the tenant's "Users can register
// applications" setting (default true, as in a new tenant).
func (t *Tenant) SetUsersCanRegisterApplications(allowed bool) {
	t.org.mu.Lock()
	defer t.org.mu.Unlock()
	t.org.usersCannotRegister = !allowed
}

func (t *Tenant) hasRole(u *User, roles ...string) bool {
	if u == nil {
		return false
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	return slices.ContainsFunc(u.roles, func(r string) bool { return slices.Contains(roles, r) })
}

// mayRegisterApps says whether a signed-in user may create applications
// and service principals.
func (t *Tenant) mayRegisterApps(u *User) bool {
	t.org.mu.Lock()
	open := !t.org.usersCannotRegister
	t.org.mu.Unlock()
	return open || t.hasRole(u, RoleGlobalAdministrator, RoleApplicationAdministrator, RoleCloudApplicationAdministrator, RoleApplicationDeveloper)
}

// mayManageApps says whether a user may change or delete any app
// registration, not only those they own.
func (t *Tenant) mayManageApps(u *User) bool {
	return t.hasRole(u, RoleGlobalAdministrator, RoleApplicationAdministrator, RoleCloudApplicationAdministrator)
}

// mayGrantGraphAppRoles says whether a user may grant Microsoft Graph
// application permissions.
func (t *Tenant) mayGrantGraphAppRoles(u *User) bool {
	return t.hasRole(u, RoleGlobalAdministrator, RolePrivilegedRoleAdministrator)
}

func writeInsufficientPrivileges(w http.ResponseWriter) {
	writeGraphError(w, http.StatusForbidden, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
}

// handleMemberOf lists the directory roles the user holds (the simulated
// tenant has no groups).
func (s *Server) handleMemberOf(w http.ResponseWriter, r *http.Request, u *User) {
	roles, err := s.tenant.DirectoryRoles(u.ID)
	if err != nil {
		writeTenantError(w, err)
		return
	}
	items := []map[string]any{}
	for _, id := range roles {
		items = append(items, map[string]any{
			"@odata.type":     "#microsoft.graph.directoryRole",
			"id":              s.tenant.directoryRoleObjectID(id),
			"deletedDateTime": nil,
			"description":     roleNames[id],
			"displayName":     roleNames[id],
			"roleTemplateId":  id,
		})
	}
	s.writePage(w, r, "directoryObjects", items, 100, 999)
}

// directoryRoleObjectID is the activated role's object ID in this tenant,
// stable per tenant and role.
func (t *Tenant) directoryRoleObjectID(template string) string {
	sum := digest(t.ID + "|" + template)
	b := []byte(sum[:16])
	h := strings.ToLower(hexString(b))
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func hexString(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, len(b)*2)
	for _, x := range b {
		out = append(out, digits[x>>4], digits[x&15])
	}
	return string(out)
}
