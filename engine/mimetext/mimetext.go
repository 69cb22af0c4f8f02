package mimetext

import (
	"encoding/base64"
	"fmt"
	"html"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Limits for reading a hostile message: how deep multiparts nest and how
// many parts are looked at (so at most MaxParts attachments are listed).
const (
	maxDepth = 8
	MaxParts = 500
)

// Header is a message's or a MIME part's header (mail.Header,
// textproto.MIMEHeader).
type Header interface{ Get(string) string }

// Attachment is an attached file: its name ("" when it has none), its
// media type, and its size once decoded.
type Attachment struct {
	Name        string
	ContentType string
	Size        int64
}

// Body is what ReadBody found.
type Body struct {
	// Text is the plain text, at most the maxBody bytes asked for.
	Text      string
	Truncated bool
	// Attachments are the non-text parts and the named parts.
	Attachments []Attachment
}

// ReadBody walks a message body (h is the message's header) and returns
// its text, at most maxBody bytes (HTML is turned into text when there is
// no plain part), and its attachments. It reads body to its end.
func ReadBody(h Header, body io.Reader, maxBody int) Body {
	w := &partWalker{maxBody: maxBody}
	w.walk(h, body, 0)
	text := w.plain.String()
	if strings.TrimSpace(text) == "" && w.html.Len() > 0 {
		text = HTMLToText(w.html.String())
	}
	if len(text) > maxBody {
		text, w.truncated = CutUTF8(text, maxBody), true
	}
	return Body{Text: text, Truncated: w.truncated, Attachments: w.attachments}
}

// WordDecoder decodes RFC 2047 words in UTF-8, Latin-1 and Windows-1252.
var WordDecoder = &mime.WordDecoder{CharsetReader: charsetReader}

// DecodeWords decodes a header's RFC 2047 words; what is not valid UTF-8
// afterwards is replaced.
func DecodeWords(s string) string {
	if d, err := WordDecoder.DecodeHeader(s); err == nil {
		s = d
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// partWalker collects the body text and attachments of a message.
type partWalker struct {
	maxBody     int
	plain, html strings.Builder
	truncated   bool
	attachments []Attachment
	parts       int
}

func (w *partWalker) walk(h Header, body io.Reader, depth int) {
	w.parts++
	if w.parts > MaxParts || depth > maxDepth {
		return
	}
	ct, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil {
		ct, params = "text/plain", map[string]string{}
	}
	disp, dparams, _ := mime.ParseMediaType(h.Get("Content-Disposition"))
	name := dparams["filename"]
	if name == "" {
		name = params["name"]
	}
	name = DecodeWords(name)

	if strings.HasPrefix(ct, "multipart/") && params["boundary"] != "" {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err != nil {
				return
			}
			w.walk(p.Header, p, depth+1)
			if w.parts > MaxParts {
				return
			}
		}
	}
	decoded := transferDecoder(h.Get("Content-Transfer-Encoding"), body)
	isText := ct == "text/plain" || ct == "text/html"
	if disp == "attachment" || name != "" || !isText {
		n, _ := io.Copy(io.Discard, decoded)
		w.attachments = append(w.attachments, Attachment{Name: name, ContentType: ct, Size: n})
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

// HTMLToText is a reading version of an HTML body: tags dropped, line
// breaks kept, entities decoded. It is for showing, never for rendering.
func HTMLToText(s string) string {
	s = htmlDrop.ReplaceAllString(s, "")
	s = htmlBreak.ReplaceAllString(s, "\n")
	s = htmlTag.ReplaceAllString(s, "")
	s = html.UnescapeString(s)
	s = strings.ReplaceAll(s, "\r", "")
	s = blankRuns.ReplaceAllString(s, "\n\n")
	return strings.TrimSpace(s)
}

// CutUTF8 cuts s to at most n bytes without splitting a character.
func CutUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
