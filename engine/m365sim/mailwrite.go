package m365sim

// The write side of Outlook mail in Graph v1.0, as a restore uses it:
// create mail folders, create messages from JSON or MIME, update and delete
// messages, add file attachments, and find messages by internetMessageId.
//
// Documented behaviour enforced here (message resource, user: create
// message, message: update, Outlook extended properties):
//   - a message created from MIME (Content-Type: text/plain, base64) is a
//     draft; one created from JSON is a draft too, unless its
//     singleValueExtendedProperties set PidTagMessageFlags (Integer 0x0E07)
//     without MSGFLAG_UNSENT (0x8). MSGFLAG_READ (0x1) then means read.
//   - PidTagMessageDeliveryTime (SystemTime 0x0E06) and
//     PidTagClientSubmitTime (SystemTime 0x0039) become receivedDateTime and
//     sentDateTime.
//   - isDraft cannot change after creation: a PATCH of it, or of
//     PidTagMessageFlags, is ignored.
//   - internetMessageHeaders accepts only custom headers (x- prefix).
//   - a file attachment POSTed inline is at most 3 MB; larger ones go
//     through an upload session (uploadsession.go).
//   - a folder whose display name already exists under the same parent is
//     refused with 409 ErrorFolderExists.

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/http"
	"net/mail"
	"net/textproto"
	"regexp"
	"strconv"
	"strings"
	"time"
)

const (
	// maxJSONBody bounds a JSON request: Graph's limit is 4 MB, and a
	// 3 MB attachment is 4 MB of base64, so a little room above that.
	maxJSONBody = 5 << 20
	// maxMIMECreateBody bounds the base64 MIME of a create-from-MIME
	// request: Exchange's default 35 MB message limit, base64-encoded.
	maxMIMECreateBody = 48 << 20
	// maxInlineAttachment is the largest attachment a POST takes (3 MB);
	// larger ones need an upload session.
	maxInlineAttachment = 3 << 20
	// maxRecipients and maxCategories bound hostile lists.
	maxRecipients = 500
	maxCategories = 100
	maxXHeaders   = 100
	maxAttachment = 150 << 20
)

// MAPI property tags and flags the create-message rule reads.
const (
	propMessageFlags = "Integer 0x0E07"
	propDeliveryTime = "SystemTime 0x0E06"
	propSubmitTime   = "SystemTime 0x0039"
	msgFlagRead      = 0x1
	msgFlagUnsent    = 0x8
)

// Attachment is a file attachment added through Graph.
type Attachment struct {
	ID          string
	Name        string
	ContentType string
	IsInline    bool
	ContentID   string
	Content     []byte
	Modified    time.Time
}

// composedMessage is what a JSON create request said: the parts the
// message's MIME is built from.
type composedMessage struct {
	Subject           string
	BodyHTML          bool
	Body              string
	From, Sender      *Recipient
	To, Cc, Bcc       []Recipient
	ReplyTo           []Recipient
	InternetMessageID string
	Headers           [][2]string // x- headers, in order
	Importance        string
	Sent, Received    time.Time
}

func (s *Server) mailWriteRoutes(mux *http.ServeMux) {
	s.userRoute(mux, "POST", "/mailFolders", true, s.handleCreateFolder)
	s.userRoute(mux, "POST", "/mailFolders/{fid}/childFolders", true, s.handleCreateFolder)
	s.userRoute(mux, "POST", "/mailFolders/{fid}/messages", true, s.handleCreateMessage)
	s.userRoute(mux, "POST", "/messages", true, s.handleCreateMessage)
	for _, p := range []string{"/messages/{mid}", "/mailFolders/{fid}/messages/{mid}"} {
		s.userRoute(mux, "PATCH", p, true, s.handlePatchMessage)
		s.userRoute(mux, "DELETE", p, true, s.handleDeleteMessage)
		s.userRoute(mux, "GET", p+"/attachments", true, s.handleListAttachments)
		s.userRoute(mux, "POST", p+"/attachments", true, s.handleAddAttachment)
		s.userRoute(mux, "POST", p+"/attachments/createUploadSession", true, s.handleCreateAttachmentSession)
	}
}

// readJSON decodes a bounded JSON request body into v, answering 400 or
// 413 itself when it cannot.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxJSONBody+1))
	if err != nil {
		writeGraphError(w, http.StatusBadRequest, "BadRequest", "Could not read the request body.")
		return false
	}
	if len(b) > maxJSONBody {
		writeGraphError(w, http.StatusRequestEntityTooLarge, "ErrorRequestEntityTooLarge", "The request body is too large.")
		return false
	}
	if err := json.Unmarshal(b, v); err != nil {
		writeGraphError(w, http.StatusBadRequest, "RequestBodyRead", "The request body is not valid JSON: "+truncateMsg(err.Error()))
		return false
	}
	return true
}

func truncateMsg(s string) string {
	if len(s) > 200 {
		return s[:200]
	}
	return s
}

// ---- folders ----

func (s *Server) handleCreateFolder(w http.ResponseWriter, r *http.Request, u *User) {
	var in struct {
		DisplayName string `json:"displayName"`
		IsHidden    bool   `json:"isHidden"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	name := strings.TrimSpace(in.DisplayName)
	if name == "" || len(name) > 255 || strings.ContainsAny(name, "\x00\r\n") {
		writeGraphError(w, http.StatusBadRequest, "ErrorInvalidRequest", "The folder display name is missing or invalid.")
		return
	}
	t := s.tenant
	t.mu.Lock()
	parent := u.rootFolder
	if fid := r.PathValue("fid"); fid != "" {
		f, err := u.folderLocked(fid)
		if err != nil {
			t.mu.Unlock()
			writeTenantError(w, err)
			return
		}
		parent = f.ID
	}
	for _, c := range u.childFoldersLocked(parent) {
		if strings.EqualFold(c.DisplayName, name) {
			t.mu.Unlock()
			writeGraphError(w, http.StatusConflict, "ErrorFolderExists", "A folder with the specified name already exists.")
			return
		}
	}
	f := &MailFolder{ID: t.newItemID("AAMkFolder"), ParentID: parent, DisplayName: name, Hidden: in.IsHidden, Seq: t.bump()}
	u.folders[f.ID] = f
	v := u.folderJSONLocked(f)
	t.mu.Unlock()
	v["@odata.context"] = s.GraphURL() + "/$metadata#users('" + u.ID + "')/mailFolders/$entity"
	writeJSON(w, http.StatusCreated, v)
}

// ---- create message ----

type recipientJSON struct {
	EmailAddress struct {
		Name    string `json:"name"`
		Address string `json:"address"`
	} `json:"emailAddress"`
}

type extendedPropJSON struct {
	ID    string `json:"id"`
	Value string `json:"value"`
}

type messageInput struct {
	Subject *string `json:"subject"`
	Body    *struct {
		ContentType string `json:"contentType"`
		Content     string `json:"content"`
	} `json:"body"`
	From          *recipientJSON  `json:"from"`
	Sender        *recipientJSON  `json:"sender"`
	ToRecipients  []recipientJSON `json:"toRecipients"`
	CcRecipients  []recipientJSON `json:"ccRecipients"`
	BccRecipients []recipientJSON `json:"bccRecipients"`
	ReplyTo       []recipientJSON `json:"replyTo"`
	IsRead        *bool           `json:"isRead"`
	IsDraft       *bool           `json:"isDraft"` // read-only: ignored, as Graph does
	Flag          *struct {
		FlagStatus string `json:"flagStatus"`
	} `json:"flag"`
	Categories *[]string `json:"categories"`
	Importance *string   `json:"importance"`
	// InferenceClassification is updatable (message-update.md).
	InferenceClassification *string `json:"inferenceClassification"`
	InternetMessageID       *string `json:"internetMessageId"`
	InternetMessageHeaders  []struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	} `json:"internetMessageHeaders"`
	SingleValueExtendedProperties []extendedPropJSON `json:"singleValueExtendedProperties"`
	Attachments                   []attachmentInput  `json:"attachments"`
}

// badRequest is a validation failure with Graph's error code.
type badRequest struct{ code, msg string }

func (e *badRequest) Error() string { return e.code + ": " + e.msg }

func invalid(code, format string, a ...any) error {
	return &badRequest{code: code, msg: fmt.Sprintf(format, a...)}
}

func writeBadRequest(w http.ResponseWriter, err error) {
	var br *badRequest
	if errors.As(err, &br) {
		status := http.StatusBadRequest
		if br.code == "ErrorRequestEntityTooLarge" {
			status = http.StatusRequestEntityTooLarge
		}
		writeGraphError(w, status, br.code, br.msg)
		return
	}
	writeTenantError(w, err)
}

// canonicalPropID normalises "integer 0xe07" to "Integer 0x0E07"; other
// forms (named properties with a GUID) are kept as given.
func canonicalPropID(id string) string {
	f := strings.Fields(id)
	if len(f) >= 4 && (strings.EqualFold(f[2], "Name") || strings.EqualFold(f[2], "Id")) && strings.HasPrefix(f[1], "{") {
		// A named property, "String {GUID} Name X": the type and GUID
		// match whatever their case, the name exactly.
		return canonicalPropType(f[0]) + " " + strings.ToLower(f[1]) + " " + canonicalPropType(f[2]) + " " + strings.Join(f[3:], " ")
	}
	if len(f) != 2 {
		return strings.TrimSpace(id)
	}
	tag, err := strconv.ParseUint(f[1], 0, 16)
	if err != nil {
		return strings.TrimSpace(id)
	}
	return fmt.Sprintf("%s 0x%04X", canonicalPropType(f[0]), tag)
}

// canonicalPropType spells a property type (and the Name/Id keyword) as
// Microsoft does.
func canonicalPropType(typ string) string {
	for _, known := range []string{"Integer", "SystemTime", "String", "Boolean", "Long", "Binary", "Short", "Double", "Name", "Id"} {
		if strings.EqualFold(typ, known) {
			return known
		}
	}
	return typ
}

func cleanRecipient(r *recipientJSON) (Recipient, error) {
	name := oneLine(r.EmailAddress.Name)
	addr := strings.TrimSpace(r.EmailAddress.Address)
	if addr == "" || strings.ContainsAny(addr, "\x00\r\n<>\" ") || !strings.Contains(addr, "@") {
		return Recipient{}, invalid("ErrorInvalidRecipients", "At least one recipient is not valid: %q", truncateMsg(addr))
	}
	return Recipient{Name: name, Address: addr}, nil
}

func cleanRecipients(l []recipientJSON) ([]Recipient, error) {
	if len(l) > maxRecipients {
		return nil, invalid("ErrorExceededMaxRecipientLimit", "Too many recipients.")
	}
	var out []Recipient
	for i := range l {
		r, err := cleanRecipient(&l[i])
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// oneLine removes what would break a header line.
func oneLine(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s))
}

var xHeaderName = regexp.MustCompile(`^[xX]-[A-Za-z0-9!#$%&'*+.^_` + "`" + `|~-]+$`)

func validFlag(s string) (string, error) {
	for _, v := range []string{"notFlagged", "flagged", "complete"} {
		if strings.EqualFold(s, v) {
			return v, nil
		}
	}
	return "", invalid("ErrorInvalidRequest", "Invalid flagStatus %q.", truncateMsg(s))
}

func validImportance(s string) (string, error) {
	for _, v := range []string{"low", "normal", "high"} {
		if strings.EqualFold(s, v) {
			return v, nil
		}
	}
	return "", invalid("ErrorInvalidRequest", "Invalid importance %q.", truncateMsg(s))
}

func validCategories(c []string) ([]string, error) {
	if len(c) > maxCategories {
		return nil, invalid("ErrorInvalidRequest", "Too many categories.")
	}
	out := make([]string, 0, len(c))
	for _, v := range c {
		v = oneLine(v)
		if v == "" || len(v) > 255 {
			return nil, invalid("ErrorInvalidRequest", "Invalid category.")
		}
		out = append(out, v)
	}
	return out, nil
}

// newMessageState is what create decides beyond the composed parts.
type newMessageState struct {
	isDraft, isRead bool
	flag            string
	categories      []string
	importance      string
	props           map[string]string
	attachments     []Attachment
}

// parseMessageInput validates a create request and applies the draft rule.
func parseMessageInput(in *messageInput, now time.Time) (*composedMessage, newMessageState, error) {
	c := &composedMessage{Importance: "normal", Sent: now, Received: now}
	st := newMessageState{isDraft: true, isRead: true, flag: "notFlagged", importance: "normal", props: map[string]string{}}
	var err error
	if in.Subject != nil {
		c.Subject = oneLine(*in.Subject)
	}
	if in.Body != nil {
		switch strings.ToLower(in.Body.ContentType) {
		case "html":
			c.BodyHTML = true
		case "text", "":
		default:
			return nil, st, invalid("ErrorInvalidRequest", "Invalid body contentType %q.", truncateMsg(in.Body.ContentType))
		}
		c.Body = strings.ToValidUTF8(in.Body.Content, "\uFFFD")
	}
	if in.From != nil {
		r, err := cleanRecipient(in.From)
		if err != nil {
			return nil, st, err
		}
		c.From = &r
	}
	if in.Sender != nil {
		r, err := cleanRecipient(in.Sender)
		if err != nil {
			return nil, st, err
		}
		c.Sender = &r
	}
	if c.To, err = cleanRecipients(in.ToRecipients); err != nil {
		return nil, st, err
	}
	if c.Cc, err = cleanRecipients(in.CcRecipients); err != nil {
		return nil, st, err
	}
	if c.Bcc, err = cleanRecipients(in.BccRecipients); err != nil {
		return nil, st, err
	}
	if c.ReplyTo, err = cleanRecipients(in.ReplyTo); err != nil {
		return nil, st, err
	}
	if in.InternetMessageID != nil {
		id := oneLine(*in.InternetMessageID)
		if id != "" && (!strings.HasPrefix(id, "<") || !strings.HasSuffix(id, ">") || len(id) > 998) {
			return nil, st, invalid("ErrorInvalidInternetMessageHeader", "internetMessageId must be in the format <id@domain>.")
		}
		c.InternetMessageID = id
	}
	if len(in.InternetMessageHeaders) > maxXHeaders {
		return nil, st, invalid("InvalidInternetMessageHeader", "Too many internet message headers.")
	}
	for _, h := range in.InternetMessageHeaders {
		if !xHeaderName.MatchString(h.Name) {
			return nil, st, invalid("InvalidInternetMessageHeader", "The internet message header name '%s' should start with 'x-' or 'X-'.", truncateMsg(oneLine(h.Name)))
		}
		c.Headers = append(c.Headers, [2]string{h.Name, oneLine(h.Value)})
	}
	if in.Importance != nil {
		if st.importance, err = validImportance(*in.Importance); err != nil {
			return nil, st, err
		}
		c.Importance = st.importance
	}
	if in.Flag != nil {
		if st.flag, err = validFlag(in.Flag.FlagStatus); err != nil {
			return nil, st, err
		}
	}
	if in.Categories != nil {
		if st.categories, err = validCategories(*in.Categories); err != nil {
			return nil, st, err
		}
	}
	if len(in.SingleValueExtendedProperties) > maxXHeaders {
		return nil, st, invalid("ErrorInvalidRequest", "Too many extended properties.")
	}
	for _, p := range in.SingleValueExtendedProperties {
		id := canonicalPropID(p.ID)
		switch id {
		case propMessageFlags:
			n, err := strconv.ParseInt(strings.TrimSpace(p.Value), 0, 64)
			if err != nil || n < 0 || n > 0xFFFFFFFF {
				return nil, st, invalid("ErrorInvalidExtendedPropertyValue", "The value of PidTagMessageFlags is not an integer.")
			}
			st.isDraft = n&msgFlagUnsent != 0
			st.isRead = n&msgFlagRead != 0
		case propDeliveryTime, propSubmitTime:
			tm, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(p.Value))
			if err != nil {
				return nil, st, invalid("ErrorInvalidExtendedPropertyValue", "The value of %s is not a date and time.", id)
			}
			if id == propDeliveryTime {
				c.Received = tm.UTC()
			} else {
				c.Sent = tm.UTC()
			}
		}
		st.props[id] = p.Value
	}
	if in.IsRead != nil {
		st.isRead = *in.IsRead
	}
	for i := range in.Attachments {
		a, err := in.Attachments[i].toAttachment(now)
		if err != nil {
			return nil, st, err
		}
		st.attachments = append(st.attachments, a)
	}
	return c, st, nil
}

func (s *Server) handleCreateMessage(w http.ResponseWriter, r *http.Request, u *User) {
	fid := r.PathValue("fid")
	if fid == "" {
		fid = "drafts" // POST /messages creates in Drafts
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var m *Message
	var err error
	switch ct {
	case "text/plain":
		m, err = s.createFromMIME(r, u, fid)
	case "application/json", "":
		var in messageInput
		if !readJSON(w, r, &in) {
			return
		}
		m, err = s.tenant.createComposed(u, fid, &in)
	default:
		writeGraphError(w, http.StatusUnsupportedMediaType, "UnsupportedMediaType", "Content-Type must be application/json or text/plain (base64 MIME).")
		return
	}
	if err != nil {
		writeBadRequest(w, err)
		return
	}
	s.writeMessage(w, r, u, m.ID, http.StatusCreated)
}

// writeMessage answers with a message's current JSON.
func (s *Server) writeMessage(w http.ResponseWriter, r *http.Request, u *User, id string, status int) {
	t := s.tenant
	t.mu.RLock()
	m, ok := u.messages[id]
	if !ok {
		t.mu.RUnlock()
		writeGraphError(w, http.StatusNotFound, "ErrorItemNotFound", "The specified object was not found in the store.")
		return
	}
	v := s.messageJSONFor(r, u, m)
	t.mu.RUnlock()
	v["@odata.context"] = s.GraphURL() + "/$metadata#users('" + u.ID + "')/messages/$entity"
	writeJSON(w, status, v)
}

// createFromMIME is the documented MIME path: the body is the message's
// MIME in base64, and the result is always a draft.
func (s *Server) createFromMIME(r *http.Request, u *User, fid string) (*Message, error) {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxMIMECreateBody+1))
	if err != nil {
		return nil, invalid("ErrorMimeContentInvalid", "Could not read the request body.")
	}
	if len(b) > maxMIMECreateBody {
		return nil, invalid("ErrorRequestEntityTooLarge", "The MIME content is too large.")
	}
	raw, err := io.ReadAll(base64.NewDecoder(base64.StdEncoding, &stripSpace{r: bytes.NewReader(b)}))
	if err != nil || len(raw) == 0 {
		return nil, invalid("ErrorMimeContentInvalidBase64String", "Invalid base64 string for MIME content.")
	}
	if _, err := ParseMessageHeader(raw); err != nil {
		return nil, invalid("ErrorMimeContentInvalid", "The MIME content is not a valid message.")
	}
	return s.tenant.AddMessage(u.ID, fid, raw, MessageOptions{IsDraft: true, IsRead: true})
}

// createComposed creates a message from a JSON request.
func (t *Tenant) createComposed(u *User, folder string, in *messageInput) (*Message, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now().UTC()
	c, st, err := parseMessageInput(in, now)
	if err != nil {
		return nil, err
	}
	f, err := u.folderLocked(folder)
	if err != nil {
		return nil, err
	}
	if c.InternetMessageID == "" {
		c.InternetMessageID = "<" + strings.ToUpper(strings.ReplaceAll(newGUID(), "-", "")) + "@" + t.Domain + ">"
	}
	m := &Message{
		ID:                t.newItemID("AAMkMsg"),
		FolderID:          f.ID,
		IsRead:            st.isRead,
		FlagStatus:        st.flag,
		Categories:        st.categories,
		Importance:        st.importance,
		IsDraft:           st.isDraft,
		Created:           now,
		Modified:          now,
		ExtendedPropsJSON: st.props,
		composed:          c,
	}
	for _, a := range st.attachments {
		a.ID = t.newItemID("AAMkAtt")
		m.Attachments = append(m.Attachments, a)
	}
	if err := m.recompose(); err != nil {
		return nil, err
	}
	m.touch(t.bump())
	m.CreatedSeq = m.Seq
	u.messages[m.ID] = m
	return m, nil
}

// recompose rebuilds a composed message's MIME and header from its parts
// and attachments.
func (m *Message) recompose() error {
	raw := composeMIME(m.composed, m.Attachments)
	h, err := ParseMessageHeader(raw)
	if err != nil {
		return fmt.Errorf("m365sim: composed MIME does not parse: %w", err)
	}
	h.Sent, h.Received = m.composed.Sent, m.composed.Received
	m.MIME, m.Header = raw, h
	return nil
}

// ---- MIME composition ----

type entity struct {
	header textproto.MIMEHeader
	body   []byte
}

func formatAddress(r Recipient) string {
	return (&mail.Address{Name: r.Name, Address: r.Address}).String()
}

func formatAddresses(l []Recipient) string {
	parts := make([]string, len(l))
	for i, r := range l {
		parts[i] = formatAddress(r)
	}
	return strings.Join(parts, ", ")
}

// encodeText encodes a header's free text when it is not plain ASCII.
func encodeText(s string) string {
	for _, r := range s {
		if r >= 0x80 {
			return mime.QEncoding.Encode("utf-8", s)
		}
	}
	return s
}

func composeMIME(c *composedMessage, atts []Attachment) []byte {
	var b bytes.Buffer
	hdr := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	if c.From != nil {
		hdr("From", formatAddress(*c.From))
	}
	if c.Sender != nil && (c.From == nil || !strings.EqualFold(c.Sender.Address, c.From.Address)) {
		hdr("Sender", formatAddress(*c.Sender))
	}
	for _, l := range []struct {
		k string
		v []Recipient
	}{{"To", c.To}, {"Cc", c.Cc}, {"Bcc", c.Bcc}, {"Reply-To", c.ReplyTo}} {
		if len(l.v) > 0 {
			hdr(l.k, formatAddresses(l.v))
		}
	}
	hdr("Subject", encodeText(c.Subject))
	hdr("Date", c.Sent.Format(time.RFC1123Z))
	hdr("Message-ID", c.InternetMessageID)
	if c.Importance != "" && c.Importance != "normal" {
		hdr("Importance", c.Importance)
	}
	for _, h := range c.Headers {
		hdr(h[0], encodeText(h[1]))
	}
	hdr("MIME-Version", "1.0")

	top := bodyEntity(c)
	var inline, files []entity
	for _, a := range atts {
		if a.IsInline {
			inline = append(inline, attachmentEntity(a))
		} else {
			files = append(files, attachmentEntity(a))
		}
	}
	if len(inline) > 0 {
		top = multipartEntity("related", append([]entity{top}, inline...))
	}
	if len(files) > 0 {
		top = multipartEntity("mixed", append([]entity{top}, files...))
	}
	for _, k := range []string{"Content-Type", "Content-Transfer-Encoding"} {
		if v := top.header.Get(k); v != "" {
			hdr(k, v)
		}
	}
	b.WriteString("\r\n")
	b.Write(top.body)
	return b.Bytes()
}

func bodyEntity(c *composedMessage) entity {
	ct := "text/plain; charset=utf-8"
	if c.BodyHTML {
		ct = "text/html; charset=utf-8"
	}
	var buf bytes.Buffer
	qw := quotedprintable.NewWriter(&buf)
	_, _ = qw.Write([]byte(c.Body))
	_ = qw.Close()
	h := textproto.MIMEHeader{}
	h.Set("Content-Type", ct)
	h.Set("Content-Transfer-Encoding", "quoted-printable")
	return entity{header: h, body: buf.Bytes()}
}

func attachmentEntity(a Attachment) entity {
	ct := a.ContentType
	if mt, _, err := mime.ParseMediaType(ct); err != nil || !strings.Contains(mt, "/") {
		ct = "application/octet-stream"
	} else {
		ct = mt
	}
	h := textproto.MIMEHeader{}
	if v := mime.FormatMediaType(ct, map[string]string{"name": a.Name}); v != "" {
		h.Set("Content-Type", v)
	} else {
		h.Set("Content-Type", ct)
	}
	disp := "attachment"
	if a.IsInline {
		disp = "inline"
	}
	if v := mime.FormatMediaType(disp, map[string]string{"filename": a.Name}); v != "" {
		h.Set("Content-Disposition", v)
	} else {
		h.Set("Content-Disposition", disp)
	}
	if a.ContentID != "" {
		h.Set("Content-ID", "<"+a.ContentID+">")
	}
	h.Set("Content-Transfer-Encoding", "base64")
	enc := base64.StdEncoding.EncodeToString(a.Content)
	var buf bytes.Buffer
	buf.Grow(len(enc) + len(enc)/76*2 + 2)
	for len(enc) > 76 {
		buf.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	buf.WriteString(enc + "\r\n")
	return entity{header: h, body: buf.Bytes()}
}

func multipartEntity(subtype string, parts []entity) entity {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, p := range parts {
		pw, err := mw.CreatePart(p.header)
		if err != nil {
			continue // writes to a bytes.Buffer do not fail
		}
		_, _ = pw.Write(p.body)
	}
	_ = mw.Close()
	h := textproto.MIMEHeader{}
	h.Set("Content-Type", "multipart/"+subtype+"; boundary=\""+mw.Boundary()+"\"")
	return entity{header: h, body: buf.Bytes()}
}

// ---- update and delete ----

func (s *Server) messageInFolder(w http.ResponseWriter, r *http.Request, u *User) (string, bool) {
	t := s.tenant
	t.mu.RLock()
	defer t.mu.RUnlock()
	m, ok := u.msgLocked(r.PathValue("mid"))
	if ok && r.PathValue("fid") != "" {
		f, err := u.folderLocked(r.PathValue("fid"))
		ok = err == nil && f.ID == m.FolderID
	}
	if !ok {
		writeGraphError(w, http.StatusNotFound, "ErrorItemNotFound", "The specified object was not found in the store.")
		return "", false
	}
	return m.ID, true
}

// handlePatchMessage applies isRead, flag, categories and importance. A
// change of isDraft (or of the flags that decide it) is ignored, as
// Graph documents: the draft state is fixed when a message is saved.
func (s *Server) handlePatchMessage(w http.ResponseWriter, r *http.Request, u *User) {
	id, ok := s.messageInFolder(w, r, u)
	if !ok {
		return
	}
	var in messageInput
	if !readJSON(w, r, &in) {
		return
	}
	var e MessageEdit
	e.IsRead = in.IsRead
	if in.Flag != nil {
		f, err := validFlag(in.Flag.FlagStatus)
		if err != nil {
			writeBadRequest(w, err)
			return
		}
		e.FlagStatus = &f
	}
	if in.Categories != nil {
		c, err := validCategories(*in.Categories)
		if err != nil {
			writeBadRequest(w, err)
			return
		}
		e.Categories = &c
	}
	if in.Importance != nil {
		imp, err := validImportance(*in.Importance)
		if err != nil {
			writeBadRequest(w, err)
			return
		}
		e.Importance = &imp
	}
	if in.InferenceClassification != nil {
		inf, err := validInference(*in.InferenceClassification)
		if err != nil {
			writeBadRequest(w, err)
			return
		}
		e.Inference = &inf
	}
	if err := s.tenant.editDraft(u, id, &in); err != nil {
		writeBadRequest(w, err)
		return
	}
	if _, err := s.tenant.EditMessage(u.ID, id, e); err != nil {
		writeTenantError(w, err)
		return
	}
	s.writeMessage(w, r, u, id, http.StatusOK)
}

// handleDeleteMessage moves the message to Deleted Items, or removes it for
// good when it is already there, as Outlook's delete does.
func (s *Server) handleDeleteMessage(w http.ResponseWriter, r *http.Request, u *User) {
	id, ok := s.messageInFolder(w, r, u)
	if !ok {
		return
	}
	t := s.tenant
	t.mu.RLock()
	inDeleted := false
	if m, ok := u.messages[id]; ok {
		if f, err := u.folderLocked("deleteditems"); err == nil && f.ID == m.FolderID {
			inDeleted = true
		}
	}
	t.mu.RUnlock()
	var err error
	if inDeleted {
		err = t.DeleteMessage(u.ID, id)
	} else {
		_, err = t.MoveMessage(u.ID, id, "deleteditems")
	}
	if err != nil {
		writeTenantError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// ---- attachments ----

type attachmentInput struct {
	ODataType    string `json:"@odata.type"`
	Name         string `json:"name"`
	ContentType  string `json:"contentType"`
	ContentBytes string `json:"contentBytes"`
	IsInline     bool   `json:"isInline"`
	ContentID    string `json:"contentId"`
}

func validAttachmentName(name string) (string, error) {
	name = oneLine(name)
	if name == "" || len(name) > 255 {
		return "", invalid("ErrorInvalidRequest", "The attachment name is missing or too long.")
	}
	return name, nil
}

func validContentID(cid string) string {
	cid = strings.Trim(oneLine(cid), "<>")
	if len(cid) > 255 || strings.ContainsAny(cid, "<> ") {
		return ""
	}
	return cid
}

func (a *attachmentInput) toAttachment(now time.Time) (Attachment, error) {
	if !strings.EqualFold(strings.TrimPrefix(a.ODataType, "#"), "microsoft.graph.fileAttachment") {
		return Attachment{}, invalid("ErrorInvalidRequest", "Only #microsoft.graph.fileAttachment is supported here, not %q.", truncateMsg(a.ODataType))
	}
	name, err := validAttachmentName(a.Name)
	if err != nil {
		return Attachment{}, err
	}
	if base64.StdEncoding.DecodedLen(len(a.ContentBytes)) > maxInlineAttachment+3 {
		return Attachment{}, invalid("ErrorRequestEntityTooLarge", "The attachment is larger than 3 MB; use an upload session.")
	}
	content, err := decodeContentBytes(a.ContentBytes)
	if err != nil {
		return Attachment{}, invalid("ErrorInvalidRequest", "contentBytes is not valid base64.")
	}
	if len(content) > maxInlineAttachment {
		return Attachment{}, invalid("ErrorRequestEntityTooLarge", "The attachment is larger than 3 MB; use an upload session.")
	}
	return Attachment{Name: name, ContentType: oneLine(a.ContentType), IsInline: a.IsInline, ContentID: validContentID(a.ContentID), Content: content, Modified: now}, nil
}

func attachmentJSON(a Attachment) map[string]any {
	ct := a.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	return map[string]any{
		"@odata.type":          "#microsoft.graph.fileAttachment",
		"id":                   a.ID,
		"lastModifiedDateTime": graphTime(a.Modified),
		"name":                 a.Name,
		"contentType":          ct,
		"size":                 len(a.Content),
		"isInline":             a.IsInline,
		"contentId":            nullIfEmpty(a.ContentID),
		"contentLocation":      nil,
	}
}

// addAttachment stores an attachment on a message and rebuilds its MIME.
func (t *Tenant) addAttachment(u *User, msgID string, a Attachment) (Attachment, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	m, ok := u.messages[msgID]
	if !ok {
		return Attachment{}, fmt.Errorf("%w: message %s", ErrNoItem, msgID)
	}
	if m.composed == nil {
		// Seeded messages are MIME exactly as stored; rewriting them
		// would change bytes a backup has already verified.
		return Attachment{}, invalid("ErrorInvalidRequest", "The simulator adds attachments only to messages created through Graph.")
	}
	if err := t.messageSizeLocked(m, a); err != nil {
		return Attachment{}, err
	}
	a.ID = t.newItemID("AAMkAtt")
	a.Modified = t.now().UTC()
	m.Attachments = append(append([]Attachment(nil), m.Attachments...), a)
	if err := m.recompose(); err != nil {
		return Attachment{}, err
	}
	m.Modified = a.Modified
	m.touch(t.bump())
	return a, nil
}

// handleListAttachments lists a message's attachments: file attachments
// with contentBytes (as Graph's list does) unless $select leaves it out,
// item and reference attachments as such (itemattach.go).
func (s *Server) handleListAttachments(w http.ResponseWriter, r *http.Request, u *User) {
	id, ok := s.messageInFolder(w, r, u)
	if !ok {
		return
	}
	m, err := s.tenant.Message(u.ID, id)
	if err != nil {
		writeTenantError(w, err)
		return
	}
	sel := map[string]bool{}
	for _, f := range strings.Split(r.URL.Query().Get("$select"), ",") {
		if f = strings.TrimSpace(f); f != "" {
			sel[f] = true
		}
	}
	vals := []map[string]any{}
	for _, av := range attachmentViews(&m) { // itemattach.go
		vals = append(vals, av.json)
	}
	if len(sel) > 0 {
		for _, v := range vals {
			for k := range v {
				if k != "id" && k != "@odata.type" && !sel[k] {
					delete(v, k)
				}
			}
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"@odata.context": s.GraphURL() + "/$metadata#users('" + u.ID + "')/messages('" + id + "')/attachments",
		"value":          vals,
	})
}

func (s *Server) handleAddAttachment(w http.ResponseWriter, r *http.Request, u *User) {
	id, ok := s.messageInFolder(w, r, u)
	if !ok {
		return
	}
	var in attachmentInput
	if !readJSON(w, r, &in) {
		return
	}
	a, err := in.toAttachment(time.Time{})
	if err != nil {
		writeBadRequest(w, err)
		return
	}
	a, err = s.tenant.addAttachment(u, id, a)
	if err != nil {
		writeBadRequest(w, err)
		return
	}
	v := attachmentJSON(a)
	v["contentBytes"] = base64.StdEncoding.EncodeToString(a.Content) // as the documented answer has it
	v["@odata.context"] = s.GraphURL() + "/$metadata#users('" + u.ID + "')/messages('" + id + "')/attachments/$entity"
	writeJSON(w, http.StatusCreated, v)
}

// ---- $filter on message lists ----

// filterMessages applies the two $filter forms a restore needs:
//
//	internetMessageId eq '<id>'
//	singleValueExtendedProperties/Any(ep: ep/id eq 'ID' and ep/value eq 'V')
//
// (a quote inside a literal doubled, as OData escapes it). As Microsoft
// documents, a property's Name is matched case-sensitively and a string
// value case-insensitively. Other filters answer 400.
func filterMessages(msgs []*Message, filter string) ([]*Message, error) {
	toks, err := filterTokens(filter)
	if err != nil {
		return nil, err
	}
	is := func(i int, want string) bool {
		return i < len(toks) && !toks[i].lit && strings.EqualFold(toks[i].s, want)
	}
	lit := func(i int) bool { return i < len(toks) && toks[i].lit }
	var match func(*Message) bool
	switch {
	case len(toks) == 3 && is(0, "internetMessageId") && is(1, "eq") && lit(2):
		want := toks[2].s
		match = func(m *Message) bool { return m.Header.InternetMessageID == want }
	case len(toks) == 12 && is(0, "singleValueExtendedProperties/Any") && is(1, "(") && !lit(2) && is(3, ":"):
		v := toks[2].s
		if !is(4, v+"/id") || !is(5, "eq") || !lit(6) || !is(7, "and") || !is(8, v+"/value") || !is(9, "eq") || !lit(10) || !is(11, ")") {
			return nil, invalid("ErrorInvalidUrlQueryFilter", "Invalid filter clause.")
		}
		id, want := canonicalPropID(toks[6].s), toks[10].s
		match = func(m *Message) bool {
			got, ok := m.ExtendedPropsJSON[id]
			return ok && strings.EqualFold(got, want)
		}
	default:
		return nil, invalid("ErrorInvalidUrlQueryFilter",
			"The simulator supports only internetMessageId eq '…' and singleValueExtendedProperties/Any(ep: ep/id eq '…' and ep/value eq '…') in $filter.")
	}
	var out []*Message
	for _, m := range msgs {
		if match(m) {
			out = append(out, m)
		}
	}
	return out, nil
}

// filterToken is a word, a path, one of ( ) : or a string literal (lit,
// with its quotes removed and doubled quotes undone).
type filterToken struct {
	s   string
	lit bool
}

func filterTokens(f string) ([]filterToken, error) {
	var out []filterToken
	for i := 0; i < len(f); {
		c := f[i]
		switch {
		case c == ' ' || c == '\t':
			i++
		case c == '(' || c == ')' || c == ':':
			out = append(out, filterToken{s: string(c)})
			i++
		case c == '\'':
			var b strings.Builder
			j := i + 1
			for {
				if j >= len(f) {
					return nil, invalid("ErrorInvalidUrlQueryFilter", "Invalid string literal in filter.")
				}
				if f[j] == '\'' {
					if j+1 < len(f) && f[j+1] == '\'' {
						b.WriteByte('\'')
						j += 2
						continue
					}
					break
				}
				b.WriteByte(f[j])
				j++
			}
			out = append(out, filterToken{s: b.String(), lit: true})
			i = j + 1
		default:
			j := i
			for j < len(f) && !strings.ContainsRune(" \t():'", rune(f[j])) {
				j++
			}
			out = append(out, filterToken{s: f[i:j]})
			i = j
		}
		if len(out) > 32 {
			return nil, invalid("ErrorInvalidUrlQueryFilter", "The filter is too complex.")
		}
	}
	return out, nil
}
