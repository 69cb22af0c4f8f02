package auth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"crypto/x509"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
	"github.com/microsoft/kiota-abstractions-go/authentication"
)

// GraphDefaultScope asks for every application permission granted to the
// app (the client credentials grant takes no individual scopes).
const GraphDefaultScope = "https://graph.microsoft.com/.default"

// AppTokenConfig configures an AppTokenSource.
type AppTokenConfig struct {
	// Authority is the sign-in authority as for Config (e.g.
	// https://login.microsoftonline.com/organizations); the credential's
	// tenant replaces its last path segment, since the client credentials
	// grant needs the tenant's own authority.
	Authority  string
	HTTPClient *http.Client
	Credential AppCredential
	// GraphHosts get tokens as a kiota provider (default graph.microsoft.com).
	GraphHosts []string
	// Scope defaults to GraphDefaultScope; a simulated tenant may name its
	// own resource.
	Scope  string
	Logger *slog.Logger
	Now    func() time.Time
}

// AppToken is an app-only access token. String and LogValue leave the token
// out.
type AppToken struct {
	AccessToken string
	ExpiresOn   time.Time
	// Roles are the application permissions the token carries (its roles
	// claim), read without checking the signature: Lifeboat only uses them
	// to know whether a just-granted permission has reached the token.
	Roles     []string
	FromCache bool
}

func (t AppToken) String() string {
	return fmt.Sprintf("company token with %d permissions, expires %s", len(t.Roles), t.ExpiresOn.Format(time.RFC3339))
}

// LogValue leaves the access token out of logs.
func (t AppToken) LogValue() slog.Value {
	return slog.GroupValue(slog.Int("roles", len(t.Roles)), slog.Time("expires_on", t.ExpiresOn), slog.Bool("from_cache", t.FromCache))
}

// AppTokenSource hands out app-only tokens through MSAL's confidential
// client and the certificate credential. Tokens live in MSAL's in-memory
// cache only: an app-only grant has no refresh token, so nothing about it
// is worth writing to disk. It is an azcore.TokenCredential and a kiota
// AccessTokenProvider like TokenSource, and a graph.TokenInvalidator.
type AppTokenSource struct {
	cfg   AppTokenConfig
	hosts *authentication.AllowedHostsValidator
	log   *slog.Logger

	mu      sync.Mutex
	client  confidential.Client
	cred    AppCredential
	refused string // a token Graph refused (401), not to be handed out again
}

// NewAppTokenSource builds the confidential client; it does not touch the
// network.
func NewAppTokenSource(cfg AppTokenConfig) (*AppTokenSource, error) {
	if len(cfg.GraphHosts) == 0 {
		cfg.GraphHosts = []string{"graph.microsoft.com"}
	}
	if cfg.Scope == "" {
		cfg.Scope = GraphDefaultScope
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Authority == "" {
		cfg.Authority = DefaultAuthority
	}
	hosts, err := authentication.NewAllowedHostsValidatorErrorCheck(cfg.GraphHosts)
	if err != nil {
		return nil, fmt.Errorf("auth: Graph hosts %v: %w", cfg.GraphHosts, err)
	}
	s := &AppTokenSource{cfg: cfg, hosts: hosts, log: cfg.Logger}
	if err := s.SetCredential(cfg.Credential); err != nil {
		return nil, err
	}
	return s, nil
}

// TenantAuthority is authority with its last path segment (organizations,
// common, a tenant) replaced by tenantID.
func TenantAuthority(authority, tenantID string) (string, error) {
	u, err := url.Parse(authority)
	if err != nil || u.Host == "" || u.Scheme != "https" {
		return "", fmt.Errorf("auth: the authority %q must be an https URL", authority)
	}
	if tenantID == "" || strings.ContainsAny(tenantID, "/?#") {
		return "", fmt.Errorf("auth: bad directory ID %q", tenantID)
	}
	p := strings.TrimRight(u.Path, "/")
	if i := strings.LastIndex(p, "/"); i >= 0 {
		p = p[:i]
	}
	u.Path = p + "/" + tenantID
	return u.String(), nil
}

// SetCredential switches to another certificate (after a renewal) or
// registration; the token cache starts empty.
func (s *AppTokenSource) SetCredential(c AppCredential) error {
	if c.AppID == "" || c.TenantID == "" || !c.Current.Valid() {
		return errors.New("auth: the company credential is incomplete (no application, directory or certificate)")
	}
	cred, err := confidential.NewCredFromCert([]*x509.Certificate{c.Current.Cert}, c.Current.PrivateKey())
	if err != nil {
		return fmt.Errorf("auth: certificate credential: %w", err)
	}
	authority, err := TenantAuthority(s.cfg.Authority, c.TenantID)
	if err != nil {
		return err
	}
	u, _ := url.Parse(authority)
	opts := []confidential.Option{confidential.WithInstanceDiscovery(microsoftHost(u.Hostname()))}
	if s.cfg.HTTPClient != nil {
		opts = append(opts, confidential.WithHTTPClient(s.cfg.HTTPClient))
	}
	client, err := confidential.New(authority, c.AppID, cred, opts...)
	if err != nil {
		return fmt.Errorf("auth: %w", err)
	}
	s.mu.Lock()
	s.client, s.cred, s.refused = client, c, ""
	s.mu.Unlock()
	return nil
}

// Credential is the credential in use.
func (s *AppTokenSource) Credential() AppCredential {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cred
}

// Token gets an app-only token, from MSAL's cache when it holds a good one.
// An expired certificate, a removed registration or a key Microsoft no
// longer accepts is an *AdminSignInRequiredError; a registration Microsoft
// does not know (yet) also matches ErrAppNotFound.
func (s *AppTokenSource) Token(ctx context.Context) (AppToken, error) {
	s.mu.Lock()
	client, cred, refused := s.client, s.cred, s.refused
	s.mu.Unlock()
	if now := s.cfg.Now(); now.After(cred.Current.ExpiresOn()) {
		return AppToken{}, &AdminSignInRequiredError{Reason: "its certificate expired on " + cred.Current.ExpiresOn().Local().Format("2 January 2006")}
	}
	scopes := []string{s.cfg.Scope}
	ar, err := client.AcquireTokenByCredential(ctx, scopes)
	if err == nil && refused != "" && ar.AccessToken == refused {
		// Graph refused the cached token: start from an empty cache.
		if err := s.SetCredential(cred); err != nil {
			return AppToken{}, err
		}
		s.mu.Lock()
		client = s.client
		s.mu.Unlock()
		ar, err = client.AcquireTokenByCredential(ctx, scopes)
	}
	if err != nil {
		if ctx.Err() != nil {
			return AppToken{}, fmt.Errorf("get a company token: %w", ctx.Err())
		}
		if e := appTokenError(err); e != nil {
			s.log.Warn("auth: Microsoft refused Lifeboat's company credential", "outcome", outcome(err))
			return AppToken{}, e
		}
		s.log.Debug("auth: company token failed", "outcome", outcome(err))
		return AppToken{}, fmt.Errorf("get a company token: %w", err)
	}
	t := AppToken{AccessToken: ar.AccessToken, ExpiresOn: ar.ExpiresOn, Roles: tokenRoles(ar.AccessToken),
		FromCache: ar.Metadata.TokenSource == confidential.TokenSourceCache}
	s.log.Debug("auth: company token", "token", t)
	return t, nil
}

// appTokenError turns the identity platform's refusal of the credential
// into words for the owner; nil for other errors.
func appTokenError(err error) error {
	oe, ok := oauthErrorOf(err)
	if !ok {
		return nil
	}
	switch {
	case oe.has(700016): // application not found in the directory
		return &AdminSignInRequiredError{Reason: "Lifeboat's registration is not (or no longer) in your company's Microsoft 365", notFound: true, Err: err}
	case oe.has(1000502) || oe.has(7000274):
		return &AdminSignInRequiredError{Reason: "its certificate is outside its validity", Err: err}
	case oe.has(700027) || oe.has(700024) || oe.Code == "invalid_client":
		return &AdminSignInRequiredError{Reason: "Microsoft no longer accepts its certificate", Err: err}
	case oe.has(7000112) || oe.has(7000114): // application disabled
		return &AdminSignInRequiredError{Reason: "Lifeboat was turned off in your company's Microsoft 365", Err: err}
	}
	return nil
}

// tokenRoles reads the roles claim of a JWT access token; nil when the
// token is not a readable JWT.
func tokenRoles(token string) []string {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil
	}
	var claims struct {
		Roles []string `json:"roles"`
	}
	if json.Unmarshal(payload, &claims) != nil {
		return nil
	}
	slices.Sort(claims.Roles)
	return claims.Roles
}

// InvalidateToken implements graph.TokenInvalidator: the token Graph
// refused is not handed out again.
func (s *AppTokenSource) InvalidateToken(token string) {
	s.mu.Lock()
	s.refused = token
	s.mu.Unlock()
}

var (
	_ azcore.TokenCredential             = (*AppTokenSource)(nil)
	_ authentication.AccessTokenProvider = (*AppTokenSource)(nil)
)

// GetToken implements azcore.TokenCredential; the scope is always the
// configured one.
func (s *AppTokenSource) GetToken(ctx context.Context, _ policy.TokenRequestOptions) (azcore.AccessToken, error) {
	t, err := s.Token(ctx)
	if err != nil {
		return azcore.AccessToken{}, err
	}
	return azcore.AccessToken{Token: t.AccessToken, ExpiresOn: t.ExpiresOn}, nil
}

// GetAuthorizationToken implements kiota's AccessTokenProvider: a token for
// an allowed https host, nothing for other hosts.
func (s *AppTokenSource) GetAuthorizationToken(ctx context.Context, u *url.URL, _ map[string]any) (string, error) {
	if u == nil || !s.hosts.IsUrlHostValid(u) {
		return "", nil
	}
	if !strings.EqualFold(u.Scheme, "https") {
		return "", errors.New("auth: refusing to send a token over plain http")
	}
	t, err := s.Token(ctx)
	if err != nil {
		return "", fmt.Errorf("auth: %w", err)
	}
	return t.AccessToken, nil
}

// GetAllowedHostsValidator implements kiota's AccessTokenProvider.
func (s *AppTokenSource) GetAllowedHostsValidator() *authentication.AllowedHostsValidator {
	return s.hosts
}

// AuthenticationProvider is the kiota authentication provider for
// msgraph-sdk-go's request adapter.
func (s *AppTokenSource) AuthenticationProvider() authentication.AuthenticationProvider {
	return authentication.NewBaseBearerTokenAuthenticationProvider(s)
}
