package restore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/repo"
)

// A file edited three times across four backups restores as each of its
// four versions, chosen by the time of each backup.
func TestPointInTime(t *testing.T) {
	e := newSimEnv(t, nil)
	base := time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)
	var contents [][]byte
	var mods []time.Time
	for i := range 4 {
		data := bytes.Repeat([]byte(fmt.Sprintf("budget version %d\n", i)), 1000*(i+1))
		mod := base.Add(time.Duration(i) * 24 * time.Hour)
		if _, err := e.tn.PutFile(e.upn, "Documents/budget.xlsx", m365sim.BytesContent(data), mod); err != nil {
			t.Fatal(err)
		}
		contents, mods = append(contents, data), append(mods, mod)
		e.backup()
		time.Sleep(5 * time.Millisecond) // distinct snapshot times
	}
	it, err := e.tn.DriveItemByPath(e.upn, "Documents/budget.xlsx")
	if err != nil {
		t.Fatal(err)
	}
	ref := catalog.ItemRef{Account: e.acct.HomeID, Kind: catalog.KindFile, ID: it.ID}
	vs, err := e.c.Versions(t.Context(), ref)
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 4 {
		t.Fatalf("%d versions, want 4", len(vs))
	}
	snaps, err := e.c.Snapshots(t.Context(), e.acct.HomeID, catalog.SnapshotOneDrive)
	if err != nil {
		t.Fatal(err)
	}
	if len(snaps) != 4 {
		t.Fatalf("%d snapshots", len(snaps))
	}
	for i, s := range snaps {
		v, err := VersionAt(t.Context(), e.c, ref, s.Time)
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		restoreTo(t, e.r, dir, []catalog.VersionInfo{v}, Options{})
		p := filepath.Join(dir, "OneDrive", "Documents", "budget.xlsx")
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b, contents[i]) {
			t.Errorf("as of backup %d: got %q…, want version %d", i+1, b[:20], i)
		}
		fi, _ := os.Stat(p)
		if !fi.ModTime().Equal(mods[i]) {
			t.Errorf("as of backup %d: modified %v, want %v", i+1, fi.ModTime(), mods[i])
		}
	}
	// Before the first backup there was nothing.
	if _, err := VersionAt(t.Context(), e.c, ref, snaps[0].Time.Add(-time.Hour)); !errors.Is(err, catalog.ErrNoSnapshot) {
		t.Errorf("before the first backup: %v", err)
	}
}

func conflictItems(t *testing.T) (*fakeBackup, []catalog.VersionInfo, map[string][]byte) {
	f := newFakeBackup(t)
	when := time.Date(2026, 2, 2, 10, 0, 0, 0, time.UTC)
	items := []fakeItem{
		{id: "a", folder: "Documents", name: "budget.xlsx", data: []byte("budget"), time: when},
		{id: "b", folder: "Documents", name: "notes.txt", data: []byte("notes"), time: when},
		{id: "c", folder: "", name: "README", data: []byte("readme"), time: when},
	}
	vs := f.snapshot(catalog.KindFile, items)
	want := map[string][]byte{}
	for _, it := range items {
		want[filepath.ToSlash(filepath.Join("OneDrive", it.folder, it.name))] = it.data
	}
	return f, vs, want
}

// The three conflict policies, and a dry run that changes nothing and is
// exactly what the real run then does.
func TestConflictsAndDryRun(t *testing.T) {
	f, items, want := conflictItems(t)
	dir := t.TempDir()
	pl, _ := restoreTo(t, f.r, dir, items, Options{})
	if c := pl.Counts(); c[ActionCreate] != 3 || len(c) != 1 {
		t.Fatalf("first restore: %v", c)
	}
	if got := files(t, dir); !mapsEqual(got, want) {
		t.Fatalf("first restore wrote %v", got)
	}

	d, err := ToDir(dir, DirOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	plan := func(c Conflict) (*Restorer, *Plan) {
		t.Helper()
		r := New(Options{Content: f.r, Conflict: c})
		before := tree(t, dir)
		pl, err := r.Plan(t.Context(), d, items)
		if err != nil {
			t.Fatal(err)
		}
		if after := tree(t, dir); !slices.Equal(before, after) {
			t.Fatalf("planning (a dry run) changed the folder: %v → %v", before, after)
		}
		return r, pl
	}

	// Rename: keep both, "name (1).ext", exactly as planned.
	r, pl := plan(ConflictRename)
	var paths []string
	for _, s := range pl.Steps {
		if s.Action != ActionRename {
			t.Errorf("%s: %s, want rename", s.Path, s.Action)
		}
		paths = append(paths, s.Path)
	}
	slices.Sort(paths)
	if want := []string{"OneDrive/Documents/budget (1).xlsx", "OneDrive/Documents/notes (1).txt", "OneDrive/README (1)"}; !slices.Equal(paths, want) {
		t.Errorf("planned %v, want %v", paths, want)
	}
	res, err := r.Execute(t.Context(), pl)
	if err != nil || len(res.Failures) > 0 || len(res.Done) != 3 {
		t.Fatalf("rename run: %v %+v", err, res)
	}
	got := files(t, dir)
	for _, s := range pl.Steps {
		if !bytes.Equal(got[s.Path], want[strings.Replace(s.Path, " (1)", "", 1)]) {
			t.Errorf("%s holds %q", s.Path, got[s.Path])
		}
	}
	if len(got) != 6 {
		t.Errorf("after rename: %d files, want 6", len(got))
	}

	// Overwrite: the damaged original is replaced; nothing new appears.
	damaged := filepath.Join(dir, "OneDrive", "Documents", "budget.xlsx")
	if err := os.WriteFile(damaged, []byte("encrypted by ransomware"), 0o644); err != nil {
		t.Fatal(err)
	}
	r, pl = plan(ConflictOverwrite)
	for _, s := range pl.Steps {
		if s.Action != ActionOverwrite || strings.Contains(s.Path, "(1)") {
			t.Errorf("overwrite plan: %s %s", s.Action, s.Path)
		}
	}
	if res, err := r.Execute(t.Context(), pl); err != nil || len(res.Done) != 3 {
		t.Fatalf("overwrite run: %v %+v", err, res)
	}
	if b, _ := os.ReadFile(damaged); string(b) != "budget" {
		t.Errorf("overwritten file holds %q", b)
	}
	if n := len(files(t, dir)); n != 6 {
		t.Errorf("after overwrite: %d files, want 6", n)
	}

	// Skip: nothing is written.
	if err := os.WriteFile(damaged, []byte("newer edit"), 0o644); err != nil {
		t.Fatal(err)
	}
	before := files(t, dir)
	r, pl = plan(ConflictSkip)
	if c := pl.Counts(); c[ActionSkip] != 3 || pl.Items != 0 {
		t.Errorf("skip plan: %v, %d items", c, pl.Items)
	}
	if res, err := r.Execute(t.Context(), pl); err != nil || len(res.Skipped) != 3 || len(res.Done) != 0 {
		t.Fatalf("skip run: %v %+v", err, res)
	}
	if after := files(t, dir); !mapsEqual(before, after) {
		t.Error("skip changed files")
	}

	// Something appearing between plan and run is never overwritten.
	dir2 := t.TempDir()
	d2, err := ToDir(dir2, DirOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	r = New(Options{Content: f.r})
	pl, err = r.Plan(t.Context(), d2, items[:1])
	if err != nil {
		t.Fatal(err)
	}
	intruder := filepath.Join(dir2, filepath.FromSlash(pl.Steps[0].Path))
	if err := os.MkdirAll(filepath.Dir(intruder), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(intruder, []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err = r.Execute(t.Context(), pl)
	if err != nil || len(res.Failures) != 1 || !errors.Is(res.Failures[0].Err, ErrChanged) {
		t.Fatalf("changed destination: %v %+v", err, res)
	}
	if b, _ := os.ReadFile(intruder); string(b) != "mine" {
		t.Errorf("the file that appeared was replaced: %q", b)
	}
	if got := tree(t, dir2); !slices.Equal(got, []string{"OneDrive/", pl.Steps[0].Path}) { // no temporary file left
		t.Errorf("left behind: %v", got)
	}
}

func mapsEqual(a, b map[string][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || !bytes.Equal(v, w) {
			return false
		}
	}
	return true
}

// countingSource counts the items read from the repository.
type countingSource struct {
	r     *repo.Repository
	opens atomic.Int64
}

func (c *countingSource) OpenStream(ctx context.Context, ref repo.ContentRef) io.ReadCloser {
	c.opens.Add(1)
	return c.r.OpenStream(ctx, ref)
}

// A bulk restore cancelled midway, run again, finishes the rest without
// doing anything twice.
func TestResume(t *testing.T) {
	f := newFakeBackup(t)
	const n = 40
	var fi []fakeItem
	for i := range n {
		fi = append(fi, fakeItem{id: fmt.Sprintf("f%02d", i), folder: fmt.Sprintf("Folder %d", i%4), name: fmt.Sprintf("file %02d.bin", i),
			data: bytes.Repeat([]byte{byte(i)}, 20_000+i), time: time.Date(2026, 1, 1, 0, i, 0, 0, time.UTC)})
	}
	items := f.snapshot(catalog.KindFile, fi)
	dir := t.TempDir()
	journal := filepath.Join(t.TempDir(), "journals", "restore.journal")
	src := &countingSource{r: f.r}

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var progress []Progress
	d, err := ToDir(dir, DirOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	r := New(Options{Content: src, Journal: journal, Workers: 3, OnProgress: func(p Progress) {
		progress = append(progress, p)
		if p.ItemsDone >= 10 {
			cancel()
		}
	}})
	pl, err := r.Plan(ctx, d, items)
	if err != nil {
		t.Fatal(err)
	}
	if pl.Items != n || pl.Bytes == 0 {
		t.Fatalf("plan: %d items, %d bytes", pl.Items, pl.Bytes)
	}
	res, err := r.Execute(ctx, pl)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: %v", err)
	}
	done := len(res.Done)
	if done < 10 || done >= n {
		t.Fatalf("interrupted run finished %d of %d", done, n)
	}
	last := progress[len(progress)-1]
	if last.ItemsTotal != n || last.BytesTotal != pl.Bytes || last.BytesDone == 0 {
		t.Errorf("progress: %+v", last)
	}
	if got := len(files(t, dir)); got != done {
		t.Fatalf("%d files on disk after %d done", got, done)
	}
	opened := src.opens.Load()

	// Run again: a new plan marks what was done; the rest is written once.
	r2 := New(Options{Content: src, Journal: journal, Workers: 3})
	pl2, err := r2.Plan(t.Context(), d, items)
	if err != nil {
		t.Fatal(err)
	}
	if c := pl2.Counts(); c[ActionDone] != done || c[ActionCreate] != n-done {
		t.Fatalf("resumed plan: %v (done before: %d)", c, done)
	}
	res2, err := r2.Execute(t.Context(), pl2)
	if err != nil || len(res2.Failures) > 0 {
		t.Fatalf("resumed run: %v %+v", err, res2.Failures)
	}
	if got := src.opens.Load() - opened; got != int64(n-done) {
		t.Errorf("resumed run read %d items, want %d", got, n-done)
	}
	got := files(t, dir)
	if len(got) != n {
		t.Errorf("%d files, want %d", len(got), n)
	}
	for p := range got {
		if strings.Contains(p, "(1)") || strings.Contains(p, ".lifeboat-") {
			t.Errorf("restored twice or left over: %s", p)
		}
	}
	for _, it := range fi {
		p := "OneDrive/" + it.folder + "/" + it.name
		if !bytes.Equal(got[p], it.data) {
			t.Errorf("%s: wrong bytes", p)
		}
	}
	if _, err := os.Stat(journal); !os.IsNotExist(err) {
		t.Errorf("journal left after a complete restore: %v", err)
	}
}

// A journal line torn by a crash is ignored and does not corrupt the
// lines written after it.
func TestJournalTornLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j")
	v1 := catalog.VersionInfo{ID: 1, Item: catalog.ItemRef{Account: "a", Kind: catalog.KindFile, ID: "x"}}
	v2 := catalog.VersionInfo{ID: 2, Item: catalog.ItemRef{Account: "a", Kind: catalog.KindFile, ID: "y"}}
	j, err := openJournal(path, "dest")
	if err != nil {
		t.Fatal(err)
	}
	if err := j.add(v1); err != nil {
		t.Fatal(err)
	}
	j.close()
	fh, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	fh.WriteString("0123456789abcdef") // torn
	fh.Close()
	j, err = openJournal(path, "dest")
	if err != nil {
		t.Fatal(err)
	}
	if err := j.add(v2); err != nil {
		t.Fatal(err)
	}
	j.close()
	d, err := readJournal(path, "dest")
	if err != nil {
		t.Fatal(err)
	}
	if !d.has(journalEntry(v1)) || !d.has(journalEntry(v2)) || len(d.lines) != 2 {
		t.Errorf("journal read back %d lines; v1 %v v2 %v", len(d.lines), d.has(journalEntry(v1)), d.has(journalEntry(v2)))
	}
	if other, _ := readJournal(path, "another destination"); other.has(journalEntry(v1)) {
		t.Error("an entry counts for another destination")
	}
}
