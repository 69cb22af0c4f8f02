package orgsetup

import (
	"context"
	"time"
)

// retry calls try until it reports done or an error, pausing with
// doubling waits between attempts, for at most Wait.Timeout.
func (r *registrar) retry(ctx context.Context, what string, try func() (done bool, err error)) error {
	deadline := time.Now().Add(r.o.Wait.Timeout)
	pause := r.o.Wait.First
	for attempt := 1; ; attempt++ {
		done, err := try()
		if err != nil || done {
			return err
		}
		if time.Now().Add(pause).After(deadline) {
			r.o.Logger.Warn("orgsetup: gave up waiting for the directory", "step", what, "attempts", attempt)
			return ErrStillReplicating
		}
		if attempt == 1 {
			r.o.progress("Microsoft is still getting ready; Lifeboat waits and tries again…")
		}
		r.o.Logger.Debug("orgsetup: waiting for the directory", "step", what, "attempt", attempt, "pause", pause)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pause):
		}
		pause = min(pause*2, r.o.Wait.Max)
	}
}
