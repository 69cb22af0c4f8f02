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

	"github.com/lifeboat-backup/lifeboat/engine/secret"
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

// saveSettings writes dir/settings.json crash-safely.
func saveSettings(dir string, s settings) error {
	if err := writeJSONFile(dir, settingsFile, s); err != nil {
		return fmt.Errorf("save settings: %w", err)
	}
	return nil
}

// writeJSONFile writes v as dir/name so that a crash leaves the old or the
// new file, never half of each (secret.WriteFileAtomic: temporary file,
// sync, rename, folder sync), readable only by the owner.
func writeJSONFile(dir, name string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return secret.WriteFileAtomic(filepath.Join(dir, name), append(b, '\n'))
}
