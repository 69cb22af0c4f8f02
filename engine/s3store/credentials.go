package s3store

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/lifeboat-backup/lifeboat/engine/secret"
)

// KeychainService is the keychain service under which access keys are
// kept (the repository keys use "lifeboat" with their own account names).
const KeychainService = "lifeboat-s3"

// KeychainAccount names the keychain entry of one destination: the
// endpoint, bucket and access key ID (not secret) identify it.
func KeychainAccount(endpoint, bucket, accessKeyID string) string {
	return strings.ToLower(strings.TrimSuffix(endpoint, "/")) + "/" + bucket + "/" + accessKeyID
}

// SaveCredentials stores the key pair in the keychain. Nothing of it goes
// into any file: the settings keep only the account name.
func SaveCredentials(k secret.Keychain, account string, c Credentials) error {
	if c.AccessKeyID == "" || c.Secret == "" {
		return errors.New("s3store: an access key and its secret are required")
	}
	b, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("s3store: %w", err)
	}
	if err := k.Set(KeychainService, account, b); err != nil {
		return fmt.Errorf("s3store: saving the access key in the keychain: %w", err)
	}
	return nil
}

// LoadCredentials reads the key pair SaveCredentials stored. A missing
// entry matches secret.ErrNotFound: the owner must enter the keys again.
func LoadCredentials(k secret.Keychain, account string) (Credentials, error) {
	b, err := k.Get(KeychainService, account)
	if err != nil {
		return Credentials{}, fmt.Errorf("s3store: reading the access key from the keychain: %w", err)
	}
	var c Credentials
	if len(b) > 4096 || json.Unmarshal(b, &c) != nil || c.AccessKeyID == "" || c.Secret == "" {
		return Credentials{}, errors.New("s3store: the keychain entry for the off-site copy is damaged; enter the access key again")
	}
	return c, nil
}

// DeleteCredentials removes the keychain entry (when the destination is
// removed from the settings).
func DeleteCredentials(k secret.Keychain, account string) error {
	if err := k.Delete(KeychainService, account); err != nil && !errors.Is(err, secret.ErrNotFound) {
		return fmt.Errorf("s3store: removing the access key from the keychain: %w", err)
	}
	return nil
}
