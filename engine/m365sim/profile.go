package m365sim

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
)

// Profile is how every other command finds a tenant: the sign-in authority,
// the Graph base URL, the client ID and the CA certificate to trust. A
// profile from `lifeboat sim serve` also carries the control API address and
// its secret, so it is written with 0600 permissions.
type Profile struct {
	Name         string `json:"name"`
	Authority    string `json:"authority"`
	GraphURL     string `json:"graphURL"`
	ClientID     string `json:"clientID"`
	CACertPEM    string `json:"caCertPEM,omitempty"`
	TenantID     string `json:"tenantID,omitempty"`
	ControlURL   string `json:"controlURL,omitempty"`
	ControlToken string `json:"controlToken,omitempty"`
	// ClockSpeedup is the throttling model's fast clock (graph-fast mode):
	// Microsoft's limits hold per window divided by it. A client paces
	// itself to the same clock; 0 means real time.
	ClockSpeedup float64 `json:"clockSpeedup,omitempty"`
}

// Profile returns the connection profile of a running server.
func (s *Server) Profile() Profile {
	return Profile{
		Name:         "Simulated tenant " + s.tenant.Name,
		Authority:    s.Authority(),
		GraphURL:     s.GraphURL(),
		ClientID:     s.opts.ClientID,
		CACertPEM:    string(s.ca.certPEM),
		TenantID:     s.tenant.ID,
		ControlURL:   s.base + "/_sim",
		ControlToken: s.control,
		ClockSpeedup: s.clockSpeedup(),
	}
}

// clockSpeedup is the fast clock's factor, 0 unless in graph-fast mode.
func (s *Server) clockSpeedup() float64 {
	c := s.throttle.Config()
	if c.Mode != ThrottleGraphFast {
		return 0
	}
	if c.Speedup <= 0 {
		return DefaultThrottleSpeedup
	}
	return c.Speedup
}

// Validate checks that a profile is usable: https URLs and a client ID.
func (p Profile) Validate() error {
	if p.ClockSpeedup < 0 || p.ClockSpeedup > 100000 {
		return fmt.Errorf("tenant profile: clockSpeedup %v is out of range", p.ClockSpeedup)
	}
	for name, v := range map[string]string{"authority": p.Authority, "graphURL": p.GraphURL} {
		u, err := url.Parse(v)
		if err != nil || u.Host == "" {
			return fmt.Errorf("tenant profile: %s %q is not a URL", name, v)
		}
		if u.Scheme != "https" {
			return fmt.Errorf("tenant profile: %s %q must use https", name, v)
		}
	}
	if p.ClientID == "" {
		return errors.New("tenant profile: no clientID")
	}
	return nil
}

// WriteProfile writes the profile atomically with 0600 permissions.
func WriteProfile(path string, p Profile) error {
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".profile-*.tmp")
	if err != nil {
		return fmt.Errorf("write tenant profile: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("write tenant profile: %w", err)
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("write tenant profile: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("write tenant profile: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write tenant profile: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write tenant profile: %w", err)
	}
	return nil
}

// LoadProfile reads and validates a profile file.
func LoadProfile(path string) (Profile, error) {
	var p Profile
	b, err := os.ReadFile(path)
	if err != nil {
		return p, fmt.Errorf("read tenant profile: %w", err)
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return p, fmt.Errorf("tenant profile %s: not valid JSON: %w", path, err)
	}
	if err := p.Validate(); err != nil {
		return p, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}
