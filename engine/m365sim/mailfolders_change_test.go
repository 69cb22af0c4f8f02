package m365sim_test

import (
	"net/http"
	"testing"

	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
)

// A folder moved keeps its ID and shows in mailFolders/delta with its new
// parentFolderId; a folder deleted shows as @removed with its subfolders,
// and its messages are gone (mailFolder: delta; outlook-immutable-id:
// folder IDs are constant).
func TestMailFolderMovesAndDeletionsInDelta(t *testing.T) {
	srv := simtest.Start(t, nil, m365sim.Options{})
	tn := srv.Tenant()
	c := newDriveRaw(t, srv, simtest.Alice)
	old, err := tn.EnsureFolderPath(simtest.Alice, "Projects/Old")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tn.AddMessage(simtest.Alice, old.ID, simtest.MIMEMessage(300), m365sim.MessageOptions{}); err != nil {
		t.Fatal(err)
	}
	projects, _ := tn.EnsureFolderPath(simtest.Alice, "Projects")
	invoices, _ := tn.EnsureFolderPath(simtest.Alice, "Inbox/Invoices")
	archive, _ := tn.EnsureFolderPath(simtest.Alice, "Archive")
	_, flink, _ := mailRound(t, c, "/me/mailFolders/delta")
	_, ilink, _ := mailRound(t, c, "/me/mailFolders/"+invoices.ID+"/messages/delta")

	if err := tn.MoveFolder(simtest.Alice, invoices.ID, "Archive"); err != nil {
		t.Fatal(err)
	}
	if err := tn.DeleteFolder(simtest.Alice, projects.ID); err != nil {
		t.Fatal(err)
	}
	m := c.mustGet(flink)
	removed := map[string]bool{}
	for _, v := range driveValues(m) {
		id, _ := v["id"].(string)
		if r, ok := v["@removed"].(map[string]any); ok {
			if r["reason"] != "deleted" || len(v) != 3 {
				t.Errorf("removed entry %v", v)
			}
			removed[id] = true
			continue
		}
		if id != invoices.ID {
			t.Errorf("unexpected change %v", v)
		} else if v["parentFolderId"] != archive.ID {
			t.Errorf("moved folder's parent %v, want %s", v["parentFolderId"], archive.ID)
		}
	}
	if !removed[projects.ID] || !removed[old.ID] || len(removed) != 2 {
		t.Errorf("removed %v, want Projects and Projects/Old", removed)
	}
	if r := c.get("/me/mailFolders/" + old.ID + "/messages/delta"); r.status != http.StatusNotFound || r.errorCode(t) != "ErrorItemNotFound" {
		t.Errorf("messages of a deleted folder: %d %s", r.status, r.body)
	}
	if msgs, _ := tn.FindMessages(simtest.Alice, "Invoice 0300"); len(msgs) != 0 {
		t.Errorf("the deleted folder's message is still there")
	}
	// The moved folder's message delta link still works and reports
	// nothing: its messages did not change.
	if v := driveValues(c.mustGet(ilink)); len(v) != 0 {
		t.Errorf("moved folder's messages reported as changed: %v", v)
	}
	if err := tn.MoveFolder(simtest.Alice, archive.ID, "Inbox"); err == nil {
		t.Error("a well-known folder was moved")
	}
	f, _ := tn.EnsureFolderPath(simtest.Alice, "Archive/Invoices/2026")
	if err := tn.MoveFolder(simtest.Alice, invoices.ID, f.ID); err == nil {
		t.Error("a folder was moved into its own subfolder")
	}
}
