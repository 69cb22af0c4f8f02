package environ

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/lifeboat-backup/lifeboat/engine/secret"
	"github.com/lifeboat-backup/lifeboat/engine/service"
)

// Flags are the choices a front end makes besides the environment; each
// empty field falls back to its environment variable.
type Flags struct {
	// TenantProfile names a simulated tenant's profile
	// (LIFEBOAT_TENANT_PROFILE); "" talks to Microsoft.
	TenantProfile string
	// SecretStore is "keychain" or "file" (LIFEBOAT_SECRET_STORE).
	SecretStore string
	// ClientID is the application (client) ID (LIFEBOAT_CLIENT_ID).
	ClientID string
	// LogLevel is debug, info, warn or error (default warn).
	LogLevel string
	// ConfigDir replaces LIFEBOAT_CONFIG_DIR (the demo's throwaway one).
	ConfigDir string
	// Keychain, when set, replaces the keychain SecretStore picks (tests,
	// the demo).
	Keychain secret.Keychain
}

// Resolved is what the environment says.
type Resolved struct {
	Options service.Options
	// FileStore is set when keys are kept in a file rather than the
	// system keychain: the front end must say so, every time.
	FileStore bool
}

// ErrBadSecretStore is the error for an unknown --secret-store.
var ErrBadSecretStore = errors.New("use keychain or file")

// Resolve reads the environment, with f's choices first. Logs go to logw.
func Resolve(f Flags, logw io.Writer, defaultClientID string) (Resolved, error) {
	var res Resolved
	o := service.Options{DefaultClientID: defaultClientID, OSSchedule: true}
	o.Logger = Logger(logw, f.LogLevel)
	dir, custom, err := configDir(f.ConfigDir)
	if err != nil {
		return res, err
	}
	o.ConfigDir, o.CustomConfigDir = dir, custom
	switch s := firstNonEmpty(f.SecretStore, os.Getenv("LIFEBOAT_SECRET_STORE"), "keychain"); s {
	case "keychain":
		o.Keychain = secret.OS{}
		if f.SecretStore != "" || os.Getenv("LIFEBOAT_SECRET_STORE") != "" {
			o.SecretStore = s
		}
	case "file":
		o.Keychain, o.SecretStore, res.FileStore = secret.File{Dir: dir}, s, true
	default:
		return res, fmt.Errorf("--secret-store %q: %w", s, ErrBadSecretStore)
	}
	if f.Keychain != nil {
		o.Keychain = f.Keychain
	}
	if p := firstNonEmpty(f.TenantProfile, os.Getenv("LIFEBOAT_TENANT_PROFILE")); p != "" {
		if o.Tenant, err = service.SimulatedTenant(p); err != nil {
			return res, err
		}
	}
	o.ClientID = firstNonEmpty(f.ClientID, os.Getenv("LIFEBOAT_CLIENT_ID"))
	res.Options = o
	return res, nil
}

// Logger is a text logger on w at level (warn when it is not a level).
func Logger(w io.Writer, level string) *slog.Logger {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		lvl = slog.LevelWarn
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: lvl}))
}

// configDir is where Lifeboat keeps its own files: explicit, else
// LIFEBOAT_CONFIG_DIR, else Lifeboat under the user's config folder.
// custom is true for the first two.
func configDir(explicit string) (dir string, custom bool, err error) {
	if d := firstNonEmpty(explicit, os.Getenv("LIFEBOAT_CONFIG_DIR")); d != "" {
		abs, err := filepath.Abs(d)
		if err != nil {
			return "", false, fmt.Errorf("LIFEBOAT_CONFIG_DIR: %w", err)
		}
		return abs, true, nil
	}
	base, err := os.UserConfigDir()
	if err != nil {
		return "", false, fmt.Errorf("find your config folder (or set LIFEBOAT_CONFIG_DIR): %w", err)
	}
	return filepath.Join(base, "Lifeboat"), false, nil
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}
