package backup

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"regexp"
	"strings"
	"unicode/utf8"
)

// maxCapture is how much of a message's MIME is kept in memory, while it
// streams into the repository, to index its body text and attachment
// names. Attachments beyond it are not named in the search index.
const maxCapture = 256 << 10

// maxBody is how much body text is indexed.
const maxBody = 16 << 10

// capture keeps the first max bytes written to it.
type capture struct {
	buf []byte
	max int
}

func (c *capture) Write(p []byte) (int, error) {
	if room := c.max - len(c.buf); room > 0 {
		c.buf = append(c.buf, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

// mimeInfo is what search indexes of a message beyond its metadata.
type mimeInfo struct {
	body        string
	attachments []string
}

// parseMIME extracts the plain body text and attachment names from the
// start of a message. It is lenient: whatever cannot be parsed is left
// out; it never fails.
func parseMIME(b []byte) mimeInfo {
	var info mimeInfo
	msg, err := mail.ReadMessage(bufio.NewReader(bytes.NewReader(b)))
	if err != nil {
		return info
	}
	walkPart(msg.Header, msg.Body, &info, 0)
	return info
}

// header is a mail or MIME part header.
type header interface{ Get(string) string }

var wordDecoder = &mime.WordDecoder{}

func walkPart(h header, body io.Reader, info *mimeInfo, depth int) {
	if depth > 8 {
		return
	}
	ct, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil {
		ct = "text/plain"
	}
	disp, dparams, _ := mime.ParseMediaType(h.Get("Content-Disposition"))
	name := dparams["filename"]
	if name == "" {
		name = params["name"]
	}
	if name != "" {
		if d, err := wordDecoder.DecodeHeader(name); err == nil {
			name = d
		}
	}
	if strings.HasPrefix(ct, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err != nil {
				return
			}
			walkPart(p.Header, p, info, depth+1)
		}
	}
	if disp == "attachment" || (name != "" && !strings.HasPrefix(ct, "text/")) {
		if name != "" {
			info.attachments = append(info.attachments, name)
		}
		return
	}
	if info.body != "" || (ct != "text/plain" && ct != "text/html") {
		return
	}
	var r io.Reader = body
	switch strings.ToLower(h.Get("Content-Transfer-Encoding")) {
	case "quoted-printable":
		r = quotedprintable.NewReader(r)
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, r) // it skips line breaks itself
	}
	text, _ := io.ReadAll(io.LimitReader(r, maxBody*2))
	s := string(text)
	if ct == "text/html" {
		s = htmlTags.ReplaceAllString(s, " ")
	}
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > maxBody {
		s = s[:maxBody]
		for !utf8.ValidString(s) && len(s) > 0 {
			s = s[:len(s)-1]
		}
	}
	info.body = strings.ToValidUTF8(s, "")
}

var htmlTags = regexp.MustCompile(`(?s)<style.*?</style>|<script.*?</script>|<[^>]*>`)
