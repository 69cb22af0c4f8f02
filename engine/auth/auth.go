package auth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/public"

	"github.com/lifeboat-backup/lifeboat/engine/secret"
)

// DefaultAuthority is Microsoft's multi-tenant authority for work and
// school accounts.
const DefaultAuthority = "https://login.microsoftonline.com/organizations"

// KeychainService is the keychain service Lifeboat's secrets are kept under.
const KeychainService = "Lifeboat"

// DefaultKeyAccount is the keychain account of the token cache key.
const DefaultKeyAccount = "token-cache-key"

// CacheFileName is the encrypted token cache's file name in Config.Dir.
const CacheFileName = "signin-cache.lbc"

// Scopes returns the delegated permissions Lifeboat asks for in personal
// mode: User.Read Mail.ReadWrite Files.ReadWrite.All Calendars.ReadWrite
// Contacts.ReadWrite, plus offline_access. (Calendars and contacts are
// read for backup and written by restores.)
// offline_access is not in the list because MSAL always adds openid,
// profile and offline_access itself, and MSAL Go fails a sign-in with
// "declined scopes are present: offline_access" when the caller lists it
// (Entra ID never echoes it back in the granted scopes).
func Scopes() []string {
	return []string{"User.Read", "Mail.ReadWrite", "Files.ReadWrite.All", "Calendars.ReadWrite", "Contacts.ReadWrite"}
}

// Config says where to sign in and where to keep the sign-in.
type Config struct {
	// ClientID is the application (client) ID; required.
	ClientID string
	// Authority is the sign-in authority; default DefaultAuthority. It must
	// use https.
	Authority string
	// HTTPClient carries every request to the authority, e.g. one trusting
	// a tenant profile's CA; default http.DefaultClient's behaviour.
	HTTPClient *http.Client
	// Dir holds the encrypted token cache; default os.UserConfigDir()/Lifeboat.
	Dir string
	// Keychain holds the cache key; default the OS keychain (secret.OS).
	Keychain secret.Keychain
	// KeyAccount is the keychain account of the cache key; default
	// DefaultKeyAccount. Separate config folders should use separate names.
	KeyAccount string
	// Scopes default to Scopes().
	Scopes []string
	// Logger gets debug and warning lines, never a secret; default discards.
	Logger *slog.Logger
}

// Account is one signed-in person.
type Account struct {
	// HomeAccountID is MSAL's stable ID of the account (object ID and tenant
	// ID); it is how Lifeboat addresses an account.
	HomeAccountID string
	// UPN is the sign-in name, e.g. alice@contoso.com.
	UPN string
	// Name is the display name when known.
	Name string
	// TenantID is the account's directory.
	TenantID string

	msal public.Account
}

// Manager signs people in, lists and removes their saved sign-ins, and
// hands out token sources. It is safe for concurrent use.
type Manager struct {
	cfg     Config
	log     *slog.Logger
	cache   *fileCache
	client  public.Client // strict: a damaged cache is an error
	lenient public.Client // sign-in: a damaged cache is replaced
}

// New checks cfg and builds the MSAL clients. It does not touch the network
// or the keychain.
func New(cfg Config) (*Manager, error) {
	if cfg.ClientID == "" {
		return nil, errors.New("auth: no client ID")
	}
	if cfg.Authority == "" {
		cfg.Authority = DefaultAuthority
	}
	u, err := url.Parse(cfg.Authority)
	if err != nil || u.Host == "" || u.Scheme != "https" {
		return nil, fmt.Errorf("auth: the authority %q must be an https URL", cfg.Authority)
	}
	if cfg.Dir == "" {
		base, err := os.UserConfigDir()
		if err != nil {
			return nil, fmt.Errorf("auth: find the config folder: %w", err)
		}
		cfg.Dir = filepath.Join(base, "Lifeboat")
	}
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("auth: config folder: %w", err)
	}
	cfg.Dir = dir
	if cfg.Keychain == nil {
		cfg.Keychain = secret.OS{}
	}
	if cfg.KeyAccount == "" {
		cfg.KeyAccount = DefaultKeyAccount
	}
	if len(cfg.Scopes) == 0 {
		cfg.Scopes = Scopes()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	m := &Manager{cfg: cfg, log: cfg.Logger}
	m.cache = &fileCache{
		path:       filepath.Join(dir, CacheFileName),
		keychain:   cfg.Keychain,
		service:    KeychainService,
		keyAccount: cfg.KeyAccount,
		log:        cfg.Logger,
	}
	opts := []public.Option{
		public.WithAuthority(cfg.Authority),
		public.WithInstanceDiscovery(microsoftHost(u.Hostname())),
	}
	if cfg.HTTPClient != nil {
		opts = append(opts, public.WithHTTPClient(cfg.HTTPClient))
	}
	m.client, err = public.New(cfg.ClientID, append(opts, public.WithCache(accessor{c: m.cache}))...)
	if err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	m.lenient, err = public.New(cfg.ClientID, append(opts, public.WithCache(accessor{c: m.cache, lenient: true}))...)
	if err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	return m, nil
}

// microsoftHost reports whether MSAL's instance discovery knows host; it
// must be off for any other authority (a simulator, a test server).
func microsoftHost(host string) bool {
	return slices.Contains([]string{
		"login.microsoftonline.com", "login.microsoftonline.us",
		"login.chinacloudapi.cn", "login.partner.microsoftonline.cn",
	}, strings.ToLower(host))
}

// CachePath is the encrypted token cache file.
func (m *Manager) CachePath() string { return m.cache.path }

// Scopes are the scopes the manager signs in with.
func (m *Manager) Scopes() []string { return slices.Clone(m.cfg.Scopes) }

func accountOf(a public.Account) Account {
	return Account{HomeAccountID: a.HomeAccountID, UPN: a.PreferredUsername, Name: a.Name, TenantID: a.Realm, msal: a}
}

// Accounts lists the saved sign-ins, sorted by UPN. A damaged cache is a
// *CacheDamagedError; a missing keychain is a secret.ErrUnavailable error.
func (m *Manager) Accounts(ctx context.Context) ([]Account, error) {
	return m.accounts(ctx, true)
}

// accounts lists the saved sign-ins; withNames adds display names, which
// costs another read of the cache.
func (m *Manager) accounts(ctx context.Context, withNames bool) ([]Account, error) {
	list, err := m.client.Accounts(ctx)
	if err != nil {
		return nil, fmt.Errorf("list saved sign-ins: %w", err)
	}
	var names map[string]string
	if withNames {
		names = m.displayNames()
	}
	out := make([]Account, 0, len(list))
	for _, a := range list {
		acct := accountOf(a)
		if acct.Name == "" {
			acct.Name = names[a.HomeAccountID]
		}
		out = append(out, acct)
	}
	slices.SortFunc(out, func(a, b Account) int { return strings.Compare(strings.ToLower(a.UPN), strings.ToLower(b.UPN)) })
	return out, nil
}

// Account finds a saved sign-in by home account ID or by UPN (any case).
// When none matches, the error matches ErrSignInRequired.
func (m *Manager) Account(ctx context.Context, id string) (Account, error) {
	return m.account(ctx, id, true)
}

func (m *Manager) account(ctx context.Context, id string, withNames bool) (Account, error) {
	list, err := m.accounts(ctx, withNames)
	if err != nil {
		return Account{}, err
	}
	for _, a := range list {
		if a.HomeAccountID == id {
			return a, nil
		}
	}
	for _, a := range list {
		if strings.EqualFold(a.UPN, id) {
			return a, nil
		}
	}
	return Account{}, &SignInRequiredError{Account: id, Reason: "this account is not signed in on this computer"}
}

// SignOut removes one account's saved sign-in. When no account remains, the
// cache file and its keychain key are deleted too. It returns the accounts
// left.
func (m *Manager) SignOut(ctx context.Context, id string) ([]Account, error) {
	a, err := m.Account(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := m.client.RemoveAccount(ctx, a.msal); err != nil {
		return nil, fmt.Errorf("sign out %s: %w", a.UPN, err)
	}
	m.log.Debug("auth: signed out", "upn", a.UPN, "home_account_id", a.HomeAccountID)
	left, err := m.Accounts(ctx)
	if err != nil {
		return nil, err
	}
	if len(left) == 0 {
		if err := m.cache.remove(); err != nil {
			return nil, err
		}
		m.log.Debug("auth: no account left; deleted the token cache and its key")
	}
	return left, nil
}

// Forget deletes the cache file and its key whatever their state, e.g. to
// clear a damaged saved sign-in.
func (m *Manager) Forget() error { return m.cache.remove() }

// displayNames maps home account IDs to the display names in the cached ID
// tokens. MSAL's Account does not carry the name, and asking for a token
// to learn it could mean a network round trip. Anything unreadable is
// skipped: the names are a nicety.
func (m *Manager) displayNames() map[string]string {
	names := map[string]string{}
	plain, err := m.cache.read()
	if err != nil || plain == nil {
		return names
	}
	var doc struct {
		IDTokens map[string]struct {
			HomeAccountID string `json:"home_account_id"`
			Secret        string `json:"secret"`
		} `json:"IdToken"`
	}
	if json.Unmarshal(plain, &doc) != nil {
		return names
	}
	for _, t := range doc.IDTokens {
		parts := strings.Split(t.Secret, ".")
		if len(parts) != 3 {
			continue
		}
		payload, err := base64.RawURLEncoding.DecodeString(parts[1])
		if err != nil {
			continue
		}
		var claims struct {
			Name string `json:"name"`
		}
		if json.Unmarshal(payload, &claims) == nil && claims.Name != "" {
			names[t.HomeAccountID] = claims.Name
		}
	}
	return names
}
