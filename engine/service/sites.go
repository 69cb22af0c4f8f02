package service

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"

	"github.com/lifeboat-backup/lifeboat/engine/auth"
	"github.com/lifeboat-backup/lifeboat/engine/backup"
	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/graph"
	"github.com/lifeboat-backup/lifeboat/engine/people"
	"github.com/lifeboat-backup/lifeboat/engine/repo"
	"github.com/lifeboat-backup/lifeboat/engine/sites"
)

// SitesFile is the list of the company's SharePoint sites in the config
// folder.
const SitesFile = "company-sites.json"

func (s *Service) sitesPath() string { return filepath.Join(s.o.ConfigDir, SitesFile) }

// libraryPrefix starts the catalog account key of a site's document
// library: each library is an account of its own (its files one drive
// stream, like a OneDrive), keyed "library-{drive id}.{directory id}" so
// the company credential reaches it (companyrestore.go).
const libraryPrefix = "library-"

func libraryHomeID(driveID, tenantID string) string { return libraryPrefix + driveID + "." + tenantID }

// libraryDriveID is the drive ID of a library's account ("" for a person).
func libraryDriveID(a catalog.Account) string {
	id, ok := strings.CutPrefix(personID(a), libraryPrefix)
	if !ok {
		return ""
	}
	return id
}

// libraryAccountName is how a library appears in the app: "Sales - Documents".
func libraryAccountName(s sites.Site, l sites.Library) string { return s.Name() + " - " + l.Name }

// Sites is every SharePoint site Lifeboat knows in the company, as of the
// last backup, with which are excluded and which are gone.
func (s *Service) Sites() ([]sites.Site, error) {
	l, err := sites.Load(s.sitesPath())
	if err != nil {
		return nil, err
	}
	return l.Sorted(), nil
}

// SetSiteExcluded excludes sites from company backups (or includes them
// again): each key is a site's name, address or ID. Their copies stay.
func (s *Service) SetSiteExcluded(keys []string, excluded bool) ([]sites.Site, error) {
	l, err := sites.Load(s.sitesPath())
	if err != nil {
		return nil, err
	}
	var changed []sites.Site
	var unknown []string
	for _, k := range keys {
		st, ok := l.Find(k)
		if !ok {
			unknown = append(unknown, k)
			continue
		}
		st.Excluded = excluded
		changed = append(changed, *st)
	}
	if len(unknown) > 0 {
		return nil, badInput(fmt.Errorf("no site called %q in your company (see `lifeboat sites`)", unknown))
	}
	return changed, sites.Save(s.sitesPath(), l)
}

// siteLibrary is one library to back up.
type siteLibrary struct {
	site sites.Site
	lib  sites.Library
}

// refreshSites lists the company's sites (new ones are included, gone ones
// marked) and the libraries of new sites and of sites not checked for a
// day, and saves the list. It returns the libraries to back up.
func (s *Service) refreshSites(ctx context.Context, gc *graph.Client, note func(string, ...any)) ([]siteLibrary, error) {
	l, err := sites.Load(s.sitesPath())
	if err != nil {
		return nil, err
	}
	listed, err := gc.ListSites(ctx)
	if err != nil {
		return nil, err
	}
	var seen []sites.Observed
	for _, st := range listed {
		if !st.Personal { // OneDrives are backed up with their people
			seen = append(seen, sites.Observed{ID: st.ID, DisplayName: firstNonEmpty(st.DisplayName, st.Name), WebURL: st.WebURL})
		}
	}
	first := len(l.Sites) == 0
	added, gone := l.Update(s.now(), seen)
	for _, id := range added {
		if !first {
			note("The SharePoint site %q is new and is backed up from now on.", l.Sites[id].Name())
		}
	}
	for _, id := range gone {
		note("The SharePoint site %q is no longer there; Lifeboat keeps its backup.", l.Sites[id].Name())
	}
	var todo []siteLibrary
	for _, st := range l.Sorted() {
		if st.Excluded || !st.Gone.IsZero() {
			continue
		}
		if st.LibrariesChecked.IsZero() || s.now().Sub(st.LibrariesChecked) >= sites.RecheckLibraries {
			drives, err := gc.SiteDrives(ctx, st.ID)
			if err != nil {
				if ctx.Err() != nil || errors.Is(err, graph.ErrAuth) && !errors.Is(err, graph.ErrForbidden) {
					return nil, err
				}
				note("Lifeboat could not list the libraries of the site %q this time: %v", st.Name(), Explain(err))
			} else {
				p := l.Sites[st.ID]
				p.Libraries = p.Libraries[:0]
				for _, d := range drives {
					if d.DriveType == "documentLibrary" {
						p.Libraries = append(p.Libraries, sites.Library{DriveID: d.ID, Name: d.Name, WebURL: d.WebURL})
					}
				}
				p.LibrariesChecked = s.now()
				st = *p
			}
		}
		for _, lib := range st.Libraries {
			todo = append(todo, siteLibrary{site: st, lib: lib})
		}
	}
	return todo, sites.Save(s.sitesPath(), l)
}

// backUpSites backs up every library of every site not excluded, several
// at once, each with the drive machinery of a OneDrive. A library's
// failure never stops the others; a refusal to list the sites (no
// permission) is a note, not a failure of the company backup.
func (s *Service) backUpSites(ctx context.Context, r *repo.Repository, cat *catalog.Catalog, ts *auth.AppTokenSource, tenantID string, req BackupRequest) ([]AccountResult, error) {
	graphURL, hc := s.graphEndpoint()
	mon := backup.NewMonitor()
	gc, err := graph.New(graph.Options{GraphURL: graphURL, HTTPClient: hc, Auth: ts, Account: "sharepoint", Pacer: s.sharedPacer(),
		Logger: s.o.Logger, OnEvent: mon.Observe})
	if err != nil {
		return nil, err
	}
	todo, err := s.refreshSites(ctx, gc, req.Events.note)
	if errors.Is(err, graph.ErrForbidden) && ctx.Err() == nil {
		req.Events.note("Microsoft did not let Lifeboat see your company's SharePoint sites, so they are not backed up. Set up the company again to grant it.")
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("look at your company's SharePoint sites: %w", err)
	}
	workers := s.o.CompanyWorkers
	if workers <= 0 {
		workers = DefaultCompanyWorkers
	}
	out := make([]AccountResult, len(todo))
	var wg sync.WaitGroup
	sem := make(chan struct{}, workers)
	for i, sl := range todo {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			name := libraryAccountName(sl.site, sl.lib)
			ar := AccountResult{Account: name}
			ar.Result, ar.Err = backup.Run(ctx, backup.Options{
				Graph: gc, Repo: r, Catalog: cat, Only: backup.ScopeOneDrive, DriveID: sl.lib.DriveID, Monitor: mon, Logger: s.o.Logger,
				Account:        catalog.Account{HomeID: libraryHomeID(sl.lib.DriveID, tenantID), UPN: name, DisplayName: name, Kind: catalog.AccountWork},
				OnProgress:     req.Events.Progress,
				NoCatalogCopy:  true,
				CommitInterval: s.o.Checkpoint,
			})
			out[i] = ar
		}()
	}
	wg.Wait()
	return out, nil
}

// goneLibraries adds to left, keyed like a person's object ID, every
// library of a site Microsoft no longer lists: its last copy is the only
// one, so retention keeps it as it keeps a departed person's.
func (s *Service) goneLibraries(left map[string]people.Person) error {
	l, err := sites.Load(s.sitesPath())
	if err != nil {
		return err
	}
	for _, st := range l.Sites {
		if st.Gone.IsZero() {
			continue
		}
		for _, lib := range st.Libraries {
			id := libraryPrefix + lib.DriveID
			left[id] = people.Person{ID: id, DisplayName: libraryAccountName(*st, lib), Left: st.Gone}
		}
	}
	return nil
}
