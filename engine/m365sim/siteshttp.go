package m365sim

// SharePoint sites over Graph v1.0 (model in sites.go):
//   - GET /sites?search={query}: "Search for sites", a free-text search over
//     the sites' names and descriptions; "*" matches every site
//     (https://learn.microsoft.com/graph/api/site-search).
//   - GET /sites/getAllSites: every site of the organization, application
//     permissions only (Sites.Read.All, Sites.ReadWrite.All; "Delegated: Not
//     supported") (https://learn.microsoft.com/graph/api/site-getallsites).
//   - GET /sites/{site-id}: the site (https://learn.microsoft.com/graph/api/site-get).
//   - GET /sites/{site-id}/drives: its document libraries, drives with
//     driveType documentLibrary (https://learn.microsoft.com/graph/api/drive-list);
//     GET /sites/{site-id}/drive: its default library (drive-get).
// Every library's items, delta and content are the /drives/{drive-id}
// endpoints of drive.go.
//
// Not simulated: personal (OneDrive) sites in getAllSites (isPersonalSite
// true; clients skip them), subsites, lists other than document libraries.

import (
	"net/http"
	"strings"
	"time"
)

// siteReadRule: site-get, site-search and drive-list list Sites.Read.All and
// Sites.ReadWrite.All (and Sites.FullControl.All above them) for both kinds;
// drive-list accepts the Files.* permissions as well.
var siteReadRule = permRule{service: "drive",
	delegated:   []string{"Sites.Read.All", "Sites.ReadWrite.All", "Sites.FullControl.All"},
	application: []string{"Sites.Read.All", "Sites.ReadWrite.All", "Sites.FullControl.All"}}

var siteDrivesRule = permRule{service: "drive",
	delegated:   append([]string{"Files.Read", "Files.ReadWrite", "Files.Read.All", "Files.ReadWrite.All"}, siteReadRule.delegated...),
	application: append([]string{"Files.Read.All", "Files.ReadWrite.All"}, siteReadRule.application...)}

// siteRoutePermissions is the rule for a /sites request.
func siteRoutePermissions(parts []string) permRule {
	if len(parts) >= 3 && (parts[2] == "drives" || parts[2] == "drive") {
		return siteDrivesRule
	}
	return siteReadRule
}

// siteUnits is a /sites request's cost in SharePoint resource units: 2 for
// a collection (a multi-item query), 1 for one site or drive.
func siteUnits(parts []string) int {
	switch parts[len(parts)-1] {
	case "sites", "getAllSites", "getAllSites()", "drives":
		return 2
	}
	return 1
}

func (s *Server) siteRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /sites", s.handleSearchSites)
	mux.HandleFunc("GET /sites/getAllSites", s.handleGetAllSites)
	// OData function call syntax, what msgraph-sdk-go sends.
	mux.HandleFunc("GET /sites/getAllSites()", s.handleGetAllSites)
	mux.HandleFunc("GET /sites/{siteId}", func(w http.ResponseWriter, r *http.Request) {
		if site := s.findSite(w, r); site != nil {
			s.tenant.mu.RLock()
			v := s.siteJSONLocked(site)
			s.tenant.mu.RUnlock()
			v = selectFields(v, r.URL.Query().Get("$select"))
			v["@odata.context"] = s.GraphURL() + "/$metadata#sites/$entity"
			writeJSON(w, http.StatusOK, v)
		}
	})
	mux.HandleFunc("GET /sites/{siteId}/drives", func(w http.ResponseWriter, r *http.Request) {
		site := s.findSite(w, r)
		if site == nil {
			return
		}
		s.tenant.mu.RLock()
		items := make([]map[string]any, 0, len(site.Libraries))
		for _, l := range site.Libraries {
			items = append(items, selectFields(s.driveJSONLocked(l.owner), r.URL.Query().Get("$select")))
		}
		s.tenant.mu.RUnlock()
		s.writePage(w, r, "drives", items, 200, 999)
	})
	mux.HandleFunc("GET /sites/{siteId}/drive", func(w http.ResponseWriter, r *http.Request) {
		if site := s.findSite(w, r); site != nil {
			s.handleGetDrive(w, r, site.Libraries[0].owner)
		}
	})
}

// findSite resolves {siteId}: the composite ID, or "{hostname}:/sites/{name}"
// is not served (site-get's path form).
func (s *Server) findSite(w http.ResponseWriter, r *http.Request) *Site {
	id := r.PathValue("siteId")
	s.tenant.mu.RLock()
	var site *Site
	for _, c := range s.tenant.sites.sites {
		if strings.EqualFold(c.ID, id) {
			site = c
		}
	}
	s.tenant.mu.RUnlock()
	if site == nil {
		writeGraphError(w, http.StatusNotFound, "itemNotFound", "Requested site could not be found")
	}
	return site
}

func (s *Server) siteJSONLocked(site *Site) map[string]any {
	last := site.Created
	for _, l := range site.Libraries {
		for _, it := range l.owner.Drive.items {
			if it.Modified.After(last) {
				last = it.Modified
			}
		}
	}
	return map[string]any{
		"id":                   site.ID,
		"name":                 site.Name, // the URL segment, as site-get's example ("1drvteam")
		"displayName":          site.DisplayName,
		"description":          site.Description,
		"createdDateTime":      graphTime(site.Created),
		"lastModifiedDateTime": graphTime(last),
		"webUrl":               s.tenant.siteWebURL(site),
		"isPersonalSite":       false,
		// Every simulated site is the top site of its own site collection
		// (what getAllSites lists), so it carries the root facet.
		"root":           map[string]any{},
		"siteCollection": map[string]any{"hostname": s.tenant.sharePointHost(), "root": map[string]any{}},
	}
}

func (s *Server) allSitesJSON(match func(*Site) bool) []map[string]any {
	s.tenant.mu.RLock()
	defer s.tenant.mu.RUnlock()
	out := []map[string]any{}
	for _, site := range s.tenant.sites.sites {
		if match(site) {
			out = append(out, s.siteJSONLocked(site))
		}
	}
	return out
}

func (s *Server) handleSearchSites(w http.ResponseWriter, r *http.Request) {
	q, ok := r.URL.Query()["search"]
	if !ok {
		// site-search is the documented form of GET /sites; without a
		// query Graph lists only the root site, which is not modelled.
		writeGraphError(w, http.StatusBadRequest, "invalidRequest", "The search query is missing; use ?search={query}.")
		return
	}
	words := strings.Fields(strings.ToLower(strings.Trim(q[0], `"`)))
	items := s.allSitesJSON(func(site *Site) bool {
		text := strings.ToLower(site.Name + " " + site.DisplayName + " " + site.Description)
		for _, w := range words {
			if w != "*" && !strings.Contains(text, strings.TrimSuffix(w, "*")) {
				return false
			}
		}
		return true
	})
	s.writePage(w, r, "sites", items, 200, 999)
}

func (s *Server) handleGetAllSites(w http.ResponseWriter, r *http.Request) {
	if sess := sessionFrom(r.Context()); sess == nil || !sess.App {
		writeDriveError(w, http.StatusForbidden, "accessDenied", "getAllSites is only supported with application permissions.")
		return
	}
	s.writePage(w, r, "sites", s.allSitesJSON(func(*Site) bool { return true }), 200, 999)
}

// libraryDriveJSONLocked is a library's drive resource: driveType
// documentLibrary, its title as name, its address; owner is an identity
// set with a user, as drive-list's example of document libraries shows.
func (s *Server) libraryDriveJSONLocked(l *Library, used int64, lastMod time.Time, state string) map[string]any {
	d := l.owner.Drive
	return map[string]any{
		"id":                   d.ID,
		"driveType":            "documentLibrary",
		"name":                 l.Name,
		"description":          "",
		"createdDateTime":      graphTime(l.Created),
		"lastModifiedDateTime": graphTime(lastMod),
		"webUrl":               s.tenant.libraryWebURL(l),
		"createdBy":            map[string]any{"user": map[string]any{"displayName": "System Account"}},
		"owner":                map[string]any{"user": map[string]any{"id": l.owner.ID, "displayName": l.Site.DisplayName}},
		"quota": map[string]any{
			"total":     d.Quota,
			"used":      used,
			"remaining": max(d.Quota-used, 0),
			"deleted":   int64(0),
			"state":     state,
		},
	}
}
