package m365sim

import (
	"net/http"
	"sort"
	"strings"
	"time"
)

// calendarView delta of the primary calendar (learn.microsoft.com/graph/api/event-delta,
// /graph/delta-query-events): the first request names startDateTime and
// endDateTime; the window and the sync state travel in the opaque
// $skiptoken and $deltatoken. The view holds single instances,
// occurrences and exceptions; deleted ones come back as
// {"id": …, "@removed": {"reason": "deleted"}}. Page size follows
// Prefer: odata.maxpagesize.

type calDeltaState struct {
	Cal    string `json:"c"`
	From   int64  `json:"f"`
	To     int64  `json:"t"`
	Since  int64  `json:"s"`
	Upto   int64  `json:"u,omitempty"`
	After  int64  `json:"a,omitempty"`
	AfterI string `json:"i,omitempty"`
}

type calDeltaEntry struct {
	seq     int64
	id      string
	ev      *Event
	removed bool
}

func (s *Server) handleCalendarViewDelta(w http.ResponseWriter, r *http.Request, u *User) {
	q := r.URL.Query()
	var st calDeltaState
	switch {
	case q.Get("$skiptoken") != "":
		if !s.openToken(q.Get("$skiptoken"), &st) || st.Cal == "" {
			writeGraphError(w, http.StatusBadRequest, "SyncStateInvalid", "The sync state is invalid.")
			return
		}
	case q.Get("$deltatoken") != "":
		if !s.openToken(q.Get("$deltatoken"), &st) || st.Cal == "" {
			writeGraphError(w, http.StatusBadRequest, "SyncStateInvalid", "The sync state is invalid.")
			return
		}
		st.Upto, st.After, st.AfterI = 0, 0, ""
	default:
		from, to, ok := windowParams(w, r)
		if !ok {
			return
		}
		st.From, st.To = from.Unix(), to.Unix()
	}
	from, to := time.Unix(st.From, 0).UTC(), time.Unix(st.To, 0).UTC()
	size := pageSize(r, mailDefaultPage, mailMaxPage)
	tz := outlookTimeZone(r)

	t := s.tenant
	t.mu.Lock()
	p := t.pimLocked(u)
	cal := p.defaultCalendar()
	if st.Cal != "" && st.Cal != cal.ID {
		t.mu.Unlock()
		writeGraphError(w, http.StatusBadRequest, "SyncStateInvalid", "The sync state does not belong to this calendar.")
		return
	}
	st.Cal = cal.ID
	if st.Upto == 0 {
		st.Upto = t.seq
	}
	var entries []calDeltaEntry
	for _, e := range p.viewLocked(cal.ID, from, to) {
		seq := e.Seq
		if e.Type == EventOccurrence {
			seq = p.events[e.SeriesMaster].Seq
		}
		if seq > st.Since && seq <= st.Upto {
			ev := e
			entries = append(entries, calDeltaEntry{seq: seq, id: e.ID, ev: &ev})
		}
	}
	if st.Since > 0 {
		seen := map[string]bool{}
		for _, en := range entries {
			seen[en.id] = true
		}
		gone := func(id string, seq int64) {
			if !seen[id] && seq > st.Since && seq <= st.Upto {
				seen[id] = true
				entries = append(entries, calDeltaEntry{seq: seq, id: id, removed: true})
			}
		}
		for _, g := range p.eventsGone {
			if g.ev.CalendarID != cal.ID {
				continue
			}
			if g.ev.Type == EventSeries {
				for _, orig := range g.ev.originals(from.Add(-g.ev.duration()), to) {
					gone(occurrenceID(g.ev.ID, orig), g.seq)
				}
				continue
			}
			gone(g.ev.ID, g.seq)
		}
		for _, m := range p.events {
			if m.Type == EventSeries && m.CalendarID == cal.ID {
				for _, c := range m.Cancelled {
					if !c.Before(from.Add(-m.duration())) && c.Before(to) {
						gone(occurrenceID(m.ID, c), m.Seq)
					}
				}
			}
		}
	}
	sort.Slice(entries, func(i, j int) bool {
		if entries[i].seq != entries[j].seq {
			return entries[i].seq < entries[j].seq
		}
		return entries[i].id < entries[j].id
	})
	start := sort.Search(len(entries), func(i int) bool {
		e := entries[i]
		return e.seq > st.After || (e.seq == st.After && e.id > st.AfterI)
	})
	var page []map[string]any
	i := start
	for ; i < len(entries) && len(page) < size; i++ {
		e := entries[i]
		st.After, st.AfterI = e.seq, e.id
		if e.removed {
			page = append(page, map[string]any{"@odata.type": "#microsoft.graph.event", "id": e.id, "@removed": map[string]any{"reason": "deleted"}})
			continue
		}
		v := s.eventJSON(p, e.ev, tz, "")
		v["@odata.type"] = "#microsoft.graph.event"
		page = append(page, v)
	}
	more := i < len(entries)
	t.mu.Unlock()

	base := s.GraphURL() + strings.TrimPrefix(r.URL.Path, "/v1.0")
	out := map[string]any{"@odata.context": s.GraphURL() + "/$metadata#Collection(event)", "value": orEmpty(page)}
	if more {
		out["@odata.nextLink"] = base + "?$skiptoken=" + s.sealToken(st)
	} else {
		out["@odata.deltaLink"] = base + "?$deltatoken=" + s.sealToken(calDeltaState{Cal: st.Cal, From: st.From, To: st.To, Since: st.Upto})
	}
	writeJSON(w, http.StatusOK, out)
}
