package conformance

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

// Case is one documented example, replayed against the simulator. Its
// file under testdata/ names the documentation page it comes from.
type Case struct {
	Name  string  `json:"name"`
	Doc   DocRef  `json:"doc"`
	Notes string  `json:"notes,omitempty"`
	Steps []*Step `json:"steps"`
	file  string
}

// DocRef is where the example is published: the page on learn.microsoft.com,
// the file it is built from, and the example's name on that page.
type DocRef struct {
	Page    string `json:"page"`
	Source  string `json:"source"`
	Example string `json:"example,omitempty"`
}

// Step is one request and what the documentation says comes back.
type Step struct {
	// Do names a fixture action run before the request (fixture_test.go).
	Do       string            `json:"do,omitempty"`
	Request  Request           `json:"request"`
	Response Response          `json:"response"`
	Rules    shapeRules        `json:"rules"`
	Save     map[string]string `json:"save,omitempty"`
}

// Request is what is sent. URL starts with graph: (Graph v1.0, with an
// access token for the fixture's signed-in user unless Auth is "none";
// "app" sends an application token with Sites.Read.All instead),
// graphhost: (Graph's origin, as graph: but without /v1.0),
// login: (the identity platform's origin), or {var} (a saved URL).
type Request struct {
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Auth    string            `json:"auth,omitempty"`
	Headers map[string]string `json:"headers,omitempty"`
	JSON    any               `json:"json,omitempty"`
	Form    map[string]string `json:"form,omitempty"`
	Body    string            `json:"body,omitempty"`
	// BodySize sends that many bytes of a repeating pattern instead of
	// Body, for uploads the page describes by size.
	BodySize int `json:"bodySize,omitempty"`
}

// Response is the documented answer. Headers: a value "*" asks only for
// presence; Content-Type compares the media type; anything else must be
// equal. Body is the documented JSON, compared by shape (matchShape); Text,
// when set, is a regular expression the raw body must match instead.
type Response struct {
	Status int `json:"status"`
	// OrStatus lists other statuses the page itself gives for the same
	// call (its examples contradict each other or its text): say which
	// in the case's notes.
	OrStatus []int             `json:"orStatus,omitempty"`
	Headers  map[string]string `json:"headers,omitempty"`
	Body     any               `json:"body,omitempty"`
	Text     string            `json:"text,omitempty"`
}

func loadCases(t *testing.T) []*Case {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "*", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	var cases []*Case
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		var c Case
		if err := dec.Decode(&c); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		c.file = f
		if c.Name == "" || c.Doc.Page == "" || c.Doc.Source == "" || len(c.Steps) == 0 {
			t.Fatalf("%s: a case needs a name, doc.page, doc.source and steps", f)
		}
		cases = append(cases, &c)
	}
	if len(cases) == 0 {
		t.Fatal("no cases under testdata/")
	}
	return cases
}

// TestConformance replays every documented example under testdata/.
func TestConformance(t *testing.T) {
	hits := &routesHit{seen: map[string]bool{}}
	t.Run("cases", func(t *testing.T) {
		for _, c := range loadCases(t) {
			runCase(t, c, hits)
		}
	})
	checkCoverage(t, hits)
}

func runCase(t *testing.T, c *Case, hits *routesHit) {
	t.Run(strings.TrimSuffix(filepath.Base(c.file), ".json"), func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		defer func() {
			var routes []string
			for _, e := range f.srv.Requests().Entries() {
				routes = append(routes, e.Route)
			}
			hits.add(routes)
		}()
		for i, st := range c.Steps {
			if st.Do != "" {
				f.do(t, st.Do)
			}
			body := f.send(t, st)
			for _, d := range append(check(st, body), f.checkEqual(st, body)...) {
				t.Errorf("step %d of %q (%s): %s", i+1, c.Name, c.Doc.Page, d)
			}
			if t.Failed() {
				t.Logf("step %d request %s %s got %d: %s", i+1, st.Request.Method, st.Request.URL, body.status, truncate(body.raw))
				return
			}
			f.save(t, st, body)
		}
	})
}

// answer is what came back.
type answer struct {
	status int
	header http.Header
	raw    []byte
	json   any
}

func (f *fixture) send(t *testing.T, st *Step) *answer {
	t.Helper()
	rq := st.Request
	u := f.expand(rq.URL)
	auth := rq.Auth != "none"
	switch {
	case strings.HasPrefix(u, "graphhost:"):
		u = strings.TrimSuffix(f.srv.GraphURL(), "/v1.0") + strings.TrimPrefix(u, "graphhost:")
	case strings.HasPrefix(u, "graph:"):
		u = f.srv.GraphURL() + strings.TrimPrefix(u, "graph:")
	case strings.HasPrefix(u, "login:"):
		u = f.srv.BaseURL() + strings.TrimPrefix(u, "login:")
		auth = false
	case strings.HasPrefix(u, "https://"):
		auth = auth && strings.HasPrefix(u, f.srv.GraphURL())
	default:
		t.Fatalf("request URL %q starts with neither graph:, login: nor a saved https URL", rq.URL)
	}
	var body io.Reader
	ctype := ""
	switch {
	case rq.JSON != nil:
		b, err := json.Marshal(f.expandAny(rq.JSON))
		if err != nil {
			t.Fatal(err)
		}
		body, ctype = bytes.NewReader(b), "application/json"
	case rq.Form != nil:
		v := url.Values{}
		for k, val := range rq.Form {
			v.Set(k, f.expand(val))
		}
		body, ctype = strings.NewReader(v.Encode()), "application/x-www-form-urlencoded"
	case rq.BodySize > 0:
		body, ctype = bytes.NewReader(bytes.Repeat([]byte("0123456789abcdef"), rq.BodySize/16+1)[:rq.BodySize]), "application/octet-stream"
	case rq.Body != "":
		body, ctype = strings.NewReader(f.expand(rq.Body)), "text/plain"
	}
	req, err := http.NewRequest(rq.Method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if auth {
		tok := f.token
		if rq.Auth == "app" {
			tok = f.appToken(t) // fixture_sites_test.go
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	for k, v := range rq.Headers {
		req.Header.Set(k, f.expand(v))
	}
	// The case checks redirects itself (302 to the download URL).
	client := *f.srv.HTTPClient()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", rq.Method, u, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		t.Fatal(err)
	}
	a := &answer{status: resp.StatusCode, header: resp.Header, raw: raw}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt == "application/json" {
		if err := json.Unmarshal(raw, &a.json); err != nil {
			t.Fatalf("%s %s: the JSON body does not parse: %v", rq.Method, u, err)
		}
	}
	return a
}

// check compares an answer with the documented response.
func check(st *Step, a *answer) []string {
	var diffs []string
	want := st.Response
	if a.status != want.Status && !slices.Contains(want.OrStatus, a.status) {
		diffs = append(diffs, fmt.Sprintf("status %d, documented %d", a.status, want.Status))
	}
	for k, v := range want.Headers {
		got := a.header.Get(k)
		switch {
		case got == "":
			diffs = append(diffs, fmt.Sprintf("header %s missing", k))
		case v == "*":
		case strings.EqualFold(k, "Content-Type"):
			gm, _, _ := mime.ParseMediaType(got)
			wm, _, _ := mime.ParseMediaType(v)
			if !strings.EqualFold(gm, wm) {
				diffs = append(diffs, fmt.Sprintf("Content-Type %q, documented %q", got, v))
			}
		case got != v:
			diffs = append(diffs, fmt.Sprintf("header %s is %q, documented %q", k, got, v))
		}
	}
	if want.Text != "" {
		if ok, _ := regexp.Match(want.Text, a.raw); !ok {
			diffs = append(diffs, fmt.Sprintf("body does not match %q", want.Text))
		}
	}
	if want.Body != nil {
		if a.json == nil {
			return append(diffs, "documented a JSON body, got none")
		}
		diffs = append(diffs, matchShape(want.Body, a.json, st.Rules)...)
	}
	for _, p := range st.Rules.Absent {
		if _, ok := lookup(a.json, p); ok {
			diffs = append(diffs, fmt.Sprintf("%s: documented as absent, but present", p))
		}
	}
	return diffs
}

func (f *fixture) save(t *testing.T, st *Step, a *answer) {
	t.Helper()
	for name, from := range st.Save {
		if h, ok := strings.CutPrefix(from, "header:"); ok {
			f.vars[name] = a.header.Get(h)
			continue
		}
		v, ok := lookup(a.json, from)
		s, isStr := v.(string)
		if !ok || !isStr {
			t.Fatalf("save %s: no string at %s", name, from)
		}
		f.vars[name] = s
	}
}

func truncate(b []byte) string {
	if len(b) > 2000 {
		return string(b[:2000]) + "…"
	}
	return string(b)
}

// checkEqual compares the pointers of rules.equal with fixture values.
func (f *fixture) checkEqual(st *Step, a *answer) []string {
	var diffs []string
	for p, want := range st.Rules.Equal {
		got, ok := lookup(a.json, p)
		if s, isStr := got.(string); !ok || !isStr || s != f.expand(want) {
			diffs = append(diffs, fmt.Sprintf("%s is %v, want %s", p, got, f.expand(want)))
		}
	}
	return diffs
}
