package gui

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/secret"
)

// Demo is the --demo session: the simulated tenant, a throwaway config
// folder and the keychain stand-in that lives in it.
type Demo struct {
	Server    *m365sim.Server
	Profile   string
	ConfigDir string
	Keychain  secret.Keychain
	// Folder is the suggested backup folder.
	Folder string
	tmp    string
	tenant *m365sim.Tenant
}

// Close stops the demo company and removes its throwaway folder.
func (d *Demo) Close() {
	d.Server.Close()
	os.RemoveAll(d.tmp)
}

// StartDemo starts the demo company in this process with a throwaway
// config folder: the demo never touches the owner's real sign-in or
// settings.
func StartDemo(seed int64, autoApprove time.Duration, log *slog.Logger) (*Demo, error) {
	tenant, err := m365sim.GenerateDemo(seed, m365sim.DemoOptions{})
	if err != nil {
		return nil, fmt.Errorf("demo company: %w", err)
	}
	srv, err := m365sim.NewServer(tenant, m365sim.Options{Logger: log, AutoApprove: autoApprove})
	if err != nil {
		return nil, fmt.Errorf("demo company: %w", err)
	}
	tmp, err := os.MkdirTemp("", "lifeboat-demo-")
	if err != nil {
		srv.Close()
		return nil, fmt.Errorf("demo: %w", err)
	}
	d := &Demo{Server: srv, tmp: tmp, tenant: tenant, Profile: filepath.Join(tmp, "tenant.json"), ConfigDir: filepath.Join(tmp, "config")}
	if err := m365sim.WriteProfile(d.Profile, srv.Profile()); err != nil {
		d.Close()
		return nil, fmt.Errorf("demo: %w", err)
	}
	// The demo's keys are throwaway too: a file in the throwaway folder,
	// not the owner's keychain.
	d.Keychain = secret.File{Dir: d.ConfigDir}
	d.Folder = demoBackupFolder()
	log.Info("demo tenant running", "url", srv.BaseURL(), "profile", d.Profile)
	return d, nil
}

// Estimate is how much the demo company's mail and files take.
func (d *Demo) Estimate() int64 {
	var n int64
	for _, u := range d.tenant.Users() {
		msgs, _ := d.tenant.Messages(u.UPN, "")
		for _, m := range msgs {
			n += int64(len(m.MIME))
		}
		items, _ := d.tenant.DriveItems(u.UPN)
		for _, it := range items {
			if it.Content != nil {
				n += it.Content.Size()
			}
		}
	}
	return n
}

// demoBackupFolder suggests a new folder in the home folder for the demo's
// backup: "Lifeboat demo backup", or with a number when that is taken.
func demoBackupFolder() string {
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	base := filepath.Join(home, "Lifeboat demo backup")
	for i := 1; i < 100; i++ {
		p := base
		if i > 1 {
			p += " " + strconv.Itoa(i)
		}
		if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
			return p
		}
	}
	return base
}
