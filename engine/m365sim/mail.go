package m365sim

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// Graph's default page sizes for Outlook collections.
const (
	mailDefaultPage = 10
	mailMaxPage     = 1000
)

func (s *Server) mailRoutes(mux *http.ServeMux) {
	s.userRoute(mux, "GET", "/mailFolders", true, s.handleListFolders)
	// msgraph-sdk-go calls functions with parentheses (delta()); Graph
	// accepts both spellings.
	s.userRoute(mux, "GET", "/mailFolders/delta", true, s.handleFolderDelta)
	s.userRoute(mux, "GET", "/mailFolders/delta()", true, s.handleFolderDelta)
	s.userRoute(mux, "GET", "/mailFolders/{fid}", true, s.handleGetFolder)
	s.userRoute(mux, "GET", "/mailFolders/{fid}/childFolders", true, s.handleListFolders)
	s.userRoute(mux, "GET", "/mailFolders/{fid}/messages", true, s.handleListMessages)
	s.userRoute(mux, "GET", "/mailFolders/{fid}/messages/delta", true, s.handleMessageDelta)
	s.userRoute(mux, "GET", "/mailFolders/{fid}/messages/delta()", true, s.handleMessageDelta)
	s.userRoute(mux, "GET", "/mailFolders/{fid}/messages/{mid}", true, s.handleGetMessage)
	s.userRoute(mux, "GET", "/mailFolders/{fid}/messages/{mid}/$value", true, s.handleGetMIME)
	s.userRoute(mux, "GET", "/messages", true, s.handleListMessages)
	s.userRoute(mux, "GET", "/messages/{mid}", true, s.handleGetMessage)
	s.userRoute(mux, "GET", "/messages/{mid}/$value", true, s.handleGetMIME)
}

// folderJSON renders a mailFolder; counts are computed under the read lock.
func (u *User) folderJSONLocked(f *MailFolder) map[string]any {
	total, unread, size := 0, 0, 0
	for _, m := range u.messages {
		if m.FolderID == f.ID {
			total++
			size += len(m.MIME)
			if !m.IsRead {
				unread++
			}
		}
	}
	children := len(u.childFoldersLocked(f.ID))
	parent := f.ParentID
	return map[string]any{
		"id":               f.ID,
		"displayName":      f.DisplayName,
		"parentFolderId":   parent,
		"childFolderCount": children,
		"unreadItemCount":  unread,
		"totalItemCount":   total,
		"sizeInBytes":      size,
		"isHidden":         f.Hidden,
	}
}

func (s *Server) handleListFolders(w http.ResponseWriter, r *http.Request, u *User) {
	t := s.tenant
	t.mu.RLock()
	parent := u.rootFolder
	if fid := r.PathValue("fid"); fid != "" {
		f, err := u.folderLocked(fid)
		if err != nil {
			t.mu.RUnlock()
			writeTenantError(w, err)
			return
		}
		parent = f.ID
	}
	includeHidden := strings.EqualFold(r.URL.Query().Get("includeHiddenFolders"), "true")
	fs := u.childFoldersLocked(parent)
	if filter := r.URL.Query().Get("$filter"); filter != "" {
		var err error
		if fs, err = filterFolders(fs, filter); err != nil {
			t.mu.RUnlock()
			writeBadRequest(w, err)
			return
		}
	}
	var items []map[string]any
	for _, f := range fs {
		if f.Hidden && !includeHidden {
			continue
		}
		items = append(items, selectFields(u.folderJSONLocked(f), r.URL.Query().Get("$select")))
	}
	t.mu.RUnlock()
	if items == nil {
		items = []map[string]any{}
	}
	s.writePage(w, r, "users('"+u.ID+"')/mailFolders", items, mailDefaultPage, mailMaxPage)
}

func (s *Server) handleGetFolder(w http.ResponseWriter, r *http.Request, u *User) {
	t := s.tenant
	t.mu.RLock()
	f, err := u.folderLocked(r.PathValue("fid"))
	if err != nil {
		t.mu.RUnlock()
		writeTenantError(w, err)
		return
	}
	v := selectFields(u.folderJSONLocked(f), r.URL.Query().Get("$select"))
	t.mu.RUnlock()
	v["@odata.context"] = s.GraphURL() + "/$metadata#users('" + u.ID + "')/mailFolders/$entity"
	writeJSON(w, http.StatusOK, v)
}

// messageJSON renders a message as Graph's message resource.
func (s *Server) messageJSON(u *User, m *Message) map[string]any {
	h := m.Header
	recips := func(l []Recipient) []map[string]any {
		out := make([]map[string]any, 0, len(l))
		for _, r := range l {
			out = append(out, map[string]any{"emailAddress": map[string]any{"name": r.Name, "address": r.Address}})
		}
		return out
	}
	one := func(r *Recipient) any {
		if r == nil {
			return nil
		}
		return map[string]any{"emailAddress": map[string]any{"name": r.Name, "address": r.Address}}
	}
	body := messageBody(h, false)
	hasAtt := false
	for _, a := range h.Attachments {
		if !a.Inline {
			hasAtt = true
		}
	}
	for _, ra := range m.References {
		hasAtt = hasAtt || !ra.IsInline
	}
	flag := map[string]any{"flagStatus": m.FlagStatus}
	cats := m.Categories
	if cats == nil {
		cats = []string{}
	}
	v := map[string]any{
		"@odata.etag":                "W/\"" + m.ChangeKey + "\"",
		"id":                         m.ID,
		"createdDateTime":            graphTime(m.Created),
		"lastModifiedDateTime":       graphTime(m.Modified),
		"changeKey":                  m.ChangeKey,
		"categories":                 cats,
		"receivedDateTime":           graphTime(receivedOf(m)),
		"sentDateTime":               nullTime(h.Sent),
		"hasAttachments":             hasAtt,
		"internetMessageId":          h.InternetMessageID,
		"subject":                    h.Subject,
		"bodyPreview":                h.BodyPreview(),
		"importance":                 m.Importance,
		"parentFolderId":             m.FolderID,
		"conversationId":             h.ConversationID,
		"isDeliveryReceiptRequested": false,
		"isReadReceiptRequested":     false,
		"isRead":                     m.IsRead,
		"isDraft":                    m.IsDraft,
		"webLink":                    s.orig.outlook + "/owa/?ItemID=" + url.QueryEscape(m.ID) + "&exvsurl=1&viewmodel=ReadMessageItem",
		"inferenceClassification":    inferenceOf(m),
		"conversationIndex":          conversationIndex(h),
		"body":                       body,
		"sender":                     one(h.Sender),
		"from":                       one(h.From),
		"toRecipients":               recips(h.To),
		"ccRecipients":               recips(h.Cc),
		"bccRecipients":              recips(h.Bcc),
		"replyTo":                    recips(h.ReplyTo),
		"flag":                       flag,
	}
	return v
}

func (s *Server) handleGetMessage(w http.ResponseWriter, r *http.Request, u *User) {
	t := s.tenant
	t.mu.RLock()
	m, ok := u.msgLocked(r.PathValue("mid"))
	if ok && r.PathValue("fid") != "" {
		f, err := u.folderLocked(r.PathValue("fid"))
		ok = err == nil && f.ID == m.FolderID
	}
	if !ok {
		t.mu.RUnlock()
		writeGraphError(w, http.StatusNotFound, "ErrorItemNotFound", "The specified object was not found in the store.")
		return
	}
	v := selectFields(s.messageJSONFor(r, u, m), r.URL.Query().Get("$select"))
	applyBodyPreference(v, m.Header, bodyPreference(w, r))
	t.mu.RUnlock()
	v["@odata.context"] = s.GraphURL() + "/$metadata#users('" + u.ID + "')/messages/$entity"
	writeJSON(w, http.StatusOK, v)
}

// handleGetMIME serves the message exactly as stored, as /$value does.
func (s *Server) handleGetMIME(w http.ResponseWriter, r *http.Request, u *User) {
	t := s.tenant
	t.mu.RLock()
	m, ok := u.msgLocked(r.PathValue("mid"))
	var mime []byte
	if ok {
		mime = m.MIME // immutable once stored: safe to write outside the lock
	}
	t.mu.RUnlock()
	if !ok {
		writeGraphError(w, http.StatusNotFound, "ErrorItemNotFound", "The specified object was not found in the store.")
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	w.Header().Set("Content-Length", strconv.Itoa(len(mime)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(mime)
}

func (s *Server) handleListMessages(w http.ResponseWriter, r *http.Request, u *User) {
	t := s.tenant
	t.mu.RLock()
	fid := ""
	if f := r.PathValue("fid"); f != "" {
		folder, err := u.folderLocked(f)
		if err != nil {
			t.mu.RUnlock()
			writeTenantError(w, err)
			return
		}
		fid = folder.ID
	}
	var msgs []*Message
	for _, m := range u.messages {
		if fid == "" || m.FolderID == fid {
			msgs = append(msgs, m)
		}
	}
	if f := r.URL.Query().Get("$filter"); f != "" {
		var err error
		if msgs, err = filterMessages(msgs, f); err != nil {
			t.mu.RUnlock()
			writeBadRequest(w, err)
			return
		}
	}
	// Graph's default order for message lists: newest received first.
	sort.Slice(msgs, func(i, j int) bool {
		if !msgs[i].Header.Received.Equal(msgs[j].Header.Received) {
			return msgs[i].Header.Received.After(msgs[j].Header.Received)
		}
		return msgs[i].ID < msgs[j].ID
	})
	sel := r.URL.Query().Get("$select")
	asText := bodyPreference(w, r)
	items := make([]map[string]any, 0, len(msgs))
	for _, m := range msgs {
		v := selectFields(s.messageJSONFor(r, u, m), sel)
		applyBodyPreference(v, m.Header, asText)
		items = append(items, v)
	}
	t.mu.RUnlock()
	s.writePage(w, r, "users('"+u.ID+"')/messages", items, mailDefaultPage, mailMaxPage)
}

// ---- delta ----

// mailDeltaState is what a $skiptoken or $deltatoken stands for. Graph's
// tokens are opaque; these are base64url JSON with an HMAC so a client
// cannot forge or edit them.
type mailDeltaState struct {
	Folder string `json:"f"`
	Since  int64  `json:"s"`           // changes after this sequence number
	Upto   int64  `json:"u,omitempty"` // paging: the snapshot's sequence number
	After  int64  `json:"a,omitempty"` // paging: last sequence number shown
	AfterI string `json:"i,omitempty"` // paging: last ID shown at that sequence
	Select string `json:"sel,omitempty"`
	Change string `json:"ct,omitempty"` // changeType filter
	Page   int    `json:"p,omitempty"`
	Gen    int64  `json:"g,omitempty"` // evictions of the folder's tokens when issued
}

func (s *Server) sealToken(v any) string {
	b, _ := json.Marshal(v)
	mac := hmac.New(sha256.New, []byte(s.control))
	mac.Write(b)
	return base64.RawURLEncoding.EncodeToString(append(mac.Sum(nil)[:16], b...))
}

func (s *Server) openToken(tok string, v any) bool {
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(raw) < 17 {
		return false
	}
	mac := hmac.New(sha256.New, []byte(s.control))
	mac.Write(raw[16:])
	if !hmac.Equal(mac.Sum(nil)[:16], raw[:16]) {
		return false
	}
	return json.Unmarshal(raw[16:], v) == nil
}

type mailDeltaEntry struct {
	seq     int64
	id      string
	restID  string   // a removal's default-format ID
	msg     *Message // nil for a removal
	removed bool
}

func (s *Server) handleMessageDelta(w http.ResponseWriter, r *http.Request, u *User) {
	t := s.tenant
	q := r.URL.Query()
	var st mailDeltaState
	switch {
	case q.Get("$skiptoken") != "":
		if !s.openToken(q.Get("$skiptoken"), &st) {
			writeGraphError(w, http.StatusBadRequest, "SyncStateInvalid", "The sync state is invalid.")
			return
		}
	case q.Get("$deltatoken") != "":
		if !s.openToken(q.Get("$deltatoken"), &st) {
			writeGraphError(w, http.StatusBadRequest, "SyncStateInvalid", "The sync state is invalid.")
			return
		}
		st.Upto, st.After, st.AfterI = 0, 0, ""
	default:
		st.Select = q.Get("$select")
		st.Change = q.Get("changeType")
		switch st.Change {
		case "", "created", "updated", "deleted":
		default:
			writeGraphError(w, http.StatusBadRequest, "BadRequest", "Invalid changeType: "+st.Change)
			return
		}
	}
	size := pageSize(r, mailDefaultPage, mailMaxPage)

	t.mu.RLock()
	f, err := u.folderLocked(r.PathValue("fid"))
	if err != nil {
		t.mu.RUnlock()
		writeTenantError(w, err)
		return
	}
	if st.Folder != "" && st.Folder != f.ID {
		t.mu.RUnlock()
		writeGraphError(w, http.StatusBadRequest, "SyncStateInvalid", "The sync state does not belong to this folder.")
		return
	}
	if ev := u.deltaEvicted[f.ID]; st.Folder != "" && st.Gen != ev.gen {
		t.mu.RUnlock()
		s.writeSyncStateNotFound(w, r, ev, st.Select, st.Change)
		return
	}
	st.Folder = f.ID
	st.Gen = u.deltaEvicted[f.ID].gen
	if st.Upto == 0 {
		// A new round: everything up to now is in it; later changes wait
		// for the delta link, so nothing is lost while the client pages.
		st.Upto = t.seq
	}
	initial := st.Since == 0
	var entries []mailDeltaEntry
	live := map[string]int64{}
	for _, m := range u.messages {
		if m.FolderID == f.ID && m.Seq > st.Since && m.Seq <= st.Upto {
			entries = append(entries, mailDeltaEntry{seq: m.Seq, id: m.ID, msg: m})
			live[m.ID] = m.Seq
		}
	}
	if !initial {
		for _, g := range u.mailGone {
			if g.ParentID != f.ID || g.Seq <= st.Since || g.Seq > st.Upto {
				continue
			}
			if s, ok := live[g.ID]; ok && s > g.Seq {
				continue // it came back into this folder afterwards
			}
			if cur, ok := u.messages[g.ID]; ok && cur.FolderID == f.ID && cur.Seq > g.Seq {
				continue
			}
			entries = append(entries, mailDeltaEntry{seq: g.Seq, id: g.ID, restID: g.RestID, removed: true})
		}
	}
	sort.Slice(entries, func(i, j int) bool {
		if entries[i].seq != entries[j].seq {
			return entries[i].seq < entries[j].seq
		}
		return entries[i].id < entries[j].id
	})
	// Skip what earlier pages of this round showed.
	start := sort.Search(len(entries), func(i int) bool {
		e := entries[i]
		return e.seq > st.After || (e.seq == st.After && e.id > st.AfterI)
	})
	var page []map[string]any
	i := start
	asText := bodyPreference(w, r)
	for ; i < len(entries) && len(page) < size; i++ {
		e := entries[i]
		st.After, st.AfterI = e.seq, e.id
		if e.removed {
			if st.Change == "" || st.Change == "deleted" {
				page = append(page, map[string]any{"@odata.type": "#microsoft.graph.message", "id": removedID(r, e), "@removed": map[string]any{"reason": "deleted"}})
			}
			continue
		}
		created := initial || e.msg.CreatedSeq > st.Since
		if st.Change == "deleted" || (st.Change == "created" && !created) || (st.Change == "updated" && created) {
			continue
		}
		v := selectFields(s.messageJSONFor(r, u, e.msg), st.Select)
		applyBodyPreference(v, e.msg.Header, asText)
		v["@odata.type"] = "#microsoft.graph.message"
		page = append(page, v)
	}
	more := i < len(entries)
	t.mu.RUnlock()

	if page == nil {
		page = []map[string]any{}
	}
	base := s.GraphURL() + strings.TrimPrefix(r.URL.Path, "/v1.0")
	out := map[string]any{
		"@odata.context": s.GraphURL() + "/$metadata#Collection(message)",
		"value":          page,
	}
	if more {
		st.Page++
		out["@odata.nextLink"] = base + "?$skiptoken=" + s.sealToken(st)
	} else {
		next := mailDeltaState{Folder: st.Folder, Since: st.Upto, Select: st.Select, Change: st.Change, Gen: st.Gen}
		out["@odata.deltaLink"] = base + "?$deltatoken=" + s.sealToken(next)
	}
	writeJSON(w, http.StatusOK, out)
}

// handleFolderDelta answers mailFolders/delta: every folder of the mailbox
// (flattened), then changes: added, renamed and moved folders, and deleted
// ones with @removed (mailfolders_change.go).
func (s *Server) handleFolderDelta(w http.ResponseWriter, r *http.Request, u *User) {
	t := s.tenant
	q := r.URL.Query()
	var st mailDeltaState
	for _, k := range []string{"$skiptoken", "$deltatoken"} {
		if v := q.Get(k); v != "" {
			if !s.openToken(v, &st) || st.Folder != mailDeltaFolders {
				writeGraphError(w, http.StatusBadRequest, "SyncStateInvalid", "The sync state is invalid.")
				return
			}
			if k == "$deltatoken" {
				st.Upto, st.After, st.AfterI = 0, 0, ""
			}
		}
	}
	hadToken := st.Folder != ""
	st.Folder = mailDeltaFolders
	if st.Select == "" {
		st.Select = q.Get("$select")
	}
	size := pageSize(r, mailDefaultPage, mailMaxPage)
	t.mu.RLock()
	if ev := u.deltaEvicted[mailDeltaFolders]; hadToken && st.Gen != ev.gen {
		t.mu.RUnlock()
		s.writeSyncStateNotFound(w, r, ev, st.Select, "")
		return
	}
	st.Gen = u.deltaEvicted[mailDeltaFolders].gen
	if st.Upto == 0 {
		st.Upto = t.seq
	}
	var fs []*MailFolder
	for _, f := range u.folders {
		if f.ID != u.rootFolder && f.Seq > st.Since && f.Seq <= st.Upto {
			fs = append(fs, f)
		}
	}
	if st.Since != 0 {
		fs = append(fs, u.goneFoldersLocked(st.Since, st.Upto)...)
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
		if fs[i].removed {
			page = append(page, map[string]any{"@odata.type": "#microsoft.graph.mailFolder", "id": fs[i].ID, "@removed": map[string]any{"reason": "deleted"}})
			continue
		}
		v := selectFields(u.folderJSONLocked(fs[i]), st.Select)
		v["@odata.type"] = "#microsoft.graph.mailFolder"
		page = append(page, v)
	}
	more := i < len(fs)
	t.mu.RUnlock()
	if page == nil {
		page = []map[string]any{}
	}
	base := s.GraphURL() + strings.TrimPrefix(r.URL.Path, "/v1.0")
	out := map[string]any{"@odata.context": s.GraphURL() + "/$metadata#Collection(mailFolder)", "value": page}
	if more {
		out["@odata.nextLink"] = base + "?$skiptoken=" + s.sealToken(st)
	} else {
		out["@odata.deltaLink"] = base + "?$deltatoken=" + s.sealToken(mailDeltaState{Folder: mailDeltaFolders, Since: st.Upto, Select: st.Select, Gen: st.Gen})
	}
	writeJSON(w, http.StatusOK, out)
}
