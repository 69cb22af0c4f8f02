package s3store_test

import (
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/s3store"
	"github.com/lifeboat-backup/lifeboat/engine/s3store/s3test"
	"github.com/lifeboat-backup/lifeboat/engine/store"
	"github.com/lifeboat-backup/lifeboat/engine/store/storetest"
)

// realClock waits on the real clock: versitygw enforces locks on its own.
type realClock struct{}

func (realClock) Advance(d time.Duration) { time.Sleep(d) }

// TestConformance runs the store conformance suite against a real S3
// server, on a plain bucket, on a bucket with Object Lock, and under a
// folder prefix.
func TestConformance(t *testing.T) {
	srv := s3test.Start(t)
	t.Run("plain", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) store.Store { return srv.Store(t, srv.Bucket(t, false), nil) })
	})
	t.Run("locked", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) store.Store {
			return srv.Store(t, srv.Bucket(t, true), func(o *s3store.Options) { o.Lock = store.LockPolicy{Period: time.Hour} })
		})
	})
	t.Run("prefix", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) store.Store {
			return srv.Store(t, srv.Bucket(t, false), func(o *s3store.Options) { o.Prefix = "office/lifeboat" })
		})
	})
}

// TestVersioned runs the object-lock suite against the real server.
func TestVersioned(t *testing.T) {
	srv := s3test.Start(t)
	storetest.RunVersioned(t, func(t *testing.T, p store.LockPolicy) (store.Versioned, storetest.Clock) {
		return srv.Store(t, srv.Bucket(t, true), func(o *s3store.Options) { o.Lock = p }), realClock{}
	})
}
