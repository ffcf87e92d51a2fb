package telegram

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"cardflow/alert"
	"cardflow/bot/chat"
	"cardflow/bot/operator"
	"cardflow/bot/telegram/tgfake"
	"cardflow/config"
	"cardflow/internal/money"
	"cardflow/internal/testkit"
	"cardflow/internal/teststore"
	"cardflow/processor"
	"cardflow/processor/outbox"
	"cardflow/rules"
	"cardflow/storage"
)

// The adapter is tested over tgfake and the real operator layer, engine and
// store, as cmd/cardflow wires them.

// token is what must never show up in an error or a log line.
const token = "424242:AAE-SeCrEt-T0KEN_never_logged"

// The operators' group and who talks in it.
const (
	group       int64 = -1001234567890
	viewerUID   int64 = 100
	aliceUID    int64 = 200 // operator
	adminUID    int64 = 300 // carol
	strangerUID int64 = 999
)

// cardsFile is shared with bot/operator's tests; its numbers must never be sent.
const cardsFile = "cards-qb10.txt"

type testAuth map[string]operator.Operator

func (a testAuth) Operator(id chat.Identity) (operator.Operator, bool) {
	op, ok := a[id.Platform+"/"+id.UserID]
	return op, ok
}

var operators = testAuth{
	"telegram/100": {Name: "vera", Role: operator.RoleViewer},
	"telegram/200": {Name: "alice", Role: operator.RoleOperator},
	"telegram/300": {Name: "carol", Role: operator.RoleAdmin},
}

// holdLarge holds orders over 500.00 yuan for review.
type holdLarge struct{}

func (holdLarge) Screen(_ *storage.Tx, o *storage.Order) (rules.Decision, error) {
	if o.Amount > 50000 {
		return rules.Decision{Action: config.ActionReview, Reason: "rule:large-order"}, nil
	}
	return rules.Decision{Action: config.ActionAllow}, nil
}

// forward is the engine's alert receiver; it hands alerts to a Notifier once
// a test sets one, and acknowledges them before.
type forward struct {
	mu sync.Mutex
	to outbox.Deliverer
}

func (f *forward) Deliver(ctx context.Context, ev *storage.Event) error {
	f.mu.Lock()
	to := f.to
	f.mu.Unlock()
	if to == nil {
		return nil
	}
	return to.Deliver(ctx, ev)
}

func (f *forward) set(d outbox.Deliverer) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.to = d
}

type fixture struct {
	t       testing.TB
	store   *storage.Store
	engine  *processor.Engine
	alerts  *forward
	fake    *tgfake.Server
	ops     *operator.Handler
	ad      *Adapter
	logs    *testkit.Buffer
	secrets []string
	ext     int
	stop    func()
}

// newFixture builds the engine (qb-10 stocked from bot/testdata), the fake
// Bot API and an adapter over them; change adjusts the adapter's options.
// Every fixture checks at the end that its logs never held the token and
// that no chat got a card secret.
func newFixture(t testing.TB, change ...func(*Options)) *fixture {
	t.Helper()
	f := &fixture{t: t, logs: &testkit.Buffer{}, alerts: &forward{}}
	shop := newShop(t)
	store := testkit.NewStore(t, teststore.Open)
	f.store = store
	now := time.Date(2025, 3, 14, 9, 30, 0, 0, chat.Shanghai())
	own := []config.Source{{Supplier: "own", Item: "own-stock", Units: 1}}
	f.engine = processor.New(store, processor.Options{
		Products: []config.Product{
			{SKU: "qb-10", Name: "Q币10元", Kind: config.KindCard, MaxQuantity: 10, BatchSize: 10, LowStock: 3, Sources: own},
		},
		Suppliers:   []config.Supplier{{Name: "own", Type: config.SupplierStock}},
		Storefronts: []outbox.Storefront{{ID: "shop", Secret: []byte("shop-secret"), CallbackURL: shop}},
		Workers:     2,
		Now:         func() time.Time { return now },
		Log:         zerolog.Nop(),
		Screen:      holdLarge{},
		Alerts:      f.alerts,
	})
	if err := f.engine.Start(context.Background()); err != nil {
		t.Fatalf("start engine: %v", err)
	}
	t.Cleanup(f.engine.Stop)
	data, err := os.ReadFile(filepath.Join("..", "testdata", cardsFile))
	if err != nil {
		t.Fatalf("read cards: %v", err)
	}
	f.rememberSecrets(data)
	if _, err := f.engine.ImportStock(storage.Actor{Name: "carol", Platform: Platform}, "qb-10", bytes.NewReader(data)); err != nil {
		t.Fatalf("import: %v", err)
	}

	f.fake = tgfake.New(token)
	t.Cleanup(f.fake.Close)
	f.fake.SetUser(viewerUID, "Vera", "vera")
	f.fake.SetUser(aliceUID, "Alice", "alice_ops")
	f.fake.SetUser(adminUID, "Carol", "")
	f.fake.SetUser(strangerUID, "Mallory", "mallory")

	log := zerolog.New(f.logs)
	f.ops = operator.New(operator.Options{Orders: f.engine, Auth: operators, Language: "zh", RefundLimit: 100000, Log: log})
	o := Options{Token: token, ServerURL: f.fake.URL(), Groups: []int64{group}, Bot: f.ops, Log: log,
		PollTimeout: 2 * time.Second}
	for _, c := range change {
		c(&o)
	}
	f.ad, err = New(o)
	if err != nil {
		t.Fatalf("new adapter: %v", err)
	}
	t.Cleanup(func() {
		if logs := f.logs.String(); strings.Contains(logs, token) {
			t.Errorf("the token is in the logs:\n%s", logs)
		}
		f.noSecretsIn(group)
	})
	return f
}

// newShop is a storefront that acknowledges every callback.
func newShop(t testing.TB) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }))
	t.Cleanup(srv.Close)
	return srv.URL + "/cb"
}

func (f *fixture) rememberSecrets(data []byte) {
	for _, line := range strings.Split(string(data), "\n") {
		if fields := strings.Split(line, ","); len(fields) >= 2 && fields[0] != "number" {
			f.secrets = append(f.secrets, strings.TrimSpace(fields[0]), strings.TrimSpace(fields[1]))
		}
	}
}

// noSecretsIn fails if a message in the chat shows a full card secret.
func (f *fixture) noSecretsIn(chat int64) {
	f.t.Helper()
	for _, m := range f.fake.Messages(chat) {
		all := m.Text + "\n" + m.Caption
		for _, b := range m.Buttons() {
			all += "\n" + b.Text + "\n" + b.Data
		}
		for _, s := range f.secrets {
			if s != "" && strings.Contains(all, s) {
				f.t.Errorf("message %d shows the card secret %q", m.ID, s)
			}
		}
	}
}

// start runs the adapter until the test ends.
func (f *fixture) start() {
	f.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.ad.Run(ctx) }()
	f.stop = func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				f.t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			f.t.Errorf("Run did not return after cancel")
		}
	}
	f.t.Cleanup(f.stop)
}

// settle waits until the adapter has handled n updates in all.
func (f *fixture) settle(n int64) {
	f.t.Helper()
	testkit.Eventually(f.t, fmt.Sprintf("%d updates handled", n), func() bool { return f.ad.handled.Load() >= n })
}

// review places an order the screener holds for review.
func (f *fixture) review(amount string) *storage.Order {
	f.t.Helper()
	amt, err := money.Parse(amount)
	if err != nil {
		f.t.Fatal(err)
	}
	f.ext++
	o, _, err := f.engine.Submit(processor.Request{Storefront: "shop", ExternalID: fmt.Sprintf("EXT-%d", f.ext),
		SKU: "qb-10", Quantity: 1, Amount: amt, Buyer: storage.Buyer{ID: "buyer-7"}})
	if err != nil {
		f.t.Fatalf("submit: %v", err)
	}
	if o.Status != storage.StatusReview {
		f.t.Fatalf("order #%d is %s, want review", o.ID, o.Status)
	}
	return o
}

func (f *fixture) waitStatus(id uint64, s storage.Status) {
	f.t.Helper()
	testkit.Eventually(f.t, fmt.Sprintf("order #%d %s", id, s), func() bool {
		o, err := f.engine.Order(id)
		return err == nil && o.Status == s
	})
}

func (f *fixture) stock() int {
	f.t.Helper()
	levels, err := f.engine.StockLevels()
	if err != nil {
		f.t.Fatalf("stock levels: %v", err)
	}
	return levels["qb-10"]
}

// prompt posts the review prompt of an order to the group, as the alert
// sender would, and returns its message id.
func (f *fixture) prompt(o *storage.Order) int {
	f.t.Helper()
	r := f.ops.RenderAlert(storage.Alert{Key: fmt.Sprintf("review:%d", o.ID), Type: alert.Review, OrderID: o.ID,
		SKU: o.SKU, Detail: o.Reason})
	id, err := f.ad.Send(fmt.Sprint(group), r)
	if err != nil {
		f.t.Fatalf("send prompt: %v", err)
	}
	return atoi(f.t, id)
}

// after returns the messages of chat sent after the first n.
func (f *fixture) after(chat int64, n int) []tgfake.Message {
	msgs := f.fake.Messages(chat)
	if len(msgs) < n {
		return nil
	}
	return msgs[n:]
}

func atoi(t testing.TB, s string) int {
	t.Helper()
	var n int
	if _, err := fmt.Sscan(s, &n); err != nil {
		t.Fatalf("not a message id: %q", s)
	}
	return n
}
