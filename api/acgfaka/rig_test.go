package acgfaka_test

// The rig is one running cardflow as an acg-faka shop meets it: a real
// bbolt store, the real engine on a clock the test moves, the storefront
// listener with the shared store mounted on loopback, and two acgshop
// shops.

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"cardflow/api"
	"cardflow/api/acgfaka"
	"cardflow/api/acgfaka/acgshop"
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
	shopID  = "cardflow-acg1"
	otherID = "cardflow-acg2"
	shopKey = "acg-shop1-key-5d0c7e21"
	otherKy = "acg-shop2-key-9f3b6a40"

	codeQB     = "1001" // Q币, own stock only
	codeJD     = "1002" // 京东E卡, own stock only
	codeSteam  = "1003" // own stock, then the simulator
	codeMobile = "2001" // a direct top-up: not offered

	window = 400 * time.Millisecond // the shops' sync window, short for tests
)

var operator = storage.Actor{Name: "alice", Platform: "console"}

func catalogue() []config.Product {
	return []config.Product{
		{SKU: "qb-10", Name: "Q币 10元", Kind: config.KindCard, MaxQuantity: 10, BatchSize: 5,
			Sources: []config.Source{{Supplier: "own", Units: 1}}, ID: 1001, Price: 950, Category: "Q币"},
		{SKU: "jd-50", Name: "京东E卡 50元", Kind: config.KindCard, MaxQuantity: 5, BatchSize: 5,
			Sources: []config.Source{{Supplier: "own", Units: 1}}, ID: 1002, Price: 4800, Category: "购物卡",
			Description: "仅限<自营>商品"},
		{SKU: "steam-20", Name: "Steam 20", Kind: config.KindCard, MaxQuantity: 20, BatchSize: 5,
			Sources: []config.Source{{Supplier: "own", Units: 1}, {Supplier: "sim", Item: "steam", Units: 1}}, ID: 1003, Price: 1900},
		{SKU: "mobile-100", Name: "话费 100元", Kind: config.KindDirect, MaxQuantity: 1, BatchSize: 1,
			Sources: []config.Source{{Supplier: "sim", Item: "mobile", Units: 1}}, ID: 2001, Price: 9800,
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

type rig struct {
	store  *storage.Store
	engine *processor.Engine
	clock  *testkit.Clock
	api    *httptest.Server
	shop   *acgshop.Client // cardflow-acg1
	other  *acgshop.Client // cardflow-acg2
	logs   *testkit.Buffer

	stopOnce sync.Once
}

func newRig(t *testing.T, screen processor.Screener) *rig {
	t.Helper()
	r := &rig{logs: &testkit.Buffer{}, clock: testkit.NewClock(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC))}
	log := zerolog.New(r.logs)
	r.store = testkit.OpenStore(t, storage.Open, t.TempDir(), storage.Options{})
	products := catalogue()
	supplierCfg := []config.Supplier{{Name: "own", Type: config.SupplierStock},
		{Name: "sim", Type: config.SupplierSim, Timeout: config.Duration(time.Second), Grace: config.Duration(10 * time.Minute)}}
	up, err := acgfaka.NewUpstream(acgfaka.Options{
		Shops: []acgfaka.Shop{{ID: shopID, Key: shopKey, SyncWindow: window, ClaimPeriod: time.Hour},
			{ID: otherID, Key: otherKy, SyncWindow: window}},
		Products: products, Suppliers: supplierCfg, Log: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	r.engine = processor.New(r.store, processor.Options{
		Products: products, Suppliers: supplierCfg,
		Docking:          map[string]money.Amount{shopID: 0, otherID: 0},
		DockingCallbacks: up.Callbacks(),
		Sources:          map[string]suppliers.Supplier{"sim": sim.New(sim.Options{Name: "sim"})},
		Workers:          2, StockWait: time.Hour, Screen: screen, Log: log, Now: r.clock.Now,
	})
	if err := r.engine.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	<-r.engine.Ready()
	srv := api.New(api.Options{Orders: r.engine, Log: log})
	if err := srv.MountTree(routes.AcgFaka, config.ProtocolAcgFaka, up.Handler(r.engine)); err != nil {
		t.Fatal(err)
	}
	r.api = httptest.NewServer(srv.Storefront())
	r.shop = acgshop.New(r.api.URL, shopID, shopKey, 0)
	r.other = acgshop.New(r.api.URL, otherID, otherKy, 0)
	t.Cleanup(func() {
		r.stop(t)
		for _, key := range []string{shopKey, otherKy} {
			if strings.Contains(r.logs.String(), key) {
				t.Errorf("an app_key is in the logs")
			}
		}
		if t.Failed() {
			t.Logf("logs:\n%s", r.logs.String())
		}
	})
	return r
}

// stop ends serving and the engine, and closes the store; cleanup calls it
// too.
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

// order reads the order a shop's number made.
func (r *rig) order(t *testing.T, shop, no string) *storage.Order {
	t.Helper()
	o, err := r.engine.OrderByExternal(shop, no)
	if err != nil {
		t.Fatalf("order %s of %s: %v", no, shop, err)
	}
	return o
}

// held says whether an order waits for its shop to claim it.
func (r *rig) held(id uint64) bool {
	var waiting bool
	_ = r.store.View(func(tx *storage.Tx) error { waiting = tx.Claims().Waiting(id); return nil })
	return waiting
}

// refused checks that err is the shop's failure showing want.
func refused(t *testing.T, what string, err error, want *acgfaka.Error) {
	t.Helper()
	var e *acgshop.Error
	if !errors.As(err, &e) || e.Msg != want.Msg || e.Err != nil {
		t.Errorf("%s: %v, want the refusal %q", what, err, want.Msg)
	}
}

func buy(code, no string, num int) acgshop.Order {
	return acgshop.Order{Code: code, Contact: "k3J9xQm2Lp8Vz1Rt", Num: num, RequestNo: no}
}

// logsHave says whether the logs hold s.
func (r *rig) logsHave(s string) bool { return strings.Contains(r.logs.String(), s) }
