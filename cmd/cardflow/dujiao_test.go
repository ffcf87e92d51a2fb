package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"cardflow/api/dujiao"
	"cardflow/api/dujiao/djshop"
	"cardflow/internal/testkit"
)

// TestADujiaoNextShopBuysFromTheRealBinary: the binary with a dujiao-next
// storefront in its config; the shop connects, is refused for want of
// money, is topped up through the admin API, buys own-stock keys and gets
// them by callback and by poll; a repeat is the same order, charged once;
// after kill -9 and a restart the order is still there, keys and all.
func TestADujiaoNextShopBuysFromTheRealBinary(t *testing.T) {
	s, d := newDockingService(t, "", "")
	p := d.start(t, s)
	shop := d.dj
	ctx := context.Background()

	ping, err := shop.Ping(ctx)
	if err != nil || ping.Balance != "0.00" || ping.SiteName != "cardflow" {
		t.Fatalf("ping %+v, %v\n%s", ping, err, p.logs())
	}
	products, complete, err := shop.Products(ctx, 50)
	if err != nil || !complete || len(products) != 1 || products[0].ID != 1001 || products[0].PriceAmount != "48.00" ||
		products[0].SKUs[0].StockQuantity != 0 {
		t.Fatalf("products %+v, complete %v, %v", products, complete, err)
	}
	importKeys(t, s, "JD", 2)
	buy := djshop.Purchase{SKUID: 1001, Quantity: 2, DownstreamOrderNo: "DJ20261125120000E2E-01", TraceID: "e2e"}
	if _, err := shop.Buy(ctx, buy); err == nil || !strings.Contains(err.Error(), "insufficient_balance") {
		t.Fatalf("an order on 0.00: %v", err)
	}

	topUp(t, s, djShopID, `{"amount":"100.00","reason":"e2e top-up"}`, "100.00")
	a, err := shop.Buy(ctx, buy)
	if err != nil {
		t.Fatal(err)
	}
	want := "JD-0001----PW-1\nJD-0002----PW-2"
	testkit.Eventually(t, "the delivery by callback", func() bool { return shop.Delivered(buy.DownstreamOrderNo) })
	if got, _ := shop.Procurement(buy.DownstreamOrderNo); got.Payload != want || got.Callbacks != 1 {
		t.Errorf("by callback %+v", got)
	}
	o, err := shop.Order(ctx, a.OrderID)
	if err != nil || o.Status != "delivered" || o.Fulfillment == nil || o.Fulfillment.Payload != want {
		t.Errorf("poll %+v, %v", o, err)
	}
	again, err := shop.Buy(ctx, buy)
	if err != nil || again.OrderID != a.OrderID {
		t.Errorf("repeat %+v, %v", again, err)
	}
	topUp(t, s, djShopID, `{"amount":"0.01","reason":"read the balance"}`, "4.01")

	// kill -9 and back: what was answered ok:true is all there.
	p.kill()
	d.start(t, s)
	o, err = shop.Order(ctx, a.OrderID)
	if err != nil || o.Status != "delivered" || o.Fulfillment == nil || o.Fulfillment.Payload != want {
		t.Errorf("poll after a restart %+v, %v", o, err)
	}
	if again, err := shop.Buy(ctx, buy); err != nil || again.OrderID != a.OrderID {
		t.Errorf("repeat after a restart %+v, %v", again, err)
	}
	if ping, err := shop.Ping(ctx); err != nil || ping.Balance != "4.01" {
		t.Errorf("balance after a restart %+v, %v", ping, err)
	}
	if got := shop.Problems(); len(got) > 0 {
		t.Errorf("the shop saw %v", got)
	}
}

// TestADujiaoNextShopsHeldOrderIsDeliveredOnApprovalAndCanceledOnRefusalOrByTheShop:
// three orders of 3 keys are held for review, each answered ok:true at
// once and charged; the operators' prompt names the first as #order_id.
// Refused by the operator, one is canceled by callback; another is
// canceled by its shop (POST /orders/{id}/cancel) before anyone looked,
// after which the operator's approve is refused; so is an order of one key
// waiting for stock. Approved through the admin API once stock came, the
// first is delivered by callback and poll and can no longer be canceled.
// Every cancel credits its charge back: the shop paid for the one
// delivered order only.
func TestADujiaoNextShopsHeldOrderIsDeliveredOnApprovalAndCanceledOnRefusalOrByTheShop(t *testing.T) {
	s, d, desk := startReview(t, "", djShopID, 500)
	shop, admin, ctx := d.dj, s.adminClient(), context.Background()
	buy := func(no string, qty int) djshop.Accepted {
		t.Helper()
		a, err := shop.Buy(ctx, djshop.Purchase{SKUID: dockedID, Quantity: qty, DownstreamOrderNo: no, TraceID: "e2e"})
		if err != nil || a.Status != dujiao.StatusPaid {
			t.Fatalf("order %s: %+v, %v", no, a, err)
		}
		return a
	}
	idOf := func(a djshop.Accepted) string { return strconv.FormatUint(uint64(a.OrderID), 10) }
	canceled := func(no string) bool { p, _ := shop.Procurement(no); return p.Status == dujiao.StatusCanceled }

	ok := buy("DJ20261125130000OK", 3)
	if id := desk.next(t); id != idOf(ok) {
		t.Fatalf("the prompt names #%s for order_id %d", id, ok.OrderID)
	}
	no, taken := buy("DJ20261125130000NO", 3), buy("DJ20261125130000TAKEN", 3)
	waiting := buy("DJ20261125130000WAIT", 1) // no stock yet: not held, waiting
	if got := balanceOf(t, s, djShopID); got != yuan(500-10*dockedPrice) {
		t.Errorf("balance with ten keys ordered: %s", got)
	}
	if o, err := shop.Order(ctx, ok.OrderID); err != nil || o.Status == dujiao.StatusDelivered || o.Fulfillment != nil {
		t.Errorf("a held order polled: %+v, %v", o, err)
	}
	if st, err := admin.Refund(ctx, idOf(no), "e2e: the operator refuses it"); err != nil || st != "refunded" {
		t.Fatalf("refund: %q, %v", st, err)
	}
	for _, a := range []djshop.Accepted{taken, waiting} {
		if err := shop.Cancel(ctx, a.OrderID); err != nil {
			t.Fatalf("cancel of order %d: %v", a.OrderID, err)
		}
	}
	importKeys(t, s, "JD", 10)
	if st, err := admin.Approve(ctx, idOf(ok)); err != nil || st == "review" {
		t.Fatalf("approve: %q, %v", st, err)
	}

	testkit.EventuallyWithin(t, 20*time.Second, "the approved order delivered by callback, the others canceled", func() bool {
		return shop.Delivered("DJ20261125130000OK") && canceled("DJ20261125130000NO") && canceled("DJ20261125130000TAKEN") &&
			canceled("DJ20261125130000WAIT")
	})
	delivered, _ := shop.Procurement("DJ20261125130000OK")
	if !keyLines(delivered.Payload, 3) {
		t.Errorf("delivered %q", delivered.Payload)
	}
	if o, err := shop.Order(ctx, ok.OrderID); err != nil || o.Status != dujiao.StatusDelivered || o.Fulfillment == nil ||
		o.Fulfillment.Payload != delivered.Payload {
		t.Errorf("the approved order polled: %+v, %v", o, err)
	}
	for _, a := range []djshop.Accepted{no, taken, waiting} {
		if o, err := shop.Order(ctx, a.OrderID); err != nil || o.Status != dujiao.StatusCanceled || o.Fulfillment != nil {
			t.Errorf("order %d polled after its cancel: %+v, %v", a.OrderID, o, err)
		}
	}
	var refused *djshop.APIError
	if err := shop.Cancel(ctx, ok.OrderID); !errors.As(err, &refused) || refused.Code != dujiao.CodeCancelNotAllowed {
		t.Errorf("cancel of a delivered order: %v", err)
	}
	if _, err := admin.Approve(ctx, idOf(taken)); err == nil || !strings.Contains(err.Error(), "409") {
		t.Errorf("approve of an order its shop canceled: %v", err)
	}
	if ping, err := shop.Ping(ctx); err != nil || ping.Balance != yuan(500-3*dockedPrice) {
		t.Errorf("balance: %+v, %v", ping, err)
	}
	if n := dockedStock(t, s); n != 10-3 {
		t.Errorf("stock %d after one delivery of 3 from 10", n)
	}
	if got := shop.Problems(); len(got) > 0 {
		t.Errorf("the shop saw %v", got)
	}
}

// topUp adjusts a shop's balance through the admin API and checks what it
// answers.
func topUp(t *testing.T, s *service, id, body, want string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, "http://"+s.admin+"/v1/storefronts/"+id+"/balance", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testAdminToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		ID      string `json:"id"`
		Balance string `json:"balance"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK || out.ID != id || out.Balance != want {
		t.Fatalf("top-up: %d %+v %v, want balance %s", resp.StatusCode, out, err, want)
	}
}
