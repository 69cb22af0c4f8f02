package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"sync"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/graph"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/notify"
	"github.com/lifeboat-backup/lifeboat/engine/orgsetup"
	"github.com/lifeboat-backup/lifeboat/engine/repo"
	"github.com/lifeboat-backup/lifeboat/engine/schedule"
	"github.com/lifeboat-backup/lifeboat/engine/secret"
	"github.com/lifeboat-backup/lifeboat/engine/volumes"
)

// Options configure a Service. ConfigDir and Keychain are required; the
// rest have working defaults.
type Options struct {
	// ConfigDir holds Lifeboat's own files on this computer: settings,
	// schedule state, the encrypted sign-in cache, catalogs, run locks and
	// restore journals.
	ConfigDir string
	// CustomConfigDir is set when ConfigDir was chosen explicitly
	// (LIFEBOAT_CONFIG_DIR): another config folder is another installation,
	// with its own key in the keychain, and scheduled runs must be told.
	CustomConfigDir bool
	// Keychain keeps the key of the sign-in cache and this computer's key
	// of each backup.
	Keychain secret.Keychain
	// SecretStore names the choice behind Keychain ("keychain", "file"),
	// passed on to scheduled runs; "" for the default.
	SecretStore string
	// Tenant is where sign-in and Microsoft Graph are: Microsoft's by
	// default, a simulated tenant for tests and the demo.
	Tenant Tenant
	// ClientID is the application (client) ID chosen explicitly (flag or
	// environment); it comes before the tenant's, the saved setting and
	// DefaultClientID.
	ClientID        string
	DefaultClientID string
	Logger          *slog.Logger
	// Volumes says where drives are and how to measure them (zero: the
	// real system).
	Volumes volumes.Options
	// FindRoots, when set, are where a moved backup drive is looked for
	// (tests; default: every mounted drive).
	FindRoots []string
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Repo, when set, replaces the repository options (tests: a cheap
	// key derivation).
	Repo *repo.Options
	// Checkpoint is how often a long run makes its progress crash-proof
	// (default DefaultCheckpoint).
	Checkpoint time.Duration
	// Notifier shows OS notifications for scheduled runs (default: the
	// system's).
	Notifier Notifier
	// Scheduler, when set, replaces the OS scheduler's options (tests: a
	// command runner, a private crontab).
	Scheduler *schedule.Options
	// Executable is the program a schedule runs (default: this one).
	Executable string
	// OSSchedule registers schedules with the operating system; off for
	// the throwaway demo, whose schedule lives in its settings only.
	OSSchedule bool
	// GraphClient, when set, is how a restore reaches an account's
	// mailbox and OneDrive (default: the account's saved sign-in).
	GraphClient func(ctx context.Context, a catalog.Account) (*graph.Client, error)
	// RestoreWorkers is how many items a restore writes at once (default
	// the engine's, the mailbox's concurrency limit).
	RestoreWorkers int
	// Environment is what scheduled runs must see to act like this one
	// (LIFEBOAT_CONFIG_DIR and the like); set by the front end's wiring.
	Environment map[string]string
	// CompanySetupWait bounds the waits for Microsoft's directory while
	// organization mode is set up; CompanyWorkers is how many people a
	// company backup backs up at once (org.go).
	CompanySetupWait orgsetup.Wait
	CompanyWorkers   int
}

// DefaultCheckpoint bounds what a crash or a pulled drive costs: at most
// a minute of downloads is fetched again.
const DefaultCheckpoint = time.Minute

// Notifier is how a scheduled run tells the person something with no
// window open.
type Notifier interface {
	Notify(ctx context.Context, m notify.Message) error
}

// Tenant is where Lifeboat signs in and reads Microsoft 365: Microsoft's
// services (the zero value), or a simulated tenant.
type Tenant struct {
	// Name names a simulated tenant for people ("" for Microsoft).
	Name      string
	Authority string
	GraphURL  string
	// HTTPClient trusts the simulated tenant's certificate.
	HTTPClient *http.Client
	ClientID   string
	// ClockSpeedup runs Microsoft's throttling windows on a faster clock
	// (the simulated tenant's graph-fast model).
	ClockSpeedup float64
	// ProfilePath is the simulated tenant's profile file, which scheduled
	// runs are given.
	ProfilePath string
}

// Simulated reports whether t is a simulated tenant.
func (t Tenant) Simulated() bool { return t.ProfilePath != "" || t.Name != "" }

// SimulatedTenant reads a tenant profile written by `lifeboat sim serve`.
func SimulatedTenant(path string) (Tenant, error) {
	p, err := m365sim.LoadProfile(path)
	if err != nil {
		return Tenant{}, err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return Tenant{}, err
	}
	return TenantFromProfile(p, abs)
}

// TenantFromProfile is the simulated tenant a profile describes.
func TenantFromProfile(p m365sim.Profile, path string) (Tenant, error) {
	t := Tenant{Name: p.Name, Authority: p.Authority, GraphURL: p.GraphURL, ClientID: p.ClientID,
		ClockSpeedup: p.ClockSpeedup, ProfilePath: path}
	if p.CACertPEM != "" {
		hc, err := m365sim.ClientTrustingPEM([]byte(p.CACertPEM))
		if err != nil {
			return Tenant{}, fmt.Errorf("tenant profile: %w", err)
		}
		t.HTTPClient = hc
	}
	return t, nil
}

// Service runs Lifeboat's use cases. It is safe for concurrent use.
type Service struct {
	o        Options
	settings settingsStore
	pacerMu  sync.Mutex
	pacer    *graph.Pacer
	shares   shareChecks
	hostID   hostIdentity
}

// New returns a Service.
func New(o Options) (*Service, error) {
	if o.ConfigDir == "" {
		return nil, errors.New("service: no config folder")
	}
	if o.Keychain == nil {
		return nil, errors.New("service: no keychain")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Checkpoint <= 0 {
		o.Checkpoint = DefaultCheckpoint
	}
	if o.Notifier == nil {
		o.Notifier = notify.New(notify.Options{Logger: o.Logger})
	}
	return &Service{o: o, settings: settingsStore{dir: o.ConfigDir}}, nil
}

// Options returns the options the service runs with.
func (s *Service) Options() Options { return s.o }

// Logger is the service's logger.
func (s *Service) Logger() *slog.Logger { return s.o.Logger }

// ConfigDir is the config folder.
func (s *Service) ConfigDir() string { return s.o.ConfigDir }

func (s *Service) now() time.Time { return s.o.Now() }

// repoOptions are the options repositories are opened with.
func (s *Service) repoOptions() repo.Options {
	opts := repo.Options{Logger: s.o.Logger}
	if s.o.Repo != nil {
		opts = *s.o.Repo
	}
	opts.CheckpointInterval = s.o.Checkpoint
	if opts.HostID == "" {
		opts.HostID = s.HostID()
	}
	return opts
}

// graphURL is Microsoft Graph's address and an HTTP client for it.
func (s *Service) graphEndpoint() (string, *http.Client) {
	t := s.o.Tenant
	hc := t.HTTPClient
	if hc == nil {
		hc = &http.Client{Transport: http.DefaultTransport}
	}
	if t.GraphURL == "" {
		return graph.DefaultGraphURL, hc
	}
	return t.GraphURL, hc
}

// graphHost is the host that Graph tokens are asked for.
func (s *Service) graphHost() (string, error) {
	g, _ := s.graphEndpoint()
	u, err := url.Parse(g)
	if err != nil {
		return "", fmt.Errorf("graph URL: %w", err)
	}
	return u.Hostname(), nil
}

// sharedPacer is the one pacer of this process's Graph traffic:
// Microsoft's limits are per app and mailbox, whoever sends the requests.
func (s *Service) sharedPacer() *graph.Pacer {
	s.pacerMu.Lock()
	defer s.pacerMu.Unlock()
	if s.pacer == nil {
		s.pacer = graph.NewPacer(graph.PacerConfig{}.OnClock(s.o.Tenant.ClockSpeedup))
	}
	return s.pacer
}
