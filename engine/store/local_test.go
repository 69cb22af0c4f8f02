package store_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/store"
	"github.com/lifeboat-backup/lifeboat/engine/store/storetest"
)

// newLocal returns a Local in a fresh folder and, when the test ends, checks
// that no temp file was left behind, whatever the test did.
func newLocal(t *testing.T) *store.Local {
	t.Helper()
	dir := t.TempDir()
	l, err := store.NewLocal(dir)
	if err != nil {
		t.Fatalf("NewLocal: %v", err)
	}
	t.Cleanup(func() {
		if tmps := tempFiles(t, dir); len(tmps) > 0 {
			t.Errorf("temp files left behind: %q", tmps)
		}
	})
	return l
}

// tempFiles lists the temp files under dir.
func tempFiles(t *testing.T, dir string) []string {
	t.Helper()
	var found []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasPrefix(d.Name(), ".tmp-") {
			found = append(found, p)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walking %s: %v", dir, err)
	}
	return found
}

// files lists every regular file under dir, as slash-separated relative paths.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var found []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			rel, _ := filepath.Rel(dir, p)
			found = append(found, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walking %s: %v", dir, err)
	}
	slices.Sort(found)
	return found
}

func TestLocal(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return newLocal(t) })
}

func TestNewLocal(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		dir     string
		wantErr error // nil: any error
	}{
		{"missing", filepath.Join(dir, "not-mounted"), fs.ErrNotExist},
		{"missing-parent", filepath.Join(dir, "a", "b"), fs.ErrNotExist},
		{"file", file, nil},
		{"empty", "", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l, err := store.NewLocal(tc.dir)
			if err == nil {
				t.Fatalf("NewLocal(%q) = %v, want an error", tc.dir, l.Root())
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("NewLocal(%q) = %v, want %v", tc.dir, err, tc.wantErr)
			}
		})
	}
	// Nothing was created for the missing folders.
	if got := files(t, dir); !slices.Equal(got, []string{"file"}) {
		t.Fatalf("NewLocal created files: %q", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "not-mounted")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("NewLocal created the missing folder: %v", err)
	}
}

// A relative folder is resolved once, so changing directory later does not
// move the store.
func TestNewLocalRelative(t *testing.T) {
	base := t.TempDir()
	if err := os.Mkdir(filepath.Join(base, "repo"), 0o700); err != nil {
		t.Fatal(err)
	}
	t.Chdir(base)
	l, err := store.NewLocal("repo")
	if err != nil {
		t.Fatal(err)
	}
	if !filepath.IsAbs(l.Root()) {
		t.Fatalf("Root() = %q, want an absolute path", l.Root())
	}
	t.Chdir(t.TempDir())
	storetest.MustPut(t, l, "config", []byte("c"))
	if _, err := os.Stat(filepath.Join(base, "repo", "config")); err != nil {
		t.Fatalf("object not where the store was opened: %v", err)
	}
}

// Objects are plain files at their names, so a person (or an independent
// reader) can find them.
func TestLocalLayout(t *testing.T) {
	l := newLocal(t)
	storetest.MustPut(t, l, "data/3f/3fab", []byte("pack"))
	storetest.MustPut(t, l, "config", []byte("cfg"))
	got, err := os.ReadFile(filepath.Join(l.Root(), "data", "3f", "3fab"))
	if err != nil || string(got) != "pack" {
		t.Fatalf("file on disk = %q, %v", got, err)
	}
	if fs := files(t, l.Root()); !slices.Equal(fs, []string{"config", "data/3f/3fab"}) {
		t.Fatalf("files on disk = %q", fs)
	}
	if runtime.GOOS != "windows" {
		fi, err := os.Stat(filepath.Join(l.Root(), "data", "3f", "3fab"))
		if err != nil {
			t.Fatal(err)
		}
		if perm := fi.Mode().Perm(); perm&0o077 != 0 {
			t.Errorf("object permissions %v, want no access for others", perm)
		}
	}
}

// A Put whose reader fails midway leaves no object and no file of any kind.
func TestLocalFailedPutLeavesNothing(t *testing.T) {
	l := newLocal(t)
	storetest.MustPut(t, l, "data/aa/keep", []byte("keep"))
	data := storetest.Data(1, 1<<20)
	for _, name := range []string{"data/aa/new", "data/bb/cc/new", "data/aa/keep"} {
		err := l.Put(context.Background(), name, &brokenReader{data: data, failAt: 300_000}, int64(len(data)))
		if !errors.Is(err, errBroken) {
			t.Fatalf("Put(%q) = %v, want the reader's error", name, err)
		}
	}
	if got := files(t, l.Root()); !slices.Equal(got, []string{"data/aa/keep"}) {
		t.Fatalf("files after failed Puts = %q, want only data/aa/keep", got)
	}
	if got := string(storetest.MustGet(t, l, "data/aa/keep")); got != "keep" {
		t.Fatalf("replaced object damaged: %.20q", got)
	}
}

// Temp files from a crashed Put are never listed, are not reachable as
// objects, and CleanTemp removes those older than asked.
func TestLocalLeftoverTempFiles(t *testing.T) {
	l := newLocal(t)
	storetest.MustPut(t, l, "data/3f/3fab", []byte("object"))

	old := time.Now().Add(-3 * time.Hour)
	leftovers := map[string]time.Time{
		filepath.Join("data", "3f", ".tmp-1234"):  old,        // crash in a data folder
		".tmp-5678":                               old,        // crash at the top
		filepath.Join("data", "3f", ".tmp-fresh"): time.Now(), // a Put in progress elsewhere
	}
	for rel, mtime := range leftovers {
		p := filepath.Join(l.Root(), rel)
		if err := os.WriteFile(p, []byte("half a pack"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}

	for _, prefix := range []string{"", "data/", "data/3f/", "data/3f/.", "."} {
		names := storetest.Names(t, l, prefix)
		for _, n := range names {
			if strings.Contains(n, ".tmp-") {
				t.Errorf("List(%q) reported temp file %q", prefix, n)
			}
		}
	}
	if _, err := l.Stat(context.Background(), "data/3f/.tmp-1234"); !errors.Is(err, store.ErrInvalidName) {
		t.Errorf("Stat of a temp file = %v, want ErrInvalidName", err)
	}

	n, err := l.CleanTemp(time.Hour)
	if err != nil || n != 2 {
		t.Fatalf("CleanTemp(1h) = %d, %v; want 2 removed", n, err)
	}
	if _, err := os.Stat(filepath.Join(l.Root(), "data", "3f", ".tmp-fresh")); err != nil {
		t.Fatalf("CleanTemp removed a fresh temp file: %v", err)
	}
	n, err = l.CleanTemp(0)
	if err != nil || n != 1 {
		t.Fatalf("CleanTemp(0) = %d, %v; want 1 removed", n, err)
	}
	if got := files(t, l.Root()); !slices.Equal(got, []string{"data/3f/3fab"}) {
		t.Fatalf("files after CleanTemp = %q", got)
	}
}

// Hostile names never reach outside the store's folder.
func TestLocalHostileNamesStayInside(t *testing.T) {
	parent := t.TempDir()
	root := filepath.Join(parent, "repo")
	if err := os.Mkdir(root, 0o700); err != nil {
		t.Fatal(err)
	}
	secret := filepath.Join(parent, "secret")
	if err := os.WriteFile(secret, []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := store.NewLocal(root)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, h := range storetest.HostileNames() {
		_ = l.Put(ctx, h.Name, strings.NewReader("pwned"), 5)
		_ = l.Delete(ctx, h.Name)
	}
	for _, name := range []string{"../secret", "repo/../../secret", `..\secret`} {
		if _, err := l.Get(ctx, name, 0, -1); !errors.Is(err, store.ErrInvalidName) {
			t.Errorf("Get(%q) = %v, want ErrInvalidName", name, err)
		}
	}
	if got := files(t, parent); !slices.Equal(got, []string{"secret"}) {
		t.Fatalf("files around and in the store = %q, want only the untouched secret", got)
	}
	if b, _ := os.ReadFile(secret); string(b) != "secret" {
		t.Fatalf("file outside the store changed: %q", b)
	}
}

// A folder standing where an object is asked for is not an object, and
// deleting "it" must not remove the folder.
func TestLocalFolderIsNotObject(t *testing.T) {
	l := newLocal(t)
	if err := os.MkdirAll(filepath.Join(l.Root(), "data", "empty"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := l.Delete(context.Background(), "data/empty"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Delete(folder) = %v, want ErrNotFound", err)
	}
	if _, err := os.Stat(filepath.Join(l.Root(), "data", "empty")); err != nil {
		t.Fatalf("folder was removed: %v", err)
	}
	// Putting an object where a folder is fails without damage.
	if err := l.Put(context.Background(), "data/empty", bytes.NewReader([]byte("x")), 1); err == nil {
		t.Fatal("Put over a folder succeeded")
	}
}

var errBroken = errors.New("broken reader")

type brokenReader struct {
	data   []byte
	failAt int
	n      int
}

func (r *brokenReader) Read(p []byte) (int, error) {
	if r.n >= r.failAt {
		return 0, errBroken
	}
	k := copy(p[:min(len(p), r.failAt-r.n)], r.data[r.n:])
	r.n += k
	return k, nil
}
