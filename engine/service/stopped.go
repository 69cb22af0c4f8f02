package service

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"

	"github.com/lifeboat-backup/lifeboat/engine/backup"
	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/health"
	"github.com/lifeboat-backup/lifeboat/engine/repo"
)

// StoppedFile keeps, in the config folder, the last backup that its
// destination stopped (full, or gone mid-run), for the dashboard and
// `lifeboat status`: the catalog records the run as failed, but not the
// drive's free space and the estimate of what was still to store.
const StoppedFile = "stopped.json"

type stoppedRecord struct {
	RepositoryID string            `json:"repositoryID"`
	Run          health.StoppedRun `json:"run"`
}

// recordStopped keeps res's stop when the destination stopped it and
// forgets an earlier one when res finished; other failures (sign-in,
// Microsoft refusing) change nothing about the drive.
func (s *Service) recordStopped(r *repo.Repository, res backup.Result) {
	path := filepath.Join(s.o.ConfigDir, StoppedFile)
	if st := res.HealthInput(); st != nil {
		rec := stoppedRecord{RepositoryID: r.Config().ID.String(), Run: *st}
		if rec.Run.At.IsZero() {
			rec.Run.At = s.now()
		}
		if err := writeJSONFile(s.o.ConfigDir, StoppedFile, rec); err != nil {
			s.o.Logger.Warn("could not record the stopped backup", "err", err)
		}
		return
	}
	if res.Status == catalog.RunCompleted || res.Status == catalog.RunCompletedWithWarnings {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			s.o.Logger.Warn("could not forget the stopped backup", "err", err)
		}
	}
}

// lastStopped is the recorded stop of a backup of the repository with ID
// repoID (any, when ""), nil when there is none.
func (s *Service) lastStopped(repoID string) *health.StoppedRun {
	b, _, err := readStateFile(s.o.ConfigDir, StoppedFile)
	if err != nil || b == nil {
		return nil
	}
	var rec stoppedRecord
	if json.Unmarshal(b, &rec) != nil || (repoID != "" && rec.RepositoryID != repoID) || (!rec.Run.DriveFull && !rec.Run.DriveMissing) {
		return nil
	}
	return &rec.Run
}

func asDriveFull(err error) *backup.DriveFullError {
	var full *backup.DriveFullError
	if errors.As(err, &full) {
		return full
	}
	return nil
}
