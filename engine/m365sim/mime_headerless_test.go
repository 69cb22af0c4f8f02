package m365sim

import (
	"testing"
	"time"
)

// Messages with a header block but none of From, Date, Subject or
// Message-ID are messages Exchange stores; CPython's email test corpus has
// several of this shape (MIME-Version and Content-Type only).
func TestParseMessageHeaderTakesHeaderlessMessages(t *testing.T) {
	for _, raw := range []string{
		"X-Other: 1\r\n\r\nbody",
		"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nHello.\r\n",
		"Content-Type: multipart/mixed; boundary=\"BOUNDARY\"\r\nMIME-Version: 1.0\r\n\r\n--BOUNDARY\r\nContent-Type: text/plain\r\n\r\npart one\r\n--BOUNDARY\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"a.bin\"\r\n\r\nxyz\r\n--BOUNDARY--\r\n",
		"MIME-Version: 1.0\nContent-Type: text/plain\n\nbare LF line ends\n",
	} {
		h, err := ParseMessageHeader([]byte(raw))
		if err != nil {
			t.Errorf("%q: %v", raw, err)
			continue
		}
		if h.From != nil || h.Subject != "" || !h.Sent.IsZero() || h.InternetMessageID != "" {
			t.Errorf("%q: invented a sender, subject, date or ID: %+v", raw, h)
		}
	}
}

// Such a message imports, and Graph shows it as Exchange would: no
// sender, an empty subject, no sent time, and the time it arrived in the
// mailbox as its received time.
func TestHeaderlessMessageJSON(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	tn := NewTenant("Contoso", "contoso.test", func() time.Time { return now })
	if _, err := tn.AddUser("paul@contoso.test", "Paul"); err != nil {
		t.Fatal(err)
	}
	m, err := tn.AddMessage("paul@contoso.test", "inbox", []byte("MIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nno headers to speak of\r\n"), MessageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := NewServer(tn, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	u, _ := tn.User("paul@contoso.test")
	v := srv.messageJSON(u, m)
	if v["from"] != nil || v["sender"] != nil || v["subject"] != "" || v["sentDateTime"] != nil {
		t.Errorf("from %v sender %v subject %q sent %v", v["from"], v["sender"], v["subject"], v["sentDateTime"])
	}
	if v["receivedDateTime"] != "2026-05-01T12:00:00Z" {
		t.Errorf("receivedDateTime %v, want the time it arrived", v["receivedDateTime"])
	}
}
