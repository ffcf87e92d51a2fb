package processor

import (
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"cardflow/alert"
	"cardflow/internal/testkit"
	"cardflow/storage"
)

// downReceiver puts a failing switch in front of the fixture's receiver.
func downReceiver(f *fixture) *failingReceiver {
	fr := &failingReceiver{failing: true, next: f.receiver}
	f.cbServer.Config.Handler = fr
	return fr
}

func (r *failingReceiver) heal() {
	r.mu.Lock()
	r.failing = false
	r.mu.Unlock()
}

func (r *failingReceiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls
}

// storedEvents reads the unacknowledged events from the store.
func (f *fixture) storedEvents() []*storage.Event {
	var out []*storage.Event
	_ = f.store.View(func(tx *storage.Tx) error {
		return tx.Outbox().Each(func(e *storage.Event) error { out = append(out, e); return nil })
	})
	return out
}

// tick moves the clock and wakes the outbox, as time passing would.
func (f *fixture) tick(d time.Duration) {
	f.clock.Advance(d)
	f.engine.outbox.Kick()
	f.engine.timers.kick()
}

// tickUntil moves the clock by step until cond holds, as time passing would
// (each step is small enough for signed callbacks to stay valid).
func (f *fixture) tickUntil(what string, step time.Duration, cond func() bool) {
	f.t.Helper()
	testkit.Eventually(f.t, what, func() bool {
		if cond() {
			return true
		}
		f.tick(step)
		return false
	})
}

func TestCallbackRetriedWithBackoffUntilAcknowledged(t *testing.T) {
	f := newFixture(t, nil)
	down := downReceiver(f)
	f.importCards("qb-10", "BO", 1)
	o := f.submit("BO-1", "qb-10", 1, 1000)
	testkit.Eventually(f.t, "first attempt", func() bool { return down.count() >= 1 })
	testkit.Eventually(f.t, "attempt recorded", func() bool {
		ev := f.storedEvents()
		return len(ev) == 1 && ev[0].Attempts == 1
	})
	ev := f.storedEvents()[0]
	if d := ev.NextAt.Sub(f.clock.Now()); d < 900*time.Millisecond || d > 1100*time.Millisecond {
		t.Errorf("first retry in %v, want about 1s", d)
	}
	if ev.LastError == "" || ev.ID == "" {
		t.Errorf("event %+v lacks error or id", ev)
	}
	// Nothing is sent before the backoff ends, whatever wakes the outbox.
	f.engine.outbox.Kick()
	f.tick(500 * time.Millisecond)
	if down.count() != 1 {
		t.Fatalf("retried before backoff: %d calls", down.count())
	}
	f.tick(600 * time.Millisecond)
	testkit.Eventually(f.t, "second attempt", func() bool { return down.count() == 2 })
	testkit.Eventually(f.t, "backoff doubled", func() bool {
		ev := f.storedEvents()
		return len(ev) == 1 && ev[0].Attempts == 2 && ev[0].NextAt.Sub(f.clock.Now()) > 1500*time.Millisecond
	})
	down.heal()
	f.tick(3 * time.Second)
	f.waitCallbacks(o.ID, CallbackDelivered)
	f.waitOutboxEmpty()
	if n := len(f.storedEvents()); n != 0 {
		t.Errorf("%d events left in the store after acknowledgement", n)
	}
}

func TestCallbacksOfOneOrderArriveInOrder(t *testing.T) {
	f := newFixture(t, nil)
	down := downReceiver(f)
	o := f.submit("ORD-1", "jd-100", 1, 10000)
	// Wait for each failure to be recorded, not only received: a tick
	// before the dispatcher records it would schedule the retry after the
	// ticked clock, where nothing ever wakes it (a loaded CI run did this).
	headTried := func(n int) func() bool {
		return func() bool {
			for _, ev := range f.storedEvents() {
				if ev.Type == CallbackDelayed && ev.Attempts >= n {
					return true
				}
			}
			return false
		}
	}
	testkit.Eventually(f.t, "delayed attempted", headTried(1))
	f.importCards("jd-100", "ORD", 1)
	f.waitStatus(o.ID, storage.StatusDelivered)
	// The delivered event waits behind the unacknowledged delayed one.
	f.tick(10 * time.Second)
	testkit.Eventually(f.t, "retry of the head", headTried(2))
	down.heal()
	f.tick(time.Minute)
	f.waitCallbacks(o.ID, CallbackDelayed, CallbackDelivered)
}

func TestCallbackFailingForADayRaisesAlertAndResolves(t *testing.T) {
	f := newFixture(t, nil)
	down := downReceiver(f)
	f.importCards("qb-10", "DAY", 1)
	o := f.submit("DAY-1", "qb-10", 1, 1000)
	testkit.Eventually(f.t, "first attempt", func() bool { return down.count() >= 1 })
	testkit.Eventually(f.t, "attempt recorded", func() bool { return len(f.storedEvents()) == 1 && f.storedEvents()[0].Attempts == 1 })
	if f.alerts.has(alert.CallbackFailing, false, "shop") {
		t.Fatal("alert raised before 24 h")
	}
	f.tick(25 * time.Hour)
	testkit.Eventually(f.t, "alert after a day", func() bool { return f.alerts.has(alert.CallbackFailing, false, "shop") })
	down.heal()
	f.tick(2 * time.Hour)
	f.waitCallbacks(o.ID, CallbackDelivered)
	testkit.Eventually(f.t, "alert resolved", func() bool { return f.alerts.has(alert.CallbackFailing, true, "shop") })
}

func TestUnacknowledgedCallbacksSurviveRestartWithTheirEventID(t *testing.T) {
	f := newFixture(t, nil)
	down := downReceiver(f)
	f.importCards("qb-10", "RS", 1)
	o := f.submit("RS-1", "qb-10", 1, 1000)
	testkit.Eventually(f.t, "attempt recorded", func() bool { return len(f.storedEvents()) == 1 && f.storedEvents()[0].Attempts == 1 })
	before := f.storedEvents()[0].ID
	f.restart()
	if ev := f.storedEvents(); len(ev) != 1 || ev[0].ID != before {
		t.Fatalf("after restart: %+v, want the same event %s", ev, before)
	}
	down.heal()
	f.tick(time.Minute)
	f.waitCallbacks(o.ID, CallbackDelivered)
	if got := f.receiver.Stats(); got.Accepted != 1 {
		t.Errorf("receiver accepted %d callbacks, want 1", got.Accepted)
	}
}

// TestOutboxHoldsAtMostItsCapInMemory: with the storefront down, 45
// callbacks pile up against a cap of 8 in memory; the rest wait in the
// store, across a restart too. When the storefront is back every callback
// arrives once, an order's two callbacks in order, and memory never holds
// more than the cap.
func TestOutboxHoldsAtMostItsCapInMemory(t *testing.T) {
	const memCap = 8
	f := newFixture(t, func(o *Options) { o.OutboxInMemory = memCap })
	down := downReceiver(f)
	f.importCards("qb-10", "SP", 40)
	var ids []uint64
	for i := range 40 {
		ids = append(ids, f.submit(fmt.Sprintf("SP-%02d", i), "qb-10", 1, 1000).ID)
	}
	for _, id := range ids[:5] { // refunded after the sale: a second callback in the lane
		if _, err := f.engine.Refund(alice, id, "buyer asked"); err != nil {
			t.Fatal(err)
		}
	}
	maxSeen := 0
	check := func(when string) {
		t.Helper()
		n := f.engine.outbox.InMemory()
		maxSeen = max(maxSeen, n)
		if n > memCap {
			t.Fatalf("%s: %d events in memory, cap %d", when, n, memCap)
		}
	}
	check("storefront down")
	if got := f.engine.Backlog(); got != 45 {
		t.Fatalf("backlog = %d, want 45 (every unacknowledged event, in memory or not)", got)
	}
	f.restart()
	check("after a restart")
	if got := f.engine.Backlog(); got != 45 {
		t.Fatalf("backlog after restart = %d, want 45", got)
	}
	down.heal()
	f.tickUntil("every callback delivered", 100*time.Millisecond, func() bool {
		check("draining")
		return f.engine.Backlog() == 0
	})
	for i, id := range ids {
		if i < 5 {
			f.waitCallbacks(id, CallbackDelivered, CallbackRefunded)
		} else {
			f.waitCallbacks(id, CallbackDelivered)
		}
	}
	if len(f.storedEvents()) != 0 {
		t.Fatal("acknowledged events left in the store")
	}
	if maxSeen < memCap/2 {
		t.Errorf("at most %d events in memory: the cap was never reached, the test proved little", maxSeen)
	}
}

// TestAnAnswerWaitingForItsCommitHoldsNoSend: 100 orders' callbacks, the
// storefront holding each until let go; the first 64 (the callbacks'
// sends at once) reach it. Then the store's writer is held, so that no
// answer can be recorded, and the storefront lets them go: the other 36
// are sent while the 64 answers wait. When every answer held its send
// until its commit, the 36 waited for the writer: under load, callbacks
// went out 64 a commit, seconds behind the orders.
func TestAnAnswerWaitingForItsCommitHoldsNoSend(t *testing.T) {
	f := newFixture(t, nil)
	gate := &gatedReceiver{open: make(chan struct{}), next: f.receiver}
	f.cbServer.Config.Handler = gate
	f.importCards("qb-10", "AW", 100)
	var ids []uint64
	for i := range 100 {
		ids = append(ids, f.submit(fmt.Sprintf("AW-%03d", i), "qb-10", 1, 1000).ID)
	}
	var opened sync.Once
	openGate := func() { opened.Do(func() { close(gate.open) }) }
	t.Cleanup(openGate) // a failed check must not leave sends hanging for the engine's stop
	testkit.Eventually(t, "64 callbacks at the storefront", func() bool { return gate.seen.Load() == 64 })
	held, release := make(chan struct{}), make(chan struct{})
	var released sync.Once
	releaseWriter := func() { released.Do(func() { close(release) }) }
	t.Cleanup(releaseWriter)
	writer := make(chan error, 1)
	go func() {
		writer <- f.store.Update(func(*storage.Tx) error { close(held); <-release; return nil })
	}()
	<-held
	openGate()
	sentAll := testkit.Poll(10*time.Second, 10*time.Millisecond, func() bool { return gate.seen.Load() == 100 })
	releaseWriter()
	if err := <-writer; err != nil {
		t.Fatal(err)
	}
	if !sentAll {
		t.Fatalf("%d of 100 callbacks sent in 10 s while the writer was held", gate.seen.Load())
	}
	for _, id := range ids {
		f.waitCallbacks(id, CallbackDelivered)
	}
	f.waitOutboxEmpty()
	if n := gate.seen.Load(); n != 100 {
		t.Errorf("the storefront was called %d times for 100 callbacks", n)
	}
}

// gatedReceiver counts the callbacks that reach it and holds each until
// open is closed.
type gatedReceiver struct {
	seen atomic.Int32
	open chan struct{}
	next http.Handler
}

func (g *gatedReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.seen.Add(1)
	<-g.open
	g.next.ServeHTTP(w, r)
}
