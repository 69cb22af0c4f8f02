package graph

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func readAttachment(t *testing.T, a *parsedAttachment) []byte {
	t.Helper()
	rc, err := a.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseMIMEStructure(t *testing.T) {
	small, large, png := pattern(20_000, 1), pattern(2_500_000, 2), pattern(3_000, 3)
	dir := t.TempDir()
	pm, err := parseMIME(bytes.NewReader(richMIME("<a@b>", small, large, png)), dir)
	if err != nil {
		t.Fatal(err)
	}
	if pm.Subject != "Invoice März" || pm.From == nil || pm.From.Name != "Paul Müller" || len(pm.To) != 2 || len(pm.Cc) != 1 {
		t.Errorf("header: subject %q from %+v to %v cc %v", pm.Subject, pm.From, pm.To, pm.Cc)
	}
	if !pm.Date.Equal(time.Date(2026, 3, 3, 9, 14, 0, 0, time.UTC)) || !pm.Received.Equal(time.Date(2026, 3, 3, 9, 15, 2, 0, time.UTC)) {
		t.Errorf("dates %v %v", pm.Date, pm.Received)
	}
	if pm.MessageID != "<a@b>" || len(pm.XHeaders) != 1 || pm.XHeaders[0] != [2]string{"X-Mailer", "Lifeboat test"} {
		t.Errorf("message id %q, x-headers %v", pm.MessageID, pm.XHeaders)
	}
	// The ISO-8859-1 text body is decoded to UTF-8.
	if pm.Text != "Grüße, invoice attached." || !strings.Contains(pm.HTML, "Grüße") {
		t.Errorf("bodies %q / %q", pm.Text, pm.HTML)
	}
	if len(pm.Attachments) != 3 {
		t.Fatalf("%d attachments", len(pm.Attachments))
	}
	logo, pdf, big := pm.Attachments[0], pm.Attachments[1], pm.Attachments[2]
	if logo.Name != "logo.png" || !logo.Inline || logo.ContentID != "logo@supplier" || !bytes.Equal(readAttachment(t, logo), png) {
		t.Errorf("inline image %+v", logo)
	}
	if pdf.Name != "invoice.pdf" || pdf.Inline || pdf.ContentType != "application/pdf" || !bytes.Equal(readAttachment(t, pdf), small) || pdf.path != "" {
		t.Errorf("pdf %+v", pdf)
	}
	// Large attachments go to a temp file, which Close removes.
	if big.Name != "groß.bin" || big.Size != int64(len(large)) || big.path == "" || !bytes.Equal(readAttachment(t, big), large) {
		t.Errorf("large %+v", big)
	}
	if filepath.Dir(big.path) != dir {
		t.Errorf("temp file %s not in %s", big.path, dir)
	}
	if err := pm.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(big.path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temp file left behind: %v", err)
	}
}

func TestParseMIMECharsetsAndOddParts(t *testing.T) {
	raw := "From: x@example.com\r\nSubject: =?windows-1252?q?=80_price?=\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: text/plain; charset=shift_jis\r\n\r\n\x82\xa0\r\n" +
		"--b\r\nContent-Type: text/plain\r\n\r\nsecond text part\r\n" +
		"--b\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\nhi\r\n" +
		"--b\r\nContent-Type: text/plain; charset=no-such-charset\r\nContent-Disposition: attachment\r\n\r\nraw\r\n" +
		"--b--\r\n"
	pm, err := parseMIME(strings.NewReader(raw), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer pm.Close()
	if pm.Subject != "€ price" || pm.Text != "あ" {
		t.Errorf("subject %q text %q", pm.Subject, pm.Text)
	}
	var names []string
	for _, a := range pm.Attachments {
		names = append(names, a.Name+"|"+a.ContentType)
	}
	want := "attachment-1.txt|text/plain attachment-2.eml|message/rfc822 attachment-3.txt|text/plain"
	if strings.Join(names, " ") != want {
		t.Errorf("attachments %q, want %q", strings.Join(names, " "), want)
	}
}

func TestParseMIMERejectsHostileInput(t *testing.T) {
	nested := "From: x@example.com\r\nContent-Type: multipart/mixed; boundary=\"l0\"\r\n\r\n"
	for i := 1; i <= 20; i++ {
		nested += "--l" + strconv.Itoa(i-1) + "\r\nContent-Type: multipart/mixed; boundary=\"l" + strconv.Itoa(i) + "\"\r\n\r\n"
	}
	many := "From: x@example.com\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" +
		strings.Repeat("--b\r\nContent-Type: application/octet-stream\r\n\r\nx\r\n", mimeMaxParts+1) + "--b--\r\n"
	for name, raw := range map[string]string{
		"empty":            "",
		"no headers":       "just some words\r\n",
		"huge header":      "From: x@example.com\r\nX-Big: " + strings.Repeat("a", mimeMaxHeader+10) + "\r\n\r\n",
		"no boundary":      "From: x@example.com\r\nContent-Type: multipart/mixed\r\n\r\nbody",
		"too deep":         nested,
		"too many parts":   many,
		"bad base64 large": "From: x@example.com\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n" + strings.Repeat("QUJD", 400_000) + "!!!=QUJD\r\n",
	} {
		pm, err := parseMIME(strings.NewReader(raw), t.TempDir())
		if err == nil {
			pm.Close()
			t.Errorf("%s: parsed", name)
			continue
		}
		if name != "empty" && !errors.Is(err, errMIME) {
			t.Errorf("%s: %v is not errMIME", name, err)
		}
	}
}

// FuzzParseMIME: whatever the bytes, parseMIME returns an error or a
// message whose attachments read back at their stated sizes, never panics,
// and leaves no temp file after Close.
func FuzzParseMIME(f *testing.F) {
	f.Add(richMIME("<a@b>", pattern(100, 1), pattern(300, 2), pattern(50, 3)))
	f.Add([]byte("From: x@example.com\r\nSubject: =?utf-8?b?w6Q=?=\r\n\r\nhello"))
	f.Add([]byte("From: x@example.com\r\nContent-Type: multipart/alternative; boundary=q\r\n\r\n--q\r\nContent-Type: text/html; charset=koi8-r\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n=C1=C2\r\n--q--"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, raw []byte) {
		pm, err := parseMIME(bytes.NewReader(raw), dir)
		if err != nil {
			return
		}
		for _, a := range pm.Attachments {
			rc, err := a.Open()
			if err != nil {
				t.Fatal(err)
			}
			n, _ := io.Copy(io.Discard, rc)
			rc.Close()
			if n != a.Size {
				t.Fatalf("attachment %q: %d bytes, size says %d", a.Name, n, a.Size)
			}
		}
		if err := pm.Close(); err != nil {
			t.Fatal(err)
		}
		if left, _ := os.ReadDir(dir); len(left) != 0 {
			t.Fatalf("%d temp files left", len(left))
		}
	})
}
