package m365sim

// The Teams endpoints (teams.go has the sources).

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Page sizes: channel-list-messages and chatmessage-list-replies take
// $top up to 50 (20 by default); the team list pages at 100.
const (
	teamMsgDefaultPage = 20
	teamMsgMaxPage     = 50
	teamListPage       = 100
)

// Teams' permission rules (the "Permissions" table of each page, the
// application column first).
var (
	teamListRule = permRule{service: "teams",
		delegated:   []string{"Team.ReadBasic.All", "TeamSettings.Read.All", "TeamSettings.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"},
		application: []string{"Team.ReadBasic.All", "TeamSettings.Read.All", "TeamSettings.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}}
	channelListRule = permRule{service: "teams",
		delegated:   []string{"Channel.ReadBasic.All", "ChannelSettings.Read.All", "ChannelSettings.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"},
		application: []string{"Channel.ReadBasic.All", "ChannelSettings.Read.All", "ChannelSettings.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}}
	channelMessageRule = permRule{service: "teams",
		delegated:   []string{"ChannelMessage.Read.All", "ChannelMessage.ReadWrite"},
		application: []string{"ChannelMessage.Read.Group", "ChannelMessage.Read.All", "ChannelMessage.ReadWrite.All"}}
)

// teamsPermissions is routePermissions for paths under /teams.
func teamsPermissions(parts []string) permRule {
	switch {
	case len(parts) <= 2:
		return teamListRule
	case len(parts) <= 4:
		return channelListRule
	}
	return channelMessageRule
}

// protectedRefusal is Graph's answer to an application not approved for
// the protected Teams APIs (teams-protected-apis).
const protectedRefusal = "Invoked API requires Protected API access in application-only context when not using Resource Specific Consent. Visit https://docs.microsoft.com/en-us/graph/teams-protected-apis for more details."

func (s *Server) teamsRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /teams", s.handleListTeams)
	mux.HandleFunc("GET /teams/{tid}/channels", s.handleListChannels)
	mux.HandleFunc("GET /teams/{tid}/channels/{cid}/messages", s.protected(s.handleListChannelMessages))
	mux.HandleFunc("GET /teams/{tid}/channels/{cid}/messages/delta", s.protected(s.handleChannelDelta))
	mux.HandleFunc("GET /teams/{tid}/channels/{cid}/messages/{mid}", s.protected(s.handleGetChannelMessage))
	mux.HandleFunc("GET /teams/{tid}/channels/{cid}/messages/{mid}/replies", s.protected(s.handleListReplies))
	mux.HandleFunc("GET /teams/{tid}/channels/{cid}/messages/{mid}/hostedContents/{hid}/$value", s.protected(s.handleHostedContent))
	mux.HandleFunc("GET /teams/{tid}/channels/{cid}/messages/{mid}/replies/{rid}/hostedContents/{hid}/$value", s.protected(s.handleHostedContent))
}

// protected refuses app-only reads of messages while the knob says the
// application is not approved.
func (s *Server) protected(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.tenant.mu.RLock()
		refused := s.tenant.teams.refused
		s.tenant.mu.RUnlock()
		if sess := sessionFrom(r.Context()); refused && sess != nil && sess.App {
			writeGraphError(w, http.StatusForbidden, "Forbidden", protectedRefusal)
			return
		}
		h(w, r)
	}
}

func teamJSON(tm *Team, tenantID string) map[string]any {
	return map[string]any{
		"id": tm.ID, "createdDateTime": graphTime(tm.Created), "displayName": tm.DisplayName, "description": tm.Description,
		"internalId": "19:" + strings.ReplaceAll(tm.ID, "-", "") + "@thread.tacv2", "classification": nil, "specialization": "none",
		"visibility": "private", "webUrl": "https://teams.microsoft.com/l/team/" + url.PathEscape(tm.ID), "isArchived": false,
		"tenantId": tenantID, "isMembershipLimitedToOwners": false, "memberSettings": nil, "guestSettings": nil,
		"messagingSettings": nil, "funSettings": nil, "discoverySettings": nil, "summary": nil,
	}
}

func channelJSON(c *Channel, tenantID string) map[string]any {
	return map[string]any{
		"id": c.ID, "createdDateTime": graphTime(c.Created), "displayName": c.DisplayName, "description": nil,
		"isFavoriteByDefault": nil, "email": "", "webUrl": "https://teams.microsoft.com/l/channel/" + url.PathEscape(c.ID) + "/" + url.PathEscape(c.DisplayName),
		"membershipType": c.MembershipType, "tenantId": tenantID, "isArchived": false,
	}
}

func identitySet(u *User, tenantID string) map[string]any {
	return map[string]any{"application": nil, "device": nil, "user": map[string]any{
		"@odata.type": "#microsoft.graph.teamworkUserIdentity", "id": u.ID, "displayName": u.DisplayName,
		"userIdentityType": "aadUser", "tenantId": tenantID}}
}

func msTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// chatMessageJSON is a message as Graph serves it; msgURL is its URL
// (hosted contents hang below it).
func (s *Server) chatMessageJSON(m *ChatMessage, tm *Team, c *Channel, msgURL string) map[string]any {
	tid := s.tenant.ID
	var body strings.Builder
	mentions := []map[string]any{}
	for i, u := range m.mentions {
		fmt.Fprintf(&body, `<at id="%d">%s</at> `, i, html.EscapeString(u.DisplayName))
		mentions = append(mentions, map[string]any{"id": i, "mentionText": u.DisplayName,
			"mentioned": map[string]any{"application": nil, "device": nil, "conversation": nil, "tag": nil,
				"user": map[string]any{"@odata.type": "#microsoft.graph.teamworkUserIdentity", "id": u.ID, "displayName": u.DisplayName, "userIdentityType": "aadUser", "tenantId": tid}}})
	}
	body.WriteString(m.HTML)
	for _, h := range m.hosted {
		fmt.Fprintf(&body, `<p><img src="%s/hostedContents/%s/$value" alt="image" itemscope="" itemtype="http://schema.skype.com/AMSImage" width="250" height="250"></p>`, msgURL, h.id)
	}
	atts := []map[string]any{}
	for i, f := range m.files {
		id := fmt.Sprintf("%08x-0000-4000-8000-%012d", i+1, len(m.ID))
		fmt.Fprintf(&body, `<attachment id="%s"></attachment>`, id)
		atts = append(atts, map[string]any{"id": id, "contentType": "reference", "contentUrl": f.URL, "content": nil,
			"name": f.Name, "thumbnailUrl": nil, "teamsAppId": nil})
	}
	reactions := []map[string]any{}
	for _, r := range m.reactions {
		reactions = append(reactions, map[string]any{"reactionType": r.kind, "displayName": r.kind, "reactionContentUrl": nil,
			"createdDateTime": msTime(r.at), "user": identitySet(r.user, tid)})
	}
	var reply any
	if m.ReplyToID != "" {
		reply = m.ReplyToID
	}
	var subject any
	if m.Subject != "" {
		subject = m.Subject
	}
	return map[string]any{
		"id": m.ID, "replyToId": reply, "etag": fmt.Sprint(m.seq), "messageType": "message",
		"createdDateTime": msTime(m.Created), "lastModifiedDateTime": msTime(m.Modified), "lastEditedDateTime": nil, "deletedDateTime": nil,
		"subject": subject, "summary": nil, "chatId": nil, "importance": "normal", "locale": "en-us",
		"webUrl":          "https://teams.microsoft.com/l/message/" + url.PathEscape(c.ID) + "/" + m.ID,
		"policyViolation": nil, "eventDetail": nil, "from": identitySet(m.From, tid),
		"body":            map[string]any{"contentType": "html", "content": body.String()},
		"channelIdentity": map[string]any{"teamId": tm.ID, "channelId": c.ID},
		"attachments":     atts, "mentions": mentions, "reactions": reactions,
	}
}

func writeTeamNotFound(w http.ResponseWriter) {
	writeGraphError(w, http.StatusNotFound, "NotFound", "No team found with Group Id or the requested channel or message does not exist.")
}

func (s *Server) handleListTeams(w http.ResponseWriter, r *http.Request) {
	off := s.skipOffset(r)
	if off < 0 {
		writeGraphError(w, http.StatusBadRequest, "BadRequest", "Invalid skip token.")
		return
	}
	size := pageSize(r, teamListPage, 999)
	t := s.tenant
	t.mu.RLock()
	var page []map[string]any
	for i := off; i < len(t.teams.list) && len(page) < size; i++ {
		page = append(page, teamJSON(t.teams.list[i], t.ID))
	}
	more := off+len(page) < len(t.teams.list)
	t.mu.RUnlock()
	s.writeTeamsPage(w, r, "teams", page, more, off+len(page))
}

func (s *Server) handleListChannels(w http.ResponseWriter, r *http.Request) {
	t := s.tenant
	t.mu.RLock()
	tm := t.teamLocked(r.PathValue("tid"))
	if tm == nil {
		t.mu.RUnlock()
		writeTeamNotFound(w)
		return
	}
	var page []map[string]any
	for _, c := range tm.channels {
		page = append(page, channelJSON(c, t.ID))
	}
	t.mu.RUnlock()
	writeJSON(w, http.StatusOK, map[string]any{"@odata.context": s.GraphURL() + "/$metadata#teams('" + tm.ID + "')/channels", "@odata.count": len(page), "value": orEmpty(page)})
}

// skipOffset reads the sealed $skiptoken of a simple list: 0 without
// one, -1 for a bad one.
func (s *Server) skipOffset(r *http.Request) int {
	v := r.URL.Query().Get("$skiptoken")
	if v == "" {
		return 0
	}
	var st struct{ Off int }
	if !s.openToken(v, &st) || st.Off < 0 {
		return -1
	}
	return st.Off
}

func (s *Server) writeTeamsPage(w http.ResponseWriter, r *http.Request, ctx string, page []map[string]any, more bool, next int) {
	out := map[string]any{"@odata.context": s.GraphURL() + "/$metadata#" + ctx, "value": orEmpty(page)}
	if more {
		q := url.Values{}
		if top := r.URL.Query().Get("$top"); top != "" {
			q.Set("$top", top)
		}
		q.Set("$skiptoken", s.sealToken(struct{ Off int }{next}))
		out["@odata.nextLink"] = s.GraphURL() + strings.TrimPrefix(r.URL.Path, "/v1.0") + "?" + q.Encode()
	}
	writeJSON(w, http.StatusOK, out)
}

// channelFrom finds the team and channel of a request, with the tenant
// read-locked; ok false means it answered 404 and unlocked.
func (s *Server) channelFrom(w http.ResponseWriter, r *http.Request) (*Team, *Channel, bool) {
	s.tenant.mu.RLock()
	tm, c := s.tenant.channelLocked(r.PathValue("tid"), r.PathValue("cid"))
	if c == nil {
		s.tenant.mu.RUnlock()
		writeTeamNotFound(w)
		return nil, nil, false
	}
	return tm, c, true
}

func (s *Server) messagesURL(tm *Team, c *Channel) string {
	return s.GraphURL() + "/teams/" + tm.ID + "/channels/" + url.PathEscape(c.ID) + "/messages"
}

func (s *Server) handleListChannelMessages(w http.ResponseWriter, r *http.Request) {
	off := s.skipOffset(r)
	if off < 0 {
		writeGraphError(w, http.StatusBadRequest, "BadRequest", "Invalid skip token.")
		return
	}
	size := pageSize(r, teamMsgDefaultPage, teamMsgMaxPage)
	tm, c, ok := s.channelFrom(w, r)
	if !ok {
		return
	}
	// Newest first, as Teams lists a channel.
	var page []map[string]any
	base := s.messagesURL(tm, c)
	for i := len(c.messages) - 1 - off; i >= 0 && len(page) < size; i-- {
		m := c.messages[i]
		page = append(page, s.chatMessageJSON(m, tm, c, base+"/"+m.ID))
	}
	more := off+len(page) < len(c.messages)
	s.tenant.mu.RUnlock()
	s.writeTeamsPage(w, r, "teams('"+tm.ID+"')/channels('"+c.ID+"')/messages", page, more, off+len(page))
}

func (s *Server) handleGetChannelMessage(w http.ResponseWriter, r *http.Request) {
	tm, c, ok := s.channelFrom(w, r)
	if !ok {
		return
	}
	defer s.tenant.mu.RUnlock()
	m := c.messageLocked(r.PathValue("mid"))
	if m == nil {
		writeTeamNotFound(w)
		return
	}
	writeJSON(w, http.StatusOK, s.chatMessageJSON(m, tm, c, s.messagesURL(tm, c)+"/"+m.ID))
}

func (s *Server) handleListReplies(w http.ResponseWriter, r *http.Request) {
	off := s.skipOffset(r)
	if off < 0 {
		writeGraphError(w, http.StatusBadRequest, "BadRequest", "Invalid skip token.")
		return
	}
	size := pageSize(r, teamMsgDefaultPage, teamMsgMaxPage)
	tm, c, ok := s.channelFrom(w, r)
	if !ok {
		return
	}
	m := c.messageLocked(r.PathValue("mid"))
	if m == nil {
		s.tenant.mu.RUnlock()
		writeTeamNotFound(w)
		return
	}
	base := s.messagesURL(tm, c) + "/" + m.ID + "/replies"
	var page []map[string]any
	for i := len(m.replies) - 1 - off; i >= 0 && len(page) < size; i-- {
		rp := m.replies[i]
		page = append(page, s.chatMessageJSON(rp, tm, c, base+"/"+rp.ID))
	}
	more := off+len(page) < len(m.replies)
	s.tenant.mu.RUnlock()
	s.writeTeamsPage(w, r, "teams('"+tm.ID+"')/channels('"+c.ID+"')/messages('"+m.ID+"')/replies", page, more, off+len(page))
}

func (s *Server) handleHostedContent(w http.ResponseWriter, r *http.Request) {
	_, c, ok := s.channelFrom(w, r)
	if !ok {
		return
	}
	m := c.messageLocked(r.PathValue("mid"))
	if rid := r.PathValue("rid"); m != nil && rid != "" {
		i := slices.IndexFunc(m.replies, func(x *ChatMessage) bool { return x.ID == rid })
		m = nil
		if i >= 0 {
			m = c.messageLocked(r.PathValue("mid")).replies[i]
		}
	}
	var hc *hostedContent
	if m != nil {
		for i := range m.hosted {
			if m.hosted[i].id == r.PathValue("hid") {
				hc = &m.hosted[i]
			}
		}
	}
	if hc == nil {
		s.tenant.mu.RUnlock()
		writeTeamNotFound(w)
		return
	}
	data, ct := hc.data, hc.contentType
	s.tenant.mu.RUnlock()
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Length", fmt.Sprint(len(data)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(data)
}

// channelDeltaState is a sealed delta or skip token: the round covers
// root messages changed after Since up to Upto, Off of them already sent.
type channelDeltaState struct {
	Channel string
	Since   int64
	Upto    int64
	Off     int
	First   bool
}

func (s *Server) handleChannelDelta(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	st := channelDeltaState{First: true}
	for _, k := range []string{"$skiptoken", "$deltatoken"} {
		if v := q.Get(k); v != "" {
			if !s.openToken(v, &st) || st.Channel != r.PathValue("cid") {
				writeGraphError(w, http.StatusBadRequest, "BadRequest", "The delta token is invalid.")
				return
			}
		}
	}
	size := pageSize(r, teamMsgDefaultPage, teamMsgMaxPage)
	tm, c, ok := s.channelFrom(w, r)
	if !ok {
		return
	}
	if st.Upto == 0 {
		st.Upto = s.tenant.seq
	}
	window := s.tenant.now().Add(-teamDeltaWindow)
	var changed []*ChatMessage
	for _, m := range c.messages {
		if m.seq > st.Since && m.seq <= st.Upto && !(st.First && m.Modified.Before(window)) {
			changed = append(changed, m)
		}
	}
	slices.SortFunc(changed, func(a, b *ChatMessage) int { return int(a.seq - b.seq) })
	base := s.messagesURL(tm, c)
	var page []map[string]any
	for i := st.Off; i < len(changed) && len(page) < size; i++ {
		page = append(page, s.chatMessageJSON(changed[i], tm, c, base+"/"+changed[i].ID))
	}
	more := st.Off+len(page) < len(changed)
	s.tenant.mu.RUnlock()
	out := map[string]any{"@odata.context": s.GraphURL() + "/$metadata#Collection(chatMessage)", "value": orEmpty(page)}
	link := base + "/delta?"
	if more {
		st.Channel, st.Off = c.ID, st.Off+len(page)
		out["@odata.nextLink"] = link + "$skiptoken=" + s.sealToken(st)
	} else {
		out["@odata.deltaLink"] = link + "$deltatoken=" + s.sealToken(channelDeltaState{Channel: c.ID, Since: st.Upto})
	}
	writeJSON(w, http.StatusOK, out)
}
