package processor

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"cardflow/alert"
	"cardflow/config"
	"cardflow/internal/money"
	"cardflow/internal/testkit"
	"cardflow/processor/view"
	"cardflow/rules"
	"cardflow/storage"
)

// holdLarge holds orders over 500 yuan for review, like the classic rule.
type holdLarge struct{}

func (holdLarge) Screen(_ *storage.Tx, o *storage.Order) (rules.Decision, error) {
	if o.Amount > 500_00 {
		return rules.Decision{Action: config.ActionReview, Reason: "rule:large-order"}, nil
	}
	if o.Buyer.ID == "banned" {
		return rules.Decision{Action: config.ActionRefund, Reason: "rule:banned"}, nil
	}
	return rules.Decision{Action: config.ActionAllow}, nil
}

var (
	alice = storage.Actor{Name: "alice", Platform: "telegram"}
	bob   = storage.Actor{Name: "bob", Platform: "qq"}
)

func TestScreenHoldsForReviewAndApproveDelivers(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.Screen = holdLarge{} })
	f.importCards("qb-10", "AP", 20)
	o := f.submit("BIG-1", "qb-10", 6, money.Amount(600_00))
	if o.Status != storage.StatusReview || o.Reason != "rule:large-order" {
		t.Fatalf("big order is %s (%s), want review", o.Status, o.Reason)
	}
	testkit.Eventually(f.t, "review alert", func() bool { return f.alerts.has(alert.Review, false, "large-order") })
	if _, err := f.engine.Approve(alice, o.ID); err != nil {
		t.Fatal(err)
	}
	got := f.waitStatus(o.ID, storage.StatusDelivered)
	if len(got.Cards) != 6 {
		t.Fatalf("delivered %d cards", len(got.Cards))
	}
	testkit.Eventually(f.t, "review resolved", func() bool { return f.alerts.has(alert.Review, true, "alice") })

	// A second press of Approve says what happened, and who did it.
	_, err := f.engine.Approve(bob, o.ID)
	var st *StateError
	if !errors.As(err, &st) || st.Last.Actor.Name != "alice" || st.Order.Status != storage.StatusDelivered {
		t.Fatalf("second approve: err = %v", err)
	}
	entries := f.audit(10)
	if entries[0].Outcome != "refused" || entries[0].Actor.Name != "bob" || entries[1].Outcome != "ok" || entries[1].Actor.Name != "alice" {
		t.Fatalf("audit = %+v", entries[:2])
	}
}

func TestScreenRefusalRefundsAtOnce(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.Screen = holdLarge{} })
	o, _, err := f.engine.Submit(Request{Storefront: "shop", ExternalID: "BAN-1", SKU: "qb-10", Quantity: 1, Amount: 1000,
		Buyer: storage.Buyer{ID: "banned"}})
	if err != nil || o.Status != storage.StatusRefunded {
		t.Fatalf("order = %+v, %v", o, err)
	}
	f.waitCallbacks(o.ID, CallbackRefunded)
}

func TestApproveAndRefundRacingExactlyOneWins(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.Screen = holdLarge{} })
	f.importCards("qb-10", "RC", 100)
	for i := range 20 {
		o := f.submit(fmt.Sprintf("RACE-%d", i), "qb-10", 6, 600_00)
		var wg sync.WaitGroup
		var approveErr, refundErr error
		wg.Go(func() { _, approveErr = f.engine.Approve(alice, o.ID) })
		wg.Go(func() { _, refundErr = f.engine.RefundFrom(bob, o.ID, "buyer asked", storage.StatusReview) })
		wg.Wait()
		if (approveErr == nil) == (refundErr == nil) {
			t.Fatalf("order %d: approve err %v, refund err %v: want exactly one success", o.ID, approveErr, refundErr)
		}
		var st *StateError
		if !errors.As(approveErr, &st) && !errors.As(refundErr, &st) {
			t.Fatalf("loser did not get a StateError: %v / %v", approveErr, refundErr)
		}
	}
}

func TestOperatorActionsFollowTheLifecycle(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.Screen = holdLarge{} })
	o := f.submit("L-1", "jd-100", 1, 10000)
	testkit.Eventually(f.t, "waiting", func() bool { return f.order(o.ID).Reason == ReasonOutOfStock })

	cases := []struct {
		name   string
		act    func() (*storage.Order, error)
		wantOK bool
	}{
		{"approve a pending order is refused", func() (*storage.Order, error) { return f.engine.Approve(alice, o.ID) }, false},
		{"retry a pending order is refused", func() (*storage.Order, error) { return f.engine.Retry(alice, o.ID) }, false},
		{"reissue an undelivered order is refused", func() (*storage.Order, error) { return f.engine.Reissue(alice, o.ID) }, false},
		{"refund a waiting order", func() (*storage.Order, error) { return f.engine.Refund(alice, o.ID, "no stock") }, true},
		{"refund twice is refused", func() (*storage.Order, error) { return f.engine.Refund(bob, o.ID, "") }, false},
		{"retry a refunded order is refused", func() (*storage.Order, error) { return f.engine.Retry(bob, o.ID) }, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.act()
			var st *StateError
			if tc.wantOK && err != nil {
				t.Fatalf("err = %v", err)
			}
			if !tc.wantOK && !errors.As(err, &st) {
				t.Fatalf("err = %v, want StateError", err)
			}
		})
	}
	if f.engine.Waiting("jd-100") != 0 {
		t.Error("refunded order still waits for stock")
	}
	f.waitCallbacks(o.ID, CallbackDelayed, CallbackRefunded)
	if _, err := f.engine.Approve(alice, 999); !errors.Is(err, ErrNotFound) {
		t.Errorf("approve unknown order: %v", err)
	}
}

func TestRetryAfterFailureDeliversOnceStockIsBack(t *testing.T) {
	f := newFixture(t, nil)
	o := f.submit("F-1", "jd-100", 1, 10000)
	testkit.Eventually(f.t, "waiting", func() bool { return f.engine.Waiting("jd-100") == 1 })
	f.waitCallbacks(o.ID, CallbackDelayed) // signed at the old time: let it land before the clock jumps
	f.clock.Advance(31 * 60e9)
	f.engine.ExpireWaits()
	f.waitStatus(o.ID, storage.StatusFailed)
	f.importCards("jd-100", "F", 1) // a failed order does not take stock by itself
	if f.order(o.ID).Status != storage.StatusFailed {
		t.Fatal("failed order moved without a person")
	}
	if _, err := f.engine.Retry(alice, o.ID); err != nil {
		t.Fatal(err)
	}
	got := f.waitStatus(o.ID, storage.StatusDelivered)
	last, _ := got.Last(storage.StatusPending)
	if last.Actor.Name != "alice" || last.Reason != "operator:alice" {
		t.Errorf("retry transition = %+v", last)
	}
	f.waitCallbacks(o.ID, CallbackDelayed, CallbackFailed, CallbackDelivered)
}

func TestReissueGivesNewCardsAndKeepsOldOnesOutOfCirculation(t *testing.T) {
	f := newFixture(t, nil)
	f.importCards("qb-10", "RE", 4)
	o := f.submit("RE-1", "qb-10", 2, 2000)
	first := f.waitStatus(o.ID, storage.StatusDelivered)
	f.waitCallbacks(o.ID, CallbackDelivered)
	if _, err := f.engine.Reissue(alice, o.ID); err != nil {
		t.Fatal(err)
	}
	second := f.waitStatus(o.ID, storage.StatusDelivered)
	if len(second.Replaced) != 1 || len(second.Cards) != 2 {
		t.Fatalf("after reissue: %d replaced sets, %d cards", len(second.Replaced), len(second.Cards))
	}
	for _, c := range second.Cards {
		for _, old := range first.Cards {
			if c.FP == old.FP {
				t.Fatal("reissue delivered an old card again")
			}
		}
	}
	// The storefront gets a second delivered callback with the new set;
	// the first callback still carries the first set (snapshot per event).
	testkit.Eventually(f.t, "second delivered callback", func() bool { return len(f.receiver.Types(fmt.Sprint(o.ID))) == 2 })
	if v, _ := view.Of(second, view.Current(second), f.store.Vault()); v.Reason != ReasonReissue || len(v.Cards) != 2 {
		t.Errorf("reissued order shows reason %q and %d cards, want reason reissue and the new cards", v.Reason, len(v.Cards))
	}
	if p := f.receiver.Problems(); len(p) > 0 {
		t.Errorf("storefront complained about the reissue: %v", p)
	}
	_ = f.store.View(func(tx *storage.Tx) error {
		for _, c := range first.Cards {
			st, _ := tx.Fingerprint(c.FP)
			if !st.Delivered {
				t.Errorf("replaced card state = %+v", st)
			}
		}
		return nil
	})
	// Re-importing the replaced keys must not put them back on sale.
	res := f.importCards("qb-10", "RE", 2)
	if res.Added != 0 || res.Duplicates != 2 {
		t.Errorf("re-import of replaced keys: %+v", res)
	}
	if !strings.Contains(f.audit(5)[0].Action, "stock.import") {
		t.Errorf("import not audited: %+v", f.audit(1))
	}
}

func (f *fixture) audit(n int) []storage.AuditEntry {
	f.t.Helper()
	var out []storage.AuditEntry
	_ = f.store.View(func(tx *storage.Tx) error {
		var err error
		out, err = tx.AuditLast(n)
		return err
	})
	return out
}
