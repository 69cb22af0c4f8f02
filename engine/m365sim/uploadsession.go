package m365sim

// Upload sessions: OneDrive's (driveItem: createUploadSession) and
// Outlook's for large attachments (attachment: createUploadSession).
//
// Both answer with an uploadUrl that needs no Authorization header (the
// documentation warns that sending one can fail with 401; like
// SharePoint's and Outlook's, its credential is in the query string, which
// logs leave out) and take the
// bytes in sequential PUTs with Content-Range. What differs, as
// documented:
//   - OneDrive: each fragment a multiple of 320 KiB except the last, at
//     most 60 MiB; 202 Accepted with nextExpectedRanges ["N-"] until the
//     last, which answers 201 Created (new file) or 200 OK (replaced) with
//     the driveItem. The item's conflictBehavior and fileSystemInfo come
//     from the create request.
//   - Outlook: size between 3 MB and 150 MB declared up front; each PUT at
//     most 4 MB; 200 OK with nextExpectedRanges ["N"] until the last,
//     which answers 201 Created with the attachment's URL in Location.
//   - a fragment that does not start where the last one ended answers 416
//     Requested Range Not Satisfiable; sessions expire when idle (each
//     fragment extends them); DELETE on the uploadUrl cancels.

import (
	"crypto/subtle"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

const (
	// driveFragmentUnit is the 320 KiB every OneDrive fragment but the
	// last must be a multiple of.
	driveFragmentUnit = 320 << 10
	// driveFragmentMax is the largest OneDrive fragment (60 MiB).
	driveFragmentMax = 60 << 20
	// attachmentChunkMax is the largest Outlook attachment chunk (4 MB).
	attachmentChunkMax = 4 << 20
	// attachmentSessionMin is the smallest attachment an upload session
	// takes (3 MB): smaller ones are POSTed.
	attachmentSessionMin = 3_000_000
	// uploadSessionIdle is how long a session lives without a fragment.
	uploadSessionIdle = 15 * time.Minute
)

type uploadKind int

const (
	uploadDrive uploadKind = iota + 1
	uploadAttachment
)

type uploadSession struct {
	mu       sync.Mutex
	token    string // the session's name in the upload URL's path
	secret   string // the URL's tempauth, which is its only credential
	kind     uploadKind
	user     *User
	clientID string
	expires  time.Time
	data     []byte
	total    int64 // -1 until the first OneDrive fragment says it

	// OneDrive
	addr       driveAddress
	behavior   string
	fsCreated  time.Time
	fsModified time.Time

	// Outlook
	msgID string
	att   Attachment
}

func (u *uploadSession) nextRange() []string {
	n := strconv.Itoa(len(u.data))
	// Drive sessions always say "{start}-"; an attachment session says
	// "0-" when created (attachment-createuploadsession.md) and then the
	// bare offset ("2097152", outlook-large-attachments).
	if u.kind == uploadDrive || len(u.data) == 0 {
		return []string{n + "-"}
	}
	return []string{n}
}

// uploadSessions holds the open sessions by their secret token.
type uploadSessions struct {
	mu sync.Mutex
	m  map[string]*uploadSession
}

func newUploadSessions() *uploadSessions { return &uploadSessions{m: map[string]*uploadSession{}} }

func (s *uploadSessions) add(u *uploadSession) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[u.token] = u
}

func (s *uploadSessions) get(tok, secret string, now time.Time) *uploadSession {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.m[tok]
	if u == nil || subtle.ConstantTimeCompare([]byte(u.secret), []byte(secret)) != 1 {
		return nil
	}
	if now.After(u.expires) {
		delete(s.m, tok)
		return nil
	}
	return u
}

func (s *uploadSessions) remove(tok string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, tok)
}

// OpenUploadSessions is how many upload sessions are open, for tests.
func (s *Server) OpenUploadSessions() int {
	s.uploads.mu.Lock()
	defer s.uploads.mu.Unlock()
	return len(s.uploads.m)
}

func (s *Server) newUploadSession(r *http.Request, u *User, kind uploadKind) *uploadSession {
	sess := &uploadSession{
		token:   "tok-" + randomToken(12),
		secret:  randomToken(32),
		kind:    kind,
		user:    u,
		expires: s.tenant.now().Add(uploadSessionIdle),
		total:   -1,
	}
	if se := sessionFrom(r.Context()); se != nil {
		sess.clientID = se.ClientID
	}
	return sess
}

func (s *Server) uploadSessionJSON(u *uploadSession) map[string]any {
	return map[string]any{
		"@odata.context":     s.GraphURL() + "/$metadata#microsoft.graph.uploadSession",
		"uploadUrl":          s.orig.files + "/_upload/" + u.token + "?tempauth=" + u.secret,
		"expirationDateTime": u.expires.UTC().Format("2006-01-02T15:04:05.000Z"),
		"nextExpectedRanges": u.nextRange(),
	}
}

// ---- creating sessions ----

// serveCreateDriveSession answers POST …/items/{parent}:/{name}:/createUploadSession
// (a new file) or …/items/{id}/createUploadSession (new bytes for a file).
func (s *Server) serveCreateDriveSession(w http.ResponseWriter, r *http.Request, u *User, a driveAddress) {
	var in struct {
		Item struct {
			Behavior       string `json:"@microsoft.graph.conflictBehavior"`
			Name           string `json:"name"`
			FileSystemInfo *struct {
				Created  *time.Time `json:"createdDateTime"`
				Modified *time.Time `json:"lastModifiedDateTime"`
			} `json:"fileSystemInfo"`
		} `json:"item"`
		DeferCommit bool `json:"deferCommit"`
	}
	if r.ContentLength != 0 && !readJSON(w, r, &in) {
		return
	}
	if in.DeferCommit {
		writeDriveError(w, http.StatusBadRequest, "invalidRequest", "deferCommit is not supported by the simulator.")
		return
	}
	behavior := in.Item.Behavior
	if behavior == "" {
		behavior = r.URL.Query().Get("@microsoft.graph.conflictBehavior")
	}
	switch behavior {
	case "":
		behavior = "replace"
	case "fail", "replace", "rename":
	default:
		writeDriveError(w, http.StatusBadRequest, "invalidRequest", "Invalid value for @microsoft.graph.conflictBehavior: "+behavior)
		return
	}
	sess := s.newUploadSession(r, u, uploadDrive)
	sess.addr, sess.behavior = driveAddress{base: a.base, relPath: a.relPath, fn: "content"}, behavior
	if fs := in.Item.FileSystemInfo; fs != nil {
		if fs.Created != nil {
			sess.fsCreated = fs.Created.UTC()
		}
		if fs.Modified != nil {
			sess.fsModified = fs.Modified.UTC()
		}
	}
	t := s.tenant
	t.mu.RLock()
	var err error
	if a.relPath == "" {
		var it *DriveItem
		if it, err = u.Drive.resolveAddrLocked(a); err == nil && it.Folder {
			err = invalid("invalidRequest", "The item is a folder; name the new file with :/name:.")
		}
	} else {
		dir, name := splitPath(a.relPath)
		if err = CheckServiceName(name); err == nil {
			var parent *DriveItem
			if parent, err = u.Drive.resolveAddrLocked(driveAddress{base: a.base, relPath: dir}); err == nil {
				if c := u.Drive.childLocked(parent.ID, name); c != nil && behavior == "fail" {
					err = fmt.Errorf("m365sim: %s: %w", name, ErrConflict)
				}
			} else if dir != "" {
				err = nil // missing folders along the path are created at commit
			}
		}
	}
	t.mu.RUnlock()
	if err != nil {
		writeDriveWriteError(w, err)
		return
	}
	s.uploads.add(sess)
	writeJSON(w, http.StatusOK, s.uploadSessionJSON(sess))
}

// handleCreateAttachmentSession answers
// POST …/messages/{id}/attachments/createUploadSession.
func (s *Server) handleCreateAttachmentSession(w http.ResponseWriter, r *http.Request, u *User) {
	id, ok := s.messageInFolder(w, r, u)
	if !ok {
		return
	}
	var in struct {
		AttachmentItem struct {
			AttachmentType string `json:"attachmentType"`
			Name           string `json:"name"`
			Size           int64  `json:"size"`
			ContentType    string `json:"contentType"`
			IsInline       bool   `json:"isInline"`
			ContentID      string `json:"contentId"`
		} `json:"AttachmentItem"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	ai := in.AttachmentItem
	if !strings.EqualFold(ai.AttachmentType, "file") {
		writeGraphError(w, http.StatusBadRequest, "ErrorInvalidRequest", "attachmentType must be file.")
		return
	}
	name, err := validAttachmentName(ai.Name)
	if err != nil {
		writeBadRequest(w, err)
		return
	}
	switch {
	case ai.Size < attachmentSessionMin:
		writeGraphError(w, http.StatusBadRequest, "ErrorAttachmentSizeShouldNotBeLessThanMinimumSize", "Attachment size must be greater than the minimum size.")
		return
	case ai.Size > maxAttachment:
		writeGraphError(w, http.StatusBadRequest, "ErrorAttachmentSizeExceedsLimit", "The attachment is larger than 150 MB.")
		return
	}
	t := s.tenant
	t.mu.RLock()
	m, ok := u.messages[id]
	composed := ok && m.composed != nil
	t.mu.RUnlock()
	if !composed {
		writeGraphError(w, http.StatusBadRequest, "ErrorInvalidRequest", "The simulator adds attachments only to messages created through Graph.")
		return
	}
	sess := s.newUploadSession(r, u, uploadAttachment)
	sess.msgID, sess.total = id, ai.Size
	sess.att = Attachment{Name: name, ContentType: oneLine(ai.ContentType), IsInline: ai.IsInline, ContentID: validContentID(ai.ContentID)}
	s.uploads.add(sess)
	writeJSON(w, http.StatusCreated, s.uploadSessionJSON(sess))
}

// ---- the upload URL ----

// handleUpload serves the pre-authenticated upload URLs. They go through
// fault injection and the throttling model like Graph requests do.
func (s *Server) handleUpload(w http.ResponseWriter, r *http.Request) {
	tok := strings.TrimPrefix(r.URL.Path, "/_upload/")
	sess := s.uploads.get(tok, r.URL.Query().Get("tempauth"), s.tenant.now())
	if sess == nil {
		writeDriveError(w, http.StatusNotFound, "itemNotFound", "The upload session was not found or has expired.")
		return
	}
	// A fragment is a content transfer (so content faults such as a cut
	// response apply) and, on OneDrive, a write: 2 resource units.
	res := Resource{Kind: ResourceDrive, Key: s.driveBudgetKey(sess.clientID), Units: 2, Content: true}
	if sess.kind == uploadAttachment {
		res = Resource{Kind: ResourceMailbox, Key: sess.clientID + "/" + sess.user.ID, Units: 1, Content: true}
	}
	s.admit(w, r, res, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			writeGraphError(w, http.StatusUnauthorized, "unauthenticated", "The upload URL is pre-authenticated; do not send an Authorization header.")
			return
		}
		switch r.Method {
		case http.MethodPut:
			s.uploadFragment(w, r, sess)
		case http.MethodDelete:
			s.uploads.remove(sess.token)
			w.WriteHeader(http.StatusNoContent)
		case http.MethodGet:
			sess.mu.Lock()
			v := s.uploadSessionJSON(sess)
			sess.mu.Unlock()
			writeJSON(w, http.StatusOK, v)
		default:
			writeGraphError(w, http.StatusMethodNotAllowed, "BadRequest", "The request method is not supported for this resource.")
		}
	}))
}

// parseContentRange reads "bytes a-b/total".
func parseContentRange(v string) (start, end, total int64, ok bool) {
	rest, found := strings.CutPrefix(strings.TrimSpace(v), "bytes ")
	if !found {
		return 0, 0, 0, false
	}
	rng, tot, found := strings.Cut(rest, "/")
	if !found {
		return 0, 0, 0, false
	}
	a, b, found := strings.Cut(rng, "-")
	if !found {
		return 0, 0, 0, false
	}
	var err1, err2, err3 error
	start, err1 = strconv.ParseInt(a, 10, 64)
	end, err2 = strconv.ParseInt(b, 10, 64)
	total, err3 = strconv.ParseInt(tot, 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || start < 0 || end < start || total <= end {
		return 0, 0, 0, false
	}
	return start, end, total, true
}

func (s *Server) uploadFragment(w http.ResponseWriter, r *http.Request, sess *uploadSession) {
	sess.mu.Lock()
	defer sess.mu.Unlock()
	bad := func(status int, code, msg string) {
		writeGraphError(w, status, code, msg)
	}
	start, end, total, ok := parseContentRange(r.Header.Get("Content-Range"))
	if !ok {
		bad(http.StatusBadRequest, "invalidRequest", "A valid Content-Range header (bytes start-end/total) is required.")
		return
	}
	n := end - start + 1
	if r.ContentLength != n {
		bad(http.StatusBadRequest, "invalidRequest", "Content-Length does not match Content-Range.")
		return
	}
	max := int64(driveFragmentMax)
	if sess.kind == uploadAttachment {
		max = attachmentChunkMax
	}
	if n > max {
		bad(http.StatusRequestEntityTooLarge, "requestEntityTooLarge", fmt.Sprintf("A fragment may be at most %d bytes.", max))
		return
	}
	if sess.total >= 0 && total != sess.total {
		bad(http.StatusBadRequest, "invalidRequest", "The total size in Content-Range differs from the session's.")
		return
	}
	if start != int64(len(sess.data)) {
		w.Header().Set("Content-Range", "bytes */"+strconv.FormatInt(total, 10))
		bad(http.StatusRequestedRangeNotSatisfiable, "invalidRange", "The fragment does not start at the next expected byte "+strconv.Itoa(len(sess.data))+".")
		return
	}
	if sess.kind == uploadDrive && end != total-1 && n%driveFragmentUnit != 0 {
		bad(http.StatusBadRequest, "invalidRequest", "Each fragment except the last must be a multiple of 320 KiB (327,680 bytes).")
		return
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(r.Body, buf); err != nil {
		bad(http.StatusBadRequest, "invalidRequest", "The request body is shorter than Content-Length.")
		return
	}
	sess.total = total
	sess.data = append(sess.data, buf...)
	sess.expires = s.tenant.now().Add(uploadSessionIdle)
	if int64(len(sess.data)) < total {
		v := map[string]any{
			"expirationDateTime": sess.expires.UTC().Format("2006-01-02T15:04:05.000Z"),
			"nextExpectedRanges": sess.nextRange(),
		}
		if sess.kind == uploadDrive {
			writeJSON(w, http.StatusAccepted, v)
		} else {
			v["@odata.context"] = s.GraphURL() + "/$metadata#microsoft.graph.uploadSession"
			writeJSON(w, http.StatusOK, v)
		}
		return
	}
	s.uploads.remove(sess.token)
	if sess.kind == uploadAttachment {
		a := sess.att
		a.Content = sess.data
		a, err := s.tenant.addAttachment(sess.user, sess.msgID, a)
		if err != nil {
			writeBadRequest(w, err)
			return
		}
		w.Header().Set("Location", s.base+"/api/v2.0/Users('"+sess.user.ID+"')/Messages('"+sess.msgID+"')/Attachments('"+a.ID+"')")
		w.WriteHeader(http.StatusCreated)
		return
	}
	s.commitDriveUpload(w, r, sess)
}

func (s *Server) commitDriveUpload(w http.ResponseWriter, r *http.Request, sess *uploadSession) {
	c := BytesContent(sess.data)
	hash, err := quickXorOf(c)
	if err != nil {
		writeDriveError(w, http.StatusInternalServerError, "generalException", err.Error())
		return
	}
	t := s.tenant
	u := sess.user
	t.mu.Lock()
	it, created, err := t.uploadLocked(u.Drive, sess.addr, c, hash, sess.behavior)
	var v map[string]any
	if err == nil {
		if !sess.fsCreated.IsZero() {
			it.FSCreated = sess.fsCreated
		}
		if !sess.fsModified.IsZero() {
			it.FSModified = sess.fsModified
		}
		v = s.newDriveView(r, u, false).itemJSON(it)
	}
	t.mu.Unlock()
	if err != nil {
		writeDriveWriteError(w, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	v["@odata.context"] = s.GraphURL() + "/$metadata#drives('" + u.Drive.ID + "')/items/$entity"
	writeJSON(w, status, v)
}
