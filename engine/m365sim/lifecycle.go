package m365sim

// Leavers and joiners: deleting a user, removing a licence, converting a
// mailbox to a shared one, and a new hire.
//
// Sources:
//   - A deleted user is soft-deleted for 30 days: GET /users/{id} answers
//     404, and GET /directory/deletedItems/microsoft.graph.user lists it
//     with deletedDateTime:
//     https://learn.microsoft.com/graph/api/directory-deleteditems-list?view=graph-rest-1.0
//     (permissions for users: User.Read.All and above, delegated and
//     application) and https://learn.microsoft.com/graph/api/resources/directory?view=graph-rest-1.0
//   - Its mailbox is soft-deleted with it and Graph no longer serves it
//     (MailboxNotEnabledForRESTAPI names "soft-deleted" mailboxes, KB
//     4462988); its OneDrive is kept for the tenant's retention setting,
//     30 days by default and up to 10 years
//     (https://learn.microsoft.com/sharepoint/retention-and-deletion), and
//     stays reachable as /drives/{drive-id} for an app with Files.Read.All:
//     DESIGN.md §9 ("Record drive IDs on every run").
//   - A user mailbox without a licence: Graph answers
//     MailboxNotEnabledForRESTAPI ("the target user is missing an Office
//     365 license", Microsoft Q&A 1457213); a shared or resource mailbox
//     needs no licence
//     (https://learn.microsoft.com/microsoft-365/admin/email/about-shared-mailboxes).
//   - "Convert to shared mailbox", then remove the licence and block
//     sign-in, is Microsoft's procedure for a departing employee
//     (https://learn.microsoft.com/microsoft-365/admin/email/convert-user-mailbox-to-shared-mailbox).

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// DefaultOneDriveRetention is how long a deleted user's OneDrive is kept
// when the tenant's setting was never changed.
const DefaultOneDriveRetention = 30 * 24 * time.Hour

// deletedUser is a soft-deleted user.
type deletedUser struct {
	u  *User
	at time.Time
}

// DeleteUser soft-deletes a user, as an administrator deleting the
// account does: it leaves /users, appears in the directory's deleted
// items, its mailbox is no longer served, and its OneDrive stays reachable
// by drive ID for the OneDrive retention period.
func (t *Tenant) DeleteUser(user string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	u, err := t.userLocked(user)
	if err != nil {
		return err
	}
	t.users = slices.DeleteFunc(t.users, func(x *User) bool { return x == u })
	delete(t.byID, u.ID)
	delete(t.byUPN, strings.ToLower(u.UPN))
	t.deletedUsers = append(t.deletedUsers, deletedUser{u: u, at: t.now().UTC()})
	t.bump()
	return nil
}

// SetOneDriveRetention is the tenant's OneDrive retention for deleted
// users (default DefaultOneDriveRetention).
func (t *Tenant) SetOneDriveRetention(d time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.driveRetention = d
}

// DeletedUser describes a soft-deleted user.
type DeletedUser struct {
	ID, UPN, DisplayName string
	DeletedAt            time.Time
	DriveID              string
}

// DeletedUsers lists the soft-deleted users, oldest deletion first.
func (t *Tenant) DeletedUsers() []DeletedUser {
	t.mu.RLock()
	defer t.mu.RUnlock()
	out := make([]DeletedUser, 0, len(t.deletedUsers))
	for _, d := range t.deletedUsers {
		out = append(out, DeletedUser{ID: d.u.ID, UPN: d.u.UPN, DisplayName: d.u.DisplayName, DeletedAt: d.at, DriveID: d.u.Drive.ID})
	}
	return out
}

// retainedDriveOwnersLocked are the deleted users whose OneDrive is still
// kept.
func (t *Tenant) retainedDriveOwnersLocked() []*User {
	keep := t.driveRetention
	if keep == 0 {
		keep = DefaultOneDriveRetention
	}
	now := t.now()
	var out []*User
	for _, d := range t.deletedUsers {
		if now.Before(d.at.Add(keep)) && !d.u.dir.noDrive {
			out = append(out, d.u)
		}
	}
	return out
}

// driveHoldersLocked are the users whose drives Graph serves by drive ID.
func (t *Tenant) driveHoldersLocked() []*User {
	return append(append([]*User(nil), t.users...), t.retainedDriveOwnersLocked()...)
}

// RemoveLicence takes a user's licence away: a user mailbox is then no
// longer served; a shared or resource mailbox needs none.
func (t *Tenant) RemoveLicence(user string) error {
	st, err := t.UserState(user)
	if err != nil {
		return err
	}
	st.Licensed = false
	return t.SetUserState(user, st)
}

// ConvertToShared converts a user's mailbox to a shared mailbox, removes
// the licence and blocks sign-in, as Microsoft advises for a departing
// employee. Mail and OneDrive stay.
func (t *Tenant) ConvertToShared(user string) error {
	st, err := t.UserState(user)
	if err != nil {
		return err
	}
	st.Mailbox, st.Licensed, st.AccountEnabled = MailboxShared, false, false
	return t.SetUserState(user, st)
}

// Hire adds a new employee with a licence, a mailbox holding a welcome
// message and a OneDrive with a first document, as a new starter's
// accounts look after the first morning. upn may be empty: it is made
// from the name and the tenant's domain.
func (t *Tenant) Hire(name, upn string) (*User, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return nil, fmt.Errorf("m365sim: a new hire needs a name")
	}
	if upn == "" {
		local := strings.Map(func(r rune) rune {
			switch {
			case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
				return r
			case r >= 'A' && r <= 'Z':
				return r + 'a' - 'A'
			case r == ' ' || r == '-' || r == '.':
				return '.'
			}
			return -1
		}, name)
		upn = strings.Trim(local, ".") + "@" + t.Domain
	}
	u, err := t.AddUser(upn, name)
	if err != nil {
		return nil, err
	}
	now := t.now().UTC()
	welcome := fmt.Sprintf("From: IT <it@%s>\r\nTo: %s <%s>\r\nSubject: Welcome to %s\r\nDate: %s\r\nMessage-ID: <welcome.%s@%s>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nWelcome aboard, %s! Your accounts are ready.\r\n",
		t.Domain, name, upn, t.Name, now.Format(time.RFC1123Z), u.ID, t.Domain, u.GivenName)
	if _, err := t.AddMessage(u.ID, "inbox", []byte(welcome), MessageOptions{}); err != nil {
		return nil, err
	}
	if _, err := t.PutFile(u.ID, "Documents/First week.txt", BytesContent("Monday: meet the team.\nTuesday: training.\n"), now); err != nil {
		return nil, err
	}
	return u, nil
}

// ---- Graph: the directory's deleted items ----

func (s *Server) lifecycleRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /directory/deletedItems/microsoft.graph.user", s.handleDeletedUsers)
	// msgraph-sdk-go casts with the namespace alias graph.user, which
	// Graph accepts as well.
	mux.HandleFunc("GET /directory/deletedItems/graph.user", s.handleDeletedUsers)
	mux.HandleFunc("GET /directory/deletedItems/{id}", s.handleDeletedItem)
}

var deletedUsersDelegated = []string{"User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All", "Directory.AccessAsUser.All"}
var deletedUsersApp = []string{"User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}

func (s *Server) deletedUserJSON(d deletedUser, sel string) map[string]any {
	v := userJSON(d.u)
	s.tenant.mu.RLock()
	for k, val := range d.u.directoryJSONLocked() {
		v[k] = val
	}
	s.tenant.mu.RUnlock()
	v["deletedDateTime"] = graphTime(d.at)
	if sel != "" {
		v = selectFold(v, sel)
	}
	v["@odata.type"] = "#microsoft.graph.user"
	return v
}

func (s *Server) handleDeletedUsers(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.allowed(w, r, deletedUsersDelegated, deletedUsersApp, nil); !ok {
		return
	}
	t := s.tenant
	t.mu.RLock()
	list := slices.Clone(t.deletedUsers)
	t.mu.RUnlock()
	q := r.URL.Query()
	switch ob := strings.ToLower(strings.Join(strings.Fields(q.Get("$orderby")+q.Get("$orderBy")), " ")); ob {
	case "", "deleteddatetime", "deleteddatetime asc":
	case "deleteddatetime desc":
		slices.Reverse(list)
	default:
		writeGraphError(w, http.StatusBadRequest, "Request_UnsupportedQuery", "Unsupported sort property for deleted items.")
		return
	}
	items := []map[string]any{}
	for _, d := range list {
		items = append(items, s.deletedUserJSON(d, q.Get("$select")))
	}
	if strings.EqualFold(q.Get("$count"), "true") {
		// $count needs ConsistencyLevel: eventual (advanced queries); the
		// list is one page, as a tenant's deleted users fit in one.
		if !strings.EqualFold(r.Header.Get("ConsistencyLevel"), "eventual") {
			writeGraphError(w, http.StatusBadRequest, "Request_BadRequest", "$count is not currently supported.")
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"@odata.context": s.GraphURL() + "/$metadata#directory/deletedItems/microsoft.graph.user",
			"@odata.count":   len(items),
			"value":          items,
		})
		return
	}
	s.writePage(w, r, "directory/deletedItems/microsoft.graph.user", items, 100, 999)
}

// selectFold is selectFields with property names matched without regard
// to case, as Graph's directory matches $select.
func selectFold(v map[string]any, sel string) map[string]any {
	out := map[string]any{}
	for _, f := range strings.Split(sel, ",") {
		f = strings.TrimSpace(f)
		for k, val := range v {
			if strings.EqualFold(k, f) {
				out[k] = val
			}
		}
	}
	for k, val := range v {
		if k == "id" || strings.HasPrefix(k, "@odata.") {
			out[k] = val
		}
	}
	return out
}

func (s *Server) handleDeletedItem(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.allowed(w, r, deletedUsersDelegated, deletedUsersApp, nil); !ok {
		return
	}
	id := r.PathValue("id")
	t := s.tenant
	t.mu.RLock()
	var found *deletedUser
	for i := range t.deletedUsers {
		if strings.EqualFold(t.deletedUsers[i].u.ID, id) {
			d := t.deletedUsers[i]
			found = &d
		}
	}
	t.mu.RUnlock()
	if found == nil {
		writeResourceNotFound(w, id)
		return
	}
	v := s.deletedUserJSON(*found, r.URL.Query().Get("$select"))
	v["@odata.context"] = s.GraphURL() + "/$metadata#directoryObjects/$entity"
	writeJSON(w, http.StatusOK, v)
}
