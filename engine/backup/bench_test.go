package backup

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/graph"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
	"github.com/lifeboat-backup/lifeboat/engine/repo"
	"github.com/lifeboat-backup/lifeboat/engine/store"
)

// benchSpeedup is the fast clock of the throttled benchmark: the model's
// windows, latency and bandwidth run this many times faster than real
// time. It is chosen so that the model's bound (about three minutes of
// OneDrive resource units at real speed) stays well above the CPU time the
// run needs on a small machine; a faster clock would measure the CPU, not
// the pacing. LIFEBOAT_BENCH_SPEEDUP overrides it.
const benchSpeedup = 4

// BenchmarkHeavyBackupThrottled backs up 4 mailboxes × 5,000 messages and
// 4 drives × 1,000 files, the four accounts in parallel as the app does,
// against the realistic throttling model (graph-fast), and reports the
// wall time as a ratio to Throttle.MinimumDuration of the requests the run
// made (x-minimum; target ≤ 1.10). Then a no-change incremental, whose
// request count it reports (incr-requests) beside the number of mail
// folders and drives (folders+drives), which is what it should be close to.
//
// The client's pacer is given the model's limits on the same fast clock
// (windows divided by the speedup): a client pacing itself to Microsoft's
// published limits, seen through the simulator's clock.
func BenchmarkHeavyBackupThrottled(b *testing.B) {
	speedup := float64(benchSpeedup)
	if s := os.Getenv("LIFEBOAT_BENCH_SPEEDUP"); s != "" {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || v <= 0 {
			b.Fatalf("LIFEBOAT_BENCH_SPEEDUP=%q", s)
		}
		speedup = v
	}
	tn, err := m365sim.GenerateDemo(21, m365sim.DemoOptions{Users: 4, MessagesPerUser: 5000, FilesPerUser: 1000, MaxFileSize: 256 << 10})
	if err != nil {
		b.Fatal(err)
	}
	srv := simtest.Start(b, tn, m365sim.Options{Throttle: m365sim.ThrottleConfig{Mode: m365sim.ThrottleGraphFast, Speedup: speedup}})
	const driveConcurrency = 8
	var ratios, walls, mins, incr []float64
	folders := 0
	for b.Loop() {
		b.StopTimer()
		r, _, err := repo.Init(b.Context(), mustLocal(b), repo.TestOptions())
		if err != nil {
			b.Fatal(err)
		}
		c, err := catalog.Open(b.Context(), filepath.Join(b.TempDir(), "catalog.db"), catalog.Options{})
		if err != nil {
			b.Fatal(err)
		}
		pacer := graph.NewPacer(graph.PacerConfig{DriveConcurrency: driveConcurrency}.OnClock(speedup))
		run := func() []Result {
			var wg sync.WaitGroup
			results := make([]Result, len(tn.Users()))
			for i, u := range tn.Users() {
				wg.Add(1)
				go func() {
					defer wg.Done()
					gc, err := graph.New(graph.Options{GraphURL: srv.GraphURL(), HTTPClient: srv.HTTPClient(), Pacer: pacer, Account: u.UPN,
						Auth: graph.TokenFunc(func(context.Context) (string, error) {
							tok, _, err := srv.IssueAccessToken(u.UPN)
							return tok, err
						})})
					if err != nil {
						b.Error(err)
						return
					}
					res, err := Run(b.Context(), Options{Graph: gc, Repo: r, Catalog: c, NoCatalogCopy: true, Workers: driveConcurrency,
						Account: catalog.Account{HomeID: "home-" + u.UPN, UPN: u.UPN}})
					if err != nil || res.Status != catalog.RunCompleted {
						b.Errorf("%s: %v %s %v", u.UPN, err, res.Status, res.Skipped)
					}
					results[i] = res
				}()
			}
			wg.Wait()
			return results
		}
		srv.Requests().Reset()
		srv.ThrottleModel().Reset()
		b.StartTimer()
		start := time.Now()
		results := run()
		wall := time.Since(start)
		b.StopTimer()
		min := srv.ThrottleModel().MinimumDuration(srv.Requests().Workload(driveConcurrency))
		ratios = append(ratios, wall.Seconds()/min.Seconds())
		walls = append(walls, wall.Seconds())
		mins = append(mins, min.Seconds())
		b.Logf("full backup: %s, model minimum %s, ratio %.3f; %s", wall.Round(time.Millisecond), min.Round(time.Millisecond),
			wall.Seconds()/min.Seconds(), srv.ThrottleModel().Snapshot())
		folders = 0
		for _, res := range results {
			contents, err := ReadSnapshot(b.Context(), r, res.Snapshots[KindMail])
			if err != nil {
				b.Fatal(err)
			}
			folders += len(contents.Folders) + 1 // + the drive
		}
		srv.Requests().Reset()
		run()
		incr = append(incr, float64(srv.Requests().Total()))
		c.Close()
		r.Close()
		b.StartTimer()
	}
	b.ReportMetric(median(ratios), "x-minimum")
	b.ReportMetric(median(walls), "wall-s")
	b.ReportMetric(median(mins), "minimum-s")
	b.ReportMetric(median(incr), "incr-requests")
	b.ReportMetric(float64(folders), "folders+drives")
}

func mustLocal(b *testing.B) *store.Local {
	b.Helper()
	st, err := store.NewLocal(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	return st
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(v))
	return s[len(s)/2]
}
