//go:build linux

package backup

import (
	"context"
	"errors"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/health"
	"github.com/lifeboat-backup/lifeboat/engine/store"
	"github.com/lifeboat-backup/lifeboat/engine/store/sharetest"
)

var driveFullRE = regexp.MustCompile(`^the backup drive is full \((\d+(\.\d)? [kMG]B|\d+ B) free, about \d+(\.\d)? [kMG]B needed\)`)

// TestFullDrive fills the backup drive (a small tmpfs) in the middle of a
// run: the run stops with the plain sentence, the dashboard says it, the
// backup verifies with every earlier snapshot intact, and once there is
// room the next run completes without downloading again what was stored.
func TestFullDrive(t *testing.T) {
	if !sharetest.InMountNamespace(t) {
		return
	}
	drive := sharetest.NewDrive(t, 6<<20)
	e := newEnvAt(t, drive.Dir)
	first := e.mustRun(nil)
	e.addRandomFiles(1, "Scans", 14, 600<<10) // about 8 MB more than the drive holds

	res, err := e.run(t.Context(), nil)
	if !errors.Is(err, ErrDriveFull) || !errors.Is(err, store.ErrDiskFull) {
		t.Fatalf("run on a full drive: %v", err)
	}
	if !driveFullRE.MatchString(err.Error()) {
		t.Errorf("the owner reads %q", err)
	}
	if res.DriveFull == nil || res.DriveFull.Needed == 0 || res.Status != catalog.RunFailed {
		t.Fatalf("result %+v", res)
	}
	t.Logf("stopped with: %v", err)
	runs, err := e.c.Runs(t.Context(), 1)
	if err != nil || len(runs) != 1 || !strings.HasPrefix(runs[0].Error, "the backup drive is full (") {
		t.Fatalf("the run history says %+v (%v)", runs, err)
	}
	items := health.Check(health.Inputs{Now: time.Now(), Stopped: res.HealthInput()})
	if len(items) != 1 || items[0].Kind != health.DestinationFull || !strings.Contains(items[0].Detail, "is full (") {
		t.Fatalf("dashboard: %+v", items)
	}

	durable := e.durable()
	e.checkRepo(first.Snapshots)
	if len(durable) == 0 {
		t.Fatal("nothing of the stopped run was kept")
	}

	drive.Resize(64 << 20) // space freed
	e.srv.Requests().Reset()
	res = e.mustRun(nil)
	if res.Status != catalog.RunCompleted {
		t.Fatalf("after freeing space: %s %v", res.Status, res.Skipped)
	}
	if n := e.refetched(durable); n > 0 {
		t.Fatalf("%d items downloaded again", n)
	}
	e.checkFiles(res)
	e.checkMail(res)
	e.checkRepo(res.Snapshots)
	t.Logf("%d items stored before the drive filled up were not downloaded again; %d downloads to finish", len(durable), res.Downloads)
}

// TestPulledDrive pulls the backup drive out in the middle of a run: the
// run stops saying the drive went away (the scheduled run's "drive
// missing"), nothing is written to the bare mount point, and when the drive
// is back it verifies and the next run completes without downloading again
// what was stored.
func TestPulledDrive(t *testing.T) {
	if !sharetest.InMountNamespace(t) {
		return
	}
	drive := sharetest.NewDrive(t, 64<<20)
	e := newEnvAt(t, drive.Dir)
	first := e.mustRun(nil)
	e.addRandomFiles(2, "Photos", 30, 400<<10)

	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	pulled := make(chan struct{})
	res, err := e.run(ctx, func(o *Options) {
		o.ProgressInterval = time.Millisecond
		o.OnProgress = func(p Progress) {
			if p.BytesDone > 4<<20 {
				select {
				case <-pulled:
				default:
					drive.Pull()
					close(pulled)
				}
			}
		}
	})
	select {
	case <-pulled:
	default:
		t.Fatalf("the run ended before the drive was pulled: %v", err)
	}
	if !errors.Is(err, ErrDriveMissing) || !errors.Is(err, store.ErrUnavailable) || !res.DriveMissing {
		t.Fatalf("run with the drive pulled: %v (%+v)", err, res)
	}
	t.Logf("stopped with: %v", err)
	if entries, _ := os.ReadDir(drive.Dir); len(entries) != 0 {
		t.Fatalf("the run wrote to the bare mount point: %v", entries)
	}
	if items := health.Check(health.Inputs{Now: time.Now(), Stopped: res.HealthInput()}); len(items) != 1 || items[0].Kind != health.DestinationLost {
		t.Fatalf("dashboard: %+v", items)
	}

	drive.Plug()
	durable := e.durable()
	e.checkRepo(first.Snapshots)
	e.srv.Requests().Reset()
	res = e.mustRun(nil)
	if res.Status != catalog.RunCompleted {
		t.Fatalf("after the drive came back: %s %v", res.Status, res.Skipped)
	}
	if n := e.refetched(durable); n > 0 {
		t.Fatalf("%d items downloaded again", n)
	}
	e.checkFiles(res)
	e.checkRepo(res.Snapshots)
	t.Logf("%d items stored before the drive was pulled were not downloaded again", len(durable))
}
