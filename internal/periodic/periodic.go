// Package periodic is waiting under a context: a function run on a fixed
// interval until the context ends (the one loop behind every background
// sweep: health probes, the backlog check, alert repeats, the bench's
// probes), and a sleep that a cancellation cuts short.
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

// Sleep waits d, or less if ctx ends first, and then returns ctx's error
// (nil when the whole wait passed).
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
