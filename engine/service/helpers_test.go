package service

import (
	"path/filepath"
	"testing"

	"github.com/lifeboat-backup/lifeboat/engine/repo"
	"github.com/lifeboat-backup/lifeboat/engine/secret"
)

// testService is a service with a throwaway config folder, its keys in a
// file there, and the repository's cheap test key derivation.
func testService(t *testing.T, adjust func(*Options)) *Service {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), "config")
	ro := repo.TestOptions()
	o := Options{ConfigDir: cfg, CustomConfigDir: true, Keychain: secret.File{Dir: cfg}, Repo: &ro, OSSchedule: true}
	if adjust != nil {
		adjust(&o)
	}
	svc, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return svc
}
