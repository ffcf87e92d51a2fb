package dujiao_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"

	"cardflow/api/dujiao"
	"cardflow/api/dujiao/djshop"
	"cardflow/internal/dockingtest"
	"cardflow/internal/testkit"
	"cardflow/storage"
)

func TestAShopBuysKeysAndHearsOfThemOnceByCallbackAndByPoll(t *testing.T) {
	r := newRig(t, rigOptions{})
	ctx := context.Background()
	r.Stock(t, "qb-10", "QB-0001,PW-1", "QB-0002", "QB-0003,PW-3,2027-12-31")
	r.TopUp(t, shopID, 100)
	buy := djshop.Purchase{SKUID: idQB, Quantity: 3, DownstreamOrderNo: "DJ20261125120000ABCD-01", TraceID: "3f0c7a52-8d7e-4a51-9c1e-2b7d3a9e6f10"}
	a, err := r.shop.Buy(ctx, buy)
	if err != nil {
		t.Fatal(err)
	}
	if a.OrderID == 0 || a.OrderNo != strconv.FormatUint(uint64(a.OrderID), 10) || a.Status != "paid" || a.Amount != "28.50" || a.Currency != "CNY" {
		t.Errorf("answer %+v", a)
	}
	p := waitFor(t, r.shop, buy.DownstreamOrderNo, "delivered")
	want := "QB-0001----PW-1\nQB-0002\nQB-0003----PW-3----2027-12-31"
	if p.Payload != want || p.Deliveries != 1 {
		t.Errorf("delivered %+v, want payload %q", p, want)
	}
	if got := r.Balance(t, shopID); got != 7150 {
		t.Errorf("balance %s after 3 × 9.50 from 100.00", got)
	}

	// The poll tells the same delivery.
	o, err := r.shop.Order(ctx, a.OrderID)
	if err != nil {
		t.Fatal(err)
	}
	if o.Status != "delivered" || o.Fulfillment == nil || o.Fulfillment.Payload != want || o.Fulfillment.Type != "auto" ||
		o.Fulfillment.DeliveredAt == nil || o.Amount != "28.50" || o.RefundedAmount != "0.00" || len(o.Items) != 1 {
		t.Fatalf("poll %+v", o)
	}
	if it := o.Items[0]; it.ProductID != idQB || it.SKUID != idQB || it.Quantity != 3 || it.UnitPrice != "9.50" ||
		it.TotalPrice != "28.50" || it.FulfillmentType != "auto" || it.Title["zh-CN"] != "Q币 10元" {
		t.Errorf("item %+v", it)
	}

	// The shop retries the same number: the same order, not charged again.
	again, err := r.shop.Buy(ctx, buy)
	if err != nil || again.OrderID != a.OrderID || again.Amount != "28.50" {
		t.Errorf("repeat %+v, %v", again, err)
	}
	if got := r.Balance(t, shopID); got != 7150 {
		t.Errorf("balance %s after the repeat", got)
	}
	stored, err := r.Engine.Order(uint64(a.OrderID))
	if err != nil || stored.ExternalID != buy.DownstreamOrderNo || stored.Extra["dujiao_trace_id"] != buy.TraceID ||
		stored.Extra["dujiao_callback_url"] != r.shop.CallbackURL {
		t.Errorf("stored order %+v, %v", stored, err)
	}

	r.Stop(t) // nothing more can come
	if got := applied(r.shop, buy.DownstreamOrderNo); len(got) != 1 || got[0].Callback.Event != "order.fulfilled" ||
		got[0].Callback.OrderID != a.OrderID || got[0].Callback.OrderNo != a.OrderNo {
		t.Errorf("callbacks %+v", got)
	}
}

func TestTheSameOrderSentAtOnceIsOneOrderChargedOnce(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.Stock(t, "jd-50", "JD-1", "JD-2")
	r.TopUp(t, shopID, 100)
	buy := djshop.Purchase{SKUID: idJD, Quantity: 2, DownstreamOrderNo: "DJ-RACE-1", TraceID: "t1"}
	ids := make([]uint, 8)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Go(func() {
			a, err := r.shop.Buy(context.Background(), buy)
			if err != nil {
				t.Error(err)
			}
			ids[i] = a.OrderID
		})
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] || id == 0 {
			t.Fatalf("order ids %v", ids)
		}
	}
	if got := r.Balance(t, shopID); got != 400 {
		t.Errorf("balance %s: 100.00 less 2 × 48.00 once is 4.00", got)
	}
	waitFor(t, r.shop, buy.DownstreamOrderNo, "delivered")
}

func TestAnOrderTheBalanceCannotCoverIsRefusedAndGoesThroughAfterATopUp(t *testing.T) {
	r := newRig(t, rigOptions{})
	ctx := context.Background()
	r.Stock(t, "jd-50", "JD-1")
	r.TopUp(t, shopID, 40)
	buy := djshop.Purchase{SKUID: idJD, Quantity: 1, DownstreamOrderNo: "DJ-BAL-1"}
	_, err := r.shop.Buy(ctx, buy)
	if e, ok := err.(*djshop.APIError); !ok || e.Status != 200 || e.Code != "insufficient_balance" || !e.Final() ||
		e.Message != dujiao.MsgInsufficientBalance {
		t.Fatalf("a 48.00 order on 40.00: %v", err) // the message is what the shop's buyer reads in their order
	}
	if got := r.Balance(t, shopID); got != 4000 {
		t.Errorf("a refusal took money: %s", got)
	}
	// The shop's admin presses 重试 after a top-up: the same number goes through.
	r.TopUp(t, shopID, 10)
	a, err := r.shop.Buy(ctx, buy)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, r.shop, buy.DownstreamOrderNo, "delivered")
	if got := r.Balance(t, shopID); got != 200 || a.Amount != "48.00" {
		t.Errorf("balance %s, answer %+v", got, a)
	}
}

func TestAnOrderHeldForReviewIsAcceptedAtOnceAndDeliveredAfterApproval(t *testing.T) {
	r := newRig(t, rigOptions{screen: dockingtest.ReviewFrom(5)})
	ctx := context.Background()
	r.Stock(t, "qb-10", "QB-1", "QB-2", "QB-3", "QB-4", "QB-5")
	r.TopUp(t, shopID, 100)
	buy := djshop.Purchase{SKUID: idQB, Quantity: 5, DownstreamOrderNo: "DJ-REVIEW-1"}
	a, err := r.shop.Buy(ctx, buy)
	if err != nil || a.Status != "paid" {
		t.Fatalf("answer %+v, %v", a, err)
	}
	if o, err := r.shop.Order(ctx, a.OrderID); err != nil || o.Status != "fulfilling" || o.Fulfillment != nil {
		t.Errorf("in review the poll says %+v, %v", o, err)
	}
	if _, err := r.Engine.Approve(dockingtest.Operator, uint64(a.OrderID)); err != nil {
		t.Fatal(err)
	}
	p := waitFor(t, r.shop, buy.DownstreamOrderNo, "delivered")
	if p.Payload != "QB-1\nQB-2\nQB-3\nQB-4\nQB-5" {
		t.Errorf("payload %q", p.Payload)
	}
	// Delivered: too late to cancel. The order stays delivered and charged.
	if err := r.shop.Cancel(ctx, a.OrderID); !isAPIError(err, 409, "cancel_not_allowed") {
		t.Errorf("cancel after delivery: %v", err)
	}
	if got := r.Balance(t, shopID); got != 10000-5*950 {
		t.Errorf("balance %s", got)
	}
}

func TestAnOrderRefusedInReviewIsCanceledByCallbackAndPaidBack(t *testing.T) {
	r := newRig(t, rigOptions{screen: dockingtest.ReviewFrom(5)})
	ctx := context.Background()
	r.Stock(t, "qb-10", "QB-1", "QB-2", "QB-3", "QB-4", "QB-5")
	r.TopUp(t, shopID, 100)
	buy := djshop.Purchase{SKUID: idQB, Quantity: 5, DownstreamOrderNo: "DJ-REVIEW-2"}
	a, err := r.shop.Buy(ctx, buy)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Balance(t, shopID); got != 10000-5*950 {
		t.Errorf("balance %s while held", got)
	}
	if _, err := r.Engine.Refund(dockingtest.Operator, uint64(a.OrderID), "looks like fraud"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, r.shop, buy.DownstreamOrderNo, "canceled")
	if got := r.Balance(t, shopID); got != 10000 {
		t.Errorf("balance %s after the refusal", got)
	}
	o, err := r.shop.Order(ctx, a.OrderID)
	if err != nil || o.Status != "canceled" || o.RefundedAmount != "47.50" || o.Fulfillment != nil {
		t.Errorf("poll %+v, %v", o, err)
	}
	// The number is taken by a canceled order: a repeat answers it as it is.
	again, err := r.shop.Buy(ctx, buy)
	if err != nil || again.OrderID != a.OrderID || again.Status != "canceled" {
		t.Errorf("repeat %+v, %v", again, err)
	}
	if got := applied(r.shop, buy.DownstreamOrderNo); len(got) != 1 || got[0].Callback.Event != "order.status_changed" ||
		got[0].Callback.Fulfillment != nil {
		t.Errorf("callbacks %+v", got)
	}
}

func TestAShopCancelsAnOrderNothingWasBoughtForAndGetsItsMoneyBack(t *testing.T) {
	r := newRig(t, rigOptions{})
	ctx := context.Background()
	r.TopUp(t, shopID, 100)
	// No stock: the order waits, and the shop hears nothing of the wait.
	buy := djshop.Purchase{SKUID: idJD, Quantity: 1, DownstreamOrderNo: "DJ-CANCEL-1"}
	a, err := r.shop.Buy(ctx, buy)
	if err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "the order waiting for stock", func() bool {
		o, err := r.Engine.Order(uint64(a.OrderID))
		return err == nil && o.Status == storage.StatusPending && len(o.DelayCauses) > 0
	})
	if err := r.shop.Cancel(ctx, a.OrderID); err != nil {
		t.Fatal(err)
	}
	if got := r.Balance(t, shopID); got != 10000 {
		t.Errorf("balance %s after the cancel", got)
	}
	// Asked again, the cancel is granted again; the order stays canceled.
	if err := r.shop.Cancel(ctx, a.OrderID); err != nil {
		t.Errorf("a second cancel: %v", err)
	}
	waitFor(t, r.shop, buy.DownstreamOrderNo, "canceled")
	r.Stop(t)
	if got := r.shop.Received(); len(got) != 1 || got[0].Callback.Status != "canceled" {
		t.Errorf("the shop heard %+v; a wait is told to no one", got)
	}
}

func TestAShopSeesAndCancelsOnlyItsOwnOrders(t *testing.T) {
	r := newRig(t, rigOptions{})
	ctx := context.Background()
	r.TopUp(t, shopID, 100)
	a, err := r.shop.Buy(ctx, djshop.Purchase{SKUID: idJD, Quantity: 1, DownstreamOrderNo: "DJ-MINE-1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.other.Order(ctx, a.OrderID); !isAPIError(err, 404, "order_not_found") {
		t.Errorf("another shop's poll: %v", err)
	}
	if err := r.other.Cancel(ctx, a.OrderID); !isAPIError(err, 404, "order_not_found") {
		t.Errorf("another shop's cancel: %v", err)
	}
	for _, id := range []string{"999999", "0", "01", "-1", "x"} {
		for _, path := range []string{"/api/v1/upstream/orders/" + id, "/api/v1/upstream/orders/" + id + "/cancel"} {
			method := "GET"
			if len(path) > 30 && path[len(path)-6:] == "cancel" {
				method = "POST"
			}
			status, body, err := r.shop.Do(ctx, method, path, nil)
			if err != nil || status != 404 || string(body) != `{"ok":false,"error_code":"order_not_found","error_message":"no such order"}` {
				t.Errorf("%s %s: %d %s %v", method, path, status, body, err)
			}
		}
	}
	if o, err := r.Engine.Order(uint64(a.OrderID)); err != nil || o.Status == storage.StatusRefunded {
		t.Errorf("the order after another shop's cancel: %+v, %v", o, err)
	}
	// The same number from two shops is two orders.
	b, err := r.other.Buy(ctx, djshop.Purchase{SKUID: idJD, Quantity: 1, DownstreamOrderNo: "DJ-MINE-1"})
	if !isAPIError(err, 200, "insufficient_balance") {
		t.Errorf("the other shop, without money: %+v, %v", b, err)
	}
}

func TestATopUpCarriesTheBuyersAccountAndIsDeliveredWithAReceipt(t *testing.T) {
	r := newRig(t, rigOptions{})
	ctx := context.Background()
	r.TopUp(t, shopID, 100)
	buy := djshop.Purchase{SKUID: idMobile, Quantity: 1, DownstreamOrderNo: "DJ-TOPUP-1", Form: map[string]string{"account": "13800138000"}}
	a, err := r.shop.Buy(ctx, buy)
	if err != nil {
		t.Fatal(err)
	}
	p := waitFor(t, r.shop, buy.DownstreamOrderNo, "delivered")
	if want := fmt.Sprintf("充值成功：13800138000 ×1（cardflow 订单 %d）", a.OrderID); p.Payload != want {
		t.Errorf("payload %q, want %q", p.Payload, want)
	}
	o, err := r.Engine.Order(uint64(a.OrderID))
	if err != nil || o.Account != "13800138000" {
		t.Errorf("stored %+v, %v", o, err)
	}
	polled, err := r.shop.Order(ctx, a.OrderID)
	if err != nil || polled.Fulfillment == nil || polled.Fulfillment.Type != "manual" || polled.Items[0].FulfillmentType != "manual" {
		t.Errorf("poll %+v, %v", polled, err)
	}
}
