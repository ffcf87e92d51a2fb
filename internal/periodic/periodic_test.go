package periodic_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"cardflow/internal/periodic"
)

// TestEveryCallsUntilTheContextEndsAndThenReturns: fn runs repeatedly, and
// Every returns once ctx is cancelled.
func TestEveryCallsUntilTheContextEndsAndThenReturns(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var calls atomic.Int32
	third := make(chan struct{})
	returned := make(chan struct{})
	go func() {
		periodic.Every(ctx, time.Millisecond, func() {
			if calls.Add(1) == 3 {
				close(third)
			}
		})
		close(returned)
	}()
	select {
	case <-third:
	case <-time.After(10 * time.Second):
		t.Fatalf("fn was called %d times in 10 s at a 1 ms interval", calls.Load())
	}
	cancel()
	select {
	case <-returned:
	case <-time.After(10 * time.Second):
		t.Fatal("Every did not return after its context was cancelled")
	}
}

// TestEveryWaitsAnIntervalBeforeTheFirstCall: a sweep that starts with the
// service does not run before its first interval has passed.
func TestEveryWaitsAnIntervalBeforeTheFirstCall(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	called := false
	periodic.Every(ctx, time.Hour, func() { called = true })
	if called {
		t.Fatal("fn ran before the first interval")
	}
}

// TestSleepEndsEarlyWhenTheContextEnds: a cancelled wait returns the
// context's error at once; a whole wait returns nil.
func TestSleepEndsEarlyWhenTheContextEnds(t *testing.T) {
	if err := periodic.Sleep(context.Background(), time.Millisecond); err != nil {
		t.Fatalf("a whole wait: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	if err := periodic.Sleep(ctx, time.Hour); err != context.Canceled {
		t.Fatalf("a cancelled wait returned %v, want context.Canceled", err)
	}
	if waited := time.Since(start); waited > 10*time.Second {
		t.Fatalf("a cancelled wait took %v", waited)
	}
}
