package m365sim_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
)

// OneDrive's rules for what is written (support.microsoft.com,
// "Restrictions and limitations in OneDrive and SharePoint"; OneDrive API
// "Error responses"): reserved names, the 400-character path, the quota
// (507 quotaLimitReached) and locked files (423 resourceLocked).
func TestDriveWritesFollowOneDriveRules(t *testing.T) {
	srv := simtest.Start(t, nil, m365sim.Options{})
	c := newDriveRaw(t, srv, simtest.Alice)
	for _, name := range []string{"CON", "con.txt", "LPT1.log", "desktop.ini", ".lock", "~$budget.xlsx", "a_vti_b.txt", "bad:name.txt"} {
		if r := c.put("/me/drive/root:/"+url.PathEscape(name)+":/content", []byte("x")); r.status != http.StatusBadRequest {
			t.Errorf("%q = %d, want 400\n%s", name, r.status, r.body)
		}
	}
	for _, name := range []string{"CONTRACT.txt", "console.log", "COM10.txt", "budget~$.xlsx", "vti.txt"} {
		if r := c.put("/me/drive/root:/"+url.PathEscape(name)+":/content", []byte("x")); r.status != http.StatusCreated {
			t.Errorf("%q = %d, want 201\n%s", name, r.status, r.body)
		}
	}
	deep := strings.Repeat("folder-name-", 30)[:350] + "/" + strings.Repeat("n", 45) + ".txt" // 400 characters
	if r := c.put("/me/drive/root:/"+drivePathURL(deep)+":/content", []byte("x")); r.status != http.StatusCreated {
		t.Errorf("a 400-character path = %d\n%s", r.status, r.body)
	}
	if r := c.put("/me/drive/root:/"+drivePathURL(deep[:350]+"/x"+deep[351:])+"x:/content", []byte("x")); r.status != http.StatusBadRequest {
		t.Errorf("a 401-character path = %d", r.status)
	}
	if err := srv.Tenant().LockFile(simtest.Alice, "Documents/Notes/todo.txt"); err != nil {
		t.Fatal(err)
	}
	if r := c.put("/me/drive/root:/Documents/Notes/todo.txt:/content", []byte("new")); r.status != http.StatusLocked || r.errorCode(t) != "resourceLocked" {
		t.Errorf("replacing a locked file = %d %s", r.status, r.body)
	}
	if err := srv.Tenant().SetDriveQuota(simtest.Alice, 1_600_000); err != nil {
		t.Fatal(err)
	}
	if r := c.put("/me/drive/root:/big.bin:/content", make([]byte, 200_000)); r.status != http.StatusInsufficientStorage || r.errorCode(t) != "quotaLimitReached" {
		t.Errorf("over the quota = %d %s", r.status, r.body)
	}
}
