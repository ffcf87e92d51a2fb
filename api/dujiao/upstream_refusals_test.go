package dujiao_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"cardflow/api/dujiao"
	"cardflow/api/dujiao/djshop"
	"cardflow/internal/dockingtest"
	"cardflow/processor"
)

// envelope checks an answer is the protocol's failure envelope with code,
// never HTML or a stack trace.
func envelope(t *testing.T, what string, status int, h http.Header, body []byte, wantStatus int, wantCode string) {
	t.Helper()
	var e struct {
		OK           *bool  `json:"ok"`
		ErrorCode    string `json:"error_code"`
		ErrorMessage string `json:"error_message"`
	}
	if err := json.Unmarshal(body, &e); err != nil || e.OK == nil || *e.OK || status != wantStatus || e.ErrorCode != wantCode ||
		e.ErrorMessage == "" || !strings.HasPrefix(h.Get("Content-Type"), "application/json") {
		t.Errorf("%s: %d %q %s, want %d %s", what, status, h.Get("Content-Type"), body, wantStatus, wantCode)
	}
	if strings.Contains(string(body), "goroutine") || strings.Contains(string(body), string(shopSecret)) {
		t.Errorf("%s: the answer shows what it must not: %s", what, body)
	}
}

// signedHeaders signs a request as the shop does, at now.
func signedHeaders(key string, secret []byte, method, path string, now time.Time, body []byte) http.Header {
	h := http.Header{}
	dujiao.SetHeaders(h, key, secret, method, path, now, body)
	if body != nil {
		h.Set("Content-Type", "application/json")
	}
	return h
}

func TestEveryBadRequestGetsTheProtocolsErrorAndNothingIsStored(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.TopUp(t, shopID, 100)
	r.Stock(t, "qb-10", "QB-1")
	url := r.API.URL + "/api/v1/upstream/orders"
	const ordersPath = "/api/v1/upstream/orders"
	good := r.shop.OrderBody(djshop.Purchase{SKUID: idQB, Quantity: 1, DownstreamOrderNo: "DJ-BAD-1"})
	now := time.Now()
	huge := []byte(`{"sku_id":1001,"quantity":1,"pad":"` + strings.Repeat("x", 64<<10) + `"}`)
	body := func(b string) []byte {
		return []byte(strings.ReplaceAll(b, "CB", r.shop.CallbackURL))
	}

	for _, tc := range []struct {
		name   string
		header http.Header
		body   []byte
		status int
		code   string
	}{
		{"no headers at all", http.Header{}, good, 401, "missing_auth_headers"},
		{"no signature", func() http.Header {
			h := signedHeaders(shopID, shopSecret, "POST", ordersPath, now, good)
			h.Del(dujiao.HeaderSignature)
			return h
		}(), good, 401, "missing_auth_headers"},
		{"a timestamp with a sign", func() http.Header {
			h := signedHeaders(shopID, shopSecret, "POST", ordersPath, now, good)
			h.Set(dujiao.HeaderTimestamp, "+"+strconv.FormatInt(now.Unix(), 10))
			return h
		}(), good, 401, "invalid_timestamp"},
		{"a timestamp 61 s old", signedHeaders(shopID, shopSecret, "POST", ordersPath, now.Add(-61*time.Second), good), good, 401, "timestamp_expired"},
		{"a timestamp 61 s ahead", signedHeaders(shopID, shopSecret, "POST", ordersPath, now.Add(61*time.Second), good), good, 401, "timestamp_expired"},
		{"an unknown key", signedHeaders("cardflow-nobody", shopSecret, "POST", ordersPath, now, good), good, 403, "invalid_api_key"},
		{"another shop's secret", signedHeaders(shopID, otherSecret, "POST", ordersPath, now, good), good, 401, "invalid_signature"},
		{"a tampered body", signedHeaders(shopID, shopSecret, "POST", ordersPath, now, good),
			[]byte(strings.Replace(string(good), `"quantity":1`, `"quantity":2`, 1)), 401, "invalid_signature"},
		{"signed for another path", signedHeaders(shopID, shopSecret, "POST", "/api/v1/upstream/ping", now, good), good, 401, "invalid_signature"},
		{"signed for another method", signedHeaders(shopID, shopSecret, "GET", ordersPath, now, good), good, 401, "invalid_signature"},
		{"a body over 64 KiB", signedHeaders(shopID, shopSecret, "POST", ordersPath, now, huge), huge, 400, "bad_request"},
		{"not JSON", nil, []byte(`sku_id=1001`), 400, "bad_request"},
		{"a string sku_id", nil, body(`{"sku_id":"1001","quantity":1,"downstream_order_no":"DJ-BAD-2","callback_url":"CB"}`), 400, "bad_request"},
		{"quantity 0", nil, body(`{"sku_id":1001,"quantity":0,"downstream_order_no":"DJ-BAD-3","callback_url":"CB"}`), 400, "bad_request"},
		{"quantity over the product's", nil, body(`{"sku_id":1001,"quantity":11,"downstream_order_no":"DJ-BAD-4","callback_url":"CB"}`), 400, "bad_request"},
		{"no downstream_order_no", nil, body(`{"sku_id":1001,"quantity":1,"callback_url":"CB"}`), 400, "bad_request"},
		{"a downstream_order_no with a slash", nil, body(`{"sku_id":1001,"quantity":1,"downstream_order_no":"DJ/1","callback_url":"CB"}`), 400, "bad_request"},
		{"a top-up without its account", nil, body(`{"sku_id":2001,"quantity":1,"downstream_order_no":"DJ-BAD-5","callback_url":"CB"}`), 400, "bad_request"},
		{"a trace id over 256 bytes", nil, body(`{"sku_id":1001,"quantity":1,"downstream_order_no":"DJ-BAD-6","trace_id":"` +
			strings.Repeat("追", 100) + `","callback_url":"CB"}`), 400, "bad_request"},
		{"no callback_url", nil, []byte(`{"sku_id":1001,"quantity":1,"downstream_order_no":"DJ-BAD-7"}`), 400, "invalid_callback_url"},
		{"a callback on another host", nil, []byte(`{"sku_id":1001,"quantity":1,"downstream_order_no":"DJ-BAD-8","callback_url":"https://evil.example.com/api/v1/upstream/callback"}`), 400, "invalid_callback_url"},
		{"a callback on another port", nil, body(`{"sku_id":1001,"quantity":1,"downstream_order_no":"DJ-BAD-9","callback_url":"` +
			strings.Replace(r.shop.CallbackURL, "127.0.0.1:", "127.0.0.1:1", 1) + `"}`), 400, "invalid_callback_url"},
		{"a callback over https", nil, body(`{"sku_id":1001,"quantity":1,"downstream_order_no":"DJ-BAD-10","callback_url":"` +
			strings.Replace(r.shop.CallbackURL, "http:", "https:", 1) + `"}`), 400, "invalid_callback_url"},
		{"a callback_url over 256 bytes", nil, body(`{"sku_id":1001,"quantity":1,"downstream_order_no":"DJ-BAD-11","callback_url":"CB?` +
			strings.Repeat("a", 256) + `"}`), 400, "invalid_callback_url"},
		{"an unknown sku", nil, body(`{"sku_id":4242,"quantity":1,"downstream_order_no":"DJ-BAD-12","callback_url":"CB"}`), 200, "sku_unavailable"},
	} {
		h := tc.header
		if h == nil {
			h = signedHeaders(shopID, shopSecret, "POST", ordersPath, now, tc.body)
		}
		status, rh, out := dockingtest.Send(t, "POST", url, h, tc.body)
		envelope(t, tc.name, status, rh, out, tc.status, tc.code)
	}
	if n, err := r.Engine.StockLevels(); err != nil || n["qb-10"] != 1 {
		t.Errorf("stock %v, %v: a refused order took a key", n, err)
	}
	if got := r.Balance(t, shopID); got != 10000 {
		t.Errorf("balance %s: a refused order was charged", got)
	}
	if strings.Contains(r.Logs.String(), string(shopSecret)) {
		t.Error("the log shows the secret")
	}
}

func TestABodyOver64KiBWithoutALengthIsRefusedToo(t *testing.T) {
	r := newRig(t, rigOptions{})
	huge := []byte(`{"pad":"` + strings.Repeat("x", 64<<10) + `"}`)
	req, err := http.NewRequest("POST", r.API.URL+"/api/v1/upstream/orders", strings.NewReader(string(huge)))
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = -1 // chunked
	req.Header = signedHeaders(shopID, shopSecret, "POST", "/api/v1/upstream/orders", time.Now(), huge)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out [512]byte
	n, _ := resp.Body.Read(out[:])
	envelope(t, "chunked", resp.StatusCode, resp.Header, out[:n], 400, "bad_request")
}

func TestUnknownPathsAndMethodsAreAnsweredInTheProtocolsJSON(t *testing.T) {
	r := newRig(t, rigOptions{})
	for _, tc := range []struct {
		method, path string
		status       int
		code         string
	}{
		{"GET", "/api/v1/upstream/nothing", 404, "not_found"},
		{"POST", "/api/v1/upstream/orders/12/refund", 404, "not_found"},
		{"GET", "/api/v1/upstream/ping", 405, "bad_request"},
		{"DELETE", "/api/v1/upstream/orders/12", 405, "bad_request"},
		{"POST", "/api/v1/upstream/products", 405, "bad_request"},
	} {
		status, h, body := dockingtest.Send(t, tc.method, r.API.URL+tc.path,
			signedHeaders(shopID, shopSecret, tc.method, tc.path, time.Now(), nil), nil)
		envelope(t, tc.method+" "+tc.path, status, h, body, tc.status, tc.code)
	}
}

// panicky is the engine with its balances broken, as a bug would break them.
type panicky struct{ *processor.Engine }

func (panicky) Balances() ([]processor.Balance, error) { panic("a bug") }

func TestAPanicIsAnInternalErrorInTheProtocolsJSONWithoutATrace(t *testing.T) {
	r := newRig(t, rigOptions{})
	up, err := dujiao.NewUpstream(dujiao.Options{Shops: []dujiao.Shop{{ID: shopID, Secret: shopSecret, CallbackURL: r.shop.CallbackURL}}})
	if err != nil {
		t.Fatal(err)
	}
	h := up.Handler(panicky{r.Engine})
	w := &recorder{header: http.Header{}}
	req, _ := http.NewRequest("POST", "/api/v1/upstream/ping", nil)
	req.Header = signedHeaders(shopID, shopSecret, "POST", "/api/v1/upstream/ping", time.Now(), nil)
	h.ServeHTTP(w, req)
	envelope(t, "ping", w.status, w.header, w.body, 500, "internal_error")
}

func TestAnOrderThatComesWhileCardflowStopsIsAnsweredWithARetryableStatus(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.TopUp(t, shopID, 100)
	r.Engine.Stop()
	_, err := r.shop.Buy(context.Background(), djshop.Purchase{SKUID: idQB, Quantity: 1, DownstreamOrderNo: "DJ-STOP-1"})
	if e, ok := err.(*djshop.APIError); !ok || e.Status != 503 || e.Final() {
		t.Errorf("an order while stopping: %v", err)
	}
	if got := r.Balance(t, shopID); got != 10000 {
		t.Errorf("balance %s", got)
	}
}

func TestAShopWhoseCallbackURLHasNoOriginIsAConfigError(t *testing.T) {
	for _, u := range []string{"", "not a url", "ftp://x.example.com/cb", "https://user:pw@x.example.com/cb"} {
		if _, err := dujiao.NewUpstream(dujiao.Options{Shops: []dujiao.Shop{{ID: shopID, Secret: shopSecret, CallbackURL: u}}}); err == nil ||
			!strings.Contains(err.Error(), shopID) {
			t.Errorf("callback_url %q: %v", u, err)
		}
	}
}

type recorder struct {
	header http.Header
	status int
	body   []byte
}

func (w *recorder) Header() http.Header { return w.header }
func (w *recorder) WriteHeader(s int)   { w.status = s }
func (w *recorder) Write(b []byte) (int, error) {
	w.body = append(w.body, b...)
	return len(b), nil
}
