package m365sim

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// calendarRoutes serves calendars and events under /me and /users/{id}.
// Events are reached below /events, /calendar/events and
// /calendars/{cid}/events alike.
func (s *Server) calendarRoutes(mux *http.ServeMux) {
	s.userRoute(mux, "GET", "/calendars", true, s.calScope(false, s.handleListCalendars))
	s.userRoute(mux, "POST", "/calendars", true, s.calScope(true, s.handleCreateCalendar))
	s.userRoute(mux, "GET", "/calendar", true, s.calScope(false, s.handleGetCalendar))
	s.userRoute(mux, "GET", "/calendars/{cid}", true, s.calScope(false, s.handleGetCalendar))
	// v1.0 documents delta only for the primary calendar's calendarView
	// (learn.microsoft.com/graph/api/event-delta); events/delta is beta.
	for _, p := range []string{"/calendarView/delta", "/calendarView/delta()", "/calendar/calendarView/delta", "/calendar/calendarView/delta()"} {
		s.userRoute(mux, "GET", p, true, s.calScope(false, s.handleCalendarViewDelta))
	}
	for _, base := range []string{"", "/calendar", "/calendars/{cid}"} {
		s.userRoute(mux, "GET", base+"/events/delta", true, notInV1)
		s.userRoute(mux, "GET", base+"/events/delta()", true, notInV1)
		s.userRoute(mux, "GET", base+"/calendarView", true, s.calScope(false, s.handleCalendarView))
		s.userRoute(mux, "GET", base+"/events", true, s.calScope(false, s.handleListEvents))
		s.userRoute(mux, "POST", base+"/events", true, s.calScope(true, s.handleCreateEvent))
		ev := base + "/events/{eid}"
		s.userRoute(mux, "GET", ev, true, s.calScope(false, s.handleGetEvent))
		s.userRoute(mux, "PATCH", ev, true, s.calScope(true, s.handlePatchEvent))
		s.userRoute(mux, "DELETE", ev, true, s.calScope(true, s.handleDeleteEvent))
		s.userRoute(mux, "POST", ev+"/cancel", true, s.calScope(true, s.handleCancelEvent))
		s.userRoute(mux, "GET", ev+"/instances", true, s.calScope(false, s.handleInstances))
		s.userRoute(mux, "GET", ev+"/attachments", true, s.calScope(false, s.handleListEventAttachments))
		s.userRoute(mux, "POST", ev+"/attachments", true, s.calScope(true, s.handleAddEventAttachment))
		s.userRoute(mux, "GET", ev+"/attachments/{aid}", true, s.calScope(false, s.handleGetEventAttachment))
		s.userRoute(mux, "GET", ev+"/attachments/{aid}/$value", true, s.calScope(false, s.handleGetEventAttachment))
	}
}

func notInV1(w http.ResponseWriter, r *http.Request, _ *User) {
	writeGraphError(w, http.StatusBadRequest, "BadRequest", "Resource not found for the segment 'delta'.")
}

// hasScope says whether the request's token carries one of the delegated
// permissions (Calendars.Read covers reads, Calendars.ReadWrite both).
func hasScope(r *http.Request, base string, write bool) bool {
	// Application roles have the same names (Calendars.Read,
	// Contacts.ReadWrite, ...), so grantedPermissions covers both kinds.
	if write {
		return holds(sessionFrom(r.Context()), base+".ReadWrite")
	}
	return holds(sessionFrom(r.Context()), base+".ReadWrite", base+".Read")
}

func (s *Server) calScope(write bool, h userHandler) userHandler {
	return func(w http.ResponseWriter, r *http.Request, u *User) {
		if !hasScope(r, "Calendars", write) {
			writeGraphError(w, http.StatusForbidden, "ErrorAccessDenied", "Access is denied. Check credentials and try again.")
			return
		}
		h(w, r, u)
	}
}

func calendarJSON(c *Calendar, u *User) map[string]any {
	return map[string]any{
		"@odata.etag": "W/\"" + strconv.FormatInt(c.Seq, 10) + "\"", "id": c.ID, "name": c.Name, "color": c.Color,
		"hexColor": "", "isDefaultCalendar": c.IsDefault, "changeKey": strconv.FormatInt(c.Seq, 10), "canShare": true,
		"canViewPrivateItems": true, "canEdit": true, "allowedOnlineMeetingProviders": []string{"teamsForBusiness"},
		"defaultOnlineMeetingProvider": "teamsForBusiness", "isTallyingResponses": true, "isRemovable": !c.IsDefault,
		"owner": map[string]any{"name": u.DisplayName, "address": u.UPN},
	}
}

func (s *Server) handleListCalendars(w http.ResponseWriter, r *http.Request, u *User) {
	t := s.tenant
	t.mu.Lock()
	var items []map[string]any
	for _, c := range t.pimLocked(u).sortedCalendars() {
		items = append(items, selectFields(calendarJSON(c, u), r.URL.Query().Get("$select")))
	}
	t.mu.Unlock()
	s.writePage(w, r, "users('"+u.ID+"')/calendars", items, mailDefaultPage, mailMaxPage)
}

func (s *Server) handleGetCalendar(w http.ResponseWriter, r *http.Request, u *User) {
	t := s.tenant
	t.mu.Lock()
	c, err := t.pimLocked(u).calendarLocked(r.PathValue("cid"))
	var v map[string]any
	if err == nil {
		v = selectFields(calendarJSON(c, u), r.URL.Query().Get("$select"))
	}
	t.mu.Unlock()
	if err != nil {
		writeTenantError(w, err)
		return
	}
	v["@odata.context"] = s.GraphURL() + "/$metadata#users('" + u.ID + "')/calendars/$entity"
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) handleCreateCalendar(w http.ResponseWriter, r *http.Request, u *User) {
	var in struct {
		Name string `json:"name"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	t := s.tenant
	t.mu.Lock()
	c, err := t.addCalendarLocked(u, in.Name)
	var v map[string]any
	if err == nil {
		v = calendarJSON(c, u)
	}
	t.mu.Unlock()
	if err != nil {
		if strings.Contains(err.Error(), ErrConflict.Error()) {
			writeGraphError(w, http.StatusConflict, "ErrorFolderExists", "A folder with the specified name already exists.")
			return
		}
		writeBadRequest(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, v)
}

// outlookTimeZone reads Prefer: outlook.timezone="..." ("UTC" when absent).
func outlookTimeZone(r *http.Request) string {
	for _, pref := range r.Header.Values("Prefer") {
		for _, p := range strings.Split(pref, ",") {
			k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "outlook.timezone") {
				return strings.Trim(strings.TrimSpace(v), `"`)
			}
		}
	}
	return "UTC"
}

// eventJSON renders an event as Graph's event resource, times in zone tz.
func (s *Server) eventJSON(p *userPIM, e *Event, tz string, expand string) map[string]any {
	st, _ := e.Props.Start.instant()
	en, _ := e.Props.End.instant()
	master := e
	if e.SeriesMaster != "" {
		if m, ok := p.events[e.SeriesMaster]; ok {
			master = m
		}
	}
	preview := e.Props.Body.Content
	if e.Props.Body.ContentType == "html" {
		preview = stripTags(preview)
	}
	preview = strings.Join(strings.Fields(preview), " ")
	if len(preview) > 255 {
		preview = truncateUTF8(preview, 255)
	}
	cancelled := []string{}
	if e.Type == EventSeries {
		for _, c := range e.Cancelled {
			cancelled = append(cancelled, cancelledOccurrenceID(e, c))
		}
	}
	cats := e.Props.Categories
	if cats == nil {
		cats = []string{}
	}
	v := map[string]any{
		"@odata.etag": "W/\"" + e.ChangeKey + "\"", "id": e.ID,
		"createdDateTime": graphTime(e.Created), "lastModifiedDateTime": graphTime(e.Modified), "changeKey": e.ChangeKey,
		"categories": cats, "transactionId": nullIfEmpty(e.Props.TransactionID),
		"originalStartTimeZone": e.Props.Start.TimeZone, "originalEndTimeZone": e.Props.End.TimeZone,
		"iCalUId": master.ICalUID, "uid": master.ICalUID,
		"reminderMinutesBeforeStart": e.Props.ReminderMinutesBeforeStart, "isReminderOn": e.Props.IsReminderOn,
		"hasAttachments": len(e.Attachments) > 0, "subject": e.Props.Subject, "bodyPreview": preview,
		"importance": e.Props.Importance, "sensitivity": e.Props.Sensitivity, "isAllDay": e.Props.IsAllDay,
		"isCancelled": false, "isOrganizer": true, "responseRequested": e.Props.ResponseRequested,
		"seriesMasterId": nullIfEmpty(e.SeriesMaster), "showAs": e.Props.ShowAs, "type": e.Type,
		"webLink":          s.base + "/owa/?itemid=" + e.ID + "&exvsurl=1&path=/calendar/item",
		"onlineMeetingUrl": nil, "isOnlineMeeting": e.Props.IsOnlineMeeting, "onlineMeetingProvider": "unknown",
		"allowNewTimeProposals": e.Props.AllowNewTimeProposals, "isDraft": false, "hideAttendees": e.Props.HideAttendees,
		"responseStatus": map[string]any{"response": "organizer", "time": "0001-01-01T00:00:00Z"},
		"body":           e.Props.Body, "start": inZone(st, tz), "end": inZone(en, tz),
		"location": e.Props.Location, "locations": orEmpty(e.Props.Locations), "recurrence": e.Props.Recurrence,
		"attendees": orEmpty(e.Props.Attendees), "organizer": e.Props.Organizer, "onlineMeeting": nil,
		"cancelledOccurrences": cancelled,
	}
	if e.SeriesMaster != "" {
		v["originalStart"] = e.OriginalStart.UTC().Format("2006-01-02T15:04:05Z")
	}
	for _, x := range strings.Split(expand, ",") {
		switch strings.TrimSpace(x) {
		case "attachments":
			list := []map[string]any{}
			for _, a := range e.Attachments {
				list = append(list, attachmentWithBytes(a))
			}
			v["attachments"] = list
		case "exceptionOccurrences":
			list := []map[string]any{}
			if e.Type == EventSeries {
				for _, x := range p.exceptionsLocked(e.ID) {
					list = append(list, s.eventJSON(p, x, tz, ""))
				}
			}
			v["exceptionOccurrences"] = list
		}
	}
	return v
}

func orEmpty[T any](l []T) []T {
	if l == nil {
		return []T{}
	}
	return l
}

func attachmentWithBytes(a Attachment) map[string]any {
	v := attachmentJSON(a)
	v["contentBytes"] = base64.StdEncoding.EncodeToString(a.Content)
	return v
}

func truncateUTF8(s string, n int) string {
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

// exceptionsLocked returns a series' exceptions by original start.
func (p *userPIM) exceptionsLocked(masterID string) []*Event {
	var out []*Event
	for _, x := range p.events {
		if x.SeriesMaster == masterID && x.Type == EventExceptionTy {
			out = append(out, x)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].OriginalStart.Before(out[j].OriginalStart) })
	return out
}

// eventFromPath finds the event of the request, checking that it belongs
// to the calendar of the path, if the path names one.
func (t *Tenant) eventFromPathLocked(u *User, r *http.Request, materialize bool) (*Event, error) {
	p := t.pimLocked(u)
	e, err := t.eventOrOccurrenceLocked(u, r.PathValue("eid"), materialize)
	if err != nil {
		return nil, err
	}
	if cid := r.PathValue("cid"); cid != "" || strings.Contains(r.URL.Path, "/calendar/") {
		c, err := p.calendarLocked(cid)
		if err != nil || c.ID != e.CalendarID {
			return nil, ErrNoItem
		}
	}
	return e, nil
}

func (s *Server) handleGetEvent(w http.ResponseWriter, r *http.Request, u *User) {
	t := s.tenant
	t.mu.Lock()
	e, err := t.eventFromPathLocked(u, r, false)
	var v map[string]any
	if err == nil {
		v = selectFields(s.eventJSON(t.pimLocked(u), e, outlookTimeZone(r), r.URL.Query().Get("$expand")), r.URL.Query().Get("$select"))
	}
	t.mu.Unlock()
	if err != nil {
		writeTenantError(w, err)
		return
	}
	v["@odata.context"] = s.GraphURL() + "/$metadata#users('" + u.ID + "')/events/$entity"
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) handleListEvents(w http.ResponseWriter, r *http.Request, u *User) {
	t := s.tenant
	q := r.URL.Query()
	t.mu.Lock()
	p := t.pimLocked(u)
	var calID string
	if cid := r.PathValue("cid"); cid != "" || strings.Contains(r.URL.Path, "/calendar/") {
		c, err := p.calendarLocked(cid)
		if err != nil {
			t.mu.Unlock()
			writeTenantError(w, err)
			return
		}
		calID = c.ID
	}
	var evs []*Event
	for _, e := range p.events {
		if e.Type != EventExceptionTy && (calID == "" || e.CalendarID == calID) {
			evs = append(evs, e)
		}
	}
	// Graph's default order is unspecified; the simulator's is by creation.
	sort.Slice(evs, func(i, j int) bool {
		if !evs[i].Created.Equal(evs[j].Created) {
			return evs[i].Created.Before(evs[j].Created)
		}
		return evs[i].ID < evs[j].ID
	})
	items := make([]map[string]any, 0, len(evs))
	for _, e := range evs {
		items = append(items, selectFields(s.eventJSON(p, e, outlookTimeZone(r), q.Get("$expand")), q.Get("$select")))
	}
	t.mu.Unlock()
	s.writePage(w, r, "users('"+u.ID+"')/events", items, mailDefaultPage, mailMaxPage)
}

func (s *Server) handleCreateEvent(w http.ResponseWriter, r *http.Request, u *User) {
	var in EventProps
	if !readJSON(w, r, &in) {
		return
	}
	t := s.tenant
	t.mu.Lock()
	cid := r.PathValue("cid")
	e, _, err := t.createEventLocked(u, cid, in)
	var v map[string]any
	if err == nil {
		v = s.eventJSON(t.pimLocked(u), e, outlookTimeZone(r), "")
	}
	t.mu.Unlock()
	if err != nil {
		writeBadRequest(w, err)
		return
	}
	v["@odata.context"] = s.GraphURL() + "/$metadata#users('" + u.ID + "')/events/$entity"
	writeJSON(w, http.StatusCreated, v)
}

func (s *Server) handlePatchEvent(w http.ResponseWriter, r *http.Request, u *User) {
	var patch map[string]json.RawMessage
	if !readJSON(w, r, &patch) {
		return
	}
	t := s.tenant
	t.mu.Lock()
	e, err := t.eventFromPathLocked(u, r, false)
	if err == nil {
		e, err = t.updateEventLocked(u, e.ID, patch)
	}
	var v map[string]any
	if err == nil {
		v = s.eventJSON(t.pimLocked(u), e, outlookTimeZone(r), "")
	}
	t.mu.Unlock()
	if err != nil {
		writeBadRequest(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) handleDeleteEvent(w http.ResponseWriter, r *http.Request, u *User) {
	t := s.tenant
	t.mu.Lock()
	e, err := t.eventFromPathLocked(u, r, false)
	if err == nil {
		err = t.deleteEventLocked(u, e.ID, "cancellation")
	}
	t.mu.Unlock()
	if err != nil {
		writeTenantError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// handleCancelEvent is event: cancel, for organizers only: it sends the
// attendees a cancellation (with the comment) and deletes the event.
func (s *Server) handleCancelEvent(w http.ResponseWriter, r *http.Request, u *User) {
	var in struct {
		Comment string `json:"comment"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	t := s.tenant
	t.mu.Lock()
	e, err := t.eventFromPathLocked(u, r, false)
	if err == nil {
		err = t.deleteEventLocked(u, e.ID, "cancellation")
	}
	t.mu.Unlock()
	if err != nil {
		writeTenantError(w, err)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// windowParams reads the startDateTime and endDateTime a calendar view or
// instances request requires.
func windowParams(w http.ResponseWriter, r *http.Request) (time.Time, time.Time, bool) {
	q := r.URL.Query()
	parse := func(v string) (time.Time, bool) {
		for _, f := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04:05.0000000", time.DateOnly} {
			if t, err := time.Parse(f, v); err == nil {
				return t.UTC(), true
			}
		}
		return time.Time{}, false
	}
	from, ok1 := parse(q.Get("startDateTime"))
	to, ok2 := parse(q.Get("endDateTime"))
	if q.Get("startDateTime") == "" || q.Get("endDateTime") == "" {
		writeGraphError(w, http.StatusBadRequest, "ErrorInvalidParameter", "This request requires a time window specified by the query string parameters StartDateTime and EndDateTime.")
		return from, to, false
	}
	if !ok1 || !ok2 || !to.After(from) {
		writeGraphError(w, http.StatusBadRequest, "ErrorInvalidParameter", "The time window given by StartDateTime and EndDateTime is not valid.")
		return from, to, false
	}
	return from, to, true
}

func (s *Server) handleInstances(w http.ResponseWriter, r *http.Request, u *User) {
	from, to, ok := windowParams(w, r)
	if !ok {
		return
	}
	t := s.tenant
	t.mu.Lock()
	e, err := t.eventFromPathLocked(u, r, false)
	var items []map[string]any
	if err == nil && e.Type == EventSeries {
		p := t.pimLocked(u)
		for _, o := range p.instancesLocked(e, from, to) {
			items = append(items, selectFields(s.eventJSON(p, &o, outlookTimeZone(r), ""), r.URL.Query().Get("$select")))
		}
	}
	t.mu.Unlock()
	if err != nil {
		writeTenantError(w, err)
		return
	}
	s.writePage(w, r, "users('"+u.ID+"')/events", orEmpty(items), mailDefaultPage, mailMaxPage)
}

// viewLocked lists what a calendar view of calendar c shows in [from, to):
// single instances, occurrences and exceptions that overlap it.
func (p *userPIM) viewLocked(calID string, from, to time.Time) []Event {
	var out []Event
	for _, e := range p.events {
		if e.CalendarID != calID {
			continue
		}
		switch e.Type {
		case EventSingle:
			st, _ := e.Props.Start.instant()
			en, _ := e.Props.End.instant()
			if st.Before(to) && en.After(from) || st.Equal(from) {
				out = append(out, *e)
			}
		case EventSeries:
			d := e.duration()
			for _, o := range p.instancesLocked(e, from.Add(-d), to) {
				st, _ := o.Props.Start.instant()
				en, _ := o.Props.End.instant()
				if st.Before(to) && (en.After(from) || st.Equal(from)) {
					out = append(out, o)
				}
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, _ := out[i].Props.Start.instant()
		b, _ := out[j].Props.Start.instant()
		if !a.Equal(b) {
			return a.Before(b)
		}
		return out[i].ID < out[j].ID
	})
	return out
}

func (s *Server) handleCalendarView(w http.ResponseWriter, r *http.Request, u *User) {
	from, to, ok := windowParams(w, r)
	if !ok {
		return
	}
	t := s.tenant
	t.mu.Lock()
	p := t.pimLocked(u)
	c, err := p.calendarLocked(r.PathValue("cid"))
	var items []map[string]any
	if err == nil {
		for _, e := range p.viewLocked(c.ID, from, to) {
			items = append(items, selectFields(s.eventJSON(p, &e, outlookTimeZone(r), ""), r.URL.Query().Get("$select")))
		}
	}
	t.mu.Unlock()
	if err != nil {
		writeTenantError(w, err)
		return
	}
	s.writePage(w, r, "users('"+u.ID+"')/calendarView", orEmpty(items), mailDefaultPage, mailMaxPage)
}

func (s *Server) handleListEventAttachments(w http.ResponseWriter, r *http.Request, u *User) {
	t := s.tenant
	t.mu.Lock()
	e, err := t.eventFromPathLocked(u, r, false)
	var items []map[string]any
	if err == nil {
		for _, a := range e.Attachments {
			items = append(items, selectFields(attachmentWithBytes(a), r.URL.Query().Get("$select")))
		}
	}
	t.mu.Unlock()
	if err != nil {
		writeTenantError(w, err)
		return
	}
	s.writePage(w, r, "users('"+u.ID+"')/events/attachments", orEmpty(items), mailDefaultPage, mailMaxPage)
}

func (s *Server) handleGetEventAttachment(w http.ResponseWriter, r *http.Request, u *User) {
	t := s.tenant
	t.mu.Lock()
	e, err := t.eventFromPathLocked(u, r, false)
	var found *Attachment
	if err == nil {
		for i := range e.Attachments {
			if e.Attachments[i].ID == r.PathValue("aid") {
				a := e.Attachments[i]
				found = &a
			}
		}
	}
	t.mu.Unlock()
	if err == nil && found == nil {
		err = ErrNoItem
	}
	if err != nil {
		writeTenantError(w, err)
		return
	}
	if strings.HasSuffix(r.URL.Path, "/$value") {
		w.Header().Set("Content-Type", found.ContentType)
		w.Header().Set("Content-Length", strconv.Itoa(len(found.Content)))
		_, _ = w.Write(found.Content)
		return
	}
	writeJSON(w, http.StatusOK, attachmentWithBytes(*found))
}

// handleAddEventAttachment adds a file attachment of at most 3 MB. Adding
// one changes the event, but sends no update to attendees.
func (s *Server) handleAddEventAttachment(w http.ResponseWriter, r *http.Request, u *User) {
	var in attachmentInput
	if !readJSON(w, r, &in) {
		return
	}
	t := s.tenant
	now := t.now().UTC()
	a, err := in.toAttachment(now)
	if err != nil {
		writeBadRequest(w, err)
		return
	}
	t.mu.Lock()
	e, err := t.eventFromPathLocked(u, r, true)
	if err == nil {
		a.ID = t.newItemID("AAMkAtt")
		a.Modified = now
		e.Attachments = append(e.Attachments, a)
		e.touch(t.bump(), now)
		if m, ok := t.pimLocked(u).events[e.SeriesMaster]; ok {
			m.touch(t.bump(), now)
		}
	}
	t.mu.Unlock()
	if err != nil {
		writeTenantError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, attachmentJSON(a))
}
