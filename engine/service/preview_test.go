package service

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/lifeboat-backup/lifeboat/engine/mimetext"
)

func TestPreviewMessageHostileAndOdd(t *testing.T) {
	nested := "Subject: deep\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n"
	for i := 0; i < 30; i++ {
		nested += fmt.Sprintf("--b%d\r\nContent-Type: multipart/mixed; boundary=b%d\r\n\r\n", i, i+1)
	}
	nested += "--b30\r\nContent-Type: text/plain\r\n\r\nbottom\r\n"
	for _, c := range []struct {
		name, mime string
		check      func(t *testing.T, pv Preview)
	}{
		{"html only", "Subject: Hi\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" +
			"<html><head><style>p{color:red}</style></head><body><p>Caf&eacute; opens at <b>8</b>.</p><script>alert(1)</script><p>See you &amp; bye</p></body></html>",
			func(t *testing.T, pv Preview) {
				if pv.Body != "Café opens at 8.\nSee you & bye" {
					t.Errorf("body %q", pv.Body)
				}
			}},
		{"latin-1 and encoded file name", "Subject: =?iso-8859-1?q?R=E9sum=E9?=\r\nFrom: =?utf-8?b?w4lsb2TDrWU=?= <e@x.example>\r\n" +
			"Content-Type: multipart/mixed; boundary=zz\r\n\r\n--zz\r\nContent-Type: text/plain; charset=iso-8859-1\r\n" +
			"Content-Transfer-Encoding: quoted-printable\r\n\r\nCh=E8re Anne\r\n--zz\r\nContent-Type: application/octet-stream\r\n" +
			"Content-Disposition: attachment; filename*=UTF-8''na%C3%AFve%20plan.docx\r\nContent-Transfer-Encoding: base64\r\n\r\naGVs\r\nbG8=\r\n--zz--\r\n",
			func(t *testing.T, pv Preview) {
				if pv.Subject != "Résumé" || pv.From != "Élodíe <e@x.example>" || pv.Body != "Chère Anne" ||
					len(pv.Attachments) != 1 || pv.Attachments[0] != (PreviewAttachment{Name: "naïve plan.docx", Size: 5}) {
					t.Errorf("preview %+v", pv)
				}
			}},
		{"nested 30 deep", nested, func(t *testing.T, pv Preview) {
			if pv.Body != "" || len(pv.Attachments) != 0 {
				t.Errorf("parts below the depth limit were read: %+v", pv)
			}
		}},
		{"multipart without boundary", "Content-Type: multipart/mixed\r\n\r\njust text", func(t *testing.T, pv Preview) {
			if len(pv.Attachments) != 1 || pv.Body != "" {
				t.Errorf("preview %+v", pv)
			}
		}},
		{"long body", "Subject: x\r\n\r\n" + strings.Repeat("é", 3000), func(t *testing.T, pv Preview) {
			if !pv.BodyTruncated || len(pv.Body) > 1000 || !utf8.ValidString(pv.Body) {
				t.Errorf("body of %d bytes, truncated %v", len(pv.Body), pv.BodyTruncated)
			}
		}},
		{"invalid utf-8", "Subject: \xff\xfe bad\r\n\r\nbody \xc3\x28 here", func(t *testing.T, pv Preview) {
			if !utf8.ValidString(pv.Subject) || !utf8.ValidString(pv.Body) {
				t.Errorf("invalid UTF-8 passed through: %q %q", pv.Subject, pv.Body)
			}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			pv, err := PreviewMessage(strings.NewReader(c.mime), 1000)
			if err != nil {
				t.Fatal(err)
			}
			c.check(t, pv)
		})
	}
	if _, err := PreviewMessage(strings.NewReader("Subject: "+strings.Repeat("x", 300<<10)), 1000); err == nil {
		t.Error("a header without an end was read")
	}
}

func FuzzPreviewMessage(f *testing.F) {
	f.Add([]byte("From: a@b.example\r\nSubject: Invoice\r\nContent-Type: multipart/mixed; boundary=b1\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\npay\r\n--b1\r\nContent-Type: application/pdf; name=x.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n--b1--\r\n"))
	f.Add([]byte("Subject: a\r\nContent-Type: multipart/alternative; boundary=q\r\n\r\n--q\r\nContent-Type: text/html\r\n\r\n<p>x</p>\r\n--q--"))
	f.Fuzz(func(t *testing.T, b []byte) {
		pv, err := PreviewMessage(bytes.NewReader(b), 512)
		if err != nil {
			return
		}
		if len(pv.Body) > 512 || !utf8.ValidString(pv.Body) || !utf8.ValidString(pv.Subject) {
			t.Errorf("body of %d bytes (valid %v), subject valid %v", len(pv.Body), utf8.ValidString(pv.Body), utf8.ValidString(pv.Subject))
		}
		if len(pv.Attachments) > mimetext.MaxParts {
			t.Errorf("%d attachments", len(pv.Attachments))
		}
	})
}
