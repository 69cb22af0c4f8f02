package auth

import "strings"

// DirectoryID is the account's directory (tenant) ID. MSAL's realm is the
// authority's tenant segment ("organizations" for a multi-tenant sign-in),
// so the home tenant is taken from the home account ID, which is
// "<object ID>.<home tenant ID>".
func (a Account) DirectoryID() string {
	if _, tid, ok := strings.Cut(a.HomeAccountID, "."); ok && tid != "" {
		return tid
	}
	return a.TenantID
}
