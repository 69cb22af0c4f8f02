package main

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
		{name: "too large", content: `{"clientID":"` + strings.Repeat("a", maxSettingsSize) + `"}`, err: "larger than"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			if c.content != "" {
				if err := os.WriteFile(filepath.Join(dir, settingsFile), []byte(c.content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			s, err := loadSettings(dir)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) || !strings.Contains(err.Error(), settingsFile) {
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

func TestClientIDFromSettings(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("LIFEBOAT_CONFIG_DIR", dir)
	t.Setenv("LIFEBOAT_CLIENT_ID", "")
	t.Setenv("LIFEBOAT_TENANT_PROFILE", "")
	code, _, errOut := runCLI(t, "whoami", "--secret-store", "file")
	if code != exitUsage || !strings.Contains(errOut, "no application (client) ID") {
		t.Fatalf("without any client ID: exit %d %q", code, errOut)
	}
	if err := os.WriteFile(filepath.Join(dir, settingsFile), []byte(`{"clientID":"5b1f0a1e-0c7a-4c55-9d7e-11fe0a7b0a51"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = runCLI(t, "whoami", "--secret-store", "file")
	if strings.Contains(errOut, "no application (client) ID") {
		t.Fatalf("the saved client ID was not used: exit %d %q", code, errOut)
	}
}

func TestSaveSettingsRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cfg")
	want := settings{ClientID: "abc", Destination: "/media/usb/Lifeboat", RepositoryID: "0123abcd"}
	if err := saveSettings(dir, want); err != nil {
		t.Fatal(err)
	}
	got, err := loadSettings(dir)
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
	if len(ents) != 1 || ents[0].Name() != settingsFile {
		t.Fatalf("config folder holds %v; want only %s (no temporary files left)", ents, settingsFile)
	}
}
