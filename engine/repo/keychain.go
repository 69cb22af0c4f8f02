package repo

import (
	"errors"
	"fmt"

	"github.com/lifeboat-backup/lifeboat/engine/secret"
)

// DefaultKeychainService is the keychain service under which Lifeboat
// keeps repository keys (FORMAT.md §3).
const DefaultKeychainService = "lifeboat"

// KeychainKeyStore adapts a secret.Keychain (the OS keychain, a File, or a
// Failing one in tests) to a KeyStore: each key is stored under service
// with the key slot's keystore_id as the account name. A missing entry is
// reported as ErrKeyNotFound, so opening tries the next slot; any other
// failure (a locked or missing keychain) is passed on, still matching
// secret.ErrUnavailable where it did.
func KeychainKeyStore(k secret.Keychain, service string) KeyStore {
	if service == "" {
		service = DefaultKeychainService
	}
	return keychainStore{k: k, service: service}
}

type keychainStore struct {
	k       secret.Keychain
	service string
}

func (s keychainStore) Get(id string) ([]byte, error) {
	b, err := s.k.Get(s.service, id)
	if err != nil {
		return nil, s.mapErr("reading", id, err)
	}
	return b, nil
}

func (s keychainStore) Set(id string, secretBytes []byte) error {
	if err := s.k.Set(s.service, id, secretBytes); err != nil {
		return s.mapErr("saving", id, err)
	}
	return nil
}

func (s keychainStore) Delete(id string) error {
	if err := s.k.Delete(s.service, id); err != nil {
		return s.mapErr("deleting", id, err)
	}
	return nil
}

func (s keychainStore) mapErr(op, id string, err error) error {
	if errors.Is(err, secret.ErrNotFound) {
		return fmt.Errorf("repo: %s keychain entry %s/%s: %w (%w)", op, s.service, id, ErrKeyNotFound, err)
	}
	return fmt.Errorf("repo: %s keychain entry %s/%s: %w", op, s.service, id, err)
}
