package dujiao_test

// The webhook rig is one running cardflow with shops of both Dujiao-Next
// protocols on one storefront listener: two generic-webhook shops and one
// upstream-API shop, on a real bbolt store and the real engine, each shop
// with its callback endpoint on a server of its own.

import (
	"context"
	"maps"
	"net/http/httptest"
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
	"cardflow/storage"
	"cardflow/suppliers"
	"cardflow/suppliers/sim"
)

const (
	hookID  = "cardflow-hook1"
	hook2ID = "cardflow-hook2"
)

const (
	hookToken  = "hook1-token-5e0c2b9a7d41f6e3"
	hook2Token = "hook2-token-a93f10c7be2d4e58"
)

type hookRig struct {
	store  *storage.Store
	engine *processor.Engine
	api    *httptest.Server
	hook   *djshop.WebhookShop // cardflow-hook1
	hook2  *djshop.WebhookShop // cardflow-hook2
	dj     *djshop.Shop        // cardflow-shop1, a dujiao-next shop beside them
	logs   *testkit.Buffer

	stopOnce sync.Once
}

func newHookRig(t *testing.T, opts rigOptions) *hookRig {
	t.Helper()
	r := &hookRig{logs: &testkit.Buffer{}}
	log := zerolog.New(r.logs)
	r.store = testkit.OpenStore(t, storage.Open, t.TempDir(), storage.Options{})
	r.hook = djshop.NewWebhookShop("", hookToken)
	r.hook2 = djshop.NewWebhookShop("", hook2Token)
	r.dj = djshop.New("", shopID, shopSecret)
	cb, cb2, cbDJ := httptest.NewServer(r.hook), httptest.NewServer(r.hook2), httptest.NewServer(r.dj)
	r.hook.CallbackURL = cb.URL + "/api/v1/upstream/generic-webhook/callback"
	r.hook2.CallbackURL = cb2.URL + "/custom/webhook/callback"
	r.dj.CallbackURL = cbDJ.URL + dujiao.CallbackPath
	if opts.hold == 0 {
		opts.hold = 20 * time.Millisecond
	}
	products := catalogue()
	supplierCfg := []config.Supplier{{Name: "own", Type: config.SupplierStock},
		{Name: "sim", Type: config.SupplierSim, Timeout: config.Duration(time.Second), Grace: config.Duration(10 * time.Minute)}}
	hooks, err := dujiao.NewWebhook(dujiao.Options{
		Shops: []dujiao.Shop{{ID: hookID, Secret: []byte(hookToken), CallbackURL: cb.URL},
			{ID: hook2ID, Secret: []byte(hook2Token), CallbackURL: cb2.URL + "/"}},
		Products: products, Suppliers: supplierCfg, Store: r.store, Hold: opts.hold, Log: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	up, err := dujiao.NewUpstream(dujiao.Options{
		Shops:    []dujiao.Shop{{ID: shopID, Secret: shopSecret, CallbackURL: cbDJ.URL}},
		Products: products, Suppliers: supplierCfg, Store: r.store, Hold: opts.hold, Log: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	callbacks := hooks.Callbacks()
	maps.Copy(callbacks, up.Callbacks())
	r.engine = processor.New(r.store, processor.Options{
		Products: products, Suppliers: supplierCfg,
		Docking:          map[string]money.Amount{hookID: 0, hook2ID: 0, shopID: 0},
		DockingCallbacks: callbacks,
		Sources:          map[string]suppliers.Supplier{"sim": sim.New(sim.Options{Name: "sim"})},
		Workers:          2, StockWait: time.Hour, Screen: opts.screen, Log: log,
	})
	if err := r.engine.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	<-r.engine.Ready()
	srv := api.New(api.Options{Orders: r.engine, Log: log})
	if err := srv.MountTree(routes.DujiaoNext, "dujiao", dujiao.Tree(up.Handler(r.engine), hooks.Handler(r.engine))); err != nil {
		t.Fatal(err)
	}
	r.api = httptest.NewServer(srv.Storefront())
	r.hook.Endpoint, r.hook2.Endpoint = r.api.URL+dujiao.WebhookPath, r.api.URL+dujiao.WebhookPath
	r.dj.BaseURL = r.api.URL
	t.Cleanup(func() {
		r.stop(t)
		cb.Close()
		cb2.Close()
		cbDJ.Close()
		for name, problems := range map[string][]string{hookID: r.hook.Problems(), hook2ID: r.hook2.Problems(), shopID: r.dj.Problems()} {
			for _, p := range problems {
				t.Errorf("%s saw: %s", name, p)
			}
		}
		if t.Failed() {
			t.Logf("logs:\n%s", r.logs.String())
		}
	})
	return r
}

// stop ends serving and the engine, and closes the store.
func (r *hookRig) stop(t *testing.T) {
	r.stopOnce.Do(func() {
		r.api.Close()
		r.engine.Stop()
		testkit.CloseStore(t, r.store)
	})
}

func (r *hookRig) stock(t *testing.T, sku string, keys ...string) {
	dockingtest.Stock(t, r.engine, sku, keys...)
}

func (r *hookRig) topUp(t *testing.T, id string, yuan money.Amount) {
	dockingtest.TopUp(t, r.engine, id, yuan)
}

func (r *hookRig) balance(t *testing.T, id string) money.Amount {
	return dockingtest.Balance(t, r.engine, id)
}

// orders counts the orders in the store.
func (r *hookRig) orders(t *testing.T) int {
	t.Helper()
	var all []*storage.Order
	err := r.store.View(func(tx *storage.Tx) error {
		var err error
		all, err = tx.RecentOrders(0, 1000)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return len(all)
}

// hookWaitFor waits until a webhook shop's order reaches status by callback.
func hookWaitFor(t *testing.T, s *djshop.WebhookShop, no, status string) djshop.Procurement {
	t.Helper()
	var p djshop.Procurement
	testkit.Eventually(t, "order "+no+" "+status+" by callback", func() bool {
		p, _ = s.Procurement(no)
		return p.Status == status && p.Callbacks > 0
	})
	return p
}

// taken lists the callbacks a webhook shop took for one of its orders.
func taken(s *djshop.WebhookShop, no string) []djshop.WebhookReceived {
	var out []djshop.WebhookReceived
	for _, rec := range s.Received() {
		if rec.Status == 200 && rec.Callback.OrderNo == no {
			out = append(out, rec)
		}
	}
	return out
}
