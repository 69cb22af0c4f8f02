package service

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoFrontEndImports: the application layer knows neither front end:
// nothing it builds on, however indirectly, is cobra or Fyne.
func TestNoFrontEndImports(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 50 {
		t.Fatalf("go list found only %d packages: %q", len(deps), deps)
	}
	for _, p := range deps {
		if strings.HasPrefix(p, "fyne.io/") || strings.HasPrefix(p, "github.com/spf13/cobra") ||
			strings.HasPrefix(p, "github.com/lifeboat-backup/lifeboat/app") || strings.HasPrefix(p, "github.com/lifeboat-backup/lifeboat/ui") {
			t.Errorf("engine/service depends on %s", p)
		}
	}
}
