package m365sim

import (
	"fmt"
	"strings"
	"time"
)

// The demo company's SharePoint: the bakery's team site with two document
// libraries (the everyday "Documents" and "Recipes"), and the site of its
// private "Management" channel. Deterministic like the rest of the demo.

// demoStreamSites keys the random streams of the demo sites (after the
// streams in demo.go).
const demoStreamSites = 1000

var demoSiteFiles = []struct{ site, library, path string }{
	{"bakery", "Documents", "Opening hours 2026.docx"},
	{"bakery", "Documents", "Staff rota/December.xlsx"},
	{"bakery", "Documents", "Staff rota/January.xlsx"},
	{"bakery", "Documents", "Suppliers/Price list – Molenaar.pdf"},
	{"bakery", "Documents", "Photos/Shop window.jpg"},
	{"bakery", "Recipes", "Breads/Sourdough (the good one).docx"},
	{"bakery", "Recipes", "Breads/Rye & caraway.docx"},
	{"bakery", "Recipes", "Pastry/Croissants – summer version.docx"},
	{"bakery", "Recipes", "Allergens.xlsx"},
	{"bakery-management", "Documents", "Budget 2027.xlsx"},
	{"bakery-management", "Documents", "Bank/Loan offer.pdf"},
}

// addDemoSites creates the demo sites and their files.
func (t *Tenant) addDemoSites(g *demoGen) error {
	team, err := t.AddSite("bakery", DemoTenantName, SiteTeam)
	if err != nil {
		return err
	}
	if _, err := t.AddLibrary(team.ID, "Recipes"); err != nil {
		return err
	}
	if _, err := t.AddSite("bakery-management", DemoTenantName+" - Management", SiteChannel); err != nil {
		return err
	}
	r := newDemoRand(demoKey(g.seed, demoStreamSites))
	year := g.years[len(g.years)-1]
	for i, f := range demoSiteFiles {
		st, err := t.Site(f.site)
		if err != nil {
			return err
		}
		lib := st.Library(f.library)
		name := f.path[strings.LastIndexByte(f.path, '/')+1:]
		kind, lo, hi := demoKindOf(name, f.path)
		size := r.logSize(lo, hi)
		content := demoFileContent(kind, min(size, g.opts.MaxFileSize), demoKey(g.seed, demoStreamSites, uint64(i+1)), f.path)
		mod := g.randomTime(r, year).Truncate(time.Second)
		if _, err := t.PutLibraryFile(lib.DriveID(), f.path, content, mod); err != nil {
			return fmt.Errorf("m365sim: demo site file %s: %w", f.path, err)
		}
	}
	t.demoLibraryFolderTimes()
	return nil
}

// demoLibraryFolderTimes gives each library folder the time of the oldest
// file below it, so that its fileSystemInfo depends on the seed only.
func (t *Tenant) demoLibraryFolderTimes() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, l := range t.sites.byDrive {
		d := l.owner.Drive
		for _, it := range d.items {
			if it.Folder || it.ParentID == "" {
				continue
			}
			for p := d.items[it.ParentID]; p != nil && p.ID != d.RootID; p = d.items[p.ParentID] {
				if p.FSModified.IsZero() || p.FSModified.After(it.FSModified) || p.FSModified.Equal(p.Created) {
					p.FSModified, p.FSCreated = it.FSModified, it.FSModified
				}
			}
		}
	}
}
