package m365sim

import (
	"io"
	"net/http"
	"time"
)

// Outlook's upload limit: "150 megabytes (MB) upload (PATCH, POST, PUT) in
// a 5 minute period" per app ID and mailbox, beside the 4 concurrent
// requests and 10,000 requests per 10 minutes
// (learn.microsoft.com/graph/throttling-limits, "Outlook service limits").
// In the graph and graph-fast modes a mailbox whose uploads in the sliding
// window reached the limit gets 429 with Retry-After until the oldest
// upload leaves the window; request bodies are counted as they are read
// (after gzip is undone).

const (
	DefaultMailboxUploadBytes  = 150_000_000
	DefaultMailboxUploadWindow = 5 * time.Minute
)

type uploadCharge struct {
	at time.Time
	n  int64
}

func isUpload(r *http.Request) bool {
	return r.Method == http.MethodPost || r.Method == http.MethodPut || r.Method == http.MethodPatch
}

func (t *Throttle) uploadLimits() (int64, time.Duration) {
	n, w := t.cfg.MailboxUploadBytes, t.cfg.MailboxUploadWindow
	if n <= 0 {
		n = DefaultMailboxUploadBytes
	}
	if w <= 0 {
		w = DefaultMailboxUploadWindow
	}
	if t.cfg.Mode == ThrottleGraphFast {
		w = time.Duration(float64(w) / t.speed)
	}
	return n, w
}

// admitUpload refuses an upload to a mailbox whose window is full.
func (t *Throttle) admitUpload(key string) Decision {
	if t.cfg.Mode == ThrottleOff {
		return Decision{OK: true}
	}
	limit, window := t.uploadLimits()
	now := t.clock.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	cs := t.uploads[key]
	for len(cs) > 0 && !cs[0].at.After(now.Add(-window)) {
		cs = cs[1:]
	}
	if t.uploads == nil {
		t.uploads = map[string][]uploadCharge{}
	}
	t.uploads[key] = cs
	var sum int64
	for _, c := range cs {
		sum += c.n
	}
	if sum < limit {
		return Decision{OK: true}
	}
	t.stats.MailboxUploadThrottled++
	return Decision{RetryAfter: cs[0].at.Add(window).Sub(now), Code: "ApplicationThrottled", Message: "Application is over its upload volume limit for this mailbox."}
}

// chargeUpload records n bytes uploaded to a mailbox now.
func (t *Throttle) chargeUpload(key string, n int64) {
	if t.cfg.Mode == ThrottleOff || n <= 0 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.uploads == nil {
		t.uploads = map[string][]uploadCharge{}
	}
	t.uploads[key] = append(t.uploads[key], uploadCharge{at: t.clock.Now(), n: n})
}

type countingBody struct {
	io.ReadCloser
	n int64
}

func (c *countingBody) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	c.n += int64(n)
	return n, err
}
