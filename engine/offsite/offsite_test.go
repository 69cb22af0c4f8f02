package offsite

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/backup"
	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
	"github.com/lifeboat-backup/lifeboat/engine/repo"
	"github.com/lifeboat-backup/lifeboat/engine/s3store"
	"github.com/lifeboat-backup/lifeboat/engine/s3store/s3test"
	"github.com/lifeboat-backup/lifeboat/engine/store"
)

// TestBackupVerifyRestorePruneOnS3: backup, verify --read-data, restore
// and prune on a repository in an S3 bucket under Object Lock.
func TestBackupVerifyRestorePruneOnS3(t *testing.T) {
	ctx := t.Context()
	srv := s3test.Start(t)
	st := srv.Store(t, srv.Bucket(t, true), func(o *s3store.Options) { o.Lock = LockPolicy(time.Hour) })
	r, rk, err := repo.Init(ctx, st, repo.TestOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	s := newSim(t)
	s.backupAll(r)
	checkRepo(t, r)
	if n := s.verifyAll(r); n < 30 {
		t.Fatalf("compared only %d items", n)
	}

	// A second day: changes, a second backup, prune forgetting day one.
	if _, err := s.tn.PutFile(simtest.Alice, "Documents/budget.xlsx", m365sim.BytesContent(bytes.Repeat([]byte("new budget "), 30_000)), time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := s.tn.DeleteMessage(simtest.Alice, mustFirstMessage(t, s.tn, simtest.Alice)); err != nil {
		t.Fatal(err)
	}
	s.backupAll(r)
	snaps, err := r.ListSnapshots(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var first []repo.ID
	for _, sn := range snaps[:len(snaps)/2] {
		first = append(first, sn.ID)
	}
	prep, err := r.Prune(ctx, repo.PruneOptions{Forget: first, Refs: backup.Refs, Grace: -1, RepackThreshold: -1})
	if err != nil {
		t.Fatalf("prune on S3: %v", err)
	}
	if prep.SnapshotsForgotten != len(first) || prep.PacksDeleted+prep.PacksRepacked == 0 {
		t.Fatalf("prune did nothing: %+v", prep)
	}
	checkRepo(t, r)
	s.verifyAll(r)
	// Lock maintenance on the real server: everything referenced is
	// locked past the horizon; old versions of lock files are removed.
	mrep, err := Maintain(ctx, r, MaintainOptions{Policy: repo.Policy{KeepDaily: 7}})
	if err != nil {
		t.Fatalf("maintenance on S3: %v", err)
	}
	if len(mrep.Locks.Damaged) > 0 || mrep.Locks.Referenced == 0 || mrep.Locks.Removed == 0 {
		t.Fatalf("lock maintenance: %+v", mrep.Locks)
	}
	if err := st.ListVersions(ctx, "", func(v store.Version) error {
		if !v.DeleteMarker && v.Latest && !store.Unlocked(v.Name) && v.RetainUntil.Before(mrep.Locks.Horizon) {
			return fmt.Errorf("%s locked only until %v, before the horizon %v", v.Name, v.RetainUntil, mrep.Locks.Horizon)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	checkRepo(t, r)

	// On a fresh computer: the recovery key, the catalog from the backup.
	fresh, err := repo.Open(ctx, st, rk.String(), repo.TestOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	cat, _, err := backup.RestoreCatalogCopy(ctx, fresh, filepath.Join(t.TempDir(), "catalog.db"), catalog.Options{})
	if err != nil {
		t.Fatalf("restoring the catalog from S3: %v", err)
	}
	cat.Close()
	s.verifyAll(fresh)
}

func mustFirstMessage(t *testing.T, tn *m365sim.Tenant, upn string) string {
	t.Helper()
	msgs, err := tn.Messages(upn, "")
	if err != nil || len(msgs) == 0 {
		t.Fatal("no messages", err)
	}
	return msgs[0].ID
}

// TestCompromisedComputer: an attacker holding Lifeboat's own keys (the
// office PC's keychain) first runs prune to forget every snapshot, then
// overwrites every object with garbage, deletes every object, tries to
// destroy every version and runs lock maintenance. A restore as of before
// the attack returns every item byte-identical.
func TestCompromisedComputer(t *testing.T) {
	ctx := t.Context()
	srv := s3test.Start(t)
	bucket := srv.Bucket(t, true)
	st := srv.Store(t, bucket, func(o *s3store.Options) { o.Lock = LockPolicy(time.Hour) })
	r, rk, err := repo.Init(ctx, st, repo.TestOptions())
	if err != nil {
		t.Fatal(err)
	}
	s := newSim(t)
	s.backupAll(r)
	want := s.verifyAll(r)
	time.Sleep(1600 * time.Millisecond) // version times have one-second precision
	before, err := st.Now(ctx)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(1600 * time.Millisecond)

	// The attack, with the same keys.
	snaps, _ := r.ListSnapshots(ctx)
	var all []repo.ID
	for _, sn := range snaps {
		all = append(all, sn.ID)
	}
	if _, err := r.Prune(ctx, repo.PruneOptions{Forget: all, Refs: backup.Refs, Grace: -1, RepackThreshold: -1}); err == nil {
		// Prune keeps nothing: forgetting every snapshot hides all data.
	} else {
		t.Logf("attacker's prune: %v", err)
	}
	r.Close()
	// Raw S3 calls with the same keys: no lock on what the attacker writes.
	attacker := srv.Store(t, bucket, nil)
	var names []string
	if err := attacker.List(ctx, "", func(fi store.Info) error { names = append(names, fi.Name); return nil }); err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		storeGarbage(t, attacker, n)
	}
	destroyed, refused := 0, 0
	if err := attacker.ListVersions(ctx, "", func(v store.Version) error {
		err := attacker.DeleteVersion(ctx, v.Name, v.VersionID)
		switch {
		case err == nil:
			destroyed++
		case errors.Is(err, store.ErrRetained):
			refused++
		default:
			t.Errorf("DeleteVersion: %v", err)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if refused == 0 {
		t.Fatal("no version was protected by its lock")
	}
	names = names[:0]
	if err := attacker.List(ctx, "", func(fi store.Info) error { names = append(names, fi.Name); return nil }); err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if err := attacker.Delete(ctx, n); err != nil {
			t.Fatalf("attacker's delete: %v", err)
		}
	}
	if n := 0; attacker.List(ctx, "", func(store.Info) error { n++; return nil }) == nil && n != 0 {
		t.Fatalf("%d objects still visible after the attack", n)
	}
	// As it stands now, the bucket holds no backup.
	if gone, err := repo.Open(ctx, st, rk.String(), repo.TestOptions()); err == nil {
		gone.Close()
		t.Fatal("the attacked bucket still opens")
	}
	if _, err := repo.Open(ctx, attacker, rk.String(), repo.TestOptions()); !errors.Is(err, repo.ErrNotRepository) {
		t.Fatalf("the current bucket should hold no backup any more: %v", err)
	}
	t.Logf("attack: %d objects overwritten and deleted, %d versions destroyed (garbage, delete markers, lock files), %d refused by the lock", len(names), destroyed, refused)

	// The restore as of before the attack, on a fresh computer.
	old, err := OpenAsOf(ctx, attacker, before, rk.String(), repo.TestOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	checkRepo(t, old)
	if got := s.verifyAll(old); got != want {
		t.Fatalf("restored %d items, want %d", got, want)
	}
	cat, _, err := backup.RestoreCatalogCopy(ctx, old, filepath.Join(t.TempDir(), "catalog.db"), catalog.Options{})
	if err != nil {
		t.Fatalf("restoring the catalog as of before the attack: %v", err)
	}
	cat.Close()
}

func storeGarbage(t *testing.T, st store.Store, name string) {
	t.Helper()
	g := bytes.Repeat([]byte("encrypted by ransomware "), 20)
	if err := st.Put(context.Background(), name, bytes.NewReader(g), int64(len(g))); err != nil {
		t.Fatalf("attacker's overwrite of %s: %v", name, err)
	}
}

// TestFreshComputerRestoresFromTheOffsiteCopy: backup to a folder (the USB
// drive), copy to S3, lose the drive and the computer: the off-site copy
// alone, with the recovery key, restores everything.
func TestFreshComputerRestoresFromTheOffsiteCopy(t *testing.T) {
	ctx := t.Context()
	usb := t.TempDir()
	local, err := store.NewLocal(usb)
	if err != nil {
		t.Fatal(err)
	}
	primary, rk, err := repo.Init(ctx, local, repo.TestOptions())
	if err != nil {
		t.Fatal(err)
	}
	s := newSim(t)
	s.backupAll(primary)
	srv := s3test.Start(t)
	bucket := srv.Bucket(t, true)
	dst := srv.Store(t, bucket, func(o *s3store.Options) { o.Lock = LockPolicy(time.Hour) })
	st1, err := Copy(ctx, primary, dst, Options{Repo: repo.TestOptions()})
	if err != nil {
		t.Fatal(err)
	}
	if st1.Snapshots == 0 || st1.Verified == 0 || st1.Newest.IsZero() {
		t.Fatalf("first copy: %+v", st1)
	}
	// A day later: one change, one more backup, the copy sends little.
	if _, err := s.tn.PutFile(simtest.Bob, "Documents/new.txt", m365sim.BytesContent([]byte("new file\n")), time.Now()); err != nil {
		t.Fatal(err)
	}
	s.backupAll(primary)
	st2, err := Copy(ctx, primary, dst, Options{Repo: repo.TestOptions()})
	if err != nil {
		t.Fatal(err)
	}
	if st2.Snapshots == 0 || st2.Bytes >= st1.Bytes/2 {
		t.Fatalf("second copy sent %d bytes (first %d): not incremental: %+v", st2.Bytes, st1.Bytes, st2)
	}
	primary.Close()
	if err := os.RemoveAll(usb); err != nil {
		t.Fatal(err)
	}

	fresh := srv.Store(t, bucket, nil) // no lock policy: a reader
	r, err := repo.Open(ctx, fresh, rk.String(), repo.TestOptions())
	if err != nil {
		t.Fatalf("opening the off-site copy with the recovery key: %v", err)
	}
	defer r.Close()
	checkRepo(t, r)
	cat, _, err := backup.RestoreCatalogCopy(ctx, r, filepath.Join(t.TempDir(), "catalog.db"), catalog.Options{})
	if err != nil {
		t.Fatalf("catalog from the off-site copy: %v", err)
	}
	cat.Close()
	if n := s.verifyAll(r); n < 30 {
		t.Fatalf("compared only %d items", n)
	}
}
