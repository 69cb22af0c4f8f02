package service

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/backup"
	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/repo"
)

// ErrNoCatalog means this computer has no catalog of a backup and the
// backup holds no copy of one yet (no backup has finished).
var ErrNoCatalog = backup.ErrNoCatalogCopy

// catalogPath is where this computer keeps the catalog of the backup with
// ID id: on the local disk (SQLite locking is unreliable on network
// shares), one file per repository ID.
func (s *Service) catalogPath(id string) string {
	return filepath.Join(s.o.ConfigDir, "catalogs", id+".db")
}

// OpenCatalog opens this computer's catalog of r, restoring it from the
// newest copy stored in the backup when it is missing (a fresh computer).
// Without a stored copy the error matches ErrNoCatalog.
func (s *Service) OpenCatalog(ctx context.Context, r *repo.Repository) (*catalog.Catalog, error) {
	path := s.catalogPath(r.Config().ID.String())
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		return catalog.Open(ctx, path, catalog.Options{})
	}
	c, _, err := backup.RestoreCatalogCopy(ctx, r, path, catalog.Options{})
	return c, err
}

// openCatalogForWriting opens (creating) this computer's catalog of r for
// a backup run.
func (s *Service) openCatalogForWriting(ctx context.Context, r *repo.Repository) (*catalog.Catalog, error) {
	path := s.catalogPath(r.Config().ID.String())
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("cannot create the catalog folder: %w", err)
	}
	c, err := catalog.Open(ctx, path, catalog.Options{})
	if err != nil {
		return nil, fmt.Errorf("opening the local catalog: %w", err)
	}
	return c, nil
}

// chosenCatalog opens the catalog of the chosen backup for reading; nil
// without error when no backup has run yet (it is not created just to be
// read).
func (s *Service) chosenCatalog(ctx context.Context) (*catalog.Catalog, error) {
	st, err := s.Settings()
	if err != nil || st.RepositoryID == "" {
		return nil, err
	}
	id, err := repo.ParseID(st.RepositoryID)
	if err != nil {
		return nil, fmt.Errorf("settings: repositoryID: %w", err)
	}
	path := s.catalogPath(id.String())
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	c, err := catalog.Open(ctx, path, catalog.Options{})
	if err != nil {
		return nil, fmt.Errorf("opening the backup history: %w", err)
	}
	return c, nil
}

// CatalogState is what RepairCatalog found.
type CatalogState int

// Catalog states.
const (
	// CatalogUndamaged: this computer's catalog passed its check.
	CatalogUndamaged CatalogState = iota
	// CatalogRestored: it was missing and was restored from the backup.
	CatalogRestored
	// CatalogDamagedRestored: it was damaged and was restored.
	CatalogDamagedRestored
	// CatalogNoCopy: the backup holds no copy yet; the next backup
	// builds the catalog.
	CatalogNoCopy
)

// CatalogRepair is what RepairCatalog did.
type CatalogRepair struct {
	State CatalogState
	// Damage says what was wrong with a damaged catalog.
	Damage error
	// CopyTime is when the restored copy was saved.
	CopyTime time.Time
}

// RepairCatalog checks this computer's catalog of the backup and, when it
// is missing or damaged, restores the newest copy stored in the backup.
func (s *Service) RepairCatalog(ctx context.Context, r *repo.Repository) (CatalogRepair, error) {
	var res CatalogRepair
	path := s.catalogPath(r.Config().ID.String())
	res.State = CatalogRestored
	if _, err := os.Stat(path); err == nil {
		c, err := catalog.Open(ctx, path, catalog.Options{IntegrityCheck: true})
		if err == nil {
			c.Close()
			return CatalogRepair{State: CatalogUndamaged}, nil
		}
		res.State, res.Damage = CatalogDamagedRestored, err
	}
	c, snap, err := backup.RestoreCatalogCopy(ctx, r, path, catalog.Options{})
	if errors.Is(err, backup.ErrNoCatalogCopy) {
		return CatalogRepair{State: CatalogNoCopy, Damage: res.Damage}, nil
	}
	if err != nil {
		return res, err
	}
	c.Close()
	res.CopyTime = snap.Time
	return res, nil
}
