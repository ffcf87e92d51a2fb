package api_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"cardflow/config"
)

// How FuzzStorefrontRequest signs the request it builds.
const (
	modeRaw      = iota // headers exactly as fuzzed: garbage to be refused
	modeSigned          // signed correctly over the fuzzed method, target and body
	modeTampered        // signed correctly, then one byte of it changed
	modes
)

// errorCodes are the API's error codes per HTTP status (405 is net/http's
// wrong method, answered as invalid_request).
var errorCodes = map[int][]string{
	http.StatusBadRequest:            {"invalid_request"},
	http.StatusUnauthorized:          {"unauthorized"},
	http.StatusNotFound:              {"not_found"},
	http.StatusMethodNotAllowed:      {"invalid_request"},
	http.StatusConflict:              {"conflict"},
	http.StatusRequestEntityTooLarge: {"too_large"},
	http.StatusUnprocessableEntity:   {"unknown_sku", "invalid_quantity", "invalid_amount", "account_required"},
	http.StatusServiceUnavailable:    {"unavailable"},
}

var orderStates = []string{"pending", "review", "processing", "delivered", "failed", "refunded"}

// FuzzStorefrontRequest drives the storefront listener's handler, over the
// real engine and a real bbolt store, with fuzzed method, request target,
// signature headers and body, parsed from the wire by net/http as a server
// would. Properties: no panic and no 5xx; every non-2xx answer is the JSON
// error of the API without internals; a request signed correctly over its
// content is never refused as unauthorized; the same request with one byte
// changed is refused; an accepted order stores no control or format
// character in any text field.
func FuzzStorefrontRequest(f *testing.F) {
	fx := newFixture(f, fixtureOptions{extraProducts: []config.Product{directProduct}})
	handler := fx.server.Storefront()

	order := []byte(`{"external_id":"T20261125-0001","sku":"qb-100","quantity":1,"amount":"100.00",` +
		`"buyer":{"id":"u-8812","contact":"a@example.com","ip":"203.0.113.9"}}`)
	direct := []byte(`{"external_id":"D-1","sku":"phone-50","quantity":1,"amount":"50.00","account":"13800138000","extra":{"region":"电信一区"}}`)
	for _, s := range []struct {
		mode           uint8
		method, target string
		id, ts, sig    string
		body           []byte
		pos            uint
		delta          byte
	}{
		{modeSigned, "POST", "/v1/orders", "shop1", "", "", order, 0, 0},
		{modeSigned, "POST", "/v1/orders", "shop2", "", "", direct, 0, 0},
		{modeSigned, "POST", "/v1/orders", "shop1", "", "", []byte(`{"external_id":"T-2","sku":"qb-100","quantity":"1","amount":100}`), 0, 0},
		{modeSigned, "GET", "/v1/orders/1", "shop1", "", "", nil, 0, 0},
		{modeSigned, "GET", "/v1/orders?external_id=T20261125-0001", "shop1", "", "", nil, 0, 0},
		{modeSigned, "GET", "/v1/orders/18446744073709551616", "shop2", "", "", nil, 0, 0},
		{modeTampered, "POST", "/v1/orders", "shop1", "", "", order, 40, 1},
		{modeTampered, "GET", "/v1/orders?external_id=T-1", "shop1", "", "", nil, 12, 0x20},
		{modeRaw, "POST", "/v1/orders", "shop1", "1764039600", "00", order, 0, 0},
		{modeRaw, "POST", "/v1/orders", "", "", "", []byte("{"), 0, 0},
		{modeRaw, "GET", "/healthz", "", "", "", nil, 0, 0},
		{modeRaw, "DELETE", "/v1/orders/1", "shop1", "x", "y", nil, 0, 0},
		{modeRaw, "GET", "/nope", "", "", "", nil, 0, 0},
		{modeSigned, "POST", "/v1/orders", "shop1", "", "", []byte(`{"external_id":"B-1","sku":"qb-100","quantity":1,"amount":"1.00",` +
			`"buyer":{"id":"u-1","contact":"\u202egro.elpmaxe@a"}}`), 0, 0},
		{modeSigned, "POST", "/v1/orders", "shop2", "", "", []byte(`{"external_id":"B-2","sku":"phone-50","quantity":1,"amount":"50.00",` +
			`"account":"138\u200b00138000","extra":{"region\u0007":"\u2066电信\u2069"}}`), 0, 0},
	} {
		f.Add(s.mode, s.method, s.target, s.id, s.ts, s.sig, s.body, s.pos, s.delta)
	}

	f.Fuzz(func(t *testing.T, mode uint8, method, target, id, ts, sig string, body []byte, pos uint, delta byte) {
		mode %= modes
		// Signed requests use the origin form, as storefronts do; a proxy's
		// absolute form ("http://host/path") signs only its path.
		if mode != modeRaw && !strings.HasPrefix(target, "/") {
			mode = modeRaw
		}
		if mode != modeRaw {
			secret := shop1Secret
			if id == "shop2" {
				secret = shop2Secret
			} else {
				id = "shop1"
			}
			ts = strconv.FormatInt(fx.clock.Advance(time.Second).Unix(), 10)
			sig = signature(secret, ts, method, target, body)
		}
		if mode == modeTampered {
			if delta == 0 {
				delta = 1
			}
			parts := [][]byte{[]byte(method), []byte(target), []byte(id), []byte(ts), []byte(sig), body}
			total := 0
			for _, p := range parts {
				total += len(p)
			}
			at := int(pos % uint(total))
			for i, p := range parts {
				if at < len(p) {
					c := bytes.Clone(p)
					c[at] ^= delta
					parts[i] = c
					break
				}
				at -= len(p)
			}
			method, target, id, ts, sig, body = string(parts[0]), string(parts[1]), string(parts[2]), string(parts[3]), string(parts[4]), parts[5]
		}

		req := wireRequest(method, target, id, ts, sig, body)
		if req == nil {
			return // net/http would have refused it before any handler ran
		}
		rec := httptest.NewRecorder()
		stop := watchdog(10 * time.Second)
		handler.ServeHTTP(rec, req)
		stop()
		r := &reply{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}

		if r.status >= 500 {
			t.Fatalf("%s %q (mode %d): %s", method, target, mode, r)
		}
		if r.status < 200 || r.status > 299 {
			checkFuzzError(t, r)
		} else {
			checkFuzzSuccess(t, req, r)
			if req.Method == http.MethodPost {
				checkStoredText(t, fx, r)
			}
		}
		unsigned := req.URL.Path == "/healthz" || req.URL.Path == "/readyz"
		switch {
		case mode == modeSigned && r.status == http.StatusUnauthorized:
			t.Fatalf("correctly signed %s %q refused: %s", method, target, r)
		case mode == modeTampered && !unsigned && r.status < 400:
			t.Fatalf("%s %q with one byte changed after signing was accepted: %s", method, target, r)
		}
	})
}

// checkStoredText wants an accepted order to hold no control or format
// character in any text a storefront sent (operators read it in chat).
func checkStoredText(t *testing.T, fx *fixture, r *reply) {
	t.Helper()
	var body struct {
		Order struct {
			ID string `json:"id"`
		} `json:"order"`
	}
	_ = json.Unmarshal(r.body, &body)
	id, err := strconv.ParseUint(body.Order.ID, 10, 64)
	if err != nil {
		return // checkFuzzSuccess reported it
	}
	o, err := fx.engine.Order(id)
	if err != nil {
		t.Fatalf("order %d answered but not stored: %v", id, err)
	}
	texts := map[string]string{"sku": o.SKU, "account": o.Account, "buyer.id": o.Buyer.ID,
		"buyer.contact": o.Buyer.Contact, "buyer.ip": o.Buyer.IP}
	for k, v := range o.Extra {
		texts["extra key "+k] = k
		texts["extra."+k] = v
	}
	for field, v := range texts {
		if i := strings.IndexFunc(v, func(c rune) bool {
			return unicode.IsControl(c) || unicode.Is(unicode.Cf, c) || c == '\u2028' || c == '\u2029'
		}); i >= 0 {
			t.Fatalf("order %d stored %s %q with a control or format character at byte %d", id, field, v, i)
		}
	}
}

// watchdog crashes the fuzz worker, with every goroutine's stack, when the
// request takes longer than d: a fuzzer only reports inputs that crash, and
// a request that hangs would otherwise just stall the run.
func watchdog(d time.Duration) (stop func()) {
	done := make(chan struct{})
	go func() {
		select {
		case <-done:
		case <-time.After(d):
			buf := make([]byte, 1<<20)
			panic("request still running after " + d.String() + ":\n" + string(buf[:runtime.Stack(buf, true)]))
		}
	}()
	return func() { close(done) }
}

// wireRequest writes a request as a client would send it and reads it back
// with net/http, returning nil for what net/http's server refuses before
// calling a handler.
func wireRequest(method, target, id, ts, sig string, body []byte) *http.Request {
	for _, v := range []string{id, ts, sig} {
		if strings.ContainsFunc(v, func(r rune) bool { return r < ' ' && r != '\t' || r == 0x7f }) {
			return nil // the server refuses control characters in header values
		}
	}
	var b bytes.Buffer
	b.WriteString(method + " " + target + " HTTP/1.1\r\nHost: cardflow.test\r\nContent-Type: application/json\r\n")
	for _, h := range [][2]string{{"X-Cardflow-Storefront", id}, {"X-Cardflow-Timestamp", ts}, {"X-Cardflow-Signature", sig}} {
		if h[1] != "" {
			b.WriteString(h[0] + ": " + h[1] + "\r\n")
		}
	}
	b.WriteString("Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n")
	b.Write(body)
	req, err := http.ReadRequest(bufio.NewReader(&b))
	if err != nil || req.RequestURI == "*" || req.Method == http.MethodConnect {
		return nil // "*" and CONNECT are answered by net/http's server itself
	}
	req.RemoteAddr = "203.0.113.9:41234"
	return req
}

// checkFuzzError wants the API's error body with the code of its status.
func checkFuzzError(t *testing.T, r *reply) {
	t.Helper()
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("status %d with Content-Type %q, want a JSON error: %s", r.status, ct, r)
	}
	if m := internals.Find(r.body); m != nil {
		t.Fatalf("error body leaks internals (%q): %s", m, r)
	}
	var e struct {
		Error *apiError `json:"error"`
	}
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil || e.Error == nil {
		t.Fatalf("error body is not {\"error\": {...}}: %v: %s", err, r)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		t.Fatalf("error body has trailing data: %s", r)
	}
	if e.Error.Message == "" || !slices.Contains(errorCodes[r.status], e.Error.Code) {
		t.Fatalf("status %d with error code %q and message %q, want one of %v and a message", r.status, e.Error.Code, e.Error.Message, errorCodes[r.status])
	}
}

// checkFuzzSuccess wants {"order": ORDER} from the order endpoints and
// {"status": ...} from the health endpoints.
func checkFuzzSuccess(t *testing.T, req *http.Request, r *reply) {
	t.Helper()
	if req.URL.Path == "/healthz" || req.URL.Path == "/readyz" {
		var body struct{ Status string }
		if err := json.Unmarshal(r.body, &body); err != nil || body.Status == "" {
			t.Fatalf("health answer %s", r)
		}
		return
	}
	var body struct {
		Order *struct {
			ID     string `json:"id"`
			Status string `json:"status"`
			SKU    string `json:"sku"`
		} `json:"order"`
	}
	if err := json.Unmarshal(r.body, &body); err != nil || body.Order == nil {
		t.Fatalf("%s %q answered %d without an order: %s", req.Method, req.URL, r.status, r)
	}
	if !decimal.MatchString(body.Order.ID) || !slices.Contains(orderStates, body.Order.Status) {
		t.Fatalf("order with id %q and status %q: %s", body.Order.ID, body.Order.Status, r)
	}
}
