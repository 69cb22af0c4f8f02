package m365sim_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
)

// writeRaw sends write requests with plain net/http, where exact status
// codes matter.
type writeRaw struct {
	t     *testing.T
	srv   *m365sim.Server
	token string
}

func newWriteRaw(t *testing.T, srv *m365sim.Server) *writeRaw {
	t.Helper()
	tok, _, err := srv.IssueAccessToken(simtest.Alice)
	if err != nil {
		t.Fatal(err)
	}
	return &writeRaw{t: t, srv: srv, token: tok}
}

// send makes a request; path is below the Graph base unless absolute. A
// body that is not []byte or string is sent as JSON. hdr are header pairs;
// "Authorization" "" sends none.
func (c *writeRaw) send(method, path string, body any, hdr ...string) driveResp {
	c.t.Helper()
	u := path
	if !strings.HasPrefix(u, "https://") {
		u = c.srv.GraphURL() + path
	}
	var rd io.Reader
	ct := "application/json"
	switch b := body.(type) {
	case nil:
	case []byte:
		rd, ct = bytes.NewReader(b), "application/octet-stream"
	case string:
		rd, ct = strings.NewReader(b), "text/plain"
	default:
		j, err := json.Marshal(b)
		if err != nil {
			c.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if rd != nil {
		req.Header.Set("Content-Type", ct)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			req.Header.Del(hdr[i])
		} else {
			req.Header.Set(hdr[i], hdr[i+1])
		}
	}
	resp, err := c.srv.HTTPClient().Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return driveResp{status: resp.StatusCode, header: resp.Header, body: b}
}

func (c *writeRaw) must(status int, method, path string, body any, hdr ...string) map[string]any {
	c.t.Helper()
	r := c.send(method, path, body, hdr...)
	if r.status != status {
		c.t.Fatalf("%s %s = %d, want %d\n%s", method, path, r.status, status, r.body)
	}
	if len(r.body) == 0 {
		return nil
	}
	return r.json(c.t)
}

func (c *writeRaw) wantError(status int, code, method, path string, body any, hdr ...string) {
	c.t.Helper()
	r := c.send(method, path, body, hdr...)
	if r.status != status || (code != "" && r.errorCode(c.t) != code) {
		c.t.Errorf("%s %s = %d %s, want %d %s\n%s", method, path, r.status, r.body, status, code, r.body)
	}
}

func extProps(kv ...string) []map[string]string {
	var out []map[string]string
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, map[string]string{"id": kv[i], "value": kv[i+1]})
	}
	return out
}

func basicMessage(subject string, props []map[string]string) map[string]any {
	m := map[string]any{
		"subject":      subject,
		"body":         map[string]any{"contentType": "html", "content": "<p>Hello</p>"},
		"from":         map[string]any{"emailAddress": map[string]any{"name": "Paul", "address": "paul@supplier.example"}},
		"toRecipients": []any{map[string]any{"emailAddress": map[string]any{"address": "alice@contoso.test"}}},
	}
	if props != nil {
		m["singleValueExtendedProperties"] = props
	}
	return m
}

func TestCreateMessageDraftRule(t *testing.T) {
	srv := simtest.Start(t, nil, m365sim.Options{})
	tn := srv.Tenant()
	c := newWriteRaw(t, srv)
	const post = "/me/mailFolders/inbox/messages"
	recv, sent := "2026-03-03T09:15:02Z", "2026-03-03T09:14:00Z"
	for _, tc := range []struct {
		name            string
		props           []map[string]string
		draft, read     bool
		checkDates      bool
		isReadOverrides *bool
	}{
		{name: "no properties", draft: true, read: true},
		{name: "read, sent", props: extProps("Integer 0x0E07", "1", "SystemTime 0x0E06", recv, "SystemTime 0x0039", sent), read: true, checkDates: true},
		{name: "unread, sent, lower-case id", props: extProps("integer 0xe07", "0", "SystemTime 0x0E06", recv, "SystemTime 0x0039", sent), checkDates: true},
		{name: "unsent bit", props: extProps("Integer 0x0E07", "9"), draft: true, read: true},
	} {
		v := c.must(http.StatusCreated, "POST", post, basicMessage(tc.name, tc.props))
		if v["isDraft"] != tc.draft || v["isRead"] != tc.read {
			t.Errorf("%s: isDraft %v isRead %v, want %v %v", tc.name, v["isDraft"], v["isRead"], tc.draft, tc.read)
		}
		if tc.checkDates && (v["receivedDateTime"] != recv || v["sentDateTime"] != sent) {
			t.Errorf("%s: received %v sent %v", tc.name, v["receivedDateTime"], v["sentDateTime"])
		}
		// The stored message is real MIME that says the same.
		m, err := tn.Message(simtest.Alice, v["id"].(string))
		if err != nil {
			t.Fatal(err)
		}
		h, err := m365sim.ParseMessageHeader(m.MIME)
		if err != nil || h.Subject != tc.name || h.From == nil || h.From.Address != "paul@supplier.example" || h.BodyHTML != "<p>Hello</p>" {
			t.Errorf("%s: MIME header %+v, %v\n%s", tc.name, h, err, m.MIME)
		}
	}

	// The documented MIME path always makes a draft.
	mime := simtest.MIMEMessage(7)
	v := c.must(http.StatusCreated, "POST", post, base64.StdEncoding.EncodeToString(mime))
	if v["isDraft"] != true {
		t.Errorf("MIME create: isDraft %v", v["isDraft"])
	}
	m, _ := tn.Message(simtest.Alice, v["id"].(string))
	if !bytes.Equal(m.MIME, mime) {
		t.Error("MIME create changed the bytes")
	}
	c.wantError(http.StatusBadRequest, "ErrorMimeContentInvalidBase64String", "POST", post, "%%% not base64 %%%")

	// Only custom (x-) internet headers are accepted.
	bad := basicMessage("headers", nil)
	bad["internetMessageHeaders"] = []any{map[string]any{"name": "Received", "value": "from x"}}
	c.wantError(http.StatusBadRequest, "InvalidInternetMessageHeader", "POST", post, bad)
	good := basicMessage("headers", nil)
	good["internetMessageHeaders"] = []any{map[string]any{"name": "X-Lifeboat", "value": "restored\r\nBcc: evil@x"}}
	good["internetMessageId"] = "<restored-1@contoso.test>"
	v = c.must(http.StatusCreated, "POST", post, good)
	m, _ = tn.Message(simtest.Alice, v["id"].(string))
	if !bytes.Contains(m.MIME, []byte("X-Lifeboat: restored  Bcc: evil@x\r\n")) || m.Header.InternetMessageID != "<restored-1@contoso.test>" {
		t.Errorf("header not kept on one line, or message id lost:\n%s", m.MIME)
	}
	// Hostile values are refused, not stored.
	badFlag := basicMessage("flags", extProps("Integer 0x0E07", "draft please"))
	c.wantError(http.StatusBadRequest, "ErrorInvalidExtendedPropertyValue", "POST", post, badFlag)
	badAddr := basicMessage("addr", nil)
	badAddr["toRecipients"] = []any{map[string]any{"emailAddress": map[string]any{"address": "a@b\r\nBcc: c@d"}}}
	c.wantError(http.StatusBadRequest, "ErrorInvalidRecipients", "POST", post, badAddr)
	c.wantError(http.StatusBadRequest, "RequestBodyRead", "POST", post, []byte("{not json"), "Content-Type", "application/json")
}

func TestPatchMessageCannotChangeDraftState(t *testing.T) {
	srv := simtest.Start(t, nil, m365sim.Options{})
	tn := srv.Tenant()
	c := newWriteRaw(t, srv)
	draft := c.must(http.StatusCreated, "POST", "/me/mailFolders/inbox/messages", basicMessage("draft", nil))["id"].(string)
	sent := c.must(http.StatusCreated, "POST", "/me/mailFolders/inbox/messages", basicMessage("sent", extProps("Integer 0x0E07", "1")))["id"].(string)
	for id, wantDraft := range map[string]bool{draft: true, sent: false} {
		patch := map[string]any{
			"isDraft":                       !wantDraft,
			"singleValueExtendedProperties": extProps("Integer 0x0E07", map[bool]string{true: "1", false: "8"}[wantDraft]),
			"isRead":                        false,
			"flag":                          map[string]any{"flagStatus": "complete"},
			"categories":                    []string{"Blue"},
			"importance":                    "low",
		}
		v := c.must(http.StatusOK, "PATCH", "/me/messages/"+url.PathEscape(id), patch)
		m, _ := tn.Message(simtest.Alice, id)
		if m.IsDraft != wantDraft || v["isDraft"] != wantDraft {
			t.Errorf("PATCH changed isDraft to %v", m.IsDraft)
		}
		if m.IsRead || m.FlagStatus != "complete" || m.Importance != "low" || len(m.Categories) != 1 || m.Categories[0] != "Blue" {
			t.Errorf("PATCH did not apply: %+v", m)
		}
	}
	c.wantError(http.StatusBadRequest, "ErrorInvalidRequest", "PATCH", "/me/messages/"+url.PathEscape(draft), map[string]any{"importance": "urgent"})
	c.wantError(http.StatusNotFound, "ErrorItemNotFound", "PATCH", "/me/messages/AAMkNone", map[string]any{"isRead": true})
}

func TestDeleteMessageFeedsDelta(t *testing.T) {
	srv := simtest.Start(t, nil, m365sim.Options{})
	tn := srv.Tenant()
	c := newWriteRaw(t, srv)
	id := c.must(http.StatusCreated, "POST", "/me/mailFolders/inbox/messages", basicMessage("to delete", extProps("Integer 0x0E07", "1")))["id"].(string)
	delta := c.must(http.StatusOK, "GET", "/me/mailFolders/inbox/messages/delta", nil)
	for delta["@odata.deltaLink"] == nil {
		delta = c.must(http.StatusOK, "GET", delta["@odata.nextLink"].(string), nil)
	}
	c.must(http.StatusNoContent, "DELETE", "/me/messages/"+url.PathEscape(id), nil)
	m, err := tn.Message(simtest.Alice, id)
	deleted, _ := tn.EnsureFolderPath(simtest.Alice, "Deleted Items")
	if err != nil || m.FolderID != deleted.ID {
		t.Fatalf("after DELETE: %+v, %v; want it in Deleted Items", m.FolderID, err)
	}
	next := c.must(http.StatusOK, "GET", delta["@odata.deltaLink"].(string), nil)
	vals, _ := next["value"].([]any)
	if len(vals) != 1 || vals[0].(map[string]any)["id"] != id || vals[0].(map[string]any)["@removed"] == nil {
		t.Errorf("delta after delete: %v", vals)
	}
	// Deleting from Deleted Items removes it for good.
	c.must(http.StatusNoContent, "DELETE", "/me/messages/"+url.PathEscape(id), nil)
	if _, err := tn.Message(simtest.Alice, id); err == nil {
		t.Error("still there after the second DELETE")
	}
	c.wantError(http.StatusNotFound, "ErrorItemNotFound", "DELETE", "/me/messages/"+url.PathEscape(id), nil)
}

func TestCreateMailFolder(t *testing.T) {
	srv := simtest.Start(t, nil, m365sim.Options{})
	tn := srv.Tenant()
	c := newWriteRaw(t, srv)
	c.wantError(http.StatusConflict, "ErrorFolderExists", "POST", "/me/mailFolders/inbox/childFolders", map[string]any{"displayName": "invoices"})
	v := c.must(http.StatusCreated, "POST", "/me/mailFolders/inbox/childFolders", map[string]any{"displayName": "Receipts"})
	if p, err := tn.FolderPath(simtest.Alice, v["id"].(string)); err != nil || p != "Inbox/Receipts" {
		t.Errorf("child folder at %q, %v", p, err)
	}
	v = c.must(http.StatusCreated, "POST", "/me/mailFolders", map[string]any{"displayName": "Restored by Lifeboat"})
	if p, _ := tn.FolderPath(simtest.Alice, v["id"].(string)); p != "Restored by Lifeboat" {
		t.Errorf("top-level folder at %q", p)
	}
	c.wantError(http.StatusConflict, "ErrorFolderExists", "POST", "/me/mailFolders", map[string]any{"displayName": "INBOX"})
	c.wantError(http.StatusBadRequest, "ErrorInvalidRequest", "POST", "/me/mailFolders", map[string]any{"displayName": "  "})
	c.wantError(http.StatusNotFound, "ErrorItemNotFound", "POST", "/me/mailFolders/AAMkNone/childFolders", map[string]any{"displayName": "x"})
}

func TestMessageFilterByInternetMessageID(t *testing.T) {
	srv := simtest.Start(t, nil, m365sim.Options{})
	c := newWriteRaw(t, srv)
	q := func(f string) string { return "/me/mailFolders/inbox/messages?$filter=" + url.QueryEscape(f) }
	v := c.must(http.StatusOK, "GET", q("internetMessageId eq '<msg-1@supplier.example>'"), nil)
	if vals, _ := v["value"].([]any); len(vals) != 1 {
		t.Errorf("filter found %d messages, want 1", len(vals))
	}
	msg := basicMessage("quoted", nil)
	msg["internetMessageId"] = "<o'brien@x.example>"
	c.must(http.StatusCreated, "POST", "/me/mailFolders/inbox/messages", msg)
	v = c.must(http.StatusOK, "GET", q("internetMessageId eq '<o''brien@x.example>'"), nil)
	if vals, _ := v["value"].([]any); len(vals) != 1 {
		t.Errorf("quoted filter found %d messages, want 1", len(vals))
	}
	c.wantError(http.StatusBadRequest, "ErrorInvalidUrlQueryFilter", "GET", q("subject eq 'x'"), nil)
	c.wantError(http.StatusBadRequest, "ErrorInvalidUrlQueryFilter", "GET", q("internetMessageId eq 'a'b'"), nil)
}

// Messages are found by a named extended property as Microsoft documents:
// the property's Name case-sensitively, its GUID and a string value
// whatever their case.
func TestMessageFilterByExtendedProperty(t *testing.T) {
	srv := simtest.Start(t, nil, m365sim.Options{})
	c := newWriteRaw(t, srv)
	const prop = "String {1D4E2B3A-7C51-4F0E-9A61-5B3F0C8E2D47} Name ImportToken"
	id := c.must(http.StatusCreated, "POST", "/me/mailFolders/inbox/messages", basicMessage("tagged", extProps(prop, "Tok-42")))["id"].(string)
	c.must(http.StatusCreated, "POST", "/me/mailFolders/inbox/messages", basicMessage("other", extProps(prop, "tok-43")))
	q := func(f string) string { return "/me/mailFolders/inbox/messages?$filter=" + url.QueryEscape(f) }
	for f, want := range map[string]int{
		"singleValueExtendedProperties/Any(ep: ep/id eq '" + prop + "' and ep/value eq 'Tok-42')":                                                   1,
		"singleValueExtendedProperties/any(x:x/id eq 'string {1d4e2b3a-7c51-4f0e-9a61-5b3f0c8e2d47} name ImportToken' and x/value eq 'TOK-42')":     1,
		"singleValueExtendedProperties/Any(ep: ep/id eq 'String {1D4E2B3A-7C51-4F0E-9A61-5B3F0C8E2D47} Name importtoken' and ep/value eq 'Tok-42')": 0,
		"singleValueExtendedProperties/Any(ep: ep/id eq '" + prop + "' and ep/value eq 'Tok-4')":                                                    0,
	} {
		v := c.must(http.StatusOK, "GET", q(f), nil)
		vals, _ := v["value"].([]any)
		if len(vals) != want {
			t.Errorf("%s: %d messages, want %d", f, len(vals), want)
		} else if want == 1 && vals[0].(map[string]any)["id"] != id {
			t.Errorf("%s: found %v", f, vals[0])
		}
	}
	for _, bad := range []string{
		"singleValueExtendedProperties/Any(ep: ep/id eq '" + prop + "')",
		"singleValueExtendedProperties/Any(ep: other/id eq '" + prop + "' and ep/value eq 'x')",
		"singleValueExtendedProperties/Any(ep: ep/id eq '" + prop + "' or ep/value eq 'x')",
		"singleValueExtendedProperties/Any(ep: ep/id eq '" + prop + "' and ep/value eq 'x'",
		"singleValueExtendedProperties/Any(ep: ep/id eq '" + prop + "' and ep/value eq 'x)",
	} {
		c.wantError(http.StatusBadRequest, "ErrorInvalidUrlQueryFilter", "GET", q(bad), nil)
	}
}

func TestAttachmentsPostAndUploadSession(t *testing.T) {
	srv := simtest.Start(t, nil, m365sim.Options{})
	tn := srv.Tenant()
	c := newWriteRaw(t, srv)
	id := c.must(http.StatusCreated, "POST", "/me/mailFolders/inbox/messages", basicMessage("with attachments", extProps("Integer 0x0E07", "1")))["id"].(string)
	base := "/me/messages/" + url.PathEscape(id) + "/attachments"
	att := func(n int) map[string]any {
		return map[string]any{"@odata.type": "#microsoft.graph.fileAttachment", "name": "a" + strconv.Itoa(n) + ".bin",
			"contentType": "application/octet-stream", "contentBytes": base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{byte(n)}, n))}
	}
	v := c.must(http.StatusCreated, "POST", base, att(3<<20))
	if v["size"] != float64(3<<20) || v["id"] == "" {
		t.Errorf("POST 3 MiB: %v", v)
	}
	c.wantError(http.StatusRequestEntityTooLarge, "", "POST", base, att(3<<20+1))
	c.wantError(http.StatusBadRequest, "ErrorInvalidRequest", "POST", base, map[string]any{"@odata.type": "#microsoft.graph.itemAttachment", "name": "x"})

	// Upload session: 3 MB to 150 MB only.
	sess := func(size int64) driveResp {
		return c.send("POST", base+"/createUploadSession", map[string]any{"AttachmentItem": map[string]any{
			"attachmentType": "file", "name": "big.bin", "size": size, "contentType": "application/zip"}})
	}
	if r := sess(1000); r.status != http.StatusBadRequest || r.errorCode(t) != "ErrorAttachmentSizeShouldNotBeLessThanMinimumSize" {
		t.Errorf("small session: %d %s", r.status, r.body)
	}
	if r := sess(151 << 20); r.status != http.StatusBadRequest {
		t.Errorf("huge session: %d %s", r.status, r.body)
	}
	data := bytes.Repeat([]byte("lifeboat"), 5_000_000/8)
	r := sess(int64(len(data)))
	if r.status != http.StatusCreated {
		t.Fatalf("session: %d %s", r.status, r.body)
	}
	up := r.json(t)["uploadUrl"].(string)
	put := func(start, end int, hdr ...string) driveResp {
		h := append([]string{"Authorization", "", "Content-Range", "bytes " + strconv.Itoa(start) + "-" + strconv.Itoa(end-1) + "/" + strconv.Itoa(len(data))}, hdr...)
		return c.send("PUT", up, data[start:end], h...)
	}
	if r := put(0, 4<<20+1); r.status != http.StatusRequestEntityTooLarge {
		t.Errorf("chunk over 4 MiB: %d", r.status)
	}
	if r := put(0, 1<<20, "Authorization", "Bearer "+c.token); r.status != http.StatusUnauthorized {
		t.Errorf("chunk with a token: %d", r.status)
	}
	if r := put(0, 2<<20); r.status != http.StatusOK || r.json(t)["nextExpectedRanges"].([]any)[0] != strconv.Itoa(2<<20) {
		t.Errorf("first chunk: %d %s", r.status, r.body)
	}
	if r := put(3<<20, 4<<20); r.status != http.StatusRequestedRangeNotSatisfiable {
		t.Errorf("out-of-order chunk: %d", r.status)
	}
	r = put(2<<20, len(data))
	loc := r.header.Get("Location")
	if r.status != http.StatusCreated || !strings.Contains(loc, "/Attachments('") {
		t.Fatalf("last chunk: %d %q %s", r.status, loc, r.body)
	}
	if r := put(0, 1<<20); r.status != http.StatusNotFound {
		t.Errorf("PUT after completion: %d", r.status)
	}
	m, _ := tn.Message(simtest.Alice, id)
	if len(m.Attachments) != 2 || !bytes.Equal(m.Attachments[1].Content, data) || !strings.Contains(loc, m.Attachments[1].ID) {
		t.Fatalf("attachments after the session: %d", len(m.Attachments))
	}
	h, err := m365sim.ParseMessageHeader(m.MIME)
	if err != nil || len(h.Attachments) != 2 || h.Attachments[1].Name != "big.bin" || h.Attachments[1].Size != int64(len(data)) {
		t.Errorf("MIME after attachments: %+v, %v", h.Attachments, err)
	}
	if v := c.must(http.StatusOK, "GET", "/me/messages/"+url.PathEscape(id), nil); v["hasAttachments"] != true {
		t.Errorf("hasAttachments %v", v["hasAttachments"])
	}
	// The list: with contentBytes, or only what $select names.
	list := c.must(http.StatusOK, "GET", base, nil)["value"].([]any)
	if len(list) != 2 {
		t.Fatalf("listed %d attachments", len(list))
	}
	if a := list[1].(map[string]any); a["name"] != "big.bin" || a["size"] != float64(len(data)) || a["contentBytes"] != base64.StdEncoding.EncodeToString(data) {
		t.Errorf("listed %v %v, content %d chars", a["name"], a["size"], len(fmt.Sprint(a["contentBytes"])))
	}
	list = c.must(http.StatusOK, "GET", base+"?$select=name,size", nil)["value"].([]any)
	if a := list[0].(map[string]any); len(list) != 2 || a["name"] != "a3145728.bin" || a["contentBytes"] != nil || a["id"] == nil {
		t.Errorf("listed with $select: %v", a)
	}
	c.wantError(http.StatusNotFound, "ErrorItemNotFound", "GET", "/me/messages/AAMkNone/attachments", nil)
}

func TestAttachmentSessionExpires(t *testing.T) {
	clock := &driveClock{now: time.Date(2026, 3, 3, 9, 0, 0, 0, time.UTC)}
	srv := simtest.Start(t, clockTenant(t, clock), m365sim.Options{})
	c := newWriteRaw(t, srv)
	id := c.must(http.StatusCreated, "POST", "/me/mailFolders/inbox/messages", basicMessage("x", nil))["id"].(string)
	v := c.must(http.StatusCreated, "POST", "/me/messages/"+url.PathEscape(id)+"/attachments/createUploadSession",
		map[string]any{"AttachmentItem": map[string]any{"attachmentType": "file", "name": "big.bin", "size": 4_000_000}})
	clock.Advance(16 * time.Minute)
	r := c.send("PUT", v["uploadUrl"].(string), make([]byte, 10), "Authorization", "", "Content-Range", "bytes 0-9/4000000")
	if r.status != http.StatusNotFound {
		t.Errorf("PUT to an expired session: %d", r.status)
	}
}

// clockTenant is a one-user tenant on a test clock.
func clockTenant(t *testing.T, clock *driveClock) *m365sim.Tenant {
	t.Helper()
	tn := m365sim.NewTenant("Contoso", "contoso.test", clock.Now)
	if _, err := tn.AddUser(simtest.Alice, "Alice Archer"); err != nil {
		t.Fatal(err)
	}
	return tn
}

// A lost answer: the simulator does what was asked, then drops the
// connection, so the client sees an error although the folder exists.
func TestFaultLostCarriesOutTheRequest(t *testing.T) {
	srv := simtest.Start(t, nil, m365sim.Options{})
	c := newWriteRaw(t, srv)
	srv.FaultInjector().Force(m365sim.FaultLost, 1)
	req, err := http.NewRequest("POST", srv.GraphURL()+"/me/mailFolders", strings.NewReader(`{"displayName":"Lost answer"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	fresh := srv.HTTPClient()
	defer fresh.CloseIdleConnections()
	if resp, err := fresh.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("an answer came: %d", resp.StatusCode)
	}
	c.wantError(http.StatusConflict, "ErrorFolderExists", "POST", "/me/mailFolders", map[string]any{"displayName": "Lost answer"})
	var logged bool
	for _, e := range srv.Requests().Entries() {
		logged = logged || e.Method == "POST" && e.Status == http.StatusCreated && e.Bytes == 0
	}
	if !logged {
		t.Errorf("the request log does not show the created folder: %v", srv.Requests().Entries())
	}
}
