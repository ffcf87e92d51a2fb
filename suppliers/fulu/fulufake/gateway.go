// Package fulufake is a fake 福禄 (Fulu) open platform gateway that speaks
// the protocol of docs/suppliers.md: signed envelopes, the timestamp
// window, orders deduplicated by customer_order_no, asynchronous card
// orders, AES-encrypted card keys, signed responses and callbacks. Tests,
// the demo and benchmarks serve it with httptest or a real listener.
//
// Behaviour of the sandbox data (the defaults):
//   - 10000587 is a card product, 10000585 and 10000586 are direct top-ups,
//     each 1.00 yuan with unlimited stock.
//   - Direct accounts 888888 and 999999 are valid. An account starting with
//     "bad" is blacklisted: the add is refused with 4004 and no order is
//     created. Any other account is accepted, and the order ends failed.
//   - An order is processing for SuccessAfter, then ends success (cards
//     issued) or failed. With the real clock a timer settles it; with an
//     injected clock it settles when the gateway is next used (any request,
//     Orders or Settle).
//   - The balance starts at 10,000.00 yuan, is charged when an order is
//     created and refunded when it fails. Not enough balance is refused with
//     4008 "账户余额不足" and no order (Fulu's real code is not published).
//   - customer_price below the product's price is refused with 1005 and no
//     order (also not published).
//
// Faults are injected one at a time with Inject, or at random rates with
// SetRates. Everything is safe for concurrent use.
package fulufake

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"sync"
	"time"

	"cardflow/card"
	"cardflow/internal/money"
	"cardflow/internal/outbound"
	"cardflow/suppliers"
	"cardflow/suppliers/fulu"
)

// Sandbox credentials published by Fulu; the defaults.
const (
	SandboxAppKey    = "i4esv1l+76l/7NQCL3QudG90Fq+YgVfFGJAWgT+7qO1Bm9o/adG/1iwO2qXsAXNB"
	SandboxAppSecret = "0a091b3aa4324435aab703142518a8f7"
)

// Sandbox products.
const (
	ProductCard    int64 = 10000587
	ProductDirect  int64 = 10000585
	ProductDirect2 int64 = 10000586
)

// Unlimited is the stock of a product that never runs out.
const Unlimited = -1

// DefaultBalance is the merchant balance a new gateway starts with.
const DefaultBalance money.Amount = 1_000_000 // 10,000.00 yuan

// Window is how far a request's timestamp may be from the gateway's clock.
const Window = 10 * time.Minute

// Product is an item the gateway sells.
type Product struct {
	ID    int64
	Name  string
	Kind  string       // suppliers.KindCard or suppliers.KindDirect
	Price money.Amount // per unit
	Stock int          // units left, or Unlimited; 0 answers 3005
}

// Options configure a Gateway. The zero value is the sandbox.
type Options struct {
	AppKey    string // default SandboxAppKey
	AppSecret string // default SandboxAppSecret; must be 32 ASCII bytes
	Now       func() time.Time
	// SuccessAfter is how long an order stays processing; 0 settles it at once.
	SuccessAfter time.Duration
	// NotifyURL, if set, receives signed callbacks on final states. A reply
	// other than the literal "success" is retried a few times in the
	// background.
	NotifyURL    string
	NotifyClient *http.Client // default: 5 s timeout
	Products     []Product    // default: the sandbox products
	// ValidAccounts are the direct accounts whose orders succeed; default
	// 888888 and 999999.
	ValidAccounts []string
	// CardPrefix starts every card number; default "FL" and 8 random hex
	// digits, so that two gateways (say, a demo restarted) never issue the
	// same number.
	CardPrefix string
	Seed       uint64 // seeds random faults; 0 picks one
}

// Gateway is the fake Fulu gateway, an http.Handler for POST /api/getway.
type Gateway struct {
	appKey, secret string
	cards          *fulu.CardCipher
	now            func() time.Time
	realClock      bool
	successAfter   time.Duration
	notifyURL      string
	notifyHTTP     *http.Client
	validAccounts  map[string]bool
	cardPrefix     string

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu        sync.Mutex
	closed    bool
	products  map[int64]*Product
	balance   money.Amount
	orders    map[string]*order
	list      []*order // creation order
	pending   []*order // not final yet
	addCalls  int
	poor      int // adds refused for balance
	addByNo   map[string]int
	orderSeq  int64
	cardSeq   int64
	lastCard  string
	faults    []queued
	applied   map[FaultKind]int
	rates     Rates
	rng       *mrand.Rand
	callbacks []Callback
}

// New returns a gateway. It panics on an AppSecret that is not 32 ASCII
// bytes, a programming error in a test.
func New(o Options) *Gateway {
	if o.AppKey == "" {
		o.AppKey = SandboxAppKey
	}
	if o.AppSecret == "" {
		o.AppSecret = SandboxAppSecret
	}
	cards, err := fulu.NewCardCipher(o.AppSecret)
	if err != nil {
		panic("fulufake: " + err.Error())
	}
	if o.Products == nil {
		o.Products = []Product{
			{ID: ProductCard, Name: "卡密测试商品", Kind: suppliers.KindCard, Price: 100, Stock: Unlimited},
			{ID: ProductDirect, Name: "直充测试商品", Kind: suppliers.KindDirect, Price: 100, Stock: Unlimited},
			{ID: ProductDirect2, Name: "直充测试商品2", Kind: suppliers.KindDirect, Price: 100, Stock: Unlimited},
		}
	}
	if o.ValidAccounts == nil {
		o.ValidAccounts = []string{"888888", "999999"}
	}
	if o.CardPrefix == "" {
		b := make([]byte, 4)
		_, _ = rand.Read(b)
		o.CardPrefix = fmt.Sprintf("FL%X", b)
	}
	if o.Seed == 0 {
		o.Seed = mrand.Uint64()
	}
	if o.NotifyClient == nil {
		o.NotifyClient = outbound.New(outbound.Options{Timeout: 5 * time.Second})
	}
	g := &Gateway{
		appKey:        o.AppKey,
		secret:        o.AppSecret,
		cards:         cards,
		now:           o.Now,
		realClock:     o.Now == nil,
		successAfter:  o.SuccessAfter,
		notifyURL:     o.NotifyURL,
		notifyHTTP:    o.NotifyClient,
		validAccounts: map[string]bool{},
		cardPrefix:    o.CardPrefix,
		products:      map[int64]*Product{},
		balance:       DefaultBalance,
		orders:        map[string]*order{},
		addByNo:       map[string]int{},
		applied:       map[FaultKind]int{},
		rng:           mrand.New(mrand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15)),
	}
	if g.now == nil {
		g.now = time.Now
	}
	g.ctx, g.cancel = context.WithCancel(context.Background())
	for _, a := range o.ValidAccounts {
		g.validAccounts[a] = true
	}
	for _, p := range o.Products {
		g.products[p.ID] = &p
	}
	return g
}

// Close stops callbacks and waits for those in flight. Requests waiting on
// a slow fault return at once. The handler keeps answering after Close, but
// sends no more callbacks.
func (g *Gateway) Close() {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
	g.cancel()
	g.wg.Wait()
}

// SetStock sets a product's stock (Unlimited for no limit).
func (g *Gateway) SetStock(productID int64, n int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if p := g.products[productID]; p != nil {
		p.Stock = n
	}
}

// Stock returns a product's stock, or 0 for an unknown product.
func (g *Gateway) Stock(productID int64) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	if p := g.products[productID]; p != nil {
		return p.Stock
	}
	return 0
}

// SetBalance sets the merchant balance.
func (g *Gateway) SetBalance(a money.Amount) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.balance = a
}

// Balance returns the merchant balance.
func (g *Gateway) Balance() money.Amount {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.balance
}

// BalanceRefusals counts the adds refused because the balance was too low:
// a test whose load should never run the balance dry checks it is 0.
func (g *Gateway) BalanceRefusals() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.poor
}

// AddCalls counts every card.add and direct.add call that passed the
// envelope checks, whatever the answer (faults included).
func (g *Gateway) AddCalls() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.addCalls
}

// OrderRecord is an order as the gateway holds it.
type OrderRecord struct {
	No        string // customer_order_no
	OrderID   string
	ProductID int64
	Kind      string // suppliers.KindCard or suppliers.KindDirect
	BuyNum    int
	Account   string
	State     string // fulu.State*
	Created   time.Time
	Finished  time.Time    // zero until final
	Price     money.Amount // the whole order
	AddCalls  int          // add calls seen with this customer_order_no
	Cards     []card.Card
	// Fields is the biz_content of the add that created the order, values
	// as text (numbers as written).
	Fields map[string]string
}

// Orders returns every order in creation order, after settling those due.
func (g *Gateway) Orders() []OrderRecord {
	g.Settle()
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]OrderRecord, 0, len(g.list))
	for _, o := range g.list {
		out = append(out, g.recordLocked(o))
	}
	return out
}

// Order returns one order by customer_order_no, after settling those due.
func (g *Gateway) Order(no string) (OrderRecord, bool) {
	g.Settle()
	g.mu.Lock()
	defer g.mu.Unlock()
	o := g.orders[no]
	if o == nil {
		return OrderRecord{}, false
	}
	return g.recordLocked(o), true
}

// recordLocked is a copy of an order that the caller may keep.
func (g *Gateway) recordLocked(o *order) OrderRecord {
	r := o.rec
	r.AddCalls = g.addByNo[o.rec.No]
	r.Cards = append([]card.Card(nil), o.rec.Cards...)
	r.Fields = make(map[string]string, len(o.rec.Fields))
	for k, v := range o.rec.Fields {
		r.Fields[k] = v
	}
	return r
}

// Settle finishes every order whose time has come and sends its callbacks.
func (g *Gateway) Settle() {
	g.mu.Lock()
	notes := g.settleLocked(g.now())
	g.mu.Unlock()
	g.notifyAsync(notes)
}

// ServeHTTP answers POST /api/getway.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != fulu.Path {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return
	}
	g.Settle()
	req, a := g.parseEnvelope(body)
	if a.code != fulu.CodeOK {
		g.write(w, r, a, Fault{})
		return
	}
	g.countAdd(req)
	f := g.pickFault(req.method)
	switch f.Kind {
	case Fault4008:
		g.write(w, r, reply{code: fulu.CodeAddFailed, message: "下单失败"}, f)
		return
	case Fault4009NotCreated:
		g.write(w, r, reply{code: fulu.CodeAddTimeout, message: "下单超时，请查询订单结果"}, f)
		return
	case Fault5000NotCreated:
		g.write(w, r, reply{code: fulu.CodeSystemError, message: "系统异常"}, f)
		return
	}
	a, early := g.dispatch(req, f)
	for _, n := range early {
		g.deliver(n) // before the add answer, on purpose
	}
	if g.successAfter == 0 {
		g.Settle()
	}
	switch f.Kind {
	case Fault4009Created:
		a = reply{code: fulu.CodeAddTimeout, message: "下单超时，请查询订单结果"}
	case Fault5000Created:
		a = reply{code: fulu.CodeSystemError, message: "系统异常"}
	}
	g.write(w, r, a, f)
}

// reply is an answer before faults are applied.
type reply struct {
	code    int
	message string
	result  string
}

// write sends an answer, signed over the exact result string it carries,
// and applies the answer-side faults.
func (g *Gateway) write(w http.ResponseWriter, r *http.Request, a reply, f Fault) {
	sign := ""
	if a.code == fulu.CodeOK {
		sign = fulu.SignText(a.result, g.secret)
	}
	if f.Kind == FaultBadSign {
		sign = fulu.SignText(a.result+" ", g.secret)
	}
	if a.message == "" && a.code == fulu.CodeOK {
		a.message = "接口调用成功"
	}
	body, _ := json.Marshal(struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Result  string `json:"result"`
		Sign    string `json:"sign"`
	}{a.code, a.message, a.result, sign})
	switch f.Kind {
	case FaultLostAnswer:
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler)
	case FaultBadGateway:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = io.WriteString(w, "<html><body><h1>502 Bad Gateway</h1></body></html>")
		return
	case FaultGarbled:
		body = append(body[:len(body)/2:len(body)/2], "<!-- upstream reset -->"...)
	case FaultSlow:
		t := time.NewTimer(f.Delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return
		case <-g.ctx.Done():
			return
		}
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, _ = w.Write(body)
}

// newCard issues a card unique across the gateway.
func (g *Gateway) newCardLocked(now time.Time) card.Card {
	g.cardSeq++
	return card.Card{
		Number:    fmt.Sprintf("%s%010d", g.cardPrefix, g.cardSeq),
		Password:  rand.Text()[:16],
		ExpiresAt: now.In(fulu.Beijing).AddDate(1, 0, 0).Format(fulu.TimestampLayout),
	}
}
