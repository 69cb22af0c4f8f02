package m365sim_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
)

func TestDriveCreateFolderConflictBehaviour(t *testing.T) {
	srv := simtest.Start(t, nil, m365sim.Options{})
	tn := srv.Tenant()
	c := newWriteRaw(t, srv)
	folder := func(name, behavior string) map[string]any {
		m := map[string]any{"name": name, "folder": map[string]any{}}
		if behavior != "" {
			m["@microsoft.graph.conflictBehavior"] = behavior
		}
		return m
	}
	old, _ := tn.DriveItemByPath(simtest.Alice, "Documents")
	c.wantError(http.StatusConflict, "nameAlreadyExists", "POST", "/me/drive/root/children", folder("Documents", ""))
	c.wantError(http.StatusConflict, "nameAlreadyExists", "POST", "/me/drive/root/children", folder("documents", "fail"))
	if v := c.must(http.StatusCreated, "POST", "/me/drive/root/children", folder("Documents", "rename")); v["name"] != "Documents 1" || v["folder"] == nil {
		t.Errorf("rename: %v", v)
	}
	if v := c.must(http.StatusCreated, "POST", "/me/drive/root/children", folder("Photos.2026", "rename")); v["name"] != "Photos.2026" {
		t.Errorf("new folder: %v", v)
	}
	if v := c.must(http.StatusCreated, "POST", "/me/drive/root/children", folder("Photos.2026", "rename")); v["name"] != "Photos.2026 1" {
		t.Errorf("a folder's dot is not an extension: %v", v)
	}
	v := c.must(http.StatusCreated, "POST", "/me/drive/items/root:/Documents:/children", folder("Notes", "replace"))
	if v["id"] == "" {
		t.Fatal("no id")
	}
	if _, err := tn.DriveItemByPath(simtest.Alice, "Documents/Notes/todo.txt"); err == nil {
		t.Error("replace kept the old folder's contents")
	}
	if now, _ := tn.DriveItemByPath(simtest.Alice, "Documents"); now.ID != old.ID {
		t.Error("the parent changed")
	}
	c.wantError(http.StatusBadRequest, "invalidRequest", "POST", "/me/drive/root/children", map[string]any{"name": "f.txt", "file": map[string]any{}})
	c.wantError(http.StatusBadRequest, "invalidRequest", "POST", "/me/drive/root/children", folder("a:b", ""))
	c.wantError(http.StatusBadRequest, "invalidRequest", "POST", "/me/drive/root/children", folder("x", "merge"))
	c.wantError(http.StatusNotFound, "itemNotFound", "POST", "/me/drive/items/01NOSUCH/children", folder("x", ""))
	// /drives/{id}/… works the same.
	d, _ := tn.User(simtest.Alice)
	c.must(http.StatusCreated, "POST", "/drives/"+url.PathEscape(d.Drive.ID)+"/items/root/children", folder("Via drives", ""))
}

func TestDrivePatchItem(t *testing.T) {
	srv := simtest.Start(t, nil, m365sim.Options{})
	tn := srv.Tenant()
	c := newWriteRaw(t, srv)
	it, _ := tn.DriveItemByPath(simtest.Alice, "Documents/budget.xlsx")
	created, modified := "2020-02-02T02:02:02Z", "2021-03-03T03:03:03Z"
	v := c.must(http.StatusOK, "PATCH", "/me/drive/items/"+it.ID, map[string]any{
		"fileSystemInfo": map[string]any{"createdDateTime": created, "lastModifiedDateTime": modified}})
	if driveStr(v, "fileSystemInfo", "lastModifiedDateTime") != modified {
		t.Errorf("PATCH answer %v", v)
	}
	got, _ := tn.DriveItemByPath(simtest.Alice, "Documents/budget.xlsx")
	if !got.FSCreated.Equal(time.Date(2020, 2, 2, 2, 2, 2, 0, time.UTC)) || !got.FSModified.Equal(time.Date(2021, 3, 3, 3, 3, 3, 0, time.UTC)) || got.Seq <= it.Seq {
		t.Errorf("fileSystemInfo not stored: %v %v", got.FSCreated, got.FSModified)
	}
	photos, _ := tn.DriveItemByPath(simtest.Alice, "Photos")
	c.must(http.StatusOK, "PATCH", "/me/drive/items/"+it.ID, map[string]any{"name": "budget-2026.xlsx", "parentReference": map[string]any{"id": photos.ID}})
	if _, err := tn.DriveItemByPath(simtest.Alice, "Photos/budget-2026.xlsx"); err != nil {
		t.Errorf("move and rename: %v", err)
	}
	c.wantError(http.StatusConflict, "nameAlreadyExists", "PATCH", "/me/drive/items/"+it.ID, map[string]any{"name": "Ünïcödé – café.jpg"})
	if v := c.must(http.StatusOK, "PATCH", "/me/drive/items/"+it.ID, map[string]any{"name": "Ünïcödé – café.jpg", "@microsoft.graph.conflictBehavior": "rename"}); v["name"] != "Ünïcödé – café 1.jpg" {
		t.Errorf("rename on PATCH: %v", v["name"])
	}
	docs, _ := tn.DriveItemByPath(simtest.Alice, "Documents")
	notes, _ := tn.DriveItemByPath(simtest.Alice, "Documents/Notes")
	c.wantError(http.StatusBadRequest, "invalidRequest", "PATCH", "/me/drive/items/"+docs.ID, map[string]any{"parentReference": map[string]any{"id": notes.ID}})
	c.wantError(http.StatusBadRequest, "invalidRequest", "PATCH", "/me/drive/root", map[string]any{"name": "x"})
}

// Simple PUT takes a conflict behaviour too; rename keeps the extension.
func TestDriveSimplePutRename(t *testing.T) {
	srv := simtest.Start(t, nil, m365sim.Options{})
	c := newWriteRaw(t, srv)
	v := c.must(http.StatusCreated, "PUT", "/me/drive/root:/Documents/budget.xlsx:/content?@microsoft.graph.conflictBehavior=rename", []byte("v2"))
	if v["name"] != "budget 1.xlsx" {
		t.Errorf("rename: %v", v["name"])
	}
	c.wantError(http.StatusConflict, "nameAlreadyExists", "PUT", "/me/drive/root:/Documents/budget.xlsx:/content?@microsoft.graph.conflictBehavior=fail", []byte("v3"))
}
