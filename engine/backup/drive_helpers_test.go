package backup

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
	"github.com/lifeboat-backup/lifeboat/engine/repo"
	"github.com/lifeboat-backup/lifeboat/engine/store"
)

// newEnvAt is newEnv with the repository in a folder (a drive).
func newEnvAt(t *testing.T, dir string) *env {
	t.Helper()
	srv := simtest.Start(t, nil, m365sim.Options{})
	c, err := catalog.Open(t.Context(), filepath.Join(t.TempDir(), "catalog.db"), catalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	st, err := store.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	r, key, err := repo.Init(t.Context(), st, repo.TestOptions())
	if err != nil {
		t.Fatal(err)
	}
	upn := simtest.Alice
	e := &env{t: t, srv: srv, tn: srv.Tenant(), r: r, st: st, key: key.String(), c: c, upn: upn,
		acct: catalog.Account{HomeID: "home-" + upn, UPN: upn, DisplayName: upn, Kind: catalog.AccountWork}}
	t.Cleanup(func() { e.r.Close() })
	return e
}

// addRandomFiles puts n incompressible files of about size bytes in the
// account's OneDrive.
func (e *env) addRandomFiles(seed uint64, dir string, n, size int) {
	e.t.Helper()
	rnd := rand.New(rand.NewPCG(seed, 3))
	for i := range n {
		b := make([]byte, size/2+rnd.IntN(size))
		for k := range b {
			b[k] = byte(rnd.Uint32())
		}
		if _, err := e.tn.PutFile(e.upn, fmt.Sprintf("%s/file %02d.bin", dir, i), m365sim.BytesContent(b), time.Time{}); err != nil {
			e.t.Fatal(err)
		}
	}
}

// durable lists the items whose content the catalog records and whose
// every chunk is in the repository's index as a new process reads it:
// what a failed run can no longer lose.
func (e *env) durable() map[string]bool {
	e.t.Helper()
	e.reopen()
	out := map[string]bool{}
	check := func(kind catalog.ItemKind, id string) {
		vs, err := e.c.Versions(e.t.Context(), catalog.ItemRef{Account: e.acct.HomeID, Kind: kind, ID: id})
		if err != nil {
			return
		}
		for _, v := range vs {
			if ref, err := DecodeContent(v.Content); err == nil && v.Content != "" && stored(e.r, ref) {
				out[id] = true
			}
		}
	}
	msgs, _ := e.tn.Messages(e.upn, "")
	for _, m := range msgs {
		check(catalog.KindMail, m.ID)
	}
	items, _ := e.tn.DriveItems(e.upn)
	for _, it := range items {
		if !it.Folder {
			check(catalog.KindFile, it.ID)
		}
	}
	return out
}

// refetched counts the content downloads of the last run that fetched an
// item already durable before it.
func (e *env) refetched(durable map[string]bool) int {
	n := 0
	for _, r := range e.srv.Requests().Entries() {
		id := ""
		if rest, ok := strings.CutSuffix(r.Path, "/$value"); ok {
			id = rest[strings.LastIndexByte(rest, '/')+1:]
		} else if _, after, ok := strings.Cut(r.Path, "/_download/"); ok {
			id = after
		}
		if id != "" && durable[id] {
			n++
			e.t.Errorf("%s downloaded again though it was stored before", r.Path)
		}
	}
	return n
}

// checkRepo verifies every byte of the repository and that every earlier
// snapshot still reads.
func (e *env) checkRepo(snaps map[string]repo.ID) {
	e.t.Helper()
	rep, err := e.r.Check(e.t.Context(), repo.CheckOptions{ReadData: true, Refs: treeRefs})
	if err != nil || !rep.OK() {
		e.t.Fatalf("verify --read-data: %v %v", err, rep.Problems)
	}
	for kind, id := range snaps {
		read := func() error { _, err := ReadSnapshot(e.t.Context(), e.r, id); return err }
		if kind == KindCalendar || kind == KindContacts {
			read = func() error { _, err := ReadPIMSnapshot(e.t.Context(), e.r, id); return err }
		}
		if err := read(); err != nil {
			e.t.Fatalf("the earlier %s snapshot: %v", kind, err)
		}
	}
}

// treeRefs is what verify follows below a snapshot's root.
func treeRefs(b []byte) ([]repo.ID, error) { return Refs(b) }
