package processor

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"cardflow/alert"
	"cardflow/internal/testkit"
	"cardflow/processor/view"
	"cardflow/storage"
)

func TestOrderIsDeliveredFromStockWithSignedCallback(t *testing.T) {
	f := newFixture(t, nil)
	f.importCards("qb-10", "QB", 5)
	o := f.submit("T-1", "qb-10", 2, 2000)
	if o.ID != 1 || (o.Status != storage.StatusPending && o.Status != storage.StatusDelivered) {
		t.Fatalf("submitted order = %d %s", o.ID, o.Status)
	}
	got := f.waitStatus(o.ID, storage.StatusDelivered)
	if len(got.Cards) != 2 || got.DeliveredAt.IsZero() {
		t.Fatalf("delivered order has %d cards, delivered_at %v", len(got.Cards), got.DeliveredAt)
	}
	f.waitCallbacks(o.ID, CallbackDelivered)
	if p := f.receiver.Problems(); len(p) > 0 {
		t.Fatalf("receiver problems: %v", p)
	}
	v, err := view.Of(got, view.Current(got), f.store.Vault())
	if err != nil || len(v.Cards) != 2 || v.Cards[0].Number != "QB-00000" || v.Cards[1].Password != "pw1" {
		t.Fatalf("view cards = %+v, %v", v.Cards, err)
	}
	levels, _ := f.engine.StockLevels()
	if levels["qb-10"] != 3 {
		t.Errorf("stock left = %d, want 3", levels["qb-10"])
	}
}

func TestSubmitIsIdempotentByExternalID(t *testing.T) {
	f := newFixture(t, nil)
	req := Request{Storefront: "shop", ExternalID: "T-9", SKU: "qb-10", Quantity: 1, Amount: 1000,
		Extra: map[string]string{"a": "1", "b": "2"}}
	first, created, err := f.engine.Submit(req)
	if err != nil || !created {
		t.Fatalf("first submit: created=%v err=%v", created, err)
	}
	req.Extra = map[string]string{"b": "2", "a": "1"} // same content, other map order
	again, created, err := f.engine.Submit(req)
	if err != nil || created || again.ID != first.ID {
		t.Fatalf("repeat submit: id %d created=%v err=%v", again.ID, created, err)
	}
	req.Quantity = 2
	if _, _, err := f.engine.Submit(req); !errors.Is(err, ErrConflict) {
		t.Fatalf("changed body: err = %v, want ErrConflict", err)
	}
}

func TestSubmitRejectsWhatTheCatalogueDoesNotAllow(t *testing.T) {
	f := newFixture(t, nil)
	cases := []struct {
		name string
		req  Request
		code string
	}{
		{"unknown sku", Request{ExternalID: "a", SKU: "nope", Quantity: 1}, CodeUnknownSKU},
		{"zero quantity", Request{ExternalID: "a", SKU: "qb-10", Quantity: 0}, CodeInvalidQuantity},
		{"quantity over max_quantity", Request{ExternalID: "a", SKU: "qb-10", Quantity: 11}, CodeInvalidQuantity},
		{"negative amount", Request{ExternalID: "a", SKU: "qb-10", Quantity: 1, Amount: -1}, CodeInvalidAmount},
		{"unicode external id", Request{ExternalID: "订单1", SKU: "qb-10", Quantity: 1}, CodeInvalidRequest},
		{"empty external id", Request{ExternalID: "", SKU: "qb-10", Quantity: 1}, CodeInvalidRequest},
		{"huge buyer contact", Request{ExternalID: "a", SKU: "qb-10", Quantity: 1, Buyer: storage.Buyer{Contact: string(make([]byte, 300))}}, CodeInvalidRequest},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.req.Storefront = "shop"
			_, _, err := f.engine.Submit(tc.req)
			var in *InputError
			if !errors.As(err, &in) || in.Code != tc.code {
				t.Fatalf("err = %v, want code %s", err, tc.code)
			}
		})
	}
	if _, total, _ := f.engine.OpenOrders(storage.StatusPending, 0); total != 0 {
		t.Errorf("%d orders stored from bad requests", total)
	}
}

func TestManyWorkersNeverDeliverOneCardTwice(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.Workers = 32 })
	const cards, orders = 300, 200 // more demand (quantity 2 each) than supply
	f.importCards("qb-10", "MW", cards)
	var wg sync.WaitGroup
	ids := make([]uint64, orders)
	for i := range orders {
		wg.Go(func() { ids[i] = f.submit(fmt.Sprintf("MW-%d", i), "qb-10", 2, 2000).ID })
	}
	wg.Wait()
	testkit.Eventually(f.t, "all orders looked at", func() bool {
		done := 0
		for _, id := range ids {
			o := f.order(id)
			if o.Status == storage.StatusDelivered || o.Reason == ReasonOutOfStock {
				done++
			}
		}
		return done == orders
	})
	seen := map[storage.Fingerprint]uint64{}
	delivered := 0
	for _, id := range ids {
		o := f.order(id)
		if o.Status != storage.StatusDelivered {
			continue
		}
		delivered++
		for _, c := range o.Cards {
			if prev, ok := seen[c.FP]; ok {
				t.Fatalf("card delivered to orders %d and %d", prev, id)
			}
			seen[c.FP] = id
		}
	}
	if delivered != cards/2 {
		t.Errorf("%d orders delivered, want %d", delivered, cards/2)
	}
	f.waitOutboxEmpty()
	if p := f.receiver.Problems(); len(p) > 0 {
		t.Fatalf("receiver problems: %v", p)
	}
}

func TestOutOfStockWaitsThenResumesWhenStockArrives(t *testing.T) {
	f := newFixture(t, nil)
	f.importCards("jd-100", "JD", 1)
	o := f.submit("OOS-1", "jd-100", 2, 20000) // needs 2, only 1 in stock: no partial delivery
	testkit.Eventually(f.t, "out of stock", func() bool { return f.order(o.ID).Reason == ReasonOutOfStock })
	got := f.order(o.ID)
	if got.Status != storage.StatusPending || len(got.Cards) != 0 {
		t.Fatalf("waiting order is %s with %d cards", got.Status, len(got.Cards))
	}
	f.waitCallbacks(o.ID, CallbackDelayed)
	testkit.Eventually(f.t, "out-of-stock alert", func() bool { return f.alerts.has(alert.OutOfStock, false, "jd-100") })
	f.importCards("jd-100", "JD2", 5)
	f.waitStatus(o.ID, storage.StatusDelivered)
	f.waitCallbacks(o.ID, CallbackDelayed, CallbackDelivered)
	testkit.Eventually(f.t, "resolved alert", func() bool { return f.alerts.has(alert.OutOfStock, true, "jd-100") })
}

func TestStockWaitEndsInFailedOrAutoRefund(t *testing.T) {
	for _, tc := range []struct {
		name       string
		autoRefund []string
		want       storage.Status
		callback   string
	}{
		{"failed for a person", nil, storage.StatusFailed, CallbackFailed},
		{"auto refund configured", []string{ReasonOutOfStock}, storage.StatusRefunded, CallbackRefunded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, func(o *Options) { o.StockWait = 10 * time.Minute; o.AutoRefund = tc.autoRefund })
			o := f.submit("W-1", "jd-100", 1, 10000)
			testkit.Eventually(f.t, "waiting", func() bool { return f.order(o.ID).Reason == ReasonOutOfStock })
			testkit.Eventually(f.t, "registered as waiting", func() bool { return f.engine.Waiting("jd-100") == 1 })
			f.waitCallbacks(o.ID, CallbackDelayed) // signed at the old time: let it land before the clock jumps
			f.clock.Advance(9 * time.Minute)
			f.engine.ExpireWaits()
			if f.order(o.ID).Status != storage.StatusPending {
				t.Fatal("expired before stock_wait")
			}
			f.clock.Advance(time.Minute)
			f.engine.ExpireWaits()
			got := f.waitStatus(o.ID, tc.want)
			if got.Reason != ReasonOutOfStock {
				t.Errorf("reason = %q", got.Reason)
			}
			f.waitCallbacks(o.ID, CallbackDelayed, tc.callback)
			if tc.want == storage.StatusFailed {
				testkit.Eventually(f.t, "failed alert", func() bool { return f.alerts.has(alert.OrderFailed, false, "out_of_stock") })
			}
		})
	}
}

func TestRestartResumesPendingOrdersAndWaits(t *testing.T) {
	f := newFixture(t, nil)
	o := f.submit("R-1", "jd-100", 1, 10000)
	testkit.Eventually(f.t, "waiting", func() bool { return f.order(o.ID).Reason == ReasonOutOfStock })
	f.restart()
	if f.order(o.ID).Status != storage.StatusPending {
		t.Fatal("order lost its state over a restart")
	}
	testkit.Eventually(f.t, "waiting again after restart", func() bool { return f.engine.Waiting("jd-100") == 1 })
	f.importCards("jd-100", "R", 1)
	f.waitStatus(o.ID, storage.StatusDelivered)
	f.waitCallbacks(o.ID, CallbackDelayed, CallbackDelivered)
	if n := len(f.receiver.Types(fmt.Sprint(o.ID))); n != 2 {
		t.Errorf("%d distinct callbacks, want 2 (no second delayed after restart)", n)
	}
}
