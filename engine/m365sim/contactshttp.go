package m365sim

import (
	"encoding/json"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

func (s *Server) contactRoutes(mux *http.ServeMux) {
	r := func(method, pattern string, write bool, h userHandler) {
		s.userRoute(mux, method, pattern, true, s.contactScope(write, h))
	}
	r("GET", "/contactFolders", false, s.handleListCFolders)
	r("POST", "/contactFolders", true, s.handleCreateCFolder)
	r("GET", "/contactFolders/delta", false, s.handleCFolderDelta)
	r("GET", "/contactFolders/delta()", false, s.handleCFolderDelta)
	r("GET", "/contactFolders/{fid}", false, s.handleGetCFolder)
	r("GET", "/contactFolders/{fid}/childFolders", false, s.handleListCFolders)
	r("POST", "/contactFolders/{fid}/childFolders", true, s.handleCreateCFolder)
	r("GET", "/contactFolders/{fid}/contacts/delta", false, s.handleContactDelta)
	r("GET", "/contactFolders/{fid}/contacts/delta()", false, s.handleContactDelta)
	for _, base := range []string{"", "/contactFolders/{fid}"} {
		r("GET", base+"/contacts", false, s.handleListContacts)
		r("POST", base+"/contacts", true, s.handleCreateContact)
		c := base + "/contacts/{ctid}"
		r("GET", c, false, s.handleGetContact)
		r("PATCH", c, true, s.handlePatchContact)
		r("DELETE", c, true, s.handleDeleteContact)
		r("GET", c+"/photo", false, s.handleGetContactPhoto)
		r("GET", c+"/photo/$value", false, s.handleGetContactPhoto)
		r("PUT", c+"/photo/$value", true, s.handlePutContactPhoto)
	}
}

func (s *Server) contactScope(write bool, h userHandler) userHandler {
	return func(w http.ResponseWriter, r *http.Request, u *User) {
		if !hasScope(r, "Contacts", write) {
			writeGraphError(w, http.StatusForbidden, "ErrorAccessDenied", "Access is denied. Check credentials and try again.")
			return
		}
		h(w, r, u)
	}
}

func cfolderJSON(f *ContactFolder) map[string]any {
	return map[string]any{"id": f.ID, "displayName": f.Name, "parentFolderId": f.ParentID}
}

func (s *Server) handleListCFolders(w http.ResponseWriter, r *http.Request, u *User) {
	t := s.tenant
	t.mu.Lock()
	p := t.pimLocked(u)
	f, err := p.cfolderLocked(r.PathValue("fid"))
	var items []map[string]any
	if err == nil {
		for _, c := range p.childCFoldersLocked(f.ID) {
			items = append(items, selectFields(cfolderJSON(c), r.URL.Query().Get("$select")))
		}
	}
	t.mu.Unlock()
	if err != nil {
		writeTenantError(w, err)
		return
	}
	s.writePage(w, r, "users('"+u.ID+"')/contactFolders", orEmpty(items), mailDefaultPage, mailMaxPage)
}

func (s *Server) handleGetCFolder(w http.ResponseWriter, r *http.Request, u *User) {
	t := s.tenant
	t.mu.Lock()
	f, err := t.pimLocked(u).cfolderLocked(r.PathValue("fid"))
	var v map[string]any
	if err == nil {
		v = cfolderJSON(f)
	}
	t.mu.Unlock()
	if err != nil {
		writeTenantError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) handleCreateCFolder(w http.ResponseWriter, r *http.Request, u *User) {
	var in struct {
		DisplayName string `json:"displayName"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	t := s.tenant
	t.mu.Lock()
	f, err := t.addCFolderLocked(u, r.PathValue("fid"), in.DisplayName)
	var v map[string]any
	if err == nil {
		v = cfolderJSON(f)
	}
	t.mu.Unlock()
	if err != nil {
		if strings.Contains(err.Error(), ErrConflict.Error()) {
			writeGraphError(w, http.StatusConflict, "ErrorFolderExists", "A folder with the specified name already exists.")
			return
		}
		writeBadRequest(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, v)
}

func contactJSON(c *Contact) map[string]any {
	b, _ := json.Marshal(c.Props)
	var v map[string]any
	_ = json.Unmarshal(b, &v)
	v["@odata.etag"] = "W/\"" + c.ChangeKey + "\""
	v["id"] = c.ID
	v["createdDateTime"] = graphTime(c.Created)
	v["lastModifiedDateTime"] = graphTime(c.Modified)
	v["changeKey"] = c.ChangeKey
	v["parentFolderId"] = c.FolderID
	for _, k := range []string{"yomiGivenName", "yomiSurname", "yomiCompanyName"} {
		v[k] = nil
	}
	return v
}

// contactFromPathLocked finds the contact of the request (in the folder of
// the path, if it names one).
func (t *Tenant) contactFromPathLocked(u *User, r *http.Request) (*Contact, error) {
	p := t.pimLocked(u)
	c, ok := p.contacts[r.PathValue("ctid")]
	if !ok {
		return nil, ErrNoItem
	}
	if fid := r.PathValue("fid"); fid != "" {
		f, err := p.cfolderLocked(fid)
		if err != nil || f.ID != c.FolderID {
			return nil, ErrNoItem
		}
	}
	return c, nil
}

func (s *Server) handleListContacts(w http.ResponseWriter, r *http.Request, u *User) {
	t := s.tenant
	t.mu.Lock()
	p := t.pimLocked(u)
	f, err := p.cfolderLocked(r.PathValue("fid"))
	var items []map[string]any
	if err == nil {
		var cs []*Contact
		for _, c := range p.contacts {
			if c.FolderID == f.ID {
				cs = append(cs, c)
			}
		}
		sort.Slice(cs, func(i, j int) bool { return cs[i].Seq < cs[j].Seq })
		for _, c := range cs {
			items = append(items, selectFields(contactJSON(c), r.URL.Query().Get("$select")))
		}
	}
	t.mu.Unlock()
	if err != nil {
		writeTenantError(w, err)
		return
	}
	s.writePage(w, r, "users('"+u.ID+"')/contacts", orEmpty(items), mailDefaultPage, mailMaxPage)
}

func (s *Server) handleGetContact(w http.ResponseWriter, r *http.Request, u *User) {
	t := s.tenant
	t.mu.Lock()
	c, err := t.contactFromPathLocked(u, r)
	var v map[string]any
	if err == nil {
		v = selectFields(contactJSON(c), r.URL.Query().Get("$select"))
	}
	t.mu.Unlock()
	if err != nil {
		writeTenantError(w, err)
		return
	}
	v["@odata.context"] = s.GraphURL() + "/$metadata#users('" + u.ID + "')/contacts/$entity"
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) handleCreateContact(w http.ResponseWriter, r *http.Request, u *User) {
	var raw map[string]json.RawMessage
	if !readJSON(w, r, &raw) {
		return
	}
	t := s.tenant
	t.mu.Lock()
	c, err := t.addContactLocked(u, r.PathValue("fid"), ContactProps{})
	if err == nil && len(raw) > 0 {
		if _, err = t.updateContactLocked(u, c.ID, raw); err != nil {
			delete(t.pimLocked(u).contacts, c.ID)
		}
	}
	var v map[string]any
	if err == nil {
		c.CreatedSeq = c.Seq
		v = contactJSON(c)
	}
	t.mu.Unlock()
	if err != nil {
		writeBadRequest(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, v)
}

func (s *Server) handlePatchContact(w http.ResponseWriter, r *http.Request, u *User) {
	var raw map[string]json.RawMessage
	if !readJSON(w, r, &raw) {
		return
	}
	t := s.tenant
	t.mu.Lock()
	c, err := t.contactFromPathLocked(u, r)
	if err == nil {
		c, err = t.updateContactLocked(u, c.ID, raw)
	}
	var v map[string]any
	if err == nil {
		v = contactJSON(c)
	}
	t.mu.Unlock()
	if err != nil {
		writeBadRequest(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) handleDeleteContact(w http.ResponseWriter, r *http.Request, u *User) {
	t := s.tenant
	t.mu.Lock()
	c, err := t.contactFromPathLocked(u, r)
	t.mu.Unlock()
	if err == nil {
		err = t.DeleteContact(u.UPN, c.ID)
	}
	if err != nil {
		writeTenantError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// handleGetContactPhoto answers the photo's metadata, or with /$value its
// bytes; a contact without a photo answers 404.
func (s *Server) handleGetContactPhoto(w http.ResponseWriter, r *http.Request, u *User) {
	t := s.tenant
	t.mu.Lock()
	c, err := t.contactFromPathLocked(u, r)
	var photo []byte
	var ct string
	if err == nil {
		photo, ct = c.Photo, c.PhotoType
	}
	t.mu.Unlock()
	if err != nil {
		writeTenantError(w, err)
		return
	}
	if photo == nil {
		writeGraphError(w, http.StatusNotFound, "ImageNotFound", "The photo wasn't found.")
		return
	}
	if !strings.HasSuffix(r.URL.Path, "/$value") {
		writeJSON(w, http.StatusOK, map[string]any{"@odata.mediaContentType": ct, "id": "default", "height": nil, "width": nil})
		return
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Length", strconv.Itoa(len(photo)))
	_, _ = w.Write(photo)
}

func (s *Server) handlePutContactPhoto(w http.ResponseWriter, r *http.Request, u *User) {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxPhotoBytes+1))
	if err != nil {
		writeGraphError(w, http.StatusBadRequest, "BadRequest", "Could not read the request body.")
		return
	}
	ct := r.Header.Get("Content-Type")
	if !strings.HasPrefix(ct, "image/") || len(b) == 0 {
		writeGraphError(w, http.StatusBadRequest, "ErrorInvalidRequest", "The photo must be an image.")
		return
	}
	t := s.tenant
	t.mu.Lock()
	c, err := t.contactFromPathLocked(u, r)
	t.mu.Unlock()
	if err == nil {
		err = t.SetContactPhoto(u.UPN, c.ID, b, ct)
	}
	if err != nil {
		writeBadRequest(w, err)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// handleContactDelta is contact: delta for one folder, on the same sealed
// sequence tokens as message delta.
func (s *Server) handleContactDelta(w http.ResponseWriter, r *http.Request, u *User) {
	q := r.URL.Query()
	var st mailDeltaState
	for _, k := range []string{"$skiptoken", "$deltatoken"} {
		if v := q.Get(k); v != "" {
			if !s.openToken(v, &st) || !strings.HasPrefix(st.Folder, "contacts:") {
				writeGraphError(w, http.StatusBadRequest, "SyncStateInvalid", "The sync state is invalid.")
				return
			}
			if k == "$deltatoken" {
				st.Upto, st.After, st.AfterI = 0, 0, ""
			}
		}
	}
	if st.Select == "" {
		st.Select = q.Get("$select")
	}
	size := pageSize(r, mailDefaultPage, mailMaxPage)
	t := s.tenant
	t.mu.Lock()
	p := t.pimLocked(u)
	f, err := p.cfolderLocked(r.PathValue("fid"))
	if err != nil {
		t.mu.Unlock()
		writeTenantError(w, err)
		return
	}
	if st.Folder != "" && st.Folder != "contacts:"+f.ID {
		t.mu.Unlock()
		writeGraphError(w, http.StatusBadRequest, "SyncStateInvalid", "The sync state does not belong to this folder.")
		return
	}
	st.Folder = "contacts:" + f.ID
	if st.Upto == 0 {
		st.Upto = t.seq
	}
	type entry struct {
		seq     int64
		id      string
		c       *Contact
		removed bool
	}
	var entries []entry
	live := map[string]bool{}
	for _, c := range p.contacts {
		if c.FolderID == f.ID && c.Seq > st.Since && c.Seq <= st.Upto {
			entries = append(entries, entry{seq: c.Seq, id: c.ID, c: c})
			live[c.ID] = true
		}
	}
	if st.Since > 0 {
		for _, g := range p.contactGone {
			if g.ParentID == f.ID && g.Seq > st.Since && g.Seq <= st.Upto && !live[g.ID] {
				entries = append(entries, entry{seq: g.Seq, id: g.ID, removed: true})
			}
		}
	}
	sort.Slice(entries, func(i, j int) bool {
		if entries[i].seq != entries[j].seq {
			return entries[i].seq < entries[j].seq
		}
		return entries[i].id < entries[j].id
	})
	start := sort.Search(len(entries), func(i int) bool {
		e := entries[i]
		return e.seq > st.After || (e.seq == st.After && e.id > st.AfterI)
	})
	var page []map[string]any
	i := start
	for ; i < len(entries) && len(page) < size; i++ {
		e := entries[i]
		st.After, st.AfterI = e.seq, e.id
		if e.removed {
			page = append(page, map[string]any{"@odata.type": "#microsoft.graph.contact", "id": e.id, "@removed": map[string]any{"reason": "deleted"}})
			continue
		}
		v := selectFields(contactJSON(e.c), st.Select)
		v["@odata.type"] = "#microsoft.graph.contact"
		page = append(page, v)
	}
	more := i < len(entries)
	t.mu.Unlock()
	base := s.GraphURL() + strings.TrimPrefix(r.URL.Path, "/v1.0")
	out := map[string]any{"@odata.context": s.GraphURL() + "/$metadata#Collection(contact)", "value": orEmpty(page)}
	if more {
		out["@odata.nextLink"] = base + "?$skiptoken=" + s.sealToken(st)
	} else {
		out["@odata.deltaLink"] = base + "?$deltatoken=" + s.sealToken(mailDeltaState{Folder: st.Folder, Since: st.Upto, Select: st.Select})
	}
	writeJSON(w, http.StatusOK, out)
}

// handleCFolderDelta is contactFolder: delta
// (learn.microsoft.com/graph/api/contactfolder-delta): every folder below
// the default Contacts folder, flattened, then changes. Folder deletion is
// not simulated.
func (s *Server) handleCFolderDelta(w http.ResponseWriter, r *http.Request, u *User) {
	q := r.URL.Query()
	var st mailDeltaState
	for _, k := range []string{"$skiptoken", "$deltatoken"} {
		if v := q.Get(k); v != "" {
			if !s.openToken(v, &st) || st.Folder != "#cfolders" {
				writeGraphError(w, http.StatusBadRequest, "SyncStateInvalid", "The sync state is invalid.")
				return
			}
			if k == "$deltatoken" {
				st.Upto, st.After, st.AfterI = 0, 0, ""
			}
		}
	}
	st.Folder = "#cfolders"
	size := pageSize(r, mailDefaultPage, mailMaxPage)
	t := s.tenant
	t.mu.Lock()
	p := t.pimLocked(u)
	if st.Upto == 0 {
		st.Upto = t.seq
	}
	var fs []*ContactFolder
	for _, f := range p.cfolders {
		if f.ID != p.rootCFolder && f.Seq > st.Since && f.Seq <= st.Upto {
			fs = append(fs, f)
		}
	}
	sort.Slice(fs, func(i, j int) bool {
		if fs[i].Seq != fs[j].Seq {
			return fs[i].Seq < fs[j].Seq
		}
		return fs[i].ID < fs[j].ID
	})
	start := sort.Search(len(fs), func(i int) bool {
		return fs[i].Seq > st.After || (fs[i].Seq == st.After && fs[i].ID > st.AfterI)
	})
	var page []map[string]any
	i := start
	for ; i < len(fs) && len(page) < size; i++ {
		st.After, st.AfterI = fs[i].Seq, fs[i].ID
		v := cfolderJSON(fs[i])
		v["@odata.type"] = "#microsoft.graph.contactFolder"
		page = append(page, v)
	}
	more := i < len(fs)
	t.mu.Unlock()
	base := s.GraphURL() + strings.TrimPrefix(r.URL.Path, "/v1.0")
	out := map[string]any{"@odata.context": s.GraphURL() + "/$metadata#Collection(contactFolder)", "value": orEmpty(page)}
	if more {
		out["@odata.nextLink"] = base + "?$skiptoken=" + s.sealToken(st)
	} else {
		out["@odata.deltaLink"] = base + "?$deltatoken=" + s.sealToken(mailDeltaState{Folder: "#cfolders", Since: st.Upto})
	}
	writeJSON(w, http.StatusOK, out)
}
