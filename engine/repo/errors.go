package repo

import (
	"errors"
	"fmt"
)

var (
	// ErrWrongKey means the recovery key (or keychain key) is well-formed
	// but does not open any key slot of this repository.
	ErrWrongKey = errors.New("repo: this recovery key does not open this backup")
	// ErrInvalidRecoveryKey is matched by every *RecoveryKeyError: the text
	// typed is not a well-formed recovery key (a typo, a missing group).
	ErrInvalidRecoveryKey = errors.New("repo: not a valid recovery key")
	// ErrNoKeychainKey means no key slot of this repository has its key in
	// the given KeyStore (a fresh computer, or the entry was deleted).
	ErrNoKeychainKey = errors.New("repo: this computer's keychain holds no key for this backup")
	// ErrKeyNotFound is what KeyStore.Get must return (wrapped) for an
	// unknown id.
	ErrKeyNotFound = errors.New("repo: key not found in key store")
	// ErrNotRepository means the store holds no Lifeboat repository.
	ErrNotRepository = errors.New("repo: no Lifeboat backup found here")
	// ErrAlreadyExists means Init found a repository already there.
	ErrAlreadyExists = errors.New("repo: a Lifeboat backup already exists here")
	// ErrNewerVersion is matched by *VersionError.
	ErrNewerVersion = errors.New("repo: backup written by a newer version of Lifeboat")
	// ErrBlobNotFound means no index entry names the blob.
	ErrBlobNotFound = errors.New("repo: blob not found")
	// ErrCorrupt is matched by every error caused by repository bytes that
	// fail to authenticate or decode.
	ErrCorrupt = errors.New("repo: damaged data")
	// ErrLocked is matched by *LockedError.
	ErrLocked = errors.New("repo: backup is locked by another run")
	// ErrClosed is returned by writes after a failed pack upload or after
	// Close: the writer's state can no longer be trusted to be complete.
	ErrClosed = errors.New("repo: repository writer is closed")
)

// VersionError is returned when the repository's format version is newer
// than this build understands. Refusing is the only safe choice: a newer
// format may store data this build would misread or, worse, overwrite.
type VersionError struct {
	Found, Supported uint32
}

func (e *VersionError) Error() string {
	return fmt.Sprintf("repo: this backup uses format version %d, but this version of Lifeboat reads only up to version %d; install a newer Lifeboat to open it", e.Found, e.Supported)
}

// Is makes errors.Is(err, ErrNewerVersion) true.
func (e *VersionError) Is(target error) bool { return target == ErrNewerVersion }

// corruptError marks damage in a named repository object.
type corruptError struct {
	what string // e.g. "pack 3fa9… blob 77c1…"
	err  error
}

func (e *corruptError) Error() string { return fmt.Sprintf("repo: %s is damaged: %v", e.what, e.err) }
func (e *corruptError) Unwrap() error { return e.err }
func (e *corruptError) Is(target error) bool {
	return target == ErrCorrupt
}

func corrupt(what string, err error) error { return &corruptError{what: what, err: err} }

func corruptf(what, format string, args ...any) error {
	return &corruptError{what: what, err: fmt.Errorf(format, args...)}
}

func isCorrupt(err error) bool { return errors.Is(err, ErrCorrupt) }
