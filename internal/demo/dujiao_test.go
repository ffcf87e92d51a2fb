package demo

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"cardflow/api/dujiao"
)

var testSecret = []byte("demo-djshop-secret-0123456789")

// upstreamStub answers the shop's signed requests as cardflow's upstream
// API does on the wire: one qb-10 SKU in stock, and each order accepted or
// refused for want of balance.
type upstreamStub struct {
	mu      sync.Mutex
	refuse  bool
	bodies  []map[string]any
	badSigs int
}

func (u *upstreamStub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	secretOf := func(key string) ([]byte, bool) { return testSecret, key == DockingShopID }
	if _, err := dujiao.Verify(dujiao.FromHeaders(r.Method, r.URL.Path, r.Header, body), time.Now(), secretOf); err != nil {
		u.mu.Lock()
		u.badSigs++
		u.mu.Unlock()
		dujiao.WriteError(w, err)
		return
	}
	switch r.URL.Path {
	case dujiao.Prefix + "/ping":
		_ = dujiao.WriteOK(w, dujiao.Ping{SiteName: "cardflow", Balance: 1234, Currency: dujiao.Currency})
	case dujiao.Prefix + "/products":
		_ = dujiao.WriteOK(w, dujiao.ProductsPage{Total: 1, Page: 1, PageSize: 50, IncludesInactive: true,
			Items: []dujiao.Product{{ID: 1001, IsActive: true, SKUs: []dujiao.SKU{{ID: 1001, StockQuantity: 5, IsActive: true}}}}})
	case dujiao.Prefix + "/orders":
		var m map[string]any
		_ = json.Unmarshal(body, &m)
		u.mu.Lock()
		u.bodies = append(u.bodies, m)
		refuse := u.refuse
		u.mu.Unlock()
		if refuse {
			dujiao.WriteError(w, dujiao.Refused(dujiao.CodeInsufficientBalance, "top up"))
			return
		}
		_ = dujiao.WriteOK(w, dujiao.Accepted{OrderID: 7, OrderNo: "7", Status: dujiao.StatusPaid, Currency: dujiao.Currency})
	default:
		http.NotFound(w, r)
	}
}

func (u *upstreamStub) setRefuse(on bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.refuse = on
}

func (u *upstreamStub) last() map[string]any {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.bodies[len(u.bodies)-1]
}

// newTestShop connects a shop to a stub upstream and serves its callbacks.
func newTestShop(t *testing.T) (*DujiaoShop, *upstreamStub, *[]string, string) {
	t.Helper()
	up := &upstreamStub{}
	upSrv := httptest.NewServer(up)
	t.Cleanup(upSrv.Close)
	var logMu sync.Mutex
	logged := &[]string{}
	shop := &DujiaoShop{BaseURL: upSrv.URL, Secret: testSecret, RunID: "120000",
		Log: func(m string) { logMu.Lock(); *logged = append(*logged, m); logMu.Unlock() }}
	cbSrv := httptest.NewServer(shop)
	t.Cleanup(cbSrv.Close)
	shop.CallbackURL = cbSrv.URL + DockingPath
	if err := shop.Connect(context.Background()); err != nil {
		t.Fatal(err)
	}
	return shop, up, logged, cbSrv.URL + DockingPath
}

// post sends a callback signed with secret and returns whether it was taken.
func post(t *testing.T, url string, secret []byte, cb dujiao.Callback) bool {
	t.Helper()
	body, err := json.Marshal(cb)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(string(body)))
	dujiao.SetHeaders(req.Header, DockingShopID, secret, http.MethodPost, dujiao.CallbackPath, time.Now(), body)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	return dujiao.CallbackAccepted(resp.StatusCode, answer)
}

func keys(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "QB10-KEY-" + string(rune('A'+i)) + "----PW"
	}
	return out
}

func TestTheDockingShopSignsItsOrdersAndTakesEachDeliveryOnceWithItsKeys(t *testing.T) {
	shop, up, _, url := newTestShop(t)
	ctx := context.Background()
	shop.buy(ctx)
	sent := up.last()
	no, _ := sent["downstream_order_no"].(string)
	qty := int(sent["quantity"].(float64))
	if sent["sku_id"] != float64(1001) || !strings.HasPrefix(no, "DJ120000") || sent["callback_url"] != url || qty < 1 || qty > 2 {
		t.Fatalf("order body %v", sent)
	}
	now := time.Now()
	delivered := func(orderNo string, lines []string) dujiao.Callback {
		return dujiao.NewCallback(7, "7", orderNo, dujiao.StatusDelivered, dujiao.Delivered(dujiao.FulfillAuto, lines, dujiao.At(now)), now)
	}
	refused := []struct {
		name   string
		secret []byte
		cb     dujiao.Callback
	}{
		{"signed with another secret", []byte("another-secret-0123456789"), delivered(no, keys(qty))},
		{"an order of this run the shop never placed", testSecret, delivered("DJ1200009999", keys(1))},
		{"more keys than units", testSecret, delivered(no, keys(qty+1))},
		{"a delivery with the status_changed event", testSecret, func() dujiao.Callback {
			c := delivered(no, keys(qty))
			c.Event = dujiao.EventStatusChanged
			return c
		}()},
	}
	for _, tc := range refused {
		if post(t, url, tc.secret, tc.cb) {
			t.Errorf("%s: taken", tc.name)
		}
	}
	if got := shop.Problems(); len(got) != len(refused) {
		t.Fatalf("problems %q, want one for each of %d refusals", got, len(refused))
	}
	for range 2 {
		if !post(t, url, testSecret, delivered(no, keys(qty))) {
			t.Fatal("the delivery was refused")
		}
	}
	if !post(t, url, testSecret, delivered("DJ0930000001", keys(1))) {
		t.Error("an earlier run's delivery was refused")
	}
	if post(t, url, testSecret, delivered(no, []string{"OTHER----KEY"})) {
		t.Error("a second delivery with other keys was taken")
	}
	tally := shop.Tally(ctx)
	want := DujiaoTally{Placed: 1, Delivered: 1, Keys: qty, Repeats: 1, Earlier: 1, Balance: "12.34"}
	if tally != want {
		t.Errorf("tally %+v, want %+v", tally, want)
	}
	up.mu.Lock()
	defer up.mu.Unlock()
	if up.badSigs != 0 {
		t.Errorf("cardflow refused %d of the shop's signatures", up.badSigs)
	}
}

func TestTheDockingShopReportsARunOfRefusalsOnceAndItsEnd(t *testing.T) {
	shop, up, logged, _ := newTestShop(t)
	ctx := context.Background()
	up.setRefuse(true)
	for range 3 {
		shop.buy(ctx)
	}
	up.setRefuse(false)
	shop.buy(ctx)
	if len(*logged) != 2 || !strings.Contains((*logged)[0], "insufficient_balance") || !strings.Contains((*logged)[0], "/credit demo-djshop") ||
		!strings.Contains((*logged)[1], "accepted again") {
		t.Errorf("logged %q", *logged)
	}
	if tally := shop.Tally(ctx); tally.Refused != 3 || tally.Placed != 1 {
		t.Errorf("tally %+v", tally)
	}
}
