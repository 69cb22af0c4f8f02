package sites

import (
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// TestUpdateFindsNewAndGoneSitesAndKeepsChoices: a new site is added, a
// site no longer listed is marked gone (not dropped), an exclusion
// survives saving and the next look.
func TestUpdateFindsNewAndGoneSitesAndKeepsChoices(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sites.json")
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	l, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	added, gone := l.Update(t0, []Observed{{ID: "a", DisplayName: "Sales", WebURL: "https://x/sites/sales"}, {ID: "b", DisplayName: "HR"}})
	if !slices.Equal(added, []string{"a", "b"}) || len(gone) != 0 {
		t.Fatalf("first look: %v %v", added, gone)
	}
	s, ok := l.Find("https://x/sites/sales/")
	if !ok || s.ID != "a" {
		t.Fatalf("find by address: %v %v", s, ok)
	}
	s.Excluded = true
	if err := Save(path, l); err != nil {
		t.Fatal(err)
	}
	l, err = Load(path)
	if err != nil {
		t.Fatal(err)
	}
	added, gone = l.Update(t0.Add(time.Hour), []Observed{{ID: "a", DisplayName: "Sales"}, {ID: "c", DisplayName: "Board"}})
	if !slices.Equal(added, []string{"c"}) || !slices.Equal(gone, []string{"b"}) {
		t.Fatalf("second look: %v %v", added, gone)
	}
	if !l.Sites["a"].Excluded || l.Sites["b"].Gone.IsZero() || len(l.Sorted()) != 3 || l.Sorted()[0].Name() != "Board" {
		t.Errorf("after: %+v", l.Sorted())
	}
}
