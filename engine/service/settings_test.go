package service

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadSettings(t *testing.T) {
	cases := []struct {
		name, content string // content "" means no file
		want          string
		err           string
	}{
		{name: "missing file means defaults"},
		{name: "client id", content: `{"clientID": "11111111-2222-3333-4444-555555555555"}`, want: "11111111-2222-3333-4444-555555555555"},
		{name: "typo is reported", content: `{"cliendID": "x"}`, err: "unknown field"},
		{name: "not JSON", content: "client=1", err: "not valid"},
		{name: "too large", content: `{"clientID":"` + strings.Repeat("a", maxStateFile) + `"}`, err: "larger than"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			if c.content != "" {
				if err := os.WriteFile(filepath.Join(dir, SettingsFile), []byte(c.content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			s, err := LoadSettings(dir)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) || !strings.Contains(err.Error(), SettingsFile) {
					t.Fatalf("err = %v, want one naming the file and saying %q", err, c.err)
				}
				return
			}
			if err != nil || s.ClientID != c.want {
				t.Fatalf("settings = %+v, %v; want client ID %q", s, err, c.want)
			}
		})
	}
}

func TestSaveSettingsRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cfg")
	want := Settings{ClientID: "abc", Destination: "/media/usb/Lifeboat", RepositoryID: "0123abcd"}
	if err := SaveSettings(dir, want); err != nil {
		t.Fatal(err)
	}
	got, err := LoadSettings(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Fatalf("loaded %+v, want %+v", got, want)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 1 || ents[0].Name() != SettingsFile {
		t.Fatalf("config folder holds %v; want only %s (no temporary files left)", ents, SettingsFile)
	}
}
