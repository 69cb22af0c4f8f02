package backup

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strings"
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

// env is a simulator, a repository and a catalog for one account.
type env struct {
	t    *testing.T
	srv  *m365sim.Server
	tn   *m365sim.Tenant
	r    *repo.Repository
	st   store.Store
	key  string
	c    *catalog.Catalog
	acct catalog.Account
	upn  string
	// corrupt, when set, flips a byte of downloads whose path contains it,
	// another one each time (damage in transit is not the same twice).
	mu       sync.Mutex
	corrupt  string
	corrupts int
	// before, when set, is called with every request before it is sent.
	before func(*http.Request)
	// scopes, when set, are the only permissions the access tokens carry.
	scopes []string
}

func newEnv(t *testing.T, tn *m365sim.Tenant, upn string) *env {
	t.Helper()
	return newEnvWith(t, tn, upn, m365sim.Options{})
}

func newEnvWith(t *testing.T, tn *m365sim.Tenant, upn string, opts m365sim.Options) *env {
	t.Helper()
	srv := simtest.Start(t, tn, opts)
	c, err := catalog.Open(t.Context(), filepath.Join(t.TempDir(), "catalog.db"), catalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	st := store.NewMemory()
	r, key, err := repo.Init(t.Context(), st, repo.TestOptions())
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, srv: srv, tn: srv.Tenant(), r: r, st: st, key: key.String(), c: c, upn: upn,
		acct: catalog.Account{HomeID: "home-" + upn, UPN: upn, DisplayName: upn, Kind: catalog.AccountWork}}
	t.Cleanup(func() { e.r.Close() })
	return e
}

// reopen closes the repository without flushing and opens it again, as a
// new process would find it.
func (e *env) reopen() {
	e.t.Helper()
	e.r.Close()
	r, err := repo.Open(e.t.Context(), e.st, e.key, repo.TestOptions())
	if err != nil {
		e.t.Fatal(err)
	}
	e.r = r
}

func (e *env) setCorrupt(s string) {
	e.mu.Lock()
	e.corrupt = s
	e.mu.Unlock()
}

// RoundTrip corrupts matching downloads.
func (e *env) RoundTrip(req *http.Request) (*http.Response, error) {
	e.mu.Lock()
	before := e.before
	e.mu.Unlock()
	if before != nil {
		before(req)
	}
	resp, err := e.srv.HTTPClient().Transport.RoundTrip(req)
	e.mu.Lock()
	c := e.corrupt
	e.corrupts++
	n := e.corrupts
	e.mu.Unlock()
	if err != nil || c == "" || !strings.Contains(req.URL.Path, c) {
		return resp, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	if len(b) > 0 {
		b[(len(b)/2+n)%len(b)] ^= 0xff
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return resp, nil
}

func (e *env) client(onEvent func(graph.Event)) *graph.Client {
	e.t.Helper()
	g, err := graph.New(graph.Options{
		GraphURL:   e.srv.GraphURL(),
		HTTPClient: &http.Client{Transport: e},
		Auth: graph.TokenFunc(func(context.Context) (string, error) {
			if e.scopes != nil {
				tok, _, err := e.srv.IssueAccessTokenWithScopes(e.upn, e.scopes...)
				return tok, err
			}
			tok, _, err := e.srv.IssueAccessToken(e.upn)
			return tok, err
		}),
		Account:     e.upn,
		OnEvent:     onEvent,
		PacerConfig: graph.PacerConfig{BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, MaxAttempts: 3},
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return g
}

func (e *env) options() Options {
	return Options{Graph: e.client(nil), Repo: e.r, Catalog: e.c, Account: e.acct, BatchSize: 7}
}

func (e *env) run(ctx context.Context, mod func(*Options)) (Result, error) {
	o := e.options()
	if mod != nil {
		mod(&o)
	}
	return Run(ctx, o)
}

func (e *env) mustRun(mod func(*Options)) Result {
	e.t.Helper()
	res, err := e.run(e.t.Context(), mod)
	if err != nil {
		e.t.Fatalf("Run: %v", err)
	}
	return res
}

func (e *env) read(ref repo.ContentRef) []byte {
	e.t.Helper()
	rc := e.r.OpenStream(e.t.Context(), ref)
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		e.t.Fatalf("reading content: %v", err)
	}
	return b
}

// contents reads the newest snapshot of a kind.
func (e *env) contents(res Result, kind string) *Contents {
	e.t.Helper()
	id, ok := res.Snapshots[kind]
	if !ok {
		e.t.Fatalf("no %s snapshot in %+v", kind, res.Snapshots)
	}
	c, err := ReadSnapshot(e.t.Context(), e.r, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// checkMail compares every message of the tenant with the snapshot.
func (e *env) checkMail(res Result) {
	e.t.Helper()
	c := e.contents(res, KindMail)
	got := map[string]Message{}
	paths := map[string]string{}
	for _, f := range c.Folders {
		for _, m := range f.Messages {
			got[m.ID] = m
			paths[m.ID] = f.Path
		}
	}
	msgs, err := e.tn.Messages(e.upn, "")
	if err != nil {
		e.t.Fatal(err)
	}
	if len(got) != len(msgs) {
		e.t.Errorf("snapshot has %d messages, tenant %d", len(got), len(msgs))
	}
	for _, m := range msgs {
		s, ok := got[m.ID]
		if !ok {
			e.t.Errorf("message %s %q missing", m.ID, m.Header.Subject)
			continue
		}
		if !bytes.Equal(e.read(s.Content), m.MIME) {
			e.t.Errorf("message %q: MIME differs", m.Header.Subject)
		}
		want, _ := e.tn.FolderPath(e.upn, m.FolderID)
		if paths[m.ID] != want {
			e.t.Errorf("message %q in %q, want %q", m.Header.Subject, paths[m.ID], want)
		}
	}
}

// checkFiles compares every file of the tenant's drive with the snapshot.
func (e *env) checkFiles(res Result) {
	e.t.Helper()
	c := e.contents(res, KindOneDrive)
	byID := map[string]File{}
	for _, f := range c.Files {
		byID[f.ID] = f
	}
	path := func(f File) string {
		var parts []string
		for cur, ok := f, true; ok && !cur.Root; cur, ok = byID[cur.ParentID] {
			parts = append([]string{cur.Name}, parts...)
		}
		return strings.Join(parts, "/")
	}
	items, err := e.tn.DriveItems(e.upn)
	if err != nil {
		e.t.Fatal(err)
	}
	n := 0
	for _, it := range items {
		if it.Folder {
			continue
		}
		n++
		f, ok := byID[it.ID]
		if !ok || f.Content == nil {
			e.t.Errorf("file %s missing", it.Name)
			continue
		}
		if !sameStreams(e.t, e.r.OpenStream(e.t.Context(), *f.Content), it.Content.Open()) {
			e.t.Errorf("file %s: bytes differ", it.Name)
		}
		wp, _ := e.tnPath(it.ID)
		if p := path(f); p != wp {
			e.t.Errorf("file at %q, want %q", p, wp)
		}
	}
	files := 0
	for _, f := range c.Files {
		if !f.Folder {
			files++
		}
	}
	if files != n {
		e.t.Errorf("snapshot has %d files, tenant %d", files, n)
	}
}

func (e *env) tnPath(id string) (string, error) {
	items, err := e.tn.DriveItems(e.upn)
	if err != nil {
		return "", err
	}
	by := map[string]m365sim.DriveItem{}
	for _, it := range items {
		by[it.ID] = it
	}
	var parts []string
	for cur, ok := by[id]; ok && cur.ParentID != ""; cur, ok = by[cur.ParentID] {
		parts = append([]string{cur.Name}, parts...)
	}
	return strings.Join(parts, "/"), nil
}
