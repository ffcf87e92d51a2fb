package main

import (
	"context"
	"errors"
	"strings"
	"testing"

	"cardflow/api/acgfaka"
	"cardflow/api/acgfaka/acgshop"
)

const testACGKey = "acg-shop-app-key-7c41d09e"

// TestAnAcgFakaShopBuysFromTheRealBinary: the binary with an acg-faka
// storefront in its config; the shop connects and syncs the item, is
// refused for want of money, is topped up through the admin API, and
// gets its keys in the trade's answer; a repeat answers the same keys and
// charges once; after kill -9 and a restart the repeat still answers the
// same keys.
func TestAnAcgFakaShopBuysFromTheRealBinary(t *testing.T) {
	s := newService(t, `
[[storefronts]]
id = "cardflow-acgshop"
protocol = "acg-faka"
secret_env = "CARDFLOW_ACGSHOP_SECRET"

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
	s.env = append(s.env, "CARDFLOW_ACGSHOP_SECRET="+testACGKey)
	p := s.start(t)
	shop := acgshop.New("http://"+s.apiAddr, "cardflow-acgshop", testACGKey, 0)
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
	if _, err := s.adminClient().ImportStock(ctx, "jd-50", strings.NewReader("JD-0001,PW-1\nJD-0002,PW-2\n")); err != nil {
		t.Fatal(err)
	}
	if n, err := shop.Stock(ctx, "1001", "", nil); err != nil || n != "2" {
		t.Fatalf("stock %q, %v", n, err)
	}
	order := acgshop.Order{Code: "1001", Contact: "k3J9xQm2Lp8Vz1Rt", Num: 2, RequestNo: "202611251200000001"}
	var refusal *acgshop.Error
	if _, err := shop.Trade(ctx, order); !errors.As(err, &refusal) || refusal.Msg != acgfaka.ErrBalance.Msg {
		t.Fatalf("a trade on 0.00: %v", err)
	}

	topUp(t, s, "cardflow-acgshop", `{"amount":"100.00","reason":"e2e top-up"}`, "100.00")
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
	p = s.start(t)
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
