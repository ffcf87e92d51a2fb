package processor

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"cardflow/card"
	"cardflow/internal/testkit"
	"cardflow/storage"
	"cardflow/suppliers"
)

// delays lists the reasons the storefront's order.delayed callbacks for an
// order carried, in arrival order.
func (f *fixture) delays(id uint64) []string {
	var out []string
	for _, cb := range f.receiver.Callbacks(fmt.Sprint(id)) {
		if cb.Type == CallbackDelayed {
			out = append(out, cb.Order.Reason)
		}
	}
	return out
}

// drained waits until every event queued so far has been delivered (an
// event stays in the store until acknowledged). The clock moves in small
// steps meanwhile, so that a callback refused as signed too long ago is
// retried.
func (f *fixture) drained() {
	f.t.Helper()
	f.tickUntil("stored events delivered", time.Second, func() bool { return len(f.storedEvents()) == 0 })
}

// TestWaitingOrderIsToldOfEachCauseOnce: an order whose sources answer
// "out of stock" is looked at again every minute, and each look buys again
// and waits again. The storefront hears order.delayed once for that cause,
// across many looks and a restart; when the sources start refusing for
// balance (a new cause: supplier_unavailable) it hears once more, and then
// the delivery.
func TestWaitingOrderIsToldOfEachCauseOnce(t *testing.T) {
	a, b := newScripted(), newScripted()
	var (
		mu    sync.Mutex
		state = suppliers.ReasonOutOfStock // what both sources answer; "" sells
	)
	answer := func(o suppliers.Order, n int) suppliers.Result {
		mu.Lock()
		defer mu.Unlock()
		if state == "" {
			return a.succeed(o.Quantity)
		}
		return suppliers.Result{Status: suppliers.StatusFailed, Reason: state}
	}
	a.onSubmit, b.onSubmit = answer, answer
	set := func(s string) {
		mu.Lock()
		state = s
		mu.Unlock()
	}
	f := remoteFixture(t, a, b, nil)
	o := f.submit("DLY-1", "steam-50", 1, 5000)

	// lookedAgain waits until the sources were asked n more times, each
	// look ending in the same wait.
	lookedAgain := func(n int, reason string) {
		t.Helper()
		before, _ := a.calls()
		f.tickUntil(fmt.Sprintf("%d more looks waiting %s", n, reason), 10*time.Second, func() bool {
			s, _ := a.calls()
			got := f.order(o.ID)
			return s >= before+n && got.Status == storage.StatusPending && got.Reason == reason
		})
		f.drained()
	}
	lookedAgain(3, ReasonOutOfStock)
	f.restart()
	lookedAgain(3, ReasonOutOfStock)
	if got := f.delays(o.ID); len(got) != 1 || got[0] != ReasonOutOfStock {
		t.Fatalf("after 6 looks waiting out of stock, order.delayed callbacks with reasons %q; want one, out_of_stock", got)
	}

	set(suppliers.ReasonBalance)
	lookedAgain(3, ReasonSupplierUnavailable)
	if got := f.delays(o.ID); len(got) != 2 || got[1] != ReasonSupplierUnavailable {
		t.Fatalf("after a new cause and 3 looks, order.delayed callbacks with reasons %q; want out_of_stock, supplier_unavailable", got)
	}

	set("")
	f.tickUntil("delivered", 10*time.Second, func() bool { return f.order(o.ID).Status == storage.StatusDelivered })
	f.waitCallbacks(o.ID, CallbackDelayed, CallbackDelayed, CallbackDelivered)
}

// TestDuplicateCardRebuysTellTheStorefrontOnce: two purchases in a row bring
// a card already in stock; each is bought again, and the storefront hears
// one order.delayed for the cause, then the delivery.
func TestDuplicateCardRebuysTellTheStorefrontOnce(t *testing.T) {
	a, b := newScripted(), newScripted()
	f := remoteFixture(t, a, b, nil)
	f.importCards("qb-10", "KNOWN", 1)
	dup := func(o suppliers.Order, n int) suppliers.Result {
		return suppliers.Result{Status: suppliers.StatusSucceeded, Cards: []card.Card{{Number: "KNOWN-00000", Password: "x"}}}
	}
	b.onSubmit = dup
	a.onSubmit = func(o suppliers.Order, n int) suppliers.Result {
		if s, _ := a.calls(); s < 2 {
			return dup(o, n) // a, then b, bring the known card; a's second purchase sells
		}
		return a.succeed(o.Quantity)
	}
	o := f.submit("DLY-DUP", "steam-50", 1, 5000)
	got := f.waitStatus(o.ID, storage.StatusDelivered)
	bad := 0
	for _, at := range got.Attempts {
		if at.State == storage.AttemptBad {
			bad++
		}
	}
	if bad != 2 {
		t.Fatalf("%d purchases rejected for a duplicate card, want 2 (attempts %+v)", bad, got.Attempts)
	}
	// Callbacks of one order arrive in order: once the delivery is in,
	// every delay before it is too.
	testkit.Eventually(f.t, "delivered callback", func() bool { return f.receiver.Delivered(fmt.Sprint(o.ID)) })
	if got := f.receiver.Types(fmt.Sprint(o.ID)); !slices.Equal(got, []string{CallbackDelayed, CallbackDelivered}) {
		t.Fatalf("callbacks %q; want one order.delayed for the duplicate cards, then order.delivered", got)
	}
}

// TestDelayIsNewsAgainAfterTheOrderFailed: an order that waited out of
// stock until stock_wait failed; an operator retries it and it waits for
// the same cause again. The storefront last heard order.failed, so the new
// wait is told.
func TestDelayIsNewsAgainAfterTheOrderFailed(t *testing.T) {
	f := newFixture(t, nil)
	o := f.submit("DLY-RETRY", "qb-10", 1, 1000)
	testkit.Eventually(f.t, "waiting out of stock", func() bool { return f.order(o.ID).Reason == ReasonOutOfStock })
	// The storefront takes the delay before the clock jumps: signed before
	// the jump and sent after it, it would be refused as stale and wait for
	// a retry that the stopped clock never brings.
	f.waitCallbacks(o.ID, CallbackDelayed)
	f.tick(31 * time.Minute)
	f.engine.ExpireWaits()
	f.waitStatus(o.ID, storage.StatusFailed)
	f.waitCallbacks(o.ID, CallbackDelayed, CallbackFailed)
	if _, err := f.engine.Retry(storage.Actor{Name: "alice", Platform: "test"}, o.ID); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(f.t, "waiting out of stock again", func() bool {
		got := f.order(o.ID)
		return got.Status == storage.StatusPending && got.Reason == ReasonOutOfStock
	})
	f.waitCallbacks(o.ID, CallbackDelayed, CallbackFailed, CallbackDelayed)
}

// TestRemoteOutOfStockFailsAtStockWait: the sources of an order answer "out
// of stock" every time they are asked again, once a minute. Each look sends
// a purchase and waits anew, yet the wait is one wait: its deadline stays
// where the first look set it (stock_wait later), and the order ends failed
// (reason out_of_stock) once it has passed, as a wait for own stock does.
func TestRemoteOutOfStockFailsAtStockWait(t *testing.T) {
	a, b := newScripted(), newScripted()
	oos := func(o suppliers.Order, n int) suppliers.Result {
		return suppliers.Result{Status: suppliers.StatusFailed, Reason: suppliers.ReasonOutOfStock}
	}
	a.onSubmit, b.onSubmit = oos, oos
	f := remoteFixture(t, a, b, nil)
	o := f.submit("WAIT-END", "steam-50", 1, 5000)
	var deadline time.Time
	testkit.Eventually(f.t, "waiting out of stock", func() bool {
		got := f.order(o.ID)
		deadline = got.WaitUntil
		return got.Status == storage.StatusPending && got.Reason == ReasonOutOfStock
	})
	if want := o.CreatedAt.Add(30 * time.Minute); deadline.Before(want) || deadline.After(want.Add(time.Minute)) {
		t.Fatalf("the wait ends at %v, want stock_wait (30m) after %v", deadline, o.CreatedAt)
	}
	f.tickUntil("5 more looks", 10*time.Second, func() bool {
		s, _ := a.calls()
		got := f.order(o.ID)
		return s >= 6 && (got.Status == storage.StatusPending || got.Status == storage.StatusFailed)
	})
	if got := f.order(o.ID); got.Status == storage.StatusPending && !got.WaitUntil.Equal(deadline) {
		t.Fatalf("after 5 more looks the wait ends at %v, not %v: asking again restarted it", got.WaitUntil, deadline)
	}
	f.tickUntil("failed", 20*time.Second, func() bool {
		return f.order(o.ID).Status == storage.StatusFailed || f.clock.Now().Sub(o.CreatedAt) > 2*time.Hour
	})
	got := f.order(o.ID)
	if got.Status != storage.StatusFailed || got.Reason != ReasonOutOfStock {
		t.Fatalf("after %v of out of stock everywhere the order is %s (%s); want failed at stock_wait (30m)",
			f.clock.Now().Sub(o.CreatedAt), got.Status, got.Reason)
	}
	if at := got.History[len(got.History)-1].At; at.Before(deadline) {
		t.Errorf("failed at %v, before the wait's end %v", at, deadline)
	}
}
