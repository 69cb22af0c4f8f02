package service

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/repo"
	"github.com/lifeboat-backup/lifeboat/engine/secret"
)

// SettingsFile holds the owner's choices that are not secrets, in the
// config folder beside the encrypted sign-in cache.
const SettingsFile = "settings.json"

// maxStateFile bounds what is read of settings.json and schedule.json:
// they are small, and a huge one is damage.
const maxStateFile = 1 << 20

// Settings are Lifeboat's saved preferences. Unknown fields are refused
// so a typo is reported rather than silently ignored.
type Settings struct {
	// ClientID is the application (client) ID to sign in with, for
	// organisations that register their own copy of Lifeboat.
	ClientID string `json:"clientID,omitempty"`
	// Destination is the backup folder chosen in the app or by the
	// scheduler; a folder given explicitly overrides it.
	Destination string `json:"destination,omitempty"`
	// RepositoryID identifies the backup at Destination, so a drive that
	// comes back under another letter or mount point is recognised.
	RepositoryID string `json:"repositoryID,omitempty"`
	// App holds the choices made in the app (the setup wizard, Settings).
	App *AppSettings `json:"gui,omitempty"`
	// Offsite is the second copy's destination (offsite.go).
	Offsite *OffsiteSettings `json:"offsite,omitempty"`
}

// AppSettings are the choices made in the app.
type AppSettings struct {
	// SetupStep is the setup wizard's page, so a wizard closed midway
	// resumes there; -1 once set up. Absent means not started.
	SetupStep *int `json:"setupStep,omitempty"`
	// Notifications is false when the owner turned OS notifications off.
	Notifications *bool `json:"notifications,omitempty"`
	// Schedule is when backups run.
	Schedule *ScheduleChoice `json:"schedule,omitempty"`
	// Retention is how long old versions are kept.
	Retention *Retention `json:"retention,omitempty"`
	// EjectAfterBackup ejects the backup drive after each scheduled
	// backup (eject.go).
	EjectAfterBackup bool `json:"ejectAfterBackup,omitempty"`
}

// ScheduleChoice is when backups run by themselves: every EveryHours
// hours when > 0, else daily at At ("21:00").
type ScheduleChoice struct {
	EveryHours        int    `json:"everyHours,omitempty"`
	At                string `json:"at,omitempty"`
	OnlyWhenConnected bool   `json:"onlyWhenConnected"`
}

// DefaultScheduleChoice is a backup every evening at nine, when the
// drive is connected.
func DefaultScheduleChoice() ScheduleChoice {
	return ScheduleChoice{At: "21:00", OnlyWhenConnected: true}
}

// Retention is how long old versions are kept, in the owner's units.
// (Its field names are the saved form; keep them.)
type Retention struct {
	KeepAllDays                               int
	KeepDaily, KeepWeekly, KeepMonthly, Years int
	// KeepDeletedYears is how long deleted items stay restorable.
	KeepDeletedYears int
}

// DefaultRetention is repo.DefaultPolicy in the owner's units.
func DefaultRetention() Retention {
	p := repo.DefaultPolicy()
	return Retention{KeepAllDays: int(p.KeepAllWithin / (24 * time.Hour)), KeepDaily: p.KeepDaily, KeepWeekly: p.KeepWeekly,
		KeepMonthly: p.KeepMonthly, Years: p.KeepYearly, KeepDeletedYears: int(p.KeepDeletedFor / (365 * 24 * time.Hour))}
}

// Policy is r as the repository's retention policy.
func (r Retention) Policy() repo.Policy {
	return repo.Policy{KeepAllWithin: time.Duration(r.KeepAllDays) * 24 * time.Hour, KeepDaily: r.KeepDaily, KeepWeekly: r.KeepWeekly,
		KeepMonthly: r.KeepMonthly, KeepYearly: r.Years, KeepDeletedFor: time.Duration(r.KeepDeletedYears) * 365 * 24 * time.Hour}
}

// app returns the app's part of the settings, never nil.
func (st Settings) app() AppSettings {
	if st.App == nil {
		return AppSettings{}
	}
	return *st.App
}

// Retention is the retention the owner chose, or the default.
func (st Settings) Retention() Retention {
	if r := st.app().Retention; r != nil {
		return *r
	}
	return DefaultRetention()
}

// settingsStore reads and updates settings.json; the mutex keeps two
// screens saving at once from losing each other's change.
type settingsStore struct {
	dir string
	mu  sync.Mutex
}

func (s *settingsStore) load() (Settings, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return LoadSettings(s.dir)
}

func (s *settingsStore) update(f func(st *Settings)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := LoadSettings(s.dir)
	if err != nil {
		return err
	}
	if st.App == nil {
		st.App = &AppSettings{}
	}
	f(&st)
	return SaveSettings(s.dir, st)
}

// Settings reads the saved settings; a missing file means the defaults.
func (s *Service) Settings() (Settings, error) { return s.settings.load() }

// UpdateSettings applies f to the saved settings and saves them
// crash-safely. f may assume st.App is not nil.
func (s *Service) UpdateSettings(f func(st *Settings)) error { return s.settings.update(f) }

// SetRetention saves how long old versions are kept.
func (s *Service) SetRetention(r Retention) error {
	if r.Policy().Empty() {
		return errors.New("keep at least some versions (for example every version for 30 days)")
	}
	return s.UpdateSettings(func(st *Settings) { st.App.Retention = &r })
}

// Notifications reports whether the owner wants OS notifications.
func (s *Service) Notifications() bool {
	st, err := s.Settings()
	if err != nil {
		return true
	}
	if n := st.app().Notifications; n != nil {
		return *n
	}
	return true
}

// SetNotifications turns OS notifications on or off.
func (s *Service) SetNotifications(on bool) error {
	return s.UpdateSettings(func(st *Settings) { st.App.Notifications = &on })
}

// SetupStep is the setup wizard's saved page; ok is false when setup has
// not started.
func (s *Service) SetupStep() (step int, ok bool, err error) {
	st, err := s.Settings()
	if err != nil {
		return 0, false, err
	}
	if p := st.app().SetupStep; p != nil {
		return *p, true, nil
	}
	return 0, false, nil
}

// SaveSetupStep remembers the setup wizard's page.
func (s *Service) SaveSetupStep(step int) error {
	return s.UpdateSettings(func(st *Settings) { st.App.SetupStep = &step })
}

// Destination is the chosen backup folder, "" when none is.
func (s *Service) Destination() string {
	st, err := s.Settings()
	if err != nil {
		return ""
	}
	return st.Destination
}

// LoadSettings reads dir/settings.json; a missing file means defaults.
func LoadSettings(dir string) (Settings, error) {
	var st Settings
	b, path, err := readStateFile(dir, SettingsFile)
	if err != nil || b == nil {
		return st, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&st); err != nil {
		return Settings{}, fmt.Errorf("settings %s is not valid (fix or delete it): %w", path, err)
	}
	return st, nil
}

// SaveSettings writes dir/settings.json crash-safely.
func SaveSettings(dir string, st Settings) error {
	if err := writeJSONFile(dir, SettingsFile, st); err != nil {
		return fmt.Errorf("save settings: %w", err)
	}
	return nil
}

// readStateFile reads a small state file of the config folder; nil bytes
// and no error when it does not exist.
func readStateFile(dir, name string) ([]byte, string, error) {
	path := filepath.Join(dir, name)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, path, nil
	}
	if err != nil {
		return nil, path, fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxStateFile+1))
	if err != nil {
		return nil, path, fmt.Errorf("read %s: %w", path, err)
	}
	if len(b) > maxStateFile {
		return nil, path, fmt.Errorf("%s is larger than %d bytes; is it the right file? Delete it to start afresh", path, maxStateFile)
	}
	return b, path, nil
}

// writeJSONFile writes v as dir/name so that a crash leaves the old or the
// new file, never half of each (secret.WriteFileAtomic: temporary file,
// sync, rename, folder sync), readable only by the owner.
func writeJSONFile(dir, name string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return secret.WriteFileAtomic(filepath.Join(dir, name), append(b, '\n'))
}
