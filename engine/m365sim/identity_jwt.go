package m365sim

import (
	"strings"
	"time"
)

// accessTokenJWT is a Microsoft Graph access token as the identity platform
// issues it for a delegated sign-in: a v1.0 JWT signed with the tenant's
// key, with the claims access-token-claims-reference.md documents
// (https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference).
// Clients are told to treat access tokens as opaque, yet some read them —
// CLI for Microsoft 365 takes upn and tid from it, and tells delegated from
// app-only tokens by idtyp — so a random string would be a deviation. The
// simulator itself never parses it: tokens are looked up by digest, and
// the random uti makes each one unique.
func (id *identity) accessTokenJWT(now, exp time.Time, u *User, clientID string, scopes []string) (string, error) {
	key, kid, err := id.signingKey()
	if err != nil {
		return "", err
	}
	tid := id.s.tenant.ID
	claims := map[string]any{
		"aud":             "https://graph.microsoft.com",
		"iss":             "https://sts.windows.net/" + tid + "/",
		"iat":             now.Unix(),
		"nbf":             now.Unix(),
		"exp":             exp.Unix(),
		"app_displayname": appDisplayName,
		"appid":           clientID,
		"appidacr":        "0", // a public client: no client authentication
		"idtyp":           "user",
		"name":            u.DisplayName,
		"given_name":      u.GivenName,
		"family_name":     u.Surname,
		"oid":             u.ID,
		"scp":             strings.Join(scopes, " "),
		"sub":             u.ID,
		"tid":             tid,
		"unique_name":     u.UPN,
		"upn":             u.UPN,
		"uti":             randomToken(16),
		"ver":             "1.0",
	}
	return signJWT(key, kid, claims)
}
