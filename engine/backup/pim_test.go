package backup

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/graph"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
)

func pimEvent(subject, day string) m365sim.EventProps {
	return m365sim.EventProps{Subject: subject, Body: m365sim.ItemBody{ContentType: "text", Content: "About " + subject},
		Start: m365sim.DateTimeTimeZone{DateTime: day + "T10:00:00", TimeZone: "Romance Standard Time"},
		End:   m365sim.DateTimeTimeZone{DateTime: day + "T11:00:00", TimeZone: "Romance Standard Time"}}
}

// pimTenant gives Alice two calendars and two contact folders with a few
// items each.
func pimTenant(t *testing.T) *m365sim.Tenant {
	tn := simtest.SmallTenant(t)
	team, err := tn.AddCalendar(simtest.Alice, "Team")
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range []string{"Flour delivery", "Tax adviser", "Shop window"} {
		if _, err := tn.CreateEvent(simtest.Alice, "", pimEvent(s, "2026-05-0"+string(rune('1'+i)))); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := tn.CreateEvent(simtest.Alice, team.ID, pimEvent("Team lunch", "2026-05-08")); err != nil {
		t.Fatal(err)
	}
	sup, err := tn.AddContactFolder(simtest.Alice, "", "Suppliers")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"Mila Jansen", "Piet Bakker"} {
		given, sur, _ := strings.Cut(n, " ")
		if _, err := tn.AddContact(simtest.Alice, sup.ID, m365sim.ContactProps{GivenName: given, Surname: sur, CompanyName: "Flour & Co"}, []byte("\xff\xd8photo of "+n)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := tn.AddContact(simtest.Alice, "", m365sim.ContactProps{GivenName: "Noor", Surname: "de Vries"}, nil); err != nil {
		t.Fatal(err)
	}
	return tn
}

// A no-change incremental costs about one request per calendar and per
// contact folder (plus one listing of each), asserted from the request log.
func TestCalendarContactsNoChangeCost(t *testing.T) {
	e := newEnv(t, pimTenant(t), simtest.Alice)
	first := e.mustRun(func(o *Options) { o.Only = ScopeCalendar })
	e.mustRun(func(o *Options) { o.Only = ScopeContacts })
	if first.Counts.ItemsNew != 4 {
		t.Fatalf("first calendar run: %+v", first.Counts)
	}
	cals, _ := e.tn.Calendars(e.upn)
	folders, _ := e.tn.ContactFolders(e.upn)
	e.srv.Requests().Reset()
	res := e.mustRun(func(o *Options) { o.Only = ScopeCalendar })
	res2 := e.mustRun(func(o *Options) { o.Only = ScopeContacts })
	total := e.srv.Requests().Total()
	t.Logf("no-change: %d requests for %d calendars and %d contact folders:\n%s", total, len(cals), len(folders), strings.Join(e.srv.Requests().Summary(), "\n"))
	if want := len(cals) + len(folders) + 2; total > want {
		t.Errorf("a no-change run made %d requests, want at most %d", total, want)
	}
	if n := res.Counts.ItemsNew + res.Counts.ItemsChanged + res.Counts.ItemsDeleted + res2.Counts.ItemsNew + res2.Counts.ItemsChanged + res2.Counts.ItemsDeleted; n != 0 {
		t.Errorf("a no-change run changed %d items", n)
	}
	// One change is one more request (the event itself).
	evs, _ := e.tn.FindEvents(e.upn, "Tax adviser")
	if _, err := e.tn.UpdateEvent(e.upn, evs[0].ID, map[string]json.RawMessage{"subject": json.RawMessage(`"Tax adviser (bring receipts)"`)}); err != nil {
		t.Fatal(err)
	}
	e.srv.Requests().Reset()
	res = e.mustRun(func(o *Options) { o.Only = ScopeCalendar })
	if res.Counts.ItemsChanged != 1 || e.srv.Requests().Count("/events/{id}") != 1 {
		t.Errorf("one edit: %+v, %d event fetches", res.Counts, e.srv.Requests().Count("/events/{id}"))
	}
}

// Point in time: an event edited three times has four versions, and each
// holds what the event was then.
func TestEventVersions(t *testing.T) {
	e := newEnv(t, pimTenant(t), simtest.Alice)
	e.mustRun(func(o *Options) { o.Only = ScopeCalendar })
	evs, _ := e.tn.FindEvents(e.upn, "Shop window")
	id := evs[0].ID
	for _, s := range []string{"Shop window: spring", "Shop window: Easter", "Shop window: summer"} {
		if _, err := e.tn.UpdateEvent(e.upn, id, map[string]json.RawMessage{"subject": json.RawMessage(`"` + s + `"`)}); err != nil {
			t.Fatal(err)
		}
		e.mustRun(func(o *Options) { o.Only = ScopeCalendar })
	}
	vs, err := e.c.Versions(t.Context(), catalog.ItemRef{Account: e.acct.HomeID, Kind: catalog.KindEvent, ID: id})
	if err != nil || len(vs) != 4 {
		t.Fatalf("%d versions, %v", len(vs), err)
	}
	want := []string{"Shop window: summer", "Shop window: Easter", "Shop window: spring", "Shop window"}
	for i, v := range vs {
		ref, err := DecodeContent(v.Content)
		if err != nil {
			t.Fatal(err)
		}
		rc := e.r.OpenStream(t.Context(), ref)
		b, _ := io.ReadAll(rc)
		rc.Close()
		var got struct{ Subject string }
		if err := json.Unmarshal(b, &got); err != nil || got.Subject != want[i] || v.Name != want[i] {
			t.Errorf("version %d: stored %q, catalog %q, want %q (%v)", i, got.Subject, v.Name, want[i], err)
		}
	}
}

// malformer replaces the answers to matching requests.
type malformer struct {
	e     *env
	mu    sync.Mutex
	match string
	body  []byte
}

func (m *malformer) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := m.e.RoundTrip(req)
	m.mu.Lock()
	defer m.mu.Unlock()
	if err != nil || m.match == "" || !strings.Contains(req.URL.Path, m.match) || resp.StatusCode != 200 {
		return resp, err
	}
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(m.body))
	resp.ContentLength = int64(len(m.body))
	resp.Header.Del("Content-Length")
	return resp, nil
}

// An event Graph serves malformed or huge is skipped with a clear reason;
// the run completes and backs up everything else.
func TestMalformedOrHugeEventIsSkipped(t *testing.T) {
	for name, body := range map[string][]byte{
		"malformed": []byte(`{"id": "x", "subject": ["not", "a", "string"], "start": {`),
		"huge":      []byte(`{"id":"x","subject":"` + strings.Repeat("a", 17<<20) + `"}`),
		"bad zone":  []byte(`{"id":"x","start":{"dateTime":"2026-05-01T10:00:00","timeZone":"Mars Standard Time"},"end":{"dateTime":"2026-05-01T11:00:00","timeZone":"UTC"}}`),
	} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, pimTenant(t), simtest.Alice)
			evs, _ := e.tn.FindEvents(e.upn, "Tax adviser")
			m := &malformer{e: e, match: "/events/" + evs[0].ID, body: body}
			o := e.options()
			o.Only = ScopeCalendar
			o.Graph = clientWith(t, e, m)
			res, err := Run(t.Context(), o)
			if err != nil {
				t.Fatalf("the run failed: %v", err)
			}
			if res.Status != catalog.RunCompletedWithWarnings || len(res.Skipped) != 1 || !strings.Contains(res.Skipped[0].Reason, "cannot be read") ||
				res.Counts.ItemsNew != 3 {
				t.Fatalf("status %s, skipped %+v, counts %+v", res.Status, res.Skipped, res.Counts)
			}
			t.Logf("skip reason: %s", res.Skipped[0].Reason)
		})
	}
}

// clientWith is env.client over another transport.
func clientWith(t *testing.T, e *env, rt http.RoundTripper) *graph.Client {
	g, err := graph.New(graph.Options{
		GraphURL:   e.srv.GraphURL(),
		HTTPClient: &http.Client{Transport: rt},
		Auth: graph.TokenFunc(func(context.Context) (string, error) {
			tok, _, err := e.srv.IssueAccessToken(e.upn)
			return tok, err
		}),
		Account:     e.upn,
		PacerConfig: graph.PacerConfig{BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, MaxAttempts: 3},
	})
	if err != nil {
		t.Fatal(err)
	}
	return g
}
