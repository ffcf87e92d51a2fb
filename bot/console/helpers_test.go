package console

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"cardflow/bot/chat"
	"cardflow/bot/operator"
	"cardflow/config"
	"cardflow/internal/money"
	"cardflow/internal/testkit"
	"cardflow/internal/teststore"
	"cardflow/processor"
	"cardflow/processor/outbox"
	"cardflow/rules"
	"cardflow/storage"
)

// The console is tested over the real engine and store, like bot's own tests.

// cardsFile is shared with bot/operator's tests; its numbers must never be printed.
const cardsFile = "cards-qb10.txt"

// holdLarge holds orders over 500.00 yuan for review.
type holdLarge struct{}

func (holdLarge) Screen(_ *storage.Tx, o *storage.Order) (rules.Decision, error) {
	if o.Amount > 50000 {
		return rules.Decision{Action: config.ActionReview, Reason: "rule:large-order"}, nil
	}
	return rules.Decision{Action: config.ActionAllow}, nil
}

type fixture struct {
	t       *testing.T
	store   *storage.Store
	engine  *processor.Engine
	secrets []string
	ext     int
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	shop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }))
	t.Cleanup(shop.Close)
	store := testkit.NewStore(t, teststore.Open)
	now := time.Date(2025, 3, 14, 9, 30, 0, 0, chat.Shanghai())
	own := []config.Source{{Supplier: "own", Item: "own-stock", Units: 1}}
	engine := processor.New(store, processor.Options{
		Products: []config.Product{
			{SKU: "qb-10", Name: "Q币10元", Kind: config.KindCard, MaxQuantity: 10, BatchSize: 10, LowStock: 3, Sources: own},
		},
		Suppliers:   []config.Supplier{{Name: "own", Type: config.SupplierStock}},
		Storefronts: []outbox.Storefront{{ID: "shop", Secret: []byte("shop-secret"), CallbackURL: shop.URL}},
		Workers:     2,
		Now:         func() time.Time { return now },
		Log:         zerolog.Nop(),
		HTTPClient:  shop.Client(),
		Screen:      holdLarge{},
	})
	if err := engine.Start(context.Background()); err != nil {
		t.Fatalf("start engine: %v", err)
	}
	t.Cleanup(engine.Stop)
	f := &fixture{t: t, store: store, engine: engine}
	data, err := os.ReadFile(filepath.Join("..", "testdata", cardsFile))
	if err != nil {
		t.Fatalf("read cards: %v", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if fields := strings.Split(line, ","); len(fields) >= 2 && fields[0] != "number" {
			f.secrets = append(f.secrets, fields[0], fields[1])
		}
	}
	if _, err := engine.ImportStock(storage.Actor{Name: "ops", Platform: Platform}, "qb-10", bytes.NewReader(data)); err != nil {
		t.Fatalf("import: %v", err)
	}
	return f
}

func (f *fixture) submit(amount string) *storage.Order {
	f.t.Helper()
	amt, err := money.Parse(amount)
	if err != nil {
		f.t.Fatal(err)
	}
	f.ext++
	o, _, err := f.engine.Submit(processor.Request{Storefront: "shop", ExternalID: fmt.Sprintf("EXT-%d", f.ext),
		SKU: "qb-10", Quantity: 1, Amount: amt})
	if err != nil {
		f.t.Fatalf("submit: %v", err)
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

// bot is the operator layer as cmd/cardflow wires it for the console.
func (f *fixture) bot(lang string) *operator.Handler {
	return operator.New(operator.Options{Orders: f.engine, Auth: Authorizer{Name: "ops"}, Language: lang,
		RefundLimit: 100000, Log: zerolog.Nop()})
}

// session is a console running on a pipe.
type session struct {
	console *Console
	in      *io.PipeWriter
	out     *testkit.Buffer
	done    chan error
	cancel  context.CancelFunc
}

// run starts Console.Run on a pipe; cleanup closes the pipe and waits for Run.
func run(t *testing.T, b *operator.Handler) *session {
	t.Helper()
	pr, pw := io.Pipe()
	s := &session{in: pw, out: &testkit.Buffer{}, done: make(chan error, 1)}
	s.console = New(b, pr, s.out, "ops")
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go func() { s.done <- s.console.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		pw.Close()
		pr.Close()
	})
	return s
}

// typeLine writes a line as if typed; it returns once Run has read it.
func (s *session) typeLine(t *testing.T, line string) {
	t.Helper()
	if _, err := io.WriteString(s.in, line+"\n"); err != nil {
		t.Fatalf("type %q: %v", line, err)
	}
}

// wait returns what Run returned, failing after a deadline.
func (s *session) wait(t *testing.T) error {
	t.Helper()
	select {
	case err := <-s.done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return")
		return nil
	}
}

// waitOutput waits until the output contains sub.
func (s *session) waitOutput(t *testing.T, sub string) {
	t.Helper()
	testkit.Eventually(t, fmt.Sprintf("output %q", sub), func() bool { return strings.Contains(s.out.String(), sub) })
}
