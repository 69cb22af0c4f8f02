package main

import (
	"bufio"
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/lifeboat-backup/lifeboat/ui"
)

// Limits for reading a hostile message: how deep multiparts nest, how many
// parts are looked at, and how long a header may be.
const (
	maxPreviewDepth  = 8
	maxPreviewParts  = 500
	maxPreviewHeader = 256 << 10
)

// previewMessage reads a MIME message as a stream (never all of it in
// memory) for the preview pane: its headers, the plain text of its body
// (at most maxBody bytes; HTML is turned into text when there is no plain
// part) and its attachments with their decoded sizes. A malformed message
// gives what could be read; only an unreadable header is an error.
func previewMessage(r io.Reader, maxBody int) (ui.ItemPreview, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	hr := &limitedHeader{r: br, left: maxPreviewHeader}
	msg, err := mail.ReadMessage(bufio.NewReader(hr))
	if err != nil {
		return ui.ItemPreview{}, fmt.Errorf("reading the message's header: %w", err)
	}
	pv := ui.ItemPreview{Kind: ui.ItemEmail, Subject: decodeWords(msg.Header.Get("Subject")),
		From: addresses(msg.Header, "From"), To: addresses(msg.Header, "To"), Cc: addresses(msg.Header, "Cc")}
	if d, err := msg.Header.Date(); err == nil {
		pv.Date = d
	}
	// The header was read through the limit; the body is not limited.
	hr.left = -1
	w := &partWalker{maxBody: maxBody}
	w.walk(textprotoHeader(msg.Header), msg.Body, 0)
	body := w.plain.String()
	if strings.TrimSpace(body) == "" && w.html.Len() > 0 {
		body = htmlToText(w.html.String())
	}
	if len(body) > maxBody {
		body, w.truncated = cutUTF8(body, maxBody), true
	}
	pv.Body, pv.BodyTruncated = body, w.truncated
	pv.Attachments = w.attachments
	return pv, nil
}

// limitedHeader fails reads past left bytes (while left >= 0), so a header
// without an end cannot grow without bound.
type limitedHeader struct {
	r    io.Reader
	left int
}

func (l *limitedHeader) Read(p []byte) (int, error) {
	if l.left == 0 {
		return 0, errors.New("the message header is too long")
	}
	if l.left > 0 && len(p) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	if l.left > 0 {
		l.left -= n
	}
	return n, err
}

type header interface{ Get(string) string }

type textprotoHeader mail.Header

func (h textprotoHeader) Get(k string) string { return mail.Header(h).Get(k) }

var wordDecoder = &mime.WordDecoder{CharsetReader: charsetReader}

func decodeWords(s string) string {
	if d, err := wordDecoder.DecodeHeader(s); err == nil {
		s = d
	}
	return strings.ToValidUTF8(s, "�")
}

func addresses(h mail.Header, key string) string {
	raw := h.Get(key)
	if raw == "" {
		return ""
	}
	list, err := (&mail.AddressParser{WordDecoder: wordDecoder}).ParseList(raw)
	if err != nil {
		return decodeWords(raw)
	}
	parts := make([]string, 0, len(list))
	for _, a := range list {
		parts = append(parts, personText(a.Name, a.Address))
	}
	return strings.Join(parts, ", ")
}

// partWalker collects the body text and attachments of a message.
type partWalker struct {
	maxBody     int
	plain, html strings.Builder
	truncated   bool
	attachments []ui.PreviewAttachment
	parts       int
}

func (w *partWalker) walk(h header, body io.Reader, depth int) {
	w.parts++
	if w.parts > maxPreviewParts || depth > maxPreviewDepth {
		return
	}
	ct, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil {
		ct, params = "text/plain", map[string]string{}
	}
	disp, dparams, _ := mime.ParseMediaType(h.Get("Content-Disposition"))
	name := firstNonEmpty(dparams["filename"], params["name"])
	name = decodeWords(name)

	if strings.HasPrefix(ct, "multipart/") && params["boundary"] != "" {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err != nil {
				return
			}
			w.walk(p.Header, p, depth+1)
			if w.parts > maxPreviewParts {
				return
			}
		}
	}
	decoded := transferDecoder(h.Get("Content-Transfer-Encoding"), body)
	isText := ct == "text/plain" || ct == "text/html"
	if disp == "attachment" || name != "" || !isText {
		if name == "" {
			name = "attachment"
			if ct == "message/rfc822" {
				name = "attached message.eml"
			}
		}
		n, _ := io.Copy(io.Discard, decoded)
		w.attachments = append(w.attachments, ui.PreviewAttachment{Name: name, Size: n})
		return
	}
	dst := &w.plain
	if ct == "text/html" {
		dst = &w.html
	}
	if dst.Len() > 0 {
		// Only the first text part of each kind is the body (the others
		// are alternatives or quoted parts already represented).
		io.Copy(io.Discard, decoded)
		return
	}
	// Read a little more than shown, so a cut can be detected.
	b, _ := io.ReadAll(io.LimitReader(decoded, int64(w.maxBody)*4+1))
	if len(b) > w.maxBody*4 {
		w.truncated = true
		io.Copy(io.Discard, decoded)
	}
	dst.WriteString(toUTF8(b, params["charset"]))
}

func transferDecoder(enc string, r io.Reader) io.Reader {
	switch strings.ToLower(strings.TrimSpace(enc)) {
	case "base64":
		return base64.NewDecoder(base64.StdEncoding, &base64Cleaner{r: r})
	case "quoted-printable":
		return quotedprintable.NewReader(r)
	}
	return r
}

// base64Cleaner drops the line breaks and spaces base64 bodies carry.
type base64Cleaner struct{ r io.Reader }

func (c *base64Cleaner) Read(p []byte) (int, error) {
	for {
		n, err := c.r.Read(p)
		j := 0
		for _, b := range p[:n] {
			if b != '\r' && b != '\n' && b != ' ' && b != '\t' {
				p[j] = b
				j++
			}
		}
		if j > 0 || err != nil {
			return j, err
		}
	}
}

// charsetReader decodes the charsets every mail program writes besides
// UTF-8: Latin-1 and Windows-1252 (as Latin-1, close enough to read).
func charsetReader(charset string, r io.Reader) (io.Reader, error) {
	switch strings.ToLower(charset) {
	case "iso-8859-1", "latin1", "windows-1252", "cp1252", "iso-8859-15":
		b, err := io.ReadAll(io.LimitReader(r, 1<<20))
		if err != nil {
			return nil, err
		}
		return strings.NewReader(latin1(b)), nil
	}
	return nil, fmt.Errorf("charset %q is not supported", charset)
}

func toUTF8(b []byte, charset string) string {
	switch strings.ToLower(charset) {
	case "iso-8859-1", "latin1", "windows-1252", "cp1252", "iso-8859-15":
		if !utf8.Valid(b) {
			return latin1(b)
		}
	}
	return strings.ToValidUTF8(string(b), "�")
}

func latin1(b []byte) string {
	var sb strings.Builder
	for _, c := range b {
		sb.WriteRune(rune(c))
	}
	return sb.String()
}

var (
	htmlDrop  = regexp.MustCompile(`(?is)<(script|style|head)\b.*?</(script|style|head)\s*>`)
	htmlBreak = regexp.MustCompile(`(?i)<\s*(br|/p|/div|/tr|/li|/h[1-6])\b[^>]*>`)
	htmlTag   = regexp.MustCompile(`(?s)<[^>]*>`)
	blankRuns = regexp.MustCompile(`\n[ \t]*\n([ \t]*\n)+`)
)

// htmlToText is a reading version of an HTML body: tags dropped, line
// breaks kept, entities decoded. It is for showing, never for rendering.
func htmlToText(s string) string {
	s = htmlDrop.ReplaceAllString(s, "")
	s = htmlBreak.ReplaceAllString(s, "\n")
	s = htmlTag.ReplaceAllString(s, "")
	s = html.UnescapeString(s)
	s = strings.ReplaceAll(s, "\r", "")
	s = blankRuns.ReplaceAllString(s, "\n\n")
	return strings.TrimSpace(s)
}

// cutUTF8 cuts s to at most n bytes without splitting a character.
func cutUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
