package m365sim

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// userHandler serves a request about one user's data, already resolved
// from /me or /users/{id-or-upn}.
type userHandler func(w http.ResponseWriter, r *http.Request, u *User)

func (s *Server) graphRoutes() http.Handler {
	mux := http.NewServeMux()
	s.userRoute(mux, "GET", "", false, s.handleGetUser)
	mux.HandleFunc("GET /users", s.handleListUsers)
	s.mailboxSettingsRoutes(mux)
	s.applicationRoutes(mux)
	s.lifecycleRoutes(mux)
	s.userRoute(mux, "GET", "/memberOf", false, s.handleMemberOf)
	s.mailRoutes(mux)
	s.driveRoutes(mux)
	s.mailWriteRoutes(mux)
	s.attachmentRoutes(mux)
	s.driveWriteRoutes(mux)
	s.sendMailRoutes(mux)
	s.calendarRoutes(mux)
	s.contactRoutes(mux)
	s.siteRoutes(mux)
	s.teamsRoutes(mux)
	s.groupRoutes(mux)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeGraphError(w, http.StatusBadRequest, "BadRequest", "Resource not found for the segment '"+lastSegment(r.URL.Path)+"'.")
	})
	return mux
}

func lastSegment(p string) string {
	p = strings.TrimSuffix(p, "/")
	return p[strings.LastIndex(p, "/")+1:]
}

// userRoute registers pattern under both /me and /users/{uid}. When
// ownData is set, only the signed-in user's own data may be read, as with
// delegated permissions (Mail.ReadWrite, Files.ReadWrite.All cover the
// signed-in user's mailbox and drive, not colleagues').
func (s *Server) userRoute(mux *http.ServeMux, method, pattern string, ownData bool, h userHandler) {
	mux.HandleFunc(method+" /me"+pattern, func(w http.ResponseWriter, r *http.Request) {
		u := sessionFrom(r.Context()).User
		if u == nil {
			writeMeNotDelegated(w)
			return
		}
		if !s.serviceAvailable(w, u, pattern) {
			return
		}
		h(w, r, u)
	})
	mux.HandleFunc(method+" /users/{uid}"+pattern, func(w http.ResponseWriter, r *http.Request) {
		u, err := s.tenant.User(r.PathValue("uid"))
		if err != nil {
			writeGraphError(w, http.StatusNotFound, "Request_ResourceNotFound", "Resource '"+r.PathValue("uid")+"' does not exist or one of its queried reference-property objects are not present.")
			return
		}
		// An application token reaches every user's data, as far as its
		// roles allow (authorize checked them); a delegated one only the
		// signed-in user's.
		if sess := sessionFrom(r.Context()); ownData && !sess.App && u != sess.User {
			writeGraphError(w, http.StatusForbidden, "ErrorAccessDenied", "Access is denied. Check credentials and try again.")
			return
		}
		if !s.serviceAvailable(w, u, pattern) {
			return
		}
		h(w, r, u)
	})
}

func userJSON(u *User) map[string]any {
	return map[string]any{
		"id":                u.ID,
		"displayName":       u.DisplayName,
		"givenName":         u.GivenName,
		"surname":           u.Surname,
		"userPrincipalName": u.UPN,
		"mail":              u.UPN,
		"jobTitle":          nullIfEmpty(u.JobTitle),
		"businessPhones":    []string{},
		"mobilePhone":       nil,
		"officeLocation":    nil,
		"preferredLanguage": "en-US",
	}
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (s *Server) handleGetUser(w http.ResponseWriter, r *http.Request, u *User) {
	ctx := "users/$entity"
	if strings.HasPrefix(r.URL.Path, "/me") {
		ctx = "users/$entity"
	}
	v := s.tenant.selectUser(u, r.URL.Query().Get("$select"))
	v["@odata.context"] = s.GraphURL() + "/$metadata#" + ctx
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) handleListUsers(w http.ResponseWriter, r *http.Request) {
	if !validUserTop(w, r) {
		return
	}
	users := s.tenant.Users()
	items := make([]map[string]any, 0, len(users))
	for _, u := range users {
		items = append(items, s.tenant.selectUser(u, r.URL.Query().Get("$select")))
	}
	s.writePage(w, r, "users", items, 100, 999)
}

// selectFields applies $select: id and @odata annotations always stay.
func selectFields(v map[string]any, sel string) map[string]any {
	if sel == "" {
		return v
	}
	keep := map[string]bool{"id": true}
	for _, f := range strings.Split(sel, ",") {
		keep[strings.TrimSpace(f)] = true
	}
	out := map[string]any{}
	for k, val := range v {
		if keep[k] || strings.HasPrefix(k, "@odata.") || strings.HasPrefix(k, "@microsoft.graph.") {
			out[k] = val
		}
	}
	return out
}

// pageSize reads $top and Prefer: odata.maxpagesize, bounded by max.
func pageSize(r *http.Request, def, max int) int {
	n := def
	if t := r.URL.Query().Get("$top"); t != "" {
		if v, err := strconv.Atoi(t); err == nil && v > 0 {
			n = v
		}
	}
	for _, pref := range r.Header.Values("Prefer") {
		for _, p := range strings.Split(pref, ",") {
			k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
			if ok && strings.EqualFold(k, "odata.maxpagesize") {
				if m, err := strconv.Atoi(strings.Trim(v, `"`)); err == nil && m > 0 {
					n = m
				}
			}
		}
	}
	if n > max {
		n = max
	}
	return n
}

// writePage answers a plain (non-delta) collection with $skip paging and
// an absolute @odata.nextLink, as Graph does.
func (s *Server) writePage(w http.ResponseWriter, r *http.Request, ctx string, items []map[string]any, def, max int) {
	size := pageSize(r, def, max)
	skip := 0
	if v := r.URL.Query().Get("$skip"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			writeGraphError(w, http.StatusBadRequest, "BadRequest", "Invalid $skip value.")
			return
		}
		skip = n
	}
	if skip > len(items) {
		skip = len(items)
	}
	end := min(skip+size, len(items))
	out := map[string]any{
		"@odata.context": s.GraphURL() + "/$metadata#" + ctx,
		"value":          items[skip:end],
	}
	if end < len(items) {
		q := r.URL.Query()
		q.Set("$skip", strconv.Itoa(end))
		if r.URL.Query().Get("$top") != "" {
			q.Set("$top", strconv.Itoa(size))
		}
		out["@odata.nextLink"] = s.GraphURL() + strings.TrimPrefix(r.URL.Path, "/v1.0") + "?" + encodeQuery(q)
	}
	writeJSON(w, http.StatusOK, out)
}

// encodeQuery encodes like url.Values.Encode but keeps '$' readable, as
// Graph's own links do.
func encodeQuery(q url.Values) string {
	return strings.ReplaceAll(q.Encode(), "%24", "$")
}

// writeTenantError maps Tenant errors to Graph errors.
func writeTenantError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, ErrNoUser):
		writeGraphError(w, http.StatusNotFound, "Request_ResourceNotFound", err.Error())
	case errors.Is(err, ErrNoFolder), errors.Is(err, ErrNoItem):
		writeGraphError(w, http.StatusNotFound, "ErrorItemNotFound", "The specified object was not found in the store.")
	case errors.Is(err, ErrConflict):
		writeGraphError(w, http.StatusConflict, "nameAlreadyExists", err.Error())
	default:
		writeGraphError(w, http.StatusBadRequest, "BadRequest", err.Error())
	}
}
