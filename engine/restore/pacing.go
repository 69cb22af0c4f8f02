package restore

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Outlook takes at most 150 MB of uploads (POST, PUT, PATCH) per app and
// mailbox in any 5 minutes (learn.microsoft.com/graph/throttling-limits,
// "Outlook service limits"); past that it answers 429 until the window
// moves on. A large mail restore therefore paces itself: before a message
// is written, its bytes are reserved in a sliding window, and when the
// window is full the restore waits, saying so in Progress.Waiting.
const (
	DefaultMailUploadLimit  = 150_000_000
	DefaultMailUploadWindow = 5 * time.Minute
	// uploadOverhead is what a message's JSON adds to its MIME size
	// (property names, extended properties, recipients).
	uploadOverhead = 2048
)

type uploadCharge struct {
	at time.Time
	n  int64
}

// uploadBudget is a sliding window of bytes uploaded to one mailbox.
type uploadBudget struct {
	limit  int64
	window time.Duration
	mu     sync.Mutex
	sent   []uploadCharge
}

// reserve waits until n bytes fit in the window, then counts them. wait is
// told how long it waits (0 when the wait is over).
func (b *uploadBudget) reserve(ctx context.Context, n int64, wait func(time.Duration)) error {
	for {
		b.mu.Lock()
		now := time.Now()
		for len(b.sent) > 0 && !b.sent[0].at.After(now.Add(-b.window)) {
			b.sent = b.sent[1:]
		}
		var sum int64
		for _, c := range b.sent {
			sum += c.n
		}
		if sum == 0 || sum+n <= b.limit {
			b.sent = append(b.sent, uploadCharge{at: now, n: n})
			b.mu.Unlock()
			return nil
		}
		d := b.sent[0].at.Add(b.window).Sub(now)
		b.mu.Unlock()
		wait(d)
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
		wait(0)
	}
}

// waitSentence explains a pacing wait to the owner.
func waitSentence(limit int64, window, d time.Duration) string {
	return fmt.Sprintf("Microsoft 365 accepts about %d MB of restored email every %s; continuing in %s.",
		max(limit/1_000_000, 1), humanDuration(window), humanDuration(d))
}

func humanDuration(d time.Duration) string {
	switch s := int((d + time.Second - 1) / time.Second); {
	case s >= 120:
		return fmt.Sprintf("%d minutes", (s+59)/60)
	case s > 1:
		return fmt.Sprintf("%d seconds", s)
	default:
		return "a second"
	}
}
