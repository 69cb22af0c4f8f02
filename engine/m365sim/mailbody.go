package m365sim

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"html"
	"net/http"
	"strings"
	"time"
)

// messageBody is a message's body property. Graph returns it as HTML
// unless the request says Prefer: outlook.body-content-type="text"
// (message-get.md: "If the header is not specified, the body and
// uniqueBody properties are returned in HTML format"); a plain-text
// message is then converted to HTML, and an HTML one to text.
func messageBody(h MessageHeader, asText bool) map[string]any {
	if asText {
		text := h.BodyText
		if text == "" && h.BodyHTML != "" {
			text = stripTags(h.BodyHTML)
		}
		return map[string]any{"contentType": "text", "content": text}
	}
	if h.BodyHTML != "" {
		return map[string]any{"contentType": "html", "content": h.BodyHTML}
	}
	// What Exchange makes of a plain-text body: the text escaped, line
	// breaks kept, inside an HTML document.
	text := strings.ReplaceAll(html.EscapeString(h.BodyText), "\r\n", "\n")
	text = strings.ReplaceAll(text, "\n", "<br>\r\n")
	return map[string]any{"contentType": "html", "content": "<html>\r\n<head>\r\n<meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\">\r\n</head>\r\n<body>\r\n<div class=\"PlainText\">" + text + "</div>\r\n</body>\r\n</html>\r\n"}
}

// bodyPreference reads Prefer: outlook.body-content-type and, when the
// request has it, answers with Preference-Applied as Graph does. It
// reports whether bodies are to be text.
func bodyPreference(w http.ResponseWriter, r *http.Request) bool {
	for _, pref := range r.Header.Values("Prefer") {
		for _, p := range strings.Split(pref, ",") {
			k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
			if !ok || !strings.EqualFold(strings.TrimSpace(k), "outlook.body-content-type") {
				continue
			}
			v = strings.ToLower(strings.Trim(strings.TrimSpace(v), `"`))
			if v != "text" && v != "html" {
				continue
			}
			w.Header().Set("Preference-Applied", `outlook.body-content-type="`+v+`"`)
			return v == "text"
		}
	}
	return false
}

// applyBodyPreference replaces an HTML body with the text one when asked.
func applyBodyPreference(v map[string]any, h MessageHeader, asText bool) {
	if _, has := v["body"]; has && asText {
		v["body"] = messageBody(h, true)
	}
}

// conversationIndex is the message's conversationIndex: Exchange's
// PidTagConversationIndex ([MS-OXOMSG] 2.2.1.3), a header block of one
// reserved byte, the five high bytes of a FILETIME and a 16-byte GUID
// for the thread, base64-encoded.
func conversationIndex(h MessageHeader) string {
	const filetimeEpoch = 116444736000000000 // 1601-01-01 to 1970-01-01 in 100 ns
	t := h.Sent
	if t.IsZero() {
		t = time.Unix(0, 0)
	}
	ft := uint64(t.UnixNano()/100) + filetimeEpoch
	var b [22]byte
	b[0] = 1
	var f [8]byte
	binary.BigEndian.PutUint64(f[:], ft)
	copy(b[1:6], f[:5])
	sum := sha256.Sum256([]byte(h.ConversationID))
	copy(b[6:], sum[:16])
	return base64.StdEncoding.EncodeToString(b[:])
}
