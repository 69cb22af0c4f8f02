package s3test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Request is one request as the proxy saw it. The Authorization header's
// value is not kept (it carries a signature, not a secret, but there is no
// need for it).
type Request struct {
	Method string
	Path   string
	Query  url.Values
	Header http.Header
	Body   []byte // kept only for small bodies (retention documents)
	Status int
}

// Proxy is a recording reverse proxy in front of a Server, so tests see
// exactly what Lifeboat sends over the wire. It can also answer the
// first requests that match with an error, to exercise retries.
type Proxy struct {
	// Endpoint is the proxy's address, to use instead of the server's.
	Endpoint string

	mu       sync.Mutex
	requests []Request
	fail     func(*http.Request) bool
	failLeft int
	failCode int
	shift    time.Duration
}

const maxRecordedBody = 16 << 10

// NewProxy starts a proxy in front of s for the test.
func NewProxy(t testing.TB, s *Server) *Proxy {
	t.Helper()
	target, err := url.Parse(s.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{}
	rp := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(target)
		pr.Out.Host = pr.In.Host // the V4 signature covers Host
	}, ModifyResponse: func(resp *http.Response) error {
		p.mu.Lock()
		shift := p.shift
		p.mu.Unlock()
		if d, err := http.ParseTime(resp.Header.Get("Date")); err == nil && shift != 0 {
			resp.Header.Set("Date", d.Add(shift).UTC().Format(http.TimeFormat))
		}
		return nil
	}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone()}
		rec.Header.Del("Authorization")
		if r.ContentLength >= 0 && r.ContentLength <= maxRecordedBody && r.Body != nil {
			b, _ := io.ReadAll(r.Body)
			r.Body.Close()
			rec.Body = b
			r.Body = io.NopCloser(strings.NewReader(string(b)))
		}
		p.mu.Lock()
		inject := p.fail != nil && p.failLeft > 0 && p.fail(r)
		if inject {
			p.failLeft--
		}
		code := p.failCode
		p.mu.Unlock()
		if inject {
			io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(code)
			io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>`)
			rec.Status = code
		} else {
			sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
			rp.ServeHTTP(sw, r)
			rec.Status = sw.code
		}
		p.mu.Lock()
		p.requests = append(p.requests, rec)
		p.mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	p.Endpoint = srv.URL
	return p
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) { w.code = code; w.ResponseWriter.WriteHeader(code) }

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Requests returns what was recorded so far.
func (p *Proxy) Requests() []Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.requests)
}

// Reset forgets the recorded requests.
func (p *Proxy) Reset() {
	p.mu.Lock()
	p.requests = nil
	p.mu.Unlock()
}

// FailNext answers the next n requests for which match returns true with
// HTTP code (503 SlowDown, say) instead of passing them on.
func (p *Proxy) FailNext(n, code int, match func(*http.Request) bool) {
	p.mu.Lock()
	p.fail, p.failLeft, p.failCode = match, n, code
	p.mu.Unlock()
}

// ShiftDate makes the Date header of every answer d later, as if the
// server's clock (or this computer's) were wrong by d.
func (p *Proxy) ShiftDate(d time.Duration) {
	p.mu.Lock()
	p.shift = d
	p.mu.Unlock()
}

// IsObjectPut reports a PutObject or UploadPart request.
func (r Request) IsObjectPut() bool {
	_, retention := r.Query["retention"]
	return r.Method == http.MethodPut && !retention && strings.Count(strings.Trim(r.Path, "/"), "/") >= 1
}

// IsRetentionPut reports a PutObjectRetention request.
func (r Request) IsRetentionPut() bool {
	_, ok := r.Query["retention"]
	return r.Method == http.MethodPut && ok
}
