package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// settingsFile holds the person's choices that are not secrets, in the
// config folder beside the encrypted sign-in cache.
const settingsFile = "settings.json"

// maxSettingsSize bounds what is read: the file is small, and a huge one
// is damage, not settings.
const maxSettingsSize = 1 << 20

// settings are Lifeboat's saved preferences. Unknown fields are kept out
// so a typo is reported rather than silently ignored.
type settings struct {
	// ClientID is the application (client) ID to sign in with, for
	// organisations that register their own copy of Lifeboat.
	ClientID string `json:"clientID,omitempty"`
	// Destination is the backup folder chosen in the app or by the
	// scheduler; --to and LIFEBOAT_REPO override it.
	Destination string `json:"destination,omitempty"`
	// RepositoryID identifies the backup at Destination, so a drive that
	// comes back under another letter or mount point is recognised.
	RepositoryID string `json:"repositoryID,omitempty"`
	// GUI holds the app's own choices (gui_settings.go).
	GUI *guiSettings `json:"gui,omitempty"`
}

// loadSettings reads dir/settings.json; a missing file means defaults.
func loadSettings(dir string) (settings, error) {
	var s settings
	path := filepath.Join(dir, settingsFile)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return s, fmt.Errorf("read settings: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSettingsSize+1))
	if err != nil {
		return s, fmt.Errorf("read settings %s: %w", path, err)
	}
	if len(b) > maxSettingsSize {
		return s, fmt.Errorf("settings %s: larger than %d bytes; is it the right file?", path, maxSettingsSize)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return settings{}, fmt.Errorf("settings %s is not valid (fix or delete it): %w", path, err)
	}
	return s, nil
}

// saveSettings writes dir/settings.json crash-safely: a temporary file,
// synced, then renamed over the old one, so a crash leaves either the old
// or the new settings, never half of each.
func saveSettings(dir string, s settings) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("save settings: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("save settings: %w", err)
	}
	f, err := os.CreateTemp(dir, settingsFile+".*.tmp")
	if err != nil {
		return fmt.Errorf("save settings: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // a no-op once renamed
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("save settings: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("save settings: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("save settings: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, settingsFile)); err != nil {
		return fmt.Errorf("save settings: %w", err)
	}
	syncDir(dir)
	return nil
}

// syncDir makes a rename durable where the OS allows syncing a directory.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync() // not supported on Windows; the rename is still atomic
		d.Close()
	}
}
