package dujiao_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"cardflow/api/dujiao"
	"cardflow/api/dujiao/djshop"
	"cardflow/internal/dockingtest"
	"cardflow/internal/testkit"
	"cardflow/storage"
)

func isWebhookError(err error, status int, code string, retry bool) bool {
	var e *djshop.WebhookError
	return errors.As(err, &e) && e.Status == status && e.Code == code && e.Retry == retry
}

func TestAWebhookShopBuysKeysAndHearsOfThemOnceByCallback(t *testing.T) {
	r := newHookRig(t, rigOptions{})
	ctx := context.Background()
	r.Stock(t, "qb-10", "QB-0001,PW-1", "QB-0002", "QB-0003,PW-3,2027-12-31")
	r.TopUp(t, hookID, 100)
	buy := djshop.WebhookPurchase{OrderNo: "DJ20261125120000WXYZ", TraceID: "3f0c7a52-8d7e-4a51-9c1e-2b7d3a9e6f10",
		ProductID: 10, SKUID: 11, SKUCode: "qb-10", Quantity: 3, Amount: "45.00"}
	no, err := r.hook.Push(ctx, buy)
	if err != nil {
		t.Fatal(err)
	}
	id, err := strconv.ParseUint(no, 10, 64)
	if err != nil || id == 0 {
		t.Fatalf("order_no %q is not cardflow's order id", no)
	}
	p := waitFor(t, r.hook, buy.OrderNo, "delivered")
	want := "QB-0001----PW-1\nQB-0002\nQB-0003----PW-3----2027-12-31"
	if p.Payload != want || p.Deliveries != 1 || p.OrderNo != no {
		t.Errorf("delivered %+v, want payload %q", p, want)
	}
	// Charged the wholesale price, whatever the shop's buyer paid.
	if got := r.Balance(t, hookID); got != 10000-3*950 {
		t.Errorf("balance %s after 3 × 9.50 from 100.00", got)
	}
	stored, err := r.Engine.Order(id)
	if err != nil || stored.Storefront != hookID || stored.ExternalID != buy.OrderNo || stored.SKU != "qb-10" ||
		stored.Extra["dujiao_callback_url"] != r.hook.CallbackURL || stored.Extra["dujiao_trace_id"] != buy.TraceID ||
		stored.Charged != 3*950 {
		t.Errorf("stored order %+v, %v", stored, err)
	}

	// The shop retries with the same key: the same order, charged once.
	again, err := r.hook.Push(ctx, buy)
	if err != nil || again != no {
		t.Errorf("repeat answered %q, %v; want %q", again, err, no)
	}
	if got := r.Balance(t, hookID); got != 10000-3*950 {
		t.Errorf("balance %s after the repeat", got)
	}

	r.Stop(t) // nothing more can come
	got := taken(r.hook, buy.OrderNo)
	if len(got) != 1 || got[0].Callback.Event != "order.fulfilled" || got[0].Callback.Status != "delivered" ||
		got[0].Callback.Fulfillment.Type != "upstream" || got[0].Callback.Fulfillment.DeliveredAt == nil {
		t.Errorf("callbacks %+v", got)
	}
	if n := len(r.hook2.Received()) + len(r.dj.Received()); n != 0 {
		t.Errorf("the other shops heard %d callbacks", n)
	}
}

func TestAWebhookOrderNamesItsProductByCardflowsSKUOrID(t *testing.T) {
	r := newHookRig(t, rigOptions{})
	ctx := context.Background()
	r.Stock(t, "jd-50", "JD-1", "JD-2")
	r.TopUp(t, hookID, 100)
	for i, code := range []string{"jd-50", strconv.Itoa(idJD)} {
		buy := djshop.WebhookPurchase{OrderNo: fmt.Sprintf("DJ-CODE-%d", i), ProductID: 7, SKUID: 8, SKUCode: code, Quantity: 1, Amount: "50.00"}
		if _, err := r.hook.Push(ctx, buy); err != nil {
			t.Fatalf("sku_code %q: %v", code, err)
		}
		if p := waitFor(t, r.hook, buy.OrderNo, "delivered"); p.Payload != fmt.Sprintf("JD-%d", i+1) {
			t.Errorf("sku_code %q delivered %+v", code, p)
		}
	}
}

func TestTheSameWebhookOrderSentAtOnceIsOneOrderChargedOnce(t *testing.T) {
	r := newHookRig(t, rigOptions{})
	r.Stock(t, "jd-50", "JD-1", "JD-2")
	r.TopUp(t, hookID, 100)
	buy := djshop.WebhookPurchase{OrderNo: "DJ-RACE-1", SKUCode: "jd-50", ProductID: 1, SKUID: 1, Quantity: 2}
	nos := make([]string, 8)
	var wg sync.WaitGroup
	for i := range nos {
		wg.Go(func() {
			no, err := r.hook.Push(context.Background(), buy)
			if err != nil {
				t.Error(err)
			}
			nos[i] = no
		})
	}
	wg.Wait()
	for _, no := range nos {
		if no != nos[0] || no == "" {
			t.Fatalf("order numbers %v", nos)
		}
	}
	if got := r.Balance(t, hookID); got != 400 {
		t.Errorf("balance %s: 100.00 less 2 × 48.00 once is 4.00", got)
	}
	waitFor(t, r.hook, buy.OrderNo, "delivered")
	if n := r.orders(t); n != 1 {
		t.Errorf("%d orders stored", n)
	}
}

func TestAWebhookOrderTheBalanceCannotCoverIsRefusedAndGoesThroughAfterATopUp(t *testing.T) {
	r := newHookRig(t, rigOptions{})
	ctx := context.Background()
	r.Stock(t, "jd-50", "JD-1")
	r.TopUp(t, hookID, 40)
	buy := djshop.WebhookPurchase{OrderNo: "DJ-BAL-1", SKUCode: "jd-50", ProductID: 1, SKUID: 1, Quantity: 1}
	// 200 with ok:false: the shop rejects the procurement and does not retry.
	if _, err := r.hook.Push(ctx, buy); !isWebhookError(err, 200, "insufficient_balance", false) {
		t.Fatalf("a 48.00 order on 40.00: %v", err)
	}
	if got := r.Balance(t, hookID); got != 4000 || r.orders(t) != 0 {
		t.Errorf("a refusal took money (%s) or stored an order", got)
	}
	// The shop's admin retries after a top-up: the same number goes through.
	r.TopUp(t, hookID, 10)
	if _, err := r.hook.Push(ctx, buy); err != nil {
		t.Fatal(err)
	}
	if p := waitFor(t, r.hook, buy.OrderNo, "delivered"); p.Payload != "JD-1" {
		t.Errorf("delivered %+v", p)
	}
	if got := r.Balance(t, hookID); got != 200 {
		t.Errorf("balance %s", got)
	}
}

// chunked sends body without a Content-Length.
type chunked struct{ io.Reader }

func TestEveryBadWebhookRequestGetsItsAnswerAndNothingIsStored(t *testing.T) {
	r := newHookRig(t, rigOptions{})
	r.TopUp(t, hookID, 100)
	r.Stock(t, "qb-10", "QB-1")
	url := r.API.URL + dujiao.WebhookPath
	now := time.Now()
	purchase := djshop.WebhookPurchase{OrderNo: "DJ-BAD-1", ProductID: 10, SKUID: 11, SKUCode: "qb-10", Quantity: 1, Amount: "9.90"}
	good := r.hook.OrderBody(purchase, now)
	with := func(change func(*djshop.WebhookPurchase)) []byte {
		p := purchase
		change(&p)
		return r.hook.OrderBody(p, now)
	}
	headers := func(auth, key string) http.Header {
		h := http.Header{"Content-Type": {"application/json"}}
		if auth != "" {
			h.Set("Authorization", auth)
		}
		if key != "" {
			h.Set("Idempotency-Key", key)
		}
		return h
	}
	ok := headers("Bearer "+hookToken, purchase.OrderNo)
	huge := []byte(`{"event":"order.created","pad":"` + strings.Repeat("x", 64<<10) + `"}`)
	offOrigin := r.hook.CallbackURL
	r.hook.CallbackURL = "https://evil.example.com/api/v1/upstream/generic-webhook/callback"
	elsewhere := r.hook.OrderBody(purchase, now)
	r.hook.CallbackURL = offOrigin

	for _, tc := range []struct {
		name   string
		method string
		header http.Header
		body   []byte
		status int
		code   string
	}{
		{"no Authorization", "POST", headers("", purchase.OrderNo), good, 401, "unauthorized"},
		{"an unknown token", "POST", headers("Bearer hook9-token-000000000000", purchase.OrderNo), good, 401, "unauthorized"},
		{"the token cut short", "POST", headers("Bearer "+hookToken[:len(hookToken)-1], purchase.OrderNo), good, 401, "unauthorized"},
		{"the token as Basic", "POST", headers("Basic "+hookToken, purchase.OrderNo), good, 401, "unauthorized"},
		{"a dujiao-next shop's secret", "POST", headers("Bearer "+string(shopSecret), purchase.OrderNo), good, 401, "unauthorized"},
		{"no Idempotency-Key", "POST", headers("Bearer "+hookToken, ""), good, 400, "bad_request"},
		{"another order's Idempotency-Key", "POST", headers("Bearer "+hookToken, "DJ-BAD-2"), good, 400, "bad_request"},
		{"a body over 64 KiB", "POST", ok, huge, 400, "bad_request"},
		{"not JSON", "POST", ok, []byte(`event=order.created`), 400, "bad_request"},
		{"a JSON array", "POST", ok, []byte(`[{"event":"order.created"}]`), 400, "bad_request"},
		{"an unknown event", "POST", ok, []byte(strings.Replace(string(good), "order.created", "order.paid", 1)), 400, "bad_request"},
		{"a quantity of 0", "POST", ok, with(func(p *djshop.WebhookPurchase) { p.Quantity = 0 }), 400, "bad_request"},
		{"more than the product's max_quantity", "POST", ok, with(func(p *djshop.WebhookPurchase) { p.Quantity = 11 }), 400, "bad_request"},
		{"a callback_url off the shop's origin", "POST", ok, elsewhere, 400, "invalid_callback_url"},
		{"an order number with a space", "POST", headers("Bearer "+hookToken, "DJ BAD"),
			with(func(p *djshop.WebhookPurchase) { p.OrderNo = "DJ BAD" }), 400, "bad_request"},
		{"a top-up without its account", "POST", ok, with(func(p *djshop.WebhookPurchase) { p.SKUCode = "mobile-100" }), 400, "bad_request"},
		{"an unknown sku_code", "POST", ok, with(func(p *djshop.WebhookPurchase) { p.SKUCode = "DEFAULT" }), 200, "sku_unavailable"},
		{"a product not offered to docking shops", "POST", ok, with(func(p *djshop.WebhookPurchase) { p.SKUCode = "house-only" }), 200, "sku_unavailable"},
		{"GET", "GET", ok, nil, 405, "bad_request"},
	} {
		status, h, body := dockingtest.Send(t, tc.method, url, tc.header, tc.body)
		envelope(t, tc.name, status, h, body, tc.status, tc.code)
		if strings.Contains(string(body), hookToken) {
			t.Errorf("%s: the answer shows the token: %s", tc.name, body)
		}
	}

	// Over 64 KiB without a Content-Length is refused as it is read.
	req, err := http.NewRequest("POST", url, chunked{strings.NewReader(string(huge))})
	if err != nil {
		t.Fatal(err)
	}
	req.Header = ok.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	envelope(t, "a chunked body over 64 KiB", resp.StatusCode, resp.Header, body, 400, "bad_request")

	if got := r.Balance(t, hookID); got != 10000 || r.orders(t) != 0 {
		t.Errorf("balance %s, %d orders: a bad request stored something", got, r.orders(t))
	}
	if strings.Contains(r.Logs.String(), hookToken) {
		t.Error("the log shows a token")
	}
	// The good body still goes through.
	if status, h, body := dockingtest.Send(t, "POST", url, ok, good); status != 200 || !strings.HasPrefix(string(body), `{"ok":true,"order_no":"`) ||
		!strings.HasPrefix(h.Get("Content-Type"), "application/json") {
		t.Errorf("the good request: %d %s", status, body)
	}
}

func TestAnOperatorsRefundIsCalledBackAsRefundedAfterADeliveryAndCanceledBefore(t *testing.T) {
	r := newHookRig(t, rigOptions{screen: dockingtest.ReviewFrom(5)})
	ctx := context.Background()
	r.Stock(t, "qb-10", "QB-1", "QB-2", "QB-3", "QB-4", "QB-5", "QB-6")
	r.TopUp(t, hookID, 100)

	// Delivered, then refunded after sale: the shop hears refunded.
	sold := djshop.WebhookPurchase{OrderNo: "DJ-REFUND-1", SKUCode: "qb-10", ProductID: 1, SKUID: 1, Quantity: 1}
	no, err := r.hook.Push(ctx, sold)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, r.hook, sold.OrderNo, "delivered")
	id, _ := strconv.ParseUint(no, 10, 64)
	if _, err := r.Engine.Refund(dockingtest.Operator, id, "buyer says the key was used"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, r.hook, sold.OrderNo, "refunded")

	// Held for review and refused there: the shop hears canceled.
	held := djshop.WebhookPurchase{OrderNo: "DJ-REFUND-2", SKUCode: "qb-10", ProductID: 1, SKUID: 1, Quantity: 5}
	no, err = r.hook.Push(ctx, held)
	if err != nil {
		t.Fatal(err)
	}
	id, _ = strconv.ParseUint(no, 10, 64)
	testkit.Eventually(t, "the order held for review", func() bool {
		o, err := r.Engine.Order(id)
		return err == nil && o.Status == storage.StatusReview
	})
	if _, err := r.Engine.Refund(dockingtest.Operator, id, "looks like fraud"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, r.hook, held.OrderNo, "canceled")

	if got := r.Balance(t, hookID); got != 10000 {
		t.Errorf("balance %s: both charges come back", got)
	}
	r.Stop(t)
	first, second := taken(r.hook, sold.OrderNo), taken(r.hook, held.OrderNo)
	if len(first) != 2 || first[1].Callback.Event != "order.status_changed" || first[1].Callback.Status != "refunded" ||
		first[1].Callback.Fulfillment != nil {
		t.Errorf("the refunded order's callbacks %+v", first)
	}
	if len(second) != 1 || second[0].Callback.Event != "order.status_changed" || second[0].Callback.Status != "canceled" ||
		second[0].Callback.Fulfillment != nil {
		t.Errorf("the refused order's callbacks %+v", second)
	}
}

func TestTheConnectionTestIsAnsweredOnlyForAKnownToken(t *testing.T) {
	r := newHookRig(t, rigOptions{})
	if err := r.hook.Test(context.Background()); err != nil {
		t.Errorf("the connection test: %v", err)
	}
	stranger := djshop.NewWebhookShop(r.hook.Endpoint, "hook9-token-000000000000")
	if err := stranger.Test(context.Background()); !isWebhookError(err, 401, "unauthorized", false) {
		t.Errorf("a stranger's connection test: %v", err)
	}
	status, _, body := dockingtest.Send(t, "POST", r.hook.Endpoint, http.Header{"Authorization": {"Bearer " + hookToken}},
		[]byte(`{"event":"connection.test","timestamp":1709625600}`))
	if status != 200 || string(body) != `{"ok":true}` {
		t.Errorf("connection test: %d %s", status, body)
	}
	if r.orders(t) != 0 {
		t.Error("a connection test stored an order")
	}
}

func TestBothKindsOfDujiaoNextShopAreServedUnderOneTree(t *testing.T) {
	r := newHookRig(t, rigOptions{})
	ctx := context.Background()
	r.Stock(t, "qb-10", "QB-1", "QB-2")
	r.TopUp(t, hookID, 100)
	r.TopUp(t, shopID, 100)
	if p, err := r.dj.Ping(ctx); err != nil || p.Balance != "100.00" {
		t.Errorf("the dujiao-next shop's ping: %+v, %v", p, err)
	}
	if _, err := r.dj.Buy(ctx, djshop.Purchase{SKUID: idQB, Quantity: 1, DownstreamOrderNo: "DJ-SAME-1"}); err != nil {
		t.Fatal(err)
	}
	// The same number from a shop of the other kind is its own order.
	if _, err := r.hook.Push(ctx, djshop.WebhookPurchase{OrderNo: "DJ-SAME-1", SKUCode: "qb-10", ProductID: 1, SKUID: 1, Quantity: 1}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, r.dj, "DJ-SAME-1", "delivered")
	waitFor(t, r.hook, "DJ-SAME-1", "delivered")
	if a, b := r.Balance(t, shopID), r.Balance(t, hookID); a != 9050 || b != 9050 {
		t.Errorf("balances %s and %s", a, b)
	}

	// Either half alone: the other's paths are the protocol's 404.
	up := dujiao.Tree(nil, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(299) }))
	hook := dujiao.Tree(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(298) }), nil)
	for _, tc := range []struct {
		h      http.Handler
		path   string
		status int
	}{
		{up, dujiao.WebhookPath, 299}, {up, "/api/v1/upstream/ping", 404},
		{hook, "/api/v1/upstream/ping", 298}, {hook, dujiao.WebhookPath, 404}, {hook, dujiao.WebhookPath + "/x", 298},
	} {
		rec := httptest.NewRecorder()
		tc.h.ServeHTTP(rec, httptest.NewRequest("POST", tc.path, nil))
		if rec.Code != tc.status || tc.status == 404 && rec.Body.String() != `{"ok":false,"error_code":"not_found","error_message":"no such endpoint"}` {
			t.Errorf("%s: %d %s", tc.path, rec.Code, rec.Body)
		}
	}
}

func TestAWebhookTopUpTakesTheAccountFromTheShopsOwnFormField(t *testing.T) {
	r := newHookRig(t, rigOptions{})
	ctx := context.Background()
	r.TopUp(t, hookID, 300)
	for i, form := range []map[string]string{{"account": "13800138000"}, {"phone": "13900139000"}} {
		buy := djshop.WebhookPurchase{OrderNo: fmt.Sprintf("DJ-TOPUP-%d", i), SKUCode: "mobile-100", ProductID: 3, SKUID: 4, Quantity: 1, Form: form}
		no, err := r.hook.Push(ctx, buy)
		if err != nil {
			t.Fatal(err)
		}
		p := waitFor(t, r.hook, buy.OrderNo, "delivered")
		for _, account := range form {
			if want := fmt.Sprintf("充值成功：%s ×1（cardflow 订单 %s）", account, no); p.Payload != want {
				t.Errorf("payload %q, want %q", p.Payload, want)
			}
		}
	}
	// Two fields and none named account: cardflow cannot tell which.
	_, err := r.hook.Push(ctx, djshop.WebhookPurchase{OrderNo: "DJ-TOPUP-9", SKUCode: "mobile-100", ProductID: 3, SKUID: 4, Quantity: 1,
		Form: map[string]string{"phone": "13900139000", "name": "x"}})
	if !isWebhookError(err, 400, "bad_request", false) {
		t.Errorf("a form of two other fields: %v", err)
	}
}

func TestAWebhookCallbackWaitsTwoSecondsAfterTheAnswer(t *testing.T) {
	t.Parallel() // it waits for real time
	r := newHookRig(t, rigOptions{hold: dujiao.DefaultHold})
	r.Stock(t, "qb-10", "QB-1")
	r.TopUp(t, hookID, 100)
	buy := djshop.WebhookPurchase{OrderNo: "DJ-HOLD-1", SKUCode: "qb-10", ProductID: 1, SKUID: 1, Quantity: 1}
	before := time.Now()
	if _, err := r.hook.Push(context.Background(), buy); err != nil {
		t.Fatal(err)
	}
	// Own stock is delivered in the write that accepts the order, so its
	// callback is due before the answer has even left.
	waitFor(t, r.hook, buy.OrderNo, "delivered")
	got := taken(r.hook, buy.OrderNo)
	if len(got) != 1 {
		t.Fatalf("callbacks %+v", got)
	}
	if wait := got[0].At.Sub(before); wait < dujiao.DefaultHold {
		t.Errorf("the callback came %s after the order was sent; at least %s after its answer is the rule", wait, dujiao.DefaultHold)
	}
}

func TestAWebhookCallbackTheShopDidNotTakeIsSentAgainAndAppliedOnce(t *testing.T) {
	t.Parallel() // it waits for the outbox's backoff, in real time
	r := newHookRig(t, rigOptions{})
	r.Stock(t, "qb-10", "QB-1", "QB-2")
	r.TopUp(t, hook2ID, 100)
	r.hook2.FailNext(2) // the shop is down for two callbacks
	buy := djshop.WebhookPurchase{OrderNo: "DJ-DOWN-1", SKUCode: "qb-10", ProductID: 1, SKUID: 1, Quantity: 2}
	if _, err := r.hook2.Push(context.Background(), buy); err != nil {
		t.Fatal(err)
	}
	// cardflow-hook2 takes its callbacks at a path of its own choosing.
	p := waitFor(t, r.hook2, buy.OrderNo, "delivered")
	r.Stop(t)
	all := r.hook2.Received()
	if p.Payload != "QB-1\nQB-2" || len(all) != 3 || all[0].Status != 503 || all[1].Status != 503 || len(taken(r.hook2, buy.OrderNo)) != 1 {
		t.Errorf("delivered %+v after %+v", p, all)
	}
}

func TestNewWebhookRefusesAShopItCouldNotTellApartOrCallBack(t *testing.T) {
	for _, tc := range []struct {
		name  string
		shops []dujiao.Shop
		says  string
	}{
		{"two shops with one token", []dujiao.Shop{{ID: "cardflow-a", Secret: []byte("same-token-0123456789"), CallbackURL: "https://a.example.com"},
			{ID: "cardflow-b", Secret: []byte("same-token-0123456789"), CallbackURL: "https://b.example.com"}}, "the same secret"},
		{"a callback_url without a host", []dujiao.Shop{{ID: "cardflow-a", Secret: []byte("token-0123456789"), CallbackURL: "/callback"}}, "callback_url"},
	} {
		_, err := dujiao.NewWebhook(dujiao.Options{Shops: tc.shops})
		if err == nil || !strings.Contains(err.Error(), tc.says) || strings.Contains(err.Error(), "0123456789") {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}
