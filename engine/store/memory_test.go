package store_test

import (
	"testing"

	"github.com/lifeboat-backup/lifeboat/engine/store"
	"github.com/lifeboat-backup/lifeboat/engine/store/storetest"
)

func TestMemory(t *testing.T) {
	storetest.Run(t, func(*testing.T) store.Store { return store.NewMemory() })
}
