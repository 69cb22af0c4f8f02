package m365sim

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Control calls for calendars and contacts (`lifeboat sim delete-event`,
// `edit-event`, `delete-contact`, `sent`), for tests and demos that play
// "Paul deleted the meeting".
func (s *Server) controlPIMRoutes(handle func(string, func(ControlRequest) (ControlResult, error))) {
	handle("events/delete", s.ctlEventDelete)
	handle("events/edit", s.ctlEventEdit)
	handle("contacts/delete", s.ctlContactDelete)
	handle("sent", s.ctlSent)
}

// selectEvents resolves an event by ID, or the single instances and series
// whose subject contains req.Subject.
func (s *Server) selectEvents(req ControlRequest) ([]string, error) {
	if req.ID != "" {
		return []string{req.ID}, nil
	}
	if req.Subject == "" {
		return nil, fmt.Errorf("m365sim: give an event id or a subject")
	}
	evs, err := s.tenant.FindEvents(req.User, req.Subject)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, e := range evs {
		ids = append(ids, e.ID)
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("%w: no event with %q in its subject", ErrNoItem, req.Subject)
	}
	return ids, nil
}

// ctlEventDelete deletes events as their organizer would: a meeting's
// attendees are sent a cancellation (see SentMessages).
func (s *Server) ctlEventDelete(req ControlRequest) (ControlResult, error) {
	ids, err := s.selectEvents(req)
	if err != nil {
		return ControlResult{}, err
	}
	for _, id := range ids {
		if err := s.tenant.DeleteEvent(req.User, id); err != nil {
			return ControlResult{}, err
		}
	}
	return ControlResult{IDs: ids, Message: fmt.Sprintf("deleted %d event(s)", len(ids))}, nil
}

// ctlEventEdit gives the selected events the subject req.NewName.
func (s *Server) ctlEventEdit(req ControlRequest) (ControlResult, error) {
	if req.NewName == "" {
		return ControlResult{}, fmt.Errorf("m365sim: give the new subject")
	}
	ids, err := s.selectEvents(req)
	if err != nil {
		return ControlResult{}, err
	}
	subject := `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(req.NewName) + `"`
	for _, id := range ids {
		if _, err := s.tenant.UpdateEvent(req.User, id, map[string]json.RawMessage{"subject": json.RawMessage(subject)}); err != nil {
			return ControlResult{}, err
		}
	}
	return ControlResult{IDs: ids}, nil
}

func (s *Server) ctlContactDelete(req ControlRequest) (ControlResult, error) {
	ids := []string{req.ID}
	if req.ID == "" {
		cs, err := s.tenant.Contacts(req.User, "")
		if err != nil {
			return ControlResult{}, err
		}
		ids = nil
		for _, c := range cs {
			if req.Subject != "" && strings.Contains(strings.ToLower(c.Props.DisplayName), strings.ToLower(req.Subject)) {
				ids = append(ids, c.ID)
			}
		}
		if len(ids) == 0 {
			return ControlResult{}, fmt.Errorf("%w: no contact named like %q", ErrNoItem, req.Subject)
		}
	}
	for _, id := range ids {
		if err := s.tenant.DeleteContact(req.User, id); err != nil {
			return ControlResult{}, err
		}
	}
	return ControlResult{IDs: ids}, nil
}

// ctlSent counts the invitations, updates and cancellations sent.
func (s *Server) ctlSent(ControlRequest) (ControlResult, error) {
	res := ControlResult{Counts: map[string]int{}}
	for _, m := range s.tenant.SentMessages() {
		res.Counts[m.Kind]++
	}
	return res, nil
}
