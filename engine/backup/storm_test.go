package backup

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
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

// stormFaults is 10% of requests failing, spread over every kind of
// fault the simulator has, plus tokens that expire early.
const stormFaults = "429=0.03,503=0.02,504=0.01,reset=0.015,truncate=0.01,lost=0.015,token-expiry=2s,storm=1,seed=19"

// company is a whole company's backup: one simulator, one repository and
// one catalog, every person's mailbox and OneDrive.
type company struct {
	t   *testing.T
	srv *m365sim.Server
	r   *repo.Repository
	c   *catalog.Catalog
	// spoil corrupts the first two downloads of these paths, each time
	// differently (the same other bytes twice would be a file OneDrive
	// rewrites, which is kept), so the item is skipped and must be
	// retried by the next run.
	mu    sync.Mutex
	spoil map[string]int
}

// RoundTrip corrupts the downloads listed in spoil.
func (co *company) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := co.srv.HTTPClient().Transport.RoundTrip(req)
	co.mu.Lock()
	n, ok := co.spoil[req.URL.Path]
	if ok && n < 2 {
		co.spoil[req.URL.Path] = n + 1
	}
	co.mu.Unlock()
	if err != nil || !ok || n >= 2 || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	if len(b) > 0 {
		b[len(b)/2] ^= byte(0x55 + n)
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return resp, nil
}

func newCompany(t *testing.T, seed int64, faults string) *company {
	t.Helper()
	tn, err := m365sim.GenerateDemo(seed, m365sim.DemoOptions{Users: 4, MessagesPerUser: 120, FilesPerUser: 20, MaxFileSize: 256 << 10})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := m365sim.ParseFaults(faults)
	if err != nil {
		t.Fatal(err)
	}
	srv := simtest.Start(t, tn, m365sim.Options{Faults: cfg})
	c, err := catalog.Open(t.Context(), filepath.Join(t.TempDir(), "catalog.db"), catalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	r, _, err := repo.Init(t.Context(), store.NewMemory(), repo.TestOptions())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	co := &company{t: t, srv: srv, r: r, c: c, spoil: map[string]int{}}
	for _, u := range tn.Users() { // one file of each person
		items, _ := tn.DriveItems(u.UPN)
		for _, it := range items {
			if !it.Folder && it.Content != nil && it.Content.Size() > 0 {
				co.spoil["/_download/"+it.ID] = 0
				break
			}
		}
	}
	return co
}

// backupAll backs up everyone once, all at the same time as the app's
// pacer allows (each mailbox has its own budget), and returns how many
// items were skipped.
func (co *company) backupAll() (skipped int) {
	co.t.Helper()
	var wg sync.WaitGroup
	var mu sync.Mutex
	for _, u := range co.srv.Tenant().Users() {
		g, err := graph.New(graph.Options{
			GraphURL:   co.srv.GraphURL(),
			HTTPClient: &http.Client{Transport: co},
			Auth: graph.TokenFunc(func(context.Context) (string, error) {
				tok, _, err := co.srv.IssueAccessToken(u.UPN)
				return tok, err
			}),
			Account:     u.UPN,
			PacerConfig: graph.PacerConfig{BaseBackoff: time.Millisecond, MaxBackoff: 20 * time.Millisecond},
		})
		if err != nil {
			co.t.Fatal(err)
		}
		wg.Go(func() {
			res, err := Run(co.t.Context(), Options{Graph: g, Repo: co.r, Catalog: co.c, NoCatalogCopy: true,
				Account: catalog.Account{HomeID: "home-" + u.UPN, UPN: u.UPN, DisplayName: u.UPN, Kind: catalog.AccountWork}})
			if err != nil {
				co.t.Errorf("backup of %s: %v", u.UPN, err)
			}
			mu.Lock()
			skipped += len(res.Skipped)
			mu.Unlock()
		})
	}
	wg.Wait()
	if co.t.Failed() {
		co.t.FailNow()
	}
	return skipped
}

// checkExactlyOnce checks that every message and file of every person is
// in the catalog exactly once, and that the newest snapshot holds its
// exact bytes.
func (co *company) checkExactlyOnce() (items int) {
	co.t.Helper()
	ctx := co.t.Context()
	tn := co.srv.Tenant()
	for _, u := range tn.Users() {
		acct := "home-" + u.UPN
		once := func(kind catalog.ItemKind, id, name string, want io.Reader) {
			vs, err := co.c.Versions(ctx, catalog.ItemRef{Account: acct, Kind: kind, ID: id})
			if err != nil || len(vs) != 1 {
				co.t.Errorf("%s %s: %d versions in the catalog, want 1 (%v)", u.UPN, name, len(vs), err)
				return
			}
			ref, err := decodeContent(vs[0].Content)
			if err != nil {
				co.t.Errorf("%s %s: %v", u.UPN, name, err)
				return
			}
			rc := co.r.OpenStream(ctx, ref)
			got, err := io.ReadAll(rc)
			rc.Close()
			w, _ := io.ReadAll(want)
			if err != nil || !bytes.Equal(got, w) {
				co.t.Errorf("%s %s: stored bytes differ (%v)", u.UPN, name, err)
			}
			items++
		}
		msgs, err := tn.Messages(u.UPN, "")
		if err != nil {
			co.t.Fatal(err)
		}
		for _, m := range msgs {
			once(catalog.KindMail, m.ID, fmt.Sprintf("message %q", m.Header.Subject), bytes.NewReader(m.MIME))
		}
		files, err := tn.DriveItems(u.UPN)
		if err != nil {
			co.t.Fatal(err)
		}
		for _, f := range files {
			if !f.Folder && !f.Deleted && f.Content.Size() > 0 {
				once(catalog.KindFile, f.ID, "file "+f.Name, f.Content.Open())
			}
		}
	}
	return items
}

// TestFaultStormAtScale backs up a company (4 people, their mailboxes and
// OneDrives) while 10% of Microsoft's answers fail in every way the
// simulator knows, and the same company without faults. Both run twice
// (a first backup, then the next scheduled one). Under the storm, items
// skipped (one download per person is also spoilt twice) are retried by
// the next run until none is left; every item is then backed up exactly
// once with its exact bytes, and the requests stay within 1.3 times the
// fault-free runs', for the first run and for both together.
func TestFaultStormAtScale(t *testing.T) {
	clean := newCompany(t, 7, "")
	clean.spoil = nil
	if n := clean.backupAll(); n != 0 {
		t.Fatalf("%d items skipped without faults", n)
	}
	cleanFirst := clean.srv.Requests().Total()
	clean.backupAll()
	cleanTotal := clean.srv.Requests().Total()
	clean.checkExactlyOnce()

	storm := newCompany(t, 7, stormFaults)
	runs, skippedFirst, stormFirst := 0, 0, 0
	for {
		runs++
		n := storm.backupAll()
		if runs == 1 {
			skippedFirst, stormFirst = n, storm.srv.Requests().Total()
			if n == 0 {
				t.Fatal("the first run skipped nothing, though downloads were spoilt")
			}
		}
		if n == 0 && runs >= 2 {
			break
		}
		if runs == 4 {
			t.Fatalf("%d items still skipped after %d runs", n, runs)
		}
	}
	stormTotal := storm.srv.Requests().Total()
	items := storm.checkExactlyOnce()
	first := float64(stormFirst) / float64(cleanFirst)
	total := float64(stormTotal) / float64(cleanTotal)
	t.Logf("fault storm: %d items backed up exactly once in %d runs (%d skipped by the first, retried by the next); "+
		"first run %d requests against %d without faults (ratio %.2f), all runs %d against %d (ratio %.2f); faults injected: %v",
		items, runs, skippedFirst, stormFirst, cleanFirst, first, stormTotal, cleanTotal, total, storm.srv.FaultInjector().Injected())
	if first > 1.3 || total > 1.3 {
		t.Errorf("request ratio %.2f (first run), %.2f (all runs) exceeds 1.3", first, total)
	}
}
