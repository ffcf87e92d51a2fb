package processor

import (
	"slices"
	"sync"
	"time"
)

// workQueue is the in-memory list of orders to look at. The store's open-order
// index is the durable truth (recovery refills the queue from it); the queue
// only makes sure each order is handled by one worker at a time and that a
// push during handling is not lost.
type workQueue struct {
	mu     sync.Mutex
	cond   *sync.Cond
	items  []uint64
	state  map[uint64]qstate
	closed bool
}

type qstate uint8

const (
	queued  qstate = iota + 1 // waiting in items
	running                   // a worker has it
	rerun                     // a worker has it and it was pushed again
)

func newWorkQueue() *workQueue {
	q := &workQueue{state: make(map[uint64]qstate)}
	q.cond = sync.NewCond(&q.mu)
	return q
}

// push asks for the order to be looked at (again).
func (q *workQueue) push(id uint64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	switch q.state[id] {
	case queued, rerun:
		return
	case running:
		q.state[id] = rerun
		return
	}
	q.state[id] = queued
	q.items = append(q.items, id)
	q.cond.Signal()
}

// pop blocks until an order is available or the queue is closed.
func (q *workQueue) pop() (uint64, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.items) == 0 && !q.closed {
		q.cond.Wait()
	}
	if q.closed {
		return 0, false
	}
	id := q.items[0]
	q.items[0] = 0
	q.items = q.items[1:]
	if len(q.items) == 0 {
		q.items = nil // let the backing array go after a surge
	}
	q.state[id] = running
	return id, true
}

// done releases an order; if it was pushed while running it is queued again.
func (q *workQueue) done(id uint64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.state[id] == rerun && !q.closed {
		q.state[id] = queued
		q.items = append(q.items, id)
		q.cond.Signal()
		return
	}
	delete(q.state, id)
}

func (q *workQueue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items)
}

func (q *workQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.cond.Broadcast()
}

// stockWaits remembers orders waiting for a SKU's stock and when each gives
// up. version counts stock arrivals per SKU so that a worker that found no
// stock just before an import notices and looks again instead of sleeping
// through it.
type stockWaits struct {
	mu      sync.Mutex
	bySKU   map[string]map[uint64]time.Time
	version map[string]uint64
}

func newStockWaits() *stockWaits {
	return &stockWaits{bySKU: make(map[string]map[uint64]time.Time), version: make(map[string]uint64)}
}

func (w *stockWaits) current(sku string) uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.version[sku]
}

// wait registers an order; it returns false if stock arrived since seen, in
// which case the caller should look again at once.
func (w *stockWaits) wait(sku string, id uint64, until time.Time, seen uint64) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.version[sku] != seen {
		return false
	}
	m := w.bySKU[sku]
	if m == nil {
		m = make(map[uint64]time.Time)
		w.bySKU[sku] = m
	}
	m[id] = until
	return true
}

// arrived bumps the SKU's version and returns the orders that were waiting.
func (w *stockWaits) arrived(sku string) []uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.version[sku]++
	m := w.bySKU[sku]
	delete(w.bySKU, sku)
	ids := make([]uint64, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.Sort(ids) // oldest order first
	return ids
}

// forget drops an order that stopped waiting (delivered, refunded, failed).
func (w *stockWaits) forget(sku string, id uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if m := w.bySKU[sku]; m != nil {
		delete(m, id)
		if len(m) == 0 {
			delete(w.bySKU, sku)
		}
	}
}

// expired returns the orders whose wait ended by now.
func (w *stockWaits) expired(now time.Time) []uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	var ids []uint64
	for _, m := range w.bySKU {
		for id, until := range m {
			if !now.Before(until) {
				ids = append(ids, id)
			}
		}
	}
	return ids
}

// waiting counts the orders waiting for a SKU.
func (w *stockWaits) waiting(sku string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.bySKU[sku])
}
