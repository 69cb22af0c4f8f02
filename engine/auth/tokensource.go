package auth

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/microsoft/kiota-abstractions-go/authentication"
)

// TokenSource hands out access tokens for one account, getting them
// silently and letting MSAL refresh them. It is an azcore.TokenCredential
// and a kiota AccessTokenProvider, so msgraph-sdk-go can use it either way
// (see AuthenticationProvider).
type TokenSource struct {
	m       *Manager
	account string
	hosts   *authentication.AllowedHostsValidator

	mu       sync.Mutex
	resolved *Account // the account, once found in the cache
}

// TokenSource returns a token source for the account (home account ID or
// UPN). As a kiota provider it gives tokens only to https URLs on
// graphHosts (default graph.microsoft.com); pass the Graph host of a tenant
// profile for another endpoint (a host name, without scheme). The account
// is not looked up until a token is asked for.
func (m *Manager) TokenSource(account string, graphHosts ...string) (*TokenSource, error) {
	if len(graphHosts) == 0 {
		graphHosts = []string{"graph.microsoft.com"}
	}
	hosts, err := authentication.NewAllowedHostsValidatorErrorCheck(graphHosts)
	if err != nil {
		return nil, fmt.Errorf("auth: Graph hosts %v: %w", graphHosts, err)
	}
	return &TokenSource{m: m, account: account, hosts: hosts}, nil
}

// Token gets an access token; see Manager.Token.
func (s *TokenSource) Token(ctx context.Context) (Token, error) {
	return s.token(ctx, "")
}

// token looks the account up once, then asks MSAL for a token each time
// (MSAL answers from its cache or refreshes). An account signed out since
// then gets ErrSignInRequired from MSAL itself.
func (s *TokenSource) token(ctx context.Context, claims string) (Token, error) {
	s.mu.Lock()
	resolved := s.resolved
	s.mu.Unlock()
	if resolved == nil {
		a, err := s.m.account(ctx, s.account, false)
		if err != nil {
			return Token{}, err
		}
		s.mu.Lock()
		s.resolved = &a
		s.mu.Unlock()
		resolved = &a
	}
	return s.m.silent(ctx, *resolved, claims)
}

var (
	_ azcore.TokenCredential             = (*TokenSource)(nil)
	_ authentication.AccessTokenProvider = (*TokenSource)(nil)
)

// GetToken implements azcore.TokenCredential. The token always carries the
// scopes the account signed in with; opts.Scopes (e.g. Graph's /.default)
// are not used, because a delegated token for other scopes would need
// another consent. opts.Claims (a claims challenge) makes MSAL skip its
// cached token and refresh.
func (s *TokenSource) GetToken(ctx context.Context, opts policy.TokenRequestOptions) (azcore.AccessToken, error) {
	t, err := s.token(ctx, opts.Claims)
	if err != nil {
		return azcore.AccessToken{}, err
	}
	return azcore.AccessToken{Token: t.AccessToken, ExpiresOn: t.ExpiresOn}, nil
}

// GetAuthorizationToken implements kiota's AccessTokenProvider: a token for
// an allowed https host, nothing for other hosts (e.g. a download URL that
// must not see it).
func (s *TokenSource) GetAuthorizationToken(ctx context.Context, u *url.URL, extra map[string]any) (string, error) {
	if u == nil || !s.hosts.IsUrlHostValid(u) {
		return "", nil
	}
	if !strings.EqualFold(u.Scheme, "https") {
		return "", errors.New("auth: refusing to send a token over plain http")
	}
	claims := ""
	if c, ok := extra["claims"].(string); ok && c != "" {
		// Kiota passes the WWW-Authenticate claims challenge base64-encoded.
		if b, err := base64.StdEncoding.DecodeString(c); err == nil {
			claims = string(b)
		} else {
			claims = c
		}
	}
	t, err := s.token(ctx, claims)
	if err != nil {
		return "", fmt.Errorf("auth: %w", err)
	}
	return t.AccessToken, nil
}

// GetAllowedHostsValidator implements kiota's AccessTokenProvider.
func (s *TokenSource) GetAllowedHostsValidator() *authentication.AllowedHostsValidator {
	return s.hosts
}

// AuthenticationProvider is the kiota authentication provider for
// msgraph-sdk-go's request adapter.
func (s *TokenSource) AuthenticationProvider() authentication.AuthenticationProvider {
	return authentication.NewBaseBearerTokenAuthenticationProvider(s)
}
