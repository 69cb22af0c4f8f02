package volumes

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/repo"
	"github.com/lifeboat-backup/lifeboat/engine/secret"
	"github.com/lifeboat-backup/lifeboat/engine/store"
)

// newRepo creates a real backup (engine/repo) at dir with a keychain slot
// and returns its ID.
func newRepo(t *testing.T, dir string) string {
	t.Helper()
	ctx := context.Background()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	st, err := store.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	r, _, err := repo.Init(ctx, st, repo.TestOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ks := repo.KeychainKeyStore(secret.File{Dir: t.TempDir()}, repo.DefaultKeychainService)
	if _, err := r.AddKeyStoreSlot(ctx, ks); err != nil {
		t.Fatal(err)
	}
	return r.Config().ID.String()
}

// TestFindRepositoryAfterMove: the drive comes back under another mount
// point (a new drive letter), with a decoy backup on another drive; the
// backup is found by ID, not path.
func TestFindRepositoryAfterMove(t *testing.T) {
	ctx := context.Background()
	tmp := t.TempDir()
	e, f, g := filepath.Join(tmp, "E"), filepath.Join(tmp, "F"), filepath.Join(tmp, "G")
	for _, d := range []string{e, f, g} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	orig := filepath.Join(e, "Backups", "Lifeboat")
	id := newRepo(t, orig)
	decoy := newRepo(t, filepath.Join(g, "Lifeboat"))
	if decoy[:16] == id[:16] {
		t.Fatal("two random IDs share a prefix")
	}
	opts := FindOptions{Roots: []string{e, f, g}}

	got, err := FindRepository(ctx, id, opts)
	if err != nil || got != orig {
		t.Fatalf("before the move: %q, %v; want %q", got, err, orig)
	}
	// Unplugged: not found, with the sentinel error the app maps to
	// "destination missing".
	moved := filepath.Join(tmp, "unplugged")
	if err := os.Rename(e, moved); err != nil {
		t.Fatal(err)
	}
	if _, err := FindRepository(ctx, id, opts); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unplugged: %v", err)
	}
	// Plugged in again as F:, the folder now at F/Backups/Lifeboat.
	if err := os.Remove(f); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(moved, f); err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(f, "Backups", "Lifeboat")
	if got, err := FindRepository(ctx, strings.ToUpper(id), opts); err != nil || got != want {
		t.Fatalf("after the move: %q, %v; want %q", got, err, want)
	}
	// The full ID in the backup's encrypted config is the same.
	st, err := store.NewLocal(want)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := repo.Open(ctx, st, "", repo.TestOptions()); err == nil {
		t.Fatal("opened without a key")
	}
	if !IsRepository(want, id) || IsRepository(want, decoy) || IsRepository(orig, id) || IsRepository(want, "ab") {
		t.Error("IsRepository disagrees with FindRepository")
	}
	if got, err := FindRepository(ctx, decoy, opts); err != nil || got != filepath.Join(g, "Lifeboat") {
		t.Fatalf("decoy: %q, %v", got, err)
	}
	// Too deep is not searched.
	if _, err := FindRepository(ctx, id, FindOptions{Roots: []string{f}, MaxDepth: 1}); !errors.Is(err, ErrNotFound) {
		t.Errorf("depth 1 found a backup two levels down: %v", err)
	}
	for _, bad := range []string{"", "abc", "zzzzzzzzzzzzzzzzzzzz"} {
		if _, err := FindRepository(ctx, bad, opts); err == nil || errors.Is(err, ErrNotFound) {
			t.Errorf("ID %q: %v", bad, err)
		}
	}
}

// TestFindRepositoryHostileDrive: a drive with a symlink loop, fake and
// oversized key files, and a folder impersonating a backup by its header
// alone is searched quickly and matches nothing.
func TestFindRepositoryHostileDrive(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	root := t.TempDir()
	id := strings.Repeat("ab", 32)
	fake := filepath.Join(root, "fake")
	if err := os.MkdirAll(filepath.Join(fake, "keys"), 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(p string, b []byte) {
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(fake, "config"), []byte("LIFEBOAT\x01\x00\x00\x00junk"))
	write(filepath.Join(fake, "keys", "a"), []byte(`{"kind":"recovery","keystore_id":"lifeboat/abababababababab/x"}`))
	write(filepath.Join(fake, "keys", "b"), []byte("not json"))
	big := make([]byte, maxKeyFileSize+10)
	copy(big, `{"kind":"keystore","keystore_id":"lifeboat/abababababababab/x"}`)
	write(filepath.Join(fake, "keys", "c"), big)
	if err := os.Symlink(root, filepath.Join(root, "loop")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(root, "elsewhere"), filepath.Join(fake, "keys", "d")); err != nil {
		t.Fatal(err)
	}
	if _, err := FindRepository(ctx, id, FindOptions{Roots: []string{root}, MaxDepth: 6}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("hostile drive: %v", err)
	}
	// The real shape does match: proves the decoys failed for their flaws.
	write(filepath.Join(fake, "keys", "e"), []byte(`{"version":1,"kind":"keystore","keystore_id":"lifeboat/abababababababab/0123"}`))
	if got, err := FindRepository(ctx, id, FindOptions{Roots: []string{root}}); err != nil || got != fake {
		t.Fatalf("well-formed slot: %q, %v", got, err)
	}
	cancel()
	if _, err := FindRepository(ctx, strings.Repeat("cd", 32), FindOptions{Roots: []string{root}}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled search: %v", err)
	}
}

// TestWaitForRepository: the drive is plugged in while the app waits.
func TestWaitForRepository(t *testing.T) {
	mnt := t.TempDir()
	src := filepath.Join(t.TempDir(), "Lifeboat")
	id := newRepo(t, src)
	go func() {
		time.Sleep(300 * time.Millisecond)
		os.Rename(src, filepath.Join(mnt, "Lifeboat"))
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got, err := WaitForRepository(ctx, id, 50*time.Millisecond, FindOptions{Roots: []string{mnt}})
	if err != nil || got != filepath.Join(mnt, "Lifeboat") {
		t.Fatalf("%q, %v", got, err)
	}
	ctx, cancel = context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := WaitForRepository(ctx, strings.Repeat("0", 64), 50*time.Millisecond, FindOptions{Roots: []string{mnt}}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("never plugged in: %v", err)
	}
}
