package secret

import (
	"errors"
	"fmt"
)

// Keychain stores small secrets under a service and an account name.
type Keychain interface {
	// Get returns the secret, or an error matching ErrNotFound when there is none.
	Get(service, account string) ([]byte, error)
	// Set stores the secret, replacing any previous one.
	Set(service, account string, secret []byte) error
	// Delete removes the secret; deleting a missing secret matches ErrNotFound.
	Delete(service, account string) error
}

// ErrNotFound means the keychain works but holds no such secret.
var ErrNotFound = errors.New("secret not found")

// ErrUnavailable is what every *UnavailableError matches with errors.Is.
var ErrUnavailable = errors.New("keychain unavailable")

// UnavailableError means the keychain itself could not be used: it is
// missing, locked, or refused the request. Error is a message for the
// owner: what is missing and how to fix it.
type UnavailableError struct {
	// Store names the keychain, e.g. "Secret Service over D-Bus".
	Store string
	// Fix says what the owner can do about it.
	Fix string
	// Err is the underlying error.
	Err error
}

func (e *UnavailableError) Error() string {
	msg := "the keychain (" + e.Store + ") cannot be used"
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	if e.Fix != "" {
		msg += ". " + e.Fix
	}
	return msg
}

func (e *UnavailableError) Unwrap() error { return e.Err }

// Is makes every UnavailableError match ErrUnavailable.
func (e *UnavailableError) Is(target error) bool { return target == ErrUnavailable }

// Failing is a Keychain whose every call fails with Err, for tests of what
// happens when the keychain is missing or locked. With no Err it fails as
// this system's keychain does when it is missing.
type Failing struct{ Err error }

func (f Failing) Get(service, account string) ([]byte, error) { return nil, f.err("read") }

func (f Failing) Set(service, account string, _ []byte) error { return f.err("store") }

func (f Failing) Delete(service, account string) error { return f.err("delete") }

func (f Failing) err(op string) error {
	err := f.Err
	if err == nil {
		store, fix := osKeychain()
		err = &UnavailableError{Store: store, Fix: fix, Err: errors.New("simulated: no keychain answers")}
	}
	return fmt.Errorf("%s secret: %w", op, err)
}
