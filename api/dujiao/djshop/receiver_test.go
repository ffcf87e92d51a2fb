package djshop_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"cardflow/api/dujiao"
	"cardflow/api/dujiao/djshop"
	"cardflow/internal/dockingtest"
	"cardflow/internal/testkit"
)

var (
	vectorSecret = []byte("test-secret-key-12345")
	vectorNow    = time.Unix(1709625600, 0)
)

const d5Signature = "ff9440415b7c60b191e4db1bfe8b38d8df267cb9ed579ef4e3b65ac76c9f734d"

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// shopAt serves a shop's callback endpoint at an arbitrary path, since a
// shop's callback route may be customised.
func shopAt(t *testing.T, clock *testkit.Clock) (*djshop.Shop, string) {
	t.Helper()
	shop := djshop.New("http://upstream.invalid", "cardflow-shop1", vectorSecret)
	shop.Now = clock.Now
	mux := http.NewServeMux()
	mux.Handle("POST /hooks/dujiao", shop)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return shop, srv.URL + "/hooks/dujiao"
}

// post sends a callback with the given headers and returns the answer.
func post(t *testing.T, url string, h map[string]string, body []byte) (int, string) {
	t.Helper()
	header := http.Header{}
	for k, v := range h {
		header.Set(k, v)
	}
	status, _, out := dockingtest.Send(t, http.MethodPost, url, header, body)
	return status, string(out)
}

func d5Headers() map[string]string {
	return map[string]string{"Content-Type": "application/json", dujiao.HeaderAPIKey: "cardflow-shop1",
		dujiao.HeaderTimestamp: "1709625600", dujiao.HeaderSignature: d5Signature}
}

// signed signs a callback body as cardflow's sender does.
func signed(now time.Time, body []byte) map[string]string {
	h := http.Header{}
	dujiao.SetHeaders(h, "cardflow-shop1", vectorSecret, http.MethodPost, dujiao.CallbackPath, now, body)
	return map[string]string{dujiao.HeaderAPIKey: h.Get(dujiao.HeaderAPIKey),
		dujiao.HeaderTimestamp: h.Get(dujiao.HeaderTimestamp), dujiao.HeaderSignature: h.Get(dujiao.HeaderSignature)}
}

func TestTheShopAcceptsVectorD5AndDeliversItsKeysOnce(t *testing.T) {
	clock := testkit.NewClock(vectorNow)
	shop, url := shopAt(t, clock)
	shop.Track("DJ20260301120000ABCD")
	body := readFile(t, "../testdata/callback-d5.json")
	for range 2 {
		status, answer := post(t, url, d5Headers(), body)
		if status != 200 || answer != `{"ok":true,"message":"received"}` {
			t.Fatalf("answer %d %s", status, answer)
		}
	}
	p, _ := shop.Procurement("DJ20260301120000ABCD")
	if p.Status != "delivered" || p.Payload != "ABCD-EFGH-1234-5678\nIJKL-MNOP-9012-3456" || p.Deliveries != 1 || p.Callbacks != 2 {
		t.Fatalf("procurement %+v", p)
	}
	if probs := shop.Problems(); len(probs) != 0 {
		t.Fatalf("problems: %v", probs)
	}
	if got := shop.Received(); len(got) != 2 || got[0].Callback.OrderID != 101 || !bytes.Equal(got[1].Body, body) {
		t.Fatalf("received %+v", got)
	}
}

// Every callback below was sent; a shop answers each with HTTP 200, ok:false
// and its own message.
func TestTheShopRefusesABadCallbackWithItsOwnMessage(t *testing.T) {
	d5 := func() []byte { return readFile(t, "../testdata/callback-d5.json") }
	without := func(k string) map[string]string { h := d5Headers(); delete(h, k); return h }
	with := func(k, v string) map[string]string { h := d5Headers(); h[k] = v; return h }
	unknown := []byte(strings.Replace(string(d5()), "DJ20260301120000ABCD", "DJ-unknown", 1))
	badType := []byte(strings.Replace(string(d5()), `"timestamp":1709625600`, `"timestamp":"1709625600"`, 1))
	emptyTime := []byte(strings.Replace(string(d5()), `"2026-03-01T12:01:00Z"`, `""`, 1))
	cases := []struct {
		name    string
		headers map[string]string
		body    []byte
		clock   time.Duration
		message string
	}{
		{"no api key", without(dujiao.HeaderAPIKey), d5(), 0, "missing authentication headers"},
		{"no timestamp", without(dujiao.HeaderTimestamp), d5(), 0, "missing authentication headers"},
		{"no signature", without(dujiao.HeaderSignature), d5(), 0, "missing authentication headers"},
		{"61 s late", d5Headers(), d5(), 61 * time.Second, "timestamp expired"},
		{"timestamp not a number", with(dujiao.HeaderTimestamp, "soon"), d5(), 0, "timestamp expired"},
		{"another api key", with(dujiao.HeaderAPIKey, "cardflow-shop2"), d5(), 0, "invalid api key"},
		{"tampered body", d5Headers(), append(d5(), ' '), 0, "signature verification failed"},
		{"signed over the route, not the fixed path", func() map[string]string {
			h := d5Headers()
			h[dujiao.HeaderSignature] = dujiao.Sign(vectorSecret, "POST", "/hooks/dujiao", 1709625600, d5())
			return h
		}(), d5(), 0, "signature verification failed"},
		{"an order the shop never placed", signed(vectorNow, unknown), unknown, 0, "procurement order not found"},
		{"timestamp as a string", signed(vectorNow, badType), badType, 0, "callback processing failed"},
		{"delivered_at empty", signed(vectorNow, emptyTime), emptyTime, 0, "callback processing failed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			clock := testkit.NewClock(vectorNow.Add(c.clock))
			shop, url := shopAt(t, clock)
			shop.Track("DJ20260301120000ABCD")
			status, answer := post(t, url, c.headers, c.body)
			want, _ := json.Marshal(map[string]any{"message": c.message, "ok": false})
			var got map[string]any
			if err := json.Unmarshal([]byte(answer), &got); err != nil || status != 200 {
				t.Fatalf("answer %d %s", status, answer)
			}
			if back, _ := json.Marshal(got); string(back) != string(want) {
				t.Fatalf("answer %s, want %s", answer, want)
			}
			if shop.Delivered("DJ20260301120000ABCD") {
				t.Fatal("a refused callback delivered")
			}
		})
	}
}

func TestTheShopRecordsADeliveryWithoutKeysOrWithOtherKeys(t *testing.T) {
	clock := testkit.NewClock(vectorNow)
	shop, url := shopAt(t, clock)
	shop.Track("DJ-1")
	shop.Track("DJ-2")
	// What a careless sender would write: delivered, no fulfillment.
	noKeys := []byte(`{"event":"order.fulfilled","order_id":1,"order_no":"1","downstream_order_no":"DJ-1","status":"delivered","fulfillment":null,"timestamp":1}`)
	post(t, url, signed(vectorNow, noKeys), noKeys)
	if shop.Delivered("DJ-1") {
		t.Fatal("a delivery without keys counted")
	}
	first, err := json.Marshal(dujiao.NewCallback(2, "2", "DJ-2", dujiao.StatusDelivered,
		dujiao.Delivered(dujiao.FulfillAuto, []string{"K-1"}, dujiao.At(vectorNow)), vectorNow))
	if err != nil {
		t.Fatal(err)
	}
	other := bytes.Replace(first, []byte("K-1"), []byte("K-9"), 1)
	post(t, url, signed(vectorNow, first), first)
	post(t, url, signed(vectorNow, other), other)
	wrongEvent := bytes.Replace(first, []byte("order.fulfilled"), []byte("order.status_changed"), 1)
	post(t, url, signed(vectorNow, wrongEvent), wrongEvent)
	p, _ := shop.Procurement("DJ-2")
	if p.Payload != "K-1" || p.Deliveries != 1 {
		t.Fatalf("procurement %+v", p)
	}
	probs := strings.Join(shop.Problems(), "\n")
	for _, want := range []string{"DJ-1 delivered without its keys", "DJ-2 delivered again with other keys", "has event order.status_changed, not order.fulfilled"} {
		if !strings.Contains(probs, want) {
			t.Errorf("problems miss %q:\n%s", want, probs)
		}
	}
}

func TestFailNextAnswers503AndThenTheShopTakesTheRetry(t *testing.T) {
	clock := testkit.NewClock(vectorNow)
	shop, url := shopAt(t, clock)
	shop.Track("DJ20260301120000ABCD")
	shop.FailNext(1)
	body := readFile(t, "../testdata/callback-d5.json")
	status, answer := post(t, url, d5Headers(), body)
	if dujiao.CallbackAccepted(status, []byte(answer)) || shop.Delivered("DJ20260301120000ABCD") {
		t.Fatalf("a shop that is down took it: %d %s", status, answer)
	}
	status, answer = post(t, url, d5Headers(), body)
	if !dujiao.CallbackAccepted(status, []byte(answer)) || !shop.Delivered("DJ20260301120000ABCD") {
		t.Fatalf("the retry: %d %s", status, answer)
	}
}
