package m365sim

import "testing"

// TestDemoSites: the demo company has its team site with two libraries
// and a private channel's site, with the same files for the same seed.
func TestDemoSites(t *testing.T) {
	a, err := GenerateDemo(7, DemoOptions{Users: 2})
	if err != nil {
		t.Fatal(err)
	}
	b, err := GenerateDemo(7, DemoOptions{Users: 2})
	if err != nil {
		t.Fatal(err)
	}
	sites := a.Sites()
	if len(sites) != 2 || len(sites[0].Libraries) != 2 || sites[0].Libraries[1].Name != "Recipes" || sites[1].Kind != SiteChannel {
		t.Fatalf("demo sites: %+v", sites)
	}
	files := 0
	for i, st := range sites {
		for j, l := range st.Libraries {
			ia, err := a.LibraryItems(l.DriveID())
			if err != nil {
				t.Fatal(err)
			}
			ib, err := b.LibraryItems(b.Sites()[i].Libraries[j].DriveID())
			if err != nil || len(ia) != len(ib) {
				t.Fatalf("%s: %d and %d items (%v)", l.Name, len(ia), len(ib), err)
			}
			for k := range ia {
				if ia[k].Name != ib[k].Name || ia[k].QuickXor != ib[k].QuickXor || !ia[k].FSModified.Equal(ib[k].FSModified) {
					t.Errorf("%s: %s differs between two demos of one seed", l.Name, ia[k].Name)
				}
				if !ia[k].Folder {
					files++
				}
			}
		}
	}
	if files != len(demoSiteFiles) {
		t.Errorf("%d demo site files, want %d", files, len(demoSiteFiles))
	}
}
