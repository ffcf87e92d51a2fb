package signing

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"
)

// readmeSign is the Go example of the README, copied verbatim: storefront
// developers copy it, so it must agree with what cardflow checks.
func readmeSign(secret []byte, ts int64, method, pathAndQuery string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	fmt.Fprintf(m, "%d\n%s\n%s\n", ts, method, pathAndQuery)
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

func TestSumMatchesTheReadmeExampleAndAFixedVector(t *testing.T) {
	secret, body := []byte("shop-secret"), []byte(`{"external_id":"T1"}`)
	got := Sum(secret, 1764000000, "POST", "/v1/orders?x=1", body)
	if want := readmeSign(secret, 1764000000, "POST", "/v1/orders?x=1", body); got != want {
		t.Fatalf("Sum = %s, README example = %s", got, want)
	}
	// The signed string is exactly "1\nGET\n/\n" for an empty body.
	m := hmac.New(sha256.New, []byte("k"))
	m.Write([]byte("1\nGET\n/\n"))
	if got := Sum([]byte("k"), 1, "GET", "/", nil); got != hex.EncodeToString(m.Sum(nil)) {
		t.Fatalf("Sum over the documented string differs: %s", got)
	}
}

func TestCheckRefusesEveryKindOfBadSignature(t *testing.T) {
	secret, now := []byte("s3cret"), time.Unix(1_764_000_000, 0)
	good := func(ts int64) (string, string) {
		return strconv.FormatInt(ts, 10), Sum(secret, ts, "POST", "/v1/orders", []byte("{}"))
	}
	cases := []struct {
		name   string
		ts     string
		sig    string
		method string
		path   string
		body   string
		want   error
	}{
		{"missing timestamp", "", "abc", "POST", "/v1/orders", "{}", ErrMissing},
		{"missing signature", "1", "", "POST", "/v1/orders", "{}", ErrMissing},
		{"timestamp not a number", "yesterday", "abc", "POST", "/v1/orders", "{}", ErrBadTime},
		{"timestamp in milliseconds", "1764000000000", "abc", "POST", "/v1/orders", "{}", ErrTimestamp},
	}
	ts, sig := good(now.Unix() - 301)
	cases = append(cases, struct {
		name, ts, sig, method, path, body string
		want                              error
	}{"301 s old", ts, sig, "POST", "/v1/orders", "{}", ErrTimestamp})
	ts, sig = good(now.Unix() + 301)
	cases = append(cases, struct {
		name, ts, sig, method, path, body string
		want                              error
	}{"301 s ahead", ts, sig, "POST", "/v1/orders", "{}", ErrTimestamp})
	ts, sig = good(now.Unix())
	for _, tc := range []struct{ name, method, path, body string }{
		{"body changed", "POST", "/v1/orders", "{ }"},
		{"path changed", "POST", "/v1/orders/1", "{}"},
		{"method changed", "PUT", "/v1/orders", "{}"},
	} {
		cases = append(cases, struct {
			name, ts, sig, method, path, body string
			want                              error
		}{tc.name, ts, sig, tc.method, tc.path, tc.body, ErrSignature})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Check(secret, now, tc.ts, tc.sig, tc.method, tc.path, []byte(tc.body))
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
	for _, edge := range []int64{-300, 300} {
		ts, sig := good(now.Unix() + edge)
		if _, err := Check(secret, now, ts, sig, "POST", "/v1/orders", []byte("{}")); err != nil {
			t.Errorf("timestamp %+d s: %v, want accepted (the window is inclusive)", edge, err)
		}
	}
}

func TestGuardRefusesReplaysUntilTheWindowEnds(t *testing.T) {
	g := NewGuard()
	now := time.Unix(1_764_000_000, 0)
	sig := Sum([]byte("k"), now.Unix(), "POST", "/v1/orders", nil)
	if err := g.Seen(now, now.Unix(), sig); err != nil {
		t.Fatal(err)
	}
	if err := g.Seen(now.Add(299*time.Second), now.Unix(), sig); !errors.Is(err, ErrReplay) {
		t.Fatalf("replay inside the window: %v", err)
	}
	other := Sum([]byte("k"), now.Unix(), "POST", "/v1/orders/2", nil)
	if err := g.Seen(now, now.Unix(), other); err != nil {
		t.Fatalf("a different signature: %v", err)
	}
	// Once the signed timestamp is outside the window, Check refuses it
	// anyway, so the guard may forget it and its memory stays bounded.
	later := now.Add(10 * time.Minute)
	_ = g.Seen(later, later.Unix(), Sum([]byte("k"), later.Unix(), "GET", "/", nil))
	if n := len(g.gens); n > 2 {
		t.Errorf("%d generations kept after the window passed", n)
	}
	if err := g.Seen(later, later.Unix(), "zz"); !errors.Is(err, ErrSignature) {
		t.Errorf("non-hex signature: %v", err)
	}
}

func TestApplySignsWhatTheServerChecks(t *testing.T) {
	req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1/cb?token=x", nil)
	now := time.Unix(1_764_000_000, 0)
	Apply(req, "shop1", []byte("k"), now, []byte("body"))
	if req.Header.Get(HeaderStorefront) != "shop1" {
		t.Fatal("storefront header missing")
	}
	if _, err := Check([]byte("k"), now, req.Header.Get(HeaderTimestamp), req.Header.Get(HeaderSignature),
		http.MethodPost, "/cb?token=x", []byte("body")); err != nil {
		t.Fatalf("applied signature does not check: %v", err)
	}
}

// Reused keyed states must sign exactly as a fresh HMAC does, for secrets
// kept in the pool and for those past its cap, interleaved.
func TestSumWithReusedStatesMatchesAFreshHMAC(t *testing.T) {
	fresh := func(secret []byte, ts int64, method, path string, body []byte) string {
		m := hmac.New(sha256.New, secret)
		fmt.Fprintf(m, "%d\n%s\n%s\n", ts, method, path)
		m.Write(body)
		return hex.EncodeToString(m.Sum(nil))
	}
	for round := range 3 {
		for i := range maxKeyed + 10 {
			secret := []byte(fmt.Sprintf("secret-%d", i))
			body := []byte(fmt.Sprintf(`{"n":%d}`, round*1000+i))
			if got, want := Sum(secret, int64(1764000000+i), "POST", "/v1/orders?x=1", body), fresh(secret, int64(1764000000+i), "POST", "/v1/orders?x=1", body); got != want {
				t.Fatalf("round %d secret %d: Sum = %s, want %s", round, i, got, want)
			}
		}
	}
	secret := []byte("reused")
	buf := append([]byte(nil), secret...)
	first := Sum(buf, 1, "GET", "/", nil)
	copy(buf, "XXXXXX") // the caller reuses its slice: the kept key must not change
	if got := Sum(secret, 1, "GET", "/", nil); got != first {
		t.Fatalf("after the caller's slice changed, Sum = %s, want %s", got, first)
	}
}
