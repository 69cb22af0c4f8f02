package mimetext

import (
	"bufio"
	"net/mail"
	"strings"
	"testing"
)

func TestReadBody(t *testing.T) {
	raw := "Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: text/html; charset=iso-8859-1\r\n\r\n<p>Hallo <b>M\xfcller</b></p><script>x()</script>\r\n" +
		"--b\r\nContent-Type: application/pdf; name=\"=?utf-8?q?Rechnung_M=C3=A4rz.pdf?=\"\r\nContent-Transfer-Encoding: base64\r\n\r\nSGVs\r\nbG8=\r\n" +
		"--b\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\nhi\r\n--b--\r\n"
	msg, err := mail.ReadMessage(bufio.NewReader(strings.NewReader(raw)))
	if err != nil {
		t.Fatal(err)
	}
	if got := DecodeWords(msg.Header.Get("Subject")); got != "Grüße" {
		t.Errorf("subject %q", got)
	}
	b := ReadBody(msg.Header, msg.Body, 100)
	if b.Text != "Hallo Müller" || b.Truncated {
		t.Errorf("text %q (truncated %v)", b.Text, b.Truncated)
	}
	if len(b.Attachments) != 2 || b.Attachments[0] != (Attachment{Name: "Rechnung März.pdf", ContentType: "application/pdf", Size: 5}) ||
		b.Attachments[1].Name != "" || b.Attachments[1].ContentType != "message/rfc822" {
		t.Errorf("attachments %+v", b.Attachments)
	}
	if b := ReadBody(msg.Header, strings.NewReader(""), 100); b.Text != "" || len(b.Attachments) != 0 {
		t.Errorf("empty body: %+v", b)
	}
	long := ReadBody(mail.Header{}, strings.NewReader(strings.Repeat("ä", 100)), 11)
	if long.Text != strings.Repeat("ä", 5) || !long.Truncated {
		t.Errorf("cut %q %v", long.Text, long.Truncated)
	}
}
