package djshop

import (
	"net/http"
	"slices"
	"sync"
	"time"
)

// book is what a shop of either protocol keeps: its procurements by its
// order number, every callback that reached it (R, its own record of one),
// every broken promise it saw, and how many callbacks it is to refuse as
// down.
type book[R any] struct {
	mu       sync.Mutex
	procs    map[string]*Procurement
	received []R
	problems []string
	failNext int
}

// Track starts a procurement the shop is about to send, as a shop writes
// its row first, so that a callback that overtakes the answer finds it.
func (b *book[R]) Track(no string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.procs == nil {
		b.procs = map[string]*Procurement{}
	}
	if _, ok := b.procs[no]; !ok {
		b.procs[no] = &Procurement{DownstreamOrderNo: no, Status: "pending"}
	}
}

// Procurement returns the shop's record of an order.
func (b *book[R]) Procurement(no string) (Procurement, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	p, ok := b.procs[no]
	if !ok {
		return Procurement{}, false
	}
	return *p, true
}

// Received lists every callback that reached the endpoint, refused ones
// included, in arrival order.
func (b *book[R]) Received() []R {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.received)
}

// Problems lists every broken promise seen so far: keys missing from a
// delivery, a second delivery with other keys, a wrong event, a callback
// the shop could not decode, an order accepted under two upstream numbers.
func (b *book[R]) Problems() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.problems)
}

// FailNext answers the next n callbacks with 503 before reading them, as a
// shop that is down would, so a sender's retries can be tested.
func (b *book[R]) FailNext(n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.failNext = n
}

// down answers a callback 503 unread, recording it as rec, while FailNext
// says the shop is down.
func (b *book[R]) down(w http.ResponseWriter, rec R) bool {
	b.mu.Lock()
	down := b.failNext > 0
	if down {
		b.failNext--
		b.received = append(b.received, rec)
	}
	b.mu.Unlock()
	if down {
		http.Error(w, "down", http.StatusServiceUnavailable)
	}
	return down
}

func (b *book[R]) record(rec R) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.received = append(b.received, rec)
}

func (b *book[R]) problem(p string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.problems = append(b.problems, p)
}

// clock is now, or the wall clock's when now is nil.
func clock(now func() time.Time) time.Time {
	if now != nil {
		return now()
	}
	return time.Now()
}

// client is c, or a shop's own 30 s client when c is nil.
func client(c *http.Client) *http.Client {
	if c != nil {
		return c
	}
	return defaultHTTP
}
