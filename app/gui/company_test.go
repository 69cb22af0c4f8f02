package gui

import (
	"strings"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
	"github.com/lifeboat-backup/lifeboat/ui"
)

// TestGUISetsUpTheWholeCompany: the wizard's default, "Everyone in my
// company", signs the administrator in with the real MSAL and registers
// Lifeboat in the simulated tenant; Next opens once it is set up.
func TestGUISetsUpTheWholeCompany(t *testing.T) {
	e, srv, _, _ := testGUIEnv(t, m365sim.Options{AutoApprove: 10 * time.Millisecond, DeviceCodeInterval: time.Second})
	if err := srv.Tenant().SetDirectoryRoles(simtest.Alice, m365sim.RoleGlobalAdministrator); err != nil {
		t.Fatal(err)
	}
	shell, q, _ := newTestShell(t, e, t.TempDir(), ui.StepSignIn)
	w := shell.Wizard
	if w.Org == nil || !w.Org.Company() {
		t.Fatal("the wizard does not offer the whole company by default")
	}
	q.waitFor(t, "the company set up", func() bool { return w.SignIn.Step() == ui.SignInDone })
	if on, err := e.Service().CompanyMode(); err != nil || !on {
		t.Fatalf("company mode: %v %v", on, err)
	}
	if w.Next.Disabled() || !strings.Contains(w.Org.Progress.Text, "set up for everyone") {
		t.Fatalf("next disabled %v, progress %q", w.Next.Disabled(), w.Org.Progress.Text)
	}
}
