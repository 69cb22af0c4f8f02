package m365sim

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"strings"
	"testing"
)

// A message with a large attachment — over the 3 MB a client may POST, so
// one that arrives by mail or through an upload session — and, with
// LIFEBOAT_SIZE_LIMITS=1, one near Exchange Online's default 35 MB limit
// (a 25 MB attachment; slow under -race, hence the switch):
// $value gives its bytes back exactly, and the attachment list gives the
// attachment's size and its bytes. Exchange's default message size limit is
// 35 MB, configurable up to 150 MB (attachment-createuploadsession.md);
// over 150 MB the seed importer refuses (TestImportMalformed).
func TestMessageNearSizeLimit(t *testing.T) {
	rnd := rand.New(rand.NewChaCha8([32]byte{35}))
	size, lo, hi := 3<<20+1<<19, 4<<20, 5<<20
	if os.Getenv("LIFEBOAT_SIZE_LIMITS") == "1" {
		size, lo, hi = 25<<20, 34<<20, 35<<20
	}
	att := make([]byte, size)
	for i := range att {
		att[i] = byte(rnd.Uint32())
	}
	enc := base64.StdEncoding.EncodeToString(att)
	var b strings.Builder
	b.WriteString("From: a@example.com\r\nTo: paul@contoso.test\r\nSubject: big\r\nDate: Mon, 2 Mar 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nthe video\r\n--b\r\n" +
		"Content-Type: video/mp4; name=\"v.mp4\"\r\nContent-Disposition: attachment; filename=\"v.mp4\"\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n--b--\r\n")
	raw := []byte(b.String())
	if len(raw) < lo || len(raw) > hi {
		t.Fatalf("message is %d bytes, want %d to %d", len(raw), lo, hi)
	}
	tn := NewTenant("Contoso", "contoso.test", nil)
	if _, err := tn.AddUser("paul@contoso.test", "Paul"); err != nil {
		t.Fatal(err)
	}
	m, err := tn.AddMessage("paul@contoso.test", "inbox", raw, MessageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := NewServer(tn, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	tok, _, err := srv.IssueAccessToken("paul@contoso.test")
	if err != nil {
		t.Fatal(err)
	}
	get := func(path string) []byte {
		t.Helper()
		req, _ := http.NewRequest("GET", srv.GraphURL()+path, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := srv.HTTPClient().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %v", path, resp.StatusCode, err)
		}
		return body
	}
	if got := get("/me/messages/" + m.ID + "/$value"); !bytes.Equal(got, raw) {
		t.Fatalf("$value: %d bytes, want the %d stored", len(got), len(raw))
	}
	var list struct {
		Value []struct {
			Name         string
			Size         int64
			ContentBytes string
		}
	}
	if err := json.Unmarshal(get("/me/messages/"+m.ID+"/attachments"), &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Value) != 1 || list.Value[0].Name != "v.mp4" || list.Value[0].Size != int64(len(att)) {
		t.Fatalf("attachments: %s", fmt.Sprint(len(list.Value)))
	}
	got, err := base64.StdEncoding.DecodeString(list.Value[0].ContentBytes)
	if err != nil || !bytes.Equal(got, att) {
		t.Errorf("contentBytes: %d bytes, %v", len(got), err)
	}
	var meta struct{ HasAttachments bool }
	if err := json.Unmarshal(get("/me/messages/"+m.ID+"?$select=hasAttachments"), &meta); err != nil || !meta.HasAttachments {
		t.Errorf("hasAttachments: %+v %v", meta, err)
	}
}
