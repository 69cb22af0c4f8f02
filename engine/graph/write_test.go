package graph

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
)

// uploadSpy records requests to upload URLs (outside Graph), to check no
// access token goes there.
type uploadSpy struct {
	next http.RoundTripper
	mu   sync.Mutex
	puts []string // Content-Range of each PUT to an upload URL
	auth int      // upload-URL requests that carried Authorization
}

func (s *uploadSpy) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasPrefix(r.URL.Path, "/_upload/") {
		s.mu.Lock()
		if r.Method == http.MethodPut {
			s.puts = append(s.puts, r.Header.Get("Content-Range"))
		}
		if r.Header.Get("Authorization") != "" {
			s.auth++
		}
		s.mu.Unlock()
	}
	return s.next.RoundTrip(r)
}

func spyClient(t *testing.T, srv *m365sim.Server) (*Client, *uploadSpy) {
	spy := &uploadSpy{}
	c, _, _ := newClient(t, srv, simtest.Alice, func(o *Options) {
		spy.next = o.HTTPClient.Transport
		o.HTTPClient = &http.Client{Transport: spy}
	})
	return c, spy
}

func b64Lines(b []byte) string {
	enc := base64.StdEncoding.EncodeToString(b)
	var sb strings.Builder
	for len(enc) > 76 {
		sb.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	sb.WriteString(enc + "\r\n")
	return sb.String()
}

// richMIME is a message as Outlook sends one: text and HTML alternatives,
// an inline image referenced by Content-ID, a small PDF and a large file.
func richMIME(msgID string, small, large, png []byte) []byte {
	return []byte("Received: from mx.supplier.example by mx.contoso.test; Tue, 03 Mar 2026 09:15:02 +0000\r\n" +
		"From: =?iso-8859-1?q?Paul_M=FCller?= <paul@supplier.example>\r\n" +
		"To: Alice Archer <alice@contoso.test>, bob@contoso.test\r\n" +
		"Cc: Carol <carol@contoso.test>\r\n" +
		"Subject: =?utf-8?q?Invoice_M=C3=A4rz?=\r\n" +
		"Date: Tue, 03 Mar 2026 09:14:00 +0000\r\n" +
		"Message-ID: " + msgID + "\r\n" +
		"X-Mailer: Lifeboat test\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"mixed\"\r\n\r\n" +
		"--mixed\r\n" +
		"Content-Type: multipart/related; boundary=\"rel\"\r\n\r\n" +
		"--rel\r\n" +
		"Content-Type: multipart/alternative; boundary=\"alt\"\r\n\r\n" +
		"--alt\r\n" +
		"Content-Type: text/plain; charset=iso-8859-1\r\n" +
		"Content-Transfer-Encoding: quoted-printable\r\n\r\n" +
		"Gr=FC=DFe, invoice attached.\r\n" +
		"--alt\r\n" +
		"Content-Type: text/html; charset=utf-8\r\n\r\n" +
		"<p>Gr\xc3\xbc\xc3\x9fe, invoice attached. <img src=\"cid:logo@supplier\"></p>\r\n" +
		"--alt--\r\n" +
		"--rel\r\n" +
		"Content-Type: image/png\r\n" +
		"Content-ID: <logo@supplier>\r\n" +
		"Content-Disposition: inline; filename=\"logo.png\"\r\n" +
		"Content-Transfer-Encoding: base64\r\n\r\n" +
		b64Lines(png) +
		"--rel--\r\n" +
		"--mixed\r\n" +
		"Content-Type: application/pdf; name=\"invoice.pdf\"\r\n" +
		"Content-Disposition: attachment; filename=\"invoice.pdf\"\r\n" +
		"Content-Transfer-Encoding: base64\r\n\r\n" +
		b64Lines(small) +
		"--mixed\r\n" +
		"Content-Type: application/octet-stream\r\n" +
		"Content-Disposition: attachment; filename*=utf-8''gro%C3%9F.bin\r\n" +
		"Content-Transfer-Encoding: base64\r\n\r\n" +
		b64Lines(large) +
		"--mixed--\r\n")
}

func attachmentByName(atts []m365sim.Attachment, name string) (m365sim.Attachment, bool) {
	for _, a := range atts {
		if a.Name == name {
			return a, true
		}
	}
	return m365sim.Attachment{}, false
}

func TestImportMessage(t *testing.T) {
	srv := simtest.Start(t, nil, m365sim.Options{})
	tn := srv.Tenant()
	c, spy := spyClient(t, srv)
	ctx := ctxT(t)

	folder, err := c.EnsureMailFolderPath(ctx, "me", []string{"Inbox", "Invoices"})
	if err != nil {
		t.Fatal(err)
	}
	small, large, png := pattern(20_000, 1), pattern(5_000_000, 2), pattern(3_000, 3)
	const msgID = "<invoice-march@supplier.example>"
	raw := richMIME(msgID, small, large, png)
	meta := ImportMeta{IsRead: true, Flag: "flagged", Categories: []string{"Red category", "Invoices"}, Importance: "high"}
	id, err := c.ImportMessage(ctx, "me", folder.ID, bytes.NewReader(raw), meta)
	if err != nil {
		t.Fatalf("ImportMessage: %v", err)
	}
	m, err := tn.Message(simtest.Alice, id)
	if err != nil {
		t.Fatal(err)
	}
	if m.IsDraft {
		t.Error("the imported message is a draft")
	}
	if !m.IsRead || m.FlagStatus != "flagged" || m.Importance != "high" || !slices.Equal(m.Categories, meta.Categories) {
		t.Errorf("metadata: read %v flag %q importance %q categories %q", m.IsRead, m.FlagStatus, m.Importance, m.Categories)
	}
	if m.FolderID != folder.ID {
		t.Errorf("folder %s, want %s", m.FolderID, folder.ID)
	}
	wantSent := time.Date(2026, 3, 3, 9, 14, 0, 0, time.UTC)
	wantRecv := time.Date(2026, 3, 3, 9, 15, 2, 0, time.UTC)
	if !m.Header.Sent.Equal(wantSent) || !m.Header.Received.Equal(wantRecv) {
		t.Errorf("dates: sent %v received %v, want %v and %v", m.Header.Sent, m.Header.Received, wantSent, wantRecv)
	}
	h := m.Header
	if h.Subject != "Invoice März" || h.From == nil || h.From.Name != "Paul Müller" || h.From.Address != "paul@supplier.example" ||
		len(h.To) != 2 || len(h.Cc) != 1 || h.InternetMessageID != msgID {
		t.Errorf("header: %+v", h)
	}
	if !bytes.Contains(m.MIME, []byte("\r\nX-Mailer: Lifeboat test\r\n")) {
		t.Error("the X-Mailer header was not carried over")
	}
	if !strings.Contains(h.BodyHTML, "Grüße") || !strings.Contains(h.BodyHTML, "cid:logo@supplier") {
		t.Errorf("HTML body %q", h.BodyHTML)
	}
	if len(m.Attachments) != 3 {
		t.Fatalf("%d attachments, want 3", len(m.Attachments))
	}
	for _, w := range []struct {
		name   string
		data   []byte
		inline bool
		cid    string
	}{{"invoice.pdf", small, false, ""}, {"groß.bin", large, false, ""}, {"logo.png", png, true, "logo@supplier"}} {
		a, ok := attachmentByName(m.Attachments, w.name)
		if !ok {
			t.Errorf("attachment %q missing", w.name)
			continue
		}
		if !bytes.Equal(a.Content, w.data) || a.IsInline != w.inline || a.ContentID != w.cid {
			t.Errorf("attachment %q: %d bytes (want %d), inline %v, cid %q", w.name, len(a.Content), len(w.data), a.IsInline, a.ContentID)
		}
	}
	// The 5 MB attachment went through an upload session, in chunks
	// below 4 MB, without an access token.
	spy.mu.Lock()
	puts, auth := append([]string(nil), spy.puts...), spy.auth
	spy.mu.Unlock()
	if len(puts) != 2 || puts[0] != fmt.Sprintf("bytes 0-%d/5000000", attachmentChunk-1) || auth != 0 {
		t.Errorf("upload PUTs %q, %d with Authorization", puts, auth)
	}
	// A backup of the restored message reads it as MIME: the attachments
	// survive that round trip byte for byte.
	pm, err := parseMIME(bytes.NewReader(m.MIME), t.TempDir())
	if err != nil {
		t.Fatalf("the stored MIME does not parse: %v", err)
	}
	defer pm.Close()
	if len(pm.Attachments) != 3 {
		t.Fatalf("stored MIME has %d attachments", len(pm.Attachments))
	}
	for _, a := range pm.Attachments {
		rc, err := a.Open()
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(rc)
		rc.Close()
		want, _ := attachmentByName(m.Attachments, a.Name)
		if !bytes.Equal(got, want.Content) {
			t.Errorf("stored MIME attachment %q differs", a.Name)
		}
	}

	// Conflict detection finds it by internetMessageId, and only there.
	ids, err := c.FindMessages(ctx, "me", folder.ID, msgID)
	if err != nil || !slices.Equal(ids, []string{id}) {
		t.Fatalf("FindMessages = %v, %v; want [%s]", ids, err, id)
	}
	if ids, err := c.FindMessages(ctx, "me", "inbox", msgID); err != nil || len(ids) != 0 {
		t.Errorf("FindMessages(inbox) = %v, %v", ids, err)
	}
	if ids, err := c.FindMessages(ctx, "me", folder.ID, "<it's-quoted@x>"); err != nil || len(ids) != 0 {
		t.Errorf("FindMessages(quote) = %v, %v", ids, err)
	}
	// Delete moves it to Deleted Items, as Outlook does.
	if err := c.DeleteMessage(ctx, "me", id); err != nil {
		t.Fatal(err)
	}
	if ids, _ := c.FindMessages(ctx, "me", folder.ID, msgID); len(ids) != 0 {
		t.Errorf("still in the folder after delete: %v", ids)
	}
	if ids, _ := c.FindMessages(ctx, "me", "deleteditems", msgID); len(ids) != 1 {
		t.Errorf("not in Deleted Items after delete: %v", ids)
	}
	if err := c.DeleteMessage(ctx, "me", "AAMkNoSuchMessage"); !errors.Is(err, ErrNotFound) {
		t.Errorf("delete of a missing message: %v", err)
	}
}

func TestImportMessageMetaDates(t *testing.T) {
	srv := simtest.Start(t, nil, m365sim.Options{})
	c, _, _ := newClient(t, srv, simtest.Alice, nil)
	ctx := ctxT(t)
	raw := "From: a@example.com\r\nTo: alice@contoso.test\r\nSubject: plain\r\nDate: Mon, 02 Mar 2026 10:00:00 +0000\r\n\r\nJust text.\r\n"
	sent := time.Date(2025, 12, 24, 18, 0, 0, 0, time.UTC)
	recv := sent.Add(3 * time.Minute)
	id, err := c.ImportMessage(ctx, "me", "inbox", strings.NewReader(raw), ImportMeta{Sent: sent, Received: recv})
	if err != nil {
		t.Fatal(err)
	}
	m, err := srv.Tenant().Message(simtest.Alice, id)
	if err != nil {
		t.Fatal(err)
	}
	if m.IsDraft || m.IsRead || m.FlagStatus != "notFlagged" || m.Importance != "normal" || len(m.Attachments) != 0 {
		t.Errorf("draft %v read %v flag %q importance %q attachments %d", m.IsDraft, m.IsRead, m.FlagStatus, m.Importance, len(m.Attachments))
	}
	if !m.Header.Sent.Equal(sent) || !m.Header.Received.Equal(recv) || m.Header.BodyText != "Just text.\r\n" {
		t.Errorf("sent %v received %v body %q", m.Header.Sent, m.Header.Received, m.Header.BodyText)
	}
	if _, err := c.ImportMessage(ctx, "me", "inbox", strings.NewReader("not a message"), ImportMeta{}); err == nil {
		t.Error("garbage imported")
	}
	if _, err := c.ImportMessage(ctx, "me", "inbox", strings.NewReader(raw), ImportMeta{Flag: "purple"}); err == nil {
		t.Error("unknown flag accepted")
	}
}

func TestEnsureMailFolderPathCreatesOnce(t *testing.T) {
	srv := simtest.Start(t, nil, m365sim.Options{})
	tn := srv.Tenant()
	c, _, _ := newClient(t, srv, simtest.Alice, nil)
	ctx := ctxT(t)
	path := []string{"inbox", "Invoices", "2026", "März"} // "inbox" matches "Inbox"
	f1, err := c.EnsureMailFolderPath(ctx, "me", path)
	if err != nil {
		t.Fatal(err)
	}
	posts := srv.Requests().Count("POST ")
	if posts != 1 { // Inbox/Invoices/2026 exist in SmallTenant: only März is new
		t.Errorf("%d POSTs, want 1", posts)
	}
	f2, err := c.EnsureMailFolderPath(ctx, "me", path)
	if err != nil {
		t.Fatal(err)
	}
	if f1.ID != f2.ID || srv.Requests().Count("POST ") != posts {
		t.Errorf("second call: %s vs %s, POSTs %d", f1.ID, f2.ID, srv.Requests().Count("POST "))
	}
	got, err := tn.FolderPath(simtest.Alice, f1.ID)
	if err != nil || got != "Inbox/Invoices/2026/März" {
		t.Errorf("FolderPath = %q, %v", got, err)
	}
	top, err := c.EnsureMailFolderPath(ctx, "me", []string{"Restored by Lifeboat 2026-03-03"})
	if err != nil || top.DisplayName != "Restored by Lifeboat 2026-03-03" {
		t.Errorf("top-level folder: %+v, %v", top, err)
	}
	if _, err := c.EnsureMailFolderPath(ctx, "me", []string{"Inbox", " "}); err == nil {
		t.Error("blank folder name accepted")
	}
}

func TestUploadFileSmallAndLarge(t *testing.T) {
	srv := simtest.Start(t, nil, m365sim.Options{})
	tn := srv.Tenant()
	c, spy := spyClient(t, srv)
	ctx := ctxT(t)
	d, err := c.GetDrive(ctx, "me")
	if err != nil {
		t.Fatal(err)
	}
	dir, err := c.EnsureFolderPath(ctx, d.ID, "Restored/2026")
	if err != nil {
		t.Fatal(err)
	}
	created := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	modified := time.Date(2025, 6, 7, 8, 9, 10, 0, time.UTC)
	opts := UploadOptions{Created: created, Modified: modified}

	check := func(it DriveItem, path string, want []byte) {
		t.Helper()
		ti, err := tn.DriveItemByPath(simtest.Alice, path)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		got := make([]byte, ti.Content.Size())
		if _, err := io.ReadFull(ti.Content.Open(), got); err != nil {
			t.Fatal(err)
		}
		if ti.ID != it.ID || !bytes.Equal(got, want) || !ti.FSCreated.Equal(created) || !ti.FSModified.Equal(modified) {
			t.Errorf("%s: id %s/%s, %d bytes (want %d), fs %v %v", path, ti.ID, it.ID, len(got), len(want), ti.FSCreated, ti.FSModified)
		}
		if !it.FSModified.Equal(modified) || it.Size != int64(len(want)) {
			t.Errorf("%s: returned item %+v", path, it)
		}
	}

	small := pattern(1024, 7)
	it, err := c.UploadFile(ctx, d.ID, dir.ID, "notes.txt", int64(len(small)), bytes.NewReader(small), opts)
	if err != nil {
		t.Fatal(err)
	}
	check(it, "Restored/2026/notes.txt", small)

	// Keep both (default), replace, fail.
	small2 := pattern(1024, 8)
	it2, err := c.UploadFile(ctx, d.ID, dir.ID, "notes.txt", int64(len(small2)), bytes.NewReader(small2), opts)
	if err != nil || it2.Name != "notes 1.txt" {
		t.Fatalf("rename: %+v, %v", it2, err)
	}
	check(it2, "Restored/2026/notes 1.txt", small2)
	it3, err := c.UploadFile(ctx, d.ID, dir.ID, "notes.txt", int64(len(small2)), bytes.NewReader(small2), UploadOptions{Conflict: "replace", Created: created, Modified: modified})
	if err != nil || it3.ID != it.ID || it3.Name != "notes.txt" {
		t.Fatalf("replace: %+v, %v", it3, err)
	}
	check(it3, "Restored/2026/notes.txt", small2)
	if _, err := c.UploadFile(ctx, d.ID, dir.ID, "notes.txt", 3, strings.NewReader("abc"), UploadOptions{Conflict: "fail"}); !errors.Is(err, ErrConflict) {
		t.Errorf("fail: %v", err)
	}

	// ~10 MiB through an upload session: 320 KiB-multiple fragments, no
	// token on the upload URL, times from the session.
	large := pattern(10<<20+12345, 9)
	it4, err := c.UploadFile(ctx, d.ID, dir.ID, "video.mp4", int64(len(large)), bytes.NewReader(large), opts)
	if err != nil {
		t.Fatal(err)
	}
	check(it4, "Restored/2026/video.mp4", large)
	spy.mu.Lock()
	puts, auth := append([]string(nil), spy.puts...), spy.auth
	spy.mu.Unlock()
	want := []string{fmt.Sprintf("bytes 0-%d/%d", UploadFragmentSize-1, len(large)), fmt.Sprintf("bytes %d-%d/%d", UploadFragmentSize, len(large)-1, len(large))}
	if !slices.Equal(puts, want) || auth != 0 {
		t.Errorf("fragments %q (want %q), %d with Authorization", puts, want, auth)
	}
	it5, err := c.UploadFile(ctx, d.ID, dir.ID, "video.mp4", int64(len(large)), bytes.NewReader(large), opts)
	if err != nil || it5.Name != "video 1.mp4" {
		t.Errorf("large rename: %+v, %v", it5, err)
	}
	if _, err := c.UploadFile(ctx, d.ID, dir.ID, "video.mp4", int64(len(large)), bytes.NewReader(large), UploadOptions{Conflict: "fail"}); !errors.Is(err, ErrConflict) {
		t.Errorf("large fail: %v", err)
	}
	if srv.OpenUploadSessions() != 0 {
		t.Errorf("%d upload sessions left open", srv.OpenUploadSessions())
	}
	// A source shorter than it said is an error, not a short file.
	if _, err := c.UploadFile(ctx, d.ID, dir.ID, "short.bin", 5<<20, bytes.NewReader(large[:1<<20]), opts); err == nil {
		t.Error("short source uploaded")
	}
	if _, err := tn.DriveItemByPath(simtest.Alice, "Restored/2026/short.bin"); err == nil {
		t.Error("short source left a file")
	}
	if srv.OpenUploadSessions() != 0 {
		t.Errorf("the failed upload's session was not cancelled")
	}
}

func TestEnsureFolderPathAndItemByPath(t *testing.T) {
	srv := simtest.Start(t, nil, m365sim.Options{})
	c, _, _ := newClient(t, srv, simtest.Alice, nil)
	ctx := ctxT(t)
	d, err := c.GetDrive(ctx, "me")
	if err != nil {
		t.Fatal(err)
	}
	f, err := c.EnsureFolderPath(ctx, d.ID, "Documents/Restored/März 2026")
	if err != nil {
		t.Fatal(err)
	}
	posts := srv.Requests().Count("POST ")
	if posts != 2 || !f.IsFolder || f.Name != "März 2026" {
		t.Errorf("%d POSTs (want 2: Documents exists), item %+v", posts, f)
	}
	f2, err := c.EnsureFolderPath(ctx, d.ID, "/Documents/Restored/März 2026/")
	if err != nil || f2.ID != f.ID || srv.Requests().Count("POST ") != posts {
		t.Errorf("second call: %+v, %v, POSTs %d", f2, err, srv.Requests().Count("POST "))
	}
	it, err := c.ItemByPath(ctx, d.ID, "Photos/Ünïcödé – café.jpg")
	if err != nil || it.Name != "Ünïcödé – café.jpg" || it.Size != 1_200_000 {
		t.Errorf("ItemByPath: %+v, %v", it, err)
	}
	if root, err := c.ItemByPath(ctx, d.ID, ""); err != nil || !root.IsRoot {
		t.Errorf("root: %+v, %v", root, err)
	}
	if _, err := c.ItemByPath(ctx, d.ID, "Documents/nothing.txt"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing item: %v", err)
	}
	if _, err := c.ItemByPath(ctx, d.ID, "Documents/../x"); err == nil {
		t.Error("a .. segment was sent")
	}
	if _, err := c.EnsureFolderPath(ctx, d.ID, "Documents/budget.xlsx/sub"); !errors.Is(err, ErrConflict) {
		t.Errorf("file in the way: %v", err)
	}
}

// Upload URLs fail like any service: fragments are retried, and the file
// arrives whole.
func TestUploadFileRetriesFaultyFragments(t *testing.T) {
	srv := simtest.Start(t, nil, m365sim.Options{Faults: m365sim.FaultConfig{
		Seed: 3, Rate: map[m365sim.FaultKind]float64{m365sim.Fault503: 0.3, m365sim.FaultReset: 0.2}, Storm: -1, Only: "/_upload/"}})
	c, _, events := newClient(t, srv, simtest.Alice, nil)
	ctx := ctxT(t)
	d, err := c.GetDrive(ctx, "me")
	if err != nil {
		t.Fatal(err)
	}
	root, err := c.ItemByPath(ctx, d.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	data := pattern(3*UploadFragmentSize+777, 11)
	it, err := c.UploadFile(ctx, d.ID, root.ID, "big.bin", int64(len(data)), bytes.NewReader(data), UploadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ti, err := srv.Tenant().DriveItemByPath(simtest.Alice, "big.bin")
	if err != nil || ti.ID != it.ID {
		t.Fatalf("stored: %v", err)
	}
	got := make([]byte, ti.Content.Size())
	if _, err := io.ReadFull(ti.Content.Open(), got); err != nil || !bytes.Equal(got, data) {
		t.Errorf("stored bytes differ (%d of %d)", len(got), len(data))
	}
	if len(events.list()) == 0 {
		t.Error("no retries happened: the faults did not hit")
	}
}

// A response lost after the server acted (a truncated body) is retried;
// the retry of a middle fragment finds it already taken (416) and of the
// last one finds the session closed (404). Either way the upload ends
// with exactly one file, never a second "name 1" copy.
func TestUploadFileSurvivesLostResponses(t *testing.T) {
	srv := simtest.Start(t, nil, m365sim.Options{Faults: m365sim.FaultConfig{
		Seed: 5, Rate: map[m365sim.FaultKind]float64{m365sim.FaultTruncate: 0.35}, Storm: -1, Only: "/_upload/"}})
	c, d, dir := driveDir(t, srv, "Lost")
	ctx := ctxT(t)
	for i := range 8 {
		data := pattern(UploadFragmentSize+5000, uint32(20+i))
		name := fmt.Sprintf("file-%d.bin", i)
		it, err := c.UploadFile(ctx, d.ID, dir.ID, name, int64(len(data)), bytes.NewReader(data), UploadOptions{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if it.Name != name {
			t.Errorf("%s uploaded as %q", name, it.Name)
		}
	}
	items, _ := srv.Tenant().DriveItems(simtest.Alice)
	n := 0
	for _, it := range items {
		if it.ParentID == dir.ID {
			n++
		}
	}
	if n != 8 {
		t.Errorf("%d files in the folder, want 8", n)
	}
	lost416, lost404 := 0, 0
	for _, e := range srv.Requests().Entries() {
		if e.Method == http.MethodPut && strings.HasPrefix(e.Path, "/_upload/") {
			switch e.Status {
			case http.StatusRequestedRangeNotSatisfiable:
				lost416++
			case http.StatusNotFound:
				lost404++
			}
		}
	}
	if lost416 == 0 || lost404 == 0 {
		t.Errorf("the faults did not exercise both recoveries: %d retried middle fragments, %d retried last fragments", lost416, lost404)
	}
}

func TestImportBodyCustomHeaders(t *testing.T) {
	pm := &parsedMessage{Subject: "s", XHeaders: [][2]string{{"X-A", "1"}, {"X-B", "2"}, {"X-C", "3"}, {"X-Microsoft-Antispam", "no"},
		{"X-MS-Exchange-Organization-SCL", "1"}, {"X-D", "4"}, {"X-E", "5"}, {"X-F", "6"}}}
	msg, err := importBody(pm, ImportMeta{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, h := range msg.GetInternetMessageHeaders() {
		names = append(names, *h.GetName())
	}
	if strings.Join(names, ",") != "X-A,X-B,X-C,X-D,X-E" {
		t.Errorf("headers sent: %v", names)
	}
	flags := ""
	for _, p := range msg.GetSingleValueExtendedProperties() {
		if *p.GetId() == propMessageFlags {
			flags = *p.GetValue()
		}
	}
	if flags != "0" || *msg.GetIsRead() {
		t.Errorf("an unread import has flags %q", flags)
	}
}

// A create or an attachment whose answer is lost (the server did it, the
// client never heard) must not leave a second copy; one refused with a
// server error must still be made once.
func TestImportMessageLostAnswers(t *testing.T) {
	small, large, png := pattern(20_000, 1), pattern(5_000_000, 2), pattern(3_000, 3)
	for _, tc := range []struct {
		name string
		kind m365sim.FaultKind
		only string
		// lookups is how many token searches the import needs.
		lookups int
	}{
		{"lost create", m365sim.FaultLost, "/messages", 1},
		{"create refused with 504", m365sim.Fault504, "/messages", 1},
		{"lost attachment", m365sim.FaultLost, "/attachments", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := simtest.Start(t, nil, m365sim.Options{})
			c, _ := spyClient(t, srv)
			ctx := ctxT(t)
			folder, err := c.EnsureMailFolderPath(ctx, "me", []string{"Restored"})
			if err != nil {
				t.Fatal(err)
			}
			fi := srv.FaultInjector()
			fi.SetConfig(m365sim.FaultConfig{Only: tc.only})
			fi.Force(tc.kind, 1)
			const msgID = "<lost-answer@supplier.example>"
			id, err := c.ImportMessage(ctx, "me", folder.ID, bytes.NewReader(richMIME(msgID, small, large, png)), ImportMeta{})
			if err != nil {
				t.Fatalf("ImportMessage: %v", err)
			}
			entries := srv.Requests().Entries() // before the checks below add their own
			if got := fi.Injected()[tc.kind]; got != 1 {
				t.Fatalf("%d faults injected, want 1", got)
			}
			ids, err := c.FindMessages(ctx, "me", folder.ID, msgID)
			if err != nil || !slices.Equal(ids, []string{id}) {
				t.Fatalf("messages in the folder: %v %v, want only %s", ids, err, id)
			}
			if ids, err := c.FindMessages(ctx, "me", "deleteditems", msgID); err != nil || len(ids) != 0 {
				t.Errorf("half-made copies in Deleted Items: %v %v", ids, err)
			}
			m, err := srv.Tenant().Message(simtest.Alice, id)
			if err != nil {
				t.Fatal(err)
			}
			if m.IsDraft || len(m.Attachments) != 3 {
				t.Fatalf("draft %v, %d attachments", m.IsDraft, len(m.Attachments))
			}
			for name, want := range map[string][]byte{"invoice.pdf": small, "groß.bin": large, "logo.png": png} {
				if a, ok := attachmentByName(m.Attachments, name); !ok || !bytes.Equal(a.Content, want) {
					t.Errorf("attachment %q missing or different", name)
				}
			}
			lookups := 0
			for _, e := range entries {
				if e.Method == http.MethodGet && strings.HasSuffix(e.Route, "/messages") {
					lookups++
				}
			}
			if lookups != tc.lookups {
				t.Errorf("%d token lookups, want %d", lookups, tc.lookups)
			}
		})
	}
}

// A small upload's PUT whose answer is lost has made the file: the upload
// finds it instead of failing on the conflict, or making "name 1.txt".
func TestSimpleUploadLostAnswer(t *testing.T) {
	for _, conflict := range []string{"fail", "rename"} {
		t.Run(conflict, func(t *testing.T) {
			srv := simtest.Start(t, nil, m365sim.Options{})
			c, d, dir := driveDir(t, srv, "Lost PUT")
			ctx := ctxT(t)
			fi := srv.FaultInjector()
			fi.SetConfig(m365sim.FaultConfig{Only: "PUT "})
			fi.Force(m365sim.FaultLost, 1)
			data := pattern(100_000, 9)
			it, err := c.UploadFile(ctx, d.ID, dir.ID, "notes.txt", int64(len(data)), bytes.NewReader(data), UploadOptions{Conflict: conflict})
			if err != nil {
				t.Fatalf("UploadFile: %v", err)
			}
			if fi.Injected()[m365sim.FaultLost] != 1 || it.Name != "notes.txt" || it.Size != int64(len(data)) {
				t.Fatalf("uploaded %+v after %v", it, fi.Injected())
			}
			items, _ := srv.Tenant().DriveItems(simtest.Alice)
			var names []string
			for _, x := range items {
				if x.ParentID == dir.ID {
					names = append(names, x.Name)
				}
			}
			if !slices.Equal(names, []string{"notes.txt"}) {
				t.Errorf("files in the folder: %q", names)
			}
		})
	}
}

// driveDir makes Alice's client, her drive and a folder at path in it.
func driveDir(t *testing.T, srv *m365sim.Server, path string) (*Client, Drive, DriveItem) {
	t.Helper()
	c, _, _ := newClient(t, srv, simtest.Alice, nil)
	d, err := c.GetDrive(ctxT(t), "me")
	if err != nil {
		t.Fatal(err)
	}
	dir, err := c.EnsureFolderPath(ctxT(t), d.ID, path)
	if err != nil {
		t.Fatal(err)
	}
	return c, d, dir
}
