package gui

import (
	"testing"

	"github.com/lifeboat-backup/lifeboat/app/apptest"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/volumes"
)

type syncBuffer = apptest.SyncBuffer

func loginEnv(t *testing.T, opts m365sim.Options) (*m365sim.Server, string, string) {
	t.Helper()
	return apptest.LoginEnv(t, opts)
}

// roomyDisks reports every drive as a 2 TB disk with 1.5 TB free, so that
// no test depends on how full the test machine's disk happens to be.
func roomyDisks() volumes.Options {
	return volumes.Options{Space: func(string) (uint64, uint64, error) { return 2 << 40, 3 << 39, nil }}
}
