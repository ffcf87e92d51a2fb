package operator

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"cardflow/bot/bind"
	"cardflow/bot/chat"
	"cardflow/bot/pager"
	"cardflow/bot/silence"
	"cardflow/report/daily"

	"github.com/rs/zerolog"

	"cardflow/config"
	"cardflow/internal/money"
	"cardflow/internal/testkit"
	"cardflow/internal/teststore"
	"cardflow/processor"
	"cardflow/processor/outbox"
	"cardflow/report"
	"cardflow/rules"
	"cardflow/storage"
)

// The fixture runs the real engine over a real store in a temp dir, with an
// injected clock, a screener that holds large orders for review, a fake
// storefront that acknowledges callbacks, and an alert receiver that records
// what the outbox delivered (and can forward to an Alerts under test).

// t0 is when every fixture's clock starts: 2025-03-14 02:00 in Shanghai.
func t0() time.Time { return time.Date(2025, 3, 14, 2, 0, 0, 0, chat.Shanghai()) }

const (
	skuSmall   = "qb-10"  // stocked from testdata/cards-qb10.txt
	skuBig     = "qb-100" // starts with no stock
	storefront = "shop"
	// storefront2 is a second storefront, whose external ids may be the
	// same as the first one's or look like internal ids.
	storefront2 = "shop2"
	// stockWait is the fixture's processing.stock_wait.
	stockWait = 10 * time.Minute
	// refundLimit is the fixture bot's refund_limit: 1000.00 yuan.
	refundLimit = 100000
	// reviewAbove is what holdLarge holds for review: over 500.00 yuan.
	reviewAbove = money.Amount(50000)
)

// Who talks to the handler in tests.
var (
	viewerID   = chat.Identity{Platform: "telegram", UserID: "100", Name: "Vera"}
	aliceID    = chat.Identity{Platform: "telegram", UserID: "200", Name: "Alice"}
	bobID      = chat.Identity{Platform: "qq", UserID: "201", Name: "Bob"}
	adminID    = chat.Identity{Platform: "telegram", UserID: "300", Name: "Carol"}
	strangerID = chat.Identity{Platform: "telegram", UserID: "999", Name: "Mallory"}
)

// testAuth knows operators by platform and user id, never by display name.
type testAuth map[string]Operator

func (a testAuth) Operator(id chat.Identity) (Operator, bool) {
	op, ok := a[id.Platform+"/"+id.UserID]
	return op, ok
}

var operators = testAuth{
	"telegram/100": {Name: "vera", Role: RoleViewer},
	"telegram/200": {Name: "alice", Role: RoleOperator},
	"qq/201":       {Name: "bob", Role: RoleOperator},
	"telegram/300": {Name: "carol", Role: RoleAdmin},
}

// holdLarge is the default "amount over 500 yuan → review" rule.
type holdLarge struct{}

func (holdLarge) Screen(_ *storage.Tx, o *storage.Order) (rules.Decision, error) {
	if o.Amount > reviewAbove {
		return rules.Decision{Action: config.ActionReview, Reason: "rule:large-order"}, nil
	}
	return rules.Decision{Action: config.ActionAllow}, nil
}

// alertLog is the engine's alert receiver: it forwards to fwd (when set) and
// records every alert that was acknowledged.
type alertLog struct {
	mu     sync.Mutex
	fwd    outbox.Deliverer
	alerts []storage.Alert
}

func (l *alertLog) Deliver(ctx context.Context, ev *storage.Event) error {
	l.mu.Lock()
	fwd := l.fwd
	l.mu.Unlock()
	if fwd != nil {
		if err := fwd.Deliver(ctx, ev); err != nil {
			return err
		}
	}
	if ev.Alert != nil {
		l.mu.Lock()
		l.alerts = append(l.alerts, *ev.Alert)
		l.mu.Unlock()
	}
	return nil
}

func (l *alertLog) forward(d outbox.Deliverer) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.fwd = d
}

func (l *alertLog) all() []storage.Alert {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]storage.Alert(nil), l.alerts...)
}

// fakeStorefront acknowledges callbacks, or fails them while fail is set.
type fakeStorefront struct {
	srv  *httptest.Server
	fail atomic.Bool
	hits atomic.Int64
}

func newFakeStorefront(t *testing.T) *fakeStorefront {
	t.Helper()
	sf := &fakeStorefront{}
	sf.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		sf.hits.Add(1)
		if sf.fail.Load() {
			http.Error(w, "storefront down", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(sf.srv.Close)
	return sf
}

type fixture struct {
	t      *testing.T
	store  *storage.Store
	engine *processor.Engine
	clock  *testkit.Clock
	alerts *alertLog
	shop   *fakeStorefront
	shared *shared
}

// shared is the fixture state its per-subtest copies (see with) share.
type shared struct {
	mu      sync.Mutex
	secrets []string // card numbers and passwords imported: never in chat
	ext     int
}

// with returns the fixture reporting to t (a subtest).
func (f *fixture) with(t *testing.T) *fixture {
	g := *f
	g.t = t
	return &g
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{t: t, clock: testkit.NewClock(t0()), alerts: &alertLog{}, shop: newFakeStorefront(t), shared: &shared{}}
	store := testkit.NewStore(t, teststore.Open)
	f.store = store
	own := []config.Source{{Supplier: "own", Item: "own-stock", Units: 1}}
	f.engine = processor.New(store, processor.Options{
		Products: []config.Product{
			{SKU: skuSmall, Name: "Q币10元", Kind: config.KindCard, MaxQuantity: 10, BatchSize: 10, LowStock: 3, Sources: own},
			{SKU: skuBig, Name: "Q币100元", Kind: config.KindCard, MaxQuantity: 10, BatchSize: 10, LowStock: 2, Sources: own},
		},
		Suppliers: []config.Supplier{{Name: "own", Type: config.SupplierStock}},
		Storefronts: []outbox.Storefront{{ID: storefront, Secret: []byte("shop-secret"), CallbackURL: f.shop.srv.URL + "/cb"},
			{ID: storefront2, Secret: []byte("shop2-secret"), CallbackURL: f.shop.srv.URL + "/cb2"}},
		Docking:    map[string]money.Amount{dockingShop: 500},
		Workers:    2,
		StockWait:  stockWait,
		Now:        f.clock.Now,
		Log:        zerolog.Nop(),
		HTTPClient: f.shop.srv.Client(),
		Screen:     holdLarge{},
		Alerts:     f.alerts,
	})
	if err := f.engine.Start(context.Background()); err != nil {
		t.Fatalf("start engine: %v", err)
	}
	t.Cleanup(f.engine.Stop) // runs before the store closes
	return f
}

// reports reads the fixture's counters, as the operator layer does.
func (f *fixture) reports() *report.Counters {
	return report.New(f.store, []string{"own"}, f.engine.RaiseAlert)
}

// bindings are the fixture's bind codes, on its store and clock.
func (f *fixture) bindings() *bind.Bindings { return bind.New(f.store, f.clock.Now) }

// silences are the fixture's silences, knowing its products, supplier and
// storefronts.
func (f *fixture) silences() *silence.Silencer {
	return silence.New(f.store, silence.Known{SKUs: []string{skuSmall, skuBig}, Suppliers: []string{"own"},
		Storefronts: []string{storefront, storefront2}}, f.clock.Now)
}

// bot is the operator layer over the fixture's engine.
func (f *fixture) bot(lang string) *Handler {
	return New(Options{Orders: f.engine, Reports: f.reports(), Bindings: f.bindings(), Silences: f.silences(), Auth: operators, Language: lang, RefundLimit: refundLimit, Log: zerolog.Nop(), Now: f.clock.Now})
}

// importCards imports a testdata file into a SKU's stock as carol (admin).
func (f *fixture) importCards(sku, file string) processor.ImportResult {
	f.t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "testdata", file))
	if err != nil {
		f.t.Fatalf("read %s: %v", file, err)
	}
	f.rememberSecrets(data)
	res, err := f.engine.ImportStock(storage.Actor{Name: "carol", Platform: "telegram"}, sku, bytes.NewReader(data))
	if err != nil {
		f.t.Fatalf("import %s: %v", file, err)
	}
	if res.Added == 0 {
		f.t.Fatalf("import %s added nothing: %+v", file, res)
	}
	return res
}

// rememberSecrets notes every card number and password of an import file.
func (f *fixture) rememberSecrets(data []byte) {
	f.shared.mu.Lock()
	defer f.shared.mu.Unlock()
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ",")
		if fields[0] == "number" {
			continue
		}
		for _, s := range fields[:min(2, len(fields))] {
			if s = strings.TrimSpace(s); s != "" {
				f.shared.secrets = append(f.shared.secrets, s)
			}
		}
	}
}

// submit places an order from the fake storefront, with external id EXT-n
// for the n-th order of the fixture.
func (f *fixture) submit(sku, amount string) *storage.Order {
	f.t.Helper()
	f.shared.mu.Lock()
	f.shared.ext++
	ext := fmt.Sprintf("EXT-%d", f.shared.ext)
	f.shared.mu.Unlock()
	return f.submitExt(ext, sku, amount)
}

// submitExt places an order with the given external id.
func (f *fixture) submitExt(ext, sku, amount string) *storage.Order {
	f.t.Helper()
	return f.submitTo(storefront, ext, sku, amount)
}

// submitTo places an order from a storefront with the given external id.
func (f *fixture) submitTo(sf, ext, sku, amount string) *storage.Order {
	f.t.Helper()
	amt, err := money.Parse(amount)
	if err != nil {
		f.t.Fatalf("amount %q: %v", amount, err)
	}
	o, created, err := f.engine.Submit(processor.Request{
		Storefront: sf, ExternalID: ext, SKU: sku, Quantity: 1, Amount: amt,
		Buyer: storage.Buyer{ID: "buyer-7", Contact: "wx:lucky7"},
	})
	if err != nil || !created {
		f.t.Fatalf("submit %s %s: created=%v err=%v", sku, amount, created, err)
	}
	return o
}

// delivered places a small order and waits until it is delivered.
func (f *fixture) delivered(sku string) *storage.Order {
	f.t.Helper()
	o := f.submit(sku, "10.00")
	return f.waitStatus(o.ID, storage.StatusDelivered)
}

// review places an order the screener holds.
func (f *fixture) review(amount string) *storage.Order {
	f.t.Helper()
	o := f.submit(skuSmall, amount)
	if o.Status != storage.StatusReview {
		f.t.Fatalf("order #%d of %s is %s, want review", o.ID, amount, o.Status)
	}
	return o
}

// failed places n orders for the SKU without stock, lets their stock wait run
// out on the injected clock, and returns them failed.
func (f *fixture) failed(n int) []*storage.Order {
	f.t.Helper()
	before := f.engine.Waiting(skuBig)
	orders := make([]*storage.Order, n)
	for i := range orders {
		orders[i] = f.submit(skuBig, "100.00")
	}
	testkit.Eventually(f.t, "orders wait for stock", func() bool { return f.engine.Waiting(skuBig) == before+n })
	f.clock.Advance(stockWait + time.Minute)
	f.engine.ExpireWaits()
	for i, o := range orders {
		orders[i] = f.waitStatus(o.ID, storage.StatusFailed)
	}
	return orders
}

func (f *fixture) order(id uint64) *storage.Order {
	f.t.Helper()
	o, err := f.engine.Order(id)
	if err != nil {
		f.t.Fatalf("read order %d: %v", id, err)
	}
	return o
}

// waitStatus polls until the order reaches status.
func (f *fixture) waitStatus(id uint64, s storage.Status) *storage.Order {
	f.t.Helper()
	var o *storage.Order
	testkit.Eventually(f.t, fmt.Sprintf("order #%d %s", id, s), func() bool {
		var err error
		o, err = f.engine.Order(id)
		return err == nil && o.Status == s
	})
	return o
}

// audit returns the newest n audit entries, newest first.
func (f *fixture) audit(n int) []storage.AuditEntry {
	f.t.Helper()
	var entries []storage.AuditEntry
	err := f.store.View(func(tx *storage.Tx) error {
		var err error
		entries, err = tx.AuditLast(n)
		return err
	})
	if err != nil {
		f.t.Fatalf("read audit: %v", err)
	}
	return entries
}

// send hands a message to the handler and checks the reply leaks no card.
func (f *fixture) send(b *Handler, from chat.Identity, text string) chat.Reply {
	f.t.Helper()
	r, ok := b.Handle(context.Background(), chat.Message{From: from, Text: text})
	if !ok {
		f.t.Fatalf("%q got no reply", text)
	}
	f.noSecrets(text, r)
	return r
}

// sendPrivate is send in a private chat with the bot.
func (f *fixture) sendPrivate(b *Handler, from chat.Identity, text string) chat.Reply {
	f.t.Helper()
	r, ok := b.Handle(context.Background(), chat.Message{From: from, Text: text, Private: true})
	if !ok {
		f.t.Fatalf("%q got no reply", text)
	}
	f.noSecrets(text, r)
	return r
}

// press hands a button press to the handler and checks the reply leaks no card.
func (f *fixture) press(b *Handler, from chat.Identity, data string) chat.Reply {
	f.t.Helper()
	r := b.HandlePress(context.Background(), chat.Press{From: from, Data: data})
	f.noSecrets(data, r)
	return r
}

// noSecrets fails if any imported card number or password is in r.
func (f *fixture) noSecrets(what string, r chat.Reply) {
	f.t.Helper()
	f.shared.mu.Lock()
	secrets := append([]string(nil), f.shared.secrets...)
	f.shared.mu.Unlock()
	all := r.Text
	for _, btn := range r.Buttons {
		all += "\n" + btn.Label + "\n" + btn.Data
	}
	for _, s := range secrets {
		if strings.Contains(all, s) {
			f.t.Errorf("reply to %q shows the full card secret %q:\n%s", what, s, all)
		}
	}
}

// renderTo is a test double of the alert path: it renders each alert event
// and hands it to the sink at once (the Notifier's queue and senders have
// tests of their own).
func renderTo(b *Handler, sinks ...interface {
	Announce(context.Context, chat.Reply) error
}) outbox.Deliverer {
	return deliverFunc(func(ctx context.Context, ev *storage.Event) error {
		if ev.Alert == nil {
			return nil
		}
		var errs []error
		for _, s := range sinks {
			if err := s.Announce(ctx, b.RenderAlert(*ev.Alert)); err != nil {
				errs = append(errs, err)
			}
		}
		return errors.Join(errs...)
	})
}

type deliverFunc func(context.Context, *storage.Event) error

func (f deliverFunc) Deliver(ctx context.Context, ev *storage.Event) error { return f(ctx, ev) }

// recordSink keeps what it was told to announce.
type recordSink struct {
	mu      sync.Mutex
	replies []chat.Reply
}

func (s *recordSink) Announce(_ context.Context, r chat.Reply) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.replies = append(s.replies, r)
	return nil
}

func (s *recordSink) all() []chat.Reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]chat.Reply(nil), s.replies...)
}

// waitReply waits until the sink announced a reply whose text contains sub.
func (s *recordSink) waitReply(t *testing.T, sub string) chat.Reply {
	t.Helper()
	var found chat.Reply
	testkit.Eventually(t, "announcement containing "+sub, func() bool {
		for _, r := range s.all() {
			if strings.Contains(r.Text, sub) {
				found = r
				return true
			}
		}
		return false
	})
	return found
}

var errSinkDown = errors.New("chat platform unavailable")

// failSink fails its first fails announcements, then records.
type failSink struct {
	recordSink
	fails atomic.Int64
	calls atomic.Int64
}

func (s *failSink) Announce(ctx context.Context, r chat.Reply) error {
	s.calls.Add(1)
	if s.fails.Add(-1) >= 0 {
		return errSinkDown
	}
	return s.recordSink.Announce(ctx, r)
}

// buttonData lists the data of a reply's buttons.
func buttonData(r chat.Reply) []string {
	out := make([]string, len(r.Buttons))
	for i, b := range r.Buttons {
		out[i] = b.Data
	}
	return out
}

func buttonLabels(r chat.Reply) []string {
	out := make([]string, len(r.Buttons))
	for i, b := range r.Buttons {
		out[i] = b.Label
	}
	return out
}

// tr picks the Chinese or English expectation.
func tr(lang, zh, en string) string {
	if lang == chat.LangEN {
		return en
	}
	return zh
}

// langs are the languages every reply is checked in: the default (Chinese,
// with language unset) and English.
var langs = []struct{ name, lang string }{{"zh-default", ""}, {"en", chat.LangEN}}

func containsAll(t *testing.T, what, text string, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(text, s) {
			t.Errorf("%s: want %q in:\n%s", what, s, text)
		}
	}
}

func containsNone(t *testing.T, what, text string, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if strings.Contains(text, s) {
			t.Errorf("%s: do not want %q in:\n%s", what, s, text)
		}
	}
}

// writer writes the fixture's reports in Chinese, in Shanghai.
func (f *fixture) writer() *daily.Writer {
	return daily.New(daily.Options{Reports: f.reports(), Stock: f.engine, Location: chat.Shanghai(), Log: zerolog.Nop()})
}

// pagerSink is a pager (notifier and sender) over the fixture's store that
// delivers to a recordSink.
type pagerSink struct {
	recordSink
	n *pager.Notifier
}

func (s *pagerSink) Send(_ string, r chat.Reply) (string, error) {
	return "1", s.Announce(context.Background(), r)
}

func (s *pagerSink) Edit(_, _ string, r chat.Reply) error { return s.Announce(context.Background(), r) }

// raise hands an alert event to the notifier, as the outbox would.
func (s *pagerSink) raise(t *testing.T, a storage.Alert) {
	t.Helper()
	if err := s.n.Deliver(context.Background(), &storage.Event{Alert: &a}); err != nil {
		t.Fatal(err)
	}
}

// texts is everything delivered, one message a line.
func (s *pagerSink) texts() string {
	var out []string
	for _, r := range s.all() {
		out = append(out, r.Text)
	}
	return strings.Join(out, "\n")
}

// page runs a pager of b's alerts until the test ends.
func (f *fixture) page(t *testing.T, b *Handler) *pagerSink {
	s := &pagerSink{}
	sender := pager.NewSender(b, f.store, pager.SenderOptions{Dest: "test:1", Chat: "1", Channel: s})
	s.n = pager.NewNotifier(b, f.store, []string{"test:1"}, pager.AlertPolicy{RepeatInterval: time.Hour}, f.clock.Now,
		sender.Kick, zerolog.Nop())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { sender.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return s
}
