package oracle

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
)

// Env is a simulator serving Microsoft's host names inside an isolated
// test, and what a client process needs to reach it.
type Env struct {
	Server *m365sim.Server
	// CAFile is the simulator's CA certificate (PEM), for SSL_CERT_FILE
	// (Go, OpenSSL) or NODE_EXTRA_CA_CERTS (Node.js).
	CAFile string
	// Home is an empty home folder for the client's configuration.
	Home string
}

// Start serves tenant under Microsoft's host names on 127.0.0.1:443 of the
// private network and points this mount namespace's /etc/hosts at it. Call
// it only in the child of Isolated.
func Start(t *testing.T, tenant *m365sim.Tenant, opts m365sim.Options) *Env {
	t.Helper()
	opts.MicrosoftHosts = true
	if opts.Listen == "" {
		opts.Listen = "127.0.0.1:443"
	}
	srv, err := m365sim.NewServer(tenant, opts)
	if err != nil {
		t.Fatalf("start simulator: %v", err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	bindOver(t, writeFile(t, "hosts", srv.HostsFile()), "/etc/hosts")
	home := t.TempDir()
	return &Env{Server: srv, CAFile: writeFile(t, "ca.pem", srv.CACertPEM()), Home: home}
}

// Command is a client process with a clean environment: its own HOME and
// temporary folder, the simulator's CA trusted, no proxy.
func (e *Env) Command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	tmp := filepath.Join(e.Home, "tmp")
	_ = os.MkdirAll(tmp, 0o700)
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + e.Home,
		"TMPDIR=" + tmp,
		"XDG_CONFIG_HOME=" + filepath.Join(e.Home, ".config"),
		"XDG_CACHE_HOME=" + filepath.Join(e.Home, ".cache"),
		"SSL_CERT_FILE=" + e.CAFile,
		"NODE_EXTRA_CA_CERTS=" + e.CAFile,
		"LANG=C.UTF-8",
	}
	cmd.Dir = e.Home
	return cmd
}

// LogRequests writes what the client asked the simulator, one line per
// request, into the test log: the record of what a third-party client
// relies on.
func (e *Env) LogRequests(t *testing.T) {
	t.Helper()
	var b []byte
	for _, r := range e.Server.Requests().Entries() {
		b = append(b, fmt.Sprintf("%s %s -> %d\n", r.Method, r.Path, r.Status)...)
	}
	t.Logf("requests:\n%s", b)
}
