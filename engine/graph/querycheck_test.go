package graph

import (
	"bytes"
	"net/http"
	"testing"

	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
)

// Every $select, $expand and $filter Lifeboat sends names what Graph has:
// the simulator refuses unknown properties with 400 as Graph does, so a
// misspelt property fails here and not at the first customer.
func TestEveryQueryOptionLifeboatSendsIsKnownToGraph(t *testing.T) {
	srv := simtest.Start(t, nil, m365sim.Options{})
	c, _, _ := newClient(t, srv, simtest.Alice, nil)
	ctx := ctxT(t)
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	_, err := c.GetUser(ctx, "me")
	must("GetUser", err)
	folders, err := c.ListMailFolders(ctx, "me")
	must("ListMailFolders", err)
	_, err = c.WellKnownFolders(ctx, "me")
	must("WellKnownFolders", err)
	_, err = c.MailFolderDelta(ctx, "me", "", func([]MailFolder) error { return nil })
	must("MailFolderDelta", err)
	var some MessageMeta
	for _, f := range folders {
		_, err := c.MessageDelta(ctx, "me", f.ID, "", func(p []MessageMeta) error {
			if len(p) > 0 {
				some = p[0]
			}
			return nil
		})
		must("MessageDelta "+f.DisplayName, err)
	}
	_, err = c.FindMessages(ctx, "me", some.ParentFolderID, some.InternetMessageID)
	must("FindMessages", err)
	id, err := c.ImportMessage(ctx, "me", some.ParentFolderID, bytes.NewReader(simtest.MIMEMessage(5)), ImportMeta{})
	must("ImportMessage", err)
	_, err = c.countAttachments(ctx, "me", id)
	must("countAttachments", err)
	d, err := c.GetDrive(ctx, "me")
	must("GetDrive", err)
	items, _ := collectDrive(t, c, d.ID, "")
	for _, it := range items {
		if !it.IsFolder {
			_, err := c.GetDriveItem(ctx, d.ID, it.ID)
			must("GetDriveItem", err)
			break
		}
	}
	_, err = c.ItemByPath(ctx, d.ID, "Documents")
	must("ItemByPath", err)

	n := 0
	for _, r := range srv.Requests().Entries() {
		n++
		if r.Status == http.StatusBadRequest {
			t.Errorf("Graph refused %s %s: 400", r.Method, r.Path)
		}
	}
	if n < 10 {
		t.Fatalf("only %d requests were made", n)
	}
}
