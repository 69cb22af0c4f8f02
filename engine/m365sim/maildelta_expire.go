package m365sim

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Outlook keeps mail delta tokens in a cache of limited size and evicts the
// oldest: "For Outlook entities (message, mailFolder, …), the upper limit
// is not fixed; it's dependent on the size of the internal delta token
// cache" (learn.microsoft.com/graph/delta-query-overview, "Token
// duration"). An evicted token is answered "with a 40X-series error with
// error codes such as syncStateNotFound"; the same page's "Synchronization
// reset" adds 410 Gone with a Location header holding the initial query.
// ExpireMailDelta plays that eviction.

// mailDeltaFolders is the key of the folder list's own delta (mailFolders/delta).
const mailDeltaFolders = "#folders"

// MailDeltaExpiry is how an evicted mail delta token is answered.
type MailDeltaExpiry int

const (
	// ExpiryGone: 410 Gone, error code syncStateNotFound, and a Location
	// header with the initial delta query (the documented reset).
	ExpiryGone MailDeltaExpiry = iota
	// ExpiryBadRequest: 400 Bad Request with error code syncStateNotFound
	// and no Location, the other documented form.
	ExpiryBadRequest
)

// ParseMailDeltaExpiry reads "gone" (or "") and "badrequest".
func ParseMailDeltaExpiry(s string) (MailDeltaExpiry, error) {
	switch strings.ToLower(s) {
	case "", "gone", "410":
		return ExpiryGone, nil
	case "badrequest", "400":
		return ExpiryBadRequest, nil
	}
	return 0, fmt.Errorf("m365sim: mail delta expiry %q: use gone or badrequest", s)
}

type mailEviction struct {
	gen int64
	how MailDeltaExpiry
}

// ExpireMailDelta evicts the outstanding delta tokens (delta links and
// next links) of one mail folder (an ID, a well-known name or a path such
// as "Inbox/Invoices"), or, when folder is empty, of every folder of the
// mailbox and of its folder list. Tokens issued afterwards work again.
func (t *Tenant) ExpireMailDelta(user, folder string, how MailDeltaExpiry) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	u, err := t.userLocked(user)
	if err != nil {
		return err
	}
	var keys []string
	if folder == "" {
		keys = append(keys, mailDeltaFolders)
		for id := range u.folders {
			keys = append(keys, id)
		}
	} else {
		f, err := u.folderLocked(folder)
		if err != nil {
			f, err = u.folderByPathLocked(folder)
		}
		if err != nil {
			return err
		}
		keys = append(keys, f.ID)
	}
	if u.deltaEvicted == nil {
		u.deltaEvicted = map[string]mailEviction{}
	}
	for _, k := range keys {
		u.deltaEvicted[k] = mailEviction{gen: u.deltaEvicted[k].gen + 1, how: how}
	}
	return nil
}

// folderByPathLocked finds a folder by its display-name path.
func (u *User) folderByPathLocked(p string) (*MailFolder, error) {
	for id := range u.folders {
		if fp, err := u.folderPathLocked(id); err == nil && strings.EqualFold(fp, strings.Trim(p, "/")) {
			return u.folders[id], nil
		}
	}
	return nil, fmt.Errorf("%w: %s", ErrNoFolder, p)
}

// writeSyncStateNotFound answers a delta request whose token was evicted.
func (s *Server) writeSyncStateNotFound(w http.ResponseWriter, r *http.Request, ev mailEviction, sel, change string) {
	const msg = "The sync state generation is not found. The delta token is expired and data must be synchronized again."
	if ev.how == ExpiryBadRequest {
		writeGraphError(w, http.StatusBadRequest, "syncStateNotFound", msg)
		return
	}
	q := url.Values{}
	if sel != "" {
		q.Set("$select", sel)
	}
	if change != "" {
		q.Set("changeType", change)
	}
	loc := s.GraphURL() + strings.TrimPrefix(r.URL.Path, "/v1.0")
	if len(q) > 0 {
		loc += "?" + encodeQuery(q)
	}
	w.Header().Set("Location", loc)
	writeGraphError(w, http.StatusGone, "syncStateNotFound", msg)
}

// ctlMailDeltaExpire is the control call "mail/delta/expire": User, Folder
// (empty: every folder) and Spec (gone or badrequest).
func (s *Server) ctlMailDeltaExpire(req ControlRequest) (ControlResult, error) {
	if req.User == "" {
		return ControlResult{}, fmt.Errorf("no user given")
	}
	how, err := ParseMailDeltaExpiry(req.Spec)
	if err != nil {
		return ControlResult{}, err
	}
	if err := s.tenant.ExpireMailDelta(req.User, req.Folder, how); err != nil {
		return ControlResult{}, err
	}
	what := "every mail folder"
	if req.Folder != "" {
		what = "the mail folder " + req.Folder
	}
	return ControlResult{Message: "the change history of " + what + " of " + req.User + " is gone: the next backup lists it again"}, nil
}
