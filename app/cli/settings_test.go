package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lifeboat-backup/lifeboat/engine/service"
)

func TestClientIDFromSettings(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("LIFEBOAT_CONFIG_DIR", dir)
	t.Setenv("LIFEBOAT_CLIENT_ID", "")
	t.Setenv("LIFEBOAT_TENANT_PROFILE", "")
	code, _, errOut := runCLI(t, "whoami", "--secret-store", "file")
	if code != exitUsage || !strings.Contains(errOut, "no application (client) ID") {
		t.Fatalf("without any client ID: exit %d %q", code, errOut)
	}
	if err := os.WriteFile(filepath.Join(dir, service.SettingsFile), []byte(`{"clientID":"5b1f0a1e-0c7a-4c55-9d7e-11fe0a7b0a51"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = runCLI(t, "whoami", "--secret-store", "file")
	if strings.Contains(errOut, "no application (client) ID") {
		t.Fatalf("the saved client ID was not used: exit %d %q", code, errOut)
	}
}
