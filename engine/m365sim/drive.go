package m365sim

// OneDrive for Business endpoints of Graph v1.0: drives, drive items by ID
// and by path, children, delta with deleted facets and 410 resync, /content
// redirects, the pre-authenticated download host, and the simple PUT
// /content upload (upload sessions belong to the restore work).
//
// Shapes follow Microsoft's documentation (driveItem, drive, driveItem:
// delta, driveItem: get content):
//   - delta items carry parentReference without path, and no cTag; deleted
//     items carry the deleted facet but neither name nor cTag (OneDrive for
//     Business). Folders never carry cTag.
//   - incremental delta results include the ancestors of changed items
//     unless the request has the deltaExcludeParent header.
//   - delta is supported on the drive root only.
//   - an expired or unusable token answers 410 Gone with
//     resyncChangesApplyDifferences or resyncChangesUploadDifferences and a
//     Location header holding a fresh enumeration link.
//   - /content answers 302 Found to @microsoft.graph.downloadUrl, a
//     short-lived URL ("only valid for a short period of time (a few
//     minutes)", driveItem: get content) that needs no Authorization
//     header.

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

const (
	// driveDefaultPage and driveMaxPage bound delta and children pages.
	driveDefaultPage = 200
	driveMaxPage     = 999
	// driveSimpleUploadMax is the largest body the simple PUT /content
	// takes here; larger files go through upload sessions.
	driveSimpleUploadMax = 4 << 20
	// driveFreshCursorDepth puts a delta cursor after every entry with its key,
	// so a token for "now" never repeats the last change.
	driveFreshCursorDepth = 1 << 30
)

func (s *Server) driveRoutes(mux *http.ServeMux) {
	s.userRoute(mux, "GET", "/drive", true, s.handleGetDrive)
	s.userRoute(mux, "GET", "/drives", true, s.handleListDrives)
	s.userRoute(mux, "GET", "/drive/{rest...}", true, func(w http.ResponseWriter, r *http.Request, u *User) {
		s.serveDriveRest(w, r, u, r.PathValue("rest"))
	})
	mux.HandleFunc("GET /drives/{driveId}", func(w http.ResponseWriter, r *http.Request) {
		if u := s.driveOwner(w, r, r.PathValue("driveId")); u != nil {
			s.handleGetDrive(w, r, u)
		}
	})
	mux.HandleFunc("GET /drives/{driveId}/{rest...}", func(w http.ResponseWriter, r *http.Request) {
		if u := s.driveOwner(w, r, r.PathValue("driveId")); u != nil {
			s.serveDriveRest(w, r, u, r.PathValue("rest"))
		}
	})
	s.userRoute(mux, "PUT", "/drive/{rest...}", true, func(w http.ResponseWriter, r *http.Request, u *User) {
		s.serveDriveUpload(w, r, u, r.PathValue("rest"))
	})
	mux.HandleFunc("PUT /drives/{driveId}/{rest...}", func(w http.ResponseWriter, r *http.Request) {
		if u := s.driveOwner(w, r, r.PathValue("driveId")); u != nil {
			s.serveDriveUpload(w, r, u, r.PathValue("rest"))
		}
	})
}

// writeDriveError writes a OneDrive-style error (lowerCamel codes).
func writeDriveError(w http.ResponseWriter, status int, code, msg string) {
	writeGraphError(w, status, code, msg)
}

func writeDriveItemNotFound(w http.ResponseWriter) {
	writeDriveError(w, http.StatusNotFound, "itemNotFound", "The resource could not be found.")
}

// driveOwner resolves /drives/{driveId} to its owner, answering 404 for an
// unknown drive and 403 for somebody else's drive (delegated access covers
// the signed-in user's own drive only).
func (s *Server) driveOwner(w http.ResponseWriter, r *http.Request, driveID string) *User {
	owner := s.tenant.driveOwner(driveID)
	if owner == nil || !s.tenant.hasDrive(owner) {
		writeDriveItemNotFound(w)
		return nil
	}
	if sess := sessionFrom(r.Context()); sess == nil || !sess.App && sess.User != owner {
		writeDriveError(w, http.StatusForbidden, "accessDenied", "Access denied. You do not have permission to perform this action or access this resource.")
		return nil
	}
	return owner
}

// driveOwner finds the user whose drive has the ID.
func (t *Tenant) driveOwner(driveID string) *User {
	t.mu.RLock()
	defer t.mu.RUnlock()
	for _, u := range t.driveHoldersLocked() { // a deleted user's OneDrive is kept a while (lifecycle.go)
		if u.Drive != nil && u.Drive.ID == driveID {
			return u
		}
	}
	return nil
}

// ---- drives ----

func (s *Server) handleGetDrive(w http.ResponseWriter, r *http.Request, u *User) {
	s.tenant.mu.RLock()
	v := s.driveJSONLocked(u)
	s.tenant.mu.RUnlock()
	v = selectFields(v, r.URL.Query().Get("$select"))
	v["@odata.context"] = s.GraphURL() + "/$metadata#drives/$entity"
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) handleListDrives(w http.ResponseWriter, r *http.Request, u *User) {
	s.tenant.mu.RLock()
	v := s.driveJSONLocked(u)
	s.tenant.mu.RUnlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"@odata.context": s.GraphURL() + "/$metadata#drives",
		"value":          []map[string]any{selectFields(v, r.URL.Query().Get("$select"))},
	})
}

func (s *Server) driveJSONLocked(u *User) map[string]any {
	d := u.Drive
	var used int64
	lastMod := d.items[d.RootID].Modified
	for _, it := range d.items {
		if !it.Folder && it.Content != nil {
			used += it.Content.Size()
		}
		if it.Modified.After(lastMod) {
			lastMod = it.Modified
		}
	}
	total := d.Quota
	state := "normal"
	switch {
	case used >= total:
		state = "exceeded"
	case used >= total/100*99:
		state = "critical"
	case used >= total/10*9:
		state = "nearing"
	}
	return map[string]any{
		"id":                   d.ID,
		"driveType":            "business",
		"name":                 "OneDrive",
		"description":          "",
		"createdDateTime":      graphTime(d.items[d.RootID].Created),
		"lastModifiedDateTime": graphTime(lastMod),
		"webUrl":               s.tenant.personalSiteURL(u) + "/Documents",
		"createdBy":            map[string]any{"user": map[string]any{"displayName": "System Account"}},
		"lastModifiedBy":       driveIdentitySet(u),
		"owner":                driveIdentitySet(u),
		"quota": map[string]any{
			"total":     total,
			"used":      used,
			"remaining": max(total-used, 0),
			"deleted":   int64(0),
			"state":     state,
		},
	}
}

func driveIdentitySet(u *User) map[string]any {
	return map[string]any{"user": map[string]any{"id": u.ID, "displayName": u.DisplayName, "email": u.UPN}}
}

// personalSiteURL is the user's OneDrive site in SharePoint's naming.
func (t *Tenant) personalSiteURL(u *User) string {
	prefix, _, _ := strings.Cut(strings.ToLower(t.Domain), ".")
	site := strings.NewReplacer("@", "_", ".", "_").Replace(strings.ToLower(u.UPN))
	return "https://" + prefix + "-my.sharepoint.com/personal/" + site
}

// ---- addressing ----

// driveAddress is a parsed drive-relative resource path: the item (by ID or
// "root", optionally followed by a path relative to it) and the function
// or navigation after it ("", "children", "content", "delta(...)").
type driveAddress struct {
	base    string // item ID or "root"
	relPath string // path below base, from root:/a/b: or items/{id}:/a/b:
	fn      string
}

// parseDriveAddress parses what follows /drive/ or /drives/{id}/, already
// percent-decoded: "root", "root:/a/b.txt", "root:/a:/children",
// "items/{id}", "items/{id}/content", "root/delta(token='…')".
func parseDriveAddress(rest string) (driveAddress, bool) {
	var a driveAddress
	switch {
	case rest == "root" || strings.HasPrefix(rest, "root/") || strings.HasPrefix(rest, "root:"):
		a.base, rest = "root", rest[len("root"):]
	case strings.HasPrefix(rest, "items/"):
		r := rest[len("items/"):]
		if i := strings.IndexAny(r, "/:"); i >= 0 {
			a.base, rest = r[:i], r[i:]
		} else {
			a.base, rest = r, ""
		}
		if a.base == "" {
			return a, false
		}
	default:
		return a, false
	}
	if p, ok := strings.CutPrefix(rest, ":"); ok {
		if i := strings.Index(p, ":"); i >= 0 {
			a.relPath, rest = p[:i], p[i+1:]
		} else {
			a.relPath, rest = p, ""
		}
	}
	if rest != "" {
		fn, ok := strings.CutPrefix(rest, "/")
		if !ok || fn == "" {
			return a, false
		}
		a.fn = fn
	}
	return a, true
}

// resolveAddrLocked finds the addressed item in d.
func (d *Drive) resolveAddrLocked(a driveAddress) (*DriveItem, error) {
	id := a.base
	if strings.EqualFold(id, "root") {
		id = d.RootID
	}
	cur, ok := d.items[id]
	if !ok {
		return nil, fmt.Errorf("%w: drive item %s", ErrNoItem, a.base)
	}
	for _, name := range strings.Split(a.relPath, "/") {
		if name == "" {
			continue
		}
		c := d.childLocked(cur.ID, name)
		if c == nil {
			return nil, fmt.Errorf("%w: %s", ErrNoItem, a.relPath)
		}
		cur = c
	}
	return cur, nil
}

// serveDriveRest dispatches every GET below a drive.
func (s *Server) serveDriveRest(w http.ResponseWriter, r *http.Request, u *User, rest string) {
	a, ok := parseDriveAddress(rest)
	if !ok {
		writeGraphError(w, http.StatusBadRequest, "BadRequest", "Resource not found for the segment '"+lastSegment(rest)+"'.")
		return
	}
	fn := a.fn
	switch {
	case fn == "":
		s.serveDriveItem(w, r, u, a)
	case fn == "children":
		s.serveDriveChildren(w, r, u, a)
	case fn == "content":
		s.serveDriveContent(w, r, u, a)
	case fn == "delta" || strings.HasPrefix(fn, "delta("):
		tok, ok := driveDeltaFunctionToken(fn)
		if !ok {
			writeDriveError(w, http.StatusBadRequest, "invalidRequest", "Invalid delta function parameters.")
			return
		}
		if tok == "" {
			tok = r.URL.Query().Get("token")
		}
		s.serveDriveDelta(w, r, u, a, tok)
	default:
		writeGraphError(w, http.StatusBadRequest, "BadRequest", "Resource not found for the segment '"+fn+"'.")
	}
}

// driveDeltaFunctionToken reads the token of delta, delta(), delta(token='x').
func driveDeltaFunctionToken(fn string) (string, bool) {
	if fn == "delta" {
		return "", true
	}
	inner, ok := strings.CutPrefix(fn, "delta(")
	if !ok {
		return "", false
	}
	inner, ok = strings.CutSuffix(inner, ")")
	if !ok {
		return "", false
	}
	if inner == "" {
		return "", true
	}
	v, ok := strings.CutPrefix(inner, "token=")
	if !ok {
		return "", false
	}
	v = strings.TrimSuffix(strings.TrimPrefix(v, "'"), "'")
	return v, true
}

// ---- item JSON ----

// driveView renders items of one drive for one request. It is used with
// the tenant's read lock held.
type driveView struct {
	s        *Server
	u        *User
	d        *Drive
	selected map[string]bool // nil without $select
	delta    bool            // delta shapes: no parentReference.path, no cTag
	counts   map[string]int  // childCount by folder ID, built on first use
	sizes    map[string]int64
}

func (s *Server) newDriveView(r *http.Request, u *User, delta bool) *driveView {
	v := &driveView{s: s, u: u, d: u.Drive, delta: delta}
	if sel := r.URL.Query().Get("$select"); sel != "" {
		v.selected = map[string]bool{}
		for _, f := range strings.Split(sel, ",") {
			v.selected[strings.ToLower(strings.TrimSpace(f))] = true
		}
	}
	return v
}

// wantDownloadURL says whether @microsoft.graph.downloadUrl is returned:
// always without $select, and with $select only when it is named.
func (v *driveView) wantDownloadURL() bool {
	return v.selected == nil || v.selected["@microsoft.graph.downloadurl"] || v.selected["content.downloadurl"]
}

// finish applies $select: id and @odata annotations always stay, and in
// delta the deleted facet too (it is what marks a removal).
func (v *driveView) finish(m map[string]any) map[string]any {
	if v.selected == nil {
		return m
	}
	out := map[string]any{}
	for k, val := range m {
		lk := strings.ToLower(k)
		switch {
		case k == "id", v.selected[lk], strings.HasPrefix(k, "@odata."), v.delta && k == "deleted":
			out[k] = val
		case k == "@microsoft.graph.downloadUrl" && v.wantDownloadURL():
			out[k] = val
		}
	}
	return out
}

func (v *driveView) childCount(id string) int {
	if v.counts == nil {
		v.counts = map[string]int{}
		for _, it := range v.d.items {
			if it.ParentID != "" {
				v.counts[it.ParentID]++
			}
		}
	}
	return v.counts[id]
}

// size is a file's length or, for a folder, the total of its files, as
// OneDrive for Business reports it.
func (v *driveView) size(it *DriveItem) int64 {
	if !it.Folder {
		if it.Content == nil {
			return 0
		}
		return it.Content.Size()
	}
	if v.sizes == nil {
		v.sizes = map[string]int64{}
		for _, f := range v.d.items {
			if f.Folder || f.Content == nil {
				continue
			}
			n := f.Content.Size()
			for p := f.ParentID; p != ""; {
				v.sizes[p] += n
				pi, ok := v.d.items[p]
				if !ok {
					break
				}
				p = pi.ParentID
			}
		}
	}
	return v.sizes[it.ID]
}

func (v *driveView) parentRef(it *DriveItem) map[string]any {
	ref := map[string]any{"driveType": "business", "driveId": v.d.ID}
	if it.ID == v.d.RootID || it.ParentID == "" {
		return ref
	}
	ref["id"] = it.ParentID
	if v.delta {
		return ref
	}
	if p, ok := v.d.items[it.ParentID]; ok {
		if p.ID == v.d.RootID {
			ref["name"] = "root"
		} else {
			ref["name"] = p.Name
		}
	}
	ref["path"] = "/drive/root:"
	if pp, err := v.d.itemPathLocked(it.ParentID); err == nil && pp != "" {
		ref["path"] = "/drive/root:/" + pp
	}
	return ref
}

func (v *driveView) webURL(it *DriveItem) string {
	base := v.s.tenant.personalSiteURL(v.u) + "/Documents"
	p, err := v.d.itemPathLocked(it.ID)
	if err != nil || p == "" {
		return base
	}
	return base + "/" + (&url.URL{Path: p}).EscapedPath()
}

func (v *driveView) itemJSON(it *DriveItem) map[string]any {
	isRoot := it.ID == v.d.RootID
	m := map[string]any{
		"id":                   it.ID,
		"name":                 it.Name,
		"eTag":                 it.ETag,
		"createdDateTime":      graphTime(it.Created),
		"lastModifiedDateTime": graphTime(it.Modified),
		"webUrl":               v.webURL(it),
		"size":                 v.size(it),
		"createdBy":            driveIdentitySet(v.u),
		"lastModifiedBy":       driveIdentitySet(v.u),
		"parentReference":      v.parentRef(it),
		"fileSystemInfo": map[string]any{
			"createdDateTime":      graphTime(it.FSCreated),
			"lastModifiedDateTime": graphTime(it.FSModified),
		},
	}
	if isRoot {
		m["name"] = "root"
		m["root"] = map[string]any{}
	}
	if it.Package != "" {
		m["package"] = map[string]any{"type": it.Package}
	} else if it.Folder {
		m["folder"] = map[string]any{"childCount": v.childCount(it.ID)}
	} else {
		if !v.delta {
			m["cTag"] = it.CTag
		}
		m["file"] = map[string]any{
			"mimeType": driveMimeType(it.Name),
			"hashes":   map[string]any{"quickXorHash": it.QuickXor},
		}
		if v.wantDownloadURL() {
			m["@microsoft.graph.downloadUrl"] = v.s.driveDownloadURL(v.d.ID, it.ID)
		}
	}
	return v.finish(m)
}

// deletedJSON renders a tombstone as OneDrive for Business does in delta:
// the deleted facet, and no name or cTag.
func (v *driveView) deletedJSON(it *DriveItem) map[string]any {
	ref := map[string]any{"driveType": "business", "driveId": v.d.ID}
	if it.ParentID != "" {
		ref["id"] = it.ParentID
	}
	m := map[string]any{
		"id":                   it.ID,
		"eTag":                 it.ETag,
		"createdDateTime":      graphTime(it.Created),
		"lastModifiedDateTime": graphTime(it.Modified),
		"parentReference":      ref,
		"deleted":              map[string]any{"state": "deleted"},
		"fileSystemInfo": map[string]any{
			"createdDateTime":      graphTime(it.FSCreated),
			"lastModifiedDateTime": graphTime(it.FSModified),
		},
	}
	switch {
	case it.Package != "":
		m["package"] = map[string]any{"type": it.Package}
	case it.Folder:
		m["folder"] = map[string]any{"childCount": 0}
	default:
		m["file"] = map[string]any{}
	}
	return v.finish(m)
}

// driveMimeType derives a file's content type from its extension: Office and
// common types from a fixed table (so the answer does not depend on the
// machine's mime.types), then the system table, then octet-stream.
func driveMimeType(name string) string {
	ext := strings.ToLower(path.Ext(name))
	switch ext {
	case ".docx":
		return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
	case ".xlsx":
		return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	case ".pptx":
		return "application/vnd.openxmlformats-officedocument.presentationml.presentation"
	case ".doc":
		return "application/msword"
	case ".xls":
		return "application/vnd.ms-excel"
	case ".ppt":
		return "application/vnd.ms-powerpoint"
	case ".txt", ".log":
		return "text/plain"
	case ".csv":
		return "text/csv"
	case ".pdf":
		return "application/pdf"
	case ".jpg", ".jpeg":
		return "image/jpeg"
	case ".png":
		return "image/png"
	case ".gif":
		return "image/gif"
	case ".heic":
		return "image/heic"
	case ".mp4":
		return "video/mp4"
	case ".mov":
		return "video/quicktime"
	case ".mp3":
		return "audio/mpeg"
	case ".zip":
		return "application/x-zip-compressed"
	case ".eml":
		return "message/rfc822"
	case ".json":
		return "application/json"
	}
	if t := mime.TypeByExtension(ext); t != "" {
		if mt, _, err := mime.ParseMediaType(t); err == nil {
			return mt
		}
	}
	return "application/octet-stream"
}

// ---- item, children ----

func (s *Server) serveDriveItem(w http.ResponseWriter, r *http.Request, u *User, a driveAddress) {
	s.tenant.mu.RLock()
	it, err := u.Drive.resolveAddrLocked(a)
	var v map[string]any
	if err == nil {
		v = s.newDriveView(r, u, false).itemJSON(it)
	}
	s.tenant.mu.RUnlock()
	if err != nil {
		writeDriveItemNotFound(w)
		return
	}
	v["@odata.context"] = s.GraphURL() + "/$metadata#drives('" + u.Drive.ID + "')/items/$entity"
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) serveDriveChildren(w http.ResponseWriter, r *http.Request, u *User, a driveAddress) {
	size := pageSize(r, driveDefaultPage, driveMaxPage)
	skip := 0
	if st := r.URL.Query().Get("$skiptoken"); st != "" {
		n, ok := parseDriveSkipToken(st)
		if !ok {
			writeDriveError(w, http.StatusBadRequest, "invalidRequest", "Invalid $skiptoken.")
			return
		}
		skip = n
	}
	s.tenant.mu.RLock()
	parent, err := u.Drive.resolveAddrLocked(a)
	var items []map[string]any
	var parentID string
	total := 0
	if err == nil {
		parentID = parent.ID
		kids := u.Drive.childrenLocked(parentID)
		total = len(kids)
		v := s.newDriveView(r, u, false)
		for _, c := range kids[min(skip, total):min(skip+size, total)] {
			items = append(items, v.itemJSON(c))
		}
	}
	s.tenant.mu.RUnlock()
	if err != nil {
		writeDriveItemNotFound(w)
		return
	}
	if items == nil {
		items = []map[string]any{}
	}
	out := map[string]any{
		"@odata.context": s.GraphURL() + "/$metadata#drives('" + u.Drive.ID + "')/items('" + parentID + "')/children",
		"value":          items,
	}
	if end := skip + size; end < total {
		q := r.URL.Query()
		q.Set("$skiptoken", driveSkipToken(end))
		if q.Get("$top") != "" {
			q.Set("$top", strconv.Itoa(size))
		}
		out["@odata.nextLink"] = s.GraphURL() + "/drives/" + url.PathEscape(u.Drive.ID) + "/items/" + url.PathEscape(parentID) + "/children?" + encodeQuery(q)
	}
	writeJSON(w, http.StatusOK, out)
}

func driveSkipToken(n int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("Paged=TRUE&p_Offset=" + strconv.Itoa(n)))
}

func parseDriveSkipToken(tok string) (int, bool) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return 0, false
	}
	v, ok := strings.CutPrefix(string(b), "Paged=TRUE&p_Offset=")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(v)
	return n, err == nil && n >= 0
}

// ---- content ----

// serveDriveContent answers /content with 302 Found to the item's
// pre-authenticated download URL, or 304 when If-None-Match names the
// current eTag or cTag.
func (s *Server) serveDriveContent(w http.ResponseWriter, r *http.Request, u *User, a driveAddress) {
	s.tenant.mu.RLock()
	it, err := u.Drive.resolveAddrLocked(a)
	var folder bool
	var id, etag, ctag string
	if err == nil {
		id, folder, etag, ctag = it.ID, it.Folder, it.ETag, it.CTag
	}
	s.tenant.mu.RUnlock()
	switch {
	case err != nil:
		writeDriveItemNotFound(w)
		return
	case folder:
		writeDriveError(w, http.StatusBadRequest, "invalidRequest", "Only items with the file facet have content to download.")
		return
	}
	// OneDrive's tags hold commas ("{id},3"), so the header is searched
	// for the quoted tags rather than split.
	if inm := strings.TrimSpace(r.Header.Get("If-None-Match")); inm != "" &&
		(inm == "*" || strings.Contains(inm, etag) || strings.Contains(inm, ctag)) {
		w.Header().Set("ETag", etag)
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Location", s.driveDownloadURL(u.Drive.ID, id))
	w.Header().Set("request-id", newGUID())
	w.WriteHeader(http.StatusFound)
}

// ---- signing ----

// driveMAC signs data under a key derived from the server's secret and a
// purpose label, so tokens and URLs are unforgeable and die with the
// server.
func (s *Server) driveMAC(label string, data ...string) []byte {
	k := hmac.New(sha256.New, []byte(s.control))
	k.Write([]byte("m365sim/drive/" + label))
	m := hmac.New(sha256.New, k.Sum(nil))
	for _, d := range data {
		m.Write([]byte(d))
		m.Write([]byte{0})
	}
	return m.Sum(nil)[:16]
}

// driveSeal is base64url(payload || mac).
func (s *Server) driveSeal(label, bind, payload string) string {
	raw := append([]byte(payload), s.driveMAC(label, bind, payload)...)
	return base64.RawURLEncoding.EncodeToString(raw)
}

var errDriveToken = errors.New("m365sim: invalid token")

func (s *Server) driveOpen(label, bind, blob string) (string, error) {
	raw, err := base64.RawURLEncoding.Strict().DecodeString(blob)
	if err != nil || len(raw) <= 16 {
		return "", errDriveToken
	}
	payload, mac := string(raw[:len(raw)-16]), raw[len(raw)-16:]
	if !hmac.Equal(mac, s.driveMAC(label, bind, payload)) {
		return "", errDriveToken
	}
	return payload, nil
}

// ---- download host ----

// driveDownloadURL is a pre-authenticated URL for an item's bytes, valid for
// Options.DownloadURLLifetime on the tenant's clock.
func (s *Server) driveDownloadURL(driveID, itemID string) string {
	exp := s.tenant.now().Add(s.opts.DownloadURLLifetime).UnixMilli()
	tok := s.driveSeal("download", itemID, "1|"+driveID+"|"+itemID+"|"+strconv.FormatInt(exp, 10))
	return s.orig.files + "/_download/" + url.PathEscape(itemID) + "?tempauth=" + tok + "&ApiVersion=2.0"
}

// verifyDriveDownload checks a download URL's signature and expiry and returns
// the drive ID it was issued for.
func (s *Server) verifyDriveDownload(itemID, tok string) (string, error) {
	payload, err := s.driveOpen("download", itemID, tok)
	if err != nil {
		return "", err
	}
	parts := strings.Split(payload, "|")
	if len(parts) != 4 || parts[0] != "1" || parts[2] != itemID {
		return "", errDriveToken
	}
	exp, err := strconv.ParseInt(parts[3], 10, 64)
	if err != nil {
		return "", errDriveToken
	}
	if s.tenant.now().UnixMilli() > exp {
		return "", errors.New("m365sim: download URL expired")
	}
	return parts[1], nil
}

// handleDownload serves a file's bytes at a pre-authenticated URL: no
// bearer token, Range and If-Range support, streamed from Content.Open.
func (s *Server) handleDownload(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeDriveError(w, http.StatusMethodNotAllowed, "invalidRequest", "Method not allowed.")
		return
	}
	itemID := strings.TrimPrefix(r.URL.Path, "/_download/")
	driveID, err := s.verifyDriveDownload(itemID, r.URL.Query().Get("tempauth"))
	if err != nil {
		writeDriveError(w, http.StatusUnauthorized, "unauthenticated", "The download URL is invalid or has expired; get a new one from the item.")
		return
	}
	var (
		name    string
		content Content
		etag    string
		mod     time.Time
	)
	t := s.tenant
	t.mu.RLock()
	for _, u := range t.driveHoldersLocked() {
		if u.Drive == nil || u.Drive.ID != driveID {
			continue
		}
		if it, ok := u.Drive.items[itemID]; ok && !it.Folder && it.Content != nil {
			name, content, etag, mod = it.Name, it.Content, it.ETag, it.Modified
			if it.Served != nil {
				content = it.Served
			}
		}
	}
	t.mu.RUnlock()
	if content == nil {
		writeDriveItemNotFound(w)
		return
	}
	rs := content.Open()
	if c, ok := rs.(io.Closer); ok {
		defer c.Close()
	}
	h := w.Header()
	// The download host serves bytes, whatever the file's mimeType
	// (driveitem-get-content.md: "Content-Type: application/octet-stream").
	h.Set("Content-Type", "application/octet-stream")
	h.Set("ETag", etag)
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	http.ServeContent(w, r, "", mod, rs)
}

// ---- delta ----

// driveDeltaState is what a delta token (nextLink or deltaLink) stands for.
//
// Entries are ordered by (key, depth, id). In an enumeration (no token
// yet) an item's key is the highest Seq on its chain of ancestors and
// itself and depth is its depth, so parents sort before children; in
// incremental mode the key is the item's own Seq. Either way a change gives
// the changed items a key above every key handed out before, so an item
// changed after it was shown sorts after the cursor and is shown again:
// nothing is lost while a client pages, duplicates are allowed. Tombstones
// count when their Seq is above base (the tenant sequence when the
// enumeration or the previous deltaLink was made).
type driveDeltaState struct {
	enum  bool
	epoch int64
	base  int64
	key   int64
	depth int
	id    string
}

func (st driveDeltaState) encode(s *Server, driveID string) string {
	mode := "i"
	if st.enum {
		mode = "e"
	}
	payload := strings.Join([]string{"1", mode,
		strconv.FormatInt(st.epoch, 10), strconv.FormatInt(st.base, 10),
		strconv.FormatInt(st.key, 10), strconv.Itoa(st.depth), st.id}, "|")
	return s.driveSeal("delta", driveID, payload)
}

func parseDriveDeltaState(s *Server, driveID, tok string) (driveDeltaState, error) {
	payload, err := s.driveOpen("delta", driveID, tok)
	if err != nil {
		return driveDeltaState{}, err
	}
	p := strings.Split(payload, "|")
	if len(p) != 7 || p[0] != "1" || (p[1] != "e" && p[1] != "i") {
		return driveDeltaState{}, errDriveToken
	}
	st := driveDeltaState{enum: p[1] == "e", id: p[6]}
	var e1, e2, e3, e4 error
	st.epoch, e1 = strconv.ParseInt(p[2], 10, 64)
	st.base, e2 = strconv.ParseInt(p[3], 10, 64)
	st.key, e3 = strconv.ParseInt(p[4], 10, 64)
	st.depth, e4 = strconv.Atoi(p[5])
	if err := errors.Join(e1, e2, e3, e4); err != nil {
		return driveDeltaState{}, errDriveToken
	}
	return st, nil
}

type driveDeltaEntry struct {
	key   int64
	depth int
	it    *DriveItem
	gone  bool
}

func (e driveDeltaEntry) after(st driveDeltaState) bool {
	if e.key != st.key {
		return e.key > st.key
	}
	if e.depth != st.depth {
		return e.depth > st.depth
	}
	return e.it.ID > st.id
}

func compareDriveDeltaEntries(a, b driveDeltaEntry) int {
	switch {
	case a.key != b.key:
		return driveCmp64(a.key, b.key)
	case a.depth != b.depth:
		return a.depth - b.depth
	default:
		return strings.Compare(a.it.ID, b.it.ID)
	}
}

func driveCmp64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// driveDeltaEntriesLocked lists the entries after the cursor, in order.
func (d *Drive) driveDeltaEntriesLocked(st driveDeltaState) []driveDeltaEntry {
	type kd struct {
		key   int64
		depth int
	}
	memo := map[string]kd{}
	var chain func(it *DriveItem) kd
	chain = func(it *DriveItem) kd {
		if v, ok := memo[it.ID]; ok {
			return v
		}
		v := kd{key: it.Seq}
		if p, ok := d.items[it.ParentID]; ok && it.ID != d.RootID {
			pv := chain(p)
			v = kd{key: max(it.Seq, pv.key), depth: pv.depth + 1}
		}
		memo[it.ID] = v
		return v
	}
	var out []driveDeltaEntry
	for _, it := range d.items {
		e := driveDeltaEntry{key: it.Seq, it: it}
		if st.enum {
			v := chain(it)
			e.key, e.depth = v.key, v.depth
		}
		if e.after(st) {
			out = append(out, e)
		}
	}
	for _, g := range d.gone {
		e := driveDeltaEntry{key: g.Seq, it: g, gone: true}
		if g.Seq > st.base && e.after(st) {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, compareDriveDeltaEntries)
	return out
}

// driveDeltaLink is the canonical delta URL for a state, keeping the
// request's other query options ($select, $top).
func (s *Server) driveDeltaLink(r *http.Request, driveID string, st driveDeltaState) string {
	q := r.URL.Query()
	q.Del("token")
	q.Del("$skiptoken")
	q.Set("token", st.encode(s, driveID))
	return s.GraphURL() + "/drives/" + url.PathEscape(driveID) + "/root/delta?" + encodeQuery(q)
}

func (s *Server) serveDriveDelta(w http.ResponseWriter, r *http.Request, u *User, a driveAddress, tok string) {
	d := u.Drive
	t := s.tenant
	size := pageSize(r, driveDefaultPage, driveMaxPage)
	_, excludeParents := r.Header[http.CanonicalHeaderKey("deltaExcludeParent")]

	t.mu.RLock()
	it, err := d.resolveAddrLocked(a)
	if err != nil {
		t.mu.RUnlock()
		writeDriveItemNotFound(w)
		return
	}
	if it.ID != d.RootID {
		t.mu.RUnlock()
		writeDriveError(w, http.StatusBadRequest, "invalidRequest", "Delta is only supported on the root folder of OneDrive for Business.")
		return
	}
	epoch, now := t.epoch, t.seq
	fresh := driveDeltaState{enum: false, epoch: epoch, base: now, key: now, depth: driveFreshCursorDepth}
	restart := driveDeltaState{enum: true, epoch: epoch, base: now}
	var st driveDeltaState
	switch tok {
	case "":
		st = restart
	case "latest":
		st = fresh
	default:
		if ts, ok := parseDeltaTimestamp(tok); ok {
			// A timestamp in place of a token: the changes since then.
			b := t.seqAtLocked(ts)
			st = driveDeltaState{enum: false, epoch: epoch, base: b, key: b, depth: driveFreshCursorDepth}
			break
		}
		var derr error
		st, derr = parseDriveDeltaState(s, d.ID, tok)
		if derr != nil || st.epoch != epoch {
			t.mu.RUnlock()
			w.Header().Set("Location", s.driveDeltaLink(r, d.ID, restart))
			if code := t.driveGoneCode; derr == nil && code != "" {
				writeDriveError(w, http.StatusGone, code, driveResyncMessage)
			} else if derr != nil {
				writeDriveError(w, http.StatusGone, "resyncChangesUploadDifferences",
					"Resync required: the delta token is not valid for this drive. Enumerate again, then upload local items the service did not return and files that differ from the service's version, keeping both copies when unsure.")
			} else {
				writeDriveError(w, http.StatusGone, "resyncChangesApplyDifferences",
					"Resync required: the delta token has expired. Enumerate again, replace local items with the service's version (deletions included) and upload local changes the service does not know about.")
			}
			return
		}
	}
	var entries []driveDeltaEntry
	if tok != "latest" {
		entries = d.driveDeltaEntriesLocked(st)
	}
	page := entries[:min(size, len(entries))]
	more := len(entries) > len(page)

	v := s.newDriveView(r, u, true)
	values := make([]map[string]any, 0, len(page))
	emitted := map[string]bool{}
	emitLive := func(x *DriveItem) {
		if !emitted[x.ID] {
			emitted[x.ID] = true
			values = append(values, v.itemJSON(x))
		}
	}
	emitAncestors := func(parentID string) {
		var chain []*DriveItem
		for p, ok := d.items[parentID]; ok; p, ok = d.items[p.ParentID] {
			chain = append(chain, p)
			if p.ID == d.RootID {
				break
			}
		}
		for i := len(chain) - 1; i >= 0; i-- {
			emitLive(chain[i])
		}
	}
	for _, e := range page {
		if !st.enum && !excludeParents {
			emitAncestors(e.it.ParentID)
		}
		if e.gone {
			values = append(values, v.deletedJSON(e.it))
		} else {
			emitLive(e.it)
		}
	}
	var link, linkKey string
	if more {
		last := page[len(page)-1]
		next := driveDeltaState{enum: st.enum, epoch: epoch, base: st.base, key: last.key, depth: last.depth, id: last.it.ID}
		link, linkKey = s.driveDeltaLink(r, d.ID, next), "@odata.nextLink"
	} else {
		link, linkKey = s.driveDeltaLink(r, d.ID, fresh), "@odata.deltaLink"
	}
	t.mu.RUnlock()

	if drivePrefersPageSize(r) {
		w.Header().Set("Preference-Applied", "odata.maxpagesize="+strconv.Itoa(size))
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"@odata.context": s.GraphURL() + "/$metadata#Collection(driveItem)",
		"value":          values,
		linkKey:          link,
	})
}

func drivePrefersPageSize(r *http.Request) bool {
	for _, p := range r.Header.Values("Prefer") {
		if strings.Contains(strings.ToLower(p), "odata.maxpagesize") {
			return true
		}
	}
	return false
}

// ---- simple upload ----

// serveDriveUpload answers PUT …/content: a new file at a path
// (root:/a/b.txt:/content, items/{parent}:/b.txt:/content) or new bytes for
// an existing file (items/{id}/content), up to driveSimpleUploadMax bytes,
// with @microsoft.graph.conflictBehavior fail, replace (the default for
// PUT) or rename. Missing parent folders are created. 201 for a new item,
// 200 for a replaced one.
func (s *Server) serveDriveUpload(w http.ResponseWriter, r *http.Request, u *User, rest string) {
	a, ok := parseDriveAddress(rest)
	switch {
	case !ok:
		writeDriveError(w, http.StatusBadRequest, "invalidRequest", "Invalid item address '"+rest+"'.")
		return
	case a.fn != "content":
		writeGraphError(w, http.StatusMethodNotAllowed, "BadRequest", "The request method is not supported for this resource.")
		return
	}
	behavior := r.URL.Query().Get("@microsoft.graph.conflictBehavior")
	switch behavior {
	case "":
		behavior = "replace"
	case "fail", "replace", "rename":
	default:
		writeDriveError(w, http.StatusBadRequest, "invalidRequest", "Invalid value for @microsoft.graph.conflictBehavior: "+behavior)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, driveSimpleUploadMax+1))
	if err != nil {
		writeDriveError(w, http.StatusBadRequest, "invalidRequest", "Could not read the request body.")
		return
	}
	if len(body) > driveSimpleUploadMax {
		writeDriveError(w, http.StatusRequestEntityTooLarge, "requestEntityTooLarge", "Use an upload session for files larger than 4 MiB.")
		return
	}
	c := BytesContent(body)
	hash, err := quickXorOf(c)
	if err != nil {
		writeDriveError(w, http.StatusInternalServerError, "generalException", err.Error())
		return
	}
	t := s.tenant
	t.mu.Lock()
	it, created, err := t.uploadLocked(u.Drive, a, c, hash, behavior)
	var v map[string]any
	if err == nil {
		v = s.newDriveView(r, u, false).itemJSON(it)
	}
	t.mu.Unlock()
	var br *badRequest
	switch {
	case writeDriveRefusal(w, err):
		return
	case errors.As(err, &br):
		writeDriveError(w, http.StatusBadRequest, br.code, br.msg)
		return
	case errors.Is(err, ErrNoItem):
		writeDriveItemNotFound(w)
		return
	case errors.Is(err, ErrConflict):
		writeDriveError(w, http.StatusConflict, "nameAlreadyExists", "The specified item name already exists.")
		return
	case err != nil:
		writeDriveError(w, http.StatusBadRequest, "invalidRequest", err.Error())
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	v["@odata.context"] = s.GraphURL() + "/$metadata#drives('" + u.Drive.ID + "')/items/$entity"
	writeJSON(w, status, v)
}

// uploadLocked stores an uploaded file; see serveDriveUpload.
func (t *Tenant) uploadLocked(d *Drive, a driveAddress, c Content, hash, behavior string) (*DriveItem, bool, error) {
	now := t.now().UTC()
	var it *DriveItem
	created := false
	if a.relPath == "" {
		// items/{id}/content: new bytes for an existing file.
		var err error
		if it, err = d.resolveAddrLocked(a); err != nil {
			return nil, false, err
		}
		if it.Folder {
			return nil, false, fmt.Errorf("m365sim: %s is a folder", it.Name)
		}
	} else {
		dir, name := splitPath(a.relPath)
		if err := CheckServiceName(name); err != nil {
			return nil, false, err
		}
		parent, err := d.resolveAddrLocked(driveAddress{base: a.base})
		if err != nil {
			return nil, false, err
		}
		for _, seg := range strings.Split(dir, "/") {
			if seg == "" {
				continue
			}
			if err := CheckServiceName(seg); err != nil {
				return nil, false, err
			}
			next := d.childLocked(parent.ID, seg)
			if next == nil {
				next = &DriveItem{ID: t.newItemID("01"), ParentID: parent.ID, Name: seg, Folder: true, Created: now, Modified: now, FSCreated: now, FSModified: now, Seq: t.bump()}
				next.stamp()
				d.items[next.ID] = next
			} else if !next.Folder {
				return nil, false, fmt.Errorf("m365sim: %q is a file, not a folder: %w", seg, ErrConflict)
			}
			parent = next
		}
		if !parent.Folder {
			return nil, false, fmt.Errorf("m365sim: %q is a file, not a folder: %w", parent.Name, ErrConflict)
		}
		it = d.childLocked(parent.ID, name)
		if it != nil && (behavior == "fail" || it.Folder && behavior == "replace") {
			return nil, false, fmt.Errorf("m365sim: %s: %w", name, ErrConflict)
		}
		if it != nil && behavior == "rename" {
			ext := path.Ext(name)
			stem := strings.TrimSuffix(name, ext)
			for n := 1; d.childLocked(parent.ID, name) != nil; n++ {
				name = stem + " " + strconv.Itoa(n) + ext
			}
			it = nil
		}
		if it == nil {
			it = &DriveItem{ID: t.newItemID("01"), ParentID: parent.ID, Name: name, Created: now, FSCreated: now}
			d.items[it.ID] = it
			created = true
		}
	}
	dir := ""
	if it.ParentID != "" {
		dir, _ = d.itemPathLocked(it.ParentID)
	}
	var old *DriveItem
	if !created {
		old = it
	}
	if err := t.checkUploadLocked(d, dir, it.Name, c.Size(), old); err != nil {
		if created {
			delete(d.items, it.ID)
		}
		return nil, false, err
	}
	it.Content = c
	it.Served = nil
	it.QuickXor = hash
	it.Modified = now
	it.FSModified = now
	it.Seq = t.bump()
	it.stamp()
	return it, created, nil
}
