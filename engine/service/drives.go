package service

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/volumes"
)

// Drive is a place a backup can go: a connected disk, with the folder
// suggested on it.
type Drive struct {
	Name string
	// Path is the suggested backup folder on it.
	Path        string
	Free, Total uint64
	// External is a USB drive or a network share; System the disk the
	// operating system runs from.
	External, System bool
}

// Drives lists the connected drives, each with a suggested backup folder.
func (s *Service) Drives() ([]Drive, error) {
	vols, err := volumes.List(s.o.Volumes)
	if err != nil {
		return nil, fmt.Errorf("listing drives: %w", err)
	}
	home, _ := os.UserHomeDir()
	var out []Drive
	for _, v := range vols {
		path := filepath.Join(v.Path, "Lifeboat Backup")
		if v.System && home != "" {
			// The root of the system disk is not writable; its suggestion
			// is a folder in the person's home.
			path = filepath.Join(home, "Lifeboat Backup")
		}
		out = append(out, Drive{Name: v.Label, Path: path, Free: v.Free, Total: v.Total, External: v.External || v.Network, System: v.System})
	}
	return out, nil
}

// InspectDrive describes the drive that holds path (which need not exist
// yet): its free space and whether it is the system disk.
func (s *Service) InspectDrive(path string) (Drive, error) {
	if !filepath.IsAbs(path) && !strings.HasPrefix(path, `\\`) {
		return Drive{}, badInput(fmt.Errorf("type the full path of the folder, such as %s", filepath.Join(string(filepath.Separator)+"media", "USB", "Lifeboat")))
	}
	vols, err := volumes.List(s.o.Volumes)
	if err != nil {
		return Drive{}, fmt.Errorf("listing drives: %w", err)
	}
	clean := filepath.Clean(path)
	best := -1
	for i, v := range vols {
		mp := filepath.Clean(v.Path)
		if clean == mp || strings.HasPrefix(clean, strings.TrimSuffix(mp, string(filepath.Separator))+string(filepath.Separator)) {
			if best < 0 || len(mp) > len(filepath.Clean(vols[best].Path)) {
				best = i
			}
		}
	}
	if best < 0 {
		return Drive{Name: path}, nil
	}
	v := vols[best]
	return Drive{Name: v.Label, Path: path, Free: v.Free, Total: v.Total, External: v.External || v.Network, System: v.System}, nil
}

// FindDestination is the chosen backup folder; when it is missing, the
// backup is looked for on the connected drives (a USB drive that came back
// under another mount point) and the settings follow it. "" when no
// backup is chosen.
func (s *Service) FindDestination(ctx context.Context) string {
	st, err := s.Settings()
	if err != nil || st.Destination == "" {
		return ""
	}
	if _, err := os.Stat(st.Destination); err == nil || st.RepositoryID == "" {
		return st.Destination
	}
	found, err := volumes.FindRepository(ctx, st.RepositoryID, volumes.FindOptions{Volumes: s.o.Volumes, Roots: s.o.FindRoots})
	if err != nil {
		return st.Destination // reported as a missing drive
	}
	s.o.Logger.Info("backup drive found at a new place", "path", found)
	if err := s.UpdateSettings(func(set *Settings) { set.Destination = found }); err != nil {
		s.o.Logger.Warn("remembering the backup drive's new place", "err", err)
	}
	return found
}

// WatchForMissedBackup is the app's half of "plug the drive in": when the
// last scheduled run found no backup drive, it waits (while the app or
// tray runs) for the drive with the backup's ID to appear, under any
// drive letter or mount point, records where it now is, and calls start
// to run the missed backup. It returns at once; the wait ends with ctx.
func (s *Service) WatchForMissedBackup(ctx context.Context, every time.Duration, start func()) {
	st, err := LoadScheduleState(s.o.ConfigDir)
	if err != nil || st.LastMissing.IsZero() {
		return
	}
	set, err := s.Settings()
	if err != nil || set.RepositoryID == "" {
		return
	}
	go func() {
		path, err := volumes.WaitForRepository(ctx, set.RepositoryID, every, volumes.FindOptions{Volumes: s.o.Volumes, Roots: s.o.FindRoots})
		if err != nil {
			return // cancelled: the app closed
		}
		if cur, err := s.Settings(); err == nil && cur.Destination != path {
			if err := s.UpdateSettings(func(set *Settings) { set.Destination = path }); err != nil {
				s.o.Logger.Warn("could not record where the backup drive is now", "err", err)
				return
			}
		}
		s.o.Logger.Info("the backup drive is connected again; starting the missed backup", "path", path)
		start()
	}()
}
