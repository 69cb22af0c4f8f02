package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"strings"

	"github.com/lifeboat-backup/lifeboat/engine/mimetext"
	"github.com/lifeboat-backup/lifeboat/ui"
)

// maxPreviewHeader is how long a message's header may be.
const maxPreviewHeader = 256 << 10

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
	pv := ui.ItemPreview{Kind: ui.ItemEmail, Subject: mimetext.DecodeWords(msg.Header.Get("Subject")),
		From: addresses(msg.Header, "From"), To: addresses(msg.Header, "To"), Cc: addresses(msg.Header, "Cc")}
	if d, err := msg.Header.Date(); err == nil {
		pv.Date = d
	}
	// The header was read through the limit; the body is not limited.
	hr.left = -1
	body := mimetext.ReadBody(msg.Header, msg.Body, maxBody)
	pv.Body, pv.BodyTruncated = body.Text, body.Truncated
	for _, a := range body.Attachments {
		name := a.Name
		if name == "" {
			name = "attachment"
			if a.ContentType == "message/rfc822" {
				name = "attached message.eml"
			}
		}
		pv.Attachments = append(pv.Attachments, ui.PreviewAttachment{Name: name, Size: a.Size})
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
		parts = append(parts, personText(a.Name, a.Address))
	}
	return strings.Join(parts, ", ")
}
