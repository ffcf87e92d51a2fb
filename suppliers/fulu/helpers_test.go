package fulu_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"cardflow/internal/testkit"
	"cardflow/suppliers/fulu"
	"cardflow/suppliers/fulu/fulufake"
)

const (
	appKey    = fulufake.SandboxAppKey
	appSecret = fulufake.SandboxAppSecret
)

// epoch is when the tests' clocks start.
var epoch = time.Date(2024, 1, 2, 3, 4, 5, 0, fulu.Beijing)

// pair is a client talking to a fake gateway over HTTP.
type pair struct {
	client *fulu.Client
	gw     *fulufake.Gateway
	clock  *testkit.Clock
	srv    *httptest.Server
}

func newPair(t *testing.T, o fulufake.Options) *pair {
	t.Helper()
	clk := testkit.NewClock(epoch)
	if o.Now == nil {
		o.Now = clk.Now
	}
	gw := fulufake.New(o)
	srv := httptest.NewServer(gw)
	t.Cleanup(srv.Close)
	t.Cleanup(gw.Close) // runs first: cancels slow answers and callbacks
	return &pair{client: newClient(t, srv.URL, srv.Client(), clk.Now), gw: gw, clock: clk, srv: srv}
}

func newClient(t *testing.T, base string, hc *http.Client, now func() time.Time) *fulu.Client {
	t.Helper()
	c, err := fulu.New(fulu.Options{BaseURL: base, AppKey: appKey, AppSecret: appSecret, HTTP: hc, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// answering is a client whose gateway gives one fixed answer to every
// call, signed correctly over result when signed is set. It records the
// request bodies it gets.
func answering(t *testing.T, code int, message, result string, signed bool) (*fulu.Client, *[][]byte) {
	t.Helper()
	sign := ""
	if signed {
		sign = fulu.SignText(result, appSecret)
	}
	return answeringRaw(t, http.StatusOK, marshalAnswer(code, message, result, sign))
}

func marshalAnswer(code int, message, result, sign string) string {
	b, _ := json.Marshal(map[string]any{"code": code, "message": message, "result": result, "sign": sign})
	return string(b)
}

func answeringRaw(t *testing.T, status int, body string) (*fulu.Client, *[][]byte) {
	t.Helper()
	return answeringRawAt(t, status, body, testkit.NewClock(epoch).Now)
}

func answeringRawAt(t *testing.T, status int, body string, now func() time.Time) (*fulu.Client, *[][]byte) {
	t.Helper()
	var mu sync.Mutex
	var reqs [][]byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		reqs = append(reqs, b)
		mu.Unlock()
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return newClient(t, srv.URL, srv.Client(), now), &reqs
}
