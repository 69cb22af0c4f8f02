package restore

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
)

// Restoring to disk gives the exact MIME bytes backed up, as .eml files in
// their folders dated by their received time, and every file with its
// bytes and modification time.
func TestExportRoundTrip(t *testing.T) {
	e := newSimEnv(t, nil)
	e.backup()
	dir := t.TempDir()
	items := append(e.all(catalog.KindMail), e.all(catalog.KindFile)...)
	pl, res := restoreTo(t, e.r, dir, items, Options{})
	if len(res.Done) != len(items) || pl.Counts()[ActionCreate] != len(items) {
		t.Fatalf("done %d of %d, plan %v", len(res.Done), len(items), pl.Counts())
	}
	got := files(t, dir)

	msgs, err := e.tn.Messages(e.upn, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		folder, _ := e.tn.FolderPath(e.upn, m.FolderID)
		p := path.Join("Mail", folder, SafeName(m.Header.Subject)+".eml")
		b, ok := got[p]
		if !ok {
			t.Errorf("message %q: no %s", m.Header.Subject, p)
			continue
		}
		if !bytes.Equal(b, m.MIME) {
			t.Errorf("%s: bytes differ from the backed-up MIME", p)
		}
		delete(got, p)
	}
	tfiles, err := e.tn.DriveItems(e.upn)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]m365sim.DriveItem{}
	for _, it := range tfiles {
		byID[it.ID] = it
	}
	for _, it := range tfiles {
		if it.Folder {
			continue
		}
		var parts []string
		for cur, ok := it, true; ok && cur.ParentID != ""; cur, ok = byID[cur.ParentID] {
			parts = append([]string{cur.Name}, parts...)
		}
		p := path.Join(append([]string{"OneDrive"}, parts...)...)
		want, _ := io.ReadAll(it.Content.Open())
		b, ok := got[p]
		if !ok {
			t.Errorf("file %s missing", p)
			continue
		}
		if !bytes.Equal(b, want) {
			t.Errorf("%s: bytes differ", p)
		}
		fi, err := os.Stat(filepath.Join(dir, filepath.FromSlash(p)))
		if err != nil {
			t.Fatal(err)
		}
		if !fi.ModTime().Equal(it.FSModified) {
			t.Errorf("%s: modified %v, want %v", p, fi.ModTime(), it.FSModified)
		}
		delete(got, p)
	}
	if len(got) != 0 {
		t.Errorf("unexpected files: %v", slices.Collect(mapKeys(got)))
	}
	// A message file is dated by when it was received.
	v := items[0]
	fi, err := os.Stat(filepath.Join(dir, filepath.FromSlash(pl.Steps[0].Path)))
	if err != nil {
		t.Fatal(err)
	}
	if pl.Steps[0].Item.ID != v.ID && !fi.ModTime().Equal(pl.Steps[0].Item.Time) {
		t.Errorf("message file dated %v, received %v", fi.ModTime(), pl.Steps[0].Item.Time)
	}
	for _, s := range pl.Steps {
		if s.Item.Item.Kind != catalog.KindMail {
			continue
		}
		fi, err := os.Stat(filepath.Join(dir, filepath.FromSlash(s.Path)))
		if err != nil {
			t.Fatal(err)
		}
		if !fi.ModTime().Equal(s.Item.Time) {
			t.Errorf("%s dated %v, received %v", s.Path, fi.ModTime(), s.Item.Time)
		}
	}
}

func mapKeys[K comparable, V any](m map[K]V) func(func(K) bool) {
	return func(yield func(K) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// Hostile names from a backup (the catalog and repository are outside
// input) are restored under safe, predictable names, and nothing at all
// is written outside the chosen folder — not through "..", absolute
// names, nor a symlink planted in the destination.
func TestHostileNames(t *testing.T) {
	f := newFakeBackup(t)
	when := time.Date(2025, 12, 24, 18, 30, 0, 0, time.UTC)
	deep := strings.Repeat("Projekt Übersicht 2026 – Entwürfe und Abstimmung/", 8) // ~430 bytes of folders
	long := strings.Repeat("n", 296) + ".txt"
	fileItems := []fakeItem{
		{name: "../../evil", expectedLocal: "OneDrive/.._.._evil"},
		{name: "..", expectedLocal: "OneDrive/_"},
		{name: "/etc/passwd", expectedLocal: "OneDrive/_etc_passwd"},
		{folder: "../../outside", name: "x.txt", expectedLocal: "OneDrive/_ (1)/_/outside/x.txt"}, // "_" is the file ".."
		{folder: "/abs/olute", name: "y.txt", expectedLocal: "OneDrive/abs/olute/y.txt"},
		{folder: `C:\Windows`, name: "z.txt", expectedLocal: "OneDrive/C__Windows/z.txt"},
		{name: `a:b*c?.txt`, expectedLocal: "OneDrive/a_b_c_.txt"},
		{name: "CON", expectedLocal: "OneDrive/_CON"},
		{name: "NUL.txt", expectedLocal: "OneDrive/_NUL.txt"},
		{name: "com1.log", expectedLocal: "OneDrive/_com1.log"},
		{name: "trailing", expectedLocal: "OneDrive/trailing"},
		{name: "trailing. . ", expectedLocal: "OneDrive/trailing (1)"}, // sorts after "trailing"
		{name: "ctl\x00\x07\n.txt", expectedLocal: "OneDrive/ctl___.txt"},
		{name: long, expectedLocal: "OneDrive/" + strings.Repeat("n", MaxNameBytes-4) + ".txt"},
		{folder: strings.TrimSuffix(deep, "/"), name: "deep.txt", expectedLocal: "OneDrive/" + deep + "deep.txt"},
		{name: "cafe\u0301.txt", expectedLocal: "OneDrive/caf\u00e9.txt"},    // NFD sorts first
		{name: "caf\u00e9.txt", expectedLocal: "OneDrive/caf\u00e9 (1).txt"}, // NFC: same name, kept beside it
		{name: "Report.txt", expectedLocal: "OneDrive/Report.txt"},
		{name: "report.txt", expectedLocal: "OneDrive/report (1).txt"}, // same name on Windows and macOS
		{folder: "Docs", name: "inner", expectedLocal: "OneDrive/Docs/inner"},
		{folder: "link", name: "through-link.txt", expectedLocal: "OneDrive/link (1)/through-link.txt"},
	}
	for i := range fileItems {
		fileItems[i].id = fmt.Sprintf("file-%02d", i)
		fileItems[i].data = []byte(fmt.Sprintf("content of item %d\n", i))
		fileItems[i].time = when.Add(time.Duration(i) * time.Minute)
	}
	mailItems := []fakeItem{
		{folder: "Inbox/../..", name: "Re: ../../../etc/passwd", expectedLocal: "Mail/Inbox/_/_/Re_ .._.._.._etc_passwd.eml"},
		{folder: "Inbox", name: "", expectedLocal: "Mail/Inbox/(no subject).eml"},
		{folder: "Inbox", name: "AUX", expectedLocal: "Mail/Inbox/_AUX.eml"},
		{folder: "Inbox", name: strings.Repeat("Ä", 200), expectedLocal: "Mail/Inbox/" + strings.Repeat("Ä", (MaxNameBytes-4)/2) + ".eml"},
	}
	for i := range mailItems {
		mailItems[i].id = fmt.Sprintf("mail-%02d", i)
		mailItems[i].data = []byte(fmt.Sprintf("Subject: %d\r\n\r\nbody\r\n", i))
		mailItems[i].time = when
		mailItems[i].messageID = fmt.Sprintf("<m%d@x>", i)
	}
	items := append(f.snapshot(catalog.KindFile, fileItems), f.snapshot(catalog.KindMail, mailItems)...)

	top := t.TempDir()
	dest := filepath.Join(top, "restore", "here")
	outside := filepath.Join(top, "outside")
	for _, d := range []string{filepath.Join(dest, "OneDrive"), outside} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// A symlink in the destination pointing outside it must not be followed.
	if err := os.Symlink(outside, filepath.Join(dest, "OneDrive", "link")); err != nil {
		t.Fatal(err)
	}
	before := tree(t, top)

	_, res := restoreTo(t, f.r, dest, items, Options{})
	if len(res.Done) != len(items) {
		t.Fatalf("restored %d of %d", len(res.Done), len(items))
	}

	// The whole temporary tree: only what is expected, all below dest.
	var want []string
	want = append(want, before...)
	byID := map[string][]byte{}
	for _, it := range append(fileItems, mailItems...) {
		rel := it.expectedLocal
		want = append(want, path.Join("restore/here", rel))
		for d := path.Dir(rel); d != "."; d = path.Dir(d) {
			want = append(want, path.Join("restore/here", d)+"/")
		}
		byID[it.expectedLocal] = it.data
	}
	slices.Sort(want)
	want = slices.Compact(want)
	got := tree(t, top)
	if !slices.Equal(got, want) {
		for _, p := range got {
			if !slices.Contains(want, p) {
				t.Errorf("unexpected %s", p)
			}
		}
		for _, p := range want {
			if !slices.Contains(got, p) {
				t.Errorf("missing %s", p)
			}
		}
	}
	if ents, _ := os.ReadDir(outside); len(ents) != 0 {
		t.Errorf("something was written outside the destination: %v", ents)
	}
	for rel, data := range byID {
		b, err := os.ReadFile(filepath.Join(dest, filepath.FromSlash(rel)))
		if err != nil {
			t.Errorf("%s: %v", rel, err)
			continue
		}
		if !bytes.Equal(b, data) {
			t.Errorf("%s holds %q, want %q", rel, b, data)
		}
	}

	// A shorter path limit shortens folder names, predictably.
	dest2 := filepath.Join(top, "short")
	d, err := ToDir(dest2, DirOptions{MaxPathBytes: 400})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var deepItem catalog.VersionInfo
	for _, v := range items {
		if v.Name == "deep.txt" {
			deepItem = v
		}
	}
	// One too deep even with short folder names fails alone.
	tooDeep := deepItem
	tooDeep.Folder = strings.Repeat("Projekt Übersicht 2026 – Entwürfe und Abstimmung/", 12) + "x"
	tooDeep.ID, tooDeep.Item.ID = 0, "too-deep"
	r := New(Options{Content: f.r})
	pl, err := r.Plan(t.Context(), d, []catalog.VersionInfo{deepItem, tooDeep})
	if err != nil {
		t.Fatal(err)
	}
	if len(pl.Steps) != 1 || len(pl.Failures) != 1 || !strings.Contains(pl.Failures[0].Err.Error(), "too long") {
		t.Fatalf("plan: %d steps, failures %v", len(pl.Steps), pl.Failures)
	}
	short := truncateName("Projekt Übersicht 2026 – Entwürfe und Abstimmung", shortDirBytes)
	if p := pl.Steps[0].Path; len(p) > 400 || p != "OneDrive/"+strings.Repeat(short+"/", 8)+"deep.txt" {
		t.Errorf("shortened path %q (%d bytes)", p, len(p))
	}
	if res, err := r.Execute(t.Context(), pl); err != nil || len(res.Done) != 1 || len(res.Failures) != 1 {
		t.Fatalf("%v %+v", err, res)
	}
	if b, err := os.ReadFile(filepath.Join(dest2, filepath.FromSlash(pl.Steps[0].Path))); err != nil || !bytes.Equal(b, fileItems[14].data) {
		t.Errorf("shortened file: %q %v", b, err)
	}
}
