package main

import (
	"context"
	"errors"
	"testing"
	"time"

	"cardflow/api/dujiao"
	"cardflow/api/dujiao/djshop"
	"cardflow/internal/testkit"
)

// TestADujiaoWebhookShopBuysFromTheRealBinary: the binary with a
// dujiao-webhook storefront beside a dujiao-next one. The webhook shop's
// connection test passes; its order is refused for want of money, goes
// through after a top-up and is delivered by callback; a repeat is the same
// order, charged once, before and after kill -9 and a restart. The
// dujiao-next shop is served on the same tree all along.
func TestADujiaoWebhookShopBuysFromTheRealBinary(t *testing.T) {
	s, d := newDockingService(t, "", "")
	p := d.start(t, s)
	hook, dj := d.hook, d.dj
	ctx := context.Background()

	if err := hook.Test(ctx); err != nil {
		t.Fatalf("connection test: %v\n%s", err, p.logs())
	}
	if ping, err := dj.Ping(ctx); err != nil || ping.SiteName != "cardflow" {
		t.Errorf("the dujiao-next shop's ping beside it: %+v, %v", ping, err)
	}
	importKeys(t, s, "JD", 2)
	buy := djshop.WebhookPurchase{OrderNo: "DJ20261125120000HOOK", TraceID: "e2e", ProductID: 55, SKUID: 56, SKUCode: "jd-50",
		Quantity: 2, Amount: "110.00"}
	var refused *djshop.WebhookError
	if _, err := hook.Push(ctx, buy); !errors.As(err, &refused) || refused.Code != "insufficient_balance" || refused.Retry {
		t.Fatalf("an order on 0.00: %v", err)
	}

	topUp(t, s, hookShopID, `{"amount":"100.00","reason":"e2e top-up"}`, "100.00")
	no, err := hook.Push(ctx, buy)
	if err != nil || no == "" {
		t.Fatalf("order: %q, %v", no, err)
	}
	testkit.Eventually(t, "the delivery by callback", func() bool {
		got, _ := hook.Procurement(buy.OrderNo)
		return got.Deliveries > 0
	})
	if got, _ := hook.Procurement(buy.OrderNo); got.Payload != "JD-0001----PW-1\nJD-0002----PW-2" || got.Callbacks != 1 {
		t.Errorf("by callback %+v", got)
	}
	if again, err := hook.Push(ctx, buy); err != nil || again != no {
		t.Errorf("repeat %q, %v; want %q", again, err, no)
	}
	topUp(t, s, hookShopID, `{"amount":"0.01","reason":"read the balance"}`, "4.01")

	// kill -9 and back: the order answered is still the shop's order.
	p.kill()
	d.start(t, s)
	if again, err := hook.Push(ctx, buy); err != nil || again != no {
		t.Errorf("repeat after a restart %q, %v; want %q", again, err, no)
	}
	topUp(t, s, hookShopID, `{"amount":"0.01","reason":"read the balance"}`, "4.02")
	if got := hook.Problems(); len(got) > 0 {
		t.Errorf("the shop saw %v", got)
	}
}

// TestADujiaoWebhookShopsHeldOrderIsDeliveredOnApprovalAndCanceledOnRefusal:
// two webhook orders of 3 keys are held for review, each answered at once
// and prompted as #order_no. Approved through the admin API, the first is
// delivered by callback; refused, the second is called back canceled and
// its charge credited. A repeat of either is the same order, charged
// nothing. The webhook protocol has no cancel of its own, so only an
// operator takes an order back.
func TestADujiaoWebhookShopsHeldOrderIsDeliveredOnApprovalAndCanceledOnRefusal(t *testing.T) {
	s, d, desk := startReview(t, "", hookShopID, 300)
	hook, admin, ctx := d.hook, s.adminClient(), context.Background()
	importKeys(t, s, "JD", 10)
	push := func(no string) string {
		t.Helper()
		got, err := hook.Push(ctx, djshop.WebhookPurchase{OrderNo: no, TraceID: "e2e", ProductID: 55, SKUID: 56, SKUCode: dockedSKU,
			Quantity: 3, Amount: "165.00"})
		if err != nil {
			t.Fatalf("order %s: %v", no, err)
		}
		return got
	}
	ok := push("DJ20261125140000OK")
	if id := desk.next(t); id != ok {
		t.Fatalf("the prompt names #%s for order_no %s", id, ok)
	}
	no := push("DJ20261125140000NO")
	if id := desk.next(t); id != no {
		t.Fatalf("the prompt names #%s for order_no %s", id, no)
	}
	if got := balanceOf(t, s, hookShopID); got != yuan(300-2*3*dockedPrice) {
		t.Errorf("balance with two orders held: %s", got)
	}
	if st, err := admin.Approve(ctx, ok); err != nil || st == "review" {
		t.Fatalf("approve: %q, %v", st, err)
	}
	if st, err := admin.Refund(ctx, no, "e2e: the operator refuses it"); err != nil || st != "refunded" {
		t.Fatalf("refund: %q, %v", st, err)
	}
	testkit.EventuallyWithin(t, 20*time.Second, "the approved order delivered by callback, the refused one canceled", func() bool {
		a, _ := hook.Procurement("DJ20261125140000OK")
		b, _ := hook.Procurement("DJ20261125140000NO")
		return a.Deliveries > 0 && b.Status == dujiao.StatusCanceled
	})
	if got, _ := hook.Procurement("DJ20261125140000OK"); !keyLines(got.Payload, 3) {
		t.Errorf("delivered %q", got.Payload)
	}
	if again := push("DJ20261125140000OK"); again != ok {
		t.Errorf("a repeat of the delivered order is %s, not %s", again, ok)
	}
	if again := push("DJ20261125140000NO"); again != no {
		t.Errorf("a repeat of the canceled order is %s, not %s", again, no)
	}
	if got := balanceOf(t, s, hookShopID); got != yuan(300-3*dockedPrice) {
		t.Errorf("balance: %s", got)
	}
	if n := dockedStock(t, s); n != 10-3 {
		t.Errorf("stock %d after one delivery of 3 from 10", n)
	}
	if got := hook.Problems(); len(got) > 0 {
		t.Errorf("the shop saw %v", got)
	}
}
