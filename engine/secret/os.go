package secret

import (
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"

	"github.com/zalando/go-keyring"
)

// OS is the operating system's keychain through go-keyring. Secrets are
// stored base64-encoded, because some keychains only hold text.
type OS struct{}

// Get implements Keychain.
func (OS) Get(service, account string) ([]byte, error) {
	s, err := keyring.Get(service, account)
	if err != nil {
		return nil, osError("read", service, account, err)
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("keychain entry %s/%s is not in Lifeboat's format: %w", service, account, err)
	}
	return b, nil
}

// Set implements Keychain.
func (OS) Set(service, account string, secret []byte) error {
	if err := keyring.Set(service, account, base64.StdEncoding.EncodeToString(secret)); err != nil {
		return osError("store", service, account, err)
	}
	return nil
}

// Delete implements Keychain.
func (OS) Delete(service, account string) error {
	if err := keyring.Delete(service, account); err != nil {
		return osError("delete", service, account, err)
	}
	return nil
}

// osError maps go-keyring's errors: a missing entry matches ErrNotFound,
// anything else means the keychain itself is not usable.
func osError(op, service, account string, err error) error {
	if errors.Is(err, keyring.ErrNotFound) {
		return fmt.Errorf("%s %s/%s in the keychain: %w", op, service, account, ErrNotFound)
	}
	if errors.Is(err, keyring.ErrSetDataTooBig) {
		return fmt.Errorf("%s %s/%s in the keychain: %w", op, service, account, err)
	}
	store, fix := osKeychain()
	return fmt.Errorf("%s %s/%s: %w", op, service, account, &UnavailableError{Store: store, Fix: fix, Err: err})
}

// osKeychain names this system's keychain and says how to make it work.
func osKeychain() (store, fix string) {
	switch runtime.GOOS {
	case "windows":
		return "Windows Credential Manager", "Sign in to Windows with your own account (not a service account) and try again, " +
			"or run with --secret-store file to keep the key in a file next to the saved sign-in (less safe)"
	case "darwin":
		return "macOS keychain", "Unlock your login keychain (Keychain Access) and allow Lifeboat when asked, " +
			"or run with --secret-store file to keep the key in a file next to the saved sign-in (less safe)"
	default:
		return "Secret Service over D-Bus", "No keychain found or it is locked. Start and unlock gnome-keyring or KeePassXC's Secret Service " +
			"(inside a desktop session, or with dbus-run-session), or run with --secret-store file to keep the key in a file " +
			"next to the saved sign-in (less safe)"
	}
}
