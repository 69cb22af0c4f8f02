package repo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/store"
)

// simClock is a clock the test moves.
type simClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *simClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *simClock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func allVersions(t *testing.T, st store.Versioned) map[string][]store.Version {
	t.Helper()
	out := map[string][]store.Version{}
	if err := st.ListVersions(context.Background(), "", func(v store.Version) error {
		out[v.Name] = append(out[v.Name], v)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestLockExtensionTenDays: with a 2-day lock period on a simulated clock,
// ten days of daily backups, retention, prune and lock maintenance. What
// the remaining snapshots reference never has a lapsed lock; what they no
// longer reference is hidden by prune and its versions are removed once
// their locks have lapsed; no locked version is ever destroyed.
func TestLockExtensionTenDays(t *testing.T) {
	ctx := context.Background()
	day := 24 * time.Hour
	clock := &simClock{t: time.Date(2026, 3, 2, 21, 0, 0, 0, time.UTC)}
	policy := store.LockPolicy{Period: 2 * day, Slack: day}
	mem := store.NewLockedMemory(clock.Now, policy)
	st := &refusalCounter{LockedMemory: mem}
	opts := smallPackOptions()
	opts.Now = clock.Now
	opts.Hostname = "office-pc"
	r, _, err := Init(ctx, st, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()

	// Data every snapshot keeps (the company's old files), and each day's
	// own (what changed that day).
	var living []ID
	for i := range 3 {
		ref, err := r.SaveStream(ctx, bytes.NewReader(randomBytes(uint64(10+i), 100<<10)))
		if err != nil {
			t.Fatal(err)
		}
		living = append(living, ref.Chunks...)
	}
	dayPacks := map[int][]string{} // day → packs holding only that day's data
	everExtended := 0
	retention := LockedPolicy(Policy{KeepDaily: 1}, policy.Period)
	retention.Location = time.UTC

	for d := 1; d <= 10; d++ {
		now := clock.Now()
		// 1. Nothing referenced may be unlocked at any point in time: check
		// before this day's maintenance, the moment locks are closest to
		// lapsing.
		refd, err := r.referencedNames(ctx, testRefs)
		if err != nil {
			t.Fatal(err)
		}
		for name, vs := range allVersions(t, st) {
			if !refd[name] {
				continue
			}
			for _, v := range vs {
				if !v.DeleteMarker && !v.RetainUntil.After(now) {
					t.Fatalf("day %d: %s version %s is referenced but its lock lapsed at %v", d, name, v.VersionID, v.RetainUntil)
				}
			}
		}

		// 2. The day's backup.
		before := packSet(t, st)
		ref, err := r.SaveStream(ctx, bytes.NewReader(randomBytes(uint64(1000+d), 300<<10)))
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		for p := range packSet(t, st) {
			if !before[p] {
				dayPacks[d] = append(dayPacks[d], p)
			}
		}
		tree, _ := json.Marshal(append(append([]ID{}, living...), ref.Chunks...))
		root, _, err := r.SaveBlob(ctx, TreeBlob, tree)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.SaveSnapshot(ctx, &Snapshot{Account: "paul@example.com", Kind: "onedrive", Root: root}); err != nil {
			t.Fatal(err)
		}

		// 3. Retention (at least the lock period), prune, lock maintenance.
		snaps, err := r.ListSnapshots(ctx)
		if err != nil {
			t.Fatal(err)
		}
		_, forget, _ := Plan(SnapshotInfos(snaps), clock.Now(), retention)
		if _, err := r.Prune(ctx, PruneOptions{Forget: forget, Refs: testRefs, Grace: -1, RepackThreshold: -1}); err != nil {
			t.Fatalf("day %d: prune: %v", d, err)
		}
		lr, err := r.MaintainLocks(ctx, LockOptions{Refs: testRefs})
		if err != nil {
			t.Fatalf("day %d: maintain locks: %v", d, err)
		}
		if len(lr.Damaged) > 0 {
			t.Fatalf("day %d: damaged: %v", d, lr.Damaged)
		}
		everExtended += lr.Extended
		check, err := r.Check(ctx, CheckOptions{ReadData: true, Refs: testRefs})
		if err != nil || !check.OK() {
			t.Fatalf("day %d: check: %v %v", d, err, check.Problems)
		}
		clock.Advance(day)
	}
	if everExtended == 0 {
		t.Fatal("no lock was ever extended")
	}
	if st.refused != 0 {
		t.Fatalf("maintenance or prune tried %d times to destroy a locked version", st.refused)
	}

	// The packs of the first days' own data were forgotten, hidden, and,
	// their locks having lapsed, removed with every version.
	vs := allVersions(t, st)
	for d := 1; d <= 5; d++ {
		if len(dayPacks[d]) == 0 {
			t.Fatalf("day %d stored no pack of its own", d)
		}
		for _, p := range dayPacks[d] {
			if len(vs[p]) != 0 {
				t.Errorf("day %d's pack %s still has versions %+v", d, p, vs[p])
			}
		}
	}
	// The last days' packs are still there and locked past the horizon of
	// the last maintenance (a day ago).
	now := clock.Now().Add(-day)
	for _, p := range dayPacks[10] {
		if len(vs[p]) != 1 || vs[p][0].RetainUntil.Before(now.Add(policy.Period)) {
			t.Errorf("day 10's pack %s: %+v", p, vs[p])
		}
	}
	// The living data's packs, written on day 1, are still locked ten days
	// later: extended again and again.
	for _, id := range living {
		loc, _ := r.LookupBlob(id)
		pv := vs[packName(loc.Pack)]
		if len(pv) == 0 || pv[len(pv)-1].RetainUntil.Before(now.Add(policy.Period)) {
			t.Errorf("living pack %s: %+v", loc.Pack.Short(), pv)
		}
	}
	// And no lock holder can destroy a locked version.
	for _, p := range dayPacks[10] {
		if err := mem.DeleteVersion(ctx, p, vs[p][0].VersionID); !errors.Is(err, store.ErrRetained) {
			t.Fatalf("deleting a locked version: %v", err)
		}
	}
}

func packSet(t *testing.T, st store.Store) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, n := range listNames(t, st, dataDir) {
		out[n] = true
	}
	return out
}

// TestLockedRetentionIgnoresFakeFutureSnapshots: snapshots dated in the
// future (an attacker's) are kept but take no daily place, and LockedPolicy
// keeps every snapshot of the lock period.
func TestLockedRetentionIgnoresFakeFutureSnapshots(t *testing.T) {
	now := time.Date(2026, 3, 20, 12, 0, 0, 0, time.UTC)
	var snaps []SnapshotInfo
	var real []ID
	for d := range 10 {
		id := ID{byte(d + 1)}
		real = append(real, id)
		snaps = append(snaps, SnapshotInfo{ID: id, Time: now.Add(-time.Duration(d) * 24 * time.Hour), Account: "a", Kind: "mail"})
	}
	for d := range 30 {
		snaps = append(snaps, SnapshotInfo{ID: ID{0xf0, byte(d)}, Time: now.Add(time.Duration(d+1) * 24 * time.Hour), Account: "a", Kind: "mail"})
	}
	p := LockedPolicy(Policy{KeepDaily: 7, Location: time.UTC}, 5*24*time.Hour)
	keep, _, _ := Plan(snaps, now, p)
	kept := map[ID]bool{}
	for _, id := range keep {
		kept[id] = true
	}
	for d, id := range real[:7] {
		if !kept[id] {
			t.Errorf("real snapshot of %d days ago forgotten while fake future ones were kept", d)
		}
	}
}

// refusalCounter counts deletes of versions the store refused because
// they were locked: Lifeboat must never send one.
type refusalCounter struct {
	*store.LockedMemory
	refused int
}

func (c *refusalCounter) DeleteVersion(ctx context.Context, name, id string) error {
	err := c.LockedMemory.DeleteVersion(ctx, name, id)
	if errors.Is(err, store.ErrRetained) {
		c.refused++
	}
	return err
}
