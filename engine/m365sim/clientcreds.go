package m365sim

// The OAuth 2.0 client credentials grant with a certificate assertion, the
// way an app registration gets an app-only token for Microsoft Graph.
//
// Sources:
//   - https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow
//     (tenant-specific endpoint, scope {resource}/.default, client_assertion_type
//     urn:ietf:params:oauth:client-assertion-type:jwt-bearer; the response has
//     token_type, expires_in, ext_expires_in and access_token, no refresh token)
//   - https://learn.microsoft.com/entra/identity-platform/certificate-credentials
//     (header alg PS256 with x5t#S256, the SHA-256 thumbprint of the
//     certificate's DER; the older form RS256 with x5t, the SHA-1 thumbprint;
//     claims aud = the token endpoint, iss = sub = the client ID, jti, nbf, exp;
//     PSS padding). MSAL Go encodes the thumbprint in standard base64 where the
//     page says base64url (DESIGN.md §9), and Entra ID accepts it: so does this.
//   - AADSTS codes: https://learn.microsoft.com/entra/identity-platform/reference-error-codes
//     and the messages Entra ID sends: 700027 "Client assertion contains an
//     invalid signature. [Reason - The key was not found., ...]" and
//     "[Reason - The key used is expired. ...]", 700024 "Client assertion is
//     not within its valid time range", 700021, 700023, 700016, 7000229,
//     9001023, 1002012 (troubleshooting-authentication-service-principal in
//     the Azure SDK documentation lists 700027, 700016, 700021, 700023).
//   - The access token's claims: https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference
//     (idtyp "app", appidacr "2" for a certificate, roles, oid/sub = the
//     service principal).

import (
	"crypto/rsa"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

const (
	clientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
	// assertionSkew is the clock skew tolerated on nbf and exp.
	assertionSkew = 5 * time.Minute
)

func invalidClient(aadsts int, desc string) *oauthError {
	return &oauthError{status: http.StatusUnauthorized, code: "invalid_client", aadsts: aadsts, desc: desc}
}

// clientCredentialsGrant answers a token request with grant_type
// client_credentials.
func (id *identity) clientCredentialsGrant(w http.ResponseWriter, r *http.Request) {
	resp, e := id.clientCredentials(r)
	if e != nil {
		id.writeError(w, r, e)
		return
	}
	writeIdentityJSON(w, http.StatusOK, resp)
}

func (id *identity) clientCredentials(r *http.Request) (map[string]any, *oauthError) {
	seg := strings.ToLower(r.PathValue("tenant"))
	switch seg {
	case "common", "consumers":
		return nil, &oauthError{status: http.StatusBadRequest, code: "invalid_request", aadsts: 9001023,
			desc: "The grant type is not supported over the /common or /consumers endpoints. Please use the /organizations or tenant-specific endpoint."}
	case "organizations":
		return nil, &oauthError{status: http.StatusBadRequest, code: "invalid_request", aadsts: 50059,
			desc: "No tenant-identifying information found in either the request or implied by any provided credentials."}
	}
	if _, ok := id.resolveTenant(seg); !ok {
		return nil, tenantNotFound("invalid_request", r.PathValue("tenant"))
	}
	form := r.PostForm
	clientID := form.Get("client_id")
	if e := id.appScope(form.Get("scope")); e != nil {
		return nil, e
	}
	assertion := form.Get("client_assertion")
	switch {
	case form.Get("client_secret") != "":
		// Lifeboat's registrations hold certificates only; a secret can never match.
		return nil, invalidClient(7000215, fmt.Sprintf("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'.", clientID))
	case assertion == "":
		return nil, invalidClient(7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
	case form.Get("client_assertion_type") != clientAssertionType:
		return nil, &oauthError{status: http.StatusBadRequest, code: "invalid_request", aadsts: 50027,
			desc: "Invalid client_assertion_type: expected " + clientAssertionType + "."}
	}
	now := time.Now()
	t := id.s.tenant
	o := &t.org
	o.mu.Lock()
	// A new registration reaches the token service only after directory
	// replication: until then the app is unknown (AADSTS700016).
	app := o.appByAppIDLocked(clientID)
	if app == nil || now.Before(app.replicated.Add(id.s.directoryDelay())) {
		o.mu.Unlock()
		return nil, id.unknownClient(clientID)
	}
	keys := append([]KeyCredential(nil), app.KeyCredentials...)
	o.mu.Unlock()

	if e := id.checkAssertion(assertion, clientID, keys, now); e != nil {
		return nil, e
	}

	o.mu.Lock()
	sp := o.spByAppIDLocked(clientID)
	if sp == nil {
		o.mu.Unlock()
		return nil, &oauthError{status: http.StatusBadRequest, code: "invalid_client", aadsts: 7000229,
			desc: fmt.Sprintf("The client application %s is missing service principal in the tenant %s. See instructions here: https://go.microsoft.com/fwlink/?linkid=2225119", clientID, t.ID)}
	}
	roles := o.rolesLocked(sp.ID, now.Add(-id.s.roleDelay()))
	spID, name := sp.ID, app.DisplayName
	o.mu.Unlock()

	life := id.s.opts.AccessTokenLifetime
	at, err := id.appAccessTokenJWT(now, now.Add(life), clientID, name, spID, roles)
	if err != nil {
		return nil, &oauthError{status: http.StatusInternalServerError, code: "temporarily_unavailable", aadsts: 50000,
			desc: "There was an error issuing a token."}
	}
	id.mu.Lock()
	id.sweepLocked(now)
	id.access[digest(at)] = &accessToken{clientID: clientID, expires: now.Add(life), app: true, roles: roles}
	id.mu.Unlock()
	secs := max(int(life/time.Second), 1)
	return map[string]any{"token_type": "Bearer", "expires_in": secs, "ext_expires_in": secs, "access_token": at}, nil
}

// appScope checks the scope of a client credentials request: a resource's
// "/.default" and nothing else but the OpenID scopes MSAL always adds.
func (id *identity) appScope(param string) *oauthError {
	found := false
	for _, sc := range strings.Fields(param) {
		lower := strings.ToLower(sc)
		switch lower {
		case "openid", "profile", "offline_access", "email":
			continue
		case graphScopePrefix + ".default", strings.TrimSuffix(graphScopePrefix, "/") + "//.default", graphAppID + "/.default":
			found = true
			continue
		}
		if strings.HasSuffix(lower, "/.default") {
			resource := sc[:len(sc)-len("/.default")]
			return &oauthError{status: http.StatusBadRequest, code: "invalid_resource", aadsts: 500011,
				desc: fmt.Sprintf("The resource principal named %s was not found in the tenant named %s. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.", resource, id.s.tenant.Name)}
		}
		return &oauthError{status: http.StatusBadRequest, code: "invalid_scope", aadsts: 1002012,
			desc: fmt.Sprintf("The provided value for scope %s is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).", sc)}
	}
	if !found {
		return &oauthError{status: http.StatusBadRequest, code: "invalid_request", aadsts: 900144,
			desc: "The request body must contain the following parameter: 'scope'."}
	}
	return nil
}

// decodeB64 accepts base64url and standard base64, padded or not.
func decodeB64(s string) ([]byte, error) {
	s = strings.TrimRight(s, "=")
	if b, err := base64.RawURLEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	return base64.RawStdEncoding.DecodeString(s)
}

// checkAssertion verifies a client assertion against the application's
// registered certificates.
func (id *identity) checkAssertion(assertion, clientID string, keys []KeyCredential, now time.Time) *oauthError {
	malformed := &oauthError{status: http.StatusBadRequest, code: "invalid_request", aadsts: 50027, desc: "JWT token is invalid or malformed."}
	var claims struct {
		Aud any         `json:"aud"`
		Iss string      `json:"iss"`
		Sub string      `json:"sub"`
		Exp json.Number `json:"exp"`
		Nbf json.Number `json:"nbf"`
	}
	jws, ok := parseSignedJWT(assertion, &claims)
	if !ok {
		return malformed
	}
	var thumb []byte
	var sha1Thumb bool
	switch jws.header("alg") {
	case "PS256":
		thumb, _ = decodeB64(jws.header("x5t#S256"))
	case "RS256":
		thumb, _ = decodeB64(jws.header("x5t"))
		sha1Thumb = true
	default:
		return invalidClient(5002730, "Invalid JWT token. Unsupported key for the signing algorithm.")
	}
	var key *KeyCredential
	for i := range keys {
		want := thumbprintSHA256(keys[i].Cert)
		if sha1Thumb {
			want = thumbprintSHA1(keys[i].Cert)
		}
		if len(thumb) > 0 && string(want) == string(thumb) {
			key = &keys[i]
			break
		}
	}
	shown := strings.ToUpper(hex.EncodeToString(thumb))
	if key == nil {
		return invalidClient(700027, fmt.Sprintf("Client assertion contains an invalid signature. [Reason - The key was not found., Thumbprint of key used by client: '%s', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '%s'. Review the documentation at https://docs.microsoft.com/en-us/graph/deployments to determine the corresponding service endpoint and https://docs.microsoft.com/en-us/graph/api/application-get?view=graph-rest-1.0&tabs=http to build a query request URL, such as 'https://graph.microsoft.com/beta/applications/%s']", shown, clientID, clientID))
	}
	if !now.Before(key.End) {
		const f = "01/02/2006 15:04:05"
		return invalidClient(700027, fmt.Sprintf("Client assertion contains an invalid signature. [Reason - The key used is expired. Thumbprint of key used by client: '%s', Found key 'Start=%s, End=%s']", shown, key.Start.Format(f), key.End.Format(f)))
	}
	pub, ok := key.Cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return invalidClient(5002730, "Invalid JWT token. Unsupported key for the signing algorithm.")
	}
	if jws.verify(pub) != nil {
		return invalidClient(700027, "Client assertion failed signature validation.")
	}
	if claims.Iss != clientID || claims.Sub != clientID {
		return invalidClient(700021, "Client assertion application identifier doesn't match 'client_id' parameter. Review the documentation at https://docs.microsoft.com/en-us/azure/active-directory/develop/active-directory-certificate-credentials .")
	}
	if !id.assertionAudienceOK(claims.Aud) {
		return invalidClient(700023, "Client assertion audience claim does not match Realm issuer. Review the documentation at https://docs.microsoft.com/en-us/azure/active-directory/develop/active-directory-certificate-credentials .")
	}
	exp, errE := claims.Exp.Int64()
	nbf, errN := claims.Nbf.Int64()
	if errE != nil {
		return malformed
	}
	expT := time.Unix(exp, 0)
	if now.After(expT.Add(assertionSkew)) || errN == nil && now.Add(assertionSkew).Before(time.Unix(nbf, 0)) {
		return invalidClient(700024, fmt.Sprintf("Client assertion is not within its valid time range. Current time: %s, expiry time of assertion %s.", aadTime(now), aadTime(expT)))
	}
	return nil
}

// assertionAudienceOK accepts the token endpoint under the tenant ID or
// domain (v2.0 or v1), as a string or in an array.
func (id *identity) assertionAudienceOK(aud any) bool {
	var list []string
	switch v := aud.(type) {
	case string:
		list = []string{v}
	case []any:
		for _, x := range v {
			if s, ok := x.(string); ok {
				list = append(list, s)
			}
		}
	}
	t := id.s.tenant
	for _, a := range list {
		for _, seg := range []string{t.ID, t.Domain} {
			base := id.s.orig.login + "/" + seg
			if strings.EqualFold(a, base+"/oauth2/v2.0/token") || strings.EqualFold(a, base+"/oauth2/token") {
				return true
			}
		}
	}
	return false
}

// appAccessTokenJWT is an app-only Microsoft Graph access token, v1.0
// claims.
func (id *identity) appAccessTokenJWT(now, exp time.Time, appID, appName, spID string, roles []string) (string, error) {
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
		"app_displayname": appName,
		"appid":           appID,
		"appidacr":        "2", // a certificate authenticated the client
		"idp":             "https://sts.windows.net/" + tid + "/",
		"idtyp":           "app",
		"oid":             spID,
		"sub":             spID,
		"tid":             tid,
		"uti":             randomToken(16),
		"ver":             "1.0",
	}
	if len(roles) > 0 {
		// Entra ID leaves the claim out when the app holds no role.
		claims["roles"] = roles
	}
	return signJWT(key, kid, claims)
}

// TenantAuthority is the tenant-specific MSAL authority URL
// (https://login.../{tenantID}), which a confidential client needs: the
// client credentials grant is refused over /common and /organizations.
func (s *Server) TenantAuthority() string { return s.orig.login + "/" + s.tenant.ID }
