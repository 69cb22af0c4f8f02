package graph

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// Stream is a streamed download (a message's MIME or a file's bytes). It
// reads straight from the network, never holding the whole content, and
// after a reset, a stall or a truncated body it reopens the request and
// continues where it stopped: with a Range request where the server
// supports it, otherwise by skipping what it already delivered. It gives
// up after the pacer's MaxAttempts failures in a row, with ErrTransient.
// Its pacer slot is held until it is read to the end or closed: always
// Close it. A Stream is not safe for concurrent use.
type Stream struct {
	c       *Client
	ctx     context.Context
	op      string
	url     string
	ranged  bool        // ask for Range on resume
	header  http.Header // extra request headers
	body    io.ReadCloser
	pos     int64 // absolute offset of the next byte
	size    int64 // total size, -1 unknown
	fails   int   // consecutive failures
	err     error // sticky error
	closed  bool
	resumed int
	key     string // pacer resource, for events
	kind    ResourceKind
}

// Size is the content's total length, or -1 when unknown.
func (s *Stream) Size() int64 { return s.size }

// Offset is the absolute position of the next byte Read returns.
func (s *Stream) Offset() int64 { return s.pos }

// Resumes is how many times the stream was reopened after a failure.
func (s *Stream) Resumes() int { return s.resumed }

func (c *Client) openStream(ctx context.Context, op, rawURL string, ranged bool, offset int64, header http.Header) (*Stream, error) {
	s := &Stream{c: c, ctx: ctx, op: op, url: rawURL, ranged: ranged, header: header, pos: offset, size: -1}
	if req, err := http.NewRequest(http.MethodGet, rawURL, nil); err == nil {
		cl := c.classify(req)
		s.key, s.kind = cl.key, cl.kind
	}
	if err := s.open(); err != nil {
		var re *resumeError
		if errors.As(err, &re) {
			return nil, re.err
		}
		return nil, err
	}
	return s, nil
}

// open sends the request for the bytes from s.pos on.
func (s *Stream) open() error {
	req, err := http.NewRequestWithContext(s.ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return &Error{Op: s.op, Err: errors.New("invalid URL")}
	}
	for k, v := range s.header {
		req.Header[k] = v
	}
	if s.ranged && s.pos > 0 {
		req.Header.Set("Range", "bytes="+strconv.FormatInt(s.pos, 10)+"-")
	}
	resp, err := s.c.send(req, true)
	var ge *Error
	if errors.As(err, &ge) && ge.Status == http.StatusRequestedRangeNotSatisfiable && s.ranged && s.pos > 0 &&
		(s.size < 0 || s.pos >= s.size) {
		// Resuming (or starting) at the very end: nothing left to read.
		if s.size < 0 {
			s.size = s.pos
		}
		s.body = io.NopCloser(strings.NewReader(""))
		return nil
	}
	if err != nil {
		return withOp(s.op, err)
	}
	if !statusOK(resp.StatusCode) {
		_ = resp.Body.Close()
		return &resumeError{&Error{Op: s.op, Status: resp.StatusCode, Kind: ErrTransient, Err: errors.New("unexpected status")}}
	}
	skip := s.pos
	total := int64(-1)
	if resp.StatusCode == http.StatusPartialContent {
		start, tot, ok := parseContentRange(resp.Header.Get("Content-Range"))
		if !ok || start > s.pos {
			_ = resp.Body.Close()
			return &resumeError{&Error{Op: s.op, Status: resp.StatusCode, Kind: ErrTransient, Err: fmt.Errorf("unusable Content-Range %q", resp.Header.Get("Content-Range"))}}
		}
		skip = s.pos - start
		total = tot
	} else if resp.ContentLength >= 0 {
		total = resp.ContentLength
	}
	if total >= 0 {
		if s.size >= 0 && total != s.size {
			_ = resp.Body.Close()
			return &Error{Op: s.op, Kind: ErrTransient, Err: fmt.Errorf("content changed size from %d to %d while resuming", s.size, total)}
		}
		s.size = total
	}
	if skip > 0 {
		n, err := io.CopyN(io.Discard, resp.Body, skip)
		if err != nil {
			_ = resp.Body.Close()
			return &resumeError{&Error{Op: s.op, Kind: ErrTransient, Err: fmt.Errorf("skipping %d bytes to resume: read %d: %w", skip, n, cleanErr(err))}}
		}
	}
	s.body = resp.Body
	return nil
}

// resumeError is a response that came but cannot be resumed from (bad
// status or Content-Range, or a failure while skipping to the offset); the
// stream may try again. It unwraps to its *Error.
type resumeError struct{ err *Error }

func (e *resumeError) Error() string { return e.err.Error() }
func (e *resumeError) Unwrap() error { return e.err }

// parseContentRange reads "bytes start-end/total" (total may be "*").
func parseContentRange(v string) (start, total int64, ok bool) {
	rest, found := strings.CutPrefix(strings.TrimSpace(v), "bytes ")
	if !found {
		return 0, 0, false
	}
	rng, tot, found := strings.Cut(rest, "/")
	if !found {
		return 0, 0, false
	}
	first, _, found := strings.Cut(rng, "-")
	if !found {
		return 0, 0, false
	}
	start, err := strconv.ParseInt(first, 10, 64)
	if err != nil || start < 0 {
		return 0, 0, false
	}
	total = -1
	if tot != "*" {
		if total, err = strconv.ParseInt(tot, 10, 64); err != nil || total < start {
			return 0, 0, false
		}
	}
	return start, total, true
}

// Read implements io.Reader.
func (s *Stream) Read(p []byte) (int, error) {
	if s.closed {
		return 0, errors.New("graph: read from a closed stream")
	}
	if s.err != nil {
		return 0, s.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	for {
		if s.body == nil {
			if err := s.open(); err != nil {
				// send has already retried what the request itself can
				// retry; only a response unfit for resuming (resumeError)
				// is worth another go here.
				var re *resumeError
				if errors.As(err, &re) && s.ctx.Err() == nil {
					if werr := s.failed(re.err); werr != nil {
						return 0, werr
					}
					continue
				}
				s.err = err
				return 0, err
			}
		}
		n, err := s.body.Read(p)
		s.pos += int64(n)
		if n > 0 {
			s.fails = 0
		}
		if err == nil {
			return n, nil
		}
		if errors.Is(err, io.EOF) {
			if s.size < 0 || s.pos >= s.size {
				return n, io.EOF
			}
			err = io.ErrUnexpectedEOF
		}
		_ = s.body.Close()
		s.body = nil
		if cerr := s.ctx.Err(); cerr != nil {
			s.err = cerr
			return n, cerr
		}
		if werr := s.failed(&Error{Op: s.op, Kind: ErrTransient, Err: fmt.Errorf("at byte %d: %w", s.pos, cleanErr(err))}); werr != nil {
			return n, werr
		}
		if n > 0 {
			return n, nil
		}
	}
}

// failed records a failure, waits the backoff and reports an event, or
// gives up with the error when too many came in a row.
func (s *Stream) failed(e *Error) error {
	s.fails++
	e.Attempts = s.fails
	if s.fails >= s.c.pacer.cfg.MaxAttempts {
		s.err = e
		return e
	}
	s.resumed++
	wait := s.c.backoff(s.fails)
	s.c.emit(Event{Kind: EventRetrying, Resource: s.key, ResourceKind: s.kind, Wait: wait, Attempt: s.fails, Err: e.Err})
	if err := sleepCtx(s.ctx, wait); err != nil {
		s.err = err
		return err
	}
	return nil
}

// Close implements io.Closer.
func (s *Stream) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	if s.body != nil {
		err := s.body.Close()
		s.body = nil
		return err
	}
	return nil
}
