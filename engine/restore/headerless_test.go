package restore

import (
	"bytes"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
	"github.com/lifeboat-backup/lifeboat/engine/mimetext"
)

// headerlessSeed are messages with a header block but no From, Date,
// Subject or Message-ID, of the shapes in CPython's email test corpus
// (MIME-Version and Content-Type only), which Exchange stores as they are.
var headerlessSeed = map[string]string{
	"mail/Inbox/plain.eml":          "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nA note about the zebra budget.\r\n",
	"mail/Inbox/multipart.eml":      "Content-Type: multipart/mixed; boundary=\"BOUNDARY\"\r\nMIME-Version: 1.0\r\n\r\n--BOUNDARY\r\nContent-Type: text/plain\r\n\r\nSee the walrus attachment.\r\n--BOUNDARY\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"walrus.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\nAAECAwQF\r\n--BOUNDARY--\r\n",
	"mail/Archive/other-header.eml": "X-Mailer: something\r\n\r\nOnly an X- header, about the narwhal.\r\n",
	"mail/Archive/bare-lf.eml":      "MIME-Version: 1.0\nContent-Type: text/plain\n\nBare line feeds and a pangolin.\n",
}

// A seed folder of such messages imports, backs up, is found by search,
// previews, and restores to disk byte for byte, each named "(no subject)".
func TestHeaderlessMessagesRoundTrip(t *testing.T) {
	seed := t.TempDir()
	for rel, body := range headerlessSeed {
		p := filepath.Join(seed, "users", simtest.Alice, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tn, err := m365sim.ImportTenant(seed)
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	e := newSimEnv(t, tn)
	e.backup()
	vs := e.all(catalog.KindMail)
	if len(vs) != len(headerlessSeed) {
		t.Fatalf("backed up %d messages, seeded %d", len(vs), len(headerlessSeed))
	}

	for _, word := range []string{"zebra", "walrus", "narwhal", "pangolin"} {
		hits, err := e.c.Search(t.Context(), catalog.SearchQuery{Text: word, Account: e.acct.HomeID, Kind: catalog.KindMail})
		if err != nil {
			t.Fatal(err)
		}
		if len(hits) != 1 {
			t.Errorf("search %q: %d hits, want 1", word, len(hits))
		}
	}

	// The preview's body reader takes them too.
	for rel, body := range headerlessSeed {
		hdr, rest, _ := strings.Cut(strings.ReplaceAll(body, "\r\n", "\n"), "\n\n")
		h := textproto.MIMEHeader{}
		for _, line := range strings.Split(hdr, "\n") {
			k, v, _ := strings.Cut(line, ": ")
			h.Add(k, v)
		}
		b := mimetext.ReadBody(h, strings.NewReader(rest), 1<<20)
		if !strings.Contains(b.Text, ".") {
			t.Errorf("%s: preview text %q", rel, b.Text)
		}
	}

	out := t.TempDir()
	restoreTo(t, e.r, out, vs, Options{})
	got := files(t, out)
	for rel, body := range headerlessSeed {
		found := false
		for p, b := range got {
			if bytes.Equal(b, []byte(body)) {
				found = true
				if !strings.Contains(p, noSubject) {
					t.Errorf("%s restored as %s, want a %q name", rel, p, noSubject)
				}
			}
		}
		if !found {
			t.Errorf("%s: no restored file holds its bytes; restored %d files: %v", rel, len(got), keys(got))
		}
	}
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
