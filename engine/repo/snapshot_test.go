package repo

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestSnapshots(t *testing.T) {
	ctx := context.Background()
	r, st, rk := newTestRepo(t, TestOptions())
	root, _, err := r.SaveBlob(ctx, TreeBlob, []byte(`{"folder":"Inbox"}`))
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	s1 := &Snapshot{Time: t0, Account: "paul@example.com", Kind: "mail", Root: root,
		Tags: []string{"scheduled"}, State: map[string]string{"delta/Inbox": "https://graph/delta?token=1"}}
	// SaveSnapshot flushes first: the root is in a pack that is not yet stored.
	id1, err := r.SaveSnapshot(ctx, s1)
	if err != nil {
		t.Fatal(err)
	}
	s2 := &Snapshot{Time: t0.Add(time.Hour), Account: "paul@example.com", Kind: "mail", Root: root, Parent: id1}
	id2, err := r.SaveSnapshot(ctx, s2)
	if err != nil {
		t.Fatal(err)
	}

	r2 := reopen(t, st, rk, TestOptions())
	list, err := r2.ListSnapshots(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != id1 || list[1].ID != id2 {
		t.Fatalf("ListSnapshots order wrong: %v", list)
	}
	if !reflect.DeepEqual(list[0], s1) {
		t.Fatalf("loaded %+v\nsaved  %+v", list[0], s1)
	}
	if list[1].Parent != id1 || list[1].Hostname == "" {
		t.Fatalf("snapshot 2: %+v", list[1])
	}
	if _, err := r2.LoadBlob(ctx, list[0].Root); err != nil {
		t.Fatalf("root not readable after reopen: %v", err)
	}
	// Snapshot bytes are encrypted: no account name in the clear.
	if b := readObject(t, st, snapshotName(id1)); strings.Contains(string(b), "paul@") {
		t.Fatal("snapshot stored in plaintext")
	}
	// A snapshot file renamed to another snapshot's name does not decrypt.
	putObject(t, st, snapshotName(id2), readObject(t, st, snapshotName(id1)))
	if _, err := r2.LoadSnapshot(ctx, id2); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("swapped snapshot: %v", err)
	}
	if list, _ := r2.ListSnapshots(ctx); len(list) != 1 {
		t.Fatalf("damaged snapshot not skipped: %d listed", len(list))
	}
	if err := r2.DeleteSnapshot(ctx, id2); err != nil {
		t.Fatal(err)
	}
}

func TestSnapshotRootMustExist(t *testing.T) {
	r := TestRepository(t)
	if _, err := r.SaveSnapshot(context.Background(), &Snapshot{Root: ID{1}}); !errors.Is(err, ErrBlobNotFound) {
		t.Fatalf("SaveSnapshot with unknown root: %v", err)
	}
}
