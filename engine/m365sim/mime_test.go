package m365sim

import (
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestParseMessageHeader(t *testing.T) {
	raw := "Received: from a by b; Tue, 03 Mar 2026 10:00:05 +0100\r\n" +
		"From: =?UTF-8?Q?Am=C3=A9lie_Dubois?= <amelie@example.com>\r\n" +
		"To: Zoë <zoe@example.com>, bob@example.com\r\n" +
		"Cc: \"Support, Team\" <support@example.com>\r\n" +
		"Subject: =?UTF-8?B?Q2Fmw6kgb3JkZXI=?=\r\n" +
		"Date: Tue, 03 Mar 2026 09:59:00 +0100\r\n" +
		"Message-ID: <abc@example.com>\r\n" +
		"X-Priority: 1\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=x\r\n\r\n" +
		"--x\r\nContent-Type: multipart/alternative; boundary=y\r\n\r\n" +
		"--y\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nCaf=E9   time\r\n" +
		"--y\r\nContent-Type: text/html\r\n\r\n<p>Caf&eacute;</p>\r\n--y--\r\n" +
		"--x\r\nContent-Type: image/png; name=\"logo.png\"\r\nContent-Disposition: inline; filename=\"logo.png\"\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n" +
		"--x\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"=?UTF-8?Q?R=C3=A9sum=C3=A9.pdf?=\"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0x\r\nLjQK\r\n--x--\r\n"
	h, err := ParseMessageHeader([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct{ name, got, want string }{
		{"subject", h.Subject, "Café order"},
		{"from", h.From.Name + " " + h.From.Address, "Amélie Dubois amelie@example.com"},
		{"to", h.To[0].Name + "," + h.To[1].Address, "Zoë,bob@example.com"},
		{"cc", h.Cc[0].Name, "Support, Team"},
		{"importance", h.Importance, "high"},
		{"message-id", h.InternetMessageID, "<abc@example.com>"},
		{"preview", h.BodyPreview(), "Café time"},
		{"sent", h.Sent.Format(time.RFC3339), "2026-03-03T08:59:00Z"},
		{"received", h.Received.Format(time.RFC3339), "2026-03-03T09:00:05Z"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if len(h.Attachments) != 2 || h.Attachments[1].Name != "Résumé.pdf" || h.Attachments[1].Size != 9 || !h.Attachments[0].Inline {
		t.Errorf("attachments = %+v", h.Attachments)
	}
}

func TestParseMessageHeaderRejectsNonMIME(t *testing.T) {
	for _, raw := range []string{"", "%PDF-1.4\n\x00\x01binary", "just some text without headers\n\nbody", "\r\nno header block\r\n"} {
		if _, err := ParseMessageHeader([]byte(raw)); err == nil || !strings.Contains(err.Error(), "not a MIME message") {
			t.Errorf("%q: err = %v", raw, err)
		}
	}
}

func TestParseMessageHeaderBoundsHostileNesting(t *testing.T) {
	var b strings.Builder
	b.WriteString("From: a@b.c\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n")
	for i := range 500 {
		b.WriteString("--b" + strconv.Itoa(i) + "\r\nContent-Type: multipart/mixed; boundary=b" + strconv.Itoa(i+1) + "\r\n\r\n")
	}
	if _, err := ParseMessageHeader([]byte(b.String())); err != nil {
		t.Fatal(err)
	}
}

// FuzzParseMessageHeader: hostile MIME never panics, and whatever parses
// yields valid UTF-8 text.
func FuzzParseMessageHeader(f *testing.F) {
	f.Add([]byte("From: a@b.c\r\nSubject: =?UTF-8?B?w6k=?=\r\n\r\nbody"))
	f.Add([]byte("From: a@b.c\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!\r\n--x--"))
	f.Add([]byte("Date: nonsense\r\nTo: ,,,<<>>\r\nContent-Type: text/plain; charset=latin1\r\n\r\n\xff\xfe"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		h, err := ParseMessageHeader(raw)
		if err != nil {
			return
		}
		for _, s := range []string{h.Subject, h.BodyText, h.BodyHTML, h.BodyPreview()} {
			if !utf8.ValidString(s) {
				t.Fatalf("invalid UTF-8 in %q", s)
			}
		}
	})
}
