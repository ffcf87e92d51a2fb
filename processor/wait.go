package processor

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"cardflow/storage"
)

// A synchronous protocol (acg-faka's trade) answers with the keys in the
// same request, so its handler waits, for a few seconds at most, for the
// order it placed to be delivered. moveWaiters wakes such a waiter at each
// committed move of its order; the hot path pays one atomic load while
// nobody waits.
type moveWaiters struct {
	n  atomic.Int64
	mu sync.Mutex
	by map[uint64][]chan struct{}
}

func (w *moveWaiters) add(id uint64) chan struct{} {
	ch := make(chan struct{})
	w.mu.Lock()
	if w.by == nil {
		w.by = map[uint64][]chan struct{}{}
	}
	w.by[id] = append(w.by[id], ch)
	w.n.Add(1)
	w.mu.Unlock()
	return ch
}

func (w *moveWaiters) remove(id uint64, ch chan struct{}) {
	w.mu.Lock()
	defer w.mu.Unlock()
	chs := w.by[id]
	for i, c := range chs {
		if c == ch {
			w.by[id] = append(chs[:i], chs[i+1:]...)
			w.n.Add(-1)
			break
		}
	}
	if len(w.by[id]) == 0 {
		delete(w.by, id)
	}
}

// wake closes the channels of every waiter on the moved orders; each
// waiter registers afresh for the next move.
func (w *moveWaiters) wake(changes []Change) {
	if w.n.Load() == 0 || len(changes) == 0 {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, ch := range changes {
		for _, c := range w.by[ch.OrderID] {
			close(c)
			w.n.Add(-1)
		}
		delete(w.by, ch.OrderID)
	}
}

// waitPoll is how often a waiter reads its order again when several
// processes share the store: a move made by another wakes nobody here.
const waitPoll = 250 * time.Millisecond

// elsewhere fires when a waiter should read its order again for moves made
// by another process; never on a bbolt file.
func (e *Engine) elsewhere() <-chan time.Time {
	if e.node == "" {
		return nil
	}
	return time.After(waitPoll)
}

// WaitFor waits until done holds for the order, or ctx ends. It reads the
// order after each committed move, and answers the order as last read with
// ctx's error when it gives up.
func (e *Engine) WaitFor(ctx context.Context, id uint64, done func(*storage.Order) bool) (*storage.Order, error) {
	for {
		ch := e.waiters.add(id) // before the read: a move after it still wakes us
		o, err := e.Order(id)
		if err != nil || done(o) {
			e.waiters.remove(id, ch)
			return o, err
		}
		select {
		case <-ch:
		case <-e.elsewhere():
			e.waiters.remove(id, ch) // read again: another process may have moved it
		case <-ctx.Done():
			e.waiters.remove(id, ch)
			return o, ctx.Err()
		}
	}
}
