package backup

import (
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/auth"
	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/graph"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
	"github.com/lifeboat-backup/lifeboat/engine/repo"
	"github.com/lifeboat-backup/lifeboat/engine/secret"
	"github.com/lifeboat-backup/lifeboat/engine/store"
)

// TestRefreshTokenRevokedMidRun signs in with the real MSAL, and revokes
// the sign-in while a backup runs (as an admin resetting a password does).
// The run must end with the sign-in-required error, record the run as
// failed, write no snapshot, leave a repository that verifies, and, after
// the person signs in again, the next run completes from where it stopped.
func TestRefreshTokenRevokedMidRun(t *testing.T) {
	ctx := t.Context()
	tn, err := m365sim.GenerateDemo(4, m365sim.DemoOptions{Users: 1, MessagesPerUser: 120, FilesPerUser: 10, MaxFileSize: 100 << 10})
	if err != nil {
		t.Fatal(err)
	}
	upn := tn.Users()[0].UPN
	// Access tokens shorter than MSAL's five-minute refresh margin: every
	// request for a token goes to the refresh token, as happens an hour
	// into a long run.
	srv := simtest.Start(t, tn, m365sim.Options{AccessTokenLifetime: 2 * time.Minute, AutoApprove: 10 * time.Millisecond})
	m, err := auth.New(auth.Config{ClientID: m365sim.DefaultClientID, Authority: srv.Authority(), HTTPClient: srv.HTTPClient(),
		Dir: t.TempDir(), Keychain: secret.File{Dir: t.TempDir()}, Scopes: simtest.Scopes()})
	if err != nil {
		t.Fatal(err)
	}
	acct, err := m.SignIn(ctx, func(auth.Event) {})
	if err != nil {
		t.Fatal(err)
	}
	ts, err := m.TokenSource(acct.HomeAccountID, "127.0.0.1", "localhost")
	if err != nil {
		t.Fatal(err)
	}
	gc, err := graph.New(graph.Options{GraphURL: srv.GraphURL(), HTTPClient: srv.HTTPClient(), Auth: ts, Account: upn,
		PacerConfig: graph.PacerConfig{BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, MaxAttempts: 3}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := catalog.Open(ctx, filepath.Join(t.TempDir(), "catalog.db"), catalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	st := store.NewMemory()
	r, key, err := repo.Init(ctx, st, repo.TestOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { r.Close() }()
	account := catalog.Account{HomeID: acct.HomeAccountID, UPN: upn, Kind: catalog.AccountWork}

	var once sync.Once
	_, err = Run(ctx, Options{Graph: gc, Repo: r, Catalog: c, Account: account, BatchSize: 10, ProgressInterval: time.Nanosecond,
		OnProgress: func(p Progress) {
			if p.ItemsDone >= 30 {
				once.Do(func() { srv.RevokeRefreshTokens(upn) })
			}
		}})
	if !errors.Is(err, auth.ErrSignInRequired) {
		t.Fatalf("run after the sign-in was revoked: %v; want ErrSignInRequired", err)
	}
	runs, err := c.Runs(ctx, 5)
	if err != nil || len(runs) != 1 || runs[0].Status != catalog.RunFailed {
		t.Fatalf("runs %v %+v", err, runs)
	}
	// The mailbox was cut off halfway: no mail snapshot. (The OneDrive,
	// backed up at the same time, may have finished: a whole snapshot.)
	snaps, err := r.ListSnapshots(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range snaps {
		if s.Kind == KindMail {
			t.Fatalf("a mail run cut off by sign-in wrote a snapshot")
		}
	}
	r.Close()
	if r, err = repo.Open(ctx, st, key.String(), repo.TestOptions()); err != nil {
		t.Fatal(err)
	}
	rep, err := r.Check(ctx, repo.CheckOptions{ReadData: true, Refs: Refs})
	if err != nil || !rep.OK() {
		t.Fatalf("check after the failed run: %v %+v", err, rep.Problems)
	}

	// Signing in again lets the next run finish the job.
	if _, err := m.SignIn(ctx, func(auth.Event) {}); err != nil {
		t.Fatal(err)
	}
	srv.Requests().Reset()
	res, err := Run(ctx, Options{Graph: gc, Repo: r, Catalog: c, Account: account})
	if err != nil || res.Status != catalog.RunCompleted {
		t.Fatalf("run after signing in again: %v %s", err, res.Status)
	}
	msgs, _ := tn.Messages(upn, "")
	if mime, _ := downloads(srv); mime >= len(msgs) {
		t.Errorf("the run after sign-in fetched %d of %d messages again; the stopped run's work was lost", mime, len(msgs))
	}
	e := &env{t: t, srv: srv, tn: tn, r: r, st: st, c: c, acct: account, upn: upn}
	e.checkMail(res)
	e.checkFiles(res)
}
