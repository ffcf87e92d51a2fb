package dujiao_test

import (
	"errors"
	"maps"
	"strings"
	"testing"

	"cardflow/api/dujiao"
)

func TestDecodeCreateOrderReadsTheBodyOfVectorD4(t *testing.T) {
	o, err := dujiao.DecodeCreateOrder(readFile(t, "testdata/order-d4.json"), 100)
	if err != nil {
		t.Fatal(err)
	}
	want := dujiao.CreateOrder{SKUID: 12, Quantity: 2, DownstreamOrderNo: "DJ20260301120000ABCD",
		TraceID: "3f0c7a52-8d7e-4a51-9c1e-2b7d3a9e6f10", CallbackURL: "https://a.example.com/api/v1/upstream/callback"}
	if o.SKUID != want.SKUID || o.Quantity != want.Quantity || o.DownstreamOrderNo != want.DownstreamOrderNo ||
		o.TraceID != want.TraceID || o.CallbackURL != want.CallbackURL || o.Form != nil {
		t.Fatalf("got %+v, want %+v", o, want)
	}
}

func TestDecodeCreateOrderKeepsTheFormAsTheShopWroteIt(t *testing.T) {
	body := `{"sku_id":1001,"quantity":1,"manual_form_data":{"account":13800138000,"zone":"二区","amount":-1.50},` +
		`"downstream_order_no":"DJ1-01","trace_id":"t","callback_url":"http://shop.example.com:8080/cb","future_field":[1,2]}`
	o, err := dujiao.DecodeCreateOrder([]byte(body), 1)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"account": "13800138000", "zone": "二区", "amount": "-1.50"}
	if !maps.Equal(o.Form, want) {
		t.Errorf("form %v, want %v", o.Form, want)
	}
}

// Every input below was tried; each must be refused with the code named.
func TestDecodeCreateOrderRefusesBadInputWithAClearError(t *testing.T) {
	const ok = `"downstream_order_no":"DJ1","callback_url":"https://a.example.com/cb"`
	cases := []struct {
		name, body, code, says string
	}{
		{"empty body", ``, "bad_request", "JSON object"},
		{"an array", `[]`, "bad_request", "JSON object"},
		{"not JSON", `{sku_id:1}`, "bad_request", "syntax"},
		{"two objects", `{"sku_id":1,"quantity":1,` + ok + `}{}`, "bad_request", "more than one"},
		{"a stray brace", `{"sku_id":1,"quantity":1,` + ok + `}}`, "bad_request", "more than one"},
		{"no sku", `{"quantity":1,` + ok + `}`, "bad_request", "sku_id is required"},
		{"sku null", `{"sku_id":null,"quantity":1,` + ok + `}`, "bad_request", "sku_id is required"},
		{"sku 0", `{"sku_id":0,"quantity":1,` + ok + `}`, "bad_request", "sku_id must be between"},
		{"sku negative", `{"sku_id":-4,"quantity":1,` + ok + `}`, "bad_request", "sku_id must be a whole number"},
		{"sku as string", `{"sku_id":"12","quantity":1,` + ok + `}`, "bad_request", "sku_id must be a whole number"},
		{"sku fractional", `{"sku_id":1.5,"quantity":1,` + ok + `}`, "bad_request", "sku_id must be a whole number"},
		{"sku exponent", `{"sku_id":1e3,"quantity":1,` + ok + `}`, "bad_request", "sku_id must be a whole number"},
		{"no quantity", `{"sku_id":1,` + ok + `}`, "bad_request", "quantity is required"},
		{"quantity 0", `{"sku_id":1,"quantity":0,` + ok + `}`, "bad_request", "quantity must be between 1 and 10"},
		{"quantity over the limit", `{"sku_id":1,"quantity":11,` + ok + `}`, "bad_request", "quantity must be between 1 and 10"},
		{"quantity huge", `{"sku_id":1,"quantity":99999999999999999999999,` + ok + `}`, "bad_request", "quantity must be a whole number"},
		{"quantity true", `{"sku_id":1,"quantity":true,` + ok + `}`, "bad_request", "quantity must be a whole number"},
		{"no order number", `{"sku_id":1,"quantity":1,"callback_url":"https://a.example.com/cb"}`, "bad_request", "downstream_order_no is required"},
		{"empty order number", `{"sku_id":1,"quantity":1,"downstream_order_no":"","callback_url":"https://a.example.com/cb"}`, "bad_request", "1 to 64"},
		{"order number of 65", `{"sku_id":1,"quantity":1,"downstream_order_no":"` + strings.Repeat("x", 65) + `","callback_url":"https://a.example.com/cb"}`, "bad_request", "1 to 64"},
		{"order number with a newline", `{"sku_id":1,"quantity":1,"downstream_order_no":"DJ\n1","callback_url":"https://a.example.com/cb"}`, "bad_request", "control"},
		{"order number with NUL", `{"sku_id":1,"quantity":1,"downstream_order_no":"DJ\u00001","callback_url":"https://a.example.com/cb"}`, "bad_request", "control"},
		{"order number a number", `{"sku_id":1,"quantity":1,"downstream_order_no":7,"callback_url":"https://a.example.com/cb"}`, "bad_request", "downstream_order_no must not be a JSON number"},
		{"trace id too long", `{"sku_id":1,"quantity":1,"trace_id":"` + strings.Repeat("t", 129) + `",` + ok + `}`, "bad_request", "trace_id"},
		{"no callback url", `{"sku_id":1,"quantity":1,"downstream_order_no":"DJ1"}`, "invalid_callback_url", "required"},
		{"relative callback url", `{"sku_id":1,"quantity":1,"downstream_order_no":"DJ1","callback_url":"/api/v1/upstream/callback"}`, "invalid_callback_url", "absolute"},
		{"ftp callback url", `{"sku_id":1,"quantity":1,"downstream_order_no":"DJ1","callback_url":"ftp://a.example.com/cb"}`, "invalid_callback_url", "absolute"},
		{"callback url with user info", `{"sku_id":1,"quantity":1,"downstream_order_no":"DJ1","callback_url":"https://u:p@a.example.com/cb"}`, "invalid_callback_url", "user info"},
		{"callback url without host", `{"sku_id":1,"quantity":1,"downstream_order_no":"DJ1","callback_url":"https:///cb"}`, "invalid_callback_url", "host"},
		{"callback url port 0", `{"sku_id":1,"quantity":1,"downstream_order_no":"DJ1","callback_url":"https://a.example.com:0/cb"}`, "invalid_callback_url", "port"},
		{"form an array", `{"sku_id":1,"quantity":1,"manual_form_data":["13800138000"],` + ok + `}`, "bad_request", "manual_form_data must not be a JSON array"},
		{"form value an object", `{"sku_id":1,"quantity":1,"manual_form_data":{"account":{"a":1}},` + ok + `}`, "bad_request", "must be a string or a number"},
		{"form value true", `{"sku_id":1,"quantity":1,"manual_form_data":{"account":true},` + ok + `}`, "bad_request", "must be a string or a number"},
		{"form value null", `{"sku_id":1,"quantity":1,"manual_form_data":{"account":null},` + ok + `}`, "bad_request", "must be a string or a number"},
		{"form key in capitals", `{"sku_id":1,"quantity":1,"manual_form_data":{"Account":"1"},` + ok + `}`, "bad_request", "keys must match"},
		{"form value with a tab", `{"sku_id":1,"quantity":1,"manual_form_data":{"account":"1\t2"},` + ok + `}`, "bad_request", "control"},
		{"form value too long", `{"sku_id":1,"quantity":1,"manual_form_data":{"account":"` + strings.Repeat("1", 513) + `"},` + ok + `}`, "bad_request", "manual_form_data.account"},
		{"body over 64 KiB", `{"sku_id":1,"quantity":1,"pad":"` + strings.Repeat(" ", 64<<10) + `",` + ok + `}`, "bad_request", "over 65536 bytes"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := dujiao.DecodeCreateOrder([]byte(c.body), 10)
			var e *dujiao.Error
			if !errors.As(err, &e) || e.Code != c.code || e.Status != 400 || !strings.Contains(e.Message, c.says) {
				t.Fatalf("got %v, want %s saying %q", err, c.code, c.says)
			}
		})
	}
}

func TestCallbackOriginWritesTheDefaultPort(t *testing.T) {
	cases := map[string]string{
		"https://Shop.Example.com/api/v1/upstream/callback": "https://shop.example.com:443",
		"https://shop.example.com:443/x?y=1":                "https://shop.example.com:443",
		"http://shop.example.com/cb":                        "http://shop.example.com:80",
		"http://127.0.0.1:8080/cb":                          "http://127.0.0.1:8080",
		"http://[::1]:9/cb":                                 "http://[::1]:9",
	}
	for in, want := range cases {
		if got, err := dujiao.CallbackOrigin(in); err != nil || got != want {
			t.Errorf("CallbackOrigin(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}
