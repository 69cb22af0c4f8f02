package catalog

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestRandomHistory plays random histories — changes, deletions, comebacks,
// full enumerations, several changes to one item in one snapshot and
// discarded snapshots — against a plain model, and checks that AsOf at
// every snapshot, RecentlyDeleted and deleted-only search agree with it.
func TestRandomHistory(t *testing.T) {
	for seed := uint64(1); seed <= 6; seed++ {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) { randomHistory(t, seed) })
	}
}

func randomHistory(t *testing.T, seed uint64) {
	c := newCatalog(t)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(seed, 99))
	const ids = 12
	state := map[string]int{} // id -> content variant
	snaps := map[int64]map[string]int{}
	var order []int64
	for s := 0; s < 25; s++ {
		seq, err := c.RecordSnapshot(ctx, Snapshot{Account: paul, Kind: SnapshotMail, Time: day(s)})
		if err != nil {
			t.Fatal(err)
		}
		b, err := c.Begin(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		next := maps.Clone(state)
		upsert := func(id string, variant int) {
			v := mail(id, "item x"+id, "Inbox", day(variant))
			v.Content = fmt.Sprint("content-", variant)
			v.Item.Account, v.Item.Kind = paul, KindMail
			if _, err := b.Upsert(v); err != nil {
				t.Fatal(err)
			}
			next[id] = variant
		}
		full := rng.IntN(5) == 0
		if full {
			next = map[string]int{}
			for i := 0; i < ids; i++ {
				if rng.IntN(3) > 0 {
					id := fmt.Sprint(i)
					variant, ok := state[id]
					if !ok || rng.IntN(4) == 0 {
						variant = rng.IntN(4)
					}
					upsert(id, variant)
				}
			}
			if _, err := b.CloseUnseen(); err != nil {
				t.Fatal(err)
			}
		} else {
			for k := rng.IntN(6); k > 0; k-- {
				id := fmt.Sprint(rng.IntN(ids))
				if rng.IntN(3) == 0 {
					if _, err := b.Delete(ItemRef{paul, KindMail, id}); err != nil {
						t.Fatal(err)
					}
					delete(next, id)
				} else {
					upsert(id, rng.IntN(4))
				}
			}
		}
		if err := b.Commit(); err != nil {
			t.Fatal(err)
		}
		if rng.IntN(5) == 0 {
			if err := c.DiscardSnapshot(ctx, seq); err != nil {
				t.Fatal(err)
			}
			checkConsistency(t, c)
			continue
		}
		if err := c.CompleteSnapshot(ctx, seq, repoID(seq)); err != nil {
			t.Fatal(err)
		}
		state = next
		snaps[seq] = maps.Clone(state)
		order = append(order, seq)
	}
	checkConsistency(t, c)

	for _, seq := range order {
		_, vs, err := c.AsOf(ctx, AsOfQuery{Account: paul, Kind: KindMail, Snapshot: seq, Recursive: true})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]int{}
		for _, v := range vs {
			if v.First > seq || (v.End != 0 && v.End <= seq) || v.Last < seq {
				t.Errorf("snapshot %d: version %+v out of range", seq, v)
			}
			var variant int
			fmt.Sscanf(v.Content, "content-%d", &variant)
			got[v.Item.ID] = variant
		}
		if !maps.Equal(got, snaps[seq]) {
			t.Errorf("AsOf(%d) = %v, want %v", seq, got, snaps[seq])
		}
	}

	// Deleted: existed in some snapshot, not in the latest. The deletion
	// is the first snapshot after the last one it was in.
	wantDeleted := map[string]int64{}
	for i, seq := range order {
		for id := range snaps[seq] {
			if _, ok := state[id]; !ok && i+1 < len(order) {
				if _, in := snaps[order[i+1]][id]; !in {
					wantDeleted[id] = order[i+1]
				}
			}
		}
	}
	d, err := c.RecentlyDeleted(ctx, paul, 100)
	if err != nil {
		t.Fatal(err)
	}
	gotDeleted := map[string]int64{}
	for _, x := range d {
		gotDeleted[x.Item.ID] = x.DeletedSeq
	}
	if !maps.Equal(gotDeleted, wantDeleted) {
		t.Errorf("RecentlyDeleted = %v, want %v", gotDeleted, wantDeleted)
	}
	hits, err := c.Search(ctx, SearchQuery{Text: "item", DeletedOnly: true, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var gotIDs []string
	for _, h := range hits {
		gotIDs = append(gotIDs, h.Item.ID)
	}
	slices.Sort(gotIDs)
	if want := slices.Sorted(maps.Keys(wantDeleted)); !slices.Equal(gotIDs, want) {
		t.Errorf("deleted-only search = %v, want %v", gotIDs, want)
	}
}
