package djshop_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"cardflow/api/dujiao/djshop"
)

const hookToken = "hook-token-0123456789abcdef"

func TestTheWebhookShopSendsTheOrderBodyAShopMarshals(t *testing.T) {
	var got []byte
	var headers http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = io.ReadAll(r.Body)
		headers = r.Header.Clone()
		_, _ = w.Write([]byte(`{"ok":true,"order_no":"101"}`))
	}))
	defer srv.Close()
	shop := djshop.NewWebhookShop(srv.URL+"/any/endpoint", hookToken)
	shop.CallbackURL = "https://shop.example.com/api/v1/upstream/generic-webhook/callback"
	shop.Now = func() time.Time { return vectorNow }
	no, err := shop.Push(context.Background(), djshop.WebhookPurchase{OrderNo: "DJ20260301120000ABCD",
		TraceID: "3f0c7a52-8d7e-4a51-9c1e-2b7d3a9e6f10", ProductID: 10, SKUID: 11, SKUCode: "DEFAULT", Quantity: 2,
		Amount: "19.90", Form: map[string]string{"account": "13800138000"}})
	if err != nil || no != "101" {
		t.Fatalf("push: %q, %v", no, err)
	}
	if want := strings.TrimSpace(string(readFile(t, "../testdata/webhook-order.json"))); string(got) != want {
		t.Errorf("body\n got  %s\n want %s", got, want)
	}
	if headers.Get("Authorization") != "Bearer "+hookToken || headers.Get("Idempotency-Key") != "DJ20260301120000ABCD" ||
		headers.Get("Content-Type") != "application/json" {
		t.Errorf("headers %v", headers)
	}
	if p, _ := shop.Procurement("DJ20260301120000ABCD"); p.Status != "accepted" || p.OrderNo != "101" {
		t.Errorf("procurement %+v", p)
	}
}

func TestTheWebhookShopTakesAnswersAsAShopDoes(t *testing.T) {
	for _, tc := range []struct {
		status int
		body   string
		code   string // "" when accepted
		retry  bool
	}{
		{200, `{"ok":true,"order_no":"7"}`, "", false},
		{202, ``, "", false},
		{200, `accepted`, "", false},
		{200, `{"ok":false,"error_code":"insufficient_balance","error_message":"top up"}`, "insufficient_balance", false},
		{200, `{"ok":false}`, "webhook_rejected", false},
		{400, `{"ok":false,"error_code":"bad_request","error_message":"x"}`, "bad_request", false},
		{401, `{"ok":false,"error_code":"unauthorized","error_message":"x"}`, "unauthorized", false},
		{408, ``, "", true},
		{429, ``, "", true},
		{503, `{"ok":false,"error_code":"internal_error","error_message":"x"}`, "internal_error", true},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(tc.status)
			_, _ = w.Write([]byte(tc.body))
		}))
		shop := djshop.NewWebhookShop(srv.URL, hookToken)
		_, err := shop.Push(context.Background(), djshop.WebhookPurchase{OrderNo: "DJ1", Quantity: 1})
		srv.Close()
		var e *djshop.WebhookError
		accepted := tc.code == "" && !tc.retry
		switch {
		case accepted && err != nil:
			t.Errorf("%d %s: %v", tc.status, tc.body, err)
		case !accepted && (!errors.As(err, &e) || e.Status != tc.status || e.Code != tc.code || e.Retry != tc.retry):
			t.Errorf("%d %s: %v, want code %q retry %v", tc.status, tc.body, err, tc.code, tc.retry)
		}
	}
}

// The callback is a delivery with status completed, which a shop takes as
// delivered; every refusal below is what a shop answers for one change.
func TestTheWebhookShopTakesACallbackAsAShopDoes(t *testing.T) {
	shop := djshop.NewWebhookShop("http://upstream.invalid", hookToken)
	srv := httptest.NewServer(shop)
	defer srv.Close()
	// The shop has one order out.
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(`{"ok":true}`)) }))
	defer up.Close()
	shop.Endpoint = up.URL
	if _, err := shop.Push(context.Background(), djshop.WebhookPurchase{OrderNo: "DJ20260301120000ABCD", Quantity: 1}); err != nil {
		t.Fatal(err)
	}
	example := `{"event":"order.fulfilled","order_no":"DJ20260301120000ABCD","status":"completed","fulfillment":{"type":"upstream","payload":"CARD----SECRET","delivery_data":null,"delivered_at":"2026-03-01T12:01:00Z"}}`
	post := func(auth, body string) (int, string) {
		req, _ := http.NewRequest("POST", srv.URL+"/api/v1/upstream/generic-webhook/callback", strings.NewReader(body))
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	change := func(from, to string) string { return strings.Replace(example, from, to, 1) }
	for _, tc := range []struct {
		name, auth, body string
		status           int
		code             string
	}{
		{"no token", "", example, 401, "unauthorized"},
		{"another token", "Bearer other-token-0123456789", example, 401, "unauthorized"},
		{"not JSON", "Bearer " + hookToken, "{", 400, "invalid_request"},
		{"no status", "Bearer " + hookToken, change(`"status":"completed",`, ``), 400, "invalid_request"},
		{"another event", "Bearer " + hookToken, change(`order.fulfilled`, `order.paid`), 400, "invalid_event"},
		{"another status", "Bearer " + hookToken, change(`"completed"`, `"paid"`), 400, "invalid_status"},
		{"a delivery without fulfillment", "Bearer " + hookToken,
			change(`,"fulfillment":{"type":"upstream","payload":"CARD----SECRET","delivery_data":null,"delivered_at":"2026-03-01T12:01:00Z"}`, ``), 400, "fulfillment_required"},
		{"an order the shop never sent", "Bearer " + hookToken, change(`DJ20260301120000ABCD`, `DJ-NOBODY`), 404, "order_not_found"},
	} {
		status, body := post(tc.auth, tc.body)
		if status != tc.status || !strings.Contains(body, `"error_code":"`+tc.code+`"`) {
			t.Errorf("%s: %d %s, want %d %s", tc.name, status, body, tc.status, tc.code)
		}
	}
	if p, _ := shop.Procurement("DJ20260301120000ABCD"); p.Deliveries != 0 {
		t.Fatalf("a refused callback was applied: %+v", p)
	}
	for range 2 {
		if status, body := post("Bearer "+hookToken, example); status != 200 || body != `{"ok":true}` {
			t.Errorf("the example: %d %s", status, body)
		}
	}
	if p, _ := shop.Procurement("DJ20260301120000ABCD"); p.Status != "delivered" || p.Payload != "CARD----SECRET" || p.Deliveries != 1 || p.Callbacks != 2 {
		t.Errorf("procurement %+v", p)
	}
	// A body it cannot decode is a broken promise of the sender, and so is
	// a delivery without keys, which a shop takes all the same.
	if got := shop.Problems(); len(got) != 1 || !strings.Contains(got[0], "cannot decode") {
		t.Errorf("problems %v", got)
	}
	post("Bearer "+hookToken, change(`CARD----SECRET`, ``))
	if got := shop.Problems(); len(got) != 2 || !strings.Contains(got[1], "without its keys") {
		t.Errorf("problems %v", got)
	}
}
