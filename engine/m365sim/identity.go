package m365sim

// The identity provider: a stand-in for the Microsoft identity platform's v2.0
// endpoints (login.microsoftonline.com) that the real MSAL public client
// accepts. It serves OpenID discovery, the signing keys, the device
// authorization grant with its sign-in page, and the refresh token grant.
//
// Nothing here logs: access tokens, refresh tokens, device codes and user
// codes are secrets, and the server's request logger sees only routes and
// status codes. Tokens are kept in memory under their SHA-256 digest, so the
// state itself holds no usable secret either.

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"math/big"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

// Errors from the device code methods of Server.
var (
	ErrNoDeviceCode      = errors.New("m365sim: no such device code")
	ErrDeviceCodeExpired = errors.New("m365sim: the device code has expired")
	ErrDeviceCodeUsed    = errors.New("m365sim: the device code was already approved or declined")
)

const (
	// graphAppID is Microsoft Graph's application ID, which Entra ID names
	// in error messages about Graph permissions.
	graphAppID = "00000003-0000-0000-c000-000000000000"
	// graphScopePrefix is the resource URI that may prefix Graph scopes.
	graphScopePrefix = "https://graph.microsoft.com/"
	// appDisplayName is what the sign-in page calls the application.
	appDisplayName = "Lifeboat"

	csrfCookie   = "m365sim_devicelogin"
	csrfLifetime = 30 * time.Minute
	maxFormBytes = 64 << 10
	// keepExpired is how long expired codes and tokens are remembered, so
	// that their use is answered "expired" rather than "unknown".
	keepExpired = 15 * time.Minute
)

// graphPermissions are the Microsoft Graph delegated permissions the
// simulator knows, in Microsoft's spelling. Scope names are matched without
// regard to case and answered in this spelling, as Entra ID does.
var graphPermissions = []string{
	"User.Read", "User.ReadWrite", "User.ReadBasic.All", "User.Read.All", "User.ReadWrite.All",
	"Mail.Read", "Mail.ReadBasic", "Mail.ReadWrite", "Mail.Send", "Mail.Read.Shared", "Mail.ReadWrite.Shared",
	"MailboxSettings.Read", "MailboxSettings.ReadWrite",
	"Files.Read", "Files.Read.All", "Files.ReadWrite", "Files.ReadWrite.All", "Files.ReadWrite.AppFolder",
	"Sites.Read.All", "Sites.ReadWrite.All",
	"Calendars.Read", "Calendars.ReadWrite", "Contacts.Read", "Contacts.ReadWrite",
	"Directory.Read.All", "Directory.ReadWrite.All", "Directory.AccessAsUser.All",
	// organization setup (directoryroles.go, appshttp.go)
	"Application.Read.All", "Application.ReadWrite.All", "AppRoleAssignment.ReadWrite.All",
}

// defaultConsentedPermissions are what the simulated application
// registration is configured with unless Options.ConsentedPermissions
// says otherwise: what "/.default" and IssueAccessToken grant.
func defaultConsentedPermissions() []string {
	return []string{"User.Read", "Mail.ReadWrite", "Files.ReadWrite.All", "Calendars.ReadWrite", "Contacts.ReadWrite"}
}

// consentedPermissions are what the application has been granted.
func (s *Server) consentedPermissions() []string {
	if len(s.opts.ConsentedPermissions) > 0 {
		return s.opts.ConsentedPermissions
	}
	return defaultConsentedPermissions()
}

type deviceCodeState int

const (
	dcPending deviceCodeState = iota
	dcApproved
	dcDeclined
	dcRedeemed
)

type deviceCode struct {
	userCode string
	clientID string
	scopes   scopeSet
	created  time.Time
	expires  time.Time
	state    deviceCodeState
	user     *User
}

type accessToken struct {
	user     *User
	clientID string
	scopes   []string
	expires  time.Time
	revoked  bool // ExpireAccessTokens
	// app and roles describe an app-only token (clientcreds.go).
	app   bool
	roles []string
}

type refreshToken struct {
	user        *User
	clientID    string
	consented   []string  // Graph permissions the user consented to, canonical
	grantIssued time.Time // when the user signed in; carried through rotation
	expires     time.Time
	revokedAt   time.Time // zero unless RevokeRefreshTokens
	mfaRequired bool
}

type identity struct {
	s *Server

	keyOnce sync.Once
	key     *rsa.PrivateKey
	kid     string
	keyErr  error

	mu        sync.Mutex
	codes     map[string]*deviceCode   // by digest of the device code
	userCodes map[string]string        // user code → digest of the device code
	access    map[string]*accessToken  // by digest
	refresh   map[string]*refreshToken // by digest
	csrf      map[string]time.Time     // digest of page token → expiry
	nextSweep time.Time
	autoUser  *User
}

func newIdentity(s *Server) (*identity, error) {
	id := &identity{
		s:         s,
		codes:     map[string]*deviceCode{},
		userCodes: map[string]string{},
		access:    map[string]*accessToken{},
		refresh:   map[string]*refreshToken{},
		csrf:      map[string]time.Time{},
	}
	if s.opts.AutoApprove > 0 {
		if s.opts.AutoApproveUser != "" {
			u, err := s.tenant.User(s.opts.AutoApproveUser)
			if err != nil {
				return nil, fmt.Errorf("m365sim: AutoApproveUser %s: %w", s.opts.AutoApproveUser, err)
			}
			id.autoUser = u
		} else {
			id.autoUser = s.tenant.Users()[0]
		}
	}
	return id, nil
}

// digest is the map key for a secret: the state never holds the secret.
func digest(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return string(sum[:])
}

// signingKey returns the RSA key that signs ID tokens. It is generated on
// first use, since tests about Graph alone never need it and generating a
// 2048-bit key costs a noticeable fraction of a second.
func (id *identity) signingKey() (*rsa.PrivateKey, string, error) {
	id.keyOnce.Do(func() {
		id.key, id.keyErr = rsa.GenerateKey(rand.Reader, 2048)
		if id.keyErr == nil {
			sum := sha256.Sum256(id.key.N.Bytes())
			id.kid = base64.RawURLEncoding.EncodeToString(sum[:20])
		}
	})
	return id.key, id.kid, id.keyErr
}

func (id *identity) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{tenant}/v2.0/.well-known/openid-configuration", id.handleOpenIDConfiguration)
	mux.HandleFunc("GET /{tenant}/discovery/v2.0/keys", id.handleKeys)
	mux.HandleFunc("GET /{tenant}/discovery/instance", id.handleInstanceDiscovery)
	mux.HandleFunc("/{tenant}/oauth2/v2.0/devicecode", id.handleDeviceCode)
	mux.HandleFunc("/{tenant}/oauth2/v2.0/token", id.handleToken)
	mux.HandleFunc("/{tenant}/oauth2/v2.0/authorize", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "The simulated Microsoft 365 tenant supports the device code flow only.", http.StatusBadRequest)
	})
	mux.HandleFunc("/", http.NotFound)
	return mux
}

// ---- tenants ----

// resolveTenant maps the tenant segment of a URL to the segment the
// endpoints are published under: "organizations" and "common" stay as they
// are, the tenant ID or domain become the tenant ID. ok is false for any
// other tenant.
func (id *identity) resolveTenant(seg string) (string, bool) {
	t := id.s.tenant
	switch lower := strings.ToLower(seg); lower {
	case "organizations", "common":
		return lower, true
	case strings.ToLower(t.ID), strings.ToLower(t.Domain):
		return t.ID, true
	}
	return "", false
}

func (id *identity) issuer() string { return id.s.orig.login + "/" + id.s.tenant.ID + "/v2.0" }

func (id *identity) handleOpenIDConfiguration(w http.ResponseWriter, r *http.Request) {
	seg, ok := id.resolveTenant(r.PathValue("tenant"))
	if !ok {
		id.writeError(w, r, tenantNotFound("invalid_tenant", r.PathValue("tenant")))
		return
	}
	base := id.s.orig.login + "/" + seg
	issuer := id.issuer()
	regionScope := any("NA")
	if seg == "organizations" || seg == "common" {
		// Microsoft publishes a template issuer for the multi-tenant
		// authorities; the token's tid fills it in.
		issuer = id.s.orig.login + "/{tenantid}/v2.0"
		regionScope = nil
	}
	host := strings.TrimPrefix(id.s.orig.graph, "https://")
	writeIdentityJSON(w, http.StatusOK, map[string]any{
		"token_endpoint":                        base + "/oauth2/v2.0/token",
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		"jwks_uri":                              base + "/discovery/v2.0/keys",
		"userinfo_endpoint":                     id.s.orig.graph + "/oidc/userinfo",
		"response_modes_supported":              []string{"query", "fragment", "form_post"},
		"subject_types_supported":               []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"response_types_supported":              []string{"code", "id_token", "code id_token", "id_token token"},
		"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
		"issuer":                                issuer,
		"request_uri_parameter_supported":       false,
		"authorization_endpoint":                base + "/oauth2/v2.0/authorize",
		"device_authorization_endpoint":         base + "/oauth2/v2.0/devicecode",
		"http_logout_supported":                 false,
		"frontchannel_logout_supported":         false,
		"claims_supported": []string{"sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name",
			"msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username", "name", "tid", "ver",
			"at_hash", "c_hash", "email"},
		"tenant_region_scope":   regionScope,
		"cloud_instance_name":   "microsoftonline.com",
		"cloud_graph_host_name": host,
		"msgraph_host":          host,
	})
}

func (id *identity) handleKeys(w http.ResponseWriter, r *http.Request) {
	if _, ok := id.resolveTenant(r.PathValue("tenant")); !ok {
		id.writeError(w, r, tenantNotFound("invalid_tenant", r.PathValue("tenant")))
		return
	}
	key, kid, err := id.signingKey()
	if err != nil {
		http.Error(w, "signing key unavailable", http.StatusInternalServerError)
		return
	}
	b64 := base64.RawURLEncoding.EncodeToString
	writeIdentityJSON(w, http.StatusOK, map[string]any{
		"keys": []map[string]any{{
			"kty":    "RSA",
			"use":    "sig",
			"kid":    kid,
			"n":      b64(key.N.Bytes()),
			"e":      b64(big.NewInt(int64(key.E)).Bytes()),
			"issuer": id.s.orig.login + "/{tenantid}/v2.0",
		}},
	})
}

// ---- scopes ----

// scopeSet is a parsed scope parameter.
type scopeSet struct {
	graph   []string // Graph permissions, canonical short names
	echo    []string // the resource scopes as the response names them
	openid  bool
	profile bool
	email   bool
	offline bool
}

// String is the scope parameter of a token response: the resource scopes
// in the form they were asked for (MSAL compares them with what it asked
// for), then the OpenID scopes. offline_access is never listed, as
// Microsoft never lists it.
func (s scopeSet) String() string {
	out := append([]string(nil), s.echo...)
	if s.profile {
		out = append(out, "profile")
	}
	if s.openid {
		out = append(out, "openid")
	}
	if s.openid || s.email {
		out = append(out, "email")
	}
	return strings.Join(out, " ")
}

func canonicalPermission(name string) (string, bool) {
	for _, p := range graphPermissions {
		if strings.EqualFold(p, name) {
			return p, true
		}
	}
	return "", false
}

func appendUnique(list []string, items ...string) []string {
	for _, it := range items {
		dup := false
		for _, have := range list {
			if strings.EqualFold(have, it) {
				dup = true
				break
			}
		}
		if !dup {
			list = append(list, it)
		}
	}
	return list
}

func (id *identity) parseScopes(param string) (scopeSet, *oauthError) {
	var s scopeSet
	for _, sc := range strings.Fields(param) {
		lower := strings.ToLower(sc)
		switch lower {
		case "openid":
			s.openid = true
			continue
		case "profile":
			s.profile = true
			continue
		case "email":
			s.email = true
			continue
		case "offline_access":
			s.offline = true
			continue
		}
		name, prefix := sc, ""
		switch {
		case strings.HasPrefix(lower, graphScopePrefix):
			name, prefix = sc[len(graphScopePrefix):], graphScopePrefix
		case strings.HasPrefix(lower, graphAppID+"/"):
			name, prefix = sc[len(graphAppID)+1:], graphAppID+"/"
		case strings.Contains(sc, "/"):
			resource := sc[:strings.LastIndex(sc, "/")]
			return s, &oauthError{status: http.StatusBadRequest, code: "invalid_resource", aadsts: 500011,
				desc: fmt.Sprintf("The resource principal named %s was not found in the tenant named %s. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.", resource, id.s.tenant.Name)}
		}
		if name == ".default" {
			s.graph = appendUnique(s.graph, id.s.consentedPermissions()...)
			s.echo = appendUnique(s.echo, prefix+".default")
			continue
		}
		canon, ok := canonicalPermission(name)
		if !ok {
			return s, &oauthError{status: http.StatusBadRequest, code: "invalid_scope", aadsts: 650053,
				desc: fmt.Sprintf("The application '%s' asked for scope '%s' that doesn't exist on the resource '%s'. Contact the app vendor.", appDisplayName, name, graphAppID)}
		}
		s.graph = appendUnique(s.graph, canon)
		s.echo = appendUnique(s.echo, prefix+canon)
	}
	if len(s.graph) == 0 && !s.openid && !s.profile && !s.email && !s.offline {
		return s, &oauthError{status: http.StatusBadRequest, code: "invalid_request", aadsts: 900144,
			desc: "The request body must contain the following parameter: 'scope'."}
	}
	return s, nil
}

// ---- errors ----

type oauthError struct {
	status   int
	code     string
	aadsts   int
	desc     string
	suberror string
}

func tenantNotFound(code, tenant string) *oauthError {
	return &oauthError{status: http.StatusBadRequest, code: code, aadsts: 90002,
		desc: fmt.Sprintf("Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.", tenant)}
}

func (id *identity) unknownClient(clientID string) *oauthError {
	return &oauthError{status: http.StatusBadRequest, code: "unauthorized_client", aadsts: 700016,
		desc: fmt.Sprintf("Application with identifier '%s' was not found in the directory '%s'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.", clientID, id.s.tenant.Name)}
}

// writeError answers with the identity platform's error body: error,
// error_description ending in trace and correlation IDs, error_codes,
// timestamp, trace_id, correlation_id, error_uri.
func (id *identity) writeError(w http.ResponseWriter, r *http.Request, e *oauthError) {
	now := time.Now().UTC()
	ts := now.Format("2006-01-02 15:04:05Z")
	trace := newGUID()
	corr := r.Header.Get("client-request-id")
	if corr == "" || len(corr) > 64 {
		corr = newGUID()
	}
	body := map[string]any{
		"error":             e.code,
		"error_description": fmt.Sprintf("AADSTS%d: %s Trace ID: %s Correlation ID: %s Timestamp: %s", e.aadsts, e.desc, trace, corr, ts),
		"error_codes":       []int{e.aadsts},
		"timestamp":         ts,
		"trace_id":          trace,
		"correlation_id":    corr,
		"error_uri":         fmt.Sprintf("https://login.microsoftonline.com/error?code=%d", e.aadsts),
	}
	if e.suberror != "" {
		body["suberror"] = e.suberror
	}
	w.Header().Set("x-ms-request-id", trace)
	writeIdentityJSON(w, e.status, body)
}

func writeIdentityJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store, no-cache")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// readForm parses a POSTed form for the devicecode and token endpoints.
func (id *identity) readForm(w http.ResponseWriter, r *http.Request) *oauthError {
	if r.Method != http.MethodPost {
		return &oauthError{status: http.StatusBadRequest, code: "invalid_request", aadsts: 900561,
			desc: fmt.Sprintf("The endpoint only accepts POST requests. Received a %s request.", r.Method)}
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		return &oauthError{status: http.StatusBadRequest, code: "invalid_request", aadsts: 900144,
			desc: "The request body must be application/x-www-form-urlencoded."}
	}
	if r.PostForm.Get("client_id") == "" {
		return &oauthError{status: http.StatusBadRequest, code: "invalid_request", aadsts: 900144,
			desc: "The request body must contain the following parameter: 'client_id'."}
	}
	return nil
}

// acceptClientRequest checks what the device code and token endpoints
// share: a known tenant, a well-formed form and the registered client ID.
// It answers the request itself when something is wrong.
func (id *identity) acceptClientRequest(w http.ResponseWriter, r *http.Request) bool {
	if _, ok := id.resolveTenant(r.PathValue("tenant")); !ok {
		id.writeError(w, r, tenantNotFound("invalid_request", r.PathValue("tenant")))
		return false
	}
	if e := id.readForm(w, r); e != nil {
		id.writeError(w, r, e)
		return false
	}
	if clientID := r.PostForm.Get("client_id"); clientID != id.s.opts.ClientID {
		id.writeError(w, r, id.unknownClient(clientID))
		return false
	}
	return true
}

// ---- device authorization ----

func (id *identity) handleDeviceCode(w http.ResponseWriter, r *http.Request) {
	if !id.acceptClientRequest(w, r) {
		return
	}
	scopes, e := id.parseScopes(r.PostForm.Get("scope"))
	if e != nil {
		id.writeError(w, r, e)
		return
	}
	now := time.Now()
	device := randomToken(48)
	dc := &deviceCode{clientID: r.PostForm.Get("client_id"), scopes: scopes, created: now, expires: now.Add(id.s.opts.DeviceCodeLifetime)}
	id.mu.Lock()
	id.sweepLocked(now)
	for {
		dc.userCode = newUserCode()
		if _, taken := id.userCodes[dc.userCode]; !taken {
			break
		}
	}
	id.codes[digest(device)] = dc
	id.userCodes[dc.userCode] = digest(device)
	id.mu.Unlock()

	uri := id.s.orig.page + "/devicelogin"
	writeIdentityJSON(w, http.StatusOK, map[string]any{
		"user_code":        dc.userCode,
		"device_code":      device,
		"verification_uri": uri,
		"expires_in":       ceilSeconds(id.s.opts.DeviceCodeLifetime),
		"interval":         ceilSeconds(id.s.opts.DeviceCodeInterval),
		"message":          fmt.Sprintf("To sign in, use a web browser to open the page %s and enter the code %s to authenticate.", uri, dc.userCode),
	})
}

func ceilSeconds(d time.Duration) int {
	secs := int((d + time.Second - 1) / time.Second)
	if secs < 1 {
		secs = 1
	}
	return secs
}

// userCodeAlphabet has no vowels (no accidental words) and none of the
// characters people confuse: 0/O, 1/I/L.
const userCodeAlphabet = "BCDFGHJKMNPQRSTVWXZ23456789"

func newUserCode() string {
	var b [9]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	out := make([]byte, len(b))
	for i, x := range b {
		// 256 is not a multiple of the alphabet size; the slight bias is
		// irrelevant for a code that lives 15 minutes on loopback.
		out[i] = userCodeAlphabet[int(x)%len(userCodeAlphabet)]
	}
	return string(out)
}

// normalizeUserCode accepts what a person types: any case, spaces, dashes.
func normalizeUserCode(code string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == ' ' || r == '-' || r == '\t':
			return -1
		case r >= 'a' && r <= 'z':
			return r - 'a' + 'A'
		}
		return r
	}, code)
}

// refreshStateLocked applies automatic approval once its delay has passed.
func (id *identity) refreshStateLocked(dc *deviceCode, now time.Time) {
	if dc.state == dcPending && id.autoUser != nil && now.Before(dc.expires) &&
		!now.Before(dc.created.Add(id.s.opts.AutoApprove)) {
		dc.state = dcApproved
		dc.user = id.autoUser
	}
}

func (id *identity) decideDeviceCode(userCode string, approve bool, upn string) error {
	var u *User
	if approve {
		var err error
		if u, err = id.s.tenant.User(upn); err != nil {
			return fmt.Errorf("m365sim: approve device code as %s: %w", upn, err)
		}
	}
	now := time.Now()
	id.mu.Lock()
	defer id.mu.Unlock()
	key, ok := id.userCodes[normalizeUserCode(userCode)]
	if !ok {
		return ErrNoDeviceCode
	}
	dc := id.codes[key]
	id.refreshStateLocked(dc, now)
	if !now.Before(dc.expires) {
		return ErrDeviceCodeExpired
	}
	if dc.state != dcPending {
		return ErrDeviceCodeUsed
	}
	if approve {
		dc.state, dc.user = dcApproved, u
	} else {
		dc.state = dcDeclined
	}
	return nil
}

// ApproveDeviceCode signs in upn for the device code with this user code,
// as a person would on the /devicelogin page.
func (s *Server) ApproveDeviceCode(userCode, upn string) error {
	return s.idp.decideDeviceCode(userCode, true, upn)
}

// DeclineDeviceCode declines the sign-in for this user code; the polling
// client gets authorization_declined.
func (s *Server) DeclineDeviceCode(userCode string) error {
	return s.idp.decideDeviceCode(userCode, false, "")
}

// PendingDeviceCodes returns the user codes still waiting for a person to
// approve or decline them, oldest first.
func (s *Server) PendingDeviceCodes() []string {
	id := s.idp
	now := time.Now()
	id.mu.Lock()
	defer id.mu.Unlock()
	var pending []*deviceCode
	for _, dc := range id.codes {
		id.refreshStateLocked(dc, now)
		if dc.state == dcPending && now.Before(dc.expires) {
			pending = append(pending, dc)
		}
	}
	sort.Slice(pending, func(i, j int) bool { return pending[i].created.Before(pending[j].created) })
	out := make([]string, len(pending))
	for i, dc := range pending {
		out[i] = dc.userCode
	}
	return out
}

// ---- token endpoint ----

func (id *identity) handleToken(w http.ResponseWriter, r *http.Request) {
	// A confidential client (an app registration with a certificate) asks
	// with its own client ID, not the public client's (clientcreds.go).
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	}
	if r.Method == http.MethodPost && r.PostFormValue("grant_type") == "client_credentials" {
		if e := id.readForm(w, r); e != nil {
			id.writeError(w, r, e)
			return
		}
		id.clientCredentialsGrant(w, r)
		return
	}
	if !id.acceptClientRequest(w, r) {
		return
	}
	var (
		resp map[string]any
		e    *oauthError
	)
	switch gt := r.PostForm.Get("grant_type"); gt {
	case "urn:ietf:params:oauth:grant-type:device_code", "device_code":
		// RFC 8628 names the grant with the URN; MSAL Go sends the short
		// name, which Entra ID accepts too.
		resp, e = id.deviceCodeGrant(r)
	case "refresh_token":
		resp, e = id.refreshGrant(r)
	case "":
		e = &oauthError{status: http.StatusBadRequest, code: "invalid_request", aadsts: 900144,
			desc: "The request body must contain the following parameter: 'grant_type'."}
	default:
		e = &oauthError{status: http.StatusBadRequest, code: "unsupported_grant_type", aadsts: 70003,
			desc: fmt.Sprintf("The app requested an unsupported grant type '%s'.", gt)}
	}
	if e != nil {
		id.writeError(w, r, e)
		return
	}
	writeIdentityJSON(w, http.StatusOK, resp)
}

func (id *identity) deviceCodeGrant(r *http.Request) (map[string]any, *oauthError) {
	device := r.PostForm.Get("device_code")
	if device == "" {
		return nil, &oauthError{status: http.StatusBadRequest, code: "invalid_request", aadsts: 900144,
			desc: "The request body must contain the following parameter: 'device_code'."}
	}
	now := time.Now()
	id.mu.Lock()
	dc, ok := id.codes[digest(device)]
	if !ok || dc.clientID != r.PostForm.Get("client_id") {
		id.mu.Unlock()
		return nil, &oauthError{status: http.StatusBadRequest, code: "bad_verification_code", aadsts: 70018,
			desc: "The provided value for the input parameter 'device_code' is not valid."}
	}
	id.refreshStateLocked(dc, now)
	state := dc.state
	if state == dcRedeemed {
		id.mu.Unlock()
		return nil, &oauthError{status: http.StatusBadRequest, code: "invalid_grant", aadsts: 54005,
			desc: "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token."}
	}
	if !now.Before(dc.expires) {
		id.mu.Unlock()
		return nil, &oauthError{status: http.StatusBadRequest, code: "expired_token", aadsts: 70019,
			desc: "Verification code expired."}
	}
	switch state {
	case dcPending:
		id.mu.Unlock()
		return nil, &oauthError{status: http.StatusBadRequest, code: "authorization_pending", aadsts: 70016,
			desc: "OAuth 2.0 device flow error. Authorization is pending. Continue polling."}
	case dcDeclined:
		id.mu.Unlock()
		return nil, &oauthError{status: http.StatusBadRequest, code: "authorization_declined", aadsts: 70000,
			desc: "The user declined to authorize the request."}
	}
	dc.state = dcRedeemed // approved codes are single-use
	user, scopes := dc.user, dc.scopes
	resp, err := id.issueLocked(now, user, dc.clientID, scopes, scopes.graph, now, r.PostForm.Get("client_info") == "1")
	id.mu.Unlock()
	if err != nil {
		return nil, &oauthError{status: http.StatusInternalServerError, code: "temporarily_unavailable", aadsts: 50000,
			desc: "There was an error issuing a token."}
	}
	return resp, nil
}

func (id *identity) refreshGrant(r *http.Request) (map[string]any, *oauthError) {
	rtSecret := r.PostForm.Get("refresh_token")
	if rtSecret == "" {
		return nil, &oauthError{status: http.StatusBadRequest, code: "invalid_request", aadsts: 900144,
			desc: "The request body must contain the following parameter: 'refresh_token'."}
	}
	// scope is optional when refreshing (v2-oauth2-auth-code-flow.md,
	// "Refresh the access token"); without it the new token carries what
	// was consented, as below when only OpenID scopes are asked for.
	var scopes scopeSet
	if param := r.PostForm.Get("scope"); strings.TrimSpace(param) != "" {
		var e *oauthError
		if scopes, e = id.parseScopes(param); e != nil {
			return nil, e
		}
	}
	now := time.Now()
	id.mu.Lock()
	defer id.mu.Unlock()
	rt, ok := id.refresh[digest(rtSecret)]
	switch {
	case !ok:
		return nil, &oauthError{status: http.StatusBadRequest, code: "invalid_grant", aadsts: 9002313,
			desc: "Invalid request. Request is malformed or invalid."}
	case rt.clientID != r.PostForm.Get("client_id"):
		return nil, &oauthError{status: http.StatusBadRequest, code: "invalid_grant", aadsts: 70000,
			desc: "Provided grant is invalid or malformed."}
	case !rt.revokedAt.IsZero():
		return nil, &oauthError{status: http.StatusBadRequest, code: "invalid_grant", aadsts: 50173, suberror: "bad_token",
			desc: fmt.Sprintf("The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password. The grant was issued on '%s' and the TokensValidFrom date (before which tokens are not valid) for this user is '%s'.",
				aadTime(rt.grantIssued), aadTime(rt.revokedAt))}
	case !now.Before(rt.expires):
		return nil, &oauthError{status: http.StatusBadRequest, code: "invalid_grant", aadsts: 700082, suberror: "bad_token",
			desc: fmt.Sprintf("The refresh token has expired due to inactivity. The token was issued on %s and was inactive for %s.",
				aadTime(rt.expires.Add(-id.s.opts.RefreshTokenLifetime)), id.s.opts.RefreshTokenLifetime)}
	case rt.mfaRequired:
		return nil, &oauthError{status: http.StatusBadRequest, code: "invalid_grant", aadsts: 50076, suberror: "basic_action",
			desc: fmt.Sprintf("Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access '%s'.", graphAppID)}
	}
	if _, err := id.s.tenant.User(rt.user.ID); err != nil {
		return nil, &oauthError{status: http.StatusBadRequest, code: "invalid_grant", aadsts: 50034,
			desc: fmt.Sprintf("The user account {EUII Hidden} does not exist in the %s directory. To sign into this application, the account must be added to the directory.", id.s.tenant.ID)}
	}
	for _, p := range scopes.graph {
		if !containsFold(rt.consented, p) {
			return nil, &oauthError{status: http.StatusBadRequest, code: "invalid_grant", aadsts: 65001, suberror: "consent_required",
				desc: fmt.Sprintf("The user or administrator has not consented to use the application with ID '%s' named '%s'. Send an interactive authorization request for this user and resource.", rt.clientID, appDisplayName)}
		}
	}
	if len(scopes.graph) == 0 {
		// Only OpenID scopes were asked for: the access token carries what
		// was consented.
		scopes.graph = append([]string(nil), rt.consented...)
		scopes.echo = append([]string(nil), rt.consented...)
	}
	// Refresh tokens rotate: the answer carries a new one. As with Entra ID,
	// the one just used stays valid until it expires or is revoked.
	scopes.offline = true
	resp, err := id.issueLocked(now, rt.user, rt.clientID, scopes, rt.consented, rt.grantIssued, r.PostForm.Get("client_info") == "1")
	if err != nil {
		return nil, &oauthError{status: http.StatusInternalServerError, code: "temporarily_unavailable", aadsts: 50000,
			desc: "There was an error issuing a token."}
	}
	return resp, nil
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// aadTime formats a time as Entra ID's error messages do.
func aadTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.0000000Z") }

// issueLocked mints an access token, and a refresh token and ID token when
// the scopes ask for them, and returns the token response.
func (id *identity) issueLocked(now time.Time, u *User, clientID string, scopes scopeSet, consented []string, grantIssued time.Time, clientInfo bool) (map[string]any, error) {
	id.sweepLocked(now)
	life := id.s.opts.AccessTokenLifetime
	at, err := id.accessTokenJWT(now, now.Add(life), u, clientID, scopes.graph)
	if err != nil {
		return nil, err
	}
	id.access[digest(at)] = &accessToken{user: u, clientID: clientID, scopes: append([]string(nil), scopes.graph...), expires: now.Add(life)}
	expiresIn := int(life / time.Second)
	if expiresIn < 1 {
		expiresIn = 1
	}
	resp := map[string]any{
		"token_type":     "Bearer",
		"scope":          scopes.String(),
		"expires_in":     expiresIn,
		"ext_expires_in": expiresIn,
		"access_token":   at,
	}
	if scopes.offline {
		rt := randomToken(64)
		id.refresh[digest(rt)] = &refreshToken{
			user: u, clientID: clientID, consented: append([]string(nil), consented...),
			grantIssued: grantIssued, expires: now.Add(id.s.opts.RefreshTokenLifetime),
		}
		resp["refresh_token"] = rt
	}
	if scopes.openid {
		tok, err := id.idToken(now, u, clientID)
		if err != nil {
			return nil, err
		}
		resp["id_token"] = tok
	}
	if clientInfo {
		ci, _ := json.Marshal(map[string]string{"uid": u.ID, "utid": id.s.tenant.ID})
		resp["client_info"] = base64.RawURLEncoding.EncodeToString(ci)
	}
	return resp, nil
}

// idToken is an RS256-signed OpenID Connect ID token, v2.0 claims.
func (id *identity) idToken(now time.Time, u *User, clientID string) (string, error) {
	key, kid, err := id.signingKey()
	if err != nil {
		return "", err
	}
	// sub is pairwise: the same user has a different subject per app.
	subSum := sha256.Sum256([]byte(clientID + "|" + u.ID))
	claims := map[string]any{
		"aud":                clientID,
		"iss":                id.issuer(),
		"iat":                now.Unix(),
		"nbf":                now.Unix(),
		"exp":                now.Add(time.Hour).Unix(),
		"name":               u.DisplayName,
		"oid":                u.ID,
		"preferred_username": u.UPN,
		"rh":                 "0.A" + randomToken(12) + ".",
		"sub":                base64.RawURLEncoding.EncodeToString(subSum[:]),
		"tid":                id.s.tenant.ID,
		"uti":                randomToken(16),
		"ver":                "2.0",
	}
	return signJWT(key, kid, claims)
}

// signJWT is an RS256 JSON Web Token of claims, as the identity platform
// signs its tokens.
func signJWT(key *rsa.PrivateKey, kid string, claims map[string]any) (string, error) {
	b64 := base64.RawURLEncoding.EncodeToString
	hdr, _ := json.Marshal(map[string]string{"typ": "JWT", "alg": "RS256", "kid": kid})
	body, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	signing := b64(hdr) + "." + b64(body)
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		return "", err
	}
	return signing + "." + b64(sig), nil
}

// sweepLocked forgets codes and tokens well past their expiry, at most once
// a minute, so a long-running simulator does not grow without bound.
func (id *identity) sweepLocked(now time.Time) {
	if now.Before(id.nextSweep) {
		return
	}
	id.nextSweep = now.Add(time.Minute)
	cutoff := now.Add(-keepExpired)
	for k, dc := range id.codes {
		if dc.expires.Before(cutoff) {
			delete(id.userCodes, dc.userCode)
			delete(id.codes, k)
		}
	}
	for k, at := range id.access {
		if at.expires.Before(cutoff) {
			delete(id.access, k)
		}
	}
	for k, rt := range id.refresh {
		if rt.expires.Before(cutoff) {
			delete(id.refresh, k)
		}
	}
	for k, exp := range id.csrf {
		if exp.Before(now) {
			delete(id.csrf, k)
		}
	}
}

// ---- access tokens ----

// tokenError is why Graph rejects a bearer token, worded as Graph words it
// in the 401 InvalidAuthenticationToken message.
type tokenError string

func (e tokenError) Error() string { return string(e) }

const (
	errTokenMalformed tokenError = "CompactToken parsing failed with error code: 80049217"
	errTokenAudience  tokenError = "Access token validation failure. Invalid audience."
	errTokenExpired   tokenError = "Lifetime validation failed, the token is expired."
)

func (id *identity) authenticate(token string) (*Session, error) {
	now := time.Now()
	id.mu.Lock()
	defer id.mu.Unlock()
	at, ok := id.access[digest(token)]
	if !ok {
		if strings.Contains(token, ".") {
			return nil, errTokenAudience
		}
		return nil, errTokenMalformed
	}
	if at.revoked || !now.Before(at.expires) {
		return nil, errTokenExpired
	}
	return &Session{User: at.user, ClientID: at.clientID, Scopes: append([]string(nil), at.scopes...), Expires: at.expires,
		App: at.app, Roles: append([]string(nil), at.roles...)}, nil
}

// IssueAccessToken mints an access token for upn without a sign-in, for tests about Graph rather than sign-in.
// It carries the application's consented permissions and lives AccessTokenLifetime.
func (s *Server) IssueAccessToken(upn string) (string, time.Time, error) {
	u, err := s.tenant.User(upn)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("m365sim: issue access token for %s: %w", upn, err)
	}
	id := s.idp
	now := time.Now()
	tok := randomToken(48)
	exp := now.Add(s.opts.AccessTokenLifetime)
	id.mu.Lock()
	id.sweepLocked(now)
	id.access[digest(tok)] = &accessToken{user: u, clientID: s.opts.ClientID, scopes: append([]string(nil), s.consentedPermissions()...), expires: exp}
	id.mu.Unlock()
	return tok, exp, nil
}

// ExpireAccessTokens makes every outstanding access token of upn stop
// working before its time, as when Entra ID ends a session early: Graph
// answers 401 InvalidAuthenticationToken and the client must refresh. It
// returns how many tokens it expired.
func (s *Server) ExpireAccessTokens(upn string) int {
	u, err := s.tenant.User(upn)
	if err != nil {
		return 0
	}
	now := time.Now()
	id := s.idp
	id.mu.Lock()
	defer id.mu.Unlock()
	n := 0
	for _, at := range id.access {
		if at.user == u && !at.revoked && now.Before(at.expires) {
			at.revoked = true
			n++
		}
	}
	return n
}

// RevokeRefreshTokens revokes every refresh token of upn, as a password
// reset or an administrator's "revoke sessions" does: the next refresh
// answers invalid_grant (AADSTS50173) and the user must sign in again.
// Access tokens already issued keep working until they expire, as with
// Entra ID. It returns how many refresh tokens it revoked.
func (s *Server) RevokeRefreshTokens(upn string) int {
	u, err := s.tenant.User(upn)
	if err != nil {
		return 0
	}
	now := time.Now()
	id := s.idp
	id.mu.Lock()
	defer id.mu.Unlock()
	n := 0
	for _, rt := range id.refresh {
		if rt.user == u && rt.revokedAt.IsZero() && now.Before(rt.expires) {
			rt.revokedAt = now
			n++
		}
	}
	return n
}

// RequireMFA makes the refresh tokens upn holds now insufficient, as when
// a Conditional Access policy starts to require multi-factor
// authentication: the next refresh answers invalid_grant with AADSTS50076
// (suberror basic_action) and the user must sign in again. Sign-ins after
// the call are unaffected.
func (s *Server) RequireMFA(upn string) {
	u, err := s.tenant.User(upn)
	if err != nil {
		return
	}
	id := s.idp
	id.mu.Lock()
	defer id.mu.Unlock()
	for _, rt := range id.refresh {
		if rt.user == u {
			rt.mfaRequired = true
		}
	}
}

// ---- the sign-in page ----

type loginUser struct {
	UPN, Name string
	Selected  bool
}

type loginPage struct {
	Tenant  string
	CSRF    string
	Code    string
	Users   []loginUser
	Error   string
	Done    bool
	Heading string
	Message string
}

var deviceLoginTemplate = template.Must(template.New("devicelogin").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in – Lifeboat simulated Microsoft 365</title>
<style>
  :root { color-scheme: light; }
  body { margin: 0; min-height: 100vh; display: flex; align-items: center; justify-content: center;
         background: #eef1f5; font: 16px/1.5 "Segoe UI", system-ui, -apple-system, sans-serif; color: #1b1b1b; }
  main { background: #fff; width: 100%; max-width: 440px; padding: 44px; box-sizing: border-box;
         box-shadow: 0 2px 6px rgba(0,0,0,.2); }
  .brand { margin: 0 0 16px; font-size: 15px; font-weight: 600; color: #505050; }
  h1 { margin: 0 0 12px; font-size: 24px; font-weight: 600; }
  p { margin: 0 0 16px; }
  label { display: block; margin: 16px 0 4px; font-size: 14px; font-weight: 600; }
  input, select { width: 100%; box-sizing: border-box; padding: 8px 4px; font: inherit; border: 0;
                  border-bottom: 1px solid #666; background: transparent; }
  input#code { font-size: 22px; letter-spacing: .15em; text-transform: uppercase; }
  input:focus, select:focus { outline: none; border-bottom: 2px solid #0067b8; }
  .buttons { display: flex; flex-direction: row-reverse; gap: 8px; margin-top: 28px; }
  button { min-width: 108px; padding: 6px 12px; font: inherit; border: 1px solid transparent; cursor: pointer; }
  .primary { background: #0067b8; color: #fff; }
  .primary:hover { background: #005da6; }
  .secondary { background: #ccc; color: #000; }
  .secondary:hover { background: #bbb; }
  .error { color: #e81123; }
  .note { margin: 28px 0 0; font-size: 13px; color: #605e5c; }
</style>
</head>
<body>
<main>
<p class="brand">Lifeboat · simulated Microsoft 365{{with .Tenant}} · {{.}}{{end}}</p>
{{- if .Done}}
<h1>{{.Heading}}</h1>
<p>{{.Message}}</p>
{{- else}}
<h1>Enter code</h1>
<p>Enter the code displayed on your device to let Lifeboat back up your mail and files.</p>
{{- with .Error}}
<p class="error" role="alert">{{.}}</p>
{{- end}}
<form method="post" action="/devicelogin" autocomplete="off">
<input type="hidden" name="csrf" value="{{.CSRF}}">
<label for="code">Code</label>
<input id="code" name="code" value="{{.Code}}" maxlength="20" spellcheck="false" autocapitalize="characters" required autofocus>
<label for="user">Sign in as</label>
<select id="user" name="user">
{{- range .Users}}
<option value="{{.UPN}}"{{if .Selected}} selected{{end}}>{{.Name}} ({{.UPN}})</option>
{{- end}}
</select>
<div class="buttons">
<button type="submit" name="action" value="signin" class="primary">Sign in</button>
<button type="submit" name="action" value="decline" class="secondary">Decline</button>
</div>
</form>
<p class="note">This is a simulated Microsoft 365 tenant on this computer: no password is needed, and nothing you do here reaches Microsoft.</p>
{{- end}}
</main>
</body>
</html>
`))

func (id *identity) handleDeviceLogin(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		id.renderLogin(w, http.StatusOK, r.URL.Query().Get("code"), "", "")
	case http.MethodPost:
		id.postLogin(w, r)
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

func setPageHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
}

// renderLogin shows the code form with a fresh CSRF token, bound to a
// cookie of the same value and usable once.
func (id *identity) renderLogin(w http.ResponseWriter, status int, code, user, message string) {
	token := randomToken(32)
	now := time.Now()
	id.mu.Lock()
	id.sweepLocked(now)
	id.csrf[digest(token)] = now.Add(csrfLifetime)
	id.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: token, Path: "/devicelogin", MaxAge: int(csrfLifetime / time.Second),
		HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode})

	page := loginPage{Tenant: id.s.tenant.Name, CSRF: token, Code: code, Error: message}
	if user == "" && id.autoUser != nil {
		user = id.autoUser.UPN
	}
	for i, u := range id.s.tenant.Users() {
		sel := strings.EqualFold(u.UPN, user) || user == "" && i == 0
		page.Users = append(page.Users, loginUser{UPN: u.UPN, Name: u.DisplayName, Selected: sel})
	}
	setPageHeaders(w)
	w.WriteHeader(status)
	_ = deviceLoginTemplate.Execute(w, page)
}

func (id *identity) renderResult(w http.ResponseWriter, status int, heading, message string) {
	setPageHeaders(w)
	w.WriteHeader(status)
	_ = deviceLoginTemplate.Execute(w, loginPage{Tenant: id.s.tenant.Name, Done: true, Heading: heading, Message: message})
}

func (id *identity) postLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		id.renderResult(w, http.StatusBadRequest, "Something went wrong", "The form could not be read. Reload the page and try again.")
		return
	}
	if !id.checkCSRF(r) {
		// Expire the cookie: a fresh page load sets a new one.
		http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: "", Path: "/devicelogin", MaxAge: -1, HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode})
		id.renderResult(w, http.StatusForbidden, "This page has expired", "Reload the sign-in page and enter your code again.")
		return
	}
	code, user := r.PostForm.Get("code"), r.PostForm.Get("user")
	var err error
	switch r.PostForm.Get("action") {
	case "signin":
		err = id.decideDeviceCode(code, true, user)
		if err == nil {
			id.renderResult(w, http.StatusOK, appDisplayName, "You have signed in to "+appDisplayName+" on your device. You may now close this window.")
			return
		}
	case "decline":
		err = id.decideDeviceCode(code, false, "")
		if err == nil {
			id.renderResult(w, http.StatusOK, appDisplayName, "You declined to sign in to "+appDisplayName+" on your device. You may now close this window.")
			return
		}
	default:
		id.renderLogin(w, http.StatusBadRequest, code, user, "Choose Sign in or Decline.")
		return
	}
	switch {
	case errors.Is(err, ErrNoDeviceCode):
		id.renderLogin(w, http.StatusNotFound, code, user, "That code didn't work. Check the code and try again.")
	case errors.Is(err, ErrDeviceCodeExpired):
		id.renderLogin(w, http.StatusGone, "", user, "That code has expired. Go back to your device to get a new code.")
	case errors.Is(err, ErrDeviceCodeUsed):
		id.renderLogin(w, http.StatusConflict, "", user, "That code has already been used. Go back to your device to get a new code.")
	case errors.Is(err, ErrNoUser):
		id.renderLogin(w, http.StatusBadRequest, code, "", "Choose a user from the list.")
	default:
		id.renderLogin(w, http.StatusInternalServerError, code, user, "Something went wrong. Try again.")
	}
}

// checkCSRF requires the form's token to equal the page cookie and to be
// one this server issued and has not seen used; each token works once.
func (id *identity) checkCSRF(r *http.Request) bool {
	form := r.PostForm.Get("csrf")
	c, err := r.Cookie(csrfCookie)
	if form == "" || err != nil || subtle.ConstantTimeCompare([]byte(form), []byte(c.Value)) != 1 {
		return false
	}
	now := time.Now()
	id.mu.Lock()
	defer id.mu.Unlock()
	exp, ok := id.csrf[digest(form)]
	delete(id.csrf, digest(form))
	return ok && now.Before(exp)
}
