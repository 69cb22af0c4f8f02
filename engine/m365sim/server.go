package m365sim

import (
	"compress/gzip"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// DefaultClientID is the application (client) ID the simulator accepts when
// none is configured. It is the same GUID shape Entra ID issues.
const DefaultClientID = "5b1f0a1e-0c7a-4c55-9d7e-11fe0a7b0a51"

// Options configures a simulator server. The zero value of every field is a
// sensible default.
type Options struct {
	// Listen is the TCP address; default "127.0.0.1:0" (any free port).
	Listen string
	// ClientID is the only client ID the identity provider accepts.
	ClientID string
	// ConsentedPermissions are the delegated Graph permissions granted
	// to the application (what "/.default" and IssueAccessToken give);
	// default User.Read Mail.ReadWrite Files.ReadWrite.All
	// Calendars.ReadWrite Contacts.ReadWrite, what Lifeboat asks for. A
	// tenant whose administrator granted more (a directory read for a
	// third-party client, say) lists them here.
	ConsentedPermissions []string
	// AutoApprove, when > 0, approves each device code as the first user
	// after this delay, as if a person had signed in. When 0, codes wait
	// for /devicelogin or Server.ApproveDeviceCode.
	AutoApprove time.Duration
	// AutoApproveUser is the user (UPN) auto-approval signs in; default the
	// tenant's first user.
	AutoApproveUser string
	// AccessTokenLifetime defaults to one hour, as Entra ID's default.
	AccessTokenLifetime time.Duration
	// RefreshTokenLifetime defaults to 90 days.
	RefreshTokenLifetime time.Duration
	// DeviceCodeLifetime defaults to 15 minutes.
	DeviceCodeLifetime time.Duration
	// DeviceCodeInterval is the polling interval the device code endpoint
	// advertises; default 5 s.
	DeviceCodeInterval time.Duration
	// DownloadURLLifetime is how long a @microsoft.graph.downloadUrl
	// works; default DefaultDownloadURLLifetime ("a few minutes").
	DownloadURLLifetime time.Duration
	// Throttle selects the throttling model; default off.
	Throttle ThrottleConfig
	// Faults injects failures; default none.
	Faults FaultConfig
	// Logger receives one debug line per request; default discards.
	Logger *slog.Logger
	// DirectoryReplicationDelay simulates Entra ID's eventually consistent
	// directory: for this long after an application is created, the token
	// endpoint does not know it (AADSTS700016) and POST /servicePrincipals
	// for it answers 400 NoBackingApplicationObject. Default 0.
	DirectoryReplicationDelay time.Duration
	// RoleReplicationDelay is how long a just-granted application
	// permission stays missing from new tokens' roles claim. Default 0.
	RoleReplicationDelay time.Duration
	// MicrosoftHosts publishes every URL under Microsoft's host names
	// (hosts.go) instead of the listener's address, for unmodified
	// third-party clients that resolve those names to the listener in a
	// private hosts file. Listen then defaults to 127.0.0.1:443.
	MicrosoftHosts bool
}

func (o *Options) setDefaults() {
	if o.Listen == "" && o.MicrosoftHosts {
		o.Listen = "127.0.0.1:443"
	}
	if o.Listen == "" {
		o.Listen = "127.0.0.1:0"
	}
	if o.ClientID == "" {
		o.ClientID = DefaultClientID
	}
	if o.AccessTokenLifetime == 0 {
		o.AccessTokenLifetime = time.Hour
	}
	if o.RefreshTokenLifetime == 0 {
		o.RefreshTokenLifetime = 90 * 24 * time.Hour
	}
	if o.DeviceCodeLifetime == 0 {
		o.DeviceCodeLifetime = 15 * time.Minute
	}
	if o.DeviceCodeInterval == 0 {
		o.DeviceCodeInterval = 5 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.DownloadURLLifetime <= 0 {
		o.DownloadURLLifetime = DefaultDownloadURLLifetime
	}
}

// Server is a running simulator: identity provider, Graph API, download
// host and control API on one TLS listener.
type Server struct {
	opts     Options
	tenant   *Tenant
	ca       *certAuthority
	ln       net.Listener
	http     *http.Server
	base     string // https://127.0.0.1:PORT
	orig     origins
	idp      *identity
	throttle *Throttle
	faults   *Faults
	reqlog   *RequestLog
	control  string // bearer secret for /_sim/
	client   *http.Client
	uploads  *uploadSessions
	wg       sync.WaitGroup
	closeMu  sync.Mutex
	closed   bool
}

// NewServer starts a simulator for the tenant. Close stops it.
func NewServer(t *Tenant, opts Options) (*Server, error) {
	opts.setDefaults()
	if t == nil {
		return nil, errors.New("m365sim: no tenant")
	}
	if len(t.Users()) == 0 {
		return nil, errors.New("m365sim: the tenant has no users")
	}
	var names []string
	if opts.MicrosoftHosts {
		names = microsoftHostNames(t)
	}
	ca, err := newCertAuthority(names...)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", opts.Listen)
	if err != nil {
		return nil, fmt.Errorf("m365sim: listen %s: %w", opts.Listen, err)
	}
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	s := &Server{
		opts:    opts,
		tenant:  t,
		ca:      ca,
		ln:      ln,
		base:    "https://" + host + ":" + port,
		reqlog:  newRequestLog(),
		control: randomToken(24),
		client:  ca.client(),
		uploads: newUploadSessions(),
	}
	s.orig = loopbackOrigins(s.base)
	if opts.MicrosoftHosts {
		s.orig = microsoftOrigins(t, port)
	}
	s.throttle = NewThrottle(opts.Throttle)
	s.faults = NewFaults(opts.Faults)
	s.idp, err = newIdentity(s)
	if err != nil {
		ln.Close()
		return nil, err
	}
	s.http = &http.Server{
		Handler:           s.routes(),
		ReadHeaderTimeout: 30 * time.Second,
		ErrorLog:          slog.NewLogLogger(opts.Logger.Handler(), slog.LevelDebug),
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{ca.leaf}, MinVersion: tls.VersionTLS12},
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := s.http.ServeTLS(ln, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
			opts.Logger.Error("m365sim: serve", "err", err)
		}
	}()
	return s, nil
}

// Close stops the server and waits for it.
func (s *Server) Close() error {
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	s.client.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.http.Shutdown(ctx)
	if err != nil {
		err = s.http.Close()
	}
	s.wg.Wait()
	return err
}

// Tenant returns the simulated tenant, for tests to change it while serving.
func (s *Server) Tenant() *Tenant { return s.tenant }

// BaseURL is the listener's origin, https://127.0.0.1:PORT, where the
// control API is (in MicrosoftHosts mode too).
func (s *Server) BaseURL() string { return s.base }

// GraphURL is the Graph v1.0 base URL to give msgraph-sdk-go.
func (s *Server) GraphURL() string { return s.orig.graph + "/v1.0" }

// Authority is the MSAL authority URL for the tenant ("organizations", like
// Microsoft's multi-tenant default).
func (s *Server) Authority() string { return s.orig.login + "/organizations" }

// ClientID is the accepted application ID.
func (s *Server) ClientID() string { return s.opts.ClientID }

// CACertPEM is the PEM of the CA that signed the server certificate.
func (s *Server) CACertPEM() []byte { return s.ca.certPEM }

// HTTPClient returns the shared client that trusts the simulator's CA and
// nothing else, with no overall timeout (long transfers use contexts).
// Close closes its idle connections, so shutdown does not wait for them.
func (s *Server) HTTPClient() *http.Client { return s.client }

// Requests is the request log.
func (s *Server) Requests() *RequestLog { return s.reqlog }

// ThrottleModel is the throttling model in effect.
func (s *Server) ThrottleModel() *Throttle { return s.throttle }

// FaultInjector is the fault injector in effect.
func (s *Server) FaultInjector() *Faults { return s.faults }

// ControlToken is the bearer secret the control API under /_sim/ requires.
func (s *Server) ControlToken() string { return s.control }

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/v1.0/", s.graphMiddleware(http.StripPrefix("/v1.0", s.graphRoutes())))
	mux.Handle("/_download/", s.downloadMiddleware(http.HandlerFunc(s.handleDownload)))
	mux.Handle("/_upload/", http.HandlerFunc(s.handleUpload))
	mux.Handle("/_sim/", s.controlRoutes())
	mux.HandleFunc("/devicelogin", s.idp.handleDeviceLogin)
	mux.HandleFunc("/oidc/userinfo", s.handleUserInfo)
	mux.Handle("/", s.idp.routes())
	return s.logRequests(gunzipBodies(mux))
}

// gunzipBodies accepts gzip request bodies: msgraph-sdk-go compresses
// request bodies by default and Graph accepts them.
func gunzipBodies(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.EqualFold(r.Header.Get("Content-Encoding"), "gzip") && r.Body != nil {
			zr, err := gzip.NewReader(r.Body)
			if err != nil {
				writeGraphError(w, http.StatusBadRequest, "BadRequest", "request body is not valid gzip")
				return
			}
			defer zr.Close()
			r.Body = io.NopCloser(zr)
			r.Header.Del("Content-Encoding")
			r.ContentLength = -1
		}
		next.ServeHTTP(w, r)
	})
}

// statusWriter records what the handler answered, for the request log.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(p)
	w.bytes += int64(n)
	return n, err
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		slot := &resourceSlot{}
		next.ServeHTTP(sw, r.WithContext(context.WithValue(r.Context(), resourceSlotKey{}, slot)))
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		route := routeOf(r)
		s.reqlog.add(LoggedRequest{Time: start, Method: r.Method, Route: route, Path: r.URL.Path, Status: sw.status, Bytes: sw.bytes, Duration: time.Since(start), Resource: slot.res})
		// Query strings carry codes and tokens on some endpoints: log the path only.
		s.opts.Logger.Debug("m365sim request", "method", r.Method, "route", route, "status", sw.status, "bytes", sw.bytes)
	})
}

// ---- JSON helpers ----

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; odata.metadata=minimal; odata.streaming=true; IEEE754Compatible=false; charset=utf-8")
	w.Header().Set("request-id", newGUID())
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// writeGraphError writes Graph's error envelope.
func writeGraphError(w http.ResponseWriter, status int, code, message string) {
	rid := newGUID()
	writeJSON(w, status, map[string]any{
		"error": map[string]any{
			"code":    code,
			"message": message,
			"innerError": map[string]any{
				"date":              time.Now().UTC().Format("2006-01-02T15:04:05"),
				"request-id":        rid,
				"client-request-id": rid,
			},
		},
	})
}

// graphTime formats a timestamp as Graph does (UTC, second precision, Z).
func graphTime(t time.Time) string {
	if t.IsZero() {
		return "0001-01-01T00:00:00Z"
	}
	return t.UTC().Format("2006-01-02T15:04:05Z")
}
