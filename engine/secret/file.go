package secret

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// FileWarning is what a program using File tells the owner on every run.
const FileWarning = "warning: --secret-store file: the key that protects your saved sign-in is kept in a file " +
	"next to it, not in the system keychain. Anyone who can read your user folder can use your Microsoft 365 sign-in."

// File keeps each secret in its own file under Dir, readable only by the
// owner (0600; on Windows the folder's permissions apply). It is the
// explicit alternative when no keychain is available.
type File struct {
	Dir string
}

// Path is the file that holds a secret.
func (f File) Path(service, account string) string {
	return filepath.Join(f.Dir, "secret-"+fileName(service)+"-"+fileName(account)+".key")
}

// fileName keeps letters, digits, dots and dashes, so an account name
// cannot reach outside Dir.
func fileName(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '.':
			b.WriteRune(r)
		default:
			fmt.Fprintf(&b, "_%x_", r)
		}
	}
	return b.String()
}

// Get implements Keychain.
func (f File) Get(service, account string) ([]byte, error) {
	p := f.Path(service, account)
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read secret %s: %w", p, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read secret: %w", err)
	}
	if runtime.GOOS != "windows" {
		if fi, err := os.Stat(p); err == nil && fi.Mode().Perm()&0o077 != 0 {
			return nil, fmt.Errorf("secret file %s can be read by others (mode %v); run chmod 600 on it", p, fi.Mode().Perm())
		}
	}
	out, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, fmt.Errorf("secret file %s is damaged: %w", p, err)
	}
	return out, nil
}

// Set implements Keychain: the file is written atomically with 0600.
func (f File) Set(service, account string, secret []byte) error {
	if err := os.MkdirAll(f.Dir, 0o700); err != nil {
		return fmt.Errorf("store secret: %w", err)
	}
	data := []byte(base64.StdEncoding.EncodeToString(secret) + "\n")
	if err := WriteFileAtomic(f.Path(service, account), data); err != nil {
		return fmt.Errorf("store secret: %w", err)
	}
	return nil
}

// Delete implements Keychain.
func (f File) Delete(service, account string) error {
	p := f.Path(service, account)
	err := os.Remove(p)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete secret %s: %w", p, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("delete secret: %w", err)
	}
	return nil
}

// WriteFileAtomic writes data to path with 0600 permissions so that a
// reader sees the old or the new content, never a mix: a temporary file in
// the same folder, fsync, rename, then fsync of the folder where the
// system supports it.
func WriteFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+"-*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // a no-op after a successful rename
	if err := f.Chmod(0o600); err != nil && runtime.GOOS != "windows" {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	if runtime.GOOS != "windows" {
		if d, err := os.Open(dir); err == nil {
			serr := d.Sync()
			d.Close()
			if serr != nil {
				return fmt.Errorf("sync %s: %w", dir, serr)
			}
		}
	}
	return nil
}
