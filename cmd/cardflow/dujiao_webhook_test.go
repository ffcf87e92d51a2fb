package main

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"cardflow/api/dujiao/djshop"
	"cardflow/internal/testkit"
)

const testHookToken = "dujiao-hook-token-0123456789"

// TestADujiaoWebhookShopBuysFromTheRealBinary: the binary with a
// dujiao-webhook storefront beside a dujiao-next one. The webhook shop's
// connection test passes; its order is refused for want of money, goes
// through after a top-up and is delivered by callback; a repeat is the same
// order, charged once, before and after kill -9 and a restart. The
// dujiao-next shop is served on the same tree all along.
func TestADujiaoWebhookShopBuysFromTheRealBinary(t *testing.T) {
	hook := djshop.NewWebhookShop("", testHookToken)
	cb := httptest.NewServer(hook)
	t.Cleanup(cb.Close)
	hook.CallbackURL = cb.URL + "/api/v1/upstream/generic-webhook/callback"
	dj := djshop.New("", "cardflow-djshop", []byte(testDJSecret))
	s := newService(t, `
[[storefronts]]
id = "cardflow-hookshop"
protocol = "dujiao-webhook"
secret_env = "CARDFLOW_HOOK_TOKEN"
callback_url = "`+cb.URL+`"

[[storefronts]]
id = "cardflow-djshop"
protocol = "dujiao-next"
secret_env = "CARDFLOW_DJSHOP_SECRET"
callback_url = "https://shop.example.com/api/v1/upstream/callback"

[[products]]
sku = "jd-50"
name = "京东E卡 50元"
max_quantity = 5
id = 1001
price = "48.00"
  [[products.sources]]
  supplier = "own"
`)
	s.env = append(s.env, "CARDFLOW_HOOK_TOKEN="+testHookToken, "CARDFLOW_DJSHOP_SECRET="+testDJSecret)
	p := s.start(t)
	hook.Endpoint = "http://" + s.apiAddr + "/api/v1/upstream/webhook"
	dj.BaseURL = "http://" + s.apiAddr
	ctx := context.Background()

	if err := hook.Test(ctx); err != nil {
		t.Fatalf("connection test: %v\n%s", err, p.logs())
	}
	if ping, err := dj.Ping(ctx); err != nil || ping.SiteName != "cardflow" {
		t.Errorf("the dujiao-next shop's ping beside it: %+v, %v", ping, err)
	}
	if _, err := s.adminClient().ImportStock(ctx, "jd-50", strings.NewReader("JD-0001,PW-1\nJD-0002,PW-2\n")); err != nil {
		t.Fatal(err)
	}
	buy := djshop.WebhookPurchase{OrderNo: "DJ20261125120000HOOK", TraceID: "e2e", ProductID: 55, SKUID: 56, SKUCode: "jd-50",
		Quantity: 2, Amount: "110.00"}
	var refused *djshop.WebhookError
	if _, err := hook.Push(ctx, buy); !errors.As(err, &refused) || refused.Code != "insufficient_balance" || refused.Retry {
		t.Fatalf("an order on 0.00: %v", err)
	}

	topUp(t, s, "cardflow-hookshop", `{"amount":"100.00","reason":"e2e top-up"}`, "100.00")
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
	topUp(t, s, "cardflow-hookshop", `{"amount":"0.01","reason":"read the balance"}`, "4.01")

	// kill -9 and back: the order answered is still the shop's order.
	p.kill()
	s.start(t)
	if again, err := hook.Push(ctx, buy); err != nil || again != no {
		t.Errorf("repeat after a restart %q, %v; want %q", again, err, no)
	}
	topUp(t, s, "cardflow-hookshop", `{"amount":"0.01","reason":"read the balance"}`, "4.02")
	if got := hook.Problems(); len(got) > 0 {
		t.Errorf("the shop saw %v", got)
	}
}
