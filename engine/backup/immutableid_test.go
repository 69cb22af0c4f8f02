package backup

import (
	"testing"

	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
)

// A message moved to another folder (or deleted in Outlook, which moves it
// to Deleted Items) changes its default ID; Lifeboat asks for immutable IDs,
// so the backup sees the same message in a new folder: one history in the
// catalog, no deletion, no new item, no download.
func TestMovedMessageKeepsItsHistory(t *testing.T) {
	e := newEnv(t, nil, simtest.Alice)
	e.mustRun(func(o *Options) { o.Only = ScopeMail })
	m, _ := e.tn.FindMessages(simtest.Alice, "Invoice 0002")
	id := m[0].ID
	if _, err := e.tn.MoveMessage(simtest.Alice, id, "archive"); err != nil {
		t.Fatal(err)
	}
	if rest, _ := e.tn.RestID(simtest.Alice, id); rest == id {
		t.Fatal("the move did not change the default ID: the test proves nothing")
	}
	res := e.mustRun(func(o *Options) { o.Only = ScopeMail })
	if res.Downloads != 0 || res.Counts.ItemsDeleted != 0 || res.Counts.ItemsNew != 0 {
		t.Errorf("the move cost %d downloads and counted %+v", res.Downloads, res.Counts)
	}
	e.checkMail(res)
	vs, err := e.c.Versions(t.Context(), catalog.ItemRef{Account: e.acct.HomeID, Kind: catalog.KindMail, ID: id})
	if err != nil || len(vs) == 0 || vs[0].Folder != "Archive" || vs[len(vs)-1].Folder != "Inbox" {
		t.Fatalf("versions of the moved message (newest first): %v %d", err, len(vs))
	}
	del, _ := e.c.RecentlyDeleted(t.Context(), e.acct.HomeID, 10)
	if len(del) != 0 {
		t.Errorf("the move shows as a deletion: %+v", del)
	}
}
