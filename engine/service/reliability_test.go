//go:build linux

package service

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/backup"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
	"github.com/lifeboat-backup/lifeboat/engine/store/sharetest"
)

var statusFullRE = regexp.MustCompile(`stopped because .* is full \(\d+(\.\d)? [kMG]?B free, about \d+(\.\d)? [kMG]B needed\)`)

// addRandomFiles puts n incompressible files of about size bytes in
// Alice's OneDrive.
func addRandomFiles(t *testing.T, srv *m365sim.Server, seed uint64, n, size int) {
	t.Helper()
	rnd := rand.New(rand.NewPCG(seed, 9))
	for i := range n {
		b := make([]byte, size/2+rnd.IntN(size))
		for k := range b {
			b[k] = byte(rnd.Uint32())
		}
		if _, err := srv.Tenant().PutFile(simtest.Alice, fmt.Sprintf("Scans/scan %02d.bin", i), m365sim.BytesContent(b), time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestStatusSaysTheDriveIsFull: a backup the full drive (a small tmpfs)
// stopped is what the dashboard's status says, with the free space and
// the estimate of what was needed, until a backup finishes again.
func TestStatusSaysTheDriveIsFull(t *testing.T) {
	if !sharetest.InMountNamespace(t) {
		return
	}
	drive := sharetest.NewDrive(t, 24<<20)
	svc, srv := simService(t)
	ctx := t.Context()
	if _, err := svc.InitBackup(ctx, drive.Dir, true); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Backup(ctx, BackupRequest{Dir: drive.Dir}); err != nil {
		t.Fatalf("first backup: %v", err)
	}
	st, err := svc.Status(ctx)
	if err != nil || st.LastGood.IsZero() {
		t.Fatalf("status after the first backup: %+v %v", st, err)
	}
	for _, w := range st.Warnings {
		if strings.Contains(w, "full") {
			t.Fatalf("a full drive before it is full: %q", w)
		}
	}
	addRandomFiles(t, srv, 1, 16, 3<<20) // about 48 MB more than the drive holds
	_, err = svc.Backup(ctx, BackupRequest{Dir: drive.Dir})
	if !errors.Is(err, backup.ErrDriveFull) {
		t.Fatalf("backup onto a full drive: %v", err)
	}
	st, err = svc.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	found := ""
	for _, w := range st.Warnings {
		if statusFullRE.MatchString(w) {
			found = w
		}
	}
	if found == "" || !strings.Contains(found, "continues where this one stopped") {
		t.Fatalf("status after the drive filled up: %q", st.Warnings)
	}
	t.Logf("status says: %s", found)
	items, _ := svc.Health(ctx, mustSettings(t, svc), ScheduleState{}, time.Now())
	if len(items) == 0 || items[0].Title != "The backup drive is full" {
		t.Fatalf("health: %+v", items)
	}

	drive.Resize(256 << 20) // a bigger drive
	if _, err := svc.Backup(ctx, BackupRequest{Dir: drive.Dir}); err != nil {
		t.Fatalf("backup after freeing space: %v", err)
	}
	st, _ = svc.Status(ctx)
	for _, w := range st.Warnings {
		if strings.Contains(w, "is full") {
			t.Fatalf("still full after a good backup: %q", w)
		}
	}
}

// TestStatusSaysTheDriveWasPulled: the drive pulled out during a backup
// is what status says.
func TestStatusSaysTheDriveWasPulled(t *testing.T) {
	if !sharetest.InMountNamespace(t) {
		return
	}
	drive := sharetest.NewDrive(t, 256<<20)
	svc, srv := simService(t)
	ctx := t.Context()
	if _, err := svc.InitBackup(ctx, drive.Dir, true); err != nil {
		t.Fatal(err)
	}
	addRandomFiles(t, srv, 2, 12, 2<<20)
	pulled := false
	_, err := svc.Backup(ctx, BackupRequest{Dir: drive.Dir, Events: BackupEvents{Progress: func(p backup.Progress) {
		if !pulled && p.BytesDone > 4<<20 {
			pulled = true
			drive.Pull()
		}
	}}})
	if !errors.Is(err, backup.ErrDriveMissing) && !errors.Is(err, ErrDriveMissing) {
		t.Fatalf("backup with the drive pulled out: %v (pulled %v)", err, pulled)
	}
	st, err := svc.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, w := range st.Warnings {
		found = found || strings.Contains(w, "stopped because") && strings.Contains(w, "went away")
	}
	if !found {
		t.Fatalf("status after the drive was pulled: %q (err %v)", st.Warnings, err)
	}
}

func mustSettings(t *testing.T, svc *Service) Settings {
	t.Helper()
	set, err := svc.Settings()
	if err != nil {
		t.Fatal(err)
	}
	return set
}
