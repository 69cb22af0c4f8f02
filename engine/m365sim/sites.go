package m365sim

// SharePoint sites and their document libraries (HTTP in siteshttp.go).
//
// A site (site resource, https://learn.microsoft.com/graph/api/resources/site)
// has an ID of the form "{hostname},{site collection id},{web id}", a name,
// a displayName and a webUrl below https://{tenant}.sharepoint.com/sites/.
// Its document libraries are drives (drive resource, driveType
// "documentLibrary"); the first one is "Documents" (shown as "Shared
// Documents" in its URL), the site's default drive. A library is served by
// the same drive code as a OneDrive: each has a hidden owner *User that is
// in no user list, so /users never shows it, while every /drives/{id}
// endpoint works on it unchanged.
//
// Kinds: a team site (behind a Microsoft 365 group or a team), a
// communication site, and the site a Teams private or shared channel gets of
// its own (named "{team}-{channel}").

import (
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"
)

// SiteKind is what kind of site it is.
type SiteKind string

// Site kinds.
const (
	SiteTeam          SiteKind = "team"          // a Microsoft 365 group's or a team's site
	SiteCommunication SiteKind = "communication" // a communication site
	SiteChannel       SiteKind = "channel"       // a private or shared channel's own site
)

// Site is one SharePoint site.
type Site struct {
	ID          string
	Name        string // the URL segment below /sites/
	DisplayName string
	Description string
	Kind        SiteKind
	Created     time.Time
	Libraries   []*Library
	// collection is the site collection ID (the middle part of ID).
	collection string
}

// Library is one document library of a site: a drive.
type Library struct {
	Name    string // the library's title, e.g. "Documents"
	urlName string // its URL segment, e.g. "Shared Documents"
	Site    *Site
	owner   *User // holds Drive; in no user list
	Created time.Time
}

// DriveID is the library's drive ID.
func (l *Library) DriveID() string { return l.owner.Drive.ID }

// siteDirectory is the tenant's sites.
type siteDirectory struct {
	sites   []*Site
	byDrive map[string]*Library
	byOwner map[*User]*Library
}

// sharePointHost is the tenant's SharePoint host name, contoso.sharepoint.com.
func (t *Tenant) sharePointHost() string {
	prefix, _, _ := strings.Cut(strings.ToLower(t.Domain), ".")
	return prefix + ".sharepoint.com"
}

// AddSite creates a site with its default library "Documents". name is the
// URL segment (letters, digits and dashes).
func (t *Tenant) AddSite(name, displayName string, kind SiteKind) (*Site, error) {
	if name == "" || strings.ContainsAny(name, "/\\?#%,: ") {
		return nil, fmt.Errorf("m365sim: site name %q cannot be part of a URL", name)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, s := range t.sites.sites {
		if strings.EqualFold(s.Name, name) {
			return nil, fmt.Errorf("m365sim: site %s: %w", name, ErrConflict)
		}
	}
	coll := newGUID()
	s := &Site{ID: t.sharePointHost() + "," + coll + "," + newGUID(), Name: name, DisplayName: displayName, Kind: kind,
		Created: t.now().UTC(), collection: coll}
	t.sites.sites = append(t.sites.sites, s)
	if _, err := t.addLibraryLocked(s, "Documents", "Shared Documents"); err != nil {
		return nil, err
	}
	return s, nil
}

// AddLibrary adds a document library to a site.
func (t *Tenant) AddLibrary(siteID, name string) (*Library, error) {
	if err := ValidateDriveName(name); err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.siteLocked(siteID)
	if s == nil {
		return nil, fmt.Errorf("%w: site %s", ErrNoItem, siteID)
	}
	for _, l := range s.Libraries {
		if strings.EqualFold(l.Name, name) {
			return nil, fmt.Errorf("m365sim: library %s: %w", name, ErrConflict)
		}
	}
	return t.addLibraryLocked(s, name, name)
}

func (t *Tenant) addLibraryLocked(s *Site, name, urlName string) (*Library, error) {
	now := t.now().UTC()
	d := &Drive{ID: "b!" + t.newItemID(""), Quota: 25 << 40, items: map[string]*DriveItem{}}
	root := &DriveItem{ID: t.newItemID("01ROOT"), Name: "root", Folder: true, Created: now, Modified: now, FSCreated: now, FSModified: now, Seq: t.bump()}
	root.stamp()
	d.RootID = root.ID
	d.items[root.ID] = root
	owner := &User{ID: newGUID(), DisplayName: s.DisplayName, Drive: d}
	l := &Library{Name: name, urlName: urlName, Site: s, owner: owner, Created: now}
	s.Libraries = append(s.Libraries, l)
	if t.sites.byDrive == nil {
		t.sites.byDrive, t.sites.byOwner = map[string]*Library{}, map[*User]*Library{}
	}
	t.sites.byDrive[d.ID] = l
	t.sites.byOwner[owner] = l
	return l, nil
}

// Sites returns the sites in creation order.
func (t *Tenant) Sites() []*Site {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return append([]*Site(nil), t.sites.sites...)
}

// Site finds a site by ID or name.
func (t *Tenant) Site(idOrName string) (*Site, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if s := t.siteLocked(idOrName); s != nil {
		return s, nil
	}
	return nil, fmt.Errorf("%w: site %s", ErrNoItem, idOrName)
}

func (t *Tenant) siteLocked(idOrName string) *Site {
	for _, s := range t.sites.sites {
		if strings.EqualFold(s.ID, idOrName) || strings.EqualFold(s.Name, idOrName) {
			return s
		}
	}
	return nil
}

// DeleteSite removes a site with its libraries (as when a team is deleted).
func (t *Tenant) DeleteSite(id string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i, s := range t.sites.sites {
		if s.ID == id {
			for _, l := range s.Libraries {
				delete(t.sites.byDrive, l.DriveID())
				delete(t.sites.byOwner, l.owner)
			}
			t.sites.sites = append(t.sites.sites[:i], t.sites.sites[i+1:]...)
			return nil
		}
	}
	return fmt.Errorf("%w: site %s", ErrNoItem, id)
}

// Library finds a site's library by name.
func (s *Site) Library(name string) *Library {
	for _, l := range s.Libraries {
		if strings.EqualFold(l.Name, name) {
			return l
		}
	}
	return nil
}

// WebURL is the site's address.
func (t *Tenant) siteWebURL(s *Site) string {
	return "https://" + t.sharePointHost() + "/sites/" + s.Name
}

// libraryWebURL is the library's address, e.g. …/sites/sales/Shared%20Documents.
func (t *Tenant) libraryWebURL(l *Library) string {
	return t.siteWebURL(l.Site) + "/" + (&url.URL{Path: l.urlName}).EscapedPath()
}

// libraryOfLocked is the library whose hidden owner u is, or nil for a
// person's OneDrive.
func (t *Tenant) libraryOfLocked(u *User) *Library {
	return t.sites.byOwner[u]
}

// libraryOwnerLocked is the hidden owner of the library with the drive ID.
func (t *Tenant) libraryOwnerLocked(driveID string) *User {
	if l := t.sites.byDrive[driveID]; l != nil {
		return l.owner
	}
	return nil
}

// driveByIDLocked finds any drive, a OneDrive or a library.
func (t *Tenant) driveByIDLocked(driveID string) *Drive {
	for _, u := range t.driveHoldersLocked() { // deleted users' kept OneDrives too (lifecycle.go)
		if u.Drive != nil && u.Drive.ID == driveID {
			return u.Drive
		}
	}
	if u := t.libraryOwnerLocked(driveID); u != nil {
		return u.Drive
	}
	return nil
}

// driveWebURLLocked is the web address of a drive's root: the OneDrive's
// Documents, or the library.
func (t *Tenant) driveWebURLLocked(u *User) string {
	if l := t.libraryOfLocked(u); l != nil {
		return t.libraryWebURL(l)
	}
	return t.personalSiteURL(u) + "/Documents"
}

// ---- seeding and changing library files, for tests and the demo ----

func (t *Tenant) libraryLocked(driveID string) (*Library, error) {
	if l := t.sites.byDrive[driveID]; l != nil {
		return l, nil
	}
	return nil, fmt.Errorf("%w: library %s", ErrNoItem, driveID)
}

// PutLibraryFile creates or replaces a file in a library (by drive ID),
// creating folders on the way; modTime is its fileSystemInfo time.
func (t *Tenant) PutLibraryFile(driveID, path string, c Content, modTime time.Time) (*DriveItem, error) {
	hash, err := quickXorOf(c)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	l, err := t.libraryLocked(driveID)
	if err != nil {
		return nil, err
	}
	return t.putFileLocked(l.owner.Drive, path, c, hash, modTime)
}

// LibraryItemByPath finds a library's item by its path below the root.
func (t *Tenant) LibraryItemByPath(driveID, path string) (DriveItem, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	l, err := t.libraryLocked(driveID)
	if err != nil {
		return DriveItem{}, err
	}
	it, err := l.owner.Drive.byPathLocked(path)
	if err != nil {
		return DriveItem{}, err
	}
	return *it, nil
}

// LibraryItems returns copies of a library's live items, root excepted,
// in the order they last changed.
func (t *Tenant) LibraryItems(driveID string) ([]DriveItem, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	l, err := t.libraryLocked(driveID)
	if err != nil {
		return nil, err
	}
	d := l.owner.Drive
	var out []DriveItem
	for _, it := range d.items {
		if it.ID != d.RootID {
			out = append(out, *it)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	return out, nil
}

// DeleteLibraryItem deletes a library's file or folder (with everything in it).
func (t *Tenant) DeleteLibraryItem(driveID, id string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	l, err := t.libraryLocked(driveID)
	if err != nil {
		return err
	}
	d := l.owner.Drive
	it, ok := d.items[id]
	if !ok || id == d.RootID {
		return fmt.Errorf("%w: drive item %s", ErrNoItem, id)
	}
	t.deleteTreeLocked(d, it)
	return nil
}

// LibraryItemPath is an item's slash path below its library's root.
func (t *Tenant) LibraryItemPath(driveID, id string) (string, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	l, err := t.libraryLocked(driveID)
	if err != nil {
		return "", err
	}
	return l.owner.Drive.itemPathLocked(id)
}
