package dockingtest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"cardflow/api"
	"cardflow/internal/money"
	"cardflow/internal/testkit"
	"cardflow/internal/teststore"
	"cardflow/processor"
	"cardflow/processor/outbox"
	"cardflow/storage"
	"cardflow/suppliers"
	"cardflow/suppliers/sim"
)

// Rig is one running cardflow as a docking shop meets it: a real bbolt
// store, the real engine over Catalogue, and the storefront listener on
// loopback with a protocol's tree mounted. Open gives the store and the
// logger a protocol is built with; Serve starts the rest.
type Rig struct {
	Store  *storage.Store
	Engine *processor.Engine
	API    *httptest.Server
	Logs   *testkit.Buffer
	Log    zerolog.Logger

	stopOnce  sync.Once
	callbacks []*httptest.Server
	watched   []watched
}

// watched is a shop whose broken promises fail the test.
type watched struct {
	name     string
	problems func() []string
}

// Open opens the rig's store in a fresh directory.
func Open(t *testing.T) *Rig {
	t.Helper()
	r := &Rig{Logs: &testkit.Buffer{}}
	r.Log = zerolog.New(r.Logs)
	r.Store = testkit.OpenStore(t, teststore.Open, t.TempDir(), storage.Options{})
	t.Cleanup(func() { // last: after Serve's cleanup has stopped the rig
		for _, srv := range r.callbacks {
			srv.Close()
		}
	})
	return r
}

// CallbackServer serves a shop's callback endpoint until the test ends,
// after the rig has stopped.
func (r *Rig) CallbackServer(h http.Handler) *httptest.Server {
	srv := httptest.NewServer(h)
	r.callbacks = append(r.callbacks, srv)
	return srv
}

// Watch fails the test, when it ends, with every problem a shop saw: a
// broken promise such as keys missing from a delivery.
func (r *Rig) Watch(name string, problems func() []string) {
	r.watched = append(r.watched, watched{name, problems})
}

// Tree is what a rig serves: the docking shops, their callbacks, and the
// protocol's tree over the engine.
type Tree struct {
	Shops     []string // storefront ids, each on a credit limit of 0
	Callbacks map[string]outbox.Deliverer
	Prefix    string // routes.DujiaoNext, routes.AcgFaka
	Owner     string
	Handler   func(*processor.Engine) http.Handler
	Screen    processor.Screener
	Now       func() time.Time // nil: the wall clock
}

// Serve starts the engine and the listener. When the test ends they stop,
// the watched shops' problems fail the test, and a failed test shows the
// logs.
func (r *Rig) Serve(t *testing.T, tree Tree) {
	t.Helper()
	docking := make(map[string]money.Amount, len(tree.Shops))
	for _, id := range tree.Shops {
		docking[id] = 0
	}
	r.Engine = processor.New(r.Store, processor.Options{
		Products: Catalogue(), Suppliers: Suppliers(),
		Docking: docking, DockingCallbacks: tree.Callbacks,
		Sources: map[string]suppliers.Supplier{"sim": sim.New(sim.Options{Name: "sim"})},
		Workers: 2, StockWait: time.Hour, Screen: tree.Screen, Log: r.Log, Now: tree.Now,
	})
	if err := r.Engine.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	<-r.Engine.Ready()
	srv := api.New(api.Options{Orders: r.Engine, Log: r.Log})
	if err := srv.MountTree(tree.Prefix, tree.Owner, tree.Handler(r.Engine)); err != nil {
		t.Fatal(err)
	}
	r.API = httptest.NewServer(srv.Storefront())
	t.Cleanup(func() {
		r.Stop(t)
		for _, w := range r.watched {
			for _, p := range w.problems() {
				t.Errorf("%s saw: %s", w.name, p)
			}
		}
		if t.Failed() {
			t.Logf("logs:\n%s", r.Logs.String())
		}
	})
}

// Stop ends serving and the engine, and closes the store; cleanup calls it
// too. After it nothing more reaches the shops.
func (r *Rig) Stop(t *testing.T) {
	r.stopOnce.Do(func() {
		r.API.Close()
		r.Engine.Stop()
		testkit.CloseStore(t, r.Store)
	})
}

// Stock imports keys, one per line, into a SKU's own stock; each must be
// new.
func (r *Rig) Stock(t *testing.T, sku string, keys ...string) {
	t.Helper()
	res, err := r.Engine.ImportStock(Operator, sku, strings.NewReader(strings.Join(keys, "\n")))
	if err != nil || res.Added != len(keys) {
		t.Fatalf("import %s: %+v, %v", sku, res, err)
	}
}

// TopUp adds whole yuan to a docking shop's balance.
func (r *Rig) TopUp(t *testing.T, shop string, yuan money.Amount) {
	t.Helper()
	if _, err := r.Engine.AdjustBalance(Operator, shop, yuan*100, "top_up"); err != nil {
		t.Fatal(err)
	}
}

// Balance is a docking shop's balance now.
func (r *Rig) Balance(t *testing.T, shop string) money.Amount {
	t.Helper()
	all, err := r.Engine.Balances()
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range all {
		if b.Storefront == shop {
			return b.Balance
		}
	}
	t.Fatalf("no balance for %s", shop)
	return 0
}
