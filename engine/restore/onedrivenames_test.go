package restore

import (
	"bytes"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
)

// Files a backup holds under names OneDrive refuses today, and a deep
// path that "Restored by Lifeboat DATE/" pushes past OneDrive's 400
// characters: the restore adjusts them, says what it did, and every byte
// arrives.
func TestRestoreToOneDriveKeepsWithinItsRules(t *testing.T) {
	tn := simtest.SmallTenant(t)
	deep := strings.Repeat("Very long project folder name ", 12)[:339] + "/Quarterly figures for the board.xlsx"
	for _, p := range []string{"Documents/desktop.ini", "Documents/CON.txt", "Documents/~$budget.xlsx", "Shared/a_vti_b.txt", deep} {
		if _, err := tn.PutFile(simtest.Alice, p, m365sim.BytesContent("bytes of "+p), time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	e := newSimEnv(t, tn)
	e.backup()
	files := e.all(catalog.KindFile)
	folder := NewFolderName(time.Now())
	pl, res := e.run(ToNewFolder(e.g, e.g, "me", e.acct.HomeID, folder), ConflictRename, files)
	if len(res.Done) != len(files) {
		t.Fatalf("restored %d of %d files", len(res.Done), len(files))
	}
	want := map[string]string{
		"desktop.ini": "_desktop.ini", "CON.txt": "_CON.txt", "~$budget.xlsx": "~_budget.xlsx", "a_vti_b.txt": "a_vti-b.txt",
	}
	for _, s := range pl.Steps {
		name := s.Item.Name
		if w, ok := want[name]; ok {
			if s.Name != w || !strings.Contains(s.Reason, "OneDrive does not allow the name") {
				t.Errorf("%q restored as %q (%s), want %q with a reason", name, s.Name, s.Reason, w)
			}
		}
		if n := utf8.RuneCountInString(s.Path); n > 400 {
			t.Errorf("%s: a %d-character path", s.Path, n)
		}
		if strings.HasPrefix(s.Item.Folder, "Very long") && !strings.Contains(s.Reason, "400 characters") {
			t.Errorf("the deep file's step says %q", s.Reason)
		}
		it, err := e.tn.DriveItemByPath(e.upn, s.Path)
		if err != nil {
			t.Errorf("%s is not in OneDrive: %v", s.Path, err)
			continue
		}
		orig, _ := e.tn.DriveItemByPath(e.upn, strings.TrimPrefix(s.Item.Folder+"/"+s.Item.Name, "/"))
		if !bytes.Equal(readContent(t, it.Content), readContent(t, orig.Content)) {
			t.Errorf("%s: bytes differ", s.Path)
		}
	}
}

// OneDrive refuses a write because it is full (507) or the file is open
// or checked out (423): the failure says so in words.
func TestRestoreToOneDriveExplainsFullAndLocked(t *testing.T) {
	e := newSimEnv(t, nil)
	e.backup()
	var todo catalog.VersionInfo
	for _, v := range e.all(catalog.KindFile) {
		if v.Name == "todo.txt" {
			todo = v
		}
	}
	if err := e.tn.LockFile(e.upn, "Documents/Notes/todo.txt"); err != nil {
		t.Fatal(err)
	}
	r := New(Options{Content: e.r, Conflict: ConflictOverwrite})
	pl, err := r.Plan(t.Context(), ToOriginal(e.g, e.g, "me", e.acct.HomeID), []catalog.VersionInfo{todo})
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.Execute(t.Context(), pl)
	if err != nil || len(res.Failures) != 1 || !strings.Contains(res.Failures[0].Err.Error(), "open or checked out in OneDrive") {
		t.Fatalf("locked: %v %+v", err, res.Failures)
	}
	if err := e.tn.SetDriveQuota(e.upn, 1_000_000); err != nil {
		t.Fatal(err)
	}
	r = New(Options{Content: e.r})
	pl, err = r.Plan(t.Context(), ToNewFolder(e.g, e.g, "me", e.acct.HomeID, "Restored"), e.all(catalog.KindFile))
	if err != nil {
		t.Fatal(err)
	}
	res, err = r.Execute(t.Context(), pl)
	if err != nil || len(res.Failures) == 0 || !strings.Contains(res.Failures[0].Err.Error(), "OneDrive is full") {
		t.Fatalf("full: %v %+v", err, res.Failures)
	}
}
