package m365sim

import (
	"bytes"
	"encoding/base64"
	"net/mail"
	"strings"
	"time"
)

// attachmentBytes returns the decoded bytes of the i-th attachment (in
// MessageHeader.Attachments order) of a MIME message, for the
// contentBytes Graph lists a received message's file attachments with
// (message-list-attachments.md).
func attachmentBytes(raw []byte, i int) ([]byte, bool) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return nil, false
	}
	var h MessageHeader
	w := &bodyWalker{h: &h, keep: i}
	w.walk(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Header.Get("Content-Disposition"), msg.Body, 0)
	if i >= len(h.Attachments) {
		return nil, false
	}
	return w.kept, true
}

// decodeContentBytes decodes an attachment's contentBytes. Graph takes
// base64 with or without its '=' padding: the documented example of Add
// attachment sends "R0lGODdhEAYEAA7", 15 characters
// (message-post-attachments.md).
func decodeContentBytes(s string) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err == nil {
		return b, nil
	}
	return base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
}

// receivedOf is a message's receivedDateTime: from its Received headers
// or Date, else when it arrived in the mailbox (a message with neither
// still arrived at some time).
func receivedOf(m *Message) time.Time {
	if !m.Header.Received.IsZero() {
		return m.Header.Received
	}
	return m.Created
}

// nullTime is a nullable DateTimeOffset: null for a time the message does
// not have (no Date header: no sentDateTime).
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return graphTime(t)
}
