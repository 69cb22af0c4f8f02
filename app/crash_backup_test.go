package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/backup"
	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
	"github.com/lifeboat-backup/lifeboat/engine/repo"
	"github.com/lifeboat-backup/lifeboat/engine/store"
)

// TestCrashBackupKill9 kills `lifeboat backup` with SIGKILL at random
// moments (LIFEBOAT_BACKUP_CRASH_TRIALS times, default 20). After each
// kill the backup must verify, and the next run must complete without
// downloading again any message or file whose content the killed run had
// made durable (its catalog record committed and every chunk in the
// repository's index), which the test reads from the simulator's request
// log.
func TestCrashBackupKill9(t *testing.T) {
	trials := 20
	if s := os.Getenv("LIFEBOAT_BACKUP_CRASH_TRIALS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("LIFEBOAT_BACKUP_CRASH_TRIALS=%q", s)
		}
		trials = n
	}
	tn, err := m365sim.GenerateDemo(11, m365sim.DemoOptions{Users: 1, MessagesPerUser: 300, FilesPerUser: 30, MaxFileSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	upn := tn.Users()[0].UPN
	srv := simtest.Start(t, tn, m365sim.Options{AutoApprove: 10 * time.Millisecond})
	profile := filepath.Join(t.TempDir(), "tenant.json")
	if err := m365sim.WriteProfile(profile, srv.Profile()); err != nil {
		t.Fatal(err)
	}
	cli := newLifeboatCLI(t)
	cli.mustRun(t, "--tenant-profile", profile, "login")
	dir := filepath.Join(t.TempDir(), "backup")
	rk := cli.init(t, dir)
	backupArgs := []string{"--tenant-profile", profile, "backup", "--to", dir, "--checkpoint-every", "50ms"}

	rnd := rand.New(rand.NewPCG(20261127, 5))
	window := 1500 * time.Millisecond // adapted to how long a run takes
	killed, reused, resumed := 0, 0, 0
	var before map[string]bool // what the previous complete run had stored
	for trial := range trials {
		if trial > 0 {
			addMail(t, tn, upn, trial, 40+rnd.IntN(40))
			for i := range 3 + rnd.IntN(4) {
				b := make([]byte, 100<<10+rnd.IntN(400<<10))
				for k := range b {
					b[k] = byte(rnd.Uint32())
				}
				if _, err := tn.PutFile(upn, fmt.Sprintf("Crash/trial %02d/file %d.bin", trial, i), m365sim.BytesContent(b), time.Time{}); err != nil {
					t.Fatal(err)
				}
			}
		}
		cmd := cli.command(backupArgs...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		delay := time.Duration(rnd.Int64N(int64(window)))
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		select {
		case <-exited:
			// Finished before the kill: still a valid trial of the next run.
		case <-time.After(delay):
			_ = cmd.Process.Signal(syscall.SIGKILL)
			<-exited
			killed++
		}

		stored := durableItems(t, cli.configDir, dir, rk, tn, upn)
		if out := cli.mustRun(t, "verify", "--to", dir); !strings.Contains(out, "No damage found") {
			t.Fatalf("trial %d: verify after the kill:\n%s", trial, out)
		}
		srv.Requests().Reset()
		began := time.Now()
		cli.mustRun(t, backupArgs...)
		window = max(300*time.Millisecond, time.Since(began)*3/2, window*3/4)
		again := 0
		for _, e := range srv.Requests().Entries() {
			if id, ok := downloadedItem(e.Path); ok && stored[id] {
				again++
				t.Errorf("trial %d: %s downloaded again though the killed run had stored it", trial, e.Path)
			}
		}
		reused += len(stored)
		for id := range stored {
			if !before[id] {
				resumed++ // stored by the killed run itself
			}
		}
		before = durableItems(t, cli.configDir, dir, rk, tn, upn)
		if again > 0 {
			t.Logf("trial %d: killed after %s (%d killed so far); %d durable items", trial, delay, killed, len(stored))
			logBackupState(t, cli.configDir, dir, rk)
			t.FailNow()
		}
	}
	t.Logf("%d trials, %d killed mid-run; %d durable items were not downloaded again, %d of them stored by a killed run", trials, killed, reused, resumed)
	if resumed == 0 {
		t.Error("no killed run left anything durable; the test proves nothing about resuming")
	}
	if killed < trials/2 {
		t.Errorf("only %d of %d runs were killed before they finished; the kill window is too short", killed, trials)
	}
	if out := cli.mustRun(t, "verify", "--to", dir, "--read-data"); !strings.Contains(out, "No damage found") {
		t.Fatalf("final verify:\n%s", out)
	}
	// Everything in the tenant is in the backup now.
	stored := durableItems(t, cli.configDir, dir, rk, tn, upn)
	msgs, _ := tn.Messages(upn, "")
	items, _ := tn.DriveItems(upn)
	for _, m := range msgs {
		if !stored[m.ID] {
			t.Errorf("message %q is not in the backup after the last run", m.Header.Subject)
		}
	}
	for _, it := range items {
		if !it.Folder && !stored[it.ID] {
			t.Errorf("file %s is not in the backup after the last run", it.Name)
		}
	}
}

func addMail(t *testing.T, tn *m365sim.Tenant, upn string, trial, n int) {
	t.Helper()
	for i := range n {
		mime := fmt.Appendf(nil, "From: Crash Test <crash@fabrikam.test>\r\nTo: %s\r\nSubject: Trial %d message %d\r\n"+
			"Message-ID: <crash-%d-%d@fabrikam.test>\r\nDate: Fri, 27 Nov 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n"+
			"Content-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n", upn, trial, i, trial, i, strings.Repeat("body text ", 50+i))
		if _, err := tn.AddMessage(upn, "inbox", mime, m365sim.MessageOptions{}); err != nil {
			t.Fatal(err)
		}
	}
}

// downloadedItem names the message or file a content request fetched.
func downloadedItem(path string) (string, bool) {
	if rest, ok := strings.CutSuffix(path, "/$value"); ok {
		return rest[strings.LastIndexByte(rest, '/')+1:], true
	}
	if _, id, ok := strings.Cut(path, "/_download/"); ok {
		return id, true
	}
	return "", false
}

// durableItems lists the tenant's messages and files whose content this
// computer's catalog records and whose every chunk the repository's index
// holds: what a crash can no longer lose.
func durableItems(t *testing.T, configDir, dir, rk string, tn *m365sim.Tenant, upn string) map[string]bool {
	t.Helper()
	ctx := context.Background()
	st, err := store.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	r, err := repo.Open(ctx, st, rk, repo.Options{Logger: quietLog})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	out := map[string]bool{}
	path := filepath.Join(configDir, "catalogs", r.Config().ID.String()+".db")
	if _, err := os.Stat(path); err != nil {
		return out // killed before the catalog was created
	}
	c, err := catalog.Open(ctx, path, catalog.Options{})
	if err != nil {
		t.Fatalf("the catalog does not open after a kill: %v", err)
	}
	defer c.Close()
	accts, err := c.Accounts(ctx)
	if err != nil || len(accts) > 1 {
		t.Fatalf("accounts %v %v", accts, err)
	}
	if len(accts) == 0 {
		return out
	}
	check := func(kind catalog.ItemKind, id string) {
		vs, err := c.Versions(ctx, catalog.ItemRef{Account: accts[0].HomeID, Kind: kind, ID: id})
		if errors.Is(err, catalog.ErrNotFound) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range vs {
			if v.Content != "" && chunksIndexed(t, r, v.Content) {
				out[id] = true
			}
		}
	}
	msgs, _ := tn.Messages(upn, "")
	for _, m := range msgs {
		check(catalog.KindMail, m.ID)
	}
	items, _ := tn.DriveItems(upn)
	for _, it := range items {
		if !it.Folder {
			check(catalog.KindFile, it.ID)
		}
	}
	return out
}

// chunksIndexed reports whether the index holds every chunk of a catalog
// content reference.
func chunksIndexed(t *testing.T, r *repo.Repository, content string) bool {
	t.Helper()
	ref, err := backup.DecodeContent(content)
	if err != nil {
		t.Fatalf("content reference %q: %v", content, err)
	}
	for _, id := range ref.Chunks {
		if !r.HasBlob(id) {
			return false
		}
	}
	return true
}

// logBackupState logs the repository's and the catalog's snapshots, to
// explain a failure.
func logBackupState(t *testing.T, configDir, dir, rk string) {
	ctx := context.Background()
	st, err := store.NewLocal(dir)
	if err != nil {
		t.Log(err)
		return
	}
	r, err := repo.Open(ctx, st, rk, repo.Options{Logger: quietLog})
	if err != nil {
		t.Log(err)
		return
	}
	defer r.Close()
	snaps, _ := r.ListSnapshots(ctx)
	for _, s := range snaps {
		t.Logf("repository snapshot %s %s %s parent %s", s.ID.Short(), s.Kind, s.Time.Format(time.StampMilli), s.Parent.Short())
	}
	c, err := catalog.Open(ctx, filepath.Join(configDir, "catalogs", r.Config().ID.String()+".db"), catalog.Options{})
	if err != nil {
		t.Log(err)
		return
	}
	defer c.Close()
	accts, _ := c.Accounts(ctx)
	for _, a := range accts {
		for _, k := range []catalog.SnapshotKind{catalog.SnapshotMail, catalog.SnapshotOneDrive} {
			cs, _ := c.Snapshots(ctx, a.HomeID, k)
			for _, s := range cs {
				t.Logf("catalog snapshot %d %s %s run %d repo %.8s", s.Seq, s.Kind, s.Status, s.RunID, s.RepoID)
			}
		}
	}
	runs, _ := c.Runs(ctx, 10)
	for _, r := range runs {
		t.Logf("run %d %s %+v %s", r.ID, r.Status, r.Counts, r.Error)
	}
}
