package dujiao_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"testing"
	"time"

	"cardflow/api/dujiao"
)

// The vectors were computed by running the shop's own signer: secret
// "test-secret-key-12345", timestamp 1709625600.
var (
	vectorSecret = []byte("test-secret-key-12345")
	vectorTS     = int64(1709625600)
	vectorNow    = time.Unix(vectorTS, 0)
)

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type vector struct {
	name, method, path string
	body               []byte
	want               string
}

func vectors(t *testing.T) []vector {
	return []vector{
		{"D1 order", "POST", "/api/v1/upstream/orders", []byte(`{"sku_id":1,"quantity":1}`),
			"19110ded1f45e5537f1f0e4397625d3a22267a94cbb5dc50d83233e71c5c764a"},
		{"D2 ping without body", "POST", "/api/v1/upstream/ping", nil,
			"0fc2d2235d6698a0e6c077bf7595ed19526ea123dad88efea48a665751ba84f0"},
		{"D3 products, query not signed", "GET", "/api/v1/upstream/products", nil,
			"ea8887d50136e67d7ab19cf0f114de945adeb822e403dc4dee4583501c594f8e"},
		{"D4 order as the shop marshals it", "POST", "/api/v1/upstream/orders", readFile(t, "testdata/order-d4.json"),
			"5220273b9343a328cc81cc5d2f0fa1e1566d2fba65b1a1d6460d3df9e4f84540"},
		{"D5 callback", "POST", dujiao.CallbackPath, readFile(t, "testdata/callback-d5.json"),
			"ff9440415b7c60b191e4db1bfe8b38d8df267cb9ed579ef4e3b65ac76c9f734d"},
	}
}

func TestSignMatchesEveryVectorOfTheShopsSigner(t *testing.T) {
	for _, v := range vectors(t) {
		t.Run(v.name, func(t *testing.T) {
			if got := dujiao.Sign(vectorSecret, v.method, v.path, vectorTS, v.body); got != v.want {
				t.Errorf("Sign = %s, want %s", got, v.want)
			}
		})
	}
}

func secretOf(key string) ([]byte, bool) {
	if key == "cardflow-shop1" {
		return vectorSecret, true
	}
	return nil, false
}

func TestVerifyAcceptsEveryVectorAsTheShopSendsIt(t *testing.T) {
	for _, v := range vectors(t) {
		t.Run(v.name, func(t *testing.T) {
			// D3's query stays out of Signed.Path, as a handler passes r.URL.Path.
			s := dujiao.Signed{Method: v.method, Path: v.path, APIKey: "cardflow-shop1",
				Timestamp: "1709625600", Signature: v.want, Body: v.body}
			key, err := dujiao.Verify(s, vectorNow, secretOf)
			if err != nil || key != "cardflow-shop1" {
				t.Fatalf("Verify = %q, %v", key, err)
			}
		})
	}
}

func TestVerifyCallbackChecksTheFixedCallbackPathWhateverTheRoute(t *testing.T) {
	body := readFile(t, "testdata/callback-d5.json")
	sig := "ff9440415b7c60b191e4db1bfe8b38d8df267cb9ed579ef4e3b65ac76c9f734d"
	if _, err := dujiao.VerifyCallback("cardflow-shop1", "1709625600", sig, body, vectorNow, secretOf); err != nil {
		t.Fatalf("D5 refused: %v", err)
	}
	if _, err := dujiao.VerifyCallback("cardflow-shop1", "1709625600", sig, append(body, ' '), vectorNow, secretOf); !errors.Is(err, dujiao.ErrInvalidSignature) {
		t.Fatalf("a body with one more byte: %v", err)
	}
}

func TestVerifyChecksTheSuffixFromTheAPIPathUnderAMountPrefix(t *testing.T) {
	sig := "0fc2d2235d6698a0e6c077bf7595ed19526ea123dad88efea48a665751ba84f0" // D2
	for _, p := range []string{"/api/v1/upstream/ping", "/cf/api/v1/upstream/ping", "/a/b/api/v1/upstream/ping"} {
		s := dujiao.Signed{Method: "POST", Path: p, APIKey: "cardflow-shop1", Timestamp: "1709625600", Signature: sig}
		if _, err := dujiao.Verify(s, vectorNow, secretOf); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	// A path where /api/v1/upstream is not a whole segment, or is absent,
	// has nothing a shop could have signed.
	for _, p := range []string{"/api/v1/upstreamx/ping", "/ping", "", "/api/v1/upstreamping"} {
		s := dujiao.Signed{Method: "POST", Path: p, APIKey: "cardflow-shop1", Timestamp: "1709625600", Signature: sig}
		if _, err := dujiao.Verify(s, vectorNow, secretOf); !errors.Is(err, dujiao.ErrInvalidSignature) {
			t.Errorf("%q: %v, want invalid_signature", p, err)
		}
	}
}

func TestSignedPathSkipsAPrefixThatOnlyLooksLikeTheAPI(t *testing.T) {
	cases := map[string]string{
		"/api/v1/upstream":                      "/api/v1/upstream",
		"/x/api/v1/upstreamy/api/v1/upstream/a": "/api/v1/upstream/a",
		"/api/v1/upstream/orders/101/cancel":    "/api/v1/upstream/orders/101/cancel",
	}
	for in, want := range cases {
		if got, ok := dujiao.SignedPath(in); !ok || got != want {
			t.Errorf("SignedPath(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

func TestVerifyRefusesEachBadRequestWithItsCodeAndStatus(t *testing.T) {
	d2 := "0fc2d2235d6698a0e6c077bf7595ed19526ea123dad88efea48a665751ba84f0"
	good := dujiao.Signed{Method: "POST", Path: "/api/v1/upstream/ping", APIKey: "cardflow-shop1", Timestamp: "1709625600", Signature: d2}
	cases := []struct {
		name   string
		change func(*dujiao.Signed)
		now    time.Time
		code   string
		status int
	}{
		{"no api key", func(s *dujiao.Signed) { s.APIKey = "" }, vectorNow, "missing_auth_headers", 401},
		{"no timestamp", func(s *dujiao.Signed) { s.Timestamp = "" }, vectorNow, "missing_auth_headers", 401},
		{"no signature", func(s *dujiao.Signed) { s.Signature = "" }, vectorNow, "missing_auth_headers", 401},
		{"timestamp in milliseconds with letters", func(s *dujiao.Signed) { s.Timestamp = "1709625600abc" }, vectorNow, "invalid_timestamp", 401},
		{"timestamp with a plus sign", func(s *dujiao.Signed) { s.Timestamp = "+1709625600" }, vectorNow, "invalid_timestamp", 401},
		{"timestamp with a leading zero", func(s *dujiao.Signed) { s.Timestamp = "01709625600" }, vectorNow, "invalid_timestamp", 401},
		{"timestamp 61 s old", nil, vectorNow.Add(61 * time.Second), "timestamp_expired", 401},
		{"timestamp 61 s ahead", nil, vectorNow.Add(-61 * time.Second), "timestamp_expired", 401},
		{"unknown key", func(s *dujiao.Signed) { s.APIKey = "someone-else" }, vectorNow, "invalid_api_key", 403},
		{"wrong method", func(s *dujiao.Signed) { s.Method = "GET" }, vectorNow, "invalid_signature", 401},
		{"lowercase method", func(s *dujiao.Signed) { s.Method = "post" }, vectorNow, "invalid_signature", 401},
		{"other path", func(s *dujiao.Signed) { s.Path = "/api/v1/upstream/orders" }, vectorNow, "invalid_signature", 401},
		{"a body the shop did not sign", func(s *dujiao.Signed) { s.Body = []byte("{}") }, vectorNow, "invalid_signature", 401},
		{"uppercase hex", func(s *dujiao.Signed) {
			s.Signature = "0FC2D2235D6698A0E6C077BF7595ED19526EA123DAD88EFEA48A665751BA84F0"
		}, vectorNow, "invalid_signature", 401},
		{"truncated signature", func(s *dujiao.Signed) { s.Signature = d2[:63] }, vectorNow, "invalid_signature", 401},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := good
			if c.change != nil {
				c.change(&s)
			}
			_, err := dujiao.Verify(s, c.now, secretOf)
			var e *dujiao.Error
			if !errors.As(err, &e) || e.Code != c.code || e.Status != c.status {
				t.Fatalf("Verify = %v, want %s %d", err, c.code, c.status)
			}
		})
	}
}

func TestVerifyAcceptsTimestampsUpToSixtySecondsEitherWay(t *testing.T) {
	d2 := "0fc2d2235d6698a0e6c077bf7595ed19526ea123dad88efea48a665751ba84f0"
	s := dujiao.Signed{Method: "POST", Path: "/api/v1/upstream/ping", APIKey: "cardflow-shop1", Timestamp: "1709625600", Signature: d2}
	for _, d := range []time.Duration{-60 * time.Second, 0, 60 * time.Second} {
		if _, err := dujiao.Verify(s, vectorNow.Add(d), secretOf); err != nil {
			t.Errorf("clock %v off: %v", d, err)
		}
	}
}

func TestSetHeadersSignsWhatVerifyAccepts(t *testing.T) {
	h := http.Header{}
	body := []byte(`{"sku_id":1,"quantity":1}`)
	dujiao.SetHeaders(h, "cardflow-shop1", vectorSecret, "POST", "/api/v1/upstream/orders", vectorNow, body)
	if got := h.Get(dujiao.HeaderSignature); got != "19110ded1f45e5537f1f0e4397625d3a22267a94cbb5dc50d83233e71c5c764a" {
		t.Fatalf("signature %s is not D1's", got)
	}
	s := dujiao.FromHeaders("POST", "/api/v1/upstream/orders", h, body)
	if _, err := dujiao.Verify(s, vectorNow, secretOf); err != nil {
		t.Fatal(err)
	}
}

// TestNewRequestSignsAsTheShopsClientDoes: the D3 and D1 vectors through
// a request built against a base URL with a path prefix and a trailing
// slash; the query is sent but not signed, and only a body brings a
// Content-Type.
func TestNewRequestSignsAsTheShopsClientDoes(t *testing.T) {
	get, err := dujiao.NewRequest(context.Background(), "http://up.example.com/shop/", "cardflow-shop1", vectorSecret,
		"GET", "/api/v1/upstream/products?page=2&page_size=50", vectorNow, nil)
	if err != nil {
		t.Fatal(err)
	}
	if get.URL.String() != "http://up.example.com/shop/api/v1/upstream/products?page=2&page_size=50" || get.Body != nil ||
		get.Header.Get("Content-Type") != "" || get.Header.Get(dujiao.HeaderAPIKey) != "cardflow-shop1" ||
		get.Header.Get(dujiao.HeaderTimestamp) != "1709625600" ||
		get.Header.Get(dujiao.HeaderSignature) != "ea8887d50136e67d7ab19cf0f114de945adeb822e403dc4dee4583501c594f8e" {
		t.Errorf("GET %s with %v", get.URL, get.Header)
	}
	post, err := dujiao.NewRequest(context.Background(), "http://up.example.com", "cardflow-shop1", vectorSecret,
		"POST", "/api/v1/upstream/orders", vectorNow, []byte(`{"sku_id":1,"quantity":1}`))
	if err != nil {
		t.Fatal(err)
	}
	if post.Header.Get("Content-Type") != "application/json" ||
		post.Header.Get(dujiao.HeaderSignature) != "19110ded1f45e5537f1f0e4397625d3a22267a94cbb5dc50d83233e71c5c764a" {
		t.Errorf("POST with %v", post.Header)
	}
	if _, err := dujiao.NewRequest(context.Background(), "http://[::1", "k", vectorSecret, "GET", "/api/v1/upstream/ping", vectorNow, nil); err == nil {
		t.Error("a base URL that does not parse built a request")
	}
}
