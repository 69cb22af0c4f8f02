package m365sim

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// seedMessage returns a small MIME message with CRLF line ends and one
// attachment.
func seedMessage(subject string) []byte {
	return []byte("From: Katrin =?utf-8?q?M=C3=BCller?= <k@mueller.example>\r\n" +
		"To: anna@fabrikam.test\r\n" +
		"Subject: " + subject + "\r\n" +
		"Date: Tue, 3 Sep 2024 10:12:39 +0200\r\n" +
		"Message-ID: <" + strings.ReplaceAll(subject, " ", ".") + "@mueller.example>\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n" +
		"--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello Anna,\r\nplease find the invoice attached.\r\n" +
		"--b1\r\nContent-Type: application/pdf; name=\"invoice.pdf\"\r\nContent-Disposition: attachment; filename=\"invoice.pdf\"\r\n" +
		"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQKJeLjz9MK\r\n--b1--\r\n")
}

func writeSeedFile(t *testing.T, dir, rel string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func mkdirSeed(t *testing.T, dir, rel string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, filepath.FromSlash(rel)), 0o755); err != nil {
		t.Fatal(err)
	}
}

// folderPaths lists every mail folder path of a user.
func folderPaths(t *testing.T, tn *Tenant, upn string) []string {
	t.Helper()
	u, err := tn.User(upn)
	if err != nil {
		t.Fatal(err)
	}
	tn.mu.RLock()
	ids := make([]string, 0, len(u.folders))
	for id := range u.folders {
		if id != u.rootFolder {
			ids = append(ids, id)
		}
	}
	tn.mu.RUnlock()
	var out []string
	for _, id := range ids {
		p, err := tn.FolderPath(upn, id)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

func readContent(t *testing.T, c Content) []byte {
	t.Helper()
	b, err := io.ReadAll(c.Open())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestImportRoundTrip(t *testing.T) {
	dir := t.TempDir()
	const anna, ben = "anna@fabrikam.test", "Ben.Baker@fabrikam.test"
	writeSeedFile(t, dir, "tenant.json", []byte(`{"name": "Fabrikam Bakery", "domain": "fabrikam.test",
		"users": [{"upn": "anna@fabrikam.test", "displayName": "Anna Åström", "jobTitle": "Owner"}]}`))
	mail := "users/" + anna + "/mail/"
	msgs := map[string][]byte{
		mail + "Inbox/Invoices/2026/a.eml":   seedMessage("Invoice 1"),
		mail + "Inbox/b.eml":                 []byte("From: x@y.example\nSubject: LF only, =?utf-8?q?Gr=C3=BC=C3=9Fe?=\nDate: Mon, 1 Jan 2024 08:00:00 +0000\n\nbody\n"),
		mail + "Sent Items/c.eml":            seedMessage("Sent one"),
		mail + "Archive/2024/Q1/d.eml":       seedMessage("Old one"),
		mail + "Kunden/Müller & Söhne/e.eml": seedMessage("Unicode folder"),
		mail + "junk email/f.eml":            seedMessage("Spam"),
	}
	for rel, data := range msgs {
		writeSeedFile(t, dir, rel, data)
	}
	writeSeedFile(t, dir, mail+"Inbox/Invoices/2026/a.eml.json", []byte(`{"isRead": true, "flagged": true, "categories": ["Red category"]}`))
	writeSeedFile(t, dir, mail+".DS_Store", []byte("junk"))
	mkdirSeed(t, dir, mail+"Projects/Empty")

	drive := "users/" + ben + "/onedrive/"
	big := bytes.Repeat([]byte("0123456789abcdef"), 70_000) // > 1 MiB, read on demand
	files := map[string][]byte{
		"Documents/Menü – Sommer.docx": []byte("PK\x03\x04 menu"),
		"Documents/日本語メモ.txt":          []byte("来週の注文を確認してください。\n"),
		"Photos/2025/big.bin":          big,
		"empty.txt":                    {},
		"desktop.ini":                  []byte("[.ShellClassInfo]\r\n"),
	}
	mod := time.Date(2023, 5, 17, 9, 30, 15, 0, time.UTC)
	for rel, data := range files {
		p := writeSeedFile(t, dir, drive+rel, data)
		if err := os.Chtimes(p, mod, mod); err != nil {
			t.Fatal(err)
		}
	}
	mkdirSeed(t, dir, drive+"Empty folder")
	// A link to a file inside the seed folder is followed.
	if err := os.Symlink("Documents/日本語メモ.txt", filepath.Join(dir, filepath.FromSlash(drive+"memo link.txt"))); err != nil {
		t.Fatal(err)
	}

	tn, err := ImportTenant(dir)
	if err != nil {
		t.Fatal(err)
	}
	if tn.Name != "Fabrikam Bakery" || tn.Domain != "fabrikam.test" {
		t.Errorf("tenant = %q %q", tn.Name, tn.Domain)
	}
	users := tn.Users()
	if len(users) != 2 || users[0].UPN != anna || users[0].DisplayName != "Anna Åström" || users[0].JobTitle != "Owner" ||
		users[1].UPN != ben || users[1].DisplayName != "Ben Baker" {
		t.Fatalf("users = %+v", users)
	}

	// Mail: bytes exact, folders by path, well-known folders mapped.
	all, err := tn.Messages(anna, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != len(msgs) {
		t.Fatalf("%d messages, want %d", len(all), len(msgs))
	}
	for _, m := range all {
		path, err := tn.FolderPath(anna, m.FolderID)
		if err != nil {
			t.Fatal(err)
		}
		var want []byte
		for rel, data := range msgs {
			if bytes.Equal(data, m.MIME) {
				want = data
				dir := strings.TrimPrefix(rel[:strings.LastIndexByte(rel, '/')], mail)
				if !strings.EqualFold(dir, path) {
					t.Errorf("%s is in folder %q, want %q", rel, path, dir)
				}
			}
		}
		if want == nil {
			t.Errorf("message %q in %q: bytes differ from every seed file", m.Header.Subject, path)
		}
		if m.Header.Subject == "Invoice 1" {
			if !m.IsRead || m.FlagStatus != "flagged" || !slices.Equal(m.Categories, []string{"Red category"}) {
				t.Errorf("sidecar not applied: read %v flag %s categories %v", m.IsRead, m.FlagStatus, m.Categories)
			}
		} else if m.IsRead || m.FlagStatus != "notFlagged" {
			t.Errorf("%q: read %v flag %s without a sidecar", m.Header.Subject, m.IsRead, m.FlagStatus)
		}
	}
	for wk, subject := range map[string]string{"inbox": "LF only, Grüße", "sentitems": "Sent one", "junkemail": "Spam"} {
		ms, err := tn.Messages(anna, wk)
		if err != nil || len(ms) != 1 || ms[0].Header.Subject != subject {
			t.Errorf("well-known folder %s: %v %+v", wk, err, ms)
		}
	}
	paths := folderPaths(t, tn, anna)
	for _, want := range []string{"Inbox/Invoices/2026", "Archive/2024/Q1", "Kunden/Müller & Söhne", "Projects/Empty", "Sent Items"} {
		if !slices.Contains(paths, want) {
			t.Errorf("folder %q missing from %q", want, paths)
		}
	}

	// Files: bytes, modification times, empty folders, the followed link.
	for rel, data := range files {
		it, err := tn.DriveItemByPath(ben, rel)
		if err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		if got := readContent(t, it.Content); !bytes.Equal(got, data) {
			t.Errorf("%s: %d bytes differ from the %d seeded", rel, len(got), len(data))
		}
		if !it.FSModified.Equal(mod) {
			t.Errorf("%s: modified %v, want %v", rel, it.FSModified, mod)
		}
		if it.QuickXor == "" {
			t.Errorf("%s: no hash", rel)
		}
	}
	if it, err := tn.DriveItemByPath(ben, "Photos/2025/big.bin"); err != nil {
		t.Fatal(err)
	} else if _, ok := it.Content.(*FileContent); !ok {
		t.Errorf("large file content is %T, want *FileContent", it.Content)
	}
	if it, err := tn.DriveItemByPath(ben, "Empty folder"); err != nil || !it.Folder {
		t.Errorf("empty folder: %v %+v", err, it)
	}
	if it, err := tn.DriveItemByPath(ben, "memo link.txt"); err != nil {
		t.Error(err)
	} else if got := readContent(t, it.Content); !bytes.Equal(got, files["Documents/日本語メモ.txt"]) {
		t.Errorf("link content %q", got)
	}

	// Import into an existing tenant reuses its users.
	t2 := NewTenant("Existing", "fabrikam.test", nil)
	if _, err := t2.AddUser(anna, "Anna"); err != nil {
		t.Fatal(err)
	}
	if err := Import(dir, t2); err != nil {
		t.Fatal(err)
	}
	if n := len(t2.Users()); n != 2 || t2.Name != "Existing" {
		t.Errorf("import into tenant: %d users, name %q", n, t2.Name)
	}
	if ms, _ := t2.Messages(anna, ""); len(ms) != len(msgs) {
		t.Errorf("import into tenant: %d messages", len(ms))
	}
}

func TestImportDerivesTenant(t *testing.T) {
	dir := t.TempDir()
	writeSeedFile(t, dir, "users/paul.martin@contoso-bakery.example/mail/Inbox/a.eml", seedMessage("Hi"))
	tn, err := ImportTenant(dir)
	if err != nil {
		t.Fatal(err)
	}
	u := tn.Users()
	if tn.Name != "Contoso Bakery" || tn.Domain != "contoso-bakery.example" || len(u) != 1 || u[0].DisplayName != "Paul Martin" {
		t.Errorf("tenant %q %q users %+v", tn.Name, tn.Domain, u)
	}
}

func TestSeedFileContent(t *testing.T) {
	dir := t.TempDir()
	data := bytes.Repeat([]byte("lifeboat "), 10_000)
	p := writeSeedFile(t, dir, "f.bin", data)
	c, err := NewFileContent(p)
	if err != nil {
		t.Fatal(err)
	}
	r := c.Open()
	if _, err := r.Seek(12345, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r)
	if err != nil || !bytes.Equal(got, data[12345:]) {
		t.Fatalf("seek+read: %v, %d bytes", err, len(got))
	}
	if _, err := r.Seek(-10, io.SeekEnd); err != nil {
		t.Fatal(err)
	}
	if got, _ := io.ReadAll(r); !bytes.Equal(got, data[len(data)-10:]) {
		t.Errorf("seek from end: %q", got)
	}
	if _, err := r.Seek(-1, io.SeekStart); err == nil {
		t.Error("negative seek accepted")
	}
	// A file that shrinks after import fails loudly instead of serving
	// fewer bytes than its size promises.
	if err := os.Truncate(p, 100); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(c.Open()); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("read of shrunk file: %v, want ErrUnexpectedEOF", err)
	}
}

func TestImportMalformed(t *testing.T) {
	const user = "users/anna@fabrikam.test"
	cases := []struct {
		name  string
		setup func(t *testing.T, dir string)
		path  string // the offending path as the error quotes it
		why   string // part of the reason
	}{
		{
			name: "unreadable file",
			setup: func(t *testing.T, dir string) {
				p := filepath.Join(dir, user, "onedrive", "secret.txt")
				if os.Geteuid() == 0 {
					// root reads any file whatever its mode; a FIFO cannot be
					// read without blocking, so it is refused unopened.
					if err := exec.Command("mkfifo", p).Run(); err != nil {
						t.Fatalf("mkfifo: %v", err)
					}
					return
				}
				writeSeedFile(t, dir, user+"/onedrive/secret.txt", []byte("x"))
				if err := os.Chmod(p, 0); err != nil {
					t.Fatal(err)
				}
			},
			path: user + "/onedrive/secret.txt",
			why:  map[bool]string{true: "named pipe (FIFO), not a regular file", false: "permission denied"}[os.Geteuid() == 0],
		},
		{
			name: "unreadable message",
			setup: func(t *testing.T, dir string) {
				p := filepath.Join(dir, user, "mail", "Inbox", "locked.eml")
				if os.Geteuid() == 0 {
					if err := exec.Command("mkfifo", p).Run(); err != nil {
						t.Fatalf("mkfifo: %v", err)
					}
					return
				}
				writeSeedFile(t, dir, user+"/mail/Inbox/locked.eml", seedMessage("x"))
				if err := os.Chmod(p, 0); err != nil {
					t.Fatal(err)
				}
			},
			path: user + "/mail/Inbox/locked.eml",
			why:  map[bool]string{true: "not a regular file", false: "permission denied"}[os.Geteuid() == 0],
		},
		{
			name: "dangling symlink",
			setup: func(t *testing.T, dir string) {
				if err := os.Symlink("nowhere.txt", filepath.Join(dir, user, "onedrive", "gone.txt")); err != nil {
					t.Fatal(err)
				}
			},
			path: user + "/onedrive/gone.txt",
			why:  "cannot be followed",
		},
		{
			name: "non-MIME message",
			setup: func(t *testing.T, dir string) {
				writeSeedFile(t, dir, user+"/mail/Inbox/scan.eml", []byte("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n"))
			},
			path: user + "/mail/Inbox/scan.eml",
			why:  "not a MIME message",
		},
		{
			name: "no header block",
			setup: func(t *testing.T, dir string) {
				writeSeedFile(t, dir, user+"/mail/Inbox/body-only.eml", []byte("\r\nJust a body, no header block.\r\n"))
			},
			path: user + "/mail/Inbox/body-only.eml",
			why:  "not a MIME message: there is no header block",
		},
		{
			name: "empty message",
			setup: func(t *testing.T, dir string) {
				writeSeedFile(t, dir, user+"/mail/Inbox/empty.eml", nil)
			},
			path: user + "/mail/Inbox/empty.eml",
			why:  "not a MIME message: the file is empty",
		},
		{
			name: "invalid UTF-8 file name",
			setup: func(t *testing.T, dir string) {
				writeSeedFile(t, dir, user+"/onedrive/bad\xffname.txt", []byte("x"))
			},
			path: user + "/onedrive/bad\xffname.txt",
			why:  "not valid UTF-8",
		},
		{
			name: "invalid UTF-8 folder name",
			setup: func(t *testing.T, dir string) {
				writeSeedFile(t, dir, user+"/mail/Inbox/Caf\xe9/a.eml", seedMessage("x"))
			},
			path: user + "/mail/Inbox/Caf\xe9",
			why:  "not valid UTF-8",
		},
		{
			name: "symlink outside the seed folder",
			setup: func(t *testing.T, dir string) {
				outside := filepath.Join(t.TempDir(), "secret.txt")
				if err := os.WriteFile(outside, []byte("secret"), 0o644); err != nil {
					t.Fatal(err)
				}
				if err := os.Symlink(outside, filepath.Join(dir, user, "onedrive", "escape.txt")); err != nil {
					t.Fatal(err)
				}
			},
			path: user + "/onedrive/escape.txt",
			why:  "points outside the seed folder",
		},
		{
			name: "relative symlink escaping",
			setup: func(t *testing.T, dir string) {
				writeSeedFile(t, filepath.Dir(dir), "neighbour.eml", seedMessage("x"))
				if err := os.Symlink("../../../../../neighbour.eml", filepath.Join(dir, user, "mail", "Inbox", "n.eml")); err != nil {
					t.Fatal(err)
				}
			},
			path: user + "/mail/Inbox/n.eml",
			why:  "points outside the seed folder",
		},
		{
			name: "symlink to a folder",
			setup: func(t *testing.T, dir string) {
				if err := os.Symlink(".", filepath.Join(dir, user, "onedrive", "loop")); err != nil {
					t.Fatal(err)
				}
			},
			path: user + "/onedrive/loop",
			why:  "symbolic link to a folder",
		},
		{
			name: "user folder without @",
			setup: func(t *testing.T, dir string) {
				writeSeedFile(t, dir, "users/bob/mail/Inbox/a.eml", seedMessage("x"))
			},
			path: "users/bob",
			why:  "no '@'",
		},
		{
			name: "file in users",
			setup: func(t *testing.T, dir string) {
				writeSeedFile(t, dir, "users/README.txt", []byte("x"))
			},
			path: "users/README.txt",
			why:  "not a user folder",
		},
		{
			name: "name OneDrive rejects",
			setup: func(t *testing.T, dir string) {
				writeSeedFile(t, dir, user+"/onedrive/Docs/what?.txt", []byte("x"))
			},
			path: user + "/onedrive/Docs/what?.txt",
			why:  "OneDrive does not accept this name",
		},
		{
			name: "names differing only in case",
			setup: func(t *testing.T, dir string) {
				writeSeedFile(t, dir, user+"/onedrive/Notes.txt", []byte("a"))
				writeSeedFile(t, dir, user+"/onedrive/notes.txt", []byte("b"))
			},
			path: user + "/onedrive/notes.txt",
			why:  "differ only in case",
		},
		{
			name: "message too large",
			setup: func(t *testing.T, dir string) {
				p := writeSeedFile(t, dir, user+"/mail/Inbox/huge.eml", seedMessage("x"))
				if err := os.Truncate(p, MaxSeedMessageSize+1); err != nil { // sparse: no disk used
					t.Fatal(err)
				}
			},
			path: user + "/mail/Inbox/huge.eml",
			why:  "over the 157286400-byte limit",
		},
		{
			name: "message outside a folder",
			setup: func(t *testing.T, dir string) {
				writeSeedFile(t, dir, user+"/mail/loose.eml", seedMessage("x"))
			},
			path: user + "/mail/loose.eml",
			why:  "outside a mail folder",
		},
		{
			name: "not a message below mail",
			setup: func(t *testing.T, dir string) {
				writeSeedFile(t, dir, user+"/mail/Inbox/notes.txt", []byte("x"))
			},
			path: user + "/mail/Inbox/notes.txt",
			why:  "not a message",
		},
		{
			name: "bad sidecar",
			setup: func(t *testing.T, dir string) {
				writeSeedFile(t, dir, user+"/mail/Inbox/good.eml.json", []byte(`{"isRead": "yes"}`))
			},
			path: user + "/mail/Inbox/good.eml.json",
			why:  "not valid message properties",
		},
		{
			name: "sidecar without message",
			setup: func(t *testing.T, dir string) {
				writeSeedFile(t, dir, user+"/mail/Inbox/gone.eml.json", []byte(`{}`))
			},
			path: user + "/mail/Inbox/gone.eml.json",
			why:  "without a message",
		},
		{
			name: "unexpected folder in a user folder",
			setup: func(t *testing.T, dir string) {
				mkdirSeed(t, dir, user+"/calendar")
			},
			path: user + "/calendar",
			why:  "holds only the folders mail and onedrive",
		},
		{
			name: "malformed tenant.json",
			setup: func(t *testing.T, dir string) {
				writeSeedFile(t, dir, "tenant.json", []byte(`{"name": "x", "users": [{"upn": "nobody"}]}`))
			},
			path: "tenant.json",
			why:  "no '@'",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			// A valid seed, then the one thing wrong with it.
			writeSeedFile(t, dir, user+"/mail/Inbox/good.eml", seedMessage("Good"))
			writeSeedFile(t, dir, user+"/onedrive/ok.txt", []byte("ok"))
			tc.setup(t, dir)

			tn := NewTenant("T", "fabrikam.test", nil)
			err := Import(dir, tn)
			if err == nil {
				t.Fatal("no error")
			}
			var se *SeedError
			if !errors.As(err, &se) || len(se.Problems) == 0 {
				t.Fatalf("error %T %v is not a *SeedError", err, err)
			}
			msg := err.Error()
			t.Log(msg)
			if !strings.Contains(msg, strconv.Quote(tc.path)) {
				t.Errorf("error does not name %s:\n%s", strconv.Quote(tc.path), msg)
			}
			if !strings.Contains(msg, tc.why) {
				t.Errorf("error does not say %q:\n%s", tc.why, msg)
			}
			if !strings.Contains(msg, strconv.Quote(dir)) {
				t.Errorf("error does not name the seed folder:\n%s", msg)
			}
			if n := len(tn.Users()); n != 0 {
				t.Errorf("a failed import changed the tenant: %d users", n)
			}
			if _, err := ImportTenant(dir); err == nil {
				t.Error("ImportTenant accepted what Import refused")
			}
		})
	}
}

func TestImportReportsEveryProblem(t *testing.T) {
	dir := t.TempDir()
	const user = "users/anna@fabrikam.test"
	writeSeedFile(t, dir, user+"/mail/Inbox/a.eml", []byte("not mime"))
	writeSeedFile(t, dir, user+"/mail/Inbox/b.eml", []byte("\x00\x01binary"))
	writeSeedFile(t, dir, user+"/onedrive/x\xfe.txt", []byte("x"))
	err := Import(dir, NewTenant("T", "t.test", nil))
	var se *SeedError
	if !errors.As(err, &se) || len(se.Problems) != 3 {
		t.Fatalf("want 3 problems, got %v", err)
	}
	if !strings.Contains(err.Error(), "has 3 problems") {
		t.Errorf("summary missing:\n%v", err)
	}
	for _, p := range []string{"a.eml", "b.eml", `x\xfe.txt`} {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("%s not named:\n%v", p, err)
		}
	}
	if os.Geteuid() != 0 {
		// errors.Is sees through to the cause of each problem.
		locked := writeSeedFile(t, dir, user+"/onedrive/locked.txt", []byte("x"))
		if err := os.Chmod(locked, 0); err != nil {
			t.Fatal(err)
		}
		if err := Import(dir, NewTenant("T", "t.test", nil)); !errors.Is(err, fs.ErrPermission) {
			t.Errorf("errors.Is(err, fs.ErrPermission) = false for %v", err)
		}
	}
}

func TestImportMissingFolder(t *testing.T) {
	for _, dir := range []string{filepath.Join(t.TempDir(), "nope"), t.TempDir()} {
		_, err := ImportTenant(dir)
		if err == nil || !strings.Contains(err.Error(), strconv.Quote(dir)) {
			t.Errorf("ImportTenant(%s) = %v", dir, err)
		}
	}
}
