package secret

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/zalando/go-keyring"
)

// RequireKeychain fails the test with instructions when no Secret Service
// session is around: real-keychain tests are not skipped, they run under
// installer/test-session.sh (as `make test` and CI do).
func requireKeychain(t *testing.T) {
	t.Helper()
	if runtime.GOOS == "linux" && os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		t.Fatal("no D-Bus session: run this test with the real keychain, e.g. `bash installer/test-session.sh go test ./engine/secret/...`")
	}
}

func randomName(t *testing.T) string {
	t.Helper()
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "test-" + hex.EncodeToString(b)
}

// exercise runs the Keychain contract against k.
func exercise(t *testing.T, k Keychain) {
	t.Helper()
	service, account := "Lifeboat-test", randomName(t)
	if _, err := k.Get(service, account); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get of a missing secret: %v, want ErrNotFound", err)
	}
	secret := []byte{0, 1, 2, 0xff, 'x', '\n', 0}
	if err := k.Set(service, account, secret); err != nil {
		t.Fatalf("Set: %v", err)
	}
	t.Cleanup(func() { _ = k.Delete(service, account) })
	got, err := k.Get(service, account)
	if err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("Get = %x, %v; want %x", got, err, secret)
	}
	secret2 := bytes.Repeat([]byte{7}, 32)
	if err := k.Set(service, account, secret2); err != nil {
		t.Fatalf("Set again: %v", err)
	}
	if got, err := k.Get(service, account); err != nil || !bytes.Equal(got, secret2) {
		t.Fatalf("Get after replace = %x, %v", got, err)
	}
	if err := k.Delete(service, account); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := k.Get(service, account); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after Delete: %v, want ErrNotFound", err)
	}
	if err := k.Delete(service, account); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Delete of a missing secret: %v, want ErrNotFound", err)
	}
}

func TestFile(t *testing.T) {
	exercise(t, File{Dir: filepath.Join(t.TempDir(), "new")})
}

func TestFilePermissionsAndNames(t *testing.T) {
	dir := t.TempDir()
	f := File{Dir: dir}
	if err := f.Set("Lifeboat", "../../etc/passwd", []byte("k")); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 1 {
		t.Fatalf("entries = %v, %v", entries, err)
	}
	p := f.Path("Lifeboat", "../../etc/passwd")
	if filepath.Dir(p) != dir || strings.Contains(filepath.Base(p), "/") {
		t.Errorf("path %q escapes %q", p, dir)
	}
	if runtime.GOOS == "windows" {
		return
	}
	fi, err := os.Stat(p)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode = %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	if err := os.Chmod(p, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Get("Lifeboat", "../../etc/passwd"); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("Get of a world-readable secret: %v", err)
	}
}

func TestFailing(t *testing.T) {
	var k Keychain = Failing{}
	_, err := k.Get("s", "a")
	var ue *UnavailableError
	if !errors.Is(err, ErrUnavailable) || !errors.As(err, &ue) {
		t.Errorf("Get: %v", err)
	}
	if err := k.Set("s", "a", nil); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Set: %v", err)
	}
	custom := errors.New("locked")
	if err := (Failing{Err: custom}).Delete("s", "a"); !errors.Is(err, custom) {
		t.Errorf("Delete: %v", err)
	}
}

func TestUnavailableMessage(t *testing.T) {
	err := osError("read", "Lifeboat", "k", errors.New("dbus: connection refused"))
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("not ErrUnavailable: %v", err)
	}
	msg := err.Error()
	for _, want := range []string{"connection refused", "--secret-store file"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q: %s", want, msg)
		}
	}
	if err := osError("read", "s", "a", keyring.ErrNotFound); !errors.Is(err, ErrNotFound) || errors.Is(err, ErrUnavailable) {
		t.Errorf("not found: %v", err)
	}
}

// TestOS runs the contract against the real keychain (Secret Service under
// installer/test-session.sh) and reads the secret back through go-keyring.
func TestOS(t *testing.T) {
	requireKeychain(t)
	exercise(t, OS{})
	account := randomName(t)
	if err := (OS{}).Set("Lifeboat-test", account, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	defer (OS{}).Delete("Lifeboat-test", account)
	raw, err := keyring.Get("Lifeboat-test", account)
	if err != nil || raw != "aGVsbG8=" {
		t.Errorf("go-keyring sees %q, %v", raw, err)
	}
}
