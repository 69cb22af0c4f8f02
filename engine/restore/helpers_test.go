package restore

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/backup"
	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/graph"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
	"github.com/lifeboat-backup/lifeboat/engine/repo"
)

// simEnv is a simulated tenant backed up into a real repository and catalog.
type simEnv struct {
	t    testing.TB
	srv  *m365sim.Server
	tn   *m365sim.Tenant
	r    *repo.Repository
	c    *catalog.Catalog
	g    *graph.Client
	acct catalog.Account
	upn  string
}

func newSimEnv(t testing.TB, tn *m365sim.Tenant) *simEnv {
	t.Helper()
	return newSimEnvWith(t, tn, m365sim.Options{})
}

func newSimEnvWith(t testing.TB, tn *m365sim.Tenant, opts m365sim.Options) *simEnv {
	t.Helper()
	srv := simtest.Start(t, tn, opts)
	c, err := catalog.Open(t.Context(), filepath.Join(t.TempDir(), "catalog.db"), catalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	upn := simtest.Alice
	e := &simEnv{t: t, srv: srv, tn: srv.Tenant(), r: repo.TestRepository(t), c: c, upn: upn,
		acct: catalog.Account{HomeID: "home-alice", UPN: upn, DisplayName: "Alice", Kind: catalog.AccountWork}}
	e.g = e.graphClient(3)
	return e
}

// graphClient is a Graph client for Alice that tries each request up to
// attempts times, with millisecond back-offs.
func (e *simEnv) graphClient(attempts int) *graph.Client {
	e.t.Helper()
	g, err := graph.New(graph.Options{
		GraphURL:   e.srv.GraphURL(),
		HTTPClient: e.srv.HTTPClient(),
		Auth: graph.TokenFunc(func(context.Context) (string, error) {
			tok, _, err := e.srv.IssueAccessToken(e.upn)
			return tok, err
		}),
		Account:     e.upn,
		PacerConfig: graph.PacerConfig{BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, MaxAttempts: attempts},
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return g
}

// backup runs one backup of Alice.
func (e *simEnv) backup() backup.Result {
	e.t.Helper()
	res, err := backup.Run(e.t.Context(), backup.Options{Graph: e.g, Repo: e.r, Catalog: e.c, Account: e.acct, NoCatalogCopy: true})
	if err != nil {
		e.t.Fatalf("backup: %v", err)
	}
	if res.Status != catalog.RunCompleted {
		e.t.Fatalf("backup: %s %+v %v", res.Status, res.Skipped, res.Warnings)
	}
	return res
}

// all lists everything of a kind in the latest snapshot.
func (e *simEnv) all(kind catalog.ItemKind) []catalog.VersionInfo {
	e.t.Helper()
	_, vs, err := ItemsAsOf(e.t.Context(), e.c, catalog.AsOfQuery{Account: e.acct.HomeID, Kind: kind, Recursive: true})
	if err != nil {
		e.t.Fatal(err)
	}
	return vs
}

// fakeBackup writes items straight into a real repository and catalog,
// for names and shapes no simulator (or OneDrive) would produce.
type fakeBackup struct {
	t    *testing.T
	r    *repo.Repository
	c    *catalog.Catalog
	acct string
	now  time.Time
}

func newFakeBackup(t *testing.T) *fakeBackup {
	t.Helper()
	c, err := catalog.Open(t.Context(), filepath.Join(t.TempDir(), "catalog.db"), catalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	f := &fakeBackup{t: t, r: repo.TestRepository(t), c: c, acct: "home-paul", now: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}
	if err := c.UpsertAccount(t.Context(), catalog.Account{HomeID: f.acct, UPN: "paul@contoso.test", Kind: catalog.AccountWork}); err != nil {
		t.Fatal(err)
	}
	return f
}

// fakeItem is an item for fakeBackup.snapshot.
type fakeItem struct {
	id            string
	folder, name  string
	data          []byte
	time          time.Time
	messageID     string
	mailMetaJSON  string
	fileMetaJSON  string
	expectedLocal string // where a restore to disk puts it (tests)
}

// snapshot records one complete snapshot of a kind holding items, and
// returns their versions.
func (f *fakeBackup) snapshot(kind catalog.ItemKind, items []fakeItem) []catalog.VersionInfo {
	f.t.Helper()
	ctx := f.t.Context()
	sk, _ := kind.SnapshotKind()
	f.now = f.now.Add(time.Hour)
	seq, err := f.c.RecordSnapshot(ctx, catalog.Snapshot{Account: f.acct, Kind: sk, Time: f.now})
	if err != nil {
		f.t.Fatal(err)
	}
	b, err := f.c.Begin(ctx, seq)
	if err != nil {
		f.t.Fatal(err)
	}
	for _, it := range items {
		ref, err := f.r.SaveStream(ctx, bytes.NewReader(it.data))
		if err != nil {
			f.t.Fatal(err)
		}
		meta := it.fileMetaJSON
		if kind == catalog.KindMail {
			meta = it.mailMetaJSON
		}
		if meta == "" {
			meta = "{}"
		}
		if _, err := b.Upsert(catalog.Version{Item: catalog.ItemRef{Account: f.acct, Kind: kind, ID: it.id}, InternetMessageID: it.messageID,
			Content: backup.EncodeContent(ref), Size: ref.Size, Name: it.name, Folder: it.folder, Time: it.time, Metadata: []byte(meta)}); err != nil {
			f.t.Fatal(err)
		}
	}
	if _, err := b.CloseUnseen(); err != nil {
		f.t.Fatal(err)
	}
	if err := b.Commit(); err != nil {
		f.t.Fatal(err)
	}
	if err := f.r.Flush(ctx); err != nil {
		f.t.Fatal(err)
	}
	if err := f.c.CompleteSnapshot(ctx, seq, fmt.Sprintf("%064x", seq)); err != nil {
		f.t.Fatal(err)
	}
	_, vs, err := ItemsAsOf(ctx, f.c, catalog.AsOfQuery{Account: f.acct, Kind: kind, Recursive: true})
	if err != nil {
		f.t.Fatal(err)
	}
	return vs
}

// tree lists every path below root (slash-separated, relative), with
// "/" after folders and "@" after symlinks.
func tree(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil || rel == "." {
			return err
		}
		rel = filepath.ToSlash(rel)
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			rel += "@"
		case d.IsDir():
			rel += "/"
		}
		out = append(out, rel)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// files returns the regular files below root with their bytes.
func files(t *testing.T, root string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, p := range tree(t, root) {
		if strings.HasSuffix(p, "/") || strings.HasSuffix(p, "@") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(p)))
		if err != nil {
			t.Fatal(err)
		}
		out[p] = b
	}
	return out
}

// restoreTo plans and runs a restore of items into dir.
func restoreTo(t *testing.T, src ContentSource, dir string, items []catalog.VersionInfo, o Options) (*Plan, Result) {
	t.Helper()
	d, err := ToDir(dir, DirOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	o.Content = src
	r := New(o)
	pl, err := r.Plan(t.Context(), d, items)
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.Execute(t.Context(), pl)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Failures) > 0 {
		t.Fatalf("failures: %v", res.Failures)
	}
	return pl, res
}
