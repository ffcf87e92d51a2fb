package processor

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"cardflow/alert"
	"cardflow/card"
	"cardflow/config"
	"cardflow/internal/testkit"
	"cardflow/processor/view"
	"cardflow/storage"
	"cardflow/suppliers"
)

// scripted is a supplier whose answers a test writes. It records every
// call, so tests can prove an order was never bought twice.
type scripted struct {
	mu       sync.Mutex
	submits  map[string]int // purchase number → Submit calls
	queries  map[string]int
	orders   []suppliers.Order
	onSubmit func(o suppliers.Order, n int) suppliers.Result
	onQuery  func(no string, n int) suppliers.Result
	issued   int
}

func newScripted() *scripted {
	return &scripted{submits: map[string]int{}, queries: map[string]int{}}
}

func (s *scripted) Submit(ctx context.Context, o suppliers.Order) suppliers.Result {
	s.mu.Lock()
	s.submits[o.No]++
	n := s.submits[o.No]
	s.orders = append(s.orders, o)
	f := s.onSubmit
	s.mu.Unlock()
	if f == nil {
		return s.succeed(o.Quantity)
	}
	return f(o, n)
}

func (s *scripted) Query(ctx context.Context, no string) suppliers.Result {
	s.mu.Lock()
	s.queries[no]++
	n := s.queries[no]
	f := s.onQuery
	s.mu.Unlock()
	if f == nil {
		return suppliers.Result{Status: suppliers.StatusNotFound}
	}
	return f(no, n)
}

// succeed issues n fresh cards.
func (s *scripted) succeed(n int) suppliers.Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	cards := make([]card.Card, n)
	for i := range cards {
		s.issued++
		cards[i] = card.Card{Number: fmt.Sprintf("SUP-%p-%06d", s, s.issued), Password: "pw"}
	}
	return suppliers.Result{Status: suppliers.StatusSucceeded, Cards: cards, Cost: 100 * 0}
}

func (s *scripted) calls() (submits, numbers int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range s.submits {
		submits += n
	}
	return submits, len(s.submits)
}

// remoteFixture runs the engine with two remote suppliers, "a" then "b", and
// products that buy from them.
func remoteFixture(t *testing.T, a, b *scripted, tweak func(*Options)) *fixture {
	return newFixture(t, func(o *Options) {
		o.Suppliers = []config.Supplier{
			{Name: "own", Type: config.SupplierStock},
			{Name: "a", Type: config.SupplierSim, Timeout: config.Duration(time.Second), Grace: config.Duration(10 * time.Minute)},
			{Name: "b", Type: config.SupplierSim, Timeout: config.Duration(time.Second), Grace: config.Duration(10 * time.Minute)},
		}
		o.Sources = map[string]suppliers.Supplier{"a": a, "b": b}
		o.Products = append(testProducts,
			config.Product{SKU: "steam-50", Kind: config.KindCard, MaxQuantity: 20, BatchSize: 5,
				Sources: []config.Source{{Supplier: "a", Item: "A50", Units: 1}, {Supplier: "b", Item: "B50", Units: 1}}},
			config.Product{SKU: "jd-100x2", Kind: config.KindCard, MaxQuantity: 20, BatchSize: 5,
				Sources: []config.Source{{Supplier: "a", Item: "A50", Units: 2}}},
			config.Product{SKU: "dx-10", Kind: config.KindDirect, MaxQuantity: 20, BatchSize: 20,
				Sources: []config.Source{{Supplier: "a", Item: "D10", Units: 1}, {Supplier: "b", Item: "D10", Units: 1}}},
			config.Product{SKU: "mixed", Kind: config.KindCard, MaxQuantity: 20, BatchSize: 5,
				Sources: []config.Source{{Supplier: "a", Item: "M", Units: 1}, {Supplier: "own", Units: 1}}},
		)
		o.BreakerProbe = 50 * time.Millisecond
		if tweak != nil {
			tweak(o)
		}
	})
}

func TestSupplierPurchaseIsDeliveredAndItsCardsClaimed(t *testing.T) {
	a := newScripted()
	f := remoteFixture(t, a, newScripted(), nil)
	o := f.submit("S-1", "steam-50", 2, 10000)
	got := f.waitStatus(o.ID, storage.StatusDelivered)
	if len(got.Cards) != 2 || len(got.Attempts) != 1 || got.Attempts[0].State != storage.AttemptSucceeded {
		t.Fatalf("delivered %d cards with attempts %+v", len(got.Cards), got.Attempts)
	}
	if got.Attempts[0].Cards != nil {
		t.Error("cards are stored twice: in the attempt and the order")
	}
	f.waitCallbacks(o.ID, CallbackDelivered)
	_ = f.store.View(func(tx *storage.Tx) error {
		for _, c := range got.Cards {
			if st, _ := tx.Fingerprint(c.FP); !st.Delivered || st.OrderID != o.ID {
				t.Errorf("supplier card not claimed for the order: %+v", st)
			}
		}
		return nil
	})
	if s, n := a.calls(); s != 1 || n != 1 || !strings.HasPrefix(a.orders[0].No, fmt.Sprintf("CF%d-0-", o.ID)) {
		t.Errorf("%d submits under %d numbers (%q)", s, n, a.orders[0].No)
	}
}

func TestUnknownOutcomeIsQueriedNeverBoughtAgain(t *testing.T) {
	a, b := newScripted(), newScripted()
	a.onSubmit = func(o suppliers.Order, n int) suppliers.Result {
		return suppliers.Result{Status: suppliers.StatusUnknown, Detail: "timeout"}
	}
	var answer sync.Mutex
	ready := false
	a.onQuery = func(no string, n int) suppliers.Result {
		answer.Lock()
		defer answer.Unlock()
		if !ready {
			return suppliers.Result{Status: suppliers.StatusUnknown, Detail: "5000 system error"}
		}
		return a.succeed(1)
	}
	f := remoteFixture(t, a, b, nil)
	o := f.submit("U-1", "steam-50", 1, 5000)
	f.tickUntil("two queries", time.Second, func() bool { a.mu.Lock(); defer a.mu.Unlock(); return len(a.queries) == 1 && sumQueries(a) >= 2 })
	if got := f.order(o.ID); got.Status != storage.StatusProcessing || got.Attempts[0].State != storage.AttemptUnknown {
		t.Fatalf("order %s, attempt %s", got.Status, got.Attempts[0].State)
	}
	answer.Lock()
	ready = true
	answer.Unlock()
	// Ticked until delivered rather than once: the supplier may have seen
	// the second query before the engine recorded its answer and set the
	// next one, which a single tick would then leave in the future (a
	// loaded run timed out here).
	f.tickUntil(fmt.Sprintf("order %d delivered", o.ID), 10*time.Second, func() bool {
		return f.order(o.ID).Status == storage.StatusDelivered
	})
	if s, n := a.calls(); s != 1 || n != 1 {
		t.Fatalf("supplier a got %d submits under %d numbers; want exactly one", s, n)
	}
	if s, _ := b.calls(); s != 0 {
		t.Fatalf("an unknown outcome moved the order to supplier b (%d submits)", s)
	}
}

// paced is a scripted supplier with its own query rhythm (a Pacer).
type paced struct {
	*scripted
	every time.Duration
}

func (p paced) QueryBackoff(int) time.Duration { return p.every }

// TestLostAnswersAreAskedAgainAtTheSuppliersPace: a supplier that asks to be
// queried every 3 s loses the answer to the purchase and to the next 12
// queries (the timeouts and garbled answers of a bad network). Each lost
// answer is asked again 3 s later, as the supplier asked, where a doubling
// wait would have reached 16 s by the fourth and 5 minutes by the tenth.
// The breaker is set not to open here, which would stop the queries.
func TestLostAnswersAreAskedAgainAtTheSuppliersPace(t *testing.T) {
	const lost = 12
	a, b := newScripted(), newScripted()
	a.onSubmit = func(suppliers.Order, int) suppliers.Result {
		return suppliers.Result{Status: suppliers.StatusUnknown, Detail: "timeout"}
	}
	a.onQuery = func(no string, n int) suppliers.Result {
		if n <= lost {
			return suppliers.Result{Status: suppliers.StatusUnknown, Detail: "garbled answer"}
		}
		return a.succeed(1)
	}
	f := remoteFixture(t, a, b, func(o *Options) {
		o.Sources["a"] = paced{scripted: a, every: 3 * time.Second}
		o.Suppliers[1].BreakerFailures = 100
	})
	o := f.submit("P-1", "steam-50", 1, 5000)
	for asked := 1; asked <= lost+1; asked++ {
		// asked-1 queries made: the attempt waits for the next one.
		testkit.Eventually(f.t, fmt.Sprintf("answer %d recorded", asked), func() bool {
			return f.order(o.ID).Attempts[0].Queries == asked
		})
		at := f.order(o.ID).Attempts[0]
		if at.State != storage.AttemptUnknown {
			t.Fatalf("after %d lost answers the attempt is %s", asked, at.State)
		}
		if d := at.NextAt.Sub(f.clock.Now()); d != 3*time.Second {
			t.Fatalf("after %d lost answers the next query is in %v, want the supplier's 3s", asked, d)
		}
		f.tick(3 * time.Second)
	}
	testkit.Eventually(f.t, "delivered", func() bool { return f.order(o.ID).Status == storage.StatusDelivered })
	if s, n := a.calls(); s != 1 || n != 1 {
		t.Fatalf("supplier a got %d submits under %d numbers; want exactly one", s, n)
	}
}

func sumQueries(s *scripted) int {
	n := 0
	for _, q := range s.queries {
		n += q
	}
	return n
}

func TestDefiniteFailureMovesToTheNextSource(t *testing.T) {
	a, b := newScripted(), newScripted()
	a.onSubmit = func(o suppliers.Order, n int) suppliers.Result {
		return suppliers.Result{Status: suppliers.StatusFailed, Reason: suppliers.ReasonProductUnavailable, Detail: "3002 off shelf"}
	}
	f := remoteFixture(t, a, b, nil)
	o := f.submit("N-1", "steam-50", 1, 5000)
	got := f.waitStatus(o.ID, storage.StatusDelivered)
	if len(got.Attempts) != 2 || got.Attempts[0].Supplier != "a" || got.Attempts[0].State != storage.AttemptFailed ||
		got.Attempts[1].Supplier != "b" || got.Attempts[0].No == got.Attempts[1].No {
		t.Fatalf("attempts = %+v", got.Attempts)
	}
}

func TestEverySourceFailingDefinitelyFailsTheOrder(t *testing.T) {
	fail := func(reason string) func(suppliers.Order, int) suppliers.Result {
		return func(suppliers.Order, int) suppliers.Result {
			return suppliers.Result{Status: suppliers.StatusFailed, Reason: reason}
		}
	}
	a, b := newScripted(), newScripted()
	a.onSubmit, b.onSubmit = fail(suppliers.ReasonProductUnavailable), fail(suppliers.ReasonConfig)
	f := remoteFixture(t, a, b, nil)
	o := f.submit("F-1", "steam-50", 1, 5000)
	got := f.waitStatus(o.ID, storage.StatusFailed)
	if got.Reason != suppliers.ReasonConfig {
		t.Errorf("reason = %q", got.Reason)
	}
	f.waitCallbacks(o.ID, CallbackFailed)
}

func TestOutOfStockEverywhereWaitsAndRetriesUntilStockWait(t *testing.T) {
	a, b := newScripted(), newScripted()
	var mu sync.Mutex
	restocked := false
	oos := func(o suppliers.Order, n int) suppliers.Result {
		mu.Lock()
		defer mu.Unlock()
		if restocked {
			return a.succeed(o.Quantity)
		}
		return suppliers.Result{Status: suppliers.StatusFailed, Reason: suppliers.ReasonOutOfStock, Detail: "3005"}
	}
	a.onSubmit, b.onSubmit = oos, oos
	f := remoteFixture(t, a, b, nil)
	o := f.submit("OOS-R", "steam-50", 1, 5000)
	testkit.Eventually(f.t, "waiting out of stock", func() bool {
		got := f.order(o.ID)
		return got.Status == storage.StatusPending && got.Reason == ReasonOutOfStock
	})
	f.waitCallbacks(o.ID, CallbackDelayed)
	mu.Lock()
	restocked = true
	mu.Unlock()
	f.tickUntil("delivered after the restock", 10*time.Second, func() bool { return f.order(o.ID).Status == storage.StatusDelivered })
	f.waitCallbacks(o.ID, CallbackDelayed, CallbackDelivered)
}

func TestNotFoundPastGraceResubmitsUnderTheSameNumberThenMovesOn(t *testing.T) {
	a, b := newScripted(), newScripted()
	a.onSubmit = func(o suppliers.Order, n int) suppliers.Result {
		return suppliers.Result{Status: suppliers.StatusUnknown, Detail: "answer lost"}
	}
	f := remoteFixture(t, a, b, nil)
	o := f.submit("G-1", "steam-50", 1, 5000)
	f.tickUntil("first query", time.Second, func() bool { a.mu.Lock(); defer a.mu.Unlock(); return sumQueries(a) >= 1 })
	if s, _ := b.calls(); s != 0 {
		t.Fatal("moved on before the grace window")
	}
	f.tick(11 * time.Minute) // past grace: "not found" is now final
	testkit.Eventually(f.t, "resubmit", func() bool { s, _ := a.calls(); return s == 2 })
	if s, n := a.calls(); n != 1 {
		t.Fatalf("resubmitted under a new number: %d submits, %d numbers", s, n)
	}
	f.tickUntil("query after resubmit", time.Second, func() bool { a.mu.Lock(); defer a.mu.Unlock(); return sumQueries(a) >= 2 })
	f.tick(11 * time.Minute)
	f.tickUntil("delivered by b", 10*time.Second, func() bool { return f.order(o.ID).Status == storage.StatusDelivered })
	got := f.order(o.ID)
	if got.Attempts[0].State != storage.AttemptLost || got.Attempts[1].Supplier != "b" {
		t.Fatalf("attempts = %+v", got.Attempts)
	}
}

func TestRestartQueriesAttemptsLeftSending(t *testing.T) {
	a := newScripted()
	f := remoteFixture(t, a, newScripted(), nil)
	// Store an order with an attempt in "sending", as a crash right after
	// the attempt's commit would leave it.
	var id uint64
	err := f.store.Update(func(tx *storage.Tx) error {
		o := &storage.Order{ExternalID: "CRASH-1", Storefront: "shop", SKU: "steam-50", Kind: "card", Quantity: 1, Amount: 5000}
		o.Move(storage.StatusPending, "", storage.System, f.clock.Now())
		o.Move(storage.StatusProcessing, "", storage.System, f.clock.Now())
		var err error
		if o.ID, err = tx.NewOrderID(); err != nil {
			return err
		}
		id = o.ID
		o.Attempts = []storage.Attempt{{No: attemptNo(o.ID, 0), Supplier: "a", Item: "A50", Quantity: 1, Units: 1,
			State: storage.AttemptSending, SentAt: f.clock.Now()}}
		return tx.CreateOrder(o)
	})
	if err != nil {
		t.Fatal(err)
	}
	no := ""
	a.onQuery = func(q string, n int) suppliers.Result { no = q; return a.succeed(1) }
	f.restart()
	f.waitStatus(id, storage.StatusDelivered)
	if s, _ := a.calls(); s != 0 {
		t.Fatalf("the attempt was sent again after the restart (%d submits)", s)
	}
	if !strings.HasPrefix(no, fmt.Sprintf("CF%d-0-", id)) {
		t.Fatalf("queried %q", no)
	}
}

func TestDuplicateCardFromASupplierIsNeverDelivered(t *testing.T) {
	a, b := newScripted(), newScripted()
	f := remoteFixture(t, a, b, nil)
	f.importCards("qb-10", "KNOWN", 1) // KNOWN-00000 is in own stock
	a.onSubmit = func(o suppliers.Order, n int) suppliers.Result {
		return suppliers.Result{Status: suppliers.StatusSucceeded, Cards: []card.Card{{Number: "known-00000", Password: "x"}}}
	}
	o := f.submit("D-1", "steam-50", 1, 5000)
	got := f.waitStatus(o.ID, storage.StatusDelivered)
	if len(got.Attempts) != 2 || got.Attempts[0].State != storage.AttemptBad || got.Attempts[1].Supplier != "b" {
		t.Fatalf("attempts = %+v", got.Attempts)
	}
	v, _ := view.Of(got, view.Current(got), f.store.Vault())
	if strings.EqualFold(v.Cards[0].Number, "KNOWN-00000") {
		t.Fatal("the duplicate card was delivered")
	}
	f.waitCallbacks(o.ID, CallbackDelayed, CallbackDelivered)
	testkit.Eventually(f.t, "alert naming supplier a", func() bool { return f.alerts.has(alert.DuplicateCard, false, "a") })
	var bad map[string]int
	_ = f.store.View(func(tx *storage.Tx) error { bad = tx.BadCards(); return nil })
	if bad["a"] != 1 {
		t.Errorf("bad cards = %v", bad)
	}
	// The own-stock card is still for sale.
	levels, _ := f.engine.StockLevels()
	if levels["qb-10"] != 1 {
		t.Errorf("stock = %v", levels)
	}
}

func TestLargeQuantityIsBoughtInBatchesAndUnitsMatchDenominations(t *testing.T) {
	a := newScripted()
	f := remoteFixture(t, a, newScripted(), nil)
	o := f.submit("B-1", "jd-100x2", 7, 70000) // batches of 5 and 2, two 50s per 100
	got := f.waitStatus(o.ID, storage.StatusDelivered)
	if len(got.Cards) != 14 || len(got.Attempts) != 2 {
		t.Fatalf("%d cards from %d attempts", len(got.Cards), len(got.Attempts))
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	units := map[int]bool{}
	for _, so := range a.orders {
		units[so.Quantity] = true
	}
	if !units[10] || !units[4] || len(a.orders) != 2 {
		t.Fatalf("supplier orders = %+v", a.orders)
	}
}

func TestDirectTopUpPassesAccountAndExtra(t *testing.T) {
	a := newScripted()
	a.onSubmit = func(o suppliers.Order, n int) suppliers.Result {
		return suppliers.Result{Status: suppliers.StatusSucceeded}
	}
	f := remoteFixture(t, a, newScripted(), nil)
	o, _, err := f.engine.Submit(Request{Storefront: "shop", ExternalID: "DX-1", SKU: "dx-10", Quantity: 3, Amount: 3000,
		Account: "12345678", Extra: map[string]string{"region": "电信一区"}})
	if err != nil {
		t.Fatal(err)
	}
	got := f.waitStatus(o.ID, storage.StatusDelivered)
	if len(got.Cards) != 0 {
		t.Fatalf("a top-up delivered %d cards", len(got.Cards))
	}
	a.mu.Lock()
	so := a.orders[0]
	a.mu.Unlock()
	if so.Kind != suppliers.KindDirect || so.Account != "12345678" || so.Extra["region"] != "电信一区" || so.Quantity != 3 {
		t.Fatalf("supplier got %+v", so)
	}
	if _, _, err := f.engine.Submit(Request{Storefront: "shop", ExternalID: "DX-2", SKU: "dx-10", Quantity: 1, Amount: 1000}); err == nil {
		t.Fatal("a direct order without account was accepted")
	}
}

func TestInvalidAccountFailsOrRefundsWithoutTryingOtherSources(t *testing.T) {
	for _, auto := range []bool{false, true} {
		t.Run(fmt.Sprintf("auto_refund=%v", auto), func(t *testing.T) {
			a, b := newScripted(), newScripted()
			a.onSubmit = func(o suppliers.Order, n int) suppliers.Result {
				return suppliers.Result{Status: suppliers.StatusFailed, Reason: suppliers.ReasonInvalidAccount, Detail: "4004"}
			}
			f := remoteFixture(t, a, b, func(o *Options) {
				if auto {
					o.AutoRefund = []string{suppliers.ReasonInvalidAccount}
				}
			})
			o, _, _ := f.engine.Submit(Request{Storefront: "shop", ExternalID: "IA-1", SKU: "dx-10", Quantity: 1, Amount: 1000, Account: "bad"})
			want := storage.StatusFailed
			if auto {
				want = storage.StatusRefunded
			}
			got := f.waitStatus(o.ID, want)
			if got.Reason != suppliers.ReasonInvalidAccount {
				t.Errorf("reason = %q", got.Reason)
			}
			if s, _ := b.calls(); s != 0 {
				t.Errorf("an invalid account was tried at supplier b")
			}
		})
	}
}

func TestFailingSupplierIsMarkedDownSkippedAndMarkedUpAgain(t *testing.T) {
	a, b := newScripted(), newScripted()
	var mu sync.Mutex
	healthy := false
	a.onSubmit = func(o suppliers.Order, n int) suppliers.Result {
		return suppliers.Result{Status: suppliers.StatusUnknown, Detail: "connection refused"}
	}
	a.onQuery = func(no string, n int) suppliers.Result {
		mu.Lock()
		defer mu.Unlock()
		if healthy {
			return a.succeed(1)
		}
		return suppliers.Result{Status: suppliers.StatusUnknown, Detail: "connection refused"}
	}
	f := remoteFixture(t, a, b, nil)
	var first []uint64
	for i := range 5 { // the default breaker_failures
		first = append(first, f.submit(fmt.Sprintf("CB-%d", i), "steam-50", 1, 5000).ID)
	}
	testkit.Eventually(f.t, "supplier a marked down", func() bool { return f.alerts.has(alert.SupplierDown, false, "a") })
	// New orders skip the supplier that is down.
	late := f.submit("CB-late", "steam-50", 1, 5000)
	got := f.waitStatus(late.ID, storage.StatusDelivered)
	if got.Attempts[0].Supplier != "b" {
		t.Fatalf("a new order went to %s while a was down", got.Attempts[0].Supplier)
	}
	// The first orders are not bought elsewhere: their outcome at a is unknown.
	for _, id := range first {
		if o := f.order(id); o.Status != storage.StatusProcessing || len(o.Attempts) != 1 {
			t.Fatalf("order %d is %s with %d attempts", id, o.Status, len(o.Attempts))
		}
	}
	mu.Lock()
	healthy = true
	mu.Unlock()
	f.tickUntil("the first orders delivered once a answers", 5*time.Second, func() bool {
		for _, id := range first {
			if f.order(id).Status != storage.StatusDelivered {
				return false
			}
		}
		return true
	})
	testkit.Eventually(f.t, "supplier a marked up", func() bool { return f.alerts.has(alert.SupplierDown, true, "a") })
	if s, n := a.calls(); s != 5 || n != 5 {
		t.Fatalf("supplier a: %d submits under %d numbers, want 5", s, n)
	}
}

func TestPausedSupplierIsSkippedAndPausedProductWaits(t *testing.T) {
	a, b := newScripted(), newScripted()
	f := remoteFixture(t, a, b, nil)
	if err := f.engine.Pause(alice, "a"); err != nil {
		t.Fatal(err)
	}
	o := f.submit("P-1", "steam-50", 1, 5000)
	if got := f.waitStatus(o.ID, storage.StatusDelivered); got.Attempts[0].Supplier != "b" {
		t.Fatalf("bought from paused supplier %s", got.Attempts[0].Supplier)
	}
	if err := f.engine.Pause(alice, "steam-50"); err != nil {
		t.Fatal(err)
	}
	o2 := f.submit("P-2", "steam-50", 1, 5000)
	testkit.Eventually(f.t, "paused product waits", func() bool { return f.order(o2.ID).Reason == ReasonPaused })
	if err := f.engine.Resume(bob, "steam-50"); err != nil {
		t.Fatal(err)
	}
	f.waitStatus(o2.ID, storage.StatusDelivered)
	if err := f.engine.Pause(alice, "nosuch"); err == nil {
		t.Fatal("paused an unknown name")
	}
	states, _ := f.engine.Suppliers()
	for _, s := range states {
		if s.Name == "a" && !s.Paused {
			t.Errorf("supplier a not shown paused: %+v", s)
		}
	}
	if e := f.audit(1)[0]; e.Action != "resume" || e.Actor.Name != "bob" || e.Target != "sku:steam-50" {
		t.Errorf("audit = %+v", e)
	}
}

func TestMaxCostSkipsASourceThatCostsTooMuch(t *testing.T) {
	a, b := newScripted(), newScripted()
	f := remoteFixture(t, a, b, func(o *Options) {
		o.Suppliers[1].UnitCost = 6000 // a charges 60.00 per unit
		for i := range o.Products {
			if o.Products[i].SKU == "steam-50" {
				o.Products[i].Sources[0].MaxCost = 5500
				o.Products[i].Sources[1].MaxCost = 5500
			}
		}
	})
	o := f.submit("MC-1", "steam-50", 1, 5000)
	got := f.waitStatus(o.ID, storage.StatusDelivered)
	if s, _ := a.calls(); s != 0 || got.Attempts[0].Supplier != "b" {
		t.Fatalf("over-cost supplier a got %d submits; attempts %+v", s, got.Attempts)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.orders[0].MaxUnitCost != 5500 {
		t.Errorf("max unit cost sent = %s", b.orders[0].MaxUnitCost)
	}
}

func TestSupplierCallbackHintTriggersAnImmediateQuery(t *testing.T) {
	a := newScripted()
	a.onSubmit = func(o suppliers.Order, n int) suppliers.Result {
		return suppliers.Result{Status: suppliers.StatusPending}
	}
	a.onQuery = func(no string, n int) suppliers.Result { return a.succeed(1) }
	f := remoteFixture(t, a, newScripted(), nil)
	o := f.submit("H-1", "steam-50", 1, 5000)
	testkit.Eventually(f.t, "the supplier has it", func() bool {
		got := f.order(o.ID)
		return len(got.Attempts) == 1 && got.Attempts[0].State == storage.AttemptPending
	})
	f.engine.Hint(f.order(o.ID).Attempts[0].No) // no clock movement: only the hint can trigger the query
	f.waitStatus(o.ID, storage.StatusDelivered)
	f.engine.Hint("garbage") // ignored
	f.engine.Hint("CF999-0-x")
}

func TestSourcesFallBackToOwnStockAndRetryReusesGoodsAlreadyBought(t *testing.T) {
	a := newScripted()
	a.onSubmit = func(o suppliers.Order, n int) suppliers.Result {
		return suppliers.Result{Status: suppliers.StatusFailed, Reason: suppliers.ReasonProductUnavailable}
	}
	f := remoteFixture(t, a, newScripted(), nil)
	f.importCards("mixed", "MIX", 3)
	o := f.submit("MIX-1", "mixed", 3, 3000) // a refuses, own stock serves
	got := f.waitStatus(o.ID, storage.StatusDelivered)
	if len(got.Cards) != 3 || got.Attempts[len(got.Attempts)-1].Supplier != "own" {
		t.Fatalf("attempts %+v", got.Attempts)
	}
	// Ten units: batches of 5; a refuses everything and stock is empty.
	o2 := f.submit("MIX-2", "mixed", 10, 10000)
	testkit.Eventually(f.t, "waiting for stock", func() bool { return f.order(o2.ID).Reason == ReasonOutOfStock })
	f.importCards("mixed", "MIX2", 10)
	f.waitStatus(o2.ID, storage.StatusDelivered)
}

// TestAWakeUpBeforeAnAttemptIsDueDoesNotAskTheSupplier: a supplier that
// asks to be queried every 3 s has answered "unknown"; a wake-up planned
// from an older look at the order (as when the after-commit work of two
// writes runs in the other order) comes before those 3 s are up. The
// supplier is not asked then; it is asked once the 3 s are up.
func TestAWakeUpBeforeAnAttemptIsDueDoesNotAskTheSupplier(t *testing.T) {
	a, b := newScripted(), newScripted()
	a.onSubmit = func(suppliers.Order, int) suppliers.Result {
		return suppliers.Result{Status: suppliers.StatusUnknown, Detail: "timeout"}
	}
	a.onQuery = func(string, int) suppliers.Result {
		return suppliers.Result{Status: suppliers.StatusUnknown, Detail: "garbled answer"}
	}
	f := remoteFixture(t, a, b, func(o *Options) { o.Sources["a"] = paced{scripted: a, every: 3 * time.Second} })
	o := f.submit("W-1", "steam-50", 1, 5000)
	testkit.Eventually(t, "the first answer recorded", func() bool { return f.order(o.ID).Attempts[0].Queries == 1 })
	at := f.order(o.ID).Attempts[0]
	asked := sumQueries(a)

	f.engine.timers.at(f.clock.Now(), o.ID, at.No) // stale: 3 s early
	key := timerKey{o.ID, at.No}
	testkit.Eventually(t, "the early wake-up handled and the query due again at its time", func() bool {
		f.engine.timers.mu.Lock()
		due := f.engine.timers.set[key]
		f.engine.timers.mu.Unlock()
		return due.Equal(at.NextAt) && !f.engine.inFlight.busy(at.No)
	})
	if n := sumQueries(a); n != asked {
		t.Fatalf("the supplier was asked %d times before the attempt was due", n-asked)
	}
	f.tick(3 * time.Second)
	testkit.Eventually(t, "the second answer recorded at its time", func() bool { return f.order(o.ID).Attempts[0].Queries == 2 })
}

// busy reports whether attemptNo has a request in flight.
func (f *inFlight) busy(attemptNo string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.again[attemptNo]
	return ok
}
