// Package apptest holds what the front ends' tests share (DESIGN: helpers
// for other packages' tests live in non-test files): a buffer commands can
// write to while a test reads, a simulated tenant with the environment
// Lifeboat reads cleared, and opening a backup with the file keychain.
package apptest

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
	"github.com/lifeboat-backup/lifeboat/engine/repo"
	"github.com/lifeboat-backup/lifeboat/engine/secret"
	"github.com/lifeboat-backup/lifeboat/engine/store"
)

// SyncBuffer is a bytes.Buffer safe for a command writing while the test
// reads.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// LoginEnv starts a simulator, writes its profile and points the config
// folder at a temporary one, clearing the rest of the environment
// Lifeboat reads. It returns the profile path and the config folder.
func LoginEnv(t *testing.T, opts m365sim.Options) (*m365sim.Server, string, string) {
	t.Helper()
	srv := simtest.Start(t, nil, opts)
	profile := filepath.Join(t.TempDir(), "tenant.json")
	if err := m365sim.WriteProfile(profile, srv.Profile()); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "config")
	t.Setenv("LIFEBOAT_CONFIG_DIR", dir)
	t.Setenv("LIFEBOAT_CLIENT_ID", "")
	t.Setenv("LIFEBOAT_SECRET_STORE", "")
	t.Setenv("LIFEBOAT_TENANT_PROFILE", "")
	return srv, profile, dir
}

// OpenWithFileKeychain opens the backup in dir with the key the file
// secret store in configDir keeps (no Argon2id, so it is cheap to do
// often). The caller closes it.
func OpenWithFileKeychain(t testing.TB, dir, configDir string) *repo.Repository {
	t.Helper()
	st, err := store.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	ks := repo.KeychainKeyStore(secret.File{Dir: configDir}, repo.DefaultKeychainService)
	r, err := repo.OpenWithKeyStore(context.Background(), st, ks, repo.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("opening %s: %v", dir, err)
	}
	return r
}

// Runs returns the backup runs this computer's catalog of the backup with
// ID id holds (none when there is no catalog yet).
func Runs(t testing.TB, configDir, id string) []catalog.Run {
	t.Helper()
	path := filepath.Join(configDir, "catalogs", id+".db")
	if _, err := os.Stat(path); err != nil {
		return nil
	}
	cat, err := catalog.Open(context.Background(), path, catalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer cat.Close()
	runs, err := cat.Runs(context.Background(), 100)
	if err != nil {
		t.Fatal(err)
	}
	return runs
}
