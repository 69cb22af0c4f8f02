package auth

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/secret"
)

// AppCredentialFileName is the encrypted organization credential's file
// name in AppStoreConfig.Dir.
const AppCredentialFileName = "company-credential.lbc"

// DefaultAppKeyAccount is the keychain account of its key.
const DefaultAppKeyAccount = "company-credential-key"

// ErrNoAppCredential means organization mode was never set up on this
// computer (or was left).
var ErrNoAppCredential error = sentinel("Lifeboat is not set up for the whole company on this computer")

// AppCredential is Lifeboat's registration in the customer's directory and
// the certificate it signs in with. IDs are empty until the registration
// made them; Next is a certificate made for renewal and not yet accepted.
type AppCredential struct {
	TenantID string
	// AppID is the application (client) ID.
	AppID string
	// ObjectID is the application object's ID (for addKey and deletion).
	ObjectID string
	// ServicePrincipalID is the app's service principal in the directory.
	ServicePrincipalID string
	Current            AppCertificate
	Next               AppCertificate
	// RenewalError is the last failed renewal's reason, in words for the
	// owner, and when it happened; empty after a renewal succeeds.
	RenewalError  string
	RenewalFailed time.Time
	// Completed is when the setup finished (every permission reached a
	// token); zero while it is under way.
	Completed time.Time
}

// storedCredential is AppCredential's form inside the encrypted file.
type storedCredential struct {
	Version            int       `json:"v"`
	TenantID           string    `json:"tenantID"`
	AppID              string    `json:"appID,omitempty"`
	ObjectID           string    `json:"objectID,omitempty"`
	ServicePrincipalID string    `json:"servicePrincipalID,omitempty"`
	CertDER            []byte    `json:"cert"`
	KeyDER             []byte    `json:"key"`
	NextCertDER        []byte    `json:"nextCert,omitempty"`
	NextKeyDER         []byte    `json:"nextKey,omitempty"`
	RenewalError       string    `json:"renewalError,omitempty"`
	RenewalFailed      time.Time `json:"renewalFailed,omitzero"`
	Completed          time.Time `json:"completed,omitzero"`
}

// AppStoreConfig says where the credential is kept.
type AppStoreConfig struct {
	// Dir is the config folder (required).
	Dir string
	// Keychain holds the file's key (required).
	Keychain secret.Keychain
	// KeyAccount defaults to DefaultAppKeyAccount; separate config folders
	// should use separate names.
	KeyAccount string
	Logger     *slog.Logger
}

// AppStore keeps the AppCredential encrypted at rest exactly as the token
// cache is kept: AES-256-GCM in a file, its random key in the keychain. The
// private key is never written readable.
type AppStore struct {
	fc *fileCache
}

// NewAppStore checks cfg; it touches neither the disk nor the keychain.
func NewAppStore(cfg AppStoreConfig) (*AppStore, error) {
	if cfg.Dir == "" || cfg.Keychain == nil {
		return nil, errors.New("auth: the company credential needs a folder and a keychain")
	}
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("auth: config folder: %w", err)
	}
	if cfg.KeyAccount == "" {
		cfg.KeyAccount = DefaultAppKeyAccount
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &AppStore{fc: &fileCache{
		path: filepath.Join(dir, AppCredentialFileName), keychain: cfg.Keychain,
		service: KeychainService, keyAccount: cfg.KeyAccount, log: cfg.Logger,
	}}, nil
}

// Path is the encrypted file.
func (s *AppStore) Path() string { return s.fc.path }

// Load reads the credential; ErrNoAppCredential when there is none. A file
// that does not open is a *CacheDamagedError.
func (s *AppStore) Load() (AppCredential, error) {
	plain, err := s.fc.read()
	if err != nil {
		return AppCredential{}, err
	}
	if plain == nil {
		return AppCredential{}, ErrNoAppCredential
	}
	defer clear(plain)
	var st storedCredential
	if err := json.Unmarshal(plain, &st); err != nil || st.Version != 1 {
		return AppCredential{}, &CacheDamagedError{Path: s.fc.path, Reason: "its content is not Lifeboat's company credential", Err: err}
	}
	c := AppCredential{TenantID: st.TenantID, AppID: st.AppID, ObjectID: st.ObjectID, ServicePrincipalID: st.ServicePrincipalID,
		RenewalError: st.RenewalError, RenewalFailed: st.RenewalFailed, Completed: st.Completed}
	if c.Current, err = appCertificateFrom(st.CertDER, st.KeyDER); err != nil {
		return AppCredential{}, &CacheDamagedError{Path: s.fc.path, Reason: "its certificate does not read", Err: err}
	}
	if len(st.NextCertDER) > 0 {
		if c.Next, err = appCertificateFrom(st.NextCertDER, st.NextKeyDER); err != nil {
			return AppCredential{}, &CacheDamagedError{Path: s.fc.path, Reason: "its new certificate does not read", Err: err}
		}
	}
	clear(st.KeyDER)
	clear(st.NextKeyDER)
	return c, nil
}

// Save encrypts and stores c atomically (the keychain key is made on first
// use).
func (s *AppStore) Save(c AppCredential) error {
	if !c.Current.Valid() {
		return errors.New("auth: no certificate to save")
	}
	st := storedCredential{Version: 1, TenantID: c.TenantID, AppID: c.AppID, ObjectID: c.ObjectID,
		ServicePrincipalID: c.ServicePrincipalID, CertDER: c.Current.Cert.Raw,
		RenewalError: c.RenewalError, RenewalFailed: c.RenewalFailed, Completed: c.Completed}
	var err error
	if st.KeyDER, err = marshalKey(c.Current); err != nil {
		return err
	}
	defer clear(st.KeyDER)
	if c.Next.Valid() {
		st.NextCertDER = c.Next.Cert.Raw
		if st.NextKeyDER, err = marshalKey(c.Next); err != nil {
			return err
		}
		defer clear(st.NextKeyDER)
	}
	plain, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("save the company credential: %w", err)
	}
	defer clear(plain)
	if err := s.fc.write(plain); err != nil {
		return fmt.Errorf("save the company credential: %w", err)
	}
	return nil
}

// Remove deletes the file and its key in the keychain.
func (s *AppStore) Remove() error {
	if err := s.fc.remove(); err != nil {
		return err
	}
	return nil
}

// Exists reports whether a credential file is there (without reading it).
func (s *AppStore) Exists() bool {
	_, err := os.Stat(s.fc.path)
	return err == nil
}

func marshalKey(c AppCertificate) ([]byte, error) {
	der, err := x509MarshalPKCS8(c)
	if err != nil {
		return nil, fmt.Errorf("save the company credential: %w", err)
	}
	return der, nil
}
