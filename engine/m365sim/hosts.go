package m365sim

// Microsoft host mode: the simulator answers under Microsoft's own host
// names (login.microsoftonline.com, graph.microsoft.com, the tenant's
// -my.sharepoint.com download host, microsoft.com/devicelogin) with a
// certificate for them from its own CA, so that clients nobody here wrote
// — rclone, CLI for Microsoft 365, MSAL with instance discovery on — reach
// it unmodified. The caller makes those names resolve to the listener in a
// private hosts file (see engine/m365sim/oracle); nothing here touches the
// machine's name resolution.

import (
	"net"
	"strings"
)

// Microsoft's host names that MicrosoftHosts mode serves.
const (
	// LoginHost is the identity platform's public-cloud host.
	LoginHost = "login.microsoftonline.com"
	// GraphHost is Microsoft Graph's public-cloud host.
	GraphHost = "graph.microsoft.com"
	// DeviceLoginHost is where the device code flow's verification_uri
	// points (https://microsoft.com/devicelogin).
	DeviceLoginHost = "microsoft.com"
	// OutlookHost is where a message's webLink points.
	OutlookHost = "outlook.office365.com"
)

// origins are the scheme://host[:port] each part of the service is
// published under. On loopback they are all the listener's address.
type origins struct {
	login   string // identity platform
	graph   string // Graph, without /v1.0
	files   string // pre-authenticated download and upload URLs
	page    string // the device code sign-in page
	outlook string // webLink
}

func loopbackOrigins(base string) origins {
	return origins{login: base, graph: base, files: base, page: base, outlook: base}
}

// microsoftOrigins names Microsoft's hosts, with the listener's port when
// it is not 443 (clients that resolve the names to the listener must then
// use the port too).
func microsoftOrigins(t *Tenant, port string) origins {
	suffix := ""
	if port != "443" {
		suffix = ":" + port
	}
	o := func(host string) string { return "https://" + host + suffix }
	return origins{
		login:   o(LoginHost),
		graph:   o(GraphHost),
		files:   o(t.filesHost()),
		page:    o(DeviceLoginHost),
		outlook: o(OutlookHost),
	}
}

// filesHost is the tenant's OneDrive host, <prefix>-my.sharepoint.com,
// where Microsoft's download URLs point.
func (t *Tenant) filesHost() string {
	prefix, _, _ := strings.Cut(strings.ToLower(t.Domain), ".")
	return prefix + "-my.sharepoint.com"
}

// MicrosoftHostNames are the DNS names a MicrosoftHosts server answers
// under; its certificate covers them, and a client's hosts file must map
// each to the listener.
func (s *Server) MicrosoftHostNames() []string {
	return microsoftHostNames(s.tenant)
}

func microsoftHostNames(t *Tenant) []string {
	return []string{LoginHost, GraphHost, t.filesHost(), DeviceLoginHost, "www." + DeviceLoginHost, OutlookHost}
}

// ListenAddr is the listener's host:port, for a hosts file or a dialer.
func (s *Server) ListenAddr() string { return s.ln.Addr().String() }

// HostsFile is an /etc/hosts for a client of a MicrosoftHosts server:
// localhost, and every Microsoft host name mapped to the listener's IP.
func (s *Server) HostsFile() []byte {
	ip, _, _ := net.SplitHostPort(s.ListenAddr())
	var b strings.Builder
	b.WriteString("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n")
	for _, h := range s.MicrosoftHostNames() {
		b.WriteString(ip + "\t" + h + "\n")
	}
	return []byte(b.String())
}
