package store_test

import (
	"sync"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/store"
	"github.com/lifeboat-backup/lifeboat/engine/store/storetest"
)

// simClock is a clock tests move by hand.
type simClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *simClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *simClock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func TestLockedMemory(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return store.NewLockedMemory(nil, store.LockPolicy{Period: time.Hour})
	})
}

func TestLockedMemoryVersioned(t *testing.T) {
	storetest.RunVersioned(t, func(t *testing.T, p store.LockPolicy) (store.Versioned, storetest.Clock) {
		c := &simClock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
		return store.NewLockedMemory(c.Now, p), c
	})
}
