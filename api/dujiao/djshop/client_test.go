package djshop_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"cardflow/api/dujiao"
	"cardflow/api/dujiao/djshop"
	"cardflow/internal/money"
	"cardflow/internal/testkit"
)

// seen is one request as an upstream received it.
type seen struct {
	method, path, query, contentType, key, ts, sig string
	body                                           string
}

func TestTheClientSignsEveryRequestAsAShopsClientDoes(t *testing.T) {
	var mu sync.Mutex
	var got []seen
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, seen{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("Content-Type"),
			r.Header.Get(dujiao.HeaderAPIKey), r.Header.Get(dujiao.HeaderTimestamp), r.Header.Get(dujiao.HeaderSignature), string(body)})
		mu.Unlock()
		switch {
		case strings.HasSuffix(r.URL.Path, "/ping"):
			_ = dujiao.WriteOK(w, dujiao.Ping{SiteName: "x", ProtocolVersion: "1.0", UserID: 1, Currency: "CNY"})
		case strings.HasSuffix(r.URL.Path, "/products"):
			_ = dujiao.WriteOK(w, dujiao.ProductsPage{Page: 1, PageSize: 50, IncludesInactive: true})
		default:
			_ = dujiao.WriteOK(w, dujiao.Accepted{OrderID: 101, OrderNo: "101", Status: "paid", Currency: "CNY"})
		}
	}))
	defer srv.Close()
	// cardflow mounted under /cf: the shop still signs from /api/v1/upstream.
	shop := djshop.New(srv.URL+"/cf/", "cardflow-shop1", vectorSecret)
	shop.Now = func() time.Time { return vectorNow }
	shop.CallbackURL = "https://a.example.com/api/v1/upstream/callback"
	ctx := context.Background()
	if _, err := shop.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if _, _, err := shop.Products(ctx, 50); err != nil {
		t.Fatal(err)
	}
	if _, err := shop.Buy(ctx, djshop.Purchase{SKUID: 12, Quantity: 2, DownstreamOrderNo: "DJ20260301120000ABCD",
		TraceID: "3f0c7a52-8d7e-4a51-9c1e-2b7d3a9e6f10"}); err != nil {
		t.Fatal(err)
	}
	want := []seen{
		{"POST", "/cf/api/v1/upstream/ping", "", "", "cardflow-shop1", "1709625600",
			"0fc2d2235d6698a0e6c077bf7595ed19526ea123dad88efea48a665751ba84f0", ""}, // D2
		{"GET", "/cf/api/v1/upstream/products", "page=1&page_size=50&include_inactive=true", "", "cardflow-shop1", "1709625600",
			"ea8887d50136e67d7ab19cf0f114de945adeb822e403dc4dee4583501c594f8e", ""}, // D3
		{"POST", "/cf/api/v1/upstream/orders", "", "application/json", "cardflow-shop1", "1709625600",
			"5220273b9343a328cc81cc5d2f0fa1e1566d2fba65b1a1d6460d3df9e4f84540", string(readFile(t, "../testdata/order-d4.json"))}, // D4
	}
	if len(got) != len(want) {
		t.Fatalf("requests %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("request %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
}

// upstream is a small Dujiao-Next upstream built on package dujiao, for the
// shop to run against over loopback: n products, orders delivered by a
// signed callback after the answer, polls and cancels.
type upstream struct {
	products int
	clock    *testkit.Clock
	mu       sync.Mutex
	orders   map[uint64]*upOrder
	byNo     map[string]uint64
}

type upOrder struct {
	no, callbackURL string
	sku             uint64
	qty             int
	keys            []string
}

func (u *upstream) secretOf(key string) ([]byte, bool) {
	return vectorSecret, key == "cardflow-shop1"
}

func (u *upstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, dujiao.MaxBody+1))
	if err != nil {
		dujiao.WriteError(w, dujiao.BadRequest("unreadable body"))
		return
	}
	if _, err := dujiao.Verify(dujiao.FromHeaders(r.Method, r.URL.Path, r.Header, body), u.clock.Now(), u.secretOf); err != nil {
		dujiao.WriteError(w, err)
		return
	}
	path, _ := dujiao.SignedPath(r.URL.Path)
	rest := strings.TrimPrefix(path, dujiao.Prefix)
	switch {
	case rest == "/ping":
		_ = dujiao.WriteOK(w, dujiao.Ping{SiteName: "cardflow", ProtocolVersion: dujiao.ProtocolVersion, UserID: 7,
			Balance: money.Amount(100000), Currency: dujiao.Currency})
	case rest == "/products":
		q := dujiao.ParsePageQuery(r.URL.Query())
		page := dujiao.ProductsPage{Total: u.products, Page: q.Page, PageSize: q.PageSize, IncludesInactive: q.IncludeInactive}
		for i := (q.Page - 1) * q.PageSize; i < min(u.products, q.Page*q.PageSize); i++ {
			page.Items = append(page.Items, dujiao.Product{ID: uint64(1000 + i), Title: dujiao.Text{"zh-CN": "P" + strconv.Itoa(i)},
				PriceAmount: 950, Currency: "CNY", FulfillmentType: dujiao.FulfillAuto, IsActive: true,
				SKUs:      []dujiao.SKU{{ID: uint64(1000 + i), PriceAmount: 950, StockStatus: dujiao.StockStatus(5), StockQuantity: 5, IsActive: true}},
				CreatedAt: dujiao.At(u.clock.Now()), UpdatedAt: dujiao.At(u.clock.Now())})
		}
		_ = dujiao.WriteOK(w, page)
	case rest == "/orders":
		u.create(w, body)
	case strings.HasPrefix(rest, "/orders/"):
		u.order(w, strings.TrimPrefix(rest, "/orders/"))
	default:
		http.NotFound(w, r) // categories: unsupported
	}
}

func (u *upstream) create(w http.ResponseWriter, body []byte) {
	req, err := dujiao.DecodeCreateOrder(body, 10)
	if err != nil {
		dujiao.WriteError(w, err)
		return
	}
	if req.SKUID != 1000 {
		dujiao.WriteError(w, dujiao.Refused(dujiao.CodeSKUUnavailable, "no such SKU"))
		return
	}
	u.mu.Lock()
	id, repeat := u.byNo[req.DownstreamOrderNo]
	if !repeat {
		id = uint64(len(u.orders) + 1)
		u.byNo[req.DownstreamOrderNo] = id
		o := &upOrder{no: req.DownstreamOrderNo, callbackURL: req.CallbackURL, sku: req.SKUID, qty: req.Quantity}
		for i := range req.Quantity {
			o.keys = append(o.keys, "KEY-"+strconv.FormatUint(id, 10)+"-"+strconv.Itoa(i))
		}
		u.orders[id] = o
	}
	o := u.orders[id]
	u.mu.Unlock()
	_ = dujiao.WriteOK(w, dujiao.Accepted{OrderID: id, OrderNo: strconv.FormatUint(id, 10), Status: dujiao.StatusPaid,
		Amount: money.Amount(950 * o.qty), Currency: dujiao.Currency})
	if !repeat {
		go u.callback(id, o) // after the answer, as cardflow's outbox sends it
	}
}

func (u *upstream) callback(id uint64, o *upOrder) {
	cb := dujiao.NewCallback(id, strconv.FormatUint(id, 10), o.no, dujiao.StatusDelivered,
		dujiao.Delivered(dujiao.FulfillAuto, o.keys, dujiao.At(u.clock.Now())), u.clock.Now())
	// A failure here leaves the order undelivered, which the test's wait
	// reports.
	body, err := cb.MarshalJSON()
	if err != nil {
		return
	}
	req, err := http.NewRequest(http.MethodPost, o.callbackURL, strings.NewReader(string(body)))
	if err != nil {
		return
	}
	req.Header.Set("Content-Type", "application/json")
	dujiao.SetHeaders(req.Header, "cardflow-shop1", vectorSecret, http.MethodPost, dujiao.CallbackPath, u.clock.Now(), body)
	resp, err := http.DefaultClient.Do(req)
	if err == nil {
		resp.Body.Close()
	}
}

func (u *upstream) order(w http.ResponseWriter, rest string) {
	idText, cancel := strings.CutSuffix(rest, "/cancel")
	id, ok := dujiao.ParseID(idText)
	u.mu.Lock()
	o := u.orders[id]
	u.mu.Unlock()
	if !ok || o == nil {
		dujiao.WriteError(w, dujiao.NotFound(dujiao.CodeOrderNotFound, "no such order"))
		return
	}
	if cancel {
		dujiao.WriteError(w, dujiao.ErrCancelNotAllowed)
		return
	}
	_ = dujiao.WriteOK(w, dujiao.Order{OrderID: id, OrderNo: idText, Status: dujiao.StatusDelivered, Amount: money.Amount(950 * o.qty),
		Currency: dujiao.Currency, Items: []dujiao.Item{{ProductID: o.sku, SKUID: o.sku, Title: dujiao.Text{"zh-CN": "P0"}, Quantity: o.qty,
			UnitPrice: 950, TotalPrice: money.Amount(950 * o.qty), FulfillmentType: dujiao.FulfillAuto}},
		Fulfillment: dujiao.Delivered(dujiao.FulfillAuto, o.keys, dujiao.At(u.clock.Now()))})
}

// loopback starts an upstream with n products and a shop connected to it.
func loopback(t *testing.T, n int) (*djshop.Shop, *upstream) {
	t.Helper()
	clock := testkit.NewClock(vectorNow)
	up := &upstream{products: n, clock: clock, orders: map[uint64]*upOrder{}, byNo: map[string]uint64{}}
	upSrv := httptest.NewServer(up)
	t.Cleanup(upSrv.Close)
	shop := djshop.New(upSrv.URL, "cardflow-shop1", vectorSecret)
	shop.Now = clock.Now
	shopSrv := httptest.NewServer(shop)
	t.Cleanup(shopSrv.Close)
	shop.CallbackURL = shopSrv.URL + "/api/v1/upstream/callback"
	return shop, up
}

func TestAShopConnectsImportsBuysAndGetsItsKeysOverLoopback(t *testing.T) {
	shop, _ := loopback(t, 120)
	ctx := context.Background()
	ping, err := shop.Ping(ctx)
	if err != nil || !ping.OK || ping.Balance != "1000.00" || ping.UserID != 7 {
		t.Fatalf("ping %+v %v", ping, err)
	}
	if cats, supported, err := shop.Categories(ctx); err != nil || supported || cats != nil {
		t.Fatalf("categories %v %v %v: a 404 means unsupported", cats, supported, err)
	}
	all, complete, err := shop.Products(ctx, 50)
	if err != nil || len(all) != 120 || !complete || all[119].ID != 1119 || all[0].SKUs[0].StockStatus != "low_stock" {
		t.Fatalf("products: %d complete=%v %v", len(all), complete, err)
	}
	a, err := shop.Buy(ctx, djshop.Purchase{SKUID: 1000, Quantity: 2, DownstreamOrderNo: "DJ1-01", TraceID: "t1"})
	if err != nil || a.OrderID == 0 || a.Amount != "19.00" {
		t.Fatalf("buy %+v %v", a, err)
	}
	testkit.Eventually(t, "the delivery callback", func() bool { return shop.Delivered("DJ1-01") })
	again, err := shop.Buy(ctx, djshop.Purchase{SKUID: 1000, Quantity: 2, DownstreamOrderNo: "DJ1-01", TraceID: "t1"})
	if err != nil || again.OrderID != a.OrderID {
		t.Fatalf("a repeat got %+v %v, want order %d", again, err, a.OrderID)
	}
	o, err := shop.Order(ctx, a.OrderID)
	if err != nil || o.Status != "delivered" || o.Fulfillment == nil || o.Fulfillment.Payload != "KEY-1-0\nKEY-1-1" {
		t.Fatalf("poll %+v %v", o, err)
	}
	var apiErr *djshop.APIError
	if err := shop.Cancel(ctx, a.OrderID); !errors.As(err, &apiErr) || apiErr.Status != 409 || apiErr.Code != "cancel_not_allowed" {
		t.Fatalf("cancel of a delivered order: %v", err)
	}
	p, _ := shop.Procurement("DJ1-01")
	if p.Deliveries != 1 || p.Payload != "KEY-1-0\nKEY-1-1" || len(shop.Problems()) != 0 {
		t.Fatalf("procurement %+v, problems %v", p, shop.Problems())
	}
}

func TestTheShopSeesRefusalsAsTheUpstreamMeansThem(t *testing.T) {
	shop, _ := loopback(t, 1)
	ctx := context.Background()
	var e *djshop.APIError
	_, err := shop.Buy(ctx, djshop.Purchase{SKUID: 55, Quantity: 1, DownstreamOrderNo: "DJ2"})
	if !errors.As(err, &e) || e.Status != 200 || e.Code != "sku_unavailable" || !e.Final() {
		t.Fatalf("unknown SKU: %v", err)
	}
	_, err = shop.Buy(ctx, djshop.Purchase{SKUID: 1000, Quantity: 11, DownstreamOrderNo: "DJ3"})
	if !errors.As(err, &e) || e.Status != 400 || e.Code != "bad_request" || e.Final() {
		t.Fatalf("quantity over the limit: %v", err)
	}
	if _, err := shop.Order(ctx, 999); !errors.As(err, &e) || e.Status != 404 || e.Code != "order_not_found" {
		t.Fatalf("unknown order: %v", err)
	}
	wrong := djshop.New(shop.BaseURL, "cardflow-shop1", []byte("another-secret-of-16"))
	wrong.Now = func() time.Time { return vectorNow }
	if _, err := wrong.Ping(ctx); !errors.As(err, &e) || e.Status != 401 || e.Code != "invalid_signature" {
		t.Fatalf("wrong secret: %v", err)
	}
	stranger := djshop.New(shop.BaseURL, "cardflow-shop9", vectorSecret)
	stranger.Now = func() time.Time { return vectorNow }
	if _, err := stranger.Ping(ctx); !errors.As(err, &e) || e.Status != 403 || e.Code != "invalid_api_key" {
		t.Fatalf("unknown key: %v", err)
	}
}
