package m365sim

import (
	"net/http"
	"net/url"
	"strings"
)

// handleInstanceDiscovery answers MSAL's instance discovery:
// GET /common/discovery/instance?api-version=1.1&authorization_endpoint=…
// with the tenant discovery endpoint (the authority's OpenID
// configuration) and the cloud's host aliases, or invalid_instance
// (AADSTS50049) for an authority on a host this cloud does not know.
// https://learn.microsoft.com/entra/msal/dotnet/advanced/custom-authority-aliases
// documents the call and the error; the aliases are the public cloud's, as
// MSAL ships them for offline use (msal-common AuthorityMetadata).
func (id *identity) handleInstanceDiscovery(w http.ResponseWriter, r *http.Request) {
	ep, err := url.Parse(r.URL.Query().Get("authorization_endpoint"))
	loginHost := strings.TrimPrefix(id.s.orig.login, "https://")
	if err != nil || ep.Scheme != "https" || !strings.EqualFold(ep.Host, loginHost) && !id.isAlias(ep.Host) {
		id.writeError(w, r, &oauthError{status: http.StatusBadRequest, code: "invalid_instance", aadsts: 50049,
			desc: "Unknown or invalid instance."})
		return
	}
	tenant, _, _ := strings.Cut(strings.TrimPrefix(ep.Path, "/"), "/")
	if tenant == "" {
		tenant = "common"
	}
	writeIdentityJSON(w, http.StatusOK, map[string]any{
		"tenant_discovery_endpoint": id.s.orig.login + "/" + tenant + "/v2.0/.well-known/openid-configuration",
		"api-version":               "1.1",
		"metadata": []map[string]any{{
			"preferred_network": loginHost,
			"preferred_cache":   id.preferredCache(loginHost),
			"aliases":           id.aliases(loginHost),
		}},
	})
}

// publicCloudAliases are the public cloud's sign-in host names; a token
// from one is good for all.
var publicCloudAliases = []string{LoginHost, "login.windows.net", "login.microsoft.com", "sts.windows.net"}

func (id *identity) aliases(loginHost string) []string {
	if id.s.opts.MicrosoftHosts && loginHost == LoginHost {
		return publicCloudAliases
	}
	return []string{loginHost}
}

func (id *identity) preferredCache(loginHost string) string {
	if id.s.opts.MicrosoftHosts && loginHost == LoginHost {
		return "login.windows.net"
	}
	return loginHost
}

func (id *identity) isAlias(host string) bool {
	for _, a := range id.aliases(strings.TrimPrefix(id.s.orig.login, "https://")) {
		if strings.EqualFold(a, host) {
			return true
		}
	}
	return false
}
