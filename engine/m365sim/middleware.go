package m365sim

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Session is what a valid access token stands for.
type Session struct {
	User     *User // nil for an application (app-only) token
	ClientID string
	Scopes   []string
	Expires  time.Time
	// App marks an app-only token from the client credentials grant; Roles
	// are its application permissions (the roles claim).
	App   bool
	Roles []string
}

type ctxKey int

const sessionKey ctxKey = 1

func sessionFrom(ctx context.Context) *Session {
	s, _ := ctx.Value(sessionKey).(*Session)
	return s
}

// graphMiddleware authenticates the bearer token, then applies the
// throttling model and injected faults before the Graph handler runs.
func (s *Server) graphMiddleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		tok, ok := strings.CutPrefix(auth, "Bearer ")
		if !ok || tok == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="", authorization_uri="`+s.Authority()+`/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"`)
			writeGraphError(w, http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token is empty.")
			return
		}
		sess, err := s.idp.authenticate(tok)
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="", error="invalid_token"`)
			writeGraphError(w, http.StatusUnauthorized, "InvalidAuthenticationToken", err.Error())
			return
		}
		if !s.authorize(w, r, sess) || !s.checkQuery(w, r) {
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), sessionKey, sess))
		s.admit(w, r, s.classify(r, sess), next)
	})
}

// downloadMiddleware applies throttling and faults to pre-authenticated
// download URLs, which carry no bearer token. A download costs one
// resource unit of the app's OneDrive budget in the tenant.
func (s *Server) downloadMiddleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.admit(w, r, Resource{Kind: ResourceDrive, Key: s.driveBudgetKey(s.opts.ClientID), Units: 1, Content: true}, next)
	})
}

// driveBudgetKey names the OneDrive resource-unit budget, which SharePoint
// keeps per app per tenant.
func (s *Server) driveBudgetKey(clientID string) string { return clientID + "/" + s.tenant.ID }

// classify names what a Graph request is charged against: the app's
// Outlook limits for the mailbox it touches, or the app's OneDrive
// resource-unit budget in the tenant. Directory queries (the user list)
// are neither. /me and /users/{id} count as the user's Outlook resources,
// as Microsoft's announcement of the Outlook limits lists them.
func (s *Server) classify(r *http.Request, sess *Session) Resource {
	p := strings.TrimPrefix(r.URL.Path, "/v1.0")
	parts := strings.Split(strings.Trim(p, "/"), "/")
	mailbox := sess.ClientID + "/"
	if sess.User != nil {
		mailbox += sess.User.ID
	}
	rest := parts
	switch {
	case len(parts) >= 2 && parts[0] == "users":
		if u, err := s.tenant.User(unescapeSegment(parts[1])); err == nil {
			mailbox = sess.ClientID + "/" + u.ID
		} else {
			mailbox = sess.ClientID + "/" + strings.ToLower(unescapeSegment(parts[1]))
		}
		rest = parts[2:]
	case parts[0] == "me":
		rest = parts[1:]
	default:
		if parts[0] != "drives" {
			return Resource{Kind: ResourceOther}
		}
	}
	last := parts[len(parts)-1]
	if parts[0] == "drives" || len(rest) > 0 && (rest[0] == "drive" || rest[0] == "drives") {
		return Resource{Kind: ResourceDrive, Key: s.driveBudgetKey(sess.ClientID), Units: driveUnits(r, parts, last), Content: last == "content"}
	}
	return Resource{Kind: ResourceMailbox, Key: mailbox, Units: 1, Content: last == "$value"}
}

// driveUnits is a OneDrive request's cost in resource units, from
// SharePoint's table: 1 for a single item, a delta with a token or a
// download; 2 for a multi-item query, a delta without a token, or any
// create, update, delete or upload; 5 for permission operations.
func driveUnits(r *http.Request, parts []string, last string) int {
	q := r.URL.Query()
	if slices.Contains(parts, "permissions") || strings.Contains(strings.ToLower(q.Get("$expand")), "permissions") {
		return 5
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return 2
	}
	if strings.HasPrefix(last, "delta") {
		if q.Get("token") != "" || strings.HasPrefix(last, "delta(token=") {
			return 1
		}
		return 2
	}
	if last == "children" {
		return 2
	}
	return 1
}

// admit runs fault injection and the throttling model around next.
func (s *Server) admit(w http.ResponseWriter, r *http.Request, res Resource, next http.Handler) {
	noteResource(r, res)
	if f := s.faults.Pick(r, res); f != FaultNone {
		if s.applyFault(f, w, r, res, next) {
			return
		}
	}
	s.serveThrottled(w, r, res, next)
}

// serveThrottled admits the request through the throttling model (or
// answers 429), waits the service latency, then serves it at the model's
// bandwidth.
func (s *Server) serveThrottled(w http.ResponseWriter, r *http.Request, res Resource, next http.Handler) {
	if res.Kind == ResourceMailbox && isUpload(r) {
		if d := s.throttle.admitUpload(res.Key); !d.OK {
			w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds(d.RetryAfter)))
			writeGraphError(w, http.StatusTooManyRequests, d.Code, d.Message)
			return
		}
		cr := &countingBody{ReadCloser: r.Body}
		r.Body = cr
		defer func() { s.throttle.chargeUpload(res.Key, cr.n) }()
	}
	done, d := s.throttle.Admit(res)
	if !d.OK {
		w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds(d.RetryAfter)))
		writeGraphError(w, http.StatusTooManyRequests, d.Code, d.Message)
		return
	}
	defer done()
	if err := s.throttle.ServiceDelay(r.Context()); err != nil {
		return
	}
	next.ServeHTTP(s.throttle.Pace(r.Context(), w), r)
}

// retryAfterSeconds rounds up to whole seconds, at least 1, since
// Retry-After carries an integer.
func retryAfterSeconds(d time.Duration) int {
	secs := int((d + time.Second - 1) / time.Second)
	if secs < 1 {
		secs = 1
	}
	return secs
}
