package main

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"cardflow/api/acgfaka"
	"cardflow/api/acgfaka/acgshop"
	"cardflow/internal/testkit"
)

// TestAnAcgFakaShopBuysFromTheRealBinary: the binary with an acg-faka
// storefront in its config; the shop connects and syncs the item, is
// refused for want of money, is topped up through the admin API, and
// gets its keys in the trade's answer; a repeat answers the same keys and
// charges once; after kill -9 and a restart the repeat still answers the
// same keys.
func TestAnAcgFakaShopBuysFromTheRealBinary(t *testing.T) {
	s, d := newDockingService(t, "", "")
	p := d.start(t, s)
	shop := d.acg
	ctx := context.Background()

	c, err := shop.Connect(ctx)
	if err != nil || c.ShopName != "cardflow" || c.Balance != "0.00" {
		t.Fatalf("connect %+v, %v\n%s", c, err, p.logs())
	}
	groups, err := shop.Items(ctx)
	if err != nil || len(groups) != 1 || groups[0].Name != "购物卡" || len(groups[0].Children) != 1 || groups[0].Children[0].Code != "1001" {
		t.Fatalf("items %+v, %v", groups, err)
	}
	if it, err := shop.Sync(ctx, "1001"); err != nil || it.Price.String() != "48.00" {
		t.Fatalf("sync %+v, %v", it, err)
	}
	importKeys(t, s, "JD", 2)
	if n, err := shop.Stock(ctx, "1001", "", nil); err != nil || n != "2" {
		t.Fatalf("stock %q, %v", n, err)
	}
	order := acgshop.Order{Code: "1001", Contact: "k3J9xQm2Lp8Vz1Rt", Num: 2, RequestNo: "202611251200000001"}
	var refusal *acgshop.Error
	if _, err := shop.Trade(ctx, order); !errors.As(err, &refusal) || refusal.Msg != acgfaka.ErrBalance.Msg {
		t.Fatalf("a trade on 0.00: %v", err)
	}

	topUp(t, s, acgShopID, `{"amount":"100.00","reason":"e2e top-up"}`, "100.00")
	tr, err := shop.Trade(ctx, order)
	want := "JD-0001----PW-1\nJD-0002----PW-2"
	if err != nil || tr.Secret != want || tr.TradeNo == "" {
		t.Fatalf("trade %+v, %v", tr, err)
	}
	again, err := shop.Trade(ctx, order)
	if err != nil || again.Secret != want || again.TradeNo != tr.TradeNo {
		t.Fatalf("repeat %+v, %v", again, err)
	}
	if c, err := shop.Connect(ctx); err != nil || c.Balance != "4.00" {
		t.Fatalf("balance after a trade and its repeat: %+v, %v", c, err)
	}

	// kill -9 and back: the answered trade is all there.
	p.kill()
	p = d.start(t, s)
	if again, err := shop.Trade(ctx, order); err != nil || again.Secret != want || again.TradeNo != tr.TradeNo {
		t.Errorf("repeat after a restart %+v, %v", again, err)
	}
	if c, err := shop.Connect(ctx); err != nil || c.Balance != "4.00" {
		t.Errorf("balance after a restart %+v, %v", c, err)
	}
	if strings.Contains(p.logs(), testACGKey) {
		t.Error("the app_key is in the logs")
	}
}

// TestAnAcgFakaTradeHeldForReviewGivesItsKeysToTheRetryAfterApproval: a
// trade is synchronous, so one held for review is answered within its
// sync_window with code 0 and a message the buyer can read, charged and
// kept. Approved through the admin API, the order's keys go to the shop's
// retry with the same request_no, charged once; refused by the operator,
// the retry gets the refusal and the charge comes back. acg-faka has no
// cancel: only an operator, or the claim period, takes an order back.
func TestAnAcgFakaTradeHeldForReviewGivesItsKeysToTheRetryAfterApproval(t *testing.T) {
	s, d, desk := startReview(t, `sync_window = "1s"`, acgShopID, 300)
	shop, admin, ctx := d.acg, s.adminClient(), context.Background()
	importKeys(t, s, "JD", 10)
	trade := func(requestNo string) (acgshop.Trade, error) {
		return shop.Trade(ctx, acgshop.Order{Code: strconv.Itoa(dockedID), Contact: "k3J9xQm2Lp8Vz1Rt", Num: 3, RequestNo: requestNo})
	}
	var e *acgshop.Error
	held := func(requestNo string) string {
		t.Helper()
		if _, err := trade(requestNo); !errors.As(err, &e) || e.Msg != acgfaka.ErrPending.Msg {
			t.Fatalf("a trade held for review answered %v", err)
		}
		return desk.next(t)
	}
	ok, no := held("202611251500000001"), held("202611251500000002")
	if c, err := shop.Connect(ctx); err != nil || string(c.Balance) != yuan(300-2*3*dockedPrice) {
		t.Errorf("balance with two trades held: %+v, %v", c, err)
	}
	if st, err := admin.Approve(ctx, ok); err != nil || st == "review" {
		t.Fatalf("approve: %q, %v", st, err)
	}
	if st, err := admin.Refund(ctx, no, "e2e: the operator refuses it"); err != nil || st != "refunded" {
		t.Fatalf("refund: %q, %v", st, err)
	}

	var (
		keys acgshop.Trade
		err  error
	)
	testkit.EventuallyWithin(t, 20*time.Second, "a retry of the approved trade answered other than 订单处理中", func() bool {
		keys, err = trade("202611251500000001")
		return !errors.As(err, &e) || e.Msg != acgfaka.ErrPending.Msg
	})
	if err != nil || !keyLines(keys.Secret, 3) || keys.TradeNo != ok {
		t.Errorf("the retry after approval: %+v, %v", keys, err)
	}
	if again, err := trade("202611251500000001"); err != nil || again.Secret != keys.Secret || again.TradeNo != ok {
		t.Errorf("a repeat: %+v, %v", again, err)
	}
	if _, err := trade("202611251500000002"); !errors.As(err, &e) || e.Msg != acgfaka.ErrNotDone.Msg {
		t.Errorf("the retry after a refusal: %v", err)
	}
	if c, err := shop.Connect(ctx); err != nil || string(c.Balance) != yuan(300-3*dockedPrice) {
		t.Errorf("balance: %+v, %v", c, err)
	}
	if n := dockedStock(t, s); n != 10-3 {
		t.Errorf("stock %d after one delivery of 3 from 10", n)
	}
}
