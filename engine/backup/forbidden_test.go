package backup

import (
	"strings"
	"testing"

	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
)

// A sign-in that was granted fewer permissions than Lifeboat asks for:
// Graph answers 403 for what it does not cover. The run backs up what it
// may read, says plainly what it could not, and does not fail as if the
// person had to sign in (which, with the same permissions, would not help).
func TestMissingPermissionsAreReportedNotFatal(t *testing.T) {
	for _, tc := range []struct {
		name   string
		scopes []string
		mail   bool // backed up
		drive  bool
	}{
		{"User.Read only", []string{"User.Read"}, false, false},
		{"no OneDrive", []string{"User.Read", "Mail.ReadWrite"}, true, false},
		{"no mail", []string{"User.Read", "Files.Read"}, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil, simtest.Alice)
			e.scopes = tc.scopes
			res, err := e.run(t.Context(), nil)
			if err != nil {
				t.Fatalf("the run failed: %v", err)
			}
			if res.Status != catalog.RunCompletedWithWarnings {
				t.Fatalf("status %s, warnings %v", res.Status, res.Warnings)
			}
			warn := strings.Join(res.Warnings, "\n")
			for part, ok := range map[string]bool{"the mailbox": tc.mail, "the OneDrive": tc.drive} {
				said := strings.Contains(warn, "did not let Lifeboat read "+part) && strings.Contains(warn, "permission")
				if said == ok {
					t.Errorf("backed up %s: %v; warnings:\n%s", part, ok, warn)
				}
			}
			if _, ok := res.Snapshots[KindMail]; ok != tc.mail {
				t.Errorf("mail snapshot written: %v, want %v", ok, tc.mail)
			}
			if _, ok := res.Snapshots[KindOneDrive]; ok != tc.drive {
				t.Errorf("OneDrive snapshot written: %v, want %v", ok, tc.drive)
			}
			if tc.mail {
				e.checkMail(res)
			}
			if tc.drive {
				e.checkFiles(res)
			}
		})
	}
}
