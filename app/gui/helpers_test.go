package gui

import (
	"bytes"
	"path/filepath"
	"sync"
	"testing"

	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
	"github.com/lifeboat-backup/lifeboat/engine/volumes"
)

// syncBuffer is a bytes.Buffer safe for writers on other goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// loginEnv starts a simulator, writes its profile and clears the
// environment Lifeboat reads. It returns the profile and a config folder.
func loginEnv(t *testing.T, opts m365sim.Options) (*m365sim.Server, string, string) {
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

// roomyDisks reports every drive as a 2 TB disk with 1.5 TB free, so that
// no test depends on how full the test machine's disk happens to be.
func roomyDisks() volumes.Options {
	return volumes.Options{Space: func(string) (uint64, uint64, error) { return 2 << 40, 3 << 39, nil }}
}
