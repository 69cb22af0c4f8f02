package m365sim

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits for parsing hostile MIME: a message that goes beyond them still
// stores and downloads exactly, only its preview and attachment list are cut.
const (
	maxMIMEDepth    = 8
	maxMIMEParts    = 200
	maxBodyText     = 1 << 20
	bodyPreviewRune = 255
)

// Recipient is a name and address as Graph's emailAddress.
type Recipient struct {
	Name    string `json:"name"`
	Address string `json:"address"`
}

// MessageHeader is the metadata Graph derives from a message's MIME.
type MessageHeader struct {
	Subject           string
	From              *Recipient
	Sender            *Recipient
	To, Cc, Bcc       []Recipient
	ReplyTo           []Recipient
	Sent              time.Time
	Received          time.Time
	InternetMessageID string
	ConversationID    string
	Importance        string
	BodyText          string // plain text of the body, bounded
	BodyHTML          string // HTML body when the message has one, bounded
	Attachments       []AttachmentInfo
}

// AttachmentInfo describes one attachment found in the MIME structure.
type AttachmentInfo struct {
	Name        string
	ContentType string
	Size        int64
	Inline      bool
}

var wordDecoder = &mime.WordDecoder{CharsetReader: charsetReader}

// charsetReader accepts the charsets Go can convert without extra tables and
// passes others through unchanged: a preview with odd characters beats a
// message that cannot be listed.
func charsetReader(charset string, input io.Reader) (io.Reader, error) {
	switch strings.ToLower(charset) {
	case "iso-8859-1", "latin1", "windows-1252", "cp1252":
		b, err := io.ReadAll(io.LimitReader(input, maxBodyText))
		if err != nil {
			return nil, err
		}
		r := make([]rune, len(b))
		for i, c := range b {
			r[i] = rune(c)
		}
		return strings.NewReader(string(r)), nil
	default:
		return input, nil
	}
}

// ParseMessageHeader reads the metadata of a MIME message. It fails only when
// the bytes have no header block at all: RFC 5322 requires From and Date,
// but Exchange stores what it is given, and valid MIME entities with only
// MIME-Version and Content-Type exist (CPython's email test corpus has
// several), so a message without From, Date, Subject or Message-ID is
// still a message: no sender, no subject, no date.
func ParseMessageHeader(raw []byte) (MessageHeader, error) {
	var h MessageHeader
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return h, fmt.Errorf("not a MIME message: %w", err)
	}
	hdr := msg.Header
	if len(hdr) == 0 {
		return h, errors.New("not a MIME message: there is no header block")
	}
	h.Subject = decodeWords(hdr.Get("Subject"))
	h.From = firstAddress(hdr, "From")
	h.Sender = firstAddress(hdr, "Sender")
	if h.Sender == nil {
		h.Sender = h.From
	}
	h.To = addressList(hdr, "To")
	h.Cc = addressList(hdr, "Cc")
	h.Bcc = addressList(hdr, "Bcc")
	h.ReplyTo = addressList(hdr, "Reply-To")
	if d, err := hdr.Date(); err == nil {
		h.Sent = d.UTC()
	}
	h.Received = receivedTime(hdr)
	if h.Received.IsZero() {
		h.Received = h.Sent
	}
	h.InternetMessageID = strings.TrimSpace(hdr.Get("Message-Id"))
	h.ConversationID = conversationID(hdr)
	h.Importance = importance(hdr)
	w := &bodyWalker{h: &h, keep: -1}
	w.walk(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Header.Get("Content-Disposition"), msg.Body, 0)
	return h, nil
}

func decodeWords(s string) string {
	d, err := wordDecoder.DecodeHeader(s)
	if err != nil {
		return s
	}
	return strings.ToValidUTF8(d, "\uFFFD")
}

func firstAddress(hdr mail.Header, key string) *Recipient {
	l := addressList(hdr, key)
	if len(l) == 0 {
		return nil
	}
	return &l[0]
}

func addressList(hdr mail.Header, key string) []Recipient {
	v := hdr.Get(key)
	if v == "" {
		return nil
	}
	p := mail.AddressParser{WordDecoder: wordDecoder}
	list, err := p.ParseList(v)
	if err != nil {
		// Keep what a person would see rather than dropping the header.
		return []Recipient{{Address: strings.TrimSpace(decodeWords(v))}}
	}
	out := make([]Recipient, 0, len(list))
	for _, a := range list {
		out = append(out, Recipient{Name: a.Name, Address: a.Address})
	}
	return out
}

// receivedTime takes the date of the topmost Received header, which is when
// the receiving server accepted the message.
func receivedTime(hdr mail.Header) time.Time {
	for _, r := range hdr["Received"] {
		i := strings.LastIndex(r, ";")
		if i < 0 {
			continue
		}
		if t, err := mail.ParseDate(strings.TrimSpace(r[i+1:])); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

func conversationID(hdr mail.Header) string {
	root := hdr.Get("References")
	if f := strings.Fields(root); len(f) > 0 {
		root = f[0]
	} else if irt := hdr.Get("In-Reply-To"); irt != "" {
		root = irt
	} else {
		root = hdr.Get("Message-Id")
	}
	return "AAQk" + base64.RawURLEncoding.EncodeToString([]byte(strings.TrimSpace(root)))
}

func importance(hdr mail.Header) string {
	switch strings.ToLower(strings.TrimSpace(hdr.Get("Importance"))) {
	case "high":
		return "high"
	case "low":
		return "low"
	}
	switch p := strings.TrimSpace(hdr.Get("X-Priority")); {
	case strings.HasPrefix(p, "1"), strings.HasPrefix(p, "2"):
		return "high"
	case strings.HasPrefix(p, "4"), strings.HasPrefix(p, "5"):
		return "low"
	}
	return "normal"
}

type bodyWalker struct {
	h     *MessageHeader
	parts int
	// keep, when >= 0, is the index of the attachment whose decoded
	// bytes to keep in kept.
	keep int
	kept []byte
}

func (w *bodyWalker) walk(ctype, cte, disp string, body io.Reader, depth int) {
	w.parts++
	if depth > maxMIMEDepth || w.parts > maxMIMEParts {
		return
	}
	mt, params, err := mime.ParseMediaType(ctype)
	if err != nil || ctype == "" {
		mt, params = "text/plain", map[string]string{}
	}
	dispType, dparams, _ := mime.ParseMediaType(disp)
	name := dparams["filename"]
	if name == "" {
		name = params["name"]
	}
	name = decodeWords(name)
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err != nil {
				return
			}
			w.walk(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p.Header.Get("Content-Disposition"), p, depth+1)
		}
	}
	decoded := decodeTransfer(cte, body)
	isAttachment := dispType == "attachment" || (name != "" && !strings.HasPrefix(mt, "text/")) || mt == "message/rfc822"
	if isAttachment {
		var n int64
		if w.keep == len(w.h.Attachments) {
			// The message is in memory already: its part is no larger.
			w.kept, _ = io.ReadAll(io.LimitReader(decoded, 1<<30))
			n = int64(len(w.kept))
		}
		m, _ := io.Copy(io.Discard, io.LimitReader(decoded, 1<<30))
		n += m
		if name == "" {
			name = "attachment"
		}
		w.h.Attachments = append(w.h.Attachments, AttachmentInfo{Name: name, ContentType: mt, Size: n, Inline: dispType == "inline"})
		return
	}
	switch mt {
	case "text/plain":
		if w.h.BodyText == "" {
			w.h.BodyText = readText(decoded, params["charset"])
		}
	case "text/html":
		if w.h.BodyHTML == "" {
			w.h.BodyHTML = readText(decoded, params["charset"])
		}
	}
}

func decodeTransfer(cte string, r io.Reader) io.Reader {
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "base64":
		return base64.NewDecoder(base64.StdEncoding, &stripSpace{r: r})
	case "quoted-printable":
		return quotedprintable.NewReader(r)
	}
	return r
}

// stripSpace drops line breaks and spaces so base64 bodies decode.
type stripSpace struct{ r io.Reader }

func (s *stripSpace) Read(p []byte) (int, error) {
	for {
		n, err := s.r.Read(p)
		j := 0
		for _, c := range p[:n] {
			if c != '\r' && c != '\n' && c != ' ' && c != '\t' {
				p[j] = c
				j++
			}
		}
		if j > 0 || err != nil {
			return j, err
		}
	}
}

func readText(r io.Reader, charset string) string {
	if charset != "" {
		if cr, err := charsetReader(charset, r); err == nil {
			r = cr
		}
	}
	b, _ := io.ReadAll(io.LimitReader(r, maxBodyText))
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

// BodyPreview is Graph's bodyPreview: the first 255 characters of the text
// body with runs of white space folded.
func (h MessageHeader) BodyPreview() string {
	text := h.BodyText
	if text == "" && h.BodyHTML != "" {
		text = stripTags(h.BodyHTML)
	}
	text = strings.Join(strings.Fields(text), " ")
	if utf8.RuneCountInString(text) > bodyPreviewRune {
		r := []rune(text)
		text = string(r[:bodyPreviewRune])
	}
	return text
}

// stripTags turns HTML into the text a reader sees: block elements and
// line breaks separate words, inline ones (<b>, <span>) do not, and
// entities are decoded. (Exchange's bodyPreview of "They were
// <b>awesome</b>!" is "They were awesome!", user-post-messages.md.)
func stripTags(s string) string {
	var b, tag strings.Builder
	in := false
	for _, r := range s {
		switch {
		case r == '<':
			in = true
			tag.Reset()
		case r == '>' && in:
			in = false
			if blockTag(tag.String()) {
				b.WriteByte(' ')
			}
		case in:
			if tag.Len() < 16 {
				tag.WriteRune(r)
			}
		default:
			b.WriteRune(r)
		}
	}
	return html.UnescapeString(b.String())
}

// blockTag reports whether a tag's contents (after '<') start or end a
// block of text.
func blockTag(t string) bool {
	name := strings.ToLower(strings.TrimPrefix(t, "/"))
	if i := strings.IndexAny(name, " \t\r\n/"); i >= 0 {
		name = name[:i]
	}
	switch name {
	case "br", "p", "div", "li", "ul", "ol", "tr", "td", "th", "table", "h1", "h2", "h3", "h4", "h5", "h6",
		"blockquote", "pre", "hr", "body", "head", "title", "html", "section", "article", "header", "footer":
		return true
	}
	return false
}
