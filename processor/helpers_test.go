package processor

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"cardflow/alert"
	"cardflow/config"
	"cardflow/internal/money"
	"cardflow/internal/storefront"
	"cardflow/internal/testkit"
	"cardflow/internal/teststore"
	"cardflow/processor/outbox"
	"cardflow/storage"
)

const shopSecret = "shop-secret-0123456789"

// clock is the kit's clock.
type clock struct{ *testkit.Clock }

// alertLog records alerts delivered through the outbox.
type alertLog struct {
	mu     sync.Mutex
	alerts []storage.Alert
}

func (a *alertLog) Deliver(_ context.Context, ev *storage.Event) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.alerts = append(a.alerts, *ev.Alert)
	return nil
}

func (a *alertLog) has(typ alert.Kind, resolved bool, detail string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, al := range a.alerts {
		if al.Type == typ && al.Resolved == resolved && strings.Contains(al.Key+al.Detail+al.Target, detail) {
			return true
		}
	}
	return false
}

type fixture struct {
	t        *testing.T
	dir      string
	store    *storage.Store
	engine   *Engine
	clock    clock
	receiver *storefront.Receiver
	cbServer *httptest.Server
	alerts   *alertLog
	opts     Options
}

var testProducts = []config.Product{
	{SKU: "qb-10", Name: "Q币 10元", Kind: config.KindCard, MaxQuantity: 10, Sources: []config.Source{{Supplier: "own", Units: 1}}},
	{SKU: "jd-100", Name: "京东E卡", Kind: config.KindCard, MaxQuantity: 10, Sources: []config.Source{{Supplier: "own", Units: 1}}},
}

// newFixture starts an engine over a fresh store with a callback receiver.
// tweak may change the options before the engine is built.
func newFixture(t *testing.T, tweak func(*Options)) *fixture {
	t.Helper()
	f := &fixture{t: t, dir: t.TempDir(), clock: clock{testkit.NewClock(time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC))}, alerts: &alertLog{}}
	f.receiver = storefront.NewReceiver(map[string][]byte{"shop": []byte(shopSecret)})
	f.receiver.Now = f.clock.Now
	f.cbServer = httptest.NewServer(f.receiver)
	t.Cleanup(f.cbServer.Close)
	f.opts = Options{
		Products:    testProducts,
		Suppliers:   []config.Supplier{{Name: "own", Type: config.SupplierStock}},
		Storefronts: []outbox.Storefront{{ID: "shop", Secret: []byte(shopSecret), CallbackURL: f.cbServer.URL + "/cb?token=x"}},
		Workers:     8,
		StockWait:   30 * time.Minute,
		Now:         f.clock.Now,
		Alerts:      f.alerts,
		Log:         zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel),
	}
	if tweak != nil {
		tweak(&f.opts)
	}
	f.start()
	return f
}

func (f *fixture) start() {
	f.t.Helper()
	f.store = testkit.OpenStore(f.t, teststore.Open, f.dir, storage.Options{})
	f.engine = New(f.store, f.opts)
	if err := f.engine.Start(context.Background()); err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(f.stop)
}

// stop stops the engine and closes the store (idempotent).
func (f *fixture) stop() {
	if f.engine == nil {
		return
	}
	f.engine.Stop()
	testkit.CloseStore(f.t, f.store)
	f.engine = nil
}

// restart simulates a process restart over the same data directory.
func (f *fixture) restart() {
	f.stop()
	f.start()
}

func (f *fixture) importCards(sku, prefix string, n int) ImportResult {
	f.t.Helper()
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "%s-%05d,pw%d\n", prefix, i, i)
	}
	res, err := f.engine.ImportStock(storage.Actor{Name: "test", Platform: "test"}, sku, strings.NewReader(b.String()))
	if err != nil {
		f.t.Fatal(err)
	}
	return res
}

func (f *fixture) submit(ext, sku string, qty int, amount money.Amount) *storage.Order {
	f.t.Helper()
	o, _, err := f.engine.Submit(Request{Storefront: "shop", ExternalID: ext, SKU: sku, Quantity: qty, Amount: amount,
		Buyer: storage.Buyer{ID: "u1"}})
	if err != nil {
		f.t.Fatalf("submit %s: %v", ext, err)
	}
	return o
}

func (f *fixture) order(id uint64) *storage.Order {
	f.t.Helper()
	o, err := f.engine.Order(id)
	if err != nil {
		f.t.Fatal(err)
	}
	return o
}

func (f *fixture) waitStatus(id uint64, want storage.Status) *storage.Order {
	f.t.Helper()
	var o *storage.Order
	testkit.Eventually(f.t, fmt.Sprintf("order %d %s", id, want), func() bool {
		o = f.order(id)
		return o.Status == want
	})
	return o
}

func (f *fixture) waitCallbacks(id uint64, types ...string) {
	f.t.Helper()
	want := strings.Join(types, ",")
	testkit.Eventually(f.t, fmt.Sprintf("callbacks %s for order %d", want, id), func() bool {
		return strings.Join(f.receiver.Types(fmt.Sprint(id)), ",") == want
	})
}

func (f *fixture) waitOutboxEmpty() {
	f.t.Helper()
	testkit.Eventually(f.t, "outbox drained", func() bool { return f.engine.Backlog() == 0 })
}

// failingReceiver answers 500 until healed.
type failingReceiver struct {
	mu      sync.Mutex
	failing bool
	calls   int
	next    http.Handler
}

func (r *failingReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	r.calls++
	failing := r.failing
	r.mu.Unlock()
	if failing {
		http.Error(w, "down", http.StatusBadGateway)
		return
	}
	r.next.ServeHTTP(w, req)
}
