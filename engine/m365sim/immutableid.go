package m365sim

import (
	"net/http"
	"strings"
)

// Outlook item IDs and moves (learn.microsoft.com/graph/outlook-immutable-id):
//   - by default a message's ID "changes when the item is moved from one
//     container (such as a folder or calendar) to another";
//   - with the request header Prefer: IdType="ImmutableId" Graph returns
//     immutable IDs, which do not change "so long as the item stays in the
//     same mailbox", even when it moves to another folder; "this header only
//     applies to the request it is included with";
//   - an immutable ID still changes when the item moves to an archive
//     mailbox, or is exported and imported again (a new item: here,
//     DeleteMessage then AddMessage);
//   - folder IDs never change (containers do not need immutable IDs).
//
// Message.ID is the immutable ID and keys the tenant's maps; restID is the
// default-format ID once a move gave the message a new one. Requests are
// answered in the format they ask for and accept either ID, as Graph
// accepts IDs of either format; a default-format ID stops working when its
// message moves.

// immutableIDs says whether a request asked for immutable IDs.
func immutableIDs(r *http.Request) bool {
	for _, v := range r.Header.Values("Prefer") {
		for _, p := range strings.Split(v, ",") {
			k, val, ok := strings.Cut(strings.TrimSpace(p), "=")
			if ok && strings.EqualFold(k, "IdType") && strings.EqualFold(strings.Trim(val, `"`), "ImmutableId") {
				return true
			}
		}
	}
	return false
}

// restIDOrID is the message's default-format ID.
func (m *Message) restIDOrID() string {
	if m.restID != "" {
		return m.restID
	}
	return m.ID
}

// msgLocked finds a message by its ID or its current default-format ID.
func (u *User) msgLocked(id string) (*Message, bool) {
	if m, ok := u.messages[id]; ok {
		return m, true
	}
	if mid, ok := u.restIDs[id]; ok {
		m, ok := u.messages[mid]
		return m, ok
	}
	return nil, false
}

// newRestIDLocked gives a moved message a new default-format ID.
func (t *Tenant) newRestIDLocked(u *User, m *Message) {
	u.forgetRestIDLocked(m)
	m.restID = t.newItemID("AAMkMsg")
	if u.restIDs == nil {
		u.restIDs = map[string]string{}
	}
	u.restIDs[m.restID] = m.ID
}

func (u *User) forgetRestIDLocked(m *Message) {
	if m.restID != "" {
		delete(u.restIDs, m.restID)
	}
}

// messageJSONFor renders a message with the ID format the request asked for.
func (s *Server) messageJSONFor(r *http.Request, u *User, m *Message) map[string]any {
	v := s.messageJSON(u, m)
	if !immutableIDs(r) {
		v["id"] = m.restIDOrID()
	}
	return v
}

// removedID is the ID of a delta removal in the request's format.
func removedID(r *http.Request, e mailDeltaEntry) string {
	if !immutableIDs(r) && e.restID != "" {
		return e.restID
	}
	return e.id
}

// RestID is the message's default-format ID: what a request without
// Prefer: IdType="ImmutableId" sees.
func (t *Tenant) RestID(user, id string) (string, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	u, err := t.userLocked(user)
	if err != nil {
		return "", err
	}
	m, ok := u.msgLocked(id)
	if !ok {
		return "", ErrNoItem
	}
	return m.restIDOrID(), nil
}
