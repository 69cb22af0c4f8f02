package offsite

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/backup"
	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/graph"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
	"github.com/lifeboat-backup/lifeboat/engine/repo"
)

// sim is the simulated tenant with its two users and a catalog.
type sim struct {
	t     *testing.T
	srv   *m365sim.Server
	tn    *m365sim.Tenant
	c     *catalog.Catalog
	users []string
}

func newSim(t *testing.T) *sim {
	t.Helper()
	srv := simtest.Start(t, nil, m365sim.Options{})
	c, err := catalog.Open(t.Context(), filepath.Join(t.TempDir(), "catalog.db"), catalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &sim{t: t, srv: srv, tn: srv.Tenant(), c: c, users: []string{simtest.Alice, simtest.Bob}}
}

func (s *sim) graph(upn string) *graph.Client {
	s.t.Helper()
	g, err := graph.New(graph.Options{
		GraphURL: s.srv.GraphURL(), HTTPClient: s.srv.HTTPClient(), Account: upn,
		Auth: graph.TokenFunc(func(context.Context) (string, error) {
			tok, _, err := s.srv.IssueAccessToken(upn)
			return tok, err
		}),
		PacerConfig: graph.PacerConfig{BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, MaxAttempts: 3},
	})
	if err != nil {
		s.t.Fatal(err)
	}
	return g
}

// backupAll backs up every user into r, with the catalog copy at the end.
func (s *sim) backupAll(r *repo.Repository) {
	s.t.Helper()
	for i, upn := range s.users {
		res, err := backup.Run(s.t.Context(), backup.Options{Graph: s.graph(upn), Repo: r, Catalog: s.c,
			Account:       catalog.Account{HomeID: "home-" + upn, UPN: upn, DisplayName: upn, Kind: catalog.AccountWork},
			NoCatalogCopy: i < len(s.users)-1})
		if err != nil {
			s.t.Fatalf("backup of %s: %v", upn, err)
		}
		if len(res.Skipped) > 0 {
			s.t.Fatalf("backup of %s skipped %v", upn, res.Skipped)
		}
	}
}

// verifyAll reads every message and file of the tenant back from the
// newest snapshots in r and compares the bytes; it returns how many items
// it compared.
func (s *sim) verifyAll(r *repo.Repository) int {
	s.t.Helper()
	ctx := s.t.Context()
	snaps, err := r.ListSnapshots(ctx)
	if err != nil {
		s.t.Fatal(err)
	}
	newest := map[string]*repo.Snapshot{}
	for _, sn := range snaps {
		k := sn.Account + "/" + sn.Kind
		if newest[k] == nil || sn.Time.After(newest[k].Time) {
			newest[k] = sn
		}
	}
	n := 0
	for _, upn := range s.users {
		msgs, err := s.tn.Messages(upn, "")
		if err != nil {
			s.t.Fatal(err)
		}
		ms := newest[upn+"/"+backup.KindMail]
		if ms == nil {
			s.t.Fatalf("no mail snapshot of %s", upn)
		}
		c, err := backup.ReadSnapshot(ctx, r, ms.ID)
		if err != nil {
			s.t.Fatal(err)
		}
		got := map[string]repo.ContentRef{}
		for _, f := range c.Folders {
			for _, m := range f.Messages {
				got[m.ID] = m.Content
			}
		}
		for _, m := range msgs {
			ref, ok := got[m.ID]
			if !ok || !bytes.Equal(read(s.t, r, ref), m.MIME) {
				s.t.Errorf("%s: message %q not restored byte-identical", upn, m.Header.Subject)
			}
			n++
		}
		items, err := s.tn.DriveItems(upn)
		if err != nil {
			s.t.Fatal(err)
		}
		fs := newest[upn+"/"+backup.KindOneDrive]
		if fs == nil {
			s.t.Fatalf("no onedrive snapshot of %s", upn)
		}
		fc, err := backup.ReadSnapshot(ctx, r, fs.ID)
		if err != nil {
			s.t.Fatal(err)
		}
		files := map[string]*repo.ContentRef{}
		for _, f := range fc.Files {
			files[f.ID] = f.Content
		}
		for _, it := range items {
			if it.Folder {
				continue
			}
			want, _ := io.ReadAll(it.Content.Open())
			ref := files[it.ID]
			if ref == nil || !bytes.Equal(read(s.t, r, *ref), want) {
				s.t.Errorf("%s: file %q not restored byte-identical", upn, it.Name)
			}
			n++
		}
	}
	return n
}

func read(t *testing.T, r *repo.Repository, ref repo.ContentRef) []byte {
	t.Helper()
	rc := r.OpenStream(t.Context(), ref)
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("reading content: %v", err)
	}
	return b
}

func checkRepo(t *testing.T, r *repo.Repository) {
	t.Helper()
	rep, err := r.Check(t.Context(), repo.CheckOptions{ReadData: true, Refs: backup.Refs})
	if err != nil || !rep.OK() {
		t.Fatalf("verify --read-data: %v %v", err, rep.Problems)
	}
	if rep.BlobsRead == 0 {
		t.Fatal("verify read no data")
	}
}
