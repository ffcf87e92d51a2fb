// Package periodic runs a function on a fixed interval until its context
// ends: the one loop behind every background sweep (health probes, the
// backlog check, alert repeats, the bench's probes).
package periodic

import (
	"context"
	"time"
)

// Every calls fn every d until ctx ends. The first call comes after d, not
// at once; a call that overruns d delays the next tick rather than
// stacking calls (time.Ticker drops ticks a slow receiver misses).
func Every(ctx context.Context, d time.Duration, fn func()) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fn()
		}
	}
}
