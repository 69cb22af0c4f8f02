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
