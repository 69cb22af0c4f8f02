package storetest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/store"
)

// Clock is the time a versioned store's tests run on: a simulated clock
// that Advance moves at once, or the real clock that Advance sleeps on
// (a real server enforces its locks on its own clock).
type Clock interface {
	Advance(d time.Duration)
}

// NewVersioned makes a new, empty versioned store that locks what it
// writes with policy, and the clock its locks run on.
type NewVersioned func(t *testing.T, policy store.LockPolicy) (store.Versioned, Clock)

// RunVersioned is the conformance suite of versioned, locking stores: it
// checks the object-lock behaviour Lifeboat relies on (overwrites and
// deletes keep old versions, locked versions cannot be destroyed, a lock
// only grows, lapsed versions can be removed, reading as of a time). The
// lock period is a few seconds so that a real server can be tested on its
// real clock.
func RunVersioned(t *testing.T, newStore NewVersioned) {
	policy := store.LockPolicy{Period: 2 * time.Second, Slack: time.Second}
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Versioned, c Clock, p store.LockPolicy)
	}{
		{"VersionsKept", testVersionsKept},
		{"LockedCannotBeDestroyed", testLockedCannotBeDestroyed},
		{"UnlockedNames", testUnlockedNames},
		{"AsOf", testAsOf},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, c := newStore(t, policy)
			tc.fn(t, s, c, policy)
		})
	}
}

func versions(t *testing.T, s store.Versioned, name string) []store.Version {
	t.Helper()
	var out []store.Version
	if err := s.ListVersions(context.Background(), name, func(v store.Version) error {
		if v.Name == name {
			out = append(out, v)
		}
		return nil
	}); err != nil {
		t.Fatalf("ListVersions(%q): %v", name, err)
	}
	return out
}

func readVersion(t *testing.T, s store.Versioned, name, id string) []byte {
	t.Helper()
	rc, err := s.GetVersion(context.Background(), name, id, 0, -1)
	if err != nil {
		t.Fatalf("GetVersion(%q, %q): %v", name, id, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func testVersionsKept(t *testing.T, s store.Versioned, _ Clock, _ store.LockPolicy) {
	ctx := context.Background()
	first, second := Data(11, 5000), Data(12, 7000)
	MustPut(t, s, "data/aa/obj", first)
	MustPut(t, s, "data/aa/obj", second)
	if got := MustGet(t, s, "data/aa/obj"); !bytes.Equal(got, second) {
		t.Fatal("Get after an overwrite does not return the new content")
	}
	vs := versions(t, s, "data/aa/obj")
	if len(vs) != 2 {
		t.Fatalf("%d versions after two Puts, want 2: %+v", len(vs), vs)
	}
	var old store.Version
	for _, v := range vs {
		if !v.Latest {
			old = v
		}
	}
	if old.VersionID == "" || !bytes.Equal(readVersion(t, s, "data/aa/obj", old.VersionID), first) || old.Size != int64(len(first)) {
		t.Fatalf("the overwritten version is not readable as it was: %+v", old)
	}
	if err := s.Delete(ctx, "data/aa/obj"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := s.Stat(ctx, "data/aa/obj"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Stat after Delete = %v, want ErrNotFound", err)
	}
	if n := Names(t, s, "data/"); len(n) != 0 {
		t.Fatalf("List after Delete shows %q", n)
	}
	vs = versions(t, s, "data/aa/obj")
	markers := 0
	for _, v := range vs {
		if v.DeleteMarker {
			markers++
			if !v.Latest {
				t.Error("the delete marker is not the latest version")
			}
		}
	}
	if len(vs) != 3 || markers != 1 {
		t.Fatalf("after Delete: %d versions, %d delete markers; want 3 and 1", len(vs), markers)
	}
	if !bytes.Equal(readVersion(t, s, "data/aa/obj", old.VersionID), first) {
		t.Fatal("a deleted object's old version is no longer readable")
	}
}

func testLockedCannotBeDestroyed(t *testing.T, s store.Versioned, c Clock, p store.LockPolicy) {
	ctx := context.Background()
	before, err := s.Now(ctx)
	if err != nil {
		t.Fatalf("Now: %v", err)
	}
	MustPut(t, s, "data/bb/locked", []byte("keep me"))
	vs := versions(t, s, "data/bb/locked")
	if len(vs) != 1 {
		t.Fatalf("versions = %+v", vs)
	}
	v := vs[0]
	// Lock dates have second precision on S3.
	lo, hi := before.Add(p.Period+p.Slack-2*time.Second), before.Add(p.Period+p.Slack+5*time.Second)
	if v.RetainUntil.Before(lo) || v.RetainUntil.After(hi) {
		t.Fatalf("new object locked until %v, want about %v", v.RetainUntil, before.Add(p.Period+p.Slack))
	}
	if err := s.DeleteVersion(ctx, v.Name, v.VersionID); !errors.Is(err, store.ErrRetained) {
		t.Fatalf("DeleteVersion of a locked version = %v, want ErrRetained", err)
	}
	// A "shorter" lock is ignored, a longer one kept.
	if err := s.ExtendRetention(ctx, v.Name, v.VersionID, before.Add(time.Second)); err != nil {
		t.Fatalf("ExtendRetention to an earlier date: %v", err)
	}
	if got := versions(t, s, "data/bb/locked")[0].RetainUntil; got.Before(v.RetainUntil) {
		t.Fatalf("lock shortened from %v to %v", v.RetainUntil, got)
	}
	longer := v.RetainUntil.Add(2 * time.Second).Truncate(time.Second)
	if err := s.ExtendRetention(ctx, v.Name, v.VersionID, longer); err != nil {
		t.Fatalf("ExtendRetention: %v", err)
	}
	if got := versions(t, s, "data/bb/locked")[0].RetainUntil; got.Before(longer) {
		t.Fatalf("lock after extension %v, want %v", got, longer)
	}
	// Hiding works even while locked; destroying waits for the date.
	if err := s.Delete(ctx, v.Name); err != nil {
		t.Fatalf("Delete (hide) of a locked object: %v", err)
	}
	c.Advance(p.Period + p.Slack + time.Second)
	if err := s.DeleteVersion(ctx, v.Name, v.VersionID); !errors.Is(err, store.ErrRetained) {
		t.Fatalf("DeleteVersion before the extended date = %v, want ErrRetained", err)
	}
	c.Advance(3 * time.Second)
	if err := s.DeleteVersion(ctx, v.Name, v.VersionID); err != nil {
		t.Fatalf("DeleteVersion after the lock lapsed: %v", err)
	}
	for _, left := range versions(t, s, "data/bb/locked") {
		if left.VersionID == v.VersionID {
			t.Fatal("the version is still listed after DeleteVersion")
		}
		if left.DeleteMarker {
			if err := s.DeleteVersion(ctx, left.Name, left.VersionID); err != nil {
				t.Fatalf("removing the delete marker: %v", err)
			}
		}
	}
	if vs := versions(t, s, "data/bb/locked"); len(vs) != 0 {
		t.Fatalf("versions left: %+v", vs)
	}
}

func testUnlockedNames(t *testing.T, s store.Versioned, _ Clock, _ store.LockPolicy) {
	MustPut(t, s, "locks/0123", []byte("lock"))
	vs := versions(t, s, "locks/0123")
	if len(vs) != 1 || !vs[0].RetainUntil.IsZero() {
		t.Fatalf("lock file versions = %+v, want one without a lock", vs)
	}
	if err := s.DeleteVersion(context.Background(), vs[0].Name, vs[0].VersionID); err != nil {
		t.Fatalf("DeleteVersion of an unlocked version: %v", err)
	}
}

func testAsOf(t *testing.T, s store.Versioned, c Clock, _ store.LockPolicy) {
	ctx := context.Background()
	MustPut(t, s, "config", []byte("good config"))
	MustPut(t, s, "data/cc/pack", []byte("good pack"))
	// Version times and the server's Date header have one-second
	// precision on S3.
	c.Advance(1600 * time.Millisecond)
	at, err := s.Now(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c.Advance(1600 * time.Millisecond)
	MustPut(t, s, "config", []byte("attacker's config"))
	if err := s.Delete(ctx, "data/cc/pack"); err != nil {
		t.Fatal(err)
	}
	MustPut(t, s, "data/dd/later", []byte("written after"))
	view, err := store.AsOf(ctx, s, at)
	if err != nil {
		t.Fatalf("AsOf: %v", err)
	}
	if got := string(MustGet(t, view, "config")); got != "good config" {
		t.Fatalf("config as of before the overwrite = %q", got)
	}
	if got := string(MustGet(t, view, "data/cc/pack")); got != "good pack" {
		t.Fatalf("pack as of before the delete = %q", got)
	}
	if _, err := view.Stat(ctx, "data/dd/later"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("an object written later is visible as of before: %v", err)
	}
	if got := Names(t, view, ""); len(got) != 2 {
		t.Fatalf("names as of before = %q", got)
	}
	if err := view.Put(ctx, "x", bytes.NewReader(nil), 0); !errors.Is(err, store.ErrReadOnly) {
		t.Fatalf("Put on the view = %v, want ErrReadOnly", err)
	}
}
