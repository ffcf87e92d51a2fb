package dujiao_test

import (
	"encoding/json"
	"errors"
	"maps"
	"strings"
	"testing"
	"time"

	"cardflow/api/dujiao"
)

func TestDecodeWebhookReadsTheBodyAShopMarshals(t *testing.T) {
	o, err := dujiao.DecodeWebhook(readFile(t, "testdata/webhook-order.json"), "DJ20260301120000ABCD", 10)
	if err != nil {
		t.Fatal(err)
	}
	if o.Event != "order.created" || o.OrderNo != "DJ20260301120000ABCD" || o.ProductID != 10 || o.SKUID != 11 ||
		o.SKUCode != "DEFAULT" || o.Quantity != 2 || o.Amount.String() != "19.90" || o.Currency != "CNY" ||
		o.Timestamp != 1709625600 || o.TraceID != "3f0c7a52-8d7e-4a51-9c1e-2b7d3a9e6f10" ||
		o.CallbackURL != "https://shop.example.com/api/v1/upstream/generic-webhook/callback" ||
		!maps.Equal(o.Form, map[string]string{"account": "13800138000"}) {
		t.Fatalf("decoded %+v", o)
	}
	ping, err := dujiao.DecodeWebhook([]byte(`{"event":"connection.test","timestamp":1709625600}`), "", 10)
	if err != nil || ping.Event != "connection.test" || ping.Timestamp != 1709625600 {
		t.Fatalf("connection test: %+v %v", ping, err)
	}
	if got := okJSON(t, nil); got != `{"ok":true}` {
		t.Errorf("ping answer %s", got)
	}
	if got := okJSON(t, dujiao.WebhookAccepted{OrderNo: "101"}); got != `{"ok":true,"order_no":"101"}` {
		t.Errorf("accepted answer %s", got)
	}
}

// Every input below was tried against the example body with one change.
func TestDecodeWebhookRefusesBadInputWithAClearError(t *testing.T) {
	base := string(readFile(t, "testdata/webhook-order.json"))
	change := func(from, to string) string { return strings.Replace(base, from, to, 1) }
	cases := []struct {
		name, body, key, code, says string
	}{
		{"unknown event", change(`"order.created"`, `"order.paid"`), "", "bad_request", "event must be"},
		{"other idempotency key", base, "DJ-other", "bad_request", "Idempotency-Key"},
		{"empty order number", change(`"order_no":"DJ20260301120000ABCD"`, `"order_no":""`), "", "bad_request", "order_no must be 1 to 64"},
		{"product id 0", change(`"product_id":10`, `"product_id":0`), "", "bad_request", "product_id must be between"},
		{"sku id a string", change(`"sku_id":11`, `"sku_id":"11"`), "", "bad_request", "sku_id must be a whole number"},
		{"quantity 0", change(`"quantity":2`, `"quantity":0`), "", "bad_request", "quantity must be between 1 and 10"},
		{"amount a number", change(`"amount":"19.90"`, `"amount":19.9`), "", "bad_request", "amount must not be a JSON number"},
		{"amount with three decimals", change(`"19.90"`, `"19.901"`), "", "bad_request", "amount must be a decimal"},
		{"callback to a relative path", change(`"https://shop.example.com/api`, `"/api`), "", "invalid_callback_url", "absolute"},
		{"form value a list", change(`{"account":"13800138000"}`, `{"account":["1"]}`), "", "bad_request", "string or a number"},
		{"timestamp a string", change(`"timestamp":1709625600`, `"timestamp":"1709625600"`), "", "bad_request", "timestamp must not be a JSON string"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := dujiao.DecodeWebhook([]byte(c.body), c.key, 10)
			var e *dujiao.Error
			if !errors.As(err, &e) || e.Code != c.code || e.Status != 400 || !strings.Contains(e.Message, c.says) {
				t.Fatalf("got %v, want %s saying %q", err, c.code, c.says)
			}
		})
	}
}

func TestTheWebhookCallbackIsWrittenAsTheShopReadsIt(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 1, 0, 0, time.UTC)
	b, err := json.Marshal(dujiao.NewWebhookCallback("DJ20260301120000ABCD", "completed", []string{"CARD----SECRET"}, at))
	want := `{"event":"order.fulfilled","order_no":"DJ20260301120000ABCD","status":"completed","fulfillment":{"type":"upstream","payload":"CARD----SECRET","delivery_data":null,"delivered_at":"2026-03-01T12:01:00Z"}}`
	if err != nil || string(b) != want {
		t.Fatalf("got  %s %v\nwant %s", b, err, want)
	}
	b, err = json.Marshal(dujiao.NewWebhookCallback("DJ1", "canceled", nil, at))
	if err != nil || string(b) != `{"event":"order.status_changed","order_no":"DJ1","status":"canceled","fulfillment":null}` {
		t.Fatalf("canceled: %s %v", b, err)
	}
	if _, err := json.Marshal(dujiao.NewWebhookCallback("DJ1", "delivered", nil, at)); err == nil {
		t.Fatal("a delivery without keys was written")
	}
}

func TestMatchBearerFindsTheShopOfAToken(t *testing.T) {
	tokens := map[string][]byte{"cardflow-shop1": []byte("token-one-0123456789"), "cardflow-shop2": []byte("token-two-0123456789")}
	cases := map[string]string{
		"Bearer token-two-0123456789":  "cardflow-shop2",
		"bearer token-one-0123456789":  "cardflow-shop1",
		"Bearer token-one-012345678":   "",
		"Bearer token-one-0123456789x": "",
		"Bearer ":                      "",
		"Bearer  token-one-0123456789": "",
		"Basic token-one-0123456789":   "",
		"token-one-0123456789":         "",
		"":                             "",
	}
	for header, want := range cases {
		got, ok := dujiao.MatchBearer(header, tokens)
		if got != want || ok != (want != "") {
			t.Errorf("%q: %q %v, want %q", header, got, ok, want)
		}
	}
}
