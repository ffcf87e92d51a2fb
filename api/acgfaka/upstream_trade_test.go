package acgfaka_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"cardflow/alert"
	"cardflow/api/acgfaka"
	"cardflow/api/acgfaka/acgshop"
	"cardflow/internal/dockingtest"
	"cardflow/internal/testkit"
	"cardflow/processor"
	"cardflow/storage"
)

// TestATradeGetsItsKeysAtOnceAndARepeatGetsTheSameOnesUncharged: own
// stock is delivered in the trade's answer, keys one per line with their
// passwords; the shop is charged the wholesale price once; the same
// request_no again (even with another num) answers the same keys and
// tradeNo and charges nothing; the order is not held for a claim.
func TestATradeGetsItsKeysAtOnceAndARepeatGetsTheSameOnesUncharged(t *testing.T) {
	r := newRig(t, nil)
	ctx := context.Background()
	r.TopUp(t, shopID, 100)
	r.Stock(t, "qb-10", "QB-0001,PW-1", "QB-0002,PW-2", "QB-0003,PW-3")

	start := time.Now()
	tr, err := r.shop.Trade(ctx, buy(codeQB, "202611251200000001", 2))
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took >= window {
		t.Errorf("own stock took %s, the whole window", took)
	}
	o := r.order(t, shopID, "202611251200000001")
	if tr.Secret != "QB-0001----PW-1\nQB-0002----PW-2" || tr.TradeNo != strconv.FormatUint(o.ID, 10) ||
		string(tr.Amount) != `"19.00"` || string(tr.Stock) != `"1"` {
		t.Fatalf("trade %+v", tr)
	}
	if b := r.Balance(t, shopID); b != 8100 {
		t.Fatalf("balance %s, want 81.00", b)
	}
	again := buy(codeQB, "202611251200000001", 1)
	again.Contact = "another"
	rep, err := r.shop.Trade(ctx, again)
	if err != nil || rep.Secret != tr.Secret || rep.TradeNo != tr.TradeNo {
		t.Fatalf("repeat %+v, %v", rep, err)
	}
	if b := r.Balance(t, shopID); b != 8100 || r.held(o.ID) {
		t.Fatalf("after the repeat: balance %s, held %v", b, r.held(o.ID))
	}
	// The other shop's number is its own, even when it is the same.
	r.TopUp(t, otherID, 10)
	other, err := r.other.Trade(ctx, buy(codeQB, "202611251200000001", 1))
	if err != nil || other.Secret != "QB-0003----PW-3" || other.TradeNo == tr.TradeNo {
		t.Fatalf("the other shop's trade %+v, %v", other, err)
	}
}

// TestEightIdenticalTradesAtOnceMakeOneOrder: a shop that sends the same
// trade eight times at once gets one order, charged once, and the same
// keys in every answer.
func TestEightIdenticalTradesAtOnceMakeOneOrder(t *testing.T) {
	r := newRig(t, nil)
	r.TopUp(t, shopID, 100)
	r.Stock(t, "qb-10", "QB-1", "QB-2", "QB-3", "QB-4")
	var wg sync.WaitGroup
	answers := make([]acgshop.Trade, 8)
	errs := make([]error, 8)
	for i := range answers {
		wg.Go(func() { answers[i], errs[i] = r.shop.Trade(context.Background(), buy(codeQB, "202611251200000008", 2)) })
	}
	wg.Wait()
	for i := range answers {
		if errs[i] != nil || answers[i].Secret != answers[0].Secret || answers[i].TradeNo != answers[0].TradeNo {
			t.Errorf("answer %d: %+v, %v (first %+v)", i, answers[i], errs[i], answers[0])
		}
	}
	if b := r.Balance(t, shopID); b != 10000-1900 {
		t.Errorf("balance %s, want 81.00: one charge", b)
	}
	levels, _ := r.Engine.StockLevels()
	if levels["qb-10"] != 2 {
		t.Errorf("stock %d, want 2: one order took keys", levels["qb-10"])
	}
}

// TestABalanceTooLowIsRefusedAndStoresNothing: 余额不足 with no order
// kept, so the same number goes through after a top-up.
func TestABalanceTooLowIsRefusedAndStoresNothing(t *testing.T) {
	r := newRig(t, nil)
	ctx := context.Background()
	r.Stock(t, "qb-10", "QB-1")
	r.TopUp(t, shopID, 9) // 9.00 < 9.50
	_, err := r.shop.Trade(ctx, buy(codeQB, "202611251200000002", 1))
	refused(t, "a trade on 9.00", err, acgfaka.ErrBalance)
	if _, err := r.Engine.OrderByExternal(shopID, "202611251200000002"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("a refused trade stored an order: %v", err)
	}
	r.TopUp(t, shopID, 1)
	tr, err := r.shop.Trade(ctx, buy(codeQB, "202611251200000002", 1))
	if err != nil || tr.Secret != "QB-1" {
		t.Fatalf("after the top-up: %+v, %v", tr, err)
	}
	if b := r.Balance(t, shopID); b != 50 {
		t.Fatalf("balance %s, want 0.50", b)
	}
}

// TestTooFewKeysIsRefusedBeforeAnythingIsCharged: a trade for more than
// own stock holds is refused as sold out and stores nothing.
func TestTooFewKeysIsRefusedBeforeAnythingIsCharged(t *testing.T) {
	r := newRig(t, nil)
	r.TopUp(t, shopID, 100)
	r.Stock(t, "qb-10", "QB-1")
	_, err := r.shop.Trade(context.Background(), buy(codeQB, "202611251200000003", 2))
	refused(t, "2 of 1 in stock", err, acgfaka.ErrSoldOut)
	if _, err := r.Engine.OrderByExternal(shopID, "202611251200000003"); !errors.Is(err, storage.ErrNotFound) || r.Balance(t, shopID) != 10000 {
		t.Fatalf("stored %v, balance %s", err, r.Balance(t, shopID))
	}
}

// TestAReviewedOrderIsPendingThenItsRepeatGetsTheKeysAndClaimsIt: an
// order held for review is answered "处理中" within the window and held
// for its claim; once an operator approves, the repeated trade gets the
// keys and the order is claimed, and stays delivered past the claim
// period.
func TestAReviewedOrderIsPendingThenItsRepeatGetsTheKeysAndClaimsIt(t *testing.T) {
	r := newRig(t, dockingtest.ReviewFrom(3))
	ctx := context.Background()
	r.TopUp(t, shopID, 100)
	r.Stock(t, "qb-10", "QB-1", "QB-2", "QB-3")
	start := time.Now()
	_, err := r.shop.Trade(ctx, buy(codeQB, "202611251200000004", 3))
	refused(t, "a trade held for review", err, acgfaka.ErrPending)
	if took := time.Since(start); took < window || took > window+2*time.Second {
		t.Errorf("answered after %s, want the window of %s", took, window)
	}
	o := r.order(t, shopID, "202611251200000004")
	if o.Status != storage.StatusReview || !r.held(o.ID) || r.Balance(t, shopID) != 10000-2850 {
		t.Fatalf("order %s, held %v, balance %s", o.Status, r.held(o.ID), r.Balance(t, shopID))
	}
	if _, err := r.Engine.Approve(dockingtest.Operator, o.ID); err != nil {
		t.Fatal(err)
	}
	tr, err := r.shop.Trade(ctx, buy(codeQB, "202611251200000004", 3))
	if err != nil || tr.Secret != "QB-1\nQB-2\nQB-3" || tr.TradeNo != strconv.FormatUint(o.ID, 10) {
		t.Fatalf("the repeat after approval: %+v, %v", tr, err)
	}
	if r.held(o.ID) {
		t.Fatal("the order is still held after its keys went out")
	}
	if b := r.Balance(t, shopID); b != 10000-2850 {
		t.Fatalf("balance %s: charged again", b)
	}
}

// TestARefusedReviewIsAnsweredWithTheRefusalOnTheRepeat: an operator's
// refusal refunds the shop; the repeat gets a message a buyer can read,
// the order is claimed, and the refund's callback is acknowledged (the
// outbox is left empty).
func TestARefusedReviewIsAnsweredWithTheRefusalOnTheRepeat(t *testing.T) {
	r := newRig(t, dockingtest.ReviewFrom(3))
	ctx := context.Background()
	r.TopUp(t, shopID, 100)
	r.Stock(t, "qb-10", "QB-1", "QB-2", "QB-3")
	_, err := r.shop.Trade(ctx, buy(codeQB, "202611251200000005", 3))
	refused(t, "a trade held for review", err, acgfaka.ErrPending)
	o := r.order(t, shopID, "202611251200000005")
	if _, err := r.Engine.Refund(dockingtest.Operator, o.ID, "looks like fraud"); err != nil {
		t.Fatal(err)
	}
	_, err = r.shop.Trade(ctx, buy(codeQB, "202611251200000005", 3))
	refused(t, "the repeat after a refusal", err, acgfaka.ErrNotDone)
	if r.held(o.ID) || r.Balance(t, shopID) != 10000 {
		t.Fatalf("held %v, balance %s", r.held(o.ID), r.Balance(t, shopID))
	}
	testkit.Eventually(t, "the outbox empty", func() bool { return r.Engine.Backlog() == 0 })
}

// TestAnOrderNobodyClaimsIsRefundedAndItsKeysRestocked: an order answered
// "处理中" and delivered later, whose shop never comes back, is refunded
// after the claim period (1 h here) and its keys go back to stock, with
// an alert; a late repeat gets the refusal. It runs the engine's
// claim sweep, called here as the engine's minute timer would.
func TestAnOrderNobodyClaimsIsRefundedAndItsKeysRestocked(t *testing.T) {
	t.Parallel()
	r := newRig(t, dockingtest.ReviewFrom(3))
	ctx := context.Background()
	r.TopUp(t, shopID, 100)
	r.Stock(t, "qb-10", "QB-1", "QB-2", "QB-3")
	_, err := r.shop.Trade(ctx, buy(codeQB, "202611251200000006", 3))
	refused(t, "a trade held for review", err, acgfaka.ErrPending)
	o := r.order(t, shopID, "202611251200000006")
	if _, err := r.Engine.Approve(dockingtest.Operator, o.ID); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "the approved order delivered", func() bool {
		got, _ := r.Engine.Order(o.ID)
		return got.Status == storage.StatusDelivered
	})
	r.clock.Advance(time.Hour + time.Minute)
	r.Engine.ReclaimDue()
	if got, _ := r.Engine.Order(o.ID); got.Status != storage.StatusRefunded || got.Reason != processor.ReasonUnclaimed {
		t.Fatalf("the unclaimed order is %s (%s), want refunded (unclaimed)", got.Status, got.Reason)
	}
	levels, _ := r.Engine.StockLevels()
	if b := r.Balance(t, shopID); b != 10000 || levels["qb-10"] != 3 {
		t.Fatalf("balance %s, stock %d: want the charge and the keys back", b, levels["qb-10"])
	}
	_, err = r.shop.Trade(ctx, buy(codeQB, "202611251200000006", 3))
	refused(t, "a repeat after the claim period", err, acgfaka.ErrNotDone)
	testkit.Eventually(t, "the order_unclaimed alert", func() bool { return r.logsHave(string(alert.OrderUnclaimed)) })
}

// TestAStoppingEngineIsBusyAndPromisesNothing: a trade while cardflow
// stops gets 系统繁忙 and no order.
func TestAStoppingEngineIsBusyAndPromisesNothing(t *testing.T) {
	r := newRig(t, nil)
	r.TopUp(t, shopID, 100)
	r.Stock(t, "qb-10", "QB-1")
	r.Engine.Stop()
	_, err := r.shop.Trade(context.Background(), buy(codeQB, "202611251200000007", 1))
	refused(t, "a trade while stopping", err, acgfaka.ErrInternal)
	if _, err := r.Engine.OrderByExternal(shopID, "202611251200000007"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("stored: %v", err)
	}
}

// TestTheMcyPluginsTradeAndQueryGetTheKeys: a trade as the mcy V3 plugin
// sends it (no contact, card_id or device) gets the keys; query by the
// tradeNo answers them too, and another shop's query of it finds nothing.
func TestTheMcyPluginsTradeAndQueryGetTheKeys(t *testing.T) {
	r := newRig(t, nil)
	ctx := context.Background()
	r.TopUp(t, shopID, 100)
	r.Stock(t, "jd-50", "JD-1,PW-1")
	o := buy(codeJD, "2026112512000000901", 1)
	o.Plugin = true
	tr, err := r.shop.Trade(ctx, o)
	if err != nil || tr.Secret != "JD-1----PW-1" {
		t.Fatalf("plugin trade %+v, %v", tr, err)
	}
	data, err := r.shop.Call(ctx, acgfaka.PathQuery, []acgfaka.Field{{Name: "tradeNo", Value: tr.TradeNo}})
	if err != nil || string(data) != `{"secret":"JD-1----PW-1","widget":null,"status":1}` {
		t.Fatalf("query %s, %v", data, err)
	}
	for _, no := range []string{"99999", "abc"} {
		_, err = r.shop.Call(ctx, acgfaka.PathQuery, []acgfaka.Field{{Name: "tradeNo", Value: no}})
		refused(t, "query of "+no, err, acgfaka.ErrNoOrder)
	}
	_, err = r.other.Call(ctx, acgfaka.PathQuery, []acgfaka.Field{{Name: "tradeNo", Value: tr.TradeNo}})
	refused(t, "another shop's query", err, acgfaka.ErrNoOrder)
}
