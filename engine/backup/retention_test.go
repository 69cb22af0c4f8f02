package backup

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
	"github.com/lifeboat-backup/lifeboat/engine/repo"
)

// TestKeepDeletedItems: a message and a file that existed in only one
// snapshot and were then deleted survive a prune that thins that day to
// one snapshot, because KeepDeletedFor pins the snapshot that holds them.
func TestKeepDeletedItems(t *testing.T) {
	ctx := t.Context()
	e := newEnv(t, nil, simtest.Alice)
	e.mustRun(nil)
	msg, err := e.tn.AddMessage(simtest.Alice, "inbox", simtest.MIMEMessage(901), m365sim.MessageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	file, err := e.tn.PutFile(simtest.Alice, "Documents/only-once.txt", m365sim.BytesContent("here for one backup\n"), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	holder := e.mustRun(nil)
	if err := e.tn.DeleteMessage(simtest.Alice, msg.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.tn.DeleteDriveItem(simtest.Alice, file.ID); err != nil {
		t.Fatal(err)
	}
	e.mustRun(nil)
	e.mustRun(nil)

	snaps, err := e.r.ListSnapshots(ctx)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().Add(time.Hour)
	thin := repo.Policy{KeepDaily: 1, Location: time.UTC}
	isForgotten := func(forget []repo.ID, id repo.ID) bool {
		for _, f := range forget {
			if f == id {
				return true
			}
		}
		return false
	}

	// Without the rule the snapshot holding them goes (the control).
	_, forget, _, err := RetentionPlan(ctx, nil, snaps, now, thin)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{KindMail, KindOneDrive} {
		if !isForgotten(forget, holder.Snapshots[k]) {
			t.Fatalf("control: the plain plan keeps the %s snapshot that holds the deleted items; the test proves nothing", k)
		}
	}

	// Deleted more than KeepDeletedFor ago: not pinned either.
	old := thin
	old.KeepDeletedFor = 24 * time.Hour
	_, forget, _, err = RetentionPlan(ctx, e.c, snaps, now.Add(48*time.Hour), old)
	if err != nil {
		t.Fatal(err)
	}
	if !isForgotten(forget, holder.Snapshots[KindMail]) {
		t.Errorf("items deleted two days ago are kept under a one-day rule")
	}

	keepDeleted := thin
	keepDeleted.KeepDeletedFor = 365 * 24 * time.Hour
	keep, forget, reasons, err := RetentionPlan(ctx, e.c, snaps, now, keepDeleted)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{KindMail, KindOneDrive} {
		id := holder.Snapshots[k]
		if isForgotten(forget, id) {
			t.Fatalf("the %s snapshot holding a deleted item is forgotten", k)
		}
		if !strings.Contains(reasons[id], "holds 1 deleted items") {
			t.Errorf("%s snapshot kept for %q", k, reasons[id])
		}
	}
	if len(forget) == 0 || len(keep) >= len(snaps) {
		t.Fatalf("the rule kept everything (%d of %d); it should only pin what it needs", len(keep), len(snaps))
	}

	rep, err := e.r.Prune(ctx, repo.PruneOptions{Forget: forget, Refs: Refs, Grace: -1})
	if err != nil {
		t.Fatal(err)
	}
	if rep.SnapshotsForgotten != len(forget) {
		t.Errorf("forgot %d snapshots, planned %d", rep.SnapshotsForgotten, len(forget))
	}
	e.reopen()
	check, err := e.r.Check(ctx, repo.CheckOptions{ReadData: true, Refs: Refs})
	if err != nil || len(check.Problems) > 0 {
		t.Fatalf("check after prune: %v %v", err, check.Problems)
	}
	deleted, err := e.c.RecentlyDeleted(ctx, e.acct.HomeID, 10)
	if err != nil || len(deleted) != 2 {
		t.Fatalf("recently deleted: %v %d", err, len(deleted))
	}
	for _, d := range deleted {
		ref, err := decodeContent(d.Content)
		if err != nil {
			t.Fatal(err)
		}
		rc := e.r.OpenStream(ctx, ref)
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("deleted %q is gone after prune: %v", d.Name, err)
		}
		want := "here for one backup\n"
		if d.Item.Kind == "mail" {
			want = string(msg.MIME)
		}
		if string(b) != want {
			t.Errorf("deleted %q reads back different bytes", d.Name)
		}
	}
}
