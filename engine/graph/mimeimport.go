package graph

// Parsing a backed-up MIME message into the parts Graph's JSON message
// takes, for ImportMessage. The MIME comes from a repository that may hold
// anything a sender put in a mail, so every size is bounded, malformed
// structure is an error (never a panic), and attachments stream to temp
// files above a small size instead of sitting in memory.

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/encoding/htmlindex"
)

// Limits of the MIME import parser.
const (
	mimeMaxHeader      = 1 << 20   // a header section
	mimeMaxParts       = 500       // parts in the whole tree
	mimeMaxDepth       = 16        // multipart nesting
	mimeMaxBody        = 32 << 20  // the text or HTML body
	mimeMaxAttachment  = 150 << 20 // one attachment (Graph's limit)
	mimeMaxTotal       = 1 << 30   // all attachments together
	mimeMemAttachment  = 1 << 20   // above this an attachment goes to a temp file
	mimeMaxXHeaders    = 50
	mimeMaxHeaderValue = 998 // RFC 5322 line length limit
)

// errMIME marks a message that cannot be imported as it is.
var errMIME = errors.New("malformed MIME message")

func mimeErr(format string, a ...any) error {
	return fmt.Errorf("%w: %s", errMIME, fmt.Sprintf(format, a...))
}

// parsedMessage is a MIME message taken apart. Close removes its temp files.
type parsedMessage struct {
	Subject     string
	From        *Address
	Sender      *Address
	To, Cc, Bcc []Address
	ReplyTo     []Address
	Date        time.Time // the Date header; zero when absent or invalid
	Received    time.Time // the topmost Received header's date
	MessageID   string    // <id@host>, or "" when absent or unusable
	Importance  string    // from Importance/X-Priority; "" when not said
	XHeaders    [][2]string
	Text, HTML  string
	Attachments []*parsedAttachment

	tempDir string
	parts   int
	total   int64
	files   []string
}

// parsedAttachment is one attachment: in memory when small, else in a
// temp file.
type parsedAttachment struct {
	Name        string
	ContentType string
	ContentID   string // without angle brackets
	Inline      bool
	Size        int64
	data        []byte
	path        string
}

// Open returns the attachment's decoded bytes.
func (a *parsedAttachment) Open() (io.ReadCloser, error) {
	if a.path == "" {
		return io.NopCloser(bytes.NewReader(a.data)), nil
	}
	return os.Open(a.path)
}

// Close removes the temp files.
func (p *parsedMessage) Close() error {
	var first error
	for _, f := range p.files {
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) && first == nil {
			first = err
		}
	}
	p.files = nil
	return first
}

var mimeWordDecoder = &mime.WordDecoder{CharsetReader: charsetReader}

// charsetReader decodes any charset the WHATWG encoding index knows.
func charsetReader(label string, r io.Reader) (io.Reader, error) {
	enc, err := htmlindex.Get(strings.TrimSpace(label))
	if err != nil {
		return nil, fmt.Errorf("unknown charset %q", label)
	}
	return enc.NewDecoder().Reader(r), nil
}

// parseMIME reads a message. tempDir is where large attachments go ("" =
// the system's); the caller must Close the result.
func parseMIME(r io.Reader, tempDir string) (pm *parsedMessage, err error) {
	p := &parsedMessage{tempDir: tempDir}
	defer func() {
		if err != nil {
			_ = p.Close()
		}
	}()
	br := bufio.NewReader(r)
	hdr, err := readHeader(br)
	if err != nil {
		return nil, err
	}
	msg, err := mail.ReadMessage(io.MultiReader(bytes.NewReader(hdr), br))
	if err != nil {
		return nil, mimeErr("header: %v", err)
	}
	h := msg.Header
	if h.Get("From") == "" && h.Get("Date") == "" && h.Get("Subject") == "" && h.Get("Message-Id") == "" {
		return nil, mimeErr("no From, Date, Subject or Message-ID header")
	}
	p.Subject = cleanLine(decodeHeader(h.Get("Subject")))
	p.From = firstAddr(h, "From")
	p.Sender = firstAddr(h, "Sender")
	p.To, p.Cc, p.Bcc, p.ReplyTo = addrList(h, "To"), addrList(h, "Cc"), addrList(h, "Bcc"), addrList(h, "Reply-To")
	if d, err := h.Date(); err == nil {
		p.Date = d.UTC()
	}
	for _, rcv := range h["Received"] {
		if i := strings.LastIndex(rcv, ";"); i >= 0 {
			if d, err := mail.ParseDate(strings.TrimSpace(rcv[i+1:])); err == nil {
				p.Received = d.UTC()
				break
			}
		}
	}
	if id := strings.TrimSpace(h.Get("Message-Id")); validMessageID(id) {
		p.MessageID = id
	}
	p.Importance = headerImportance(h)
	for k, vs := range h {
		if !xHeaderRE.MatchString(k) || len(p.XHeaders) >= mimeMaxXHeaders {
			continue
		}
		for _, v := range vs {
			v = cleanLine(decodeHeader(v))
			if len(v) <= mimeMaxHeaderValue && len(p.XHeaders) < mimeMaxXHeaders {
				p.XHeaders = append(p.XHeaders, [2]string{k, v})
			}
		}
	}
	// Map order is random: keep the result stable.
	sortPairs(p.XHeaders)
	if err := p.walk(textproto.MIMEHeader(h), msg.Body, 0); err != nil {
		return nil, err
	}
	return p, nil
}

// readHeader reads the header section (through the blank line), bounded.
func readHeader(br *bufio.Reader) ([]byte, error) {
	var buf bytes.Buffer
	for {
		line, err := br.ReadSlice('\n')
		if len(line) > 0 || err == nil {
			buf.Write(line)
		}
		if buf.Len() > mimeMaxHeader {
			return nil, mimeErr("header section larger than %d bytes", mimeMaxHeader)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err == io.EOF {
			if buf.Len() == 0 {
				return nil, mimeErr("empty message")
			}
			buf.WriteString("\r\n") // a message that is all header
			return buf.Bytes(), nil
		}
		if err != nil {
			return nil, fmt.Errorf("read message: %w", err)
		}
		if len(bytes.TrimRight(line, "\r\n")) == 0 {
			return buf.Bytes(), nil
		}
	}
}

var xHeaderRE = regexp.MustCompile(`^X-[A-Za-z0-9-]+$`)

func sortPairs(l [][2]string) {
	for i := 1; i < len(l); i++ {
		for j := i; j > 0 && l[j][0] < l[j-1][0]; j-- {
			l[j], l[j-1] = l[j-1], l[j]
		}
	}
}

func validMessageID(id string) bool {
	return len(id) > 2 && len(id) <= mimeMaxHeaderValue && strings.HasPrefix(id, "<") && strings.HasSuffix(id, ">") &&
		!strings.ContainsAny(id[1:len(id)-1], "<> \t\r\n")
}

func decodeHeader(s string) string {
	d, err := mimeWordDecoder.DecodeHeader(s)
	if err != nil {
		return s
	}
	return d
}

// cleanLine makes text safe for a one-line JSON property.
func cleanLine(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s))
}

func headerImportance(h mail.Header) string {
	switch strings.ToLower(strings.TrimSpace(h.Get("Importance"))) {
	case "high":
		return "high"
	case "low":
		return "low"
	case "normal":
		return "normal"
	}
	switch p := strings.TrimSpace(h.Get("X-Priority")); {
	case strings.HasPrefix(p, "1"), strings.HasPrefix(p, "2"):
		return "high"
	case strings.HasPrefix(p, "4"), strings.HasPrefix(p, "5"):
		return "low"
	case strings.HasPrefix(p, "3"):
		return "normal"
	}
	return ""
}

func firstAddr(h mail.Header, key string) *Address {
	l := addrList(h, key)
	if len(l) == 0 {
		return nil
	}
	return &l[0]
}

// addrList parses an address header, keeping the addresses that parse when
// the list as a whole does not.
func addrList(h mail.Header, key string) []Address {
	v := h.Get(key)
	if v == "" {
		return nil
	}
	p := mail.AddressParser{WordDecoder: mimeWordDecoder}
	list, err := p.ParseList(v)
	if err != nil {
		list = nil
		for _, piece := range strings.Split(v, ",") {
			if a, err := p.Parse(piece); err == nil {
				list = append(list, a)
			}
		}
	}
	var out []Address
	for _, a := range list {
		if len(out) >= 500 {
			break
		}
		out = append(out, Address{Name: cleanLine(a.Name), Address: cleanLine(a.Address)})
	}
	return out
}

// walk visits one entity of the tree.
func (p *parsedMessage) walk(h textproto.MIMEHeader, body io.Reader, depth int) error {
	p.parts++
	if p.parts > mimeMaxParts {
		return mimeErr("more than %d parts", mimeMaxParts)
	}
	if depth > mimeMaxDepth {
		return mimeErr("multiparts nested deeper than %d", mimeMaxDepth)
	}
	ctype := h.Get("Content-Type")
	mt, params, err := mime.ParseMediaType(ctype)
	if ctype == "" || mt == "" || (err != nil && !errors.Is(err, mime.ErrInvalidMediaParameter)) {
		mt, params = "text/plain", map[string]string{}
	}
	disp, dparams, _ := mime.ParseMediaType(h.Get("Content-Disposition"))
	name := dparams["filename"]
	if name == "" {
		name = params["name"]
	}
	name = cleanLine(decodeHeader(name))
	if strings.HasPrefix(mt, "multipart/") {
		boundary := params["boundary"]
		if boundary == "" {
			return mimeErr("%s without a boundary", mt)
		}
		mr := multipart.NewReader(body, boundary)
		for {
			part, err := mr.NextRawPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return mimeErr("%s: %v", mt, err)
			}
			if err := p.walk(part.Header, part, depth+1); err != nil {
				return err
			}
		}
	}
	decoded := transferDecoder(h.Get("Content-Transfer-Encoding"), body)
	cid := strings.Trim(strings.TrimSpace(h.Get("Content-Id")), "<>")
	isText := mt == "text/plain" || mt == "text/html"
	attach := disp == "attachment" || !isText || (name != "" && disp != "inline")
	if !attach {
		if mt == "text/plain" && p.Text == "" || mt == "text/html" && p.HTML == "" {
			text, err := readBody(decoded, params["charset"])
			if err != nil {
				return err
			}
			if mt == "text/plain" {
				p.Text = text
			} else {
				p.HTML = text
			}
			return nil
		}
		// A second body of the same kind (a forwarded text part, say)
		// would be lost in Graph's one body: keep it as an attachment.
		attach = true
	}
	if name == "" {
		name = defaultAttachmentName(len(p.Attachments)+1, mt)
	}
	return p.saveAttachment(&parsedAttachment{
		Name:        name,
		ContentType: mt,
		ContentID:   cleanLine(cid),
		// Inline only when the body can refer to it: Outlook hides inline
		// attachments, and one without a Content-ID would be lost.
		Inline: cid != "" && disp != "attachment",
	}, decoded)
}

func defaultAttachmentName(n int, mt string) string {
	ext := ".bin"
	switch mt {
	case "text/plain":
		ext = ".txt"
	case "text/html":
		ext = ".html"
	case "message/rfc822":
		ext = ".eml"
	default:
		if exts, _ := mime.ExtensionsByType(mt); len(exts) > 0 {
			ext = exts[0]
		}
	}
	return "attachment-" + strconv.Itoa(n) + ext
}

func transferDecoder(cte string, r io.Reader) io.Reader {
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "base64":
		return base64.NewDecoder(base64.StdEncoding, &base64Filter{r: r})
	case "quoted-printable":
		return quotedprintable.NewReader(r)
	}
	return r
}

// base64Filter keeps only base64 alphabet bytes, so line breaks and stray
// spaces in the encoded text do not stop decoding.
type base64Filter struct{ r io.Reader }

func (f *base64Filter) Read(p []byte) (int, error) {
	for {
		n, err := f.r.Read(p)
		j := 0
		for _, c := range p[:n] {
			if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '=' {
				p[j] = c
				j++
			}
		}
		if j > 0 || err != nil {
			return j, err
		}
	}
}

func readBody(r io.Reader, charset string) (string, error) {
	if charset != "" && !strings.EqualFold(charset, "utf-8") && !strings.EqualFold(charset, "us-ascii") {
		if cr, err := charsetReader(charset, r); err == nil {
			r = cr
		}
	}
	b, err := io.ReadAll(io.LimitReader(r, mimeMaxBody+1))
	if err != nil {
		return "", mimeErr("body: %v", err)
	}
	if len(b) > mimeMaxBody {
		return "", mimeErr("body larger than %d bytes", mimeMaxBody)
	}
	return strings.ToValidUTF8(string(b), "\uFFFD"), nil
}

// saveAttachment reads an attachment's decoded bytes, to memory when small
// and to a temp file otherwise.
func (p *parsedMessage) saveAttachment(a *parsedAttachment, r io.Reader) error {
	head, err := io.ReadAll(io.LimitReader(r, mimeMemAttachment+1))
	if err != nil {
		return mimeErr("attachment %q: %v", a.Name, err)
	}
	if len(head) <= mimeMemAttachment {
		a.data, a.Size = head, int64(len(head))
	} else {
		f, err := os.CreateTemp(p.tempDir, "lifeboat-attachment-*")
		if err != nil {
			return fmt.Errorf("graph: temp file for an attachment: %w", err)
		}
		p.files = append(p.files, f.Name())
		a.path = f.Name()
		src := &readErrs{r: io.MultiReader(bytes.NewReader(head), io.LimitReader(r, mimeMaxAttachment+1-int64(len(head))))}
		n, err := io.Copy(f, src)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if src.err != nil {
			return mimeErr("attachment %q: %v", a.Name, src.err)
		}
		if err != nil {
			return fmt.Errorf("graph: write attachment to a temp file: %w", err)
		}
		if n > mimeMaxAttachment {
			return mimeErr("attachment %q larger than %d bytes", a.Name, mimeMaxAttachment)
		}
		a.Size = n
	}
	p.total += a.Size
	if p.total > mimeMaxTotal {
		return mimeErr("attachments larger than %d bytes in total", mimeMaxTotal)
	}
	p.Attachments = append(p.Attachments, a)
	return nil
}

// readErrs remembers a read failure, to tell bad input from a full disk.
type readErrs struct {
	r   io.Reader
	err error
}

func (e *readErrs) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF {
		e.err = err
	}
	return n, err
}
