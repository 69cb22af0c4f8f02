package m365sim

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// smallDemo keeps generation and hashing quick under -race.
func smallDemo() DemoOptions {
	return DemoOptions{MessagesPerUser: 120, FilesPerUser: 24, MaxFileSize: 300 << 10}
}

// demoFingerprint lists everything about a tenant that must not depend on
// anything but the seed: users, folder paths, message bytes and
// properties, file paths, bytes and times. IDs are left out.
func demoFingerprint(t *testing.T, tn *Tenant) []string {
	t.Helper()
	out := []string{tn.Name, tn.Domain}
	for _, u := range tn.Users() {
		out = append(out, "user "+u.UPN+" "+u.DisplayName+" "+u.JobTitle)
		out = append(out, folderPaths(t, tn, u.UPN)...)
		msgs, err := tn.Messages(u.UPN, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			p, err := tn.FolderPath(u.UPN, m.FolderID)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprintf("msg %s %x read=%v %s %v draft=%v", p, sha256.Sum256(m.MIME), m.IsRead, m.FlagStatus, m.Categories, m.IsDraft))
		}
		items, err := tn.DriveItems(u.UPN)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			path, err := drivePath(tn, u.Drive, it.ID)
			if err != nil {
				t.Fatal(err)
			}
			line := fmt.Sprintf("item %s folder=%v fs=%s", path, it.Folder, it.FSModified.Format(time.RFC3339Nano))
			if !it.Folder {
				h := sha256.New()
				if _, err := io.Copy(h, it.Content.Open()); err != nil {
					t.Fatal(err)
				}
				line += fmt.Sprintf(" %d %x %s", it.Content.Size(), h.Sum(nil), it.QuickXor)
			}
			out = append(out, line)
		}
	}
	return out
}

// drivePath is Drive.itemPathLocked under the tenant's read lock.
func drivePath(tn *Tenant, d *Drive, id string) (string, error) {
	tn.mu.RLock()
	defer tn.mu.RUnlock()
	return d.itemPathLocked(id)
}

func TestDemoDeterministic(t *testing.T) {
	t.Parallel()
	a, err := GenerateDemo(42, smallDemo())
	if err != nil {
		t.Fatal(err)
	}
	b, err := GenerateDemo(42, smallDemo())
	if err != nil {
		t.Fatal(err)
	}
	fa, fb := demoFingerprint(t, a), demoFingerprint(t, b)
	if !slices.Equal(fa, fb) {
		for i := range min(len(fa), len(fb)) {
			if fa[i] != fb[i] {
				t.Fatalf("same seed, different tenant at line %d:\n%s\n%s", i, fa[i], fb[i])
			}
		}
		t.Fatalf("same seed, different tenant: %d vs %d lines", len(fa), len(fb))
	}
	if a.ID == b.ID {
		t.Error("tenant IDs should still be fresh per tenant")
	}
	c, err := GenerateDemo(43, smallDemo())
	if err != nil {
		t.Fatal(err)
	}
	fc := demoFingerprint(t, c)
	same := 0
	for _, line := range fc {
		if strings.HasPrefix(line, "msg ") && slices.Contains(fa, line) {
			same++
		}
	}
	if slices.Equal(fa, fc) || same > 0 {
		t.Errorf("seed 43 repeats seed 42 (%d identical messages)", same)
	}
	if !DemoReferenceTime(42).Equal(DemoReferenceTime(42)) || DemoReferenceTime(42).Equal(DemoReferenceTime(43)) {
		t.Error("reference time is not a function of the seed")
	}
}

func TestDemoMail(t *testing.T) {
	t.Parallel()
	tn, err := GenerateDemo(7, DemoOptions{MessagesPerUser: 400, FilesPerUser: 1})
	if err != nil {
		t.Fatal(err)
	}
	ref := DemoReferenceTime(7)
	users := tn.Users()
	if len(users) != 3 || tn.Name != DemoTenantName {
		t.Fatalf("%s with %d users", tn.Name, len(users))
	}
	var total, withAtt, html, unicodeSubj, encodedHeader, read, flagged, categorized, replies, drafts int
	var sawInline, sawRFC822 bool
	folders := map[string]int{}
	var sample *Message
	for _, u := range users {
		if !strings.HasSuffix(u.UPN, "@"+DemoDomain) || u.JobTitle == "" {
			t.Errorf("user %+v", u)
		}
		msgs, err := tn.Messages(u.UPN, "")
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) != 400 {
			t.Errorf("%s has %d messages, want 400", u.UPN, len(msgs))
		}
		for i := range msgs {
			m := &msgs[i]
			total++
			h, err := ParseMessageHeader(m.MIME)
			if err != nil {
				t.Fatalf("message %d of %s does not parse: %v", i, u.UPN, err)
			}
			head, _, ok := bytes.Cut(m.MIME, []byte("\r\n\r\n"))
			if !ok {
				t.Fatalf("no header/body separator")
			}
			for _, field := range []string{"\r\nFrom: ", "\r\nTo: ", "\r\nDate: ", "\r\nMessage-ID: <", "\r\nMIME-Version: 1.0", "\r\nSubject: "} {
				if !bytes.Contains(append([]byte("\r\n"), head...), []byte(field)) {
					t.Fatalf("message lacks %q:\n%s", strings.TrimSpace(field), head)
				}
			}
			if bytes.Contains(bytes.ReplaceAll(m.MIME, []byte("\r\n"), nil), []byte("\n")) {
				t.Fatalf("bare LF in message:\n%s", m.MIME)
			}
			for _, line := range bytes.Split(m.MIME, []byte("\r\n")) {
				if len(line) > 998 {
					t.Fatalf("line of %d bytes", len(line))
				}
				for _, c := range line {
					if c >= 0x80 {
						t.Fatalf("8-bit byte in message (all non-ASCII must be encoded): %q", line)
					}
				}
			}
			if h.Sent.After(ref) || h.Sent.Before(ref.AddDate(-2, 0, -1)) {
				t.Errorf("sent %v outside the two years before %v", h.Sent, ref)
			}
			if h.From == nil || h.From.Address == "" || len(h.To) == 0 || h.Subject == "" || h.InternetMessageID == "" {
				t.Errorf("incomplete header %+v", h)
			}
			if h.BodyText == "" {
				t.Errorf("no text body: %s", m.MIME)
			}
			if h.BodyHTML != "" {
				html++
			}
			real := 0
			for _, a := range h.Attachments {
				if a.Name == "" || a.Size <= 0 {
					t.Errorf("attachment %+v", a)
				}
				if a.Inline {
					sawInline = true
				} else {
					real++
				}
				if a.ContentType == "message/rfc822" {
					sawRFC822 = true
				}
			}
			if real > 0 {
				withAtt++
				if sample == nil && strings.HasPrefix(h.Subject, "Invoice ") {
					sample = m
				}
			}
			if !utf8.ValidString(h.Subject) {
				t.Errorf("subject %q", h.Subject)
			}
			if strings.IndexFunc(h.Subject, func(r rune) bool { return r > 0x7f }) >= 0 {
				unicodeSubj++
			}
			if bytes.Contains(head, []byte("=?utf-8?")) {
				encodedHeader++
			}
			if m.IsRead {
				read++
			}
			if m.FlagStatus == "flagged" {
				flagged++
			}
			if len(m.Categories) > 0 {
				categorized++
			}
			if strings.HasPrefix(h.Subject, "Re: ") {
				replies++
			}
			if m.IsDraft {
				drafts++
			}
			p, err := tn.FolderPath(u.UPN, m.FolderID)
			if err != nil {
				t.Fatal(err)
			}
			folders[p]++
		}
	}
	t.Logf("%d messages: %d with attachments, %d HTML, %d Unicode subjects, %d read, %d flagged, %d categorised, %d replies, %d drafts",
		total, withAtt, html, unicodeSubj, read, flagged, categorized, replies, drafts)
	t.Logf("folders: %v", folders)
	check := func(what string, n, lo, hi int) {
		if n < lo || n > hi {
			t.Errorf("%s: %d of %d, want %d to %d", what, n, total, lo, hi)
		}
	}
	check("with attachments", withAtt, total/10, total/2)
	check("with HTML", html, total/4, total*3/4)
	check("Unicode subjects", unicodeSubj, 10, total/2)
	check("encoded-word headers", encodedHeader, total/4, total)
	check("read", read, total/2, total-10)
	check("flagged", flagged, 5, total/5)
	check("categorised", categorized, 10, total/4)
	check("replies", replies, total/10, total/2)
	check("drafts", drafts, 1, total/10)
	if !sawInline || !sawRFC822 {
		t.Errorf("inline image seen %v, forwarded message seen %v", sawInline, sawRFC822)
	}
	year := ref.Year()
	for _, f := range []string{"Inbox", "Inbox/Customers", "Inbox/Orders", "Inbox/Newsletters", "Sent Items", "Deleted Items", "Junk Email", "Drafts",
		fmt.Sprintf("Inbox/Invoices/%d", year-1), fmt.Sprintf("Archive/%d", year-2)} {
		if folders[f] == 0 {
			t.Errorf("no messages in %s", f)
		}
	}
	nested := 0
	for f := range folders {
		if strings.HasPrefix(f, "Inbox/Suppliers/") {
			nested++
		}
	}
	if nested < 3 {
		t.Errorf("only %d supplier folders", nested)
	}
	if sample == nil {
		t.Fatal("no invoice with an attachment")
	}
	h, _ := ParseMessageHeader(sample.MIME)
	if a := h.Attachments[0]; a.ContentType != "application/pdf" || !strings.HasSuffix(a.Name, ".pdf") {
		t.Errorf("invoice attachment %+v", a)
	}
	// The PDF decodes to a PDF.
	if !bytes.Contains(sample.MIME, []byte("JVBERi0xLj")) { // base64 of "%PDF-1."
		t.Error("invoice PDF not found in the MIME")
	}
}

func TestDemoFilesDefaultPlan(t *testing.T) {
	t.Parallel()
	o, err := DemoOptions{}.resolve()
	if err != nil {
		t.Fatal(err)
	}
	if o.Users != 3 || o.MessagesPerUser != 1000 || o.FilesPerUser != 120 || o.MaxFileSize != 50<<20 {
		t.Fatalf("defaults %+v", o)
	}
	g := newDemoGen(1, o)
	var total, largest int64
	var count, empty, small, mb, huge, generated int
	names := map[string]bool{}
	for ui := 0; ui < o.Users; ui++ {
		files := g.files(ui)
		if len(files) != o.FilesPerUser {
			t.Errorf("user %d has %d files", ui, len(files))
		}
		seen := map[string]bool{}
		for _, f := range files {
			key := strings.ToLower(f.path)
			if seen[key] {
				t.Errorf("duplicate path %s", f.path)
			}
			seen[key] = true
			for _, part := range strings.Split(f.path, "/") {
				if err := ValidateDriveName(part); err != nil || !utf8.ValidString(part) {
					t.Errorf("%s: %v", f.path, err)
				}
			}
			if f.mod.After(g.ref) || f.mod.Before(g.start) {
				t.Errorf("%s dated %v", f.path, f.mod)
			}
			names[f.path[strings.LastIndexByte(f.path, '/')+1:]] = true
			if f.content == nil {
				continue
			}
			size := f.content.Size()
			count++
			total += size
			largest = max(largest, size)
			switch {
			case size == 0:
				empty++
			case size < 10<<10:
				small++
			case size >= 30<<20:
				huge++
			case size >= 1<<20:
				mb++
			}
			if _, ok := f.content.(*demoContent); ok {
				generated++
			} else if size > demoInMemoryMax {
				t.Errorf("%s: %d bytes held in memory (%T)", f.path, size, f.content)
			}
		}
	}
	t.Logf("%d files, %d MB in all, largest %d MB: %d empty, %d under 10 KB, %d of 1–30 MB, %d over 30 MB; %d generated on demand",
		count, total>>20, largest>>20, empty, small, mb, huge, generated)
	if count < 300 || total < 250<<20 || total > 600<<20 {
		t.Errorf("%d files of %d MB: want a few hundred files, 250–600 MB", count, total>>20)
	}
	if empty == 0 || small < 10 || mb < 20 || huge < 2 || largest > 50<<20 {
		t.Errorf("sizes do not span bytes to 50 MB")
	}
	for _, n := range []string{"Budget 2026.xlsx", "Präsentation Café.pptx", "Menü – Sommer.docx", "日本語メモ.txt", "Cafe\u0301 menu (NFD).pdf"} {
		if !names[n] {
			t.Errorf("file %q missing", n)
		}
	}
}

func TestDemoContentSeek(t *testing.T) {
	for _, c := range []*demoContent{
		{key: 1, size: 3*demoBlockSize + 123, prefix: demoSigJPEG},
		{key: 2, size: 2*demoBlockSize + 7, text: true, prefix: demoSigZIP},
		{key: 3, size: demoBlockSize, text: true},
		{key: 4, size: 5},
		{key: 5, size: 0},
	} {
		all, err := io.ReadAll(c.Open())
		if err != nil || int64(len(all)) != c.Size() {
			t.Fatalf("read %d of %d bytes: %v", len(all), c.Size(), err)
		}
		if c.size > int64(len(c.prefix)) && !bytes.HasPrefix(all, []byte(c.prefix)) {
			t.Errorf("key %d: signature missing", c.key)
		}
		if again, _ := io.ReadAll(c.Open()); !bytes.Equal(all, again) {
			t.Errorf("key %d: second read differs", c.key)
		}
		r := c.Open()
		for _, off := range []int64{c.size / 2, 0, demoBlockSize - 1, demoBlockSize, 2*demoBlockSize + 3, c.size - 1, c.size, c.size + 10} {
			if off < 0 {
				continue
			}
			if pos, err := r.Seek(off, io.SeekStart); err != nil || pos != off {
				t.Fatalf("seek %d: %d %v", off, pos, err)
			}
			buf := make([]byte, 70_000)
			n, err := io.ReadFull(r, buf)
			want := all[min(off, c.size):min(off+int64(len(buf)), c.size)]
			if !bytes.Equal(buf[:n], want) {
				t.Errorf("key %d: %d bytes at %d differ from a read from the start", c.key, n, off)
			}
			if n < len(buf) && err != io.ErrUnexpectedEOF && err != io.EOF {
				t.Errorf("short read: %v", err)
			}
		}
		if c.size > 10 {
			if _, err := r.Seek(-10, io.SeekEnd); err != nil {
				t.Fatal(err)
			}
			if tail, _ := io.ReadAll(r); !bytes.Equal(tail, all[c.size-10:]) {
				t.Errorf("key %d: tail differs", c.key)
			}
			_, _ = r.Seek(4, io.SeekStart)
			if pos, _ := r.Seek(3, io.SeekCurrent); pos != 7 {
				t.Errorf("SeekCurrent gave %d", pos)
			}
		}
		if _, err := r.Seek(-1, io.SeekStart); err == nil {
			t.Error("negative seek accepted")
		}
	}
	if bytes.Equal(demoGenBytes(1, 1000, false, ""), demoGenBytes(2, 1000, false, "")) {
		t.Error("different keys, same bytes")
	}
	text := demoGenBytes(9, 50_000, true, "")
	if !utf8.Valid(text[:bytes.LastIndexByte(text, '\n')]) || bytes.Count(text, []byte("\n")) < 100 {
		t.Error("text content is not lines of UTF-8 text")
	}
}

func TestDemoFileInTenant(t *testing.T) {
	tn, err := GenerateDemo(5, DemoOptions{Users: 1, MessagesPerUser: 10, FilesPerUser: 3, MaxFileSize: 8 << 20})
	if err != nil {
		t.Fatal(err)
	}
	upn := demoPeople[0].local + "@" + DemoDomain
	it, err := tn.DriveItemByPath(upn, "Documents/Präsentation Café.pptx")
	if err != nil {
		t.Fatal(err)
	}
	if it.Content.Size() != 6_500_000 || it.FSModified.IsZero() {
		t.Fatalf("size %d, modified %v", it.Content.Size(), it.FSModified)
	}
	all := readContent(t, it.Content)
	r := it.Content.Open()
	if _, err := r.Seek(5_000_000, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	tail, err := io.ReadAll(r)
	if err != nil || !bytes.Equal(tail, all[5_000_000:]) {
		t.Errorf("seek into a generated file: %v", err)
	}
	if !bytes.HasPrefix(all, []byte("PK\x03\x04")) {
		t.Error("no zip signature on an Office file")
	}
	// One user still gets colleagues to write to.
	msgs, _ := tn.Messages(upn, "")
	if len(msgs) != 10 {
		t.Errorf("%d messages", len(msgs))
	}
}

func TestDemoOptions(t *testing.T) {
	for _, o := range []DemoOptions{{Users: 7}, {Users: -1}, {Scale: -1}, {MaxFileSize: -5}} {
		if _, err := GenerateDemo(1, o); err == nil {
			t.Errorf("%+v accepted", o)
		}
	}
	o, err := DemoOptions{Scale: 0.05}.resolve()
	if err != nil || o.MessagesPerUser != 50 || o.FilesPerUser != 6 || o.MaxFileSize != (50<<20)/20 {
		t.Errorf("Scale 0.05 gives %+v, %v", o, err)
	}
	if d := DemoReferenceTime(99); d.Before(time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)) || d.After(time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("reference time %v", d)
	}
}

func BenchmarkGenerateDemo(b *testing.B) {
	for _, bc := range []struct {
		name string
		opts DemoOptions
	}{{"small", smallDemo()}, {"default", DemoOptions{}}} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := GenerateDemo(1, bc.opts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
