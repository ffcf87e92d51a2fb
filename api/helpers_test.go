package api_test

// Shared setup for the HTTP API tests: a real bbolt store, the real engine,
// both API listeners on loopback httptest servers, and a storefront callback
// receiver on a third server. Requests are signed here from the wire contract
// (docs/api.md), independently of internal/signing, so that a mistake there
// cannot hide behind a matching mistake in the tests.

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"cardflow/bot/bind"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"cardflow/api"
	"cardflow/config"
	"cardflow/internal/money"
	"cardflow/internal/storefront"
	"cardflow/internal/testkit"
	"cardflow/internal/teststore"
	"cardflow/processor"
	"cardflow/processor/outbox"
	"cardflow/rules"
	"cardflow/storage"
)

const (
	adminToken = "admin-token-7d1f0c2b9e"
	skuQB      = "qb-100" // card product, own stock, max_quantity 10
	skuJD      = "jd-50"  // card product, own stock, max_quantity 5
)

var (
	shop1Secret = []byte("shop1-secret-2f9c41d07a")
	shop2Secret = []byte("shop2-secret-8e3b5a66c1")

	// startTime is the injected clock's start, in a fixed zone (UTC).
	startTime = time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)
)

// waitLog collects what arrives asynchronously (callbacks, transitions) and
// lets a test wait on a channel until a condition over it holds.
type waitLog[T any] struct {
	mu      sync.Mutex
	items   []T
	changed chan struct{}
}

func newWaitLog[T any]() *waitLog[T] { return &waitLog[T]{changed: make(chan struct{})} }

func (l *waitLog[T]) add(v T) {
	l.mu.Lock()
	l.items = append(l.items, v)
	close(l.changed)
	l.changed = make(chan struct{})
	l.mu.Unlock()
}

func (l *waitLog[T]) snapshot() []T {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.items)
}

// wait blocks until cond holds for the items so far and returns them.
func (l *waitLog[T]) wait(t testing.TB, what string, cond func([]T) bool) []T {
	t.Helper()
	timeout := time.NewTimer(testkit.WaitLimit)
	defer timeout.Stop()
	for {
		l.mu.Lock()
		items := slices.Clone(l.items)
		changed := l.changed
		l.mu.Unlock()
		if cond(items) {
			return items
		}
		select {
		case <-changed:
		case <-timeout.C:
			t.Fatalf("timed out after %s waiting for %s", testkit.WaitLimit, what)
		}
	}
}

// largeOrderScreener holds orders above a limit for review, like the default
// rule "order.amount > 500".
type largeOrderScreener struct{ over money.Amount }

func (s largeOrderScreener) Screen(_ *storage.Tx, o *storage.Order) (rules.Decision, error) {
	if o.Amount > s.over {
		return rules.Decision{Action: config.ActionReview, Reason: "rule:large-order"}, nil
	}
	return rules.Decision{Action: config.ActionAllow}, nil
}

type fixtureOptions struct {
	extraProducts []config.Product   // added to the default catalogue
	screen        processor.Screener // nil: every order goes straight on
	stockWait     time.Duration      // 0: the engine's default
	failCallbacks bool               // the receiver answers every callback 500
	metrics       bool               // serve /metrics from a fresh registry
	store         storage.Options    // zero: what production uses
	// boltFile keeps the store in a bbolt file whatever engine the run
	// tests: for what only the file has (backups, its bytes, disk faults).
	boltFile bool
}

// fixture is one running cardflow: store, engine, storefront and admin API.
// Its clock is shared by the engine, the API and the callback receiver.
// Each signed request advances it by a second, so no two requests ever
// carry the same signature (the replay guard would refuse the second) and
// tests never depend on the wall clock.
type fixture struct {
	clock    *testkit.Clock
	dir      string
	store    *storage.Store
	engine   *processor.Engine
	server   *api.Server
	api      *httptest.Server // storefront listener
	admin    *httptest.Server // admin listener
	receiver *storefront.Receiver
	cbServer *httptest.Server
	logs     *testkit.Buffer
	secrets  map[string][]byte
	registry *prometheus.Registry // nil unless fixtureOptions.metrics

	callbacks     *waitLog[storefront.Callback] // accepted callbacks
	changes       *waitLog[processor.Change]    // committed transitions
	callbackPosts atomic.Int64                  // callback requests, accepted or not
	lastRequest   atomic.Pointer[seenRequest]   // the storefront listener's latest request

	mu            sync.Mutex
	knownProblems []string // receiver problems a test expects
	stopOnce      sync.Once
	failCallbacks bool
}

// seenRequest is how a request arrived at the storefront listener.
type seenRequest struct {
	contentLength    int64
	transferEncoding []string
}

func defaultProducts() []config.Product {
	return []config.Product{
		{SKU: skuQB, Name: "Q币 100元", Kind: config.KindCard, MaxQuantity: 10, BatchSize: 5, LowStock: 20,
			Sources: []config.Source{{Supplier: "own", Units: 1}}},
		{SKU: skuJD, Name: "京东E卡 50元", Kind: config.KindCard, MaxQuantity: 5, BatchSize: 5, LowStock: 5,
			Sources: []config.Source{{Supplier: "own", Units: 1}}},
	}
}

func newFixture(t testing.TB, opts fixtureOptions) *fixture {
	t.Helper()
	f := &fixture{
		clock:         testkit.NewClock(startTime),
		dir:           t.TempDir(),
		logs:          &testkit.Buffer{},
		secrets:       map[string][]byte{"shop1": shop1Secret, "shop2": shop2Secret},
		callbacks:     newWaitLog[storefront.Callback](),
		changes:       newWaitLog[processor.Change](),
		failCallbacks: opts.failCallbacks,
	}
	log := zerolog.New(f.logs)

	f.receiver = storefront.NewReceiver(map[string][]byte{"shop1": shop1Secret, "shop2": shop2Secret})
	f.receiver.Now = f.clock.Now
	f.receiver.OnCallback = f.callbacks.add
	if opts.failCallbacks {
		f.receiver.FailRate = 1
	}
	f.cbServer = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.callbackPosts.Add(1)
		f.receiver.ServeHTTP(w, r)
	}))

	open := teststore.Open
	if opts.boltFile {
		open = storage.Open
	}
	store := testkit.OpenStore(t, open, f.dir, opts.store)
	f.store = store

	if opts.metrics {
		f.registry = prometheus.NewRegistry()
	}
	products := append(defaultProducts(), opts.extraProducts...)
	f.engine = processor.New(store, processor.Options{
		Products:  products,
		Suppliers: []config.Supplier{{Name: "own", Type: config.SupplierStock}, {Name: "fulu", Type: "fulu"}},
		Storefronts: []outbox.Storefront{
			{ID: "shop1", Secret: shop1Secret, CallbackURL: f.cbServer.URL + "/cardflow/callback?shop=1&token=cb1"},
			{ID: "shop2", Secret: shop2Secret, CallbackURL: f.cbServer.URL + "/cardflow/callback?shop=2&token=cb2"},
		},
		Docking:    map[string]money.Amount{"cardflow-dj1": 1000},
		Workers:    4,
		StockWait:  opts.stockWait,
		Now:        f.clock.Now,
		Log:        log,
		HTTPClient: &http.Client{Timeout: 10 * time.Second},
		Screen:     opts.screen,
		Observe:    f.changes.add,
		Metrics:    registerer(f.registry),
	})
	if err := f.engine.Start(context.Background()); err != nil {
		t.Fatalf("start engine: %v", err)
	}

	f.server = api.New(api.Options{
		Orders:      f.engine,
		Storefronts: map[string][]byte{"shop1": shop1Secret, "shop2": shop2Secret},
		Protocols:   map[string]string{"shop1": config.ProtocolCardflow, "shop2": config.ProtocolCardflow, "cardflow-dj1": config.ProtocolDujiaoNext},
		AdminToken:  adminToken,
		Now:         f.clock.Now,
		Log:         log,
		Metrics:     f.registry,
		Operators:   []string{"alice", "carol"},
		Bindings:    f.bindings(),
	})
	storefrontHandler := f.server.Storefront()
	f.api = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.lastRequest.Store(&seenRequest{contentLength: r.ContentLength, transferEncoding: r.TransferEncoding})
		storefrontHandler.ServeHTTP(w, r)
	}))
	f.admin = httptest.NewServer(f.server.Admin())

	t.Cleanup(func() {
		f.shutdown(t)
		f.cbServer.Close()
		if !f.failCallbacks {
			f.checkReceiver(t)
		}
		if t.Failed() {
			t.Logf("engine and API logs:\n%s", f.logs.String())
		}
	})
	return f
}

// registerer keeps a nil registry a nil interface.
func registerer(r *prometheus.Registry) prometheus.Registerer {
	if r == nil {
		return nil
	}
	return r
}

// shutdown stops serving, stops the engine, checks the bbolt file's
// consistency and closes the store. It runs once; cleanup calls it too.
func (f *fixture) shutdown(t testing.TB) {
	f.stopOnce.Do(func() {
		f.api.Close()
		f.admin.Close()
		f.engine.Stop()
		testkit.CloseStore(t, f.store)
	})
}

// expectProblem tells cleanup that the receiver will rightly complain about
// something matching substr (a reissue delivers an order twice).
func (f *fixture) expectProblem(substr string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.knownProblems = append(f.knownProblems, substr)
}

func (f *fixture) checkReceiver(t testing.TB) {
	f.mu.Lock()
	known := slices.Clone(f.knownProblems)
	f.mu.Unlock()
	for _, p := range f.receiver.Problems() {
		if !slices.ContainsFunc(known, func(k string) bool { return strings.Contains(p, k) }) {
			t.Errorf("storefront receiver: %s", p)
		}
	}
}

// lastOrderID is the highest order id the store has handed out.
func (f *fixture) lastOrderID(t testing.TB) uint64 {
	t.Helper()
	var id uint64
	if err := f.store.View(func(tx *storage.Tx) error { id = tx.LastOrderID(); return nil }); err != nil {
		t.Fatalf("read last order id: %v", err)
	}
	return id
}

// --- signed storefront requests -------------------------------------------

// call is one HTTP request as it will go on the wire.
type call struct {
	method  string
	path    string // path and query, exactly as signed and sent
	body    []byte
	header  http.Header
	chunked bool // send with Transfer-Encoding: chunked (ContentLength -1)
}

// signature is the storefront signature: lowercase hex HMAC-SHA256(secret,
// timestamp + "\n" + METHOD + "\n" + path_and_query + "\n" + body).
func signature(secret []byte, ts, method, pathAndQuery string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts + "\n" + method + "\n" + pathAndQuery + "\n"))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// signedAt builds a request from storefront id, signed with secret at time at.
func signedAt(id string, secret []byte, at time.Time, method, path string, body []byte) call {
	ts := strconv.FormatInt(at.Unix(), 10)
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("X-Cardflow-Storefront", id)
	h.Set("X-Cardflow-Timestamp", ts)
	h.Set("X-Cardflow-Signature", signature(secret, ts, method, path, body))
	return call{method: method, path: path, body: body, header: h}
}

// signed builds a correctly signed request from a configured storefront, one
// clock second after the previous one.
func (f *fixture) signed(storefrontID, method, path string, body []byte) call {
	return signedAt(storefrontID, f.secrets[storefrontID], f.clock.Advance(time.Second), method, path, body)
}

// reply is a response read in full.
type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r *reply) String() string {
	return strconv.Itoa(r.status) + " " + string(bytes.TrimSpace(r.body))
}

// roundTrip sends c to srv. It does not use t, so goroutines may call it.
func roundTrip(ctx context.Context, srv *httptest.Server, c call) (*reply, error) {
	req, err := http.NewRequestWithContext(ctx, c.method, srv.URL+c.path, bytes.NewReader(c.body))
	if err != nil {
		return nil, err
	}
	if c.chunked {
		// A reader of no known type and ContentLength -1: net/http sends
		// the body chunked, so the server cannot know its size up front.
		req.Body = io.NopCloser(io.MultiReader(bytes.NewReader(c.body)))
		req.ContentLength = -1
		req.GetBody = nil
	}
	for k, v := range c.header {
		req.Header[k] = slices.Clone(v)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	return &reply{status: resp.StatusCode, header: resp.Header, body: body}, nil
}

func send(t testing.TB, srv *httptest.Server, c call) *reply {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r, err := roundTrip(ctx, srv, c)
	if err != nil {
		t.Fatalf("%s %s: %v", c.method, c.path, err)
	}
	return r
}

// post submits an order body as a storefront.
func (f *fixture) post(t testing.TB, storefrontID string, body []byte) *reply {
	t.Helper()
	return send(t, f.api, f.signed(storefrontID, http.MethodPost, "/v1/orders", body))
}

// get reads path (with query) as a storefront.
func (f *fixture) get(t testing.TB, storefrontID, path string) *reply {
	t.Helper()
	return send(t, f.api, f.signed(storefrontID, http.MethodGet, path, nil))
}

// --- admin requests --------------------------------------------------------

func adminCall(method, path string, body []byte, authorization string) call {
	h := http.Header{}
	if authorization != "" {
		h.Set("Authorization", authorization)
	}
	return call{method: method, path: path, body: body, header: h}
}

// adminDo sends an admin request with the right token.
func (f *fixture) adminDo(t testing.TB, method, path string, body []byte) *reply {
	t.Helper()
	return send(t, f.admin, adminCall(method, path, body, "Bearer "+adminToken))
}

type importResult struct {
	Batch      uint64 `json:"batch"`
	Added      int    `json:"added"`
	Duplicates int    `json:"duplicates"`
	Invalid    int    `json:"invalid"`
	Errors     []struct {
		Line int    `json:"line"`
		Why  string `json:"why"`
	} `json:"errors"`
}

// importStock posts card lines to POST /v1/stock/{sku} and expects 200.
func (f *fixture) importStock(t testing.TB, sku, lines string) importResult {
	t.Helper()
	r := f.adminDo(t, http.MethodPost, "/v1/stock/"+sku, []byte(lines))
	wantStatus(t, r, http.StatusOK)
	var res importResult
	decodeStrict(t, r.body, &res)
	return res
}

// stockLevels is GET /v1/stock as a map.
func (f *fixture) stockLevels(t testing.TB) map[string]int {
	t.Helper()
	r := f.adminDo(t, http.MethodGet, "/v1/stock", nil)
	wantStatus(t, r, http.StatusOK)
	var body struct {
		Stock []struct {
			SKU   string `json:"sku"`
			Level int    `json:"level"`
		} `json:"stock"`
	}
	decodeStrict(t, r.body, &body)
	levels := make(map[string]int, len(body.Stock))
	for _, s := range body.Stock {
		levels[s.SKU] = s.Level
	}
	return levels
}

// --- orders ---------------------------------------------------------------

type buyerJSON struct {
	ID      string `json:"id,omitempty"`
	Contact string `json:"contact,omitempty"`
	IP      string `json:"ip,omitempty"`
}

// newOrder is the body of POST /v1/orders.
type newOrder struct {
	ExternalID string            `json:"external_id"`
	SKU        string            `json:"sku"`
	Quantity   int               `json:"quantity"`
	Amount     string            `json:"amount"`
	Buyer      *buyerJSON        `json:"buyer,omitempty"`
	Account    string            `json:"account,omitempty"`
	Extra      map[string]string `json:"extra,omitempty"`
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("encode %T: %v", v, err)
	}
	return b
}

// simpleOrder is a one-line order body for sku.
func simpleOrder(t testing.TB, externalID, sku string, quantity int, amount string) []byte {
	t.Helper()
	return mustJSON(t, newOrder{ExternalID: externalID, SKU: sku, Quantity: quantity, Amount: amount,
		Buyer: &buyerJSON{ID: "u-8812", Contact: "a@example.com", IP: "203.0.113.9"}})
}

// orderJSON is the API's ORDER object, decoded strictly.
type orderJSON struct {
	ID          string      `json:"id"`
	ExternalID  string      `json:"external_id"`
	Storefront  string      `json:"storefront"`
	SKU         string      `json:"sku"`
	Quantity    int         `json:"quantity"`
	Amount      string      `json:"amount"`
	Status      string      `json:"status"`
	Reason      string      `json:"reason"`
	CreatedAt   string      `json:"created_at"`
	UpdatedAt   string      `json:"updated_at"`
	DeliveredAt *string     `json:"delivered_at"`
	Cards       []cardJSON  `json:"cards"`
	Claims      []claimJSON `json:"claims"`
}

// claimJSON is the CLAIM object.
type claimJSON struct {
	ID         string   `json:"id"`
	OrderID    string   `json:"order_id"`
	Reason     string   `json:"reason"`
	Message    string   `json:"message"`
	Cards      []string `json:"cards"`
	Status     string   `json:"status"`
	Note       string   `json:"note"`
	CreatedAt  string   `json:"created_at"`
	ResolvedAt *string  `json:"resolved_at"`
	ResolvedBy *string  `json:"resolved_by"`
}

type cardJSON struct {
	Number    string `json:"number"`
	Password  string `json:"password"`
	ExpiresAt string `json:"expires_at"`
}

var (
	orderKeys = []string{"id", "external_id", "storefront", "sku", "quantity", "amount", "status", "reason",
		"created_at", "updated_at", "delivered_at", "cards", "claims"}
	cardKeys  = []string{"number", "password", "expires_at"}
	claimKeys = []string{"id", "order_id", "reason", "message", "cards", "status", "note", "created_at", "resolved_at", "resolved_by"}
	decimal   = regexp.MustCompile(`^[1-9][0-9]{0,19}$`)
)

// order checks that the reply is {"order": ORDER} with exactly the ORDER
// object's keys and JSON types (docs/api.md), and returns the order.
func (r *reply) order(t testing.TB) orderJSON {
	t.Helper()
	wantJSON(t, r)
	var top map[string]json.RawMessage
	if err := json.Unmarshal(r.body, &top); err != nil {
		t.Fatalf("answer is not a JSON object: %v: %s", err, r)
	}
	if got := sortedKeys(top); !slices.Equal(got, []string{"order"}) {
		t.Fatalf("answer keys = %v, want [order]: %s", got, r)
	}
	return checkOrderShape(t, top["order"])
}

func checkOrderShape(t testing.TB, raw json.RawMessage) orderJSON {
	t.Helper()
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		t.Fatalf("order is not a JSON object: %v: %s", err, raw)
	}
	want := slices.Sorted(slices.Values(orderKeys))
	if got := sortedKeys(fields); !slices.Equal(got, want) {
		t.Fatalf("order keys = %v, want exactly %v", got, want)
	}
	for _, k := range []string{"id", "external_id", "storefront", "sku", "amount", "status", "reason", "created_at", "updated_at"} {
		if !bytes.HasPrefix(fields[k], []byte(`"`)) {
			t.Errorf("order.%s = %s, want a JSON string", k, fields[k])
		}
	}
	if q := fields["quantity"]; len(q) == 0 || q[0] < '0' || q[0] > '9' {
		t.Errorf("order.quantity = %s, want a JSON number", q)
	}
	if d := fields["delivered_at"]; string(d) != "null" && !bytes.HasPrefix(d, []byte(`"`)) {
		t.Errorf("order.delivered_at = %s, want null or a string", d)
	}
	var cards []map[string]json.RawMessage
	if err := json.Unmarshal(fields["cards"], &cards); err != nil || cards == nil {
		t.Fatalf("order.cards = %s, want a JSON array (empty when not delivered)", fields["cards"])
	}
	for i, c := range cards {
		if got := sortedKeys(c); !slices.Equal(got, slices.Sorted(slices.Values(cardKeys))) {
			t.Errorf("order.cards[%d] keys = %v, want exactly %v", i, got, cardKeys)
		}
	}
	var claims []json.RawMessage
	if err := json.Unmarshal(fields["claims"], &claims); err != nil || claims == nil {
		t.Fatalf("order.claims = %s, want a JSON array (empty when none)", fields["claims"])
	}
	for _, c := range claims {
		checkClaimShape(t, c)
	}
	var o orderJSON
	decodeStrict(t, raw, &o)
	if !decimal.MatchString(o.ID) {
		t.Errorf("order.id = %q, want a short decimal string", o.ID)
	}
	for name, ts := range map[string]string{"created_at": o.CreatedAt, "updated_at": o.UpdatedAt} {
		checkStamp(t, name, ts)
	}
	if o.DeliveredAt != nil {
		checkStamp(t, "delivered_at", *o.DeliveredAt)
	}
	return o
}

// checkClaimShape checks that raw is a CLAIM object with exactly its keys
// and JSON types (docs/api.md), and returns it.
func checkClaimShape(t testing.TB, raw json.RawMessage) claimJSON {
	t.Helper()
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		t.Fatalf("claim is not a JSON object: %v: %s", err, raw)
	}
	if got := sortedKeys(fields); !slices.Equal(got, slices.Sorted(slices.Values(claimKeys))) {
		t.Fatalf("claim keys = %v, want exactly %v", got, claimKeys)
	}
	var c claimJSON
	decodeStrict(t, raw, &c)
	if !decimal.MatchString(c.ID) || !decimal.MatchString(c.OrderID) {
		t.Errorf("claim id %q, order_id %q: want short decimal strings", c.ID, c.OrderID)
	}
	if c.Cards == nil {
		t.Errorf("claim.cards = null, want an array")
	}
	checkStamp(t, "claim.created_at", c.CreatedAt)
	if (c.ResolvedAt == nil) != (c.ResolvedBy == nil) || (c.ResolvedAt == nil) != (c.Status == "open") {
		t.Errorf("claim %s is %s with resolved_at %v and resolved_by %v", c.ID, c.Status, c.ResolvedAt, c.ResolvedBy)
	}
	if c.ResolvedAt != nil {
		checkStamp(t, "claim.resolved_at", *c.ResolvedAt)
	}
	return c
}

// checkStamp wants an RFC 3339 time in UTC within the test clock's span.
func checkStamp(t testing.TB, name, s string) {
	t.Helper()
	ts, err := time.Parse(time.RFC3339, s)
	if err != nil || !strings.HasSuffix(s, "Z") {
		t.Errorf("order.%s = %q, want an RFC 3339 UTC time", name, s)
		return
	}
	if ts.Before(startTime) || ts.After(startTime.Add(24*time.Hour)) {
		t.Errorf("order.%s = %s, want a time from the injected clock (starting %s)", name, s, startTime.Format(time.RFC3339))
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := slices.Collect(maps.Keys(m))
	sort.Strings(keys)
	return keys
}

// --- assertions -----------------------------------------------------------

func wantStatus(t testing.TB, r *reply, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d; body: %s", r.status, status, bytes.TrimSpace(r.body))
	}
}

func wantJSON(t testing.TB, r *reply) {
	t.Helper()
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q, want application/json; body: %s", ct, r.body)
	}
}

// internals matches what must never reach a client: stack traces, panic
// text, Go source positions and package paths, raw decoder errors.
var internals = regexp.MustCompile(`goroutine \d|panic|\.go:\d|runtime error|runtime/|cardflow/|json: cannot|invalid character|encoding/json`)

// apiError is the API's error body.
type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field"`
}

// apiError checks that the reply is exactly {"error": {code, message[,
// field]}} in JSON, without internals, and returns it.
func (r *reply) apiError(t testing.TB) apiError {
	t.Helper()
	wantJSON(t, r)
	if m := internals.Find(r.body); m != nil {
		t.Errorf("error body leaks internals (%q): %s", m, r.body)
	}
	var body struct {
		Error *apiError `json:"error"`
	}
	decodeStrict(t, r.body, &body)
	if body.Error == nil || body.Error.Code == "" || body.Error.Message == "" {
		t.Fatalf("error body = %s, want {\"error\": {\"code\", \"message\"}}", r.body)
	}
	return *body.Error
}

// wantError checks status, code and field ("-" leaves the field unchecked).
func wantError(t testing.TB, r *reply, status int, code, field string) apiError {
	t.Helper()
	if r.status != status {
		t.Errorf("status = %d, want %d; body: %s", r.status, status, bytes.TrimSpace(r.body))
	}
	e := r.apiError(t)
	if e.Code != code {
		t.Errorf("error.code = %q, want %q (message %q)", e.Code, code, e.Message)
	}
	if field != "-" && e.Field != field {
		t.Errorf("error.field = %q, want %q (message %q)", e.Field, field, e.Message)
	}
	return e
}

// decodeStrict decodes exactly one JSON value with no unknown fields.
func decodeStrict(t testing.TB, data []byte, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("decode %T: %v; body: %s", v, err, data)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		t.Fatalf("decode %T: trailing data after the JSON value: %s", v, data)
	}
}

// --- waiting on the engine ---------------------------------------------------

// waitCallback waits for an accepted callback of type typ for order id and
// returns the latest one.
func (f *fixture) waitCallback(t testing.TB, id, typ string) storefront.Callback {
	t.Helper()
	items := f.callbacks.wait(t, typ+" callback for order "+id, func(cbs []storefront.Callback) bool {
		return slices.ContainsFunc(cbs, func(cb storefront.Callback) bool { return cb.Order.ID == id && cb.Type == typ })
	})
	for i := len(items) - 1; i >= 0; i-- {
		if items[i].Order.ID == id && items[i].Type == typ {
			return items[i]
		}
	}
	panic("unreachable")
}

// callbackTypes lists the distinct callbacks an order received, in order.
func (f *fixture) callbackTypes(id string) []string {
	seen := map[string]bool{}
	var types []string
	for _, cb := range f.callbacks.snapshot() {
		if cb.Order.ID == id && !seen[cb.EventID] {
			seen[cb.EventID] = true
			types = append(types, cb.Type)
		}
	}
	return types
}

// waitTransitions waits until order id has made n committed transitions
// that match (what describes them for the timeout message).
func (f *fixture) waitTransitions(t testing.TB, id string, n int, what string, match func(processor.Change) bool) {
	t.Helper()
	want, err := strconv.ParseUint(id, 10, 64)
	if err != nil {
		t.Fatalf("order id %q: %v", id, err)
	}
	f.changes.wait(t, fmt.Sprintf("%d× order %s %s", n, id, what), func(chs []processor.Change) bool {
		count := 0
		for _, c := range chs {
			if c.OrderID == want && match(c) {
				count++
			}
		}
		return count >= n
	})
}

// waitStatus waits until order id has entered status to at least once.
func (f *fixture) waitStatus(t testing.TB, id string, to storage.Status) {
	t.Helper()
	f.waitTransitions(t, id, 1, "to become "+string(to), func(c processor.Change) bool { return c.To == to })
}

// getOrder reads an order as its storefront and expects 200.
func (f *fixture) getOrder(t testing.TB, storefrontID, id string) orderJSON {
	t.Helper()
	r := f.get(t, storefrontID, "/v1/orders/"+id)
	wantStatus(t, r, http.StatusOK)
	return r.order(t)
}

// bindings are the fixture's bind codes, on its store and clock.
func (f *fixture) bindings() *bind.Bindings { return bind.New(f.store, f.clock.Now) }
