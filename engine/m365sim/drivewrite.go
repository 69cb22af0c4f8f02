package m365sim

// OneDrive writes beyond the simple PUT (drive.go): create a folder
// (POST …/children with the folder facet), update an item (PATCH: name,
// parentReference, fileSystemInfo) and create upload sessions
// (uploadsession.go).
//
// As documented for driveItem: create folder and update:
//   - @microsoft.graph.conflictBehavior is fail (the default), replace or
//     rename; rename picks "name 1", "name 2", … as OneDrive does; fail
//     answers 409 nameAlreadyExists.
//   - fileSystemInfo is the client's created/modified time and is
//     writable; the service's own createdDateTime/lastModifiedDateTime are
//     not.

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"
)

func (s *Server) driveWriteRoutes(mux *http.ServeMux) {
	for _, method := range []string{"POST", "PATCH"} {
		s.userRoute(mux, method, "/drive/{rest...}", true, func(w http.ResponseWriter, r *http.Request, u *User) {
			s.serveDriveWrite(w, r, u, r.PathValue("rest"))
		})
		mux.HandleFunc(method+" /drives/{driveId}/{rest...}", func(w http.ResponseWriter, r *http.Request) {
			if u := s.driveOwner(w, r, r.PathValue("driveId")); u != nil {
				s.serveDriveWrite(w, r, u, r.PathValue("rest"))
			}
		})
	}
}

// writeDriveWriteError maps write failures to OneDrive's errors.
func writeDriveWriteError(w http.ResponseWriter, err error) {
	var br *badRequest
	switch {
	case writeDriveRefusal(w, err):
	case errors.As(err, &br):
		writeDriveError(w, http.StatusBadRequest, br.code, br.msg)
	case errors.Is(err, ErrNoItem):
		writeDriveItemNotFound(w)
	case errors.Is(err, ErrConflict):
		writeDriveError(w, http.StatusConflict, "nameAlreadyExists", "The specified item name already exists.")
	default:
		writeDriveError(w, http.StatusBadRequest, "invalidRequest", err.Error())
	}
}

func (s *Server) serveDriveWrite(w http.ResponseWriter, r *http.Request, u *User, rest string) {
	a, ok := parseDriveAddress(rest)
	if !ok {
		writeDriveError(w, http.StatusBadRequest, "invalidRequest", "Invalid item address '"+lastSegment(rest)+"'.")
		return
	}
	switch {
	case r.Method == http.MethodPost && a.fn == "children":
		s.serveCreateFolder(w, r, u, a)
	case r.Method == http.MethodPost && a.fn == "createUploadSession":
		s.serveCreateDriveSession(w, r, u, a)
	case r.Method == http.MethodPatch && a.fn == "":
		s.servePatchItem(w, r, u, a)
	default:
		writeGraphError(w, http.StatusMethodNotAllowed, "BadRequest", "The request method is not supported for this resource.")
	}
}

// conflictName is OneDrive's rename: "name 1.ext", "name 2.ext", … (a
// folder's whole name is the stem).
func conflictName(d *Drive, parentID, name string, folder bool) string {
	ext := path.Ext(name)
	if folder || ext == name {
		ext = ""
	}
	stem := strings.TrimSuffix(name, ext)
	for n := 1; ; n++ {
		cand := stem + " " + strconv.Itoa(n) + ext
		if d.childLocked(parentID, cand) == nil {
			return cand
		}
	}
}

func conflictBehavior(v string, def string) (string, error) {
	switch v {
	case "":
		return def, nil
	case "fail", "replace", "rename":
		return v, nil
	}
	return "", invalid("invalidRequest", "Invalid value for @microsoft.graph.conflictBehavior: %s", truncateMsg(v))
}

func (s *Server) serveCreateFolder(w http.ResponseWriter, r *http.Request, u *User, a driveAddress) {
	var in map[string]json.RawMessage
	if !readJSON(w, r, &in) {
		return
	}
	var name, behavior string
	_ = json.Unmarshal(in["name"], &name)
	_ = json.Unmarshal(in["@microsoft.graph.conflictBehavior"], &behavior)
	if _, ok := in["folder"]; !ok {
		writeDriveError(w, http.StatusBadRequest, "invalidRequest", "Only folders can be created with POST children; upload files with PUT or an upload session.")
		return
	}
	behavior, err := conflictBehavior(behavior, "fail")
	if err != nil {
		writeDriveWriteError(w, err)
		return
	}
	if qb := r.URL.Query().Get("@microsoft.graph.conflictBehavior"); qb != "" {
		if behavior, err = conflictBehavior(qb, behavior); err != nil {
			writeDriveWriteError(w, err)
			return
		}
	}
	if err := CheckServiceName(name); err != nil {
		writeDriveError(w, http.StatusBadRequest, "invalidRequest", err.Error())
		return
	}
	t := s.tenant
	t.mu.Lock()
	d := u.Drive
	parent, err := d.resolveAddrLocked(a)
	if err == nil && !parent.Folder {
		err = invalid("invalidRequest", "The parent is not a folder.")
	}
	var it *DriveItem
	if err == nil {
		if c := d.childLocked(parent.ID, name); c != nil {
			switch behavior {
			case "fail":
				err = fmt.Errorf("m365sim: %s: %w", name, ErrConflict)
			case "rename":
				name = conflictName(d, parent.ID, name, true)
			case "replace":
				t.deleteTreeLocked(d, c)
			}
		}
	}
	var v map[string]any
	if err == nil {
		now := t.now().UTC()
		it = &DriveItem{ID: t.newItemID("01"), ParentID: parent.ID, Name: name, Folder: true, Created: now, Modified: now, FSCreated: now, FSModified: now, Seq: t.bump()}
		it.stamp()
		d.items[it.ID] = it
		v = s.newDriveView(r, u, false).itemJSON(it)
	}
	t.mu.Unlock()
	if err != nil {
		writeDriveWriteError(w, err)
		return
	}
	v["@odata.context"] = s.GraphURL() + "/$metadata#drives('" + d.ID + "')/items/$entity"
	writeJSON(w, http.StatusCreated, v)
}

// servePatchItem updates name, parentReference.id and fileSystemInfo.
func (s *Server) servePatchItem(w http.ResponseWriter, r *http.Request, u *User, a driveAddress) {
	var in struct {
		Name            *string `json:"name"`
		ParentReference *struct {
			ID string `json:"id"`
		} `json:"parentReference"`
		FileSystemInfo *struct {
			Created  *time.Time `json:"createdDateTime"`
			Modified *time.Time `json:"lastModifiedDateTime"`
		} `json:"fileSystemInfo"`
		Behavior string `json:"@microsoft.graph.conflictBehavior"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	behavior, err := conflictBehavior(in.Behavior, "fail")
	if err != nil {
		writeDriveWriteError(w, err)
		return
	}
	t := s.tenant
	t.mu.Lock()
	d := u.Drive
	it, err := d.resolveAddrLocked(a)
	if err == nil && it.ID == d.RootID && (in.Name != nil || in.ParentReference != nil) {
		err = invalid("invalidRequest", "The root cannot be renamed or moved.")
	}
	parentID, name := "", ""
	if err == nil {
		parentID, name = it.ParentID, it.Name
		if in.Name != nil {
			name = *in.Name
			err = CheckServiceName(name)
		}
	}
	if err == nil && in.ParentReference != nil && in.ParentReference.ID != "" {
		p, ok := d.items[in.ParentReference.ID]
		switch {
		case !ok:
			err = fmt.Errorf("%w: parent %s", ErrNoItem, in.ParentReference.ID)
		case !p.Folder:
			err = invalid("invalidRequest", "The new parent is not a folder.")
		}
		for cur := in.ParentReference.ID; err == nil && cur != ""; cur = d.items[cur].ParentID {
			if cur == it.ID {
				err = invalid("invalidRequest", "An item cannot be moved into itself.")
			}
		}
		if err == nil {
			parentID = p.ID
		}
	}
	if err == nil && (parentID != it.ParentID || name != it.Name) {
		if c := d.childLocked(parentID, name); c != nil && c != it {
			switch behavior {
			case "rename":
				name = conflictName(d, parentID, name, it.Folder)
			case "replace":
				t.deleteTreeLocked(d, c)
			default:
				err = fmt.Errorf("m365sim: %s: %w", name, ErrConflict)
			}
		}
	}
	var v map[string]any
	if err == nil {
		it.ParentID, it.Name = parentID, name
		if fs := in.FileSystemInfo; fs != nil {
			if fs.Created != nil {
				it.FSCreated = fs.Created.UTC()
			}
			if fs.Modified != nil {
				it.FSModified = fs.Modified.UTC()
			}
		}
		it.Modified = t.now().UTC()
		it.Seq = t.bump()
		it.stamp()
		v = s.newDriveView(r, u, false).itemJSON(it)
	}
	t.mu.Unlock()
	if err != nil {
		writeDriveWriteError(w, err)
		return
	}
	v["@odata.context"] = s.GraphURL() + "/$metadata#drives('" + d.ID + "')/items/$entity"
	writeJSON(w, http.StatusOK, v)
}
