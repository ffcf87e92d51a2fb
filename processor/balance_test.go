package processor

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"cardflow/alert"
	"cardflow/config"
	"cardflow/internal/money"
	"cardflow/internal/testkit"
	"cardflow/processor/outbox"
	"cardflow/report"
	"cardflow/rules"
	"cardflow/storage"
)

var admin = storage.Actor{Name: "alice", Platform: "test"}

// dockingFixture is an engine with a docking shop "dj1" (no credit) that may
// buy qb-10 (id 1001, 9.50 wholesale) but not jd-100.
func dockingFixture(t *testing.T, screen Screener) *fixture {
	products := []config.Product{testProducts[0], testProducts[1]}
	products[0].ID, products[0].Price = 1001, 950
	return newFixture(t, func(o *Options) {
		o.Products = products
		o.Docking = map[string]money.Amount{"dj1": 0}
		o.Screen = screen
	})
}

func (f *fixture) balance(shop string) money.Amount {
	f.t.Helper()
	bs, err := f.engine.Balances()
	if err != nil {
		f.t.Fatal(err)
	}
	for _, b := range bs {
		if b.Storefront == shop {
			return b.Balance
		}
	}
	f.t.Fatalf("no balance for %s in %+v", shop, bs)
	return 0
}

func (f *fixture) dockingOrder(ext, sku string, qty int) (*storage.Order, bool, error) {
	// The shop's own amount is ignored: it pays the wholesale price.
	return f.engine.Submit(Request{Storefront: "dj1", ExternalID: ext, SKU: sku, Quantity: qty, Amount: 1, Buyer: storage.Buyer{ID: "b1"}})
}

// TestADockingOrderIsChargedOnceAtTheWholesalePrice: a shop with 20.00
// buys two units at 9.50 and is charged 19.00 whatever amount it names; the
// same order sent again is the same order and is not charged again; the
// next order, which the 1.00 left does not cover, is refused and stores
// nothing, and goes through after a top-up.
func TestADockingOrderIsChargedOnceAtTheWholesalePrice(t *testing.T) {
	f := dockingFixture(t, nil)
	f.importCards("qb-10", "QB", 5)
	if b, err := f.engine.AdjustBalance(admin, "dj1", 2000, "top_up"); err != nil || b != 2000 {
		t.Fatalf("top-up: %s, %v", b, err)
	}
	o, created, err := f.dockingOrder("DJ-1", "qb-10", 2)
	if err != nil || !created || o.Amount != 1900 || o.Charged != 1900 {
		t.Fatalf("first order: %+v created %v err %v", o, created, err)
	}
	again, created, err := f.dockingOrder("DJ-1", "qb-10", 2)
	if err != nil || created || again.ID != o.ID {
		t.Fatalf("the same order again: %+v created %v err %v", again, created, err)
	}
	if b := f.balance("dj1"); b != 100 {
		t.Fatalf("balance after one order sent twice = %s, want 1.00", b)
	}
	if _, _, err := f.dockingOrder("DJ-2", "qb-10", 1); !errors.Is(err, ErrInsufficientBalance) {
		t.Fatalf("an order 1.00 does not cover: %v", err)
	}
	if _, err := f.engine.OrderByExternal("dj1", "DJ-2"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("a refused order was stored: %v", err)
	}
	if _, err := f.engine.AdjustBalance(admin, "dj1", 1000, "top_up"); err != nil {
		t.Fatal(err)
	}
	if o2, _, err := f.dockingOrder("DJ-2", "qb-10", 1); err != nil || o2.Charged != 950 {
		t.Fatalf("the refused order after a top-up: %+v, %v", o2, err)
	}
	if b := f.balance("dj1"); b != 150 {
		t.Fatalf("balance = %s, want 1.50", b)
	}
}

// TestARefundedDockingOrderGivesItsChargeBack: an order waiting for stock,
// refunded by an operator, returns its 9.50; one refused by a rule at
// intake is charged and given back in the same write.
func TestARefundedDockingOrderGivesItsChargeBack(t *testing.T) {
	f := dockingFixture(t, refuseQuantity(3))
	if _, err := f.engine.AdjustBalance(admin, "dj1", 5000, "top_up"); err != nil {
		t.Fatal(err)
	}
	o, _, err := f.dockingOrder("DJ-W", "qb-10", 1) // no stock: it waits
	if err != nil || o.Status != storage.StatusPending {
		t.Fatalf("waiting order: %+v, %v", o, err)
	}
	if b := f.balance("dj1"); b != 4050 {
		t.Fatalf("balance while it waits = %s, want 40.50", b)
	}
	if _, err := f.engine.Refund(admin, o.ID, "buyer gave up"); err != nil {
		t.Fatal(err)
	}
	if b := f.balance("dj1"); b != 5000 {
		t.Fatalf("balance after the refund = %s, want 50.00", b)
	}
	if _, err := f.engine.Refund(admin, o.ID, "again"); err == nil {
		t.Fatal("a refunded order was refunded again")
	}
	r, _, err := f.dockingOrder("DJ-R", "qb-10", 3)
	if err != nil || r.Status != storage.StatusRefunded {
		t.Fatalf("order refused by the rule: %+v, %v", r, err)
	}
	if b := f.balance("dj1"); b != 5000 {
		t.Fatalf("balance after an order refused at intake = %s, want 50.00", b)
	}
	var ledger []storage.LedgerEntry
	_ = f.store.View(func(tx *storage.Tx) error {
		ledger, err = tx.Balances().Ledger("dj1", 10)
		return err
	})
	want := []string{storage.LedgerRefund, storage.LedgerOrder, storage.LedgerRefund, storage.LedgerOrder, "top_up"}
	if len(ledger) != len(want) {
		t.Fatalf("ledger = %+v", ledger)
	}
	for i, e := range ledger {
		if e.Reason != want[i] {
			t.Errorf("ledger[%d] = %s %s (order %d), want %s", i, e.Reason, e.Amount, e.OrderID, want[i])
		}
	}
	if ledger[2].Actor != admin || ledger[2].OrderID != o.ID {
		t.Errorf("the operator's refund is recorded as %+v", ledger[2])
	}
}

// TestADockingShopCannotBuyWhatIsNotOfferedToIt: jd-100 has no docking id.
func TestADockingShopCannotBuyWhatIsNotOfferedToIt(t *testing.T) {
	f := dockingFixture(t, nil)
	_, _, err := f.dockingOrder("DJ-X", "jd-100", 1)
	var in *InputError
	if !errors.As(err, &in) || in.Code != CodeNotDocked {
		t.Fatalf("err = %v, want %s", err, CodeNotDocked)
	}
}

// TestABalanceIsAdjustedOnlyForADockingShopAndByANonZeroAmount: the
// cardflow storefront "shop" has no balance; 0 is no adjustment.
func TestABalanceIsAdjustedOnlyForADockingShopAndByANonZeroAmount(t *testing.T) {
	f := dockingFixture(t, nil)
	if _, err := f.engine.AdjustBalance(admin, "shop", 100, ""); !errors.Is(err, ErrNotDocking) {
		t.Errorf("adjusting a cardflow storefront: %v", err)
	}
	var in *InputError
	if _, err := f.engine.AdjustBalance(admin, "dj1", 0, ""); !errors.As(err, &in) {
		t.Errorf("adjusting by 0.00: %v", err)
	}
	if b, err := f.engine.AdjustBalance(admin, "dj1", -300, "correction"); err != nil || b != -300 {
		t.Errorf("a debit by an operator: %s, %v", b, err)
	}
	log, err := f.engine.AuditLog(5)
	if err != nil || len(log) == 0 || log[0].Action != "balance.adjust" || log[0].Target != "dj1" {
		t.Fatalf("audit = %+v, %v", log, err)
	}
}

// refuseQuantity refuses at intake every order of n or more units.
type refuseQuantity int

func (n refuseQuantity) Screen(_ *storage.Tx, o *storage.Order) (rules.Decision, error) {
	if o.Quantity >= int(n) {
		return rules.Decision{Action: config.ActionRefund, Reason: "rule:too-many"}, nil
	}
	return rules.Decision{}, nil
}

// heldCallbacks is a docking shop's callback sender that will not send an
// order's first callback within 2 s of its acceptance.
type heldCallbacks struct {
	f    *fixture
	mu   sync.Mutex
	held int
	sent []*storage.Event
}

func (h *heldCallbacks) Deliver(_ context.Context, ev *storage.Event) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	o := h.f.order(ev.OrderID)
	if at := o.CreatedAt.Add(2 * time.Second); h.f.clock.Now().Before(at) {
		h.held++
		return &outbox.NotBefore{At: at}
	}
	h.sent = append(h.sent, ev)
	return nil
}

func (h *heldCallbacks) count() (held, sent int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.held, len(h.sent)
}

// TestADockingShopsCallbackGoesThroughItsOwnSenderWhenItSays: the shop's
// sender holds the delivered callback until 2 s after the order; the wait
// is no failed attempt, and cardflow's own storefront is not asked.
func TestADockingShopsCallbackGoesThroughItsOwnSenderWhenItSays(t *testing.T) {
	h := &heldCallbacks{}
	products := []config.Product{testProducts[0]}
	products[0].ID, products[0].Price = 1001, 950
	f := newFixture(t, func(o *Options) {
		o.Products = products
		o.Docking = map[string]money.Amount{"dj1": 0}
		o.DockingCallbacks = map[string]outbox.Deliverer{"dj1": h}
	})
	h.f = f
	f.importCards("qb-10", "DJ", 1)
	if _, err := f.engine.AdjustBalance(admin, "dj1", 1000, ""); err != nil {
		t.Fatal(err)
	}
	o, _, err := f.dockingOrder("DJ-C", "qb-10", 1)
	if err != nil || o.Status != storage.StatusDelivered {
		t.Fatalf("order: %+v, %v", o, err)
	}
	testkit.Eventually(t, "the callback held", func() bool { held, _ := h.count(); return held >= 1 })
	f.tick(time.Second)
	if _, sent := h.count(); sent != 0 {
		t.Fatal("the callback went out within 2 s of the order")
	}
	if ev := f.storedEvents(); len(ev) != 1 || ev[0].Attempts != 0 {
		t.Fatalf("a held callback counts as a failed attempt: %+v", ev)
	}
	f.tick(1100 * time.Millisecond)
	testkit.Eventually(t, "the callback sent", func() bool { _, sent := h.count(); return sent == 1 })
	f.waitOutboxEmpty()
	if got := f.receiver.Stats(); got.Accepted != 0 {
		t.Errorf("cardflow's storefront received %d callbacks of a docking shop's order", got.Accepted)
	}
}

// TestADockingShopCancelsOnlyItsOwnOrderBeforeAnythingIsBought: an order
// waiting for stock is canceled and its charge given back; a delivered
// one and one already canceled are refused with the state they are in;
// another shop's order is not found.
func TestADockingShopCancelsOnlyItsOwnOrderBeforeAnythingIsBought(t *testing.T) {
	f := dockingFixture(t, nil)
	if _, err := f.engine.AdjustBalance(admin, "dj1", 5000, ""); err != nil {
		t.Fatal(err)
	}
	waiting, _, err := f.dockingOrder("DJ-W", "qb-10", 1)
	if err != nil || waiting.Status != storage.StatusPending {
		t.Fatalf("waiting order: %+v, %v", waiting, err)
	}
	theirs := f.submit("S-1", "qb-10", 1, 1000) // cardflow storefront "shop", also waiting
	if _, err := f.engine.Cancel("dj1", theirs.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("canceling another shop's order: %v", err)
	}
	o, err := f.engine.Cancel("dj1", waiting.ID)
	if err != nil || o.Status != storage.StatusRefunded || o.Reason != ReasonCanceled {
		t.Fatalf("cancel: %+v, %v", o, err)
	}
	if b := f.balance("dj1"); b != 5000 {
		t.Fatalf("balance after the cancel = %s, want 50.00", b)
	}
	var st *StateError
	if _, err := f.engine.Cancel("dj1", waiting.ID); !errors.As(err, &st) {
		t.Fatalf("canceling twice: %v", err)
	}
	f.importCards("qb-10", "CX", 2)
	done, _, err := f.dockingOrder("DJ-D", "qb-10", 1)
	if err != nil || done.Status != storage.StatusDelivered {
		t.Fatalf("delivered order: %+v, %v", done, err)
	}
	if _, err := f.engine.Cancel("dj1", done.ID); !errors.As(err, &st) || st.Order.Status != storage.StatusDelivered {
		t.Fatalf("canceling a delivered order: %v", err)
	}
	if b := f.balance("dj1"); b != 4050 {
		t.Fatalf("balance = %s, want 40.50 (the delivered order stays charged)", b)
	}
}

// TestAShopWhoseBalanceNoLongerCoversADayOfOrdersIsAnAlert: 20.00 less an
// order of 19.00 leaves 1.00 against 19.00 spent in the day: alert; a
// top-up to 31.00 resolves it; the day's figures show the shop's order and
// spend, less a refund.
func TestAShopWhoseBalanceNoLongerCoversADayOfOrdersIsAnAlert(t *testing.T) {
	f := dockingFixture(t, nil)
	f.importCards("qb-10", "LB", 2)
	if _, err := f.engine.AdjustBalance(admin, "dj1", 2000, ""); err != nil {
		t.Fatal(err)
	}
	f.engine.checkShopBalances()
	if f.alerts.has(alert.ShopBalanceLow, false, "") {
		t.Fatal("an alert before any order")
	}
	if _, _, err := f.dockingOrder("DJ-L", "qb-10", 2); err != nil {
		t.Fatal(err)
	}
	f.engine.checkShopBalances()
	testkit.Eventually(t, "shop_balance_low raised", func() bool { return f.alerts.has(alert.ShopBalanceLow, false, "1.00 / 19.00") })
	if _, err := f.engine.AdjustBalance(admin, "dj1", 3000, ""); err != nil {
		t.Fatal(err)
	}
	f.engine.checkShopBalances()
	testkit.Eventually(t, "shop_balance_low resolved", func() bool { return f.alerts.has(alert.ShopBalanceLow, true, "31.00 / 19.00") })

	w, _, err := f.dockingOrder("DJ-W2", "qb-10", 1) // no stock left: it waits
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.engine.Refund(admin, w.ID, ""); err != nil {
		t.Fatal(err)
	}
	fig, err := report.Read(f.store, f.clock.Now().Add(-time.Hour), f.clock.Now().Add(time.Hour), time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	if s := fig.Shops["dj1"]; s == nil || s.Orders != 2 || s.Spend != 1900 {
		t.Fatalf("the shop's figures = %+v, want 2 orders and 19.00 (9.50 refunded)", s)
	}
}

// TestADockingShopsNumberNamesOneOrderWhateverARepeatSays: a repeat of a
// docking shop's order number with another body (another quantity here)
// is the order stored first, charged once; a cardflow storefront's is a
// conflict.
func TestADockingShopsNumberNamesOneOrderWhateverARepeatSays(t *testing.T) {
	f := dockingFixture(t, nil)
	f.importCards("qb-10", "NN", 3)
	if _, err := f.engine.AdjustBalance(admin, "dj1", 5000, ""); err != nil {
		t.Fatal(err)
	}
	first, _, err := f.dockingOrder("DJ-N", "qb-10", 1)
	if err != nil {
		t.Fatal(err)
	}
	again, created, err := f.dockingOrder("DJ-N", "qb-10", 2)
	if err != nil || created || again.ID != first.ID || again.Quantity != 1 {
		t.Fatalf("a repeat with another body: %+v created %v, %v", again, created, err)
	}
	if b := f.balance("dj1"); b != 5000-950 {
		t.Fatalf("balance = %s, want one charge", b)
	}
	f.submit("S-N", "qb-10", 1, 1000)
	if _, _, err := f.engine.Submit(Request{Storefront: "shop", ExternalID: "S-N", SKU: "qb-10", Quantity: 2, Amount: 1000,
		Buyer: storage.Buyer{ID: "u1"}}); !errors.Is(err, ErrConflict) {
		t.Fatalf("a cardflow storefront's repeat with another body: %v", err)
	}
}
