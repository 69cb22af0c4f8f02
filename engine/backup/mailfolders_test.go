package backup

import (
	"strings"
	"testing"

	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
)

// A folder deleted for good (with a subfolder) while a backup knows it:
// the next run records the removal of every message in them, which stay
// restorable; a folder moved elsewhere keeps its messages under the new
// path, and nothing is downloaded again.
func TestMailFoldersDeletedAndMoved(t *testing.T) {
	e := newEnv(t, nil, simtest.Alice)
	old, err := e.tn.EnsureFolderPath(simtest.Alice, "Projects/Old")
	if err != nil {
		t.Fatal(err)
	}
	projects, _ := e.tn.EnsureFolderPath(simtest.Alice, "Projects")
	for i, f := range []string{projects.ID, old.ID, old.ID} {
		if _, err := e.tn.AddMessage(simtest.Alice, f, simtest.MIMEMessage(300+i), m365sim.MessageOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	e.mustRun(func(o *Options) { o.Only = ScopeMail })
	invoices, _ := e.tn.EnsureFolderPath(simtest.Alice, "Inbox/Invoices")
	if err := e.tn.MoveFolder(simtest.Alice, invoices.ID, "Archive"); err != nil {
		t.Fatal(err)
	}
	if err := e.tn.DeleteFolder(simtest.Alice, projects.ID); err != nil {
		t.Fatal(err)
	}
	e.srv.Requests().Reset()
	res := e.mustRun(func(o *Options) { o.Only = ScopeMail })
	if res.Status != catalog.RunCompleted || res.Downloads != 0 {
		t.Fatalf("status %s, %d downloads, warnings %v", res.Status, res.Downloads, res.Warnings)
	}
	if res.Counts.ItemsDeleted != 3 {
		t.Errorf("%d messages recorded as deleted, want the 3 of Projects and Projects/Old", res.Counts.ItemsDeleted)
	}
	e.checkMail(res) // paths follow the move; the deleted folders are gone
	for _, f := range e.contents(res, KindMail).Folders {
		if strings.HasPrefix(f.Path, "Projects") {
			t.Errorf("the snapshot still has the deleted folder %s", f.Path)
		}
	}
	del, err := e.c.RecentlyDeleted(t.Context(), e.acct.HomeID, 10)
	if err != nil || len(del) != 3 {
		t.Fatalf("recently deleted: %v %+v", err, del)
	}
	for _, d := range del {
		ref, err := decodeContent(d.Content)
		if err != nil || len(e.read(ref)) == 0 || !strings.HasPrefix(d.Folder, "Projects") {
			t.Errorf("deleted %q in %q: not restorable (%v)", d.Name, d.Folder, err)
		}
	}
	_, moved, err := e.c.AsOf(t.Context(), catalog.AsOfQuery{Account: e.acct.HomeID, Kind: catalog.KindMail, Folder: "Archive/Invoices"})
	if err != nil || len(moved) != 5 {
		t.Errorf("Archive/Invoices now: %v, %d messages, want 5", err, len(moved))
	}
}
