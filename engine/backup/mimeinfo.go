package backup

import (
	"bufio"
	"bytes"
	"net/mail"
	"strings"

	"github.com/lifeboat-backup/lifeboat/engine/mimetext"
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
	// Reading a little more than is indexed: the text is squeezed below.
	body := mimetext.ReadBody(msg.Header, msg.Body, 2*maxBody)
	info.body = mimetext.CutUTF8(strings.Join(strings.Fields(body.Text), " "), maxBody)
	for _, a := range body.Attachments {
		if a.Name != "" {
			info.attachments = append(info.attachments, a.Name)
		}
	}
	return info
}
