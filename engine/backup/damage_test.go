package backup

import (
	"bytes"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/lifeboat-backup/lifeboat/engine/repo"
	"github.com/lifeboat-backup/lifeboat/engine/store"
)

// blobSpan is where a blob lies in its pack.
type blobSpan struct {
	id          repo.ID
	pack        repo.ID
	off, length int64
}

// TestDamageEveryKindOfFile flips bits in, and truncates, every kind of
// file of a real backup (data, index, snapshots, keys, config and the
// catalog copy's data): every damage is reported (by verify --read-data,
// or by the backup refusing to open), the emails and files it touches are
// named, everything else restores byte-identical, and Salvage leaves an
// index of exactly what can still be read.
func TestDamageEveryKindOfFile(t *testing.T) {
	ctx := t.Context()
	pristine := filepath.Join(t.TempDir(), "backup")
	if err := os.Mkdir(pristine, 0o700); err != nil {
		t.Fatal(err)
	}
	e := newEnvAt(t, pristine)
	e.addRandomFiles(4, "Contracts", 8, 300<<10)
	res := e.mustRun(nil)
	mail, drive := e.contents(res, KindMail), e.contents(res, KindOneDrive)

	// Ground truth: which items each blob holds, and where every blob is.
	itemsOf := map[repo.ID][]string{}
	want := map[string][]byte{} // item id → bytes in Microsoft 365
	msgs, _ := e.tn.Messages(e.upn, "")
	for _, m := range msgs {
		want[m.ID] = m.MIME
	}
	items, _ := e.tn.DriveItems(e.upn)
	for _, it := range items {
		if !it.Folder {
			b, _ := io.ReadAll(it.Content.Open())
			want[it.ID] = b
		}
	}
	var blobs []repo.ID
	for _, f := range mail.Folders {
		for _, m := range f.Messages {
			for _, c := range m.Content.Chunks {
				itemsOf[c] = append(itemsOf[c], m.ID)
			}
		}
	}
	for _, f := range drive.Files {
		if f.Content != nil {
			for _, c := range f.Content.Chunks {
				itemsOf[c] = append(itemsOf[c], f.ID)
			}
		}
	}
	for id := range itemsOf {
		blobs = append(blobs, id)
	}
	catSnap, err := e.r.LoadSnapshot(ctx, res.Snapshots[KindCatalog])
	if err != nil {
		t.Fatal(err)
	}
	catRoot, err := loadRoot(ctx, e.r, catSnap.Root)
	if err != nil {
		t.Fatal(err)
	}
	blobs = append(blobs, catRoot.Catalog.Chunks...)
	var spans []blobSpan
	for _, id := range blobs {
		loc, ok := e.r.LookupBlob(id)
		if !ok {
			t.Fatalf("blob %s not indexed", id.Short())
		}
		spans = append(spans, blobSpan{id: id, pack: loc.Pack, off: int64(loc.Offset), length: int64(loc.Length)})
	}
	e.r.Close()

	files := map[string][]string{}
	err = filepath.WalkDir(pristine, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(pristine, p)
		rel = filepath.ToSlash(rel)
		kind, _, _ := strings.Cut(rel, "/")
		if kind == "README.txt" {
			return nil
		}
		files[kind] = append(files[kind], rel)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"data", "index", "snapshots", "keys", "config"} {
		if len(files[k]) == 0 {
			t.Fatalf("no %s files in the backup: %v", k, files)
		}
	}

	rnd := rand.New(rand.NewPCG(20261207, 19))
	trials := 6
	if testing.Short() {
		trials = 3
	}
	injected, found, named, restored, lost := 0, 0, 0, 0, 0
	for _, kind := range []string{"data", "index", "snapshots", "keys", "config", "catalog"} {
		for trial := range trials {
			dir := filepath.Join(t.TempDir(), "backup")
			if err := os.CopyFS(dir, os.DirFS(pristine)); err != nil {
				t.Fatal(err)
			}
			// Choose the file and the damage.
			var name string
			var span *blobSpan
			if kind == "catalog" {
				i := slices.IndexFunc(spans, func(s blobSpan) bool { return slices.Contains(catRoot.Catalog.Chunks, s.id) })
				span = &spans[i]
				name = "data/" + span.pack.String()[:2] + "/" + span.pack.String()
			} else {
				name = files[kind][rnd.IntN(len(files[kind]))]
			}
			path := filepath.Join(dir, filepath.FromSlash(name))
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			truncate := trial%3 == 2
			var off int64
			switch {
			case span != nil && !truncate:
				off = span.off + rnd.Int64N(span.length)
			default:
				off = rnd.Int64N(int64(len(b)))
			}
			how := "bit flip"
			if truncate {
				how = "truncation"
				b = b[:off]
			} else {
				b[off] ^= 1 << rnd.IntN(8)
			}
			if err := os.WriteFile(path, b, 0o600); err != nil {
				t.Fatal(err)
			}
			injected++
			what := how + " in " + name + " at " + strconv.FormatInt(off, 10)

			// The damaged blobs, by the ground truth.
			var hitBlobs []repo.ID
			if kind == "data" || kind == "catalog" {
				pid := filepath.Base(name)
				for _, s := range spans {
					if s.pack.String() != pid {
						continue
					}
					if (!truncate && off >= s.off && off < s.off+s.length) || (truncate && s.off+s.length > off) {
						hitBlobs = append(hitBlobs, s.id)
					}
				}
			}

			st, err := store.NewLocal(dir)
			if err != nil {
				t.Fatal(err)
			}
			r, err := repo.Open(ctx, st, e.key, repo.TestOptions())
			if err != nil {
				found++ // the backup says it is damaged and refuses to open
				if kind != "keys" && kind != "config" {
					t.Errorf("%s: the backup no longer opens: %v", what, err)
				}
				t.Logf("%s: refused to open: %v", what, err)
				continue
			}
			rep, err := r.Check(ctx, repo.CheckOptions{ReadData: true, Refs: Refs})
			if err != nil {
				t.Fatalf("%s: check did not run: %v", what, err)
			}
			if rep.OK() {
				t.Errorf("%s: verify --read-data found nothing", what)
				r.Close()
				continue
			}
			found++
			damaged := r.DamagedBlobs(rep)
			var unreadable []repo.ID
			for _, p := range rep.Problems {
				if !p.Snapshot.IsZero() && p.Blob.IsZero() {
					unreadable = append(unreadable, p.Snapshot)
				}
			}
			aff, err := AffectedItems(ctx, r, damaged, unreadable)
			if err != nil {
				t.Fatal(err)
			}
			inCat, err := AffectedInCatalog(ctx, e.c, damaged)
			if err != nil {
				t.Fatal(err)
			}
			aff = append(aff, inCat...)
			catalogCopy := false
			for _, s := range rep.Problems {
				// The catalog snapshot's own tree reads the copy: a
				// damaged chunk of it is named, a damaged root too.
				if s.Snapshot == res.Snapshots[KindCatalog] {
					catalogCopy = true
				}
			}
			affected := map[string]bool{}
			for _, a := range aff {
				affected[a.ItemID] = true
			}
			for _, bid := range hitBlobs {
				if !damaged[bid] {
					t.Errorf("%s: blob %s is damaged but not reported", what, bid.Short())
				}
				for _, item := range itemsOf[bid] {
					if !affected[item] {
						t.Errorf("%s: item %s is damaged but not named", what, item)
					}
					named++
				}
				if slices.Contains(catRoot.Catalog.Chunks, bid) && !catalogCopy && !slices.ContainsFunc(aff, func(a Affected) bool {
					return a.What == "catalog copy" || (a.What == "snapshot" && a.Snapshot == res.Snapshots[KindCatalog])
				}) {
					t.Errorf("%s: the catalog copy is damaged but not named", what)
				}
			}
			if len(aff) > 0 {
				t.Logf("%s: %d problems; affected: %s", what, len(rep.Problems), aff[0])
			}

			// Everything not named restores byte-identical.
			restored += restoreUndamaged(t, r, res, affected, want, what)

			// Salvage: what stays indexed is exactly what reads.
			sv, err := r.Salvage(ctx)
			if err != nil {
				t.Fatalf("%s: salvage: %v", what, err)
			}
			for _, bid := range hitBlobs {
				if !slices.Contains(sv.Lost, bid) {
					t.Errorf("%s: salvage kept damaged blob %s indexed", what, bid.Short())
				}
			}
			lost += len(sv.Lost)
			after, err := r.Check(ctx, repo.CheckOptions{ReadData: true, Refs: Refs})
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range after.Problems {
				if p.Severity == repo.Error && (strings.Contains(p.Err.Error(), "blob is damaged") || strings.Contains(p.Err.Error(), "beyond the end") ||
					kind == "index") {
					t.Errorf("%s: after salvage: %s", what, p)
				}
			}
			r.Close()
		}
	}
	t.Logf("damage found in %d of %d injected (bit flips and truncations in %d kinds of file); %d damaged items named; %d undamaged items restored byte-identical; salvage dropped %d unreadable blobs",
		found, injected, 6, named, restored, lost)
	if found != injected {
		t.Errorf("found %d of %d", found, injected)
	}
}

// restoreUndamaged reads every email and file of the run's snapshots that
// AffectedItems did not name and compares it with Microsoft 365's bytes.
func restoreUndamaged(t *testing.T, r *repo.Repository, res Result, affected map[string]bool, want map[string][]byte, what string) int {
	t.Helper()
	n := 0
	read := func(ref repo.ContentRef) ([]byte, error) {
		rc := r.OpenStream(t.Context(), ref)
		defer rc.Close()
		return io.ReadAll(rc)
	}
	for _, kind := range []string{KindMail, KindOneDrive} {
		c, err := ReadSnapshot(t.Context(), r, res.Snapshots[kind])
		if err != nil {
			continue // its list is damaged: named as such
		}
		for _, f := range c.Folders {
			for _, m := range f.Messages {
				if affected[m.ID] {
					continue
				}
				if b, err := read(m.Content); err != nil || !bytes.Equal(b, want[m.ID]) {
					t.Errorf("%s: undamaged email %q does not restore: %v", what, m.Subject, err)
				}
				n++
			}
		}
		for _, f := range c.Files {
			if f.Content == nil || affected[f.ID] {
				continue
			}
			if b, err := read(*f.Content); err != nil || !bytes.Equal(b, want[f.ID]) {
				t.Errorf("%s: undamaged file %s does not restore: %v", what, f.Name, err)
			}
			n++
		}
	}
	return n
}
