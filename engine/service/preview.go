package service

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"path/filepath"
	"strings"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/backup"
	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/mimetext"
)

// Preview is what the restore wizard shows of one item.
type Preview struct {
	Kind catalog.ItemKind
	// Email: header lines and the plain text of the body.
	Subject, From, To, Cc string
	Date                  time.Time
	Body                  string
	BodyTruncated         bool
	Attachments           []PreviewAttachment
	// File: details.
	Name, Folder, Type string
	Size               int64
	Modified, Created  time.Time
	// Event or contact (pim.go): Name and Folder are its subject or name
	// and its calendar or contact folder.
	Event   *EventPreview
	Contact *ContactPreview
}

// PreviewAttachment is an email attachment as listed in a preview.
type PreviewAttachment struct {
	Name string
	Size int64
	// Email: an attached email (Outlook's "attach item"), kept whole in
	// the message. Link: a link to a file (previewlinks.go).
	Email, Link bool
}

// maxPreviewBody is how much of an email's text the preview shows.
const maxPreviewBody = 64 << 10

// Preview reads an email from the backup for its text and attachments, or
// describes a file.
func (b *Browser) Preview(ctx context.Context, versionID int64) (Preview, error) {
	v, err := b.Version(ctx, versionID)
	if err != nil {
		return Preview{}, err
	}
	if v.Item.Kind == catalog.KindFile {
		meta, err := backup.ParseFileMetadata(v.Metadata)
		if err != nil {
			b.s.o.Logger.Warn("file metadata unreadable", "version", v.ID, "err", err)
		}
		return Preview{Kind: catalog.KindFile, Name: v.Name, Folder: v.Folder, Size: v.Size, Modified: v.Time,
			Created: meta.Created, Type: FileType(v.Name, meta.MimeType)}, nil
	}
	if v.Item.Kind == catalog.KindEvent || v.Item.Kind == catalog.KindContact {
		return b.previewPIM(ctx, v)
	}
	ref, err := backup.DecodeContent(v.Content)
	if err != nil {
		return Preview{}, err
	}
	rc := b.r.OpenStream(ctx, ref)
	defer rc.Close()
	pv, err := PreviewMessage(rc, maxPreviewBody)
	if err != nil {
		return Preview{}, err
	}
	if pv.Subject == "" {
		pv.Subject = v.Name
	}
	if pv.Date.IsZero() {
		pv.Date = v.Time
	}
	addLinks(v, &pv)
	return pv, nil
}

// MailSummary is what a catalog row of a message says of its sender.
type MailSummary struct {
	From           string
	HasAttachments bool
}

// SummarizeMail reads a message version's stored metadata; a damaged
// document only loses the sender column.
func SummarizeMail(v catalog.VersionInfo) MailSummary {
	var m struct {
		From           backup.Person `json:"from"`
		HasAttachments bool          `json:"hasAttachments"`
	}
	if v.Item.Kind != catalog.KindMail || len(v.Metadata) == 0 || json.Unmarshal(v.Metadata, &m) != nil {
		return MailSummary{}
	}
	return MailSummary{From: PersonText(m.From.Name, m.From.Address), HasAttachments: m.HasAttachments}
}

// maxPreviewHeader is how long a message's header may be.
const maxPreviewHeader = 256 << 10

// PreviewMessage reads a MIME message as a stream (never all of it in
// memory): its headers, the plain text of its body (at most maxBody
// bytes; HTML is turned into text when there is no plain part) and its
// attachments with their decoded sizes. A malformed message gives what
// could be read; only an unreadable header is an error.
func PreviewMessage(r io.Reader, maxBody int) (Preview, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	hr := &limitedHeader{r: br, left: maxPreviewHeader}
	msg, err := mail.ReadMessage(bufio.NewReader(hr))
	if err != nil {
		return Preview{}, fmt.Errorf("reading the message's header: %w", err)
	}
	pv := Preview{Kind: catalog.KindMail, Subject: mimetext.DecodeWords(msg.Header.Get("Subject")),
		From: addresses(msg.Header, "From"), To: addresses(msg.Header, "To"), Cc: addresses(msg.Header, "Cc")}
	if d, err := msg.Header.Date(); err == nil {
		pv.Date = d
	}
	// The header was read through the limit; the body is not limited.
	hr.left = -1
	body := mimetext.ReadBody(msg.Header, msg.Body, maxBody)
	pv.Body, pv.BodyTruncated = body.Text, body.Truncated
	for _, a := range body.Attachments {
		name, email := a.Name, a.ContentType == "message/rfc822"
		switch {
		case email && name == "":
			name = "an attached email"
		case email:
			name += " (an attached email)"
		case name == "":
			name = "attachment"
		}
		pv.Attachments = append(pv.Attachments, PreviewAttachment{Name: name, Size: a.Size, Email: email})
	}
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

func addresses(h mail.Header, key string) string {
	raw := h.Get(key)
	if raw == "" {
		return ""
	}
	list, err := (&mail.AddressParser{WordDecoder: mimetext.WordDecoder}).ParseList(raw)
	if err != nil {
		return mimetext.DecodeWords(raw)
	}
	parts := make([]string, 0, len(list))
	for _, a := range list {
		parts = append(parts, PersonText(a.Name, a.Address))
	}
	return strings.Join(parts, ", ")
}

// PersonText is a person as "Name <address>", or whichever is known.
func PersonText(name, addr string) string {
	switch {
	case name != "" && addr != "" && !strings.EqualFold(name, addr):
		return name + " <" + addr + ">"
	case name != "":
		return name
	}
	return addr
}

// FileType names a file's type in words.
func FileType(name, mimeType string) string {
	ext := strings.ToLower(filepath.Ext(name))
	switch ext {
	case ".xlsx", ".xls", ".xlsm", ".csv":
		return "Spreadsheet (Excel)"
	case ".docx", ".doc", ".rtf", ".odt":
		return "Document (Word)"
	case ".pptx", ".ppt":
		return "Presentation (PowerPoint)"
	case ".pdf":
		return "PDF document"
	case ".jpg", ".jpeg", ".png", ".gif", ".heic", ".webp", ".bmp", ".tif", ".tiff":
		return "Picture"
	case ".txt", ".md":
		return "Text"
	case ".zip", ".7z", ".rar":
		return "Compressed folder"
	case ".mp4", ".mov", ".avi":
		return "Video"
	case ".mp3", ".wav", ".m4a":
		return "Sound"
	}
	if mimeType != "" && len(mimeType) < 100 {
		return mimeType
	}
	if ext != "" {
		return strings.ToUpper(ext[1:]) + " file"
	}
	return "File"
}
