package graph

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Kinds of failure, matched with errors.Is. An *Error unwraps to at most one
// of them.
var (
	// ErrThrottled: Microsoft kept answering 429 (or 503 with Retry-After)
	// after the pacer's retries ran out.
	ErrThrottled = errors.New("throttled: Microsoft kept asking us to slow down")
	// ErrGone: the delta link is no longer valid (410 Gone, or Outlook's
	// SyncStateNotFound/SyncStateInvalid); enumerate again. *Error.Location
	// holds the fresh enumeration link when Graph sent one.
	ErrGone = errors.New("the change history expired; a full resync is needed")
	// ErrNotFound: the item or folder does not exist (any more), e.g. it
	// was deleted between listing and download.
	ErrNotFound = errors.New("the item was not found")
	// ErrAuth: Graph refused the access token (401) or access (403), or no
	// token could be had. When the token provider said the person must sign
	// in again, its error is in the chain too (engine/auth's
	// ErrSignInRequired).
	ErrAuth = errors.New("access refused: sign-in or permission problem")
	// ErrTransient: a server error, a connection reset or a truncated body
	// that persisted through the retries.
	ErrTransient = errors.New("temporary failure talking to Microsoft")
	// ErrForbidden: Graph refused access (403): the sign-in is valid but
	// lacks the permission for this mailbox, drive or request. It is also
	// ErrAuth (errors.Is finds both), but signing in again with the same
	// permissions does not help, so a backup goes on with what it may read.
	ErrForbidden error = forbidden{}
)

type forbidden struct{}

func (forbidden) Error() string {
	return "access refused: Lifeboat was not given permission for this"
}

// Is makes ErrForbidden an ErrAuth too.
func (forbidden) Is(target error) bool { return target == ErrAuth }

// Error is a failed Graph request. Kind is one of the sentinels above (or
// nil for other client errors such as 400); Err is the underlying cause
// when there is one.
type Error struct {
	Op         string        // what was being done, e.g. "message delta"
	Status     int           // HTTP status; 0 when no response came
	Code       string        // Graph's error code, e.g. "itemNotFound"
	Message    string        // Graph's error message
	RetryAfter time.Duration // Retry-After of the last response, if any
	Location   string        // a 410's Location header (fresh delta link)
	RequestID  string        // Graph's request-id, for support
	Attempts   int           // how many times the request was sent
	// Uncertain: the request may have been carried out although no answer
	// said so (a lost response, or a server error, to a request sent with
	// sendOnce), and it was not repeated. The caller finds out.
	Uncertain bool
	Kind      error
	Err       error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("graph")
	if e.Op != "" {
		b.WriteString(": " + e.Op)
	}
	if e.Kind != nil {
		b.WriteString(": " + e.Kind.Error())
	}
	if e.Status != 0 {
		b.WriteString(" (HTTP " + strconv.Itoa(e.Status))
		if e.Code != "" {
			b.WriteString(" " + e.Code)
		}
		b.WriteString(")")
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	if e.Attempts > 1 {
		b.WriteString(" after " + strconv.Itoa(e.Attempts) + " attempts")
	}
	if e.Uncertain {
		b.WriteString(" (it may have been carried out)")
	}
	return b.String()
}

// Unwrap returns the kind and the cause, so errors.Is finds both.
func (e *Error) Unwrap() []error {
	var out []error
	if e.Kind != nil {
		out = append(out, e.Kind)
	}
	if e.Err != nil {
		out = append(out, e.Err)
	}
	return out
}

// withOp returns err with Op set when err is an *Error without one, or err
// wrapped with op otherwise. Context errors pass through unchanged (apart
// from the op) so callers can test them with errors.Is.
func withOp(op string, err error) error {
	if err == nil {
		return nil
	}
	var ge *Error
	if errors.As(err, &ge) {
		c := *ge
		if c.Op == "" {
			c.Op = op
		}
		return &c
	}
	return fmt.Errorf("graph: %s: %w", op, cleanErr(err))
}

// graphErrorBody is Graph's error envelope.
type graphErrorBody struct {
	Error struct {
		Code       string `json:"code"`
		Message    string `json:"message"`
		InnerError struct {
			RequestID string `json:"request-id"`
		} `json:"innerError"`
	} `json:"error"`
}

// maxErrorBody bounds how much of an error response is read.
const maxErrorBody = 64 << 10

// responseError builds the *Error for a failed response and closes its body.
func responseError(resp *http.Response) *Error {
	e := &Error{Status: resp.StatusCode, RequestID: resp.Header.Get("request-id")}
	e.RetryAfter, _ = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	if resp.StatusCode == http.StatusGone {
		e.Location = resp.Header.Get("Location")
	}
	if resp.Body != nil {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		_ = resp.Body.Close()
		var body graphErrorBody
		if json.Unmarshal(b, &body) == nil {
			e.Code = body.Error.Code
			e.Message = truncate(body.Error.Message, 300)
			if e.RequestID == "" {
				e.RequestID = body.Error.InnerError.RequestID
			}
		}
	}
	e.Kind = kindOf(e.Status, e.Code)
	return e
}

// kindOf maps a status and Graph error code to a sentinel.
func kindOf(status int, code string) error {
	switch {
	case status == http.StatusGone:
		return ErrGone
	case strings.EqualFold(code, "SyncStateNotFound"), strings.EqualFold(code, "SyncStateInvalid"),
		strings.EqualFold(code, "resyncRequired"):
		return ErrGone
	case status == http.StatusNotFound:
		return ErrNotFound
	case status == http.StatusForbidden:
		return ErrForbidden
	case status == http.StatusUnauthorized:
		return ErrAuth
	case status == http.StatusTooManyRequests:
		return ErrThrottled
	case status >= 500:
		return ErrTransient
	}
	return nil
}

// parseRetryAfter reads Retry-After as seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		if s < 0 || s != s {
			return 0, false
		}
		return time.Duration(s * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// uncertain says whether err is a failure after which the request may
// still have been carried out (see Error.Uncertain).
func uncertain(err error) bool {
	var ge *Error
	return errors.As(err, &ge) && ge.Uncertain
}
