package service

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/lifeboat-backup/lifeboat/engine/repo"
	"github.com/lifeboat-backup/lifeboat/engine/secret"
	"github.com/lifeboat-backup/lifeboat/engine/store"
)

// ErrDriveMissing matches the error for a backup folder that is not
// there (the drive is unplugged, the share unreachable).
var ErrDriveMissing = errors.New("backup drive not found")

// DriveMissingError says which folder is missing.
type DriveMissingError struct{ Path string }

func (e *DriveMissingError) Error() string {
	return fmt.Sprintf("backup drive not found: %s does not exist. Connect the backup drive (or check that the network share is reachable) and try again", e.Path)
}

// Is makes errors.Is(err, ErrDriveMissing) true.
func (e *DriveMissingError) Is(target error) bool { return target == ErrDriveMissing }

func driveNotFound(dir string) error { return &DriveMissingError{Path: dir} }

// NeedRecoveryKeyError means this computer cannot open the backup by
// itself (its keychain holds no key for it, or is unavailable): the
// recovery key is needed. Why says so for people.
type NeedRecoveryKeyError struct {
	Dir string
	Why string
	Err error
}

func (e *NeedRecoveryKeyError) Error() string { return e.Why }
func (e *NeedRecoveryKeyError) Unwrap() error { return e.Err }

// openStore opens an existing backup folder.
func openStore(dir string) (*store.Local, error) {
	if dir == "" {
		return nil, badInput(errors.New("which backup? name the backup folder"))
	}
	st, err := store.NewLocal(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, driveNotFound(dir)
	}
	if err != nil {
		return nil, fmt.Errorf("cannot open the backup folder: %w", err)
	}
	return st, nil
}

// repoKeyStore is where this computer keeps its key of each backup.
func (s *Service) repoKeyStore() repo.KeyStore {
	return repo.KeychainKeyStore(s.o.Keychain, repo.DefaultKeychainService)
}

// OpenBackup opens the backup in dir: with recoveryKey when it is given,
// else with this computer's keychain. When the keychain cannot open it,
// the error is a *NeedRecoveryKeyError: ask for the recovery key and call
// again with it.
func (s *Service) OpenBackup(ctx context.Context, dir, recoveryKey string) (*repo.Repository, error) {
	st, err := openStore(dir)
	if err != nil {
		return nil, err
	}
	opts := s.repoOptions()
	if recoveryKey != "" {
		r, err := repo.Open(ctx, st, recoveryKey, opts)
		if err != nil {
			if e := explainOpen(err, dir); e != nil {
				return nil, e
			}
			return nil, fmt.Errorf("opening the backup in %s: %w", dir, err)
		}
		return r, nil
	}
	r, err := repo.OpenWithKeyStore(ctx, st, s.repoKeyStore(), opts)
	if err == nil {
		return r, nil
	}
	if e := explainOpen(err, dir); e != nil {
		return nil, e
	}
	why := "this computer's keychain holds no key for the backup in " + dir
	if errors.Is(err, secret.ErrUnavailable) {
		why = Explain(err).Error()
	}
	return nil, &NeedRecoveryKeyError{Dir: dir, Why: why, Err: err}
}

// explainOpen turns the errors that have nothing to do with the keychain
// into messages for people; it returns nil for the others.
func explainOpen(err error, dir string) error {
	switch {
	case errors.Is(err, repo.ErrNotRepository):
		return explained(fmt.Sprintf("%s is not a Lifeboat backup (no config file in it); check the folder, or create one with `lifeboat init --to %s`", dir, dir), err)
	case errors.Is(err, repo.ErrNewerVersion):
		return fmt.Errorf("the backup in %s was written by a newer version of Lifeboat: %w", dir, err)
	case errors.Is(err, repo.ErrWrongKey):
		return explained(fmt.Sprintf("wrong recovery key: it does not open the backup in %s (check it against what you wrote down)", dir), err)
	case errors.Is(err, repo.ErrInvalidRecoveryKey):
		return fmt.Errorf("that is not a valid recovery key: %w", err)
	}
	return nil
}

// explainedError is a sentence for people that still matches the engine
// error behind it.
type explainedError struct {
	msg string
	err error
}

func (e *explainedError) Error() string { return e.msg }
func (e *explainedError) Unwrap() error { return e.err }

func explained(msg string, err error) error { return &explainedError{msg: msg, err: err} }

// NewBackup is a backup just created.
type NewBackup struct {
	Dir          string
	RepositoryID string
	// RecoveryKey is shown once; nobody can open the backup on another
	// computer without it.
	RecoveryKey string
	// KeychainErr, when set, says why this computer could not keep a key
	// of its own: until fixed, the backup opens with the recovery key only.
	KeychainErr error
	// Warnings are what the check of the folder's storage found worth
	// saying (sharecheck.go): backups work there, with the risk named.
	Warnings []string
}

// InitBackup creates a new, empty backup in dir (new, or an empty folder)
// and keeps this computer's key to it in the keychain. With remember, the
// folder becomes the chosen backup destination (the app's setup).
func (s *Service) InitBackup(ctx context.Context, dir string, remember bool) (NewBackup, error) {
	nb := NewBackup{Dir: dir}
	if err := prepareInitFolder(dir); err != nil {
		return nb, err
	}
	st, err := openStore(dir)
	if err != nil {
		return nb, err
	}
	// A folder whose storage breaks what crash-safe writes need is refused
	// before anything is written (network shares are where this happens).
	rep, err := s.probeFolder(ctx, dir, true)
	if err != nil {
		return nb, fmt.Errorf("cannot use %s for a backup: %w", dir, err)
	}
	if err := rep.Err(); err != nil {
		return nb, unsafeShare(dir, err)
	}
	for _, f := range rep.Warnings() {
		nb.Warnings = append(nb.Warnings, f.Sentence)
	}
	r, rk, err := repo.Init(ctx, st, s.repoOptions())
	if errors.Is(err, repo.ErrAlreadyExists) {
		return nb, fmt.Errorf("%s already holds a Lifeboat backup; nothing was changed", dir)
	}
	if err != nil {
		return nb, fmt.Errorf("creating the backup in %s: %w", dir, err)
	}
	defer r.Close()
	nb.RecoveryKey, nb.RepositoryID = rk.String(), r.Config().ID.String()
	if _, err := r.AddKeyStoreSlot(ctx, s.repoKeyStore()); err != nil {
		nb.KeychainErr = Explain(err)
	}
	if remember {
		if err := s.UpdateSettings(func(st *Settings) { st.Destination, st.RepositoryID = dir, nb.RepositoryID }); err != nil {
			return nb, err
		}
	}
	return nb, nil
}

// prepareInitFolder makes sure dir is a folder that is new or empty. It
// creates only the last path element: a missing parent usually means the
// drive is not connected, and creating it would fill the system disk.
func prepareInitFolder(dir string) error {
	if dir == "" {
		return badInput(errors.New("which folder? name the folder for the new backup"))
	}
	fi, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		parent := filepath.Dir(filepath.Clean(dir))
		if _, perr := os.Stat(parent); errors.Is(perr, fs.ErrNotExist) {
			return driveNotFound(parent)
		}
		if err := os.Mkdir(dir, 0o700); err != nil {
			return fmt.Errorf("creating the backup folder: %w", err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("cannot use %s: %w", dir, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is a file, not a folder", dir)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("cannot read %s: %w", dir, err)
	}
	if len(entries) == 0 {
		return nil
	}
	if _, err := os.Stat(filepath.Join(dir, "config")); err == nil {
		return fmt.Errorf("%s already holds a Lifeboat backup; nothing was changed", dir)
	}
	return fmt.Errorf("%s is not empty and is not a Lifeboat backup; choose a new or empty folder", dir)
}

// ReplaceRecoveryKey makes a new recovery key for the chosen backup and
// removes every other recovery-key slot, so the old key stops working.
// This computer's keychain slot stays.
func (s *Service) ReplaceRecoveryKey(ctx context.Context) (string, error) {
	dir := s.Destination()
	if dir == "" {
		return "", errors.New("no backup drive is chosen yet")
	}
	r, err := s.OpenBackup(ctx, dir, "")
	if err != nil {
		return "", err
	}
	defer r.Close()
	before, err := r.Keys(ctx)
	if err != nil {
		return "", fmt.Errorf("reading the backup's keys: %w", err)
	}
	rk, info, err := r.AddRecoveryKey(ctx)
	if err != nil {
		return "", fmt.Errorf("making a new recovery key: %w", err)
	}
	for _, old := range before {
		if old.Kind == repo.RecoveryKeySlot && old.ID != info.ID {
			if err := r.RemoveKey(ctx, old.ID, nil); err != nil {
				return "", fmt.Errorf("the new key works, but the old one could not be removed (try again): %w", err)
			}
		}
	}
	return rk.String(), nil
}
