package graph

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestClassify(t *testing.T) {
	c, err := New(Options{GraphURL: "https://graph.example/v1.0", Auth: TokenFunc(func(context.Context) (string, error) { return "t", nil }), Account: "Alice@Contoso.test", Tenant: "t1"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		method, url string
		want        reqClass
	}{
		{"GET", "https://graph.example/v1.0/me/mailFolders", reqClass{"mailbox:alice@contoso.test", ResourceMailbox, 1, true}},
		{"GET", "https://graph.example/v1.0/users/bob%40contoso.test/messages/x/$value", reqClass{"mailbox:bob@contoso.test", ResourceMailbox, 1, true}},
		{"GET", "https://graph.example/v1.0/users/BOB@contoso.test", reqClass{"mailbox:bob@contoso.test", ResourceMailbox, 1, true}},
		{"GET", "https://graph.example/v1.0/me/drive", reqClass{"drive:t1", ResourceDrive, 1, true}},
		{"GET", "https://graph.example/v1.0/drives/b!x/items/root/delta()", reqClass{"drive:t1", ResourceDrive, 2, true}},
		{"GET", "https://graph.example/v1.0/drives/b!x/root/delta?token=abc", reqClass{"drive:t1", ResourceDrive, 1, true}},
		{"GET", "https://graph.example/v1.0/drives/b!x/items/1/children", reqClass{"drive:t1", ResourceDrive, 2, true}},
		{"PUT", "https://graph.example/v1.0/drives/b!x/items/1/content", reqClass{"drive:t1", ResourceDrive, 2, true}},
		{"GET", "https://graph.example/v1.0/users", reqClass{"other", ResourceOther, 1, true}},
		{"GET", "https://contoso-my.sharepoint.com/download.aspx?tempauth=x", reqClass{"drive:t1", ResourceDrive, 1, false}},
		{"GET", "https://graph.example/v1.0x/me", reqClass{"drive:t1", ResourceDrive, 1, false}},
		{"GET", "http://graph.example/v1.0/me", reqClass{"drive:t1", ResourceDrive, 1, false}},
	} {
		r, _ := http.NewRequest(tc.method, tc.url, nil)
		if got := c.classify(r); got != tc.want {
			t.Errorf("%s %s: %+v, want %+v", tc.method, tc.url, got, tc.want)
		}
	}
}

func TestParsers(t *testing.T) {
	for _, tc := range []struct {
		in           string
		start, total int64
		ok           bool
	}{
		{"bytes 100-199/200", 100, 200, true},
		{"bytes 0-0/*", 0, -1, true},
		{"bytes */200", 0, 0, false},
		{"bytes 5-1/3", 0, 0, false},
		{"items 1-2/3", 0, 0, false},
		{"", 0, 0, false},
	} {
		s, tot, ok := parseContentRange(tc.in)
		if ok != tc.ok || ok && (s != tc.start || tot != tc.total) {
			t.Errorf("parseContentRange(%q) = %d, %d, %v", tc.in, s, tot, ok)
		}
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"30", 30 * time.Second, true},
		{"1.5", 1500 * time.Millisecond, true},
		{"-1", 0, false},
		{"soon", 0, false},
		{now.Add(10 * time.Second).Format(http.TimeFormat), 10 * time.Second, true},
	} {
		got, ok := parseRetryAfter(tc.in, now)
		if ok != tc.ok || got != tc.want {
			t.Errorf("parseRetryAfter(%q) = %v, %v", tc.in, got, ok)
		}
	}
	for d, want := range map[time.Duration]string{0: "1 s", 300 * time.Millisecond: "1 s", 30 * time.Second: "30 s", 150 * time.Second: "3 min"} {
		if got := (Event{Kind: EventThrottled, Wait: d}).String(); got != "Microsoft asked us to slow down, continuing in "+want {
			t.Errorf("wait %v: %q", d, got)
		}
	}
	u, _ := url.Parse("https://x.example/_download/1?tempauth=secret&ApiVersion=2.0")
	if r := redact(u); strings.Contains(r, "secret") || r != "https://x.example/_download/1" {
		t.Errorf("redact = %q", r)
	}
	e := &Error{Op: "download", Status: 404, Code: "itemNotFound", Kind: ErrNotFound, Attempts: 2}
	if !errors.Is(e, ErrNotFound) || errors.Is(e, ErrGone) || e.Error() != "graph: download: the item was not found (HTTP 404 itemNotFound) after 2 attempts" {
		t.Errorf("Error() = %q", e.Error())
	}
}

// TestHostileJSON feeds the delta helpers sparse and odd Graph JSON: they
// must not panic, and must skip what they cannot use.
func TestHostileJSON(t *testing.T) {
	var base string
	mux := http.NewServeMux()
	reply := func(body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(strings.ReplaceAll(body, "BASE", base)))
		}
	}
	mux.HandleFunc("/v1.0/me/mailFolders", reply(`{"value":[null,{},{"id":null},{"id":"f1","childFolderCount":null,"parentFolderId":null},{"id":"f1"}]}`))
	mux.HandleFunc("/v1.0/me/mailFolders/f1/messages/delta()", reply(`{"value":[null,{},{"id":"m1"},
		{"id":"m2","from":null,"sender":{},"toRecipients":[null,{"emailAddress":null},{"emailAddress":{"address":"a@b"}}],"flag":{},"categories":null,"receivedDateTime":null},
		{"id":"m3","@removed":{}}],"@odata.nextLink":"BASE/v1.0/me/mailFolders/f1/messages/delta()?page=2"}`))
	mux.HandleFunc("/v1.0/me/mailFolders/f2/messages/delta()", reply(`{"value":[]}`))
	mux.HandleFunc("/v1.0/me/mailFolders/f3/messages/delta()", reply(`{"value":[],"@odata.nextLink":"BASE/v1.0/me/mailFolders/f3/messages/delta()"}`))
	mux.HandleFunc("/v1.0/drives/d1/items/root/delta()", reply(`{"value":[null,{"id":"i1"},{"id":"i2","file":{"hashes":null},"parentReference":null,"fileSystemInfo":{},"deleted":{}},
		{"id":"i3","file":{},"@microsoft.graph.downloadUrl":null}],"@odata.deltaLink":"BASE/v1.0/drives/d1/items/root/delta()?token=x"}`))
	mux.HandleFunc("/v1.0/me/drive", reply(`{}`))
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("page") == "2" {
			reply(`{"value":null,"@odata.deltaLink":"BASE/v1.0/me/mailFolders/f1/messages/delta()?$deltatoken=1"}`)(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	}))
	defer ts.Close()
	base = ts.URL
	c, err := New(Options{GraphURL: ts.URL + "/v1.0", HTTPClient: ts.Client(), Auth: TokenFunc(func(context.Context) (string, error) { return "t", nil }), PacerConfig: fastRetries})
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t)
	fs, err := c.ListMailFolders(ctx, "me")
	if err != nil || len(fs) != 1 || fs[0].ID != "f1" {
		t.Errorf("ListMailFolders = %+v, %v", fs, err)
	}
	var msgs []MessageMeta
	link, err := c.MessageDelta(ctx, "me", "f1", "", func(p []MessageMeta) error { msgs = append(msgs, p...); return nil })
	if err != nil || !strings.Contains(link, "deltatoken=1") || len(msgs) != 3 || !msgs[2].Removed || msgs[1].Removed ||
		len(msgs[1].To) != 1 || msgs[1].To[0].Address != "a@b" {
		t.Errorf("MessageDelta = %+v, %q, %v", msgs, link, err)
	}
	if _, err := c.MessageDelta(ctx, "me", "f2", "", func([]MessageMeta) error { return nil }); err == nil {
		t.Error("a page without links was accepted")
	}
	if _, err := c.MessageDelta(ctx, "me", "f3", "", func([]MessageMeta) error { return nil }); err == nil {
		t.Error("a nextLink loop was accepted")
	}
	var items []DriveItem
	if _, err := c.DriveDelta(ctx, "d1", "", func(p []DriveItem) error { items = append(items, p...); return nil }); err != nil || len(items) != 3 || !items[1].Deleted {
		t.Errorf("DriveDelta = %+v, %v", items, err)
	}
	if _, err := c.GetDrive(ctx, "me"); err == nil {
		t.Error("a drive without an id was accepted")
	}
}

// TestStalledStreamResumes: a download that stops delivering is aborted
// after the stall timeout and resumed with a Range request.
func TestStalledStreamResumes(t *testing.T) {
	content := pattern(200_000, 3)
	var calls atomic.Int32
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			t.Error("download request carries Authorization")
		}
		if calls.Add(1) == 1 {
			w.Header().Set("Content-Length", strconv.Itoa(len(content)))
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write(content[:70_000])
			w.(http.Flusher).Flush()
			<-r.Context().Done() // stall until the client gives up
			return
		}
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(content))
	}))
	defer ts.Close()
	c, err := New(Options{GraphURL: "https://graph.example/v1.0", HTTPClient: ts.Client(), StallTimeout: 100 * time.Millisecond,
		Auth: TokenFunc(func(context.Context) (string, error) { return "t", nil }), PacerConfig: fastRetries})
	if err != nil {
		t.Fatal(err)
	}
	rc, err := c.OpenDownload(ctxT(t), ts.URL+"/file?tempauth=x", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, content) || rc.(*Stream).Resumes() != 1 || calls.Load() != 2 {
		t.Errorf("got %d bytes (equal %v), %d resumes, %d requests", len(b), bytes.Equal(b, content), rc.(*Stream).Resumes(), calls.Load())
	}
}

// TestRetryResendsBody: a request body without GetBody (as msgraph-sdk-go
// builds them) is sent again in full on a retry.
func TestRetryResendsBody(t *testing.T) {
	var calls atomic.Int32
	var mu sync.Mutex
	var bodies []string
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, string(b))
		mu.Unlock()
		if calls.Add(1) == 1 {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		w.WriteHeader(http.StatusCreated)
	}))
	defer ts.Close()
	c, err := New(Options{GraphURL: ts.URL + "/v1.0", HTTPClient: ts.Client(),
		Auth: TokenFunc(func(context.Context) (string, error) { return "t", nil }), PacerConfig: fastRetries})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequestWithContext(ctxT(t), http.MethodPost, ts.URL+"/v1.0/me/messages", nil)
	req.Body = io.NopCloser(strings.NewReader(`{"subject":"x"}`))
	resp, err := c.send(req, false)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	mu.Lock()
	defer mu.Unlock()
	if resp.StatusCode != http.StatusCreated || len(bodies) != 2 || bodies[1] != `{"subject":"x"}` {
		t.Errorf("status %d, bodies %q", resp.StatusCode, bodies)
	}
}
