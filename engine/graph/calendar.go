package graph

// Calendars and events, read and written as Graph's own JSON.
//
// A backup keeps each event exactly as Graph served it (the faithful
// copy), so these calls are native requests that hand back the response
// bytes rather than msgraph-sdk-go models, which would drop what the SDK
// does not know. Graph v1.0 documents delta for events only on the
// primary calendar's calendarView, bounded by a date window and expanded
// into occurrences (learn.microsoft.com/graph/api/event-delta); events/delta
// per calendar is beta. So a backup lists each calendar's events (single
// instances and series masters) with only id and changeKey — one request
// per calendar for up to 1000 events — and fetches those whose changeKey
// moved; an exception or cancelled occurrence changes its master
// (MS-OXOCAL keeps exceptions inside the master).

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// eventListPage is $top of event listings: Outlook's largest page.
const eventListPage = 1000

// Calendar is one calendar of a mailbox.
type Calendar struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	IsDefault bool   `json:"isDefaultCalendar"`
}

// EventStamp is what an event listing says of an event.
type EventStamp struct {
	ID        string `json:"id"`
	ChangeKey string `json:"changeKey"`
	Type      string `json:"type"`
}

// getJSON GETs a Graph URL (absolute, or a path below GraphURL) and
// returns the body.
func (c *Client) getJSON(ctx context.Context, op, u string, hdr ...string) ([]byte, error) {
	if !strings.HasPrefix(u, "https://") {
		u = c.opts.GraphURL + u
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, &Error{Op: op, Err: errors.New("invalid URL")}
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.send(req, false)
	if err != nil {
		return nil, withOp(op, err)
	}
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}

// sendJSON sends body (JSON) with method to a path below GraphURL and
// returns the response body. once marks a create that must not be
// repeated blindly (see sendChecked).
func (c *Client) sendJSON(ctx context.Context, op, method, path string, body any, once bool) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		b, ok := body.([]byte)
		if !ok {
			var err error
			if b, err = json.Marshal(body); err != nil {
				return nil, fmt.Errorf("graph: %s: %w", op, err)
			}
		}
		rd = bytes.NewReader(b)
	}
	if once {
		ctx = sendOnce(ctx)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.opts.GraphURL+path, rd)
	if err != nil {
		return nil, &Error{Op: op, Err: errors.New("invalid URL")}
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.send(req, false)
	if err != nil {
		return nil, withOp(op, err)
	}
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}

// pages follows a collection's @odata.nextLink from first, handing each
// page's raw values to fn.
func (c *Client) pages(ctx context.Context, op, first string, fn func(values []json.RawMessage) error, hdr ...string) error {
	link := first
	for n := 0; link != ""; n++ {
		b, err := c.getJSON(ctx, op, link, hdr...)
		if err != nil {
			return err
		}
		var page struct {
			Value []json.RawMessage `json:"value"`
			Next  string            `json:"@odata.nextLink"`
		}
		if err := json.Unmarshal(b, &page); err != nil {
			return &Error{Op: op, Kind: ErrTransient, Err: fmt.Errorf("the answer is not a collection: %w", err)}
		}
		if err := fn(page.Value); err != nil {
			return err
		}
		if page.Next == link || n > 100000 {
			return &Error{Op: op, Err: errors.New("nextLink repeats itself")}
		}
		link = page.Next
	}
	return nil
}

// ListCalendars returns every calendar of the mailbox.
func (c *Client) ListCalendars(ctx context.Context, user string) ([]Calendar, error) {
	var out []Calendar
	err := c.pages(ctx, "list calendars", userPath(user)+"/calendars?$select=id,name,isDefaultCalendar&$top=250", func(vs []json.RawMessage) error {
		for _, v := range vs {
			var cal Calendar
			if json.Unmarshal(v, &cal) == nil && cal.ID != "" {
				out = append(out, cal)
			}
		}
		return nil
	})
	return out, err
}

// ListEventStamps lists a calendar's single instances and series masters
// with their changeKeys.
func (c *Client) ListEventStamps(ctx context.Context, user, calendarID string) ([]EventStamp, error) {
	var out []EventStamp
	u := fmt.Sprintf("%s/calendars/%s/events?$select=id,changeKey,type&$top=%d", userPath(user), url.PathEscape(calendarID), eventListPage)
	err := c.pages(ctx, "list events", u, func(vs []json.RawMessage) error {
		for _, v := range vs {
			var s EventStamp
			if json.Unmarshal(v, &s) == nil && s.ID != "" {
				out = append(out, s)
			}
		}
		return nil
	})
	return out, err
}

// GetEvent returns an event's JSON as Graph serves it, with a series'
// exceptions expanded (exceptionOccurrences). Times are in UTC; the
// event's own zones are in originalStartTimeZone / originalEndTimeZone.
func (c *Client) GetEvent(ctx context.Context, user, eventID string) ([]byte, error) {
	return c.getJSON(ctx, "get event", userPath(user)+"/events/"+url.PathEscape(eventID)+"?$expand=exceptionOccurrences")
}

// GetEventAttachments returns the attachments of an event (or exception)
// as Graph serves them, contentBytes included.
func (c *Client) GetEventAttachments(ctx context.Context, user, eventID string) ([]json.RawMessage, error) {
	var out []json.RawMessage
	err := c.pages(ctx, "list event attachments", userPath(user)+"/events/"+url.PathEscape(eventID)+"/attachments", func(vs []json.RawMessage) error {
		out = append(out, vs...)
		return nil
	})
	return out, err
}

// EnsureCalendar returns the calendar named name, creating it if needed.
func (c *Client) EnsureCalendar(ctx context.Context, user, name string) (Calendar, error) {
	find := func() (Calendar, bool, error) {
		cs, err := c.ListCalendars(ctx, user)
		for _, cal := range cs {
			if strings.EqualFold(strings.TrimSpace(cal.Name), strings.TrimSpace(name)) {
				return cal, true, nil
			}
		}
		return Calendar{}, false, err
	}
	if cal, ok, err := find(); ok || err != nil {
		return cal, err
	}
	b, err := c.sendJSON(ctx, "create calendar", http.MethodPost, userPath(user)+"/calendars", map[string]string{"name": name}, false)
	if err != nil {
		var ge *Error
		if errors.As(err, &ge) && ge.Status == http.StatusConflict {
			if cal, ok, ferr := find(); ok || ferr != nil {
				return cal, ferr
			}
		}
		return Calendar{}, err
	}
	var cal Calendar
	if err := json.Unmarshal(b, &cal); err != nil || cal.ID == "" {
		return Calendar{}, &Error{Op: "create calendar", Kind: ErrTransient, Err: errors.New("no calendar in the answer")}
	}
	return cal, nil
}

// CreateEvent creates an event in a calendar from its JSON and returns the
// new event's JSON. body must carry a transactionId: Graph answers a
// repeated POST with the event that transactionId made, so a create whose
// answer was lost is simply sent again (sendChecked), never doubled.
func (c *Client) CreateEvent(ctx context.Context, user, calendarID string, body map[string]any) ([]byte, error) {
	if tid, _ := body["transactionId"].(string); tid == "" {
		return nil, errors.New("graph: create event: no transactionId")
	}
	var out []byte
	err := c.sendChecked(ctx, "create event", func(ctx context.Context) error {
		b, err := c.sendJSON(ctx, "create event", http.MethodPost, userPath(user)+"/calendars/"+url.PathEscape(calendarID)+"/events", body, true)
		out = b
		return err
	}, func() (bool, error) { return false, nil })
	return out, err
}

// UpdateEvent PATCHes an event (or an occurrence, making it an exception).
func (c *Client) UpdateEvent(ctx context.Context, user, eventID string, patch map[string]any) error {
	_, err := c.sendJSON(ctx, "update event", http.MethodPatch, userPath(user)+"/events/"+url.PathEscape(eventID), patch, false)
	return err
}

// DeleteEvent deletes an event or one occurrence of a series. On an event
// with attendees this sends them a cancellation: restores only delete
// occurrences of the appointments they made.
func (c *Client) DeleteEvent(ctx context.Context, user, eventID string) error {
	_, err := c.sendJSON(ctx, "delete event", http.MethodDelete, userPath(user)+"/events/"+url.PathEscape(eventID), nil, false)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// Instance is one occurrence (or exception) of a series.
type Instance struct {
	ID            string    `json:"id"`
	Type          string    `json:"type"`
	OriginalStart time.Time `json:"originalStart"`
}

// ListInstances lists a series' occurrences and exceptions whose start is
// in [from, to).
func (c *Client) ListInstances(ctx context.Context, user, masterID string, from, to time.Time) ([]Instance, error) {
	var out []Instance
	u := fmt.Sprintf("%s/events/%s/instances?startDateTime=%s&endDateTime=%s&$select=id,type,originalStart&$top=%d", userPath(user), url.PathEscape(masterID),
		url.QueryEscape(from.UTC().Format(time.RFC3339)), url.QueryEscape(to.UTC().Format(time.RFC3339)), eventListPage)
	err := c.pages(ctx, "list occurrences", u, func(vs []json.RawMessage) error {
		for _, v := range vs {
			var in Instance
			if json.Unmarshal(v, &in) == nil && in.ID != "" {
				out = append(out, in)
			}
		}
		return nil
	})
	return out, err
}

// AddEventAttachment attaches a file (at most 3 MB) to an event. A POST
// whose answer was lost is recognised by counting the event's attachments,
// as for messages.
func (c *Client) AddEventAttachment(ctx context.Context, user, eventID string, have int, att map[string]any) error {
	path := userPath(user) + "/events/" + url.PathEscape(eventID) + "/attachments"
	return c.sendChecked(ctx, "add event attachment", func(ctx context.Context) error {
		_, err := c.sendJSON(ctx, "add event attachment", http.MethodPost, path, att, true)
		return err
	}, func() (bool, error) {
		list, err := c.GetEventAttachments(ctx, user, eventID)
		if err == nil && len(list) != have && len(list) != have+1 {
			err = fmt.Errorf("the event has %d attachments, expected %d or %d", len(list), have, have+1)
		}
		return len(list) == have+1, err
	})
}
