package m365sim

// Microsoft 365 groups' mailboxes: the conversations, threads and posts
// of each group (a team is a group too).
//
// Sources:
//   - group list, Unified groups with resourceProvisioningOptions "Team"
//     for those behind a team: https://learn.microsoft.com/graph/api/group-list?view=graph-rest-1.0
//     and https://learn.microsoft.com/graph/teams-list-all-teams
//   - conversations, threads and posts (application Group.Read.All):
//     https://learn.microsoft.com/graph/api/group-list-conversations?view=graph-rest-1.0,
//     https://learn.microsoft.com/graph/api/group-list-threads?view=graph-rest-1.0,
//     https://learn.microsoft.com/graph/api/conversationthread-list-posts?view=graph-rest-1.0
//   - a thread's lastDeliveredDateTime moves with each post: there is no
//     delta, so a client compares it.

import (
	"net/http"
	"strings"
	"time"
)

// Group is a Microsoft 365 group (groupTypes Unified).
type Group struct {
	ID, DisplayName, Mail string
	team                  bool
	threads               []*groupThread
}

type groupThread struct {
	id, conversationID, topic string
	posts                     []*groupPost
	last                      time.Time
}

type groupPost struct {
	id   string
	from *User
	at   time.Time
	html string
}

// AddGroup creates a group without a team.
func (t *Tenant) AddGroup(name string) (*Group, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	g := &Group{ID: newGUID(), DisplayName: name, Mail: groupMail(name, t.Domain)}
	t.teams.groups = append(t.teams.groups, g)
	t.bump()
	return g, nil
}

func groupMail(name, domain string) string {
	return strings.ToLower(strings.Join(strings.Fields(name), "")) + "@" + domain
}

// PostToGroup posts to a group's mailbox as the user (UPN): a new
// thread when threadID is "", else a reply in that thread. It returns the
// thread's ID.
func (t *Tenant) PostToGroup(groupID, threadID, topic, from, html string, at time.Time) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	g := t.groupLocked(groupID)
	u, err := t.userLocked(from)
	if g == nil || err != nil {
		return "", ErrNoTeam
	}
	if at.IsZero() {
		at = t.now()
	}
	at = at.UTC().Truncate(time.Second)
	var th *groupThread
	for _, x := range g.threads {
		if x.id == threadID {
			th = x
		}
	}
	if th == nil {
		if threadID != "" {
			return "", ErrNoTeam
		}
		th = &groupThread{id: t.newItemID("AAQk"), conversationID: t.newItemID("AAQk"), topic: topic}
		g.threads = append(g.threads, th)
	}
	th.posts = append(th.posts, &groupPost{id: t.newItemID("AAMk"), from: u, at: at, html: html})
	th.last = maxTime(th.last, at)
	t.bump()
	return th.id, nil
}

// GroupPostCount is how many threads and posts a group's mailbox holds.
func (t *Tenant) GroupPostCount(groupID string) (threads, posts int) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if g := t.groupLocked(groupID); g != nil {
		for _, th := range g.threads {
			posts += len(th.posts)
		}
		return len(g.threads), posts
	}
	return 0, 0
}

func (t *Tenant) groupLocked(id string) *Group {
	for _, g := range t.teams.groups {
		if strings.EqualFold(g.ID, id) {
			return g
		}
	}
	return nil
}

var (
	groupListRule = permRule{service: "directory",
		delegated:   []string{"GroupMember.Read.All", "Group.Read.All", "Group.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"},
		application: []string{"GroupMember.Read.All", "Group.Read.All", "Group.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}}
	groupConversationRule = permRule{service: "mail",
		delegated:   []string{"Group.Read.All", "Group.ReadWrite.All"},
		application: []string{"Group.Read.All", "Group.ReadWrite.All"}}
)

func groupsPermissions(parts []string) permRule {
	if len(parts) <= 2 {
		return groupListRule
	}
	return groupConversationRule
}

func (s *Server) groupRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /groups", s.handleListGroups)
	mux.HandleFunc("GET /groups/{gid}/conversations", s.handleGroupThreads)
	mux.HandleFunc("GET /groups/{gid}/threads", s.handleGroupThreads)
	mux.HandleFunc("GET /groups/{gid}/threads/{tid}/posts", s.handleThreadPosts)
}

func (s *Server) handleListGroups(w http.ResponseWriter, r *http.Request) {
	off := s.skipOffset(r)
	if off < 0 {
		writeGraphError(w, http.StatusBadRequest, "BadRequest", "Invalid skip token.")
		return
	}
	t := s.tenant
	t.mu.RLock()
	var page []map[string]any
	for i := off; i < len(t.teams.groups) && len(page) < teamListPage; i++ {
		g := t.teams.groups[i]
		prov := []string{}
		if g.team {
			prov = []string{"Team"}
		}
		page = append(page, map[string]any{"id": g.ID, "displayName": g.DisplayName, "mail": g.Mail, "mailEnabled": true,
			"securityEnabled": false, "groupTypes": []string{"Unified"}, "resourceProvisioningOptions": prov, "visibility": "Private", "description": nil})
	}
	more := off+len(page) < len(t.teams.groups)
	t.mu.RUnlock()
	s.writeTeamsPage(w, r, "groups", page, more, off+len(page))
}

func emailAddress(u *User) map[string]any {
	return map[string]any{"emailAddress": map[string]any{"name": u.DisplayName, "address": u.UPN}}
}

// handleGroupThreads lists conversations or threads (the same shape for
// what the simulator keeps: one thread per conversation).
func (s *Server) handleGroupThreads(w http.ResponseWriter, r *http.Request) {
	t := s.tenant
	t.mu.RLock()
	g := t.groupLocked(r.PathValue("gid"))
	if g == nil {
		t.mu.RUnlock()
		writeGraphError(w, http.StatusNotFound, "ErrorInvalidGroup", "The requested group '"+truncateMsg(r.PathValue("gid"))+"' is invalid.")
		return
	}
	conv := strings.HasSuffix(r.URL.Path, "/conversations")
	var page []map[string]any
	for _, th := range g.threads {
		senders := []string{}
		for _, p := range th.posts {
			if !containsString(senders, p.from.DisplayName) {
				senders = append(senders, p.from.DisplayName)
			}
		}
		v := map[string]any{"id": th.id, "topic": th.topic, "hasAttachments": false, "lastDeliveredDateTime": graphTime(th.last),
			"uniqueSenders": senders, "preview": previewOf(th.posts[len(th.posts)-1].html)}
		if conv {
			v["id"] = th.conversationID
		} else {
			v["isLocked"], v["toRecipients"], v["ccRecipients"] = false, []any{map[string]any{"emailAddress": map[string]any{"name": g.DisplayName, "address": g.Mail}}}, []any{}
		}
		page = append(page, v)
	}
	t.mu.RUnlock()
	ctx := "groups('" + g.ID + "')/threads"
	if conv {
		ctx = "groups('" + g.ID + "')/conversations"
	}
	writeJSON(w, http.StatusOK, map[string]any{"@odata.context": s.GraphURL() + "/$metadata#" + ctx, "value": orEmpty(page)})
}

func (s *Server) handleThreadPosts(w http.ResponseWriter, r *http.Request) {
	t := s.tenant
	t.mu.RLock()
	defer t.mu.RUnlock()
	g := t.groupLocked(r.PathValue("gid"))
	var th *groupThread
	if g != nil {
		for _, x := range g.threads {
			if x.id == r.PathValue("tid") {
				th = x
			}
		}
	}
	if th == nil {
		writeGraphError(w, http.StatusNotFound, "ErrorItemNotFound", "The specified object was not found in the store.")
		return
	}
	var page []map[string]any
	for _, p := range th.posts {
		page = append(page, map[string]any{"id": p.id, "createdDateTime": graphTime(p.at), "lastModifiedDateTime": graphTime(p.at),
			"changeKey": "CQAAAB", "categories": []string{}, "receivedDateTime": graphTime(p.at), "hasAttachments": false,
			"body": map[string]any{"contentType": "html", "content": p.html}, "from": emailAddress(p.from), "sender": emailAddress(p.from),
			"conversationThreadId": th.id, "conversationId": th.conversationID, "newParticipants": []any{}})
	}
	writeJSON(w, http.StatusOK, map[string]any{"@odata.context": s.GraphURL() + "/$metadata#groups('" + g.ID + "')/threads('" + th.id + "')/posts", "value": orEmpty(page)})
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func previewOf(html string) string {
	s := strings.Join(strings.Fields(stripTags(html)), " ")
	if len(s) > 255 {
		s = s[:255]
	}
	return s
}
