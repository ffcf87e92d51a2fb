package processor

import (
	"container/heap"
	"context"
	"sync"
	"time"
)

// timers wakes the engine at set times: to query a supplier attempt (its
// attempt number set) or to look at an order again (attempt number empty).
// Times are the engine's clock; waiting uses real timers, and kick
// re-evaluates after the clock moves.
type timers struct {
	now  func() time.Time
	fire func(orderID uint64, attemptNo string)

	mu   sync.Mutex
	h    timerHeap
	set  map[timerKey]time.Time // the earliest time each key is due; later heap entries are stale
	wake chan struct{}
}

type timerKey struct {
	orderID   uint64
	attemptNo string
}

type timerEntry struct {
	at time.Time
	timerKey
}

func newTimers(now func() time.Time, fire func(uint64, string)) *timers {
	return &timers{now: now, fire: fire, set: map[timerKey]time.Time{}, wake: make(chan struct{}, 1)}
}

// at schedules a wake-up; an earlier one for the same key wins.
func (t *timers) at(when time.Time, orderID uint64, attemptNo string) {
	k := timerKey{orderID, attemptNo}
	t.mu.Lock()
	if cur, ok := t.set[k]; !ok || when.Before(cur) {
		t.set[k] = when
		heap.Push(&t.h, timerEntry{at: when, timerKey: k})
	}
	t.mu.Unlock()
	t.kick()
}

func (t *timers) kick() {
	select {
	case t.wake <- struct{}{}:
	default:
	}
}

func (t *timers) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.set)
}

func (t *timers) run(ctx context.Context) {
	tm := time.NewTimer(time.Hour)
	defer tm.Stop()
	for {
		var due []timerKey
		wait := time.Hour
		t.mu.Lock()
		now := t.now()
		for len(t.h) > 0 {
			if d := t.h[0].at.Sub(now); d > 0 {
				wait = d
				break
			}
			e := heap.Pop(&t.h).(timerEntry)
			if cur, ok := t.set[e.timerKey]; !ok || !cur.Equal(e.at) {
				continue // superseded by an earlier entry that already fired
			}
			delete(t.set, e.timerKey)
			due = append(due, e.timerKey)
		}
		t.mu.Unlock()
		for _, k := range due {
			t.fire(k.orderID, k.attemptNo)
		}
		tm.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-t.wake:
		case <-tm.C:
		}
	}
}

type timerHeap []timerEntry

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h timerHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *timerHeap) Push(x any)        { *h = append(*h, x.(timerEntry)) }
func (h *timerHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}
