package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"cardflow/api"
	"cardflow/config"
	"cardflow/internal/testkit"
	"cardflow/internal/teststore"
	"cardflow/processor"
)

// directProduct is a top-up product (kind direct: an order needs an
// account). Its supplier is never called: these orders never get stored.
var directProduct = config.Product{SKU: "phone-50", Name: "话费 50元", Kind: config.KindDirect, MaxQuantity: 1,
	BatchSize: 1, Sources: []config.Source{{Supplier: "fulu", Item: "10000587", Units: 1}}}

// orderMap is a valid order for qb-100 as a map, for cases that break one
// thing about it.
func orderMap(externalID string) map[string]any {
	return map[string]any{
		"external_id": externalID, "sku": skuQB, "quantity": 1, "amount": "100.00",
		"buyer": map[string]any{"id": "u-8812", "contact": "a@example.com", "ip": "203.0.113.9"},
	}
}

// with returns a valid order for externalID with key set to value; a nil
// value removes the key.
func with(t testing.TB, externalID string, kv ...any) []byte {
	t.Helper()
	m := orderMap(externalID)
	for i := 0; i+1 < len(kv); i += 2 {
		k := kv[i].(string)
		if kv[i+1] == nil {
			delete(m, k)
			continue
		}
		m[k] = kv[i+1]
	}
	return mustJSON(t, m)
}

// raw marks a value that is written into the JSON as is.
type raw string

func (r raw) MarshalJSON() ([]byte, error) { return []byte(r), nil }

// padded is a valid order followed by whitespace up to size bytes: the only
// thing wrong with it is its size.
func padded(t testing.TB, externalID string, size int) []byte {
	t.Helper()
	b := with(t, externalID)
	if len(b) > size {
		t.Fatalf("order is already %d bytes", len(b))
	}
	return append(b, bytes.Repeat([]byte(" "), size-len(b))...)
}

// badCase is one bad request: what was tried, what must come back, and the
// external id it carried (which must not be stored).
type badCase struct {
	name   string
	ext    string // external_id in the body, checked afterwards; "" if none
	send   func(t *testing.T, f *fixture) *reply
	status int
	code   string
	field  string // "-": not checked
}

// postBody sends a signed POST /v1/orders with body as shop1.
func postBody(body []byte) func(*testing.T, *fixture) *reply {
	return func(t *testing.T, f *fixture) *reply { return f.post(t, "shop1", body) }
}

// TestBadRequestsAreRefusedWithJSONErrorsAndStoreNothing sends every kind of
// bad storefront request to one server; each answer is the right status and
// error code in the API's JSON error format, never a 500 or a stack trace,
// and afterwards no order exists: the first good order gets id "1".
func TestBadRequestsAreRefusedWithJSONErrorsAndStoreNothing(t *testing.T) {
	f := newFixture(t, fixtureOptions{extraProducts: []config.Product{directProduct}})
	f.importStock(t, skuQB, "BAD-STOCK-1,pw1\nBAD-STOCK-2,pw2\n") // a wrongly accepted order could be delivered

	var cases []badCase
	add := func(status int, code, field, name, ext string, send func(*testing.T, *fixture) *reply) {
		cases = append(cases, badCase{name: name, ext: ext, send: send, status: status, code: code, field: field})
	}
	// invalid400 / invalid422 add a signed POST of body.
	invalid400 := func(field, name, ext string, body []byte) {
		add(http.StatusBadRequest, "invalid_request", field, name, ext, postBody(body))
	}
	invalid422 := func(code, field, name, ext string, body []byte) {
		add(http.StatusUnprocessableEntity, code, field, name, ext, postBody(body))
	}

	// The body is not one JSON object.
	invalid400("", "malformed JSON: object cut short", "", []byte(`{"external_id":"bad-cut","sku":`))
	invalid400("", "malformed JSON: unquoted keys", "", []byte(`{external_id: bad-unquoted}`))
	invalid400("", "malformed JSON: trailing comma", "bad-trailing-comma", []byte(`{"external_id":"bad-trailing-comma","sku":"qb-100","quantity":1,"amount":"1.00",}`))
	invalid400("", "empty body", "", nil)
	invalid400("", "whitespace-only body", "", []byte(" \n\t "))
	invalid400("", "JSON array body holding a valid order", "bad-array", append(append([]byte("["), with(t, "bad-array")...), ']'))
	invalid400("", "JSON string body", "", []byte(`"qb-100"`))
	invalid400("", "two JSON objects", "bad-two-objects", append(with(t, "bad-two-objects"), with(t, "bad-two-objects-2")...))
	invalid400("", "valid object followed by garbage", "bad-garbage", append(with(t, "bad-garbage"), []byte(" xyz")...))

	// Wrong JSON types: 400 invalid_request naming the field.
	invalid400("quantity", `quantity as the string "1"`, "bad-qty-string", with(t, "bad-qty-string", "quantity", "1"))
	invalid400("quantity", "quantity as true", "bad-qty-bool", with(t, "bad-qty-bool", "quantity", true))
	invalid400("quantity", "quantity as [1]", "bad-qty-array", with(t, "bad-qty-array", "quantity", []int{1}))
	invalid400("amount", "amount as the number 100", "bad-amount-number", with(t, "bad-amount-number", "amount", 100))
	invalid400("amount", "amount as the number 100.00", "bad-amount-float", with(t, "bad-amount-float", "amount", raw("100.00")))
	invalid400("amount", "amount as an object", "bad-amount-object", with(t, "bad-amount-object", "amount", map[string]string{"value": "100.00"}))
	invalid400("buyer", "buyer as a string", "bad-buyer-string", with(t, "bad-buyer-string", "buyer", "u-8812"))
	invalid400("buyer.id", "buyer.id as a number", "bad-buyer-id", with(t, "bad-buyer-id", "buyer", map[string]any{"id": 8812}))
	invalid400("extra", "extra with a number value", "bad-extra-number", with(t, "bad-extra-number", "extra", map[string]any{"region": 1}))
	invalid400("extra", "extra as a list", "bad-extra-list", with(t, "bad-extra-list", "extra", []string{"电信一区"}))
	invalid400("sku", "sku as a number", "bad-sku-number", with(t, "bad-sku-number", "sku", 100))
	invalid400("external_id", "external_id as a number", "", with(t, "", "external_id", 20261125))
	invalid400("account", "account as a number", "bad-account-number", with(t, "bad-account-number", "account", 12345678))

	// Missing required fields.
	invalid400("external_id", "missing external_id", "", with(t, "", "external_id", nil))
	invalid400("external_id", "external_id null", "", with(t, "", "external_id", raw("null")))
	invalid400("sku", "missing sku", "bad-no-sku", with(t, "bad-no-sku", "sku", nil))
	invalid400("sku", "empty sku", "bad-empty-sku", with(t, "bad-empty-sku", "sku", ""))
	invalid400("quantity", "missing quantity", "bad-no-qty", with(t, "bad-no-qty", "quantity", nil))
	invalid400("quantity", "quantity null", "bad-null-qty", with(t, "bad-null-qty", "quantity", raw("null")))
	invalid400("amount", "missing amount", "bad-no-amount", with(t, "bad-no-amount", "amount", nil))

	// Quantities that are JSON numbers but not a valid quantity: 422.
	for _, q := range []struct{ name, value string }{
		{"zero", "0"}, {"negative", "-1"}, {"minus zero", "-0"}, {"fractional 1.5", "1.5"}, {"1.0", "1.0"},
		{"exponent 1e2", "1e2"}, {"over int32", "2147483648"}, {"huge", "100000000000000000000000"},
		{"over max_quantity 10 (11)", "11"}, {"1000", "1000"},
	} {
		ext := "bad-qty-" + strings.NewReplacer(" ", "-", ".", "_", "(", "", ")", "").Replace(q.name)
		invalid422("invalid_quantity", "quantity", "quantity "+q.name, ext, with(t, ext, "quantity", raw(q.value)))
	}

	// Amounts that are strings but not money with at most two decimals: 422.
	for i, a := range []string{"100.001", "abc", "-1", "-0.01", "1e3", "", " 100.00", "100.00 ", "100.", ".5", "1,000.00",
		"１００.00", "0x10", "NaN", "1000000000.00", "+100"} {
		ext := fmt.Sprintf("bad-amount-%02d", i)
		invalid422("invalid_amount", "amount", fmt.Sprintf("amount %q", a), ext, with(t, ext, "amount", a))
	}

	// The catalogue.
	invalid422("unknown_sku", "sku", "unknown sku", "bad-unknown-sku", with(t, "bad-unknown-sku", "sku", "qb-999"))
	invalid422("unknown_sku", "sku", "sku differing only in case", "bad-sku-case", with(t, "bad-sku-case", "sku", "QB-100"))
	invalid422("account_required", "account", "direct product without account", "bad-direct-no-account",
		with(t, "bad-direct-no-account", "sku", directProduct.SKU))
	invalid422("account_required", "account", "direct product with empty account", "bad-direct-empty-account",
		with(t, "bad-direct-empty-account", "sku", directProduct.SKU, "account", ""))

	// external_id outside 1-64 chars of [A-Za-z0-9._:-].
	for _, e := range []struct{ name, ext string }{
		{"unicode", "订单-0001"}, {"65 chars", strings.Repeat("a", 65)}, {"empty", ""}, {"space", "bad id"},
		{"slash", "bad/id"}, {"NUL", "bad\x00id"}, {"newline", "bad\nid"}, {"percent", "bad%20id"},
	} {
		invalid400("external_id", "external_id "+e.name, "", with(t, e.ext))
	}

	// Free-text fields have limits so that one order cannot bloat the store.
	invalid400("buyer.contact", "buyer.contact of 257 bytes", "bad-long-contact",
		with(t, "bad-long-contact", "buyer", map[string]string{"contact": strings.Repeat("c", 257)}))
	invalid400("account", "account of 257 bytes", "bad-long-account", with(t, "bad-long-account", "account", strings.Repeat("9", 257)))
	extra := map[string]string{}
	for i := range 17 {
		extra[fmt.Sprintf("k%d", i)] = "v"
	}
	invalid400("extra", "extra with 17 entries", "bad-many-extra", with(t, "bad-many-extra", "extra", extra))
	invalid400("extra", "extra key of 65 bytes", "bad-long-extra-key", with(t, "bad-long-extra-key", "extra", map[string]string{strings.Repeat("k", 65): "v"}))

	// Too large: a valid order padded past 64 KiB.
	add(http.StatusRequestEntityTooLarge, "too_large", "", "1 MB body with Content-Length", "bad-1mb-length",
		func(t *testing.T, f *fixture) *reply {
			c := f.signed("shop1", http.MethodPost, "/v1/orders", padded(t, "bad-1mb-length", 1<<20))
			r := send(t, f.api, c)
			if seen := f.lastRequest.Load(); seen == nil || seen.contentLength != 1<<20 {
				t.Errorf("server saw Content-Length %v, want %d", seen, 1<<20)
			}
			return r
		})
	add(http.StatusRequestEntityTooLarge, "too_large", "", "1 MB body chunked (no Content-Length)", "bad-1mb-chunked",
		func(t *testing.T, f *fixture) *reply {
			c := f.signed("shop1", http.MethodPost, "/v1/orders", padded(t, "bad-1mb-chunked", 1<<20))
			c.chunked = true
			r := send(t, f.api, c)
			if seen := f.lastRequest.Load(); seen == nil || seen.contentLength != -1 || !slices.Equal(seen.transferEncoding, []string{"chunked"}) {
				t.Errorf("server saw %+v, want ContentLength -1 and chunked", seen)
			}
			return r
		})
	add(http.StatusRequestEntityTooLarge, "too_large", "", "64 KiB + 1 byte body", "bad-64k-plus-1",
		func(t *testing.T, f *fixture) *reply {
			return f.post(t, "shop1", padded(t, "bad-64k-plus-1", 64<<10+1))
		})
	add(http.StatusRequestEntityTooLarge, "too_large", "", "64 KiB + 1 byte body chunked", "bad-64k-plus-1-chunked",
		func(t *testing.T, f *fixture) *reply {
			c := f.signed("shop1", http.MethodPost, "/v1/orders", padded(t, "bad-64k-plus-1-chunked", 64<<10+1))
			c.chunked = true
			return send(t, f.api, c)
		})

	// Authentication: 401 unauthorized, the body never looked at.
	unauthorized := func(name, ext string, build func(t *testing.T, f *fixture) call) {
		add(http.StatusUnauthorized, "unauthorized", "", name, ext, func(t *testing.T, f *fixture) *reply {
			return send(t, f.api, build(t, f))
		})
	}
	dropHeader := func(h string) func(*testing.T, *fixture) call {
		return func(t *testing.T, f *fixture) call {
			ext := "bad-no-" + strings.ToLower(h)
			c := f.signed("shop1", http.MethodPost, "/v1/orders", with(t, ext))
			c.header.Del(h)
			return c
		}
	}
	unauthorized("no signature headers at all", "bad-unsigned", func(t *testing.T, f *fixture) call {
		return call{method: http.MethodPost, path: "/v1/orders", body: with(t, "bad-unsigned")}
	})
	unauthorized("missing X-Cardflow-Storefront", "bad-no-x-cardflow-storefront", dropHeader("X-Cardflow-Storefront"))
	unauthorized("missing X-Cardflow-Timestamp", "bad-no-x-cardflow-timestamp", dropHeader("X-Cardflow-Timestamp"))
	unauthorized("missing X-Cardflow-Signature", "bad-no-x-cardflow-signature", dropHeader("X-Cardflow-Signature"))
	unauthorized("unknown storefront id", "bad-unknown-shop", func(t *testing.T, f *fixture) call {
		return signedAt("shop9", shop1Secret, f.clock.Advance(time.Second), http.MethodPost, "/v1/orders", with(t, "bad-unknown-shop"))
	})
	unauthorized("storefront id differing in case", "bad-shop-case", func(t *testing.T, f *fixture) call {
		return signedAt("SHOP1", shop1Secret, f.clock.Advance(time.Second), http.MethodPost, "/v1/orders", with(t, "bad-shop-case"))
	})
	unauthorized("signature of random hex", "bad-random-sig", func(t *testing.T, f *fixture) call {
		c := f.signed("shop1", http.MethodPost, "/v1/orders", with(t, "bad-random-sig"))
		c.header.Set("X-Cardflow-Signature", strings.Repeat("ab", 32))
		return c
	})
	unauthorized("signature not hex", "bad-nonhex-sig", func(t *testing.T, f *fixture) call {
		c := f.signed("shop1", http.MethodPost, "/v1/orders", with(t, "bad-nonhex-sig"))
		c.header.Set("X-Cardflow-Signature", "zz"+c.header.Get("X-Cardflow-Signature")[2:])
		return c
	})
	unauthorized("body changed after signing (amount 100.00 → 1.00)", "bad-tampered", func(t *testing.T, f *fixture) call {
		c := f.signed("shop1", http.MethodPost, "/v1/orders", with(t, "bad-tampered"))
		c.body = with(t, "bad-tampered", "amount", "1.00")
		return c
	})
	unauthorized("signed for another path", "bad-other-path", func(t *testing.T, f *fixture) call {
		c := f.signed("shop1", http.MethodPost, "/v1/orders?x=1", with(t, "bad-other-path"))
		c.path = "/v1/orders"
		return c
	})
	unauthorized("signed for another method", "bad-other-method", func(t *testing.T, f *fixture) call {
		c := f.signed("shop1", http.MethodPut, "/v1/orders", with(t, "bad-other-method"))
		c.method = http.MethodPost
		return c
	})
	unauthorized("signed with another storefront's secret", "bad-other-secret", func(t *testing.T, f *fixture) call {
		return signedAt("shop1", shop2Secret, f.clock.Advance(time.Second), http.MethodPost, "/v1/orders", with(t, "bad-other-secret"))
	})
	unauthorized("timestamp 301 s in the past", "bad-stale-past", func(t *testing.T, f *fixture) call {
		return signedAt("shop1", shop1Secret, f.clock.Advance(time.Second).Add(-301*time.Second), http.MethodPost, "/v1/orders", with(t, "bad-stale-past"))
	})
	unauthorized("timestamp 301 s in the future", "bad-stale-future", func(t *testing.T, f *fixture) call {
		return signedAt("shop1", shop1Secret, f.clock.Advance(time.Second).Add(301*time.Second), http.MethodPost, "/v1/orders", with(t, "bad-stale-future"))
	})
	unauthorized("timestamp in milliseconds", "bad-millis", func(t *testing.T, f *fixture) call {
		body := with(t, "bad-millis")
		ts := fmt.Sprint(f.clock.Advance(time.Second).UnixMilli())
		c := f.signed("shop1", http.MethodPost, "/v1/orders", body)
		c.header.Set("X-Cardflow-Timestamp", ts)
		c.header.Set("X-Cardflow-Signature", signature(shop1Secret, ts, http.MethodPost, "/v1/orders", body))
		return c
	})
	unauthorized("non-numeric timestamp", "bad-ts-text", func(t *testing.T, f *fixture) call {
		body := with(t, "bad-ts-text")
		c := f.signed("shop1", http.MethodPost, "/v1/orders", body)
		c.header.Set("X-Cardflow-Timestamp", "yesterday")
		c.header.Set("X-Cardflow-Signature", signature(shop1Secret, "yesterday", http.MethodPost, "/v1/orders", body))
		return c
	})
	add(http.StatusUnauthorized, "unauthorized", "", "replayed request (first answered 422, replay 401)", "bad-replay",
		func(t *testing.T, f *fixture) *reply {
			c := f.signed("shop1", http.MethodPost, "/v1/orders", with(t, "bad-replay", "sku", "qb-999"))
			first := send(t, f.api, c)
			wantError(t, first, http.StatusUnprocessableEntity, "unknown_sku", "sku")
			return send(t, f.api, c)
		})

	// Routing: unknown paths and methods answer in JSON too.
	add(http.StatusNotFound, "not_found", "", "unknown path POST /v1/order", "bad-path",
		func(t *testing.T, f *fixture) *reply {
			return send(t, f.api, f.signed("shop1", http.MethodPost, "/v1/order", with(t, "bad-path")))
		})
	add(http.StatusNotFound, "not_found", "", "unknown path GET /v2/orders/1", "",
		func(t *testing.T, f *fixture) *reply { return f.get(t, "shop1", "/v2/orders/1") })
	add(http.StatusNotFound, "not_found", "", "unknown path GET /", "",
		func(t *testing.T, f *fixture) *reply { return f.get(t, "shop1", "/") })
	add(http.StatusNotFound, "not_found", "", "admin path on the storefront listener", "",
		func(t *testing.T, f *fixture) *reply { return f.get(t, "shop1", "/v1/stock") })
	add(http.StatusMethodNotAllowed, "-", "-", "wrong method PUT /v1/orders", "bad-put",
		func(t *testing.T, f *fixture) *reply {
			return send(t, f.api, f.signed("shop1", http.MethodPut, "/v1/orders", with(t, "bad-put")))
		})
	add(http.StatusMethodNotAllowed, "-", "-", "wrong method DELETE /v1/orders/1", "",
		func(t *testing.T, f *fixture) *reply {
			return send(t, f.api, f.signed("shop1", http.MethodDelete, "/v1/orders/1", nil))
		})
	add(http.StatusBadRequest, "invalid_request", "external_id", "GET /v1/orders without external_id", "",
		func(t *testing.T, f *fixture) *reply { return f.get(t, "shop1", "/v1/orders") })
	add(http.StatusBadRequest, "invalid_request", "external_id", "GET /v1/orders?external_id= (empty)", "",
		func(t *testing.T, f *fixture) *reply { return f.get(t, "shop1", "/v1/orders?external_id=") })

	tried := map[string]bool{}
	for _, tc := range cases {
		if tried[tc.name] {
			t.Fatalf("two cases named %q", tc.name)
		}
		tried[tc.name] = true
		t.Run(tc.name, func(t *testing.T) {
			r := tc.send(t, f)
			if r.status >= 500 {
				t.Errorf("bad input answered %d: %s", r.status, r.body)
			}
			code := tc.code
			if code == "-" {
				// No code of its own for 405; any code in the error format.
				if r.status != tc.status {
					t.Errorf("status = %d, want %d; body: %s", r.status, tc.status, r.body)
				}
				r.apiError(t)
				if allow := r.header.Get("Allow"); allow == "" {
					t.Errorf("405 without an Allow header")
				}
				return
			}
			wantError(t, r, tc.status, code, tc.field)
		})
	}

	t.Run("nothing was stored", func(t *testing.T) {
		if id := f.lastOrderID(t); id != 0 {
			t.Fatalf("after only bad requests the store handed out order id %d", id)
		}
		checked := 0
		for _, tc := range cases {
			if tc.ext == "" {
				continue
			}
			for _, shop := range []string{"shop1", "shop2"} {
				wantError(t, f.get(t, shop, "/v1/orders?external_id="+tc.ext), http.StatusNotFound, "not_found", "")
			}
			checked++
		}
		if checked < 60 {
			t.Errorf("only %d cases carried an external_id to check", checked)
		}
		if lv := f.stockLevels(t)[skuQB]; lv != 2 {
			t.Errorf("stock = %d, want 2 untouched", lv)
		}
		if got := f.callbacks.snapshot(); len(got) != 0 {
			t.Errorf("bad requests caused %d callbacks", len(got))
		}
	})

	t.Run("the first good order gets id 1 and its replay is refused", func(t *testing.T) {
		good := f.signed("shop1", http.MethodPost, "/v1/orders", simpleOrder(t, "GOOD-AFTER-BAD", skuQB, 1, "100.00"))
		r := send(t, f.api, good)
		wantStatus(t, r, http.StatusCreated)
		if id := r.order(t).ID; id != "1" {
			t.Errorf("first good order id = %q, want \"1\"", id)
		}
		// A captured request replayed: not the idempotent 200, a 401.
		wantError(t, send(t, f.api, good), http.StatusUnauthorized, "unauthorized", "")
		if id := f.lastOrderID(t); id != 1 {
			t.Errorf("last order id = %d, want 1", id)
		}
		f.waitCallback(t, "1", "order.delivered")
	})
}

// TestSignatureWindowIsInclusiveAt300Seconds: the API refuses requests more
// than 300 s off (docs/api.md); exactly 300 s either way is still accepted
// (once the server has run for a window: before, timestamps older than its
// start are refused).
func TestSignatureWindowIsInclusiveAt300Seconds(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	f.clock.Advance(301 * time.Second)
	for _, off := range []time.Duration{-300 * time.Second, 300 * time.Second} {
		t.Run(off.String(), func(t *testing.T) {
			ext := fmt.Sprintf("WINDOW-%d", int(off.Seconds())+1000)
			c := signedAt("shop1", shop1Secret, f.clock.Advance(time.Second).Add(off), http.MethodPost, "/v1/orders",
				simpleOrder(t, ext, skuQB, 1, "1.00"))
			wantStatus(t, send(t, f.api, c), http.StatusCreated)
		})
	}
}

// TestBodyOfExactly64KiBIsAccepted: the limit is "bodies over 64 KiB".
func TestBodyOfExactly64KiBIsAccepted(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	for _, chunked := range []bool{false, true} {
		t.Run(fmt.Sprintf("chunked=%v", chunked), func(t *testing.T) {
			ext := fmt.Sprintf("EXACT-64K-%v", chunked)
			c := f.signed("shop1", http.MethodPost, "/v1/orders", padded(t, ext, 64<<10))
			c.chunked = chunked
			r := send(t, f.api, c)
			wantStatus(t, r, http.StatusCreated)
			if o := r.order(t); o.ExternalID != ext {
				t.Errorf("external_id = %q, want %q", o.ExternalID, ext)
			}
		})
	}
}

// TestHealthEndpointsNeedNoSignature: /healthz and /readyz answer JSON.
// (/readyz before recovery: TestReadyzIs503UntilTheEngineHasStarted.)
func TestHealthEndpointsNeedNoSignature(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	for path, want := range map[string]string{"/healthz": "ok", "/readyz": "ready"} {
		t.Run(path, func(t *testing.T) {
			r := send(t, f.api, call{method: http.MethodGet, path: path})
			wantStatus(t, r, http.StatusOK)
			wantJSON(t, r)
			var body map[string]string
			if err := json.Unmarshal(r.body, &body); err != nil || body["status"] != want {
				t.Errorf("%s = %s, want status %q", path, r.body, want)
			}
		})
	}
}

// TestReadyzIs503UntilTheEngineHasStarted: cmd/cardflow serves before the
// engine's recovery is done; /readyz says so while /healthz is already ok.
func TestReadyzIs503UntilTheEngineHasStarted(t *testing.T) {
	store := testkit.NewStore(t, teststore.Open)
	engine := processor.New(store, processor.Options{Products: defaultProducts(), Log: zerolog.Nop()})
	srv := httptest.NewServer(api.New(api.Options{Orders: engine, Log: zerolog.Nop()}).Storefront())
	defer func() {
		srv.Close()
		engine.Stop() // before the kit checks and closes the store
	}()
	wantStatus(t, send(t, srv, call{method: http.MethodGet, path: "/healthz"}), http.StatusOK)
	wantError(t, send(t, srv, call{method: http.MethodGet, path: "/readyz"}), http.StatusServiceUnavailable, "unavailable", "")
	if err := engine.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, send(t, srv, call{method: http.MethodGet, path: "/readyz"}), http.StatusOK)
}
