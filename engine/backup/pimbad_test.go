package backup

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/lifeboat-backup/lifeboat/engine/catalog"
	"github.com/lifeboat-backup/lifeboat/engine/m365sim/simtest"
)

// itemSpoiler replaces one item of the contact delta pages Graph serves.
type itemSpoiler struct {
	e    *env
	mu   sync.Mutex
	id   string
	with json.RawMessage
}

func (s *itemSpoiler) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := s.e.RoundTrip(req)
	if err != nil || !strings.Contains(req.URL.Path, "/contacts/delta") || resp.StatusCode != 200 {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	var page map[string]json.RawMessage
	var items []map[string]json.RawMessage
	if json.Unmarshal(body, &page) == nil && json.Unmarshal(page["value"], &items) == nil {
		var out []json.RawMessage
		for _, it := range items {
			b, _ := json.Marshal(it)
			var id string
			_ = json.Unmarshal(it["id"], &id)
			s.mu.Lock()
			if id == s.id {
				b = s.with
			}
			s.mu.Unlock()
			out = append(out, b)
		}
		page["value"], _ = json.Marshal(out)
		body, _ = json.Marshal(page)
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Del("Content-Length")
	return resp, nil
}

// A contact Graph serves malformed or huge in a delta page is skipped with
// a clear reason; the run completes and backs up the other contacts.
func TestMalformedOrHugeContactIsSkipped(t *testing.T) {
	for name, body := range map[string]string{
		"malformed": `{"id":"%s","displayName":["not","a","string"],"emailAddresses":{"address":1}}`,
		"huge":      `{"id":"%s","displayName":"` + strings.Repeat("a", 17<<20) + `"}`,
	} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, pimTenant(t), simtest.Alice)
			cs, _ := e.tn.Contacts(e.upn, "")
			var id string
			for _, c := range cs {
				if c.Props.GivenName == "Noor" {
					id = c.ID
				}
			}
			sp := &itemSpoiler{e: e, id: id, with: json.RawMessage(strings.Replace(body, "%s", id, 1))}
			o := e.options()
			o.Only = ScopeContacts
			o.Graph = clientWith(t, e, sp)
			res, err := Run(t.Context(), o)
			if err != nil {
				t.Fatalf("the run failed: %v", err)
			}
			if res.Status != catalog.RunCompletedWithWarnings || len(res.Skipped) != 1 || !strings.Contains(res.Skipped[0].Reason, "cannot be read") ||
				res.Counts.ItemsNew != 2 {
				t.Fatalf("status %s, skipped %+v, counts %+v", res.Status, res.Skipped, res.Counts)
			}
			t.Logf("skip reason: %.200s", res.Skipped[0].Reason)
		})
	}
}
