package m365sim

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Item and reference attachments (issue 20, point 9).
//
// An item attachment is an Outlook item attached whole: a forwarded email
// is one. Graph lists it as #microsoft.graph.itemAttachment, without
// contentBytes (itemattachment.md: contentType "Returned as null by
// default"); $expand=microsoft.graph.itemattachment/item gives the
// attached message's properties, and /$value its MIME (attachment-get.md,
// examples 2, 3 and 8). A message that arrived as MIME carries it as a
// message/rfc822 part, which is how the simulator stores it, so the
// parent's $value holds it whole.
//
// A reference attachment is a link to a file in OneDrive (Outlook's
// "Share link" attachment). In v1.0 it has only the properties every
// attachment has: contentType, id, isInline, lastModifiedDateTime, name
// and size, where size is "the size of the metadata that is stored on the
// message for the attachment … not the size of the actual file"
// (referenceattachment.md, v1.0; sourceUrl and the rest are beta). Getting
// its /$value "returns HTTP 405" (attachment-get.md). Its MIME rendering is
// not documented; the simulator leaves it out of the parent's $value, the
// reading under which a client that keeps the MIME alone loses the link.
// hasAttachments is true for it, as for any attachment that is not inline.

// ReferenceAttachment is a link to a file attached to a message.
type ReferenceAttachment struct {
	ID string
	// Name is the text under the attachment's icon ("does not need to be
	// the actual file name").
	Name        string
	ContentType string
	// SourceURL is the link; v1.0 does not expose it.
	SourceURL string
	IsInline  bool
	Modified  time.Time
}

// metadataSize is what Graph reports as a reference attachment's size: the
// metadata the message stores for it.
func (ra ReferenceAttachment) metadataSize() int {
	return 256 + len(ra.Name) + len(ra.ContentType) + len(ra.SourceURL)
}

// AddReferenceAttachment attaches a link to a file to a message (as Outlook
// does with "Share link"); the message changes, so delta reports it.
func (t *Tenant) AddReferenceAttachment(user, msgID string, ra ReferenceAttachment) (ReferenceAttachment, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	u, err := t.userLocked(user)
	if err != nil {
		return ReferenceAttachment{}, err
	}
	m, ok := u.msgLocked(msgID)
	if !ok {
		return ReferenceAttachment{}, fmt.Errorf("%w: message %s", ErrNoItem, msgID)
	}
	if ra.Name == "" {
		return ReferenceAttachment{}, fmt.Errorf("m365sim: a reference attachment needs a name")
	}
	ra.ID = t.newItemID("AAMkRef")
	ra.Modified = t.now().UTC()
	m.References = append(append([]ReferenceAttachment(nil), m.References...), ra)
	m.Modified = ra.Modified
	m.touch(t.bump())
	return ra, nil
}

// attachmentView is one attachment of a message as Graph shows it.
type attachmentView struct {
	json map[string]any
	// value is the attachment's /$value (nil for a reference attachment);
	// valueType its Content-Type.
	value     []byte
	valueType string
	// item is the attached message's MIME, for an item attachment.
	item []byte
}

// attachmentViews returns a message's attachments in Graph's order: file
// and item attachments as stored, then reference attachments.
func attachmentViews(m *Message) []attachmentView {
	var out []attachmentView
	if m.composed != nil || len(m.Attachments) > 0 {
		for _, a := range m.Attachments {
			v := attachmentJSON(a)
			v["contentBytes"] = base64.StdEncoding.EncodeToString(a.Content)
			out = append(out, attachmentView{json: v, value: a.Content, valueType: v["contentType"].(string)})
		}
	} else {
		for i, a := range m.Header.Attachments {
			b, _ := attachmentBytes(m.MIME, i)
			id := fmt.Sprintf("%s-att%d", m.ID, i)
			if strings.EqualFold(a.ContentType, "message/rfc822") {
				name := a.Name
				if h, err := ParseMessageHeader(b); err == nil && h.Subject != "" && (name == "" || name == "attachment") {
					name = h.Subject
				}
				out = append(out, attachmentView{json: map[string]any{
					"@odata.type": "#microsoft.graph.itemAttachment", "id": id, "name": name, "contentType": nil,
					"size": a.Size, "isInline": a.Inline, "lastModifiedDateTime": graphTime(m.Modified),
				}, value: b, valueType: "message/rfc822", item: b})
				continue
			}
			ct := a.ContentType
			if ct == "" {
				ct = "application/octet-stream"
			}
			v := map[string]any{"@odata.type": "#microsoft.graph.fileAttachment", "id": id,
				"name": a.Name, "contentType": ct, "size": a.Size, "isInline": a.Inline, "lastModifiedDateTime": graphTime(m.Modified),
				"contentId": nil, "contentLocation": nil}
			if b != nil {
				v["contentBytes"] = base64.StdEncoding.EncodeToString(b)
			}
			out = append(out, attachmentView{json: v, value: b, valueType: ct})
		}
	}
	for _, ra := range m.References {
		out = append(out, attachmentView{json: map[string]any{
			"@odata.type": "#microsoft.graph.referenceAttachment", "id": ra.ID, "name": ra.Name,
			"contentType": nullIfEmpty(ra.ContentType), "size": ra.metadataSize(), "isInline": ra.IsInline,
			"lastModifiedDateTime": graphTime(ra.Modified),
		}})
	}
	return out
}

func (s *Server) attachmentRoutes(mux *http.ServeMux) {
	for _, p := range []string{"/messages/{mid}", "/mailFolders/{fid}/messages/{mid}"} {
		s.userRoute(mux, "GET", p+"/attachments/{aid}", true, s.handleGetAttachment)
		s.userRoute(mux, "GET", p+"/attachments/{aid}/{value}", true, s.handleGetAttachmentValue)
	}
}

// findAttachment answers 404 itself when the message or attachment is not
// there.
func (s *Server) findAttachment(w http.ResponseWriter, r *http.Request, u *User) (string, attachmentView, bool) {
	id, ok := s.messageInFolder(w, r, u)
	if !ok {
		return "", attachmentView{}, false
	}
	m, err := s.tenant.Message(u.ID, id)
	if err != nil {
		writeTenantError(w, err)
		return "", attachmentView{}, false
	}
	aid := r.PathValue("aid")
	for _, v := range attachmentViews(&m) {
		if v.json["id"] == aid {
			return id, v, true
		}
	}
	writeGraphError(w, http.StatusNotFound, "ErrorItemNotFound", "The specified object was not found in the store.")
	return "", attachmentView{}, false
}

// handleGetAttachment is Get attachment (attachment-get.md): the
// attachment's properties, and with $expand=microsoft.graph.itemattachment/item
// the attached message's.
func (s *Server) handleGetAttachment(w http.ResponseWriter, r *http.Request, u *User) {
	id, av, ok := s.findAttachment(w, r, u)
	if !ok {
		return
	}
	v := map[string]any{}
	for k, x := range av.json {
		v[k] = x
	}
	ctx := s.GraphURL() + "/$metadata#users('" + u.ID + "')/messages('" + id + "')/attachments"
	v["@odata.context"] = ctx + "/$entity"
	if expandsItem(r.URL.Query().Get("$expand")) && av.item != nil {
		h, err := ParseMessageHeader(av.item)
		if err == nil {
			// The attached message is not in any folder: it has no ID of
			// its own (the documented example shows "id": "").
			inner := &Message{MIME: av.item, Header: h, Created: time.Time{}, Modified: time.Time{}, Importance: "normal", FlagStatus: "notFlagged", IsRead: true}
			if t, ok := av.json["lastModifiedDateTime"].(string); ok {
				inner.Modified, _ = time.Parse(time.RFC3339, t)
				inner.Created = inner.Modified
			}
			item := s.messageJSON(u, inner)
			delete(item, "@odata.etag")
			delete(item, "parentFolderId")
			delete(item, "changeKey")
			item["@odata.type"] = "#microsoft.graph.message"
			v["item@odata.context"] = ctx + "('" + r.PathValue("aid") + "')/microsoft.graph.itemAttachment/item/$entity"
			v["item"] = item
		}
	}
	writeJSON(w, http.StatusOK, v)
}

// expandsItem reports whether $expand names an item attachment's item.
func expandsItem(expand string) bool {
	for _, f := range strings.Split(expand, ",") {
		f = strings.ToLower(strings.TrimSpace(f))
		if f == "microsoft.graph.itemattachment/item" || f == "item" {
			return true
		}
	}
	return false
}

// handleGetAttachmentValue is /$value: a file attachment's bytes, an item
// attachment's MIME, and 405 for a reference attachment.
func (s *Server) handleGetAttachmentValue(w http.ResponseWriter, r *http.Request, u *User) {
	if r.PathValue("value") != "$value" {
		writeGraphError(w, http.StatusBadRequest, "BadRequest", "Resource not found for the segment '"+truncateMsg(r.PathValue("value"))+"'.")
		return
	}
	_, av, ok := s.findAttachment(w, r, u)
	if !ok {
		return
	}
	if av.value == nil {
		// The message Graph gives (microsoft-graph-docs issue 15766).
		writeGraphError(w, http.StatusMethodNotAllowed, "ErrorInvalidRequest",
			"'$value' segment is not supported for the given attachment. '$value' segment is only supported for File Attachments and Item Attachments.")
		return
	}
	w.Header().Set("Content-Type", av.valueType)
	w.Header().Set("Content-Length", fmt.Sprint(len(av.value)))
	w.WriteHeader(http.StatusOK)
	_, _ = bytes.NewReader(av.value).WriteTo(w)
}
