package dujiao_test

// The rig is one running cardflow as a Dujiao-Next shop meets it: a real
// bbolt store, the real engine, the storefront listener with the upstream
// API mounted on loopback, and two djshop shops, each with its callback
// endpoint on a server of its own.

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"cardflow/api"
	"cardflow/api/dujiao"
	"cardflow/api/dujiao/djshop"
	"cardflow/config"
	"cardflow/internal/dockingtest"
	"cardflow/internal/money"
	"cardflow/internal/routes"
	"cardflow/internal/testkit"
	"cardflow/processor"
	"cardflow/rules"
	"cardflow/storage"
	"cardflow/suppliers"
	"cardflow/suppliers/sim"
)

const (
	shopID  = "cardflow-shop1"
	otherID = "cardflow-shop2"

	idQB     = 1001 // Q币, own stock only
	idJD     = 1002 // 京东E卡, own stock only
	idSteam  = 1003 // own stock, then the simulator
	idMobile = 2001 // direct top-up through the simulator
)

var (
	shopSecret  = []byte("dj-shop1-secret-6c1e94a0")
	otherSecret = []byte("dj-shop2-secret-0b7d22fe")
	operator    = storage.Actor{Name: "alice", Platform: "console"}
)

func catalogue() []config.Product {
	return []config.Product{
		{SKU: "qb-10", Name: "Q币 10元", Kind: config.KindCard, MaxQuantity: 10, BatchSize: 5,
			Sources: []config.Source{{Supplier: "own", Units: 1}}, ID: idQB, Price: 950, Category: "Q币"},
		{SKU: "jd-50", Name: "京东E卡 50元", Kind: config.KindCard, MaxQuantity: 5, BatchSize: 5,
			Sources: []config.Source{{Supplier: "own", Units: 1}}, ID: idJD, Price: 4800, Category: "购物卡",
			Description: "仅限<自营>商品"},
		{SKU: "steam-20", Name: "Steam 20", Kind: config.KindCard, MaxQuantity: 20, BatchSize: 5,
			Sources: []config.Source{{Supplier: "own", Units: 1}, {Supplier: "sim", Item: "steam", Units: 1}}, ID: idSteam, Price: 1900},
		{SKU: "mobile-100", Name: "话费 100元", Kind: config.KindDirect, MaxQuantity: 1, BatchSize: 1,
			Sources: []config.Source{{Supplier: "sim", Item: "mobile", Units: 1}}, ID: idMobile, Price: 9800,
			Category: "话费", AccountLabel: "手机号"},
		{SKU: "house-only", Name: "不对接", Kind: config.KindCard, MaxQuantity: 1, BatchSize: 1,
			Sources: []config.Source{{Supplier: "own", Units: 1}}},
	}
}

// reviewFrom holds orders of at least n units for review.
type reviewFrom int

func (n reviewFrom) Screen(_ *storage.Tx, o *storage.Order) (rules.Decision, error) {
	if o.Quantity >= int(n) {
		return rules.Decision{Action: config.ActionReview, Reason: "rule:many-units"}, nil
	}
	return rules.Decision{Action: config.ActionAllow}, nil
}

type rigOptions struct {
	hold   time.Duration // 0: a short one, so that tests do not wait for the real 2 s
	screen processor.Screener
}

type rig struct {
	store  *storage.Store
	engine *processor.Engine
	api    *httptest.Server
	shop   *djshop.Shop // cardflow-shop1
	other  *djshop.Shop // cardflow-shop2
	logs   *testkit.Buffer

	stopOnce sync.Once
}

func newRig(t *testing.T, opts rigOptions) *rig {
	t.Helper()
	r := &rig{logs: &testkit.Buffer{}}
	log := zerolog.New(r.logs)
	r.store = testkit.OpenStore(t, storage.Open, t.TempDir(), storage.Options{})
	r.shop = djshop.New("", shopID, shopSecret)
	r.other = djshop.New("", otherID, otherSecret)
	cb := httptest.NewServer(r.shop)
	cbOther := httptest.NewServer(r.other)
	r.shop.CallbackURL = cb.URL + dujiao.CallbackPath
	r.other.CallbackURL = cbOther.URL + "/custom/callback/path" // a shop may move its route; the signature does not
	if opts.hold == 0 {
		opts.hold = 20 * time.Millisecond
	}
	products := catalogue()
	supplierCfg := []config.Supplier{{Name: "own", Type: config.SupplierStock},
		{Name: "sim", Type: config.SupplierSim, Timeout: config.Duration(time.Second), Grace: config.Duration(10 * time.Minute)}}
	up, err := dujiao.NewUpstream(dujiao.Options{
		Shops: []dujiao.Shop{{ID: shopID, Secret: shopSecret, CallbackURL: cb.URL + "/api/v1/upstream/callback"},
			{ID: otherID, Secret: otherSecret, CallbackURL: cbOther.URL + "/"}},
		Products: products, Suppliers: supplierCfg, Store: r.store, Hold: opts.hold, Log: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	r.engine = processor.New(r.store, processor.Options{
		Products: products, Suppliers: supplierCfg,
		Docking:          map[string]money.Amount{shopID: 0, otherID: 0},
		DockingCallbacks: up.Callbacks(),
		Sources:          map[string]suppliers.Supplier{"sim": sim.New(sim.Options{Name: "sim"})},
		Workers:          2, StockWait: time.Hour, Screen: opts.screen, Log: log,
	})
	if err := r.engine.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	<-r.engine.Ready()
	srv := api.New(api.Options{Orders: r.engine, Log: log})
	if err := srv.MountTree(routes.DujiaoNext, "dujiao-next", up.Handler(r.engine)); err != nil {
		t.Fatal(err)
	}
	r.api = httptest.NewServer(srv.Storefront())
	r.shop.BaseURL, r.other.BaseURL = r.api.URL, r.api.URL
	t.Cleanup(func() {
		r.stop(t)
		cb.Close()
		cbOther.Close()
		for _, s := range []*djshop.Shop{r.shop, r.other} {
			for _, p := range s.Problems() {
				t.Errorf("%s saw: %s", s.APIKey, p)
			}
		}
		if t.Failed() {
			t.Logf("logs:\n%s", r.logs.String())
		}
	})
	return r
}

// stop ends serving and the engine, and closes the store; cleanup calls it
// too. After it nothing more can reach the shops.
func (r *rig) stop(t *testing.T) {
	r.stopOnce.Do(func() {
		r.api.Close()
		r.engine.Stop()
		testkit.CloseStore(t, r.store)
	})
}

func (r *rig) stock(t *testing.T, sku string, keys ...string) {
	dockingtest.Stock(t, r.engine, sku, keys...)
}

func (r *rig) topUp(t *testing.T, id string, yuan money.Amount) {
	dockingtest.TopUp(t, r.engine, id, yuan)
}

func (r *rig) balance(t *testing.T, id string) money.Amount {
	return dockingtest.Balance(t, r.engine, id)
}

// applied lists the callbacks a shop took, for one of its orders.
func applied(s *djshop.Shop, no string) []djshop.Received {
	return slices.DeleteFunc(s.Received(), func(rec djshop.Received) bool {
		return rec.Answer != djshop.MsgReceived || rec.Callback.DownstreamOrderNo != no
	})
}

// waitFor waits until a shop's order reaches status by callback.
func waitFor(t *testing.T, s *djshop.Shop, no, status string) djshop.Procurement {
	t.Helper()
	var p djshop.Procurement
	testkit.Eventually(t, "order "+no+" "+status+" by callback", func() bool {
		p, _ = s.Procurement(no)
		return p.Status == status && p.Callbacks > 0
	})
	return p
}

// send is one request as it goes on the wire, headers as given.
func send(t *testing.T, method, url string, h http.Header, body []byte) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, out
}
