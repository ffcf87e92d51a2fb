package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"cardflow/api/dujiao/djshop"
	"cardflow/internal/testkit"
)

const testDJSecret = "dujiao-shop-secret-0123456"

// TestADujiaoNextShopBuysFromTheRealBinary: the binary with a dujiao-next
// storefront in its config; the shop connects, is refused for want of
// money, is topped up through the admin API, buys own-stock keys and gets
// them by callback and by poll; a repeat is the same order, charged once;
// after kill -9 and a restart the order is still there, keys and all.
func TestADujiaoNextShopBuysFromTheRealBinary(t *testing.T) {
	shop := djshop.New("", "cardflow-djshop", []byte(testDJSecret))
	cb := httptest.NewServer(shop)
	t.Cleanup(cb.Close)
	shop.CallbackURL = cb.URL + "/api/v1/upstream/callback"
	s := newService(t, `
[[storefronts]]
id = "cardflow-djshop"
protocol = "dujiao-next"
secret_env = "CARDFLOW_DJSHOP_SECRET"
callback_url = "`+cb.URL+`/api/v1/upstream/callback"

[[products]]
sku = "jd-50"
name = "京东E卡 50元"
max_quantity = 5
id = 1001
price = "48.00"
category = "购物卡"
  [[products.sources]]
  supplier = "own"
`)
	s.env = append(s.env, "CARDFLOW_DJSHOP_SECRET="+testDJSecret)
	p := s.start(t)
	shop.BaseURL = "http://" + s.apiAddr
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
	if _, err := s.adminClient().ImportStock(ctx, "jd-50", strings.NewReader("JD-0001,PW-1\nJD-0002,PW-2\n")); err != nil {
		t.Fatal(err)
	}
	buy := djshop.Purchase{SKUID: 1001, Quantity: 2, DownstreamOrderNo: "DJ20261125120000E2E-01", TraceID: "e2e"}
	if _, err := shop.Buy(ctx, buy); err == nil || !strings.Contains(err.Error(), "insufficient_balance") {
		t.Fatalf("an order on 0.00: %v", err)
	}

	topUp(t, s, "cardflow-djshop", `{"amount":"100.00","reason":"e2e top-up"}`, "100.00")
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
	topUp(t, s, "cardflow-djshop", `{"amount":"0.01","reason":"read the balance"}`, "4.01")

	// kill -9 and back: what was answered ok:true is all there.
	p.kill()
	s.start(t)
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
