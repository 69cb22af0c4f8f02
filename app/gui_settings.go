package main

import (
	"fmt"
	"sync"

	"github.com/lifeboat-backup/lifeboat/engine/repo"
	"github.com/lifeboat-backup/lifeboat/ui"
)

// guiSettings are the app's own choices in settings.json.
type guiSettings struct {
	// SetupStep is the setup wizard's page, so a wizard closed midway
	// resumes there; -1 (ui.SetupDone) once set up. Absent means not
	// started.
	SetupStep *int `json:"setupStep,omitempty"`
	// Notifications is false when the owner turned OS notifications off.
	Notifications *bool `json:"notifications,omitempty"`
	// Schedule is when backups run.
	Schedule *scheduleSettings `json:"schedule,omitempty"`
	// Retention is how long old versions are kept.
	Retention *ui.Retention `json:"retention,omitempty"`
}

// scheduleSettings is the saved form of ui.Schedule.
type scheduleSettings struct {
	EveryHours        int    `json:"everyHours,omitempty"`
	At                string `json:"at,omitempty"`
	OnlyWhenConnected bool   `json:"onlyWhenConnected"`
}

// settingsStore reads and updates settings.json for the app; the mutex
// keeps two screens saving at once from losing each other's change.
type settingsStore struct {
	dir string
	mu  sync.Mutex
}

func (s *settingsStore) load() (settings, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return loadSettings(s.dir)
}

// update applies f to the saved settings and saves them.
func (s *settingsStore) update(f func(st *settings, gs *guiSettings)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := loadSettings(s.dir)
	if err != nil {
		return err
	}
	if st.GUI == nil {
		st.GUI = &guiSettings{}
	}
	f(&st, st.GUI)
	return saveSettings(s.dir, st)
}

// gui returns the app's part of the settings, never nil.
func (st settings) gui() guiSettings {
	if st.GUI == nil {
		return guiSettings{}
	}
	return *st.GUI
}

// retentionFor is the retention the owner chose in the app (Settings ›
// Old versions) as prune's flags: scheduled prunes should use it instead of
// the defaults.
func retentionFor(st settings) (keepWithin string, p repo.Policy) {
	r := defaultRetention()
	if saved := st.gui().Retention; saved != nil {
		r = *saved
	}
	return fmt.Sprintf("%dd", r.KeepAllDays), retentionPolicy(r)
}
