package dujiao_test

import (
	"context"
	"testing"
	"time"

	"cardflow/api/dujiao"
	"cardflow/api/dujiao/djshop"
)

func TestTheFirstCallbackWaitsTwoSecondsAfterTheAnswer(t *testing.T) {
	t.Parallel() // it waits for real time
	r := newRig(t, rigOptions{hold: dujiao.DefaultHold})
	r.Stock(t, "qb-10", "QB-1")
	r.TopUp(t, shopID, 100)
	before := time.Now()
	buy := djshop.Purchase{SKUID: idQB, Quantity: 1, DownstreamOrderNo: "DJ-HOLD-1"}
	if _, err := r.shop.Buy(context.Background(), buy); err != nil {
		t.Fatal(err)
	}
	// Own stock is delivered in the write that accepts the order, so its
	// callback is due before the answer has even left.
	waitFor(t, r.shop, buy.DownstreamOrderNo, "delivered")
	got := applied(r.shop, buy.DownstreamOrderNo)
	if len(got) != 1 {
		t.Fatalf("callbacks %+v", got)
	}
	if wait := got[0].At.Sub(before); wait < dujiao.DefaultHold {
		t.Errorf("the callback came %s after the order was sent; at least %s after its answer is the rule", wait, dujiao.DefaultHold)
	}
}

func TestACallbackTheShopDidNotTakeIsSentAgainAndAppliedOnce(t *testing.T) {
	t.Parallel() // it waits for the outbox's backoff, in real time
	r := newRig(t, rigOptions{})
	r.Stock(t, "qb-10", "QB-1", "QB-2")
	r.TopUp(t, shopID, 100)
	r.shop.FailNext(2) // the shop is down for two callbacks
	buy := djshop.Purchase{SKUID: idQB, Quantity: 2, DownstreamOrderNo: "DJ-DOWN-1"}
	if _, err := r.shop.Buy(context.Background(), buy); err != nil {
		t.Fatal(err)
	}
	p := waitFor(t, r.shop, buy.DownstreamOrderNo, "delivered")
	r.Stop(t)
	all := r.shop.Received()
	if p.Payload != "QB-1\nQB-2" || len(all) != 3 || all[0].Status != 503 || all[1].Status != 503 || len(applied(r.shop, buy.DownstreamOrderNo)) != 1 {
		t.Errorf("delivered %+v after %+v", p, all)
	}
}

func TestACallbackIsSignedOverTheFixedPathWhereverTheShopTakesIt(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.Stock(t, "qb-10", "QB-1")
	r.TopUp(t, otherID, 100)
	// cardflow-shop2 takes its callbacks at /custom/callback/path.
	buy := djshop.Purchase{SKUID: idQB, Quantity: 1, DownstreamOrderNo: "DJ-PATH-1"}
	if _, err := r.other.Buy(context.Background(), buy); err != nil {
		t.Fatal(err)
	}
	if p := waitFor(t, r.other, buy.DownstreamOrderNo, "delivered"); p.Payload != "QB-1" {
		t.Errorf("delivered %+v", p)
	}
	if n := len(r.shop.Received()); n != 0 {
		t.Errorf("the other shop heard %d callbacks", n)
	}
}
