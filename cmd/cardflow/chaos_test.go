package main

// The chaos test. A small version runs with every `go test ./...`; the long
// version is one command, where CARDFLOW_CHAOS is how long the load runs
// (a Go duration) and orders, kills and everything the run draws on grow
// with it (own stock, the gateway's limited item and its balance, the time
// allowed to settle):
//
//	CARDFLOW_CHAOS=2m go test -run 'TestChaos$' -count=1 -timeout 0 ./cmd/cardflow
//
// The service is killed every 0.3–1.2 s of the load and restarted (a
// fraction of a second more), so a run gets about one kill per 1.3 s of
// load: 2m gives about 90, 5m about 240.

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"cardflow/internal/money"
	"cardflow/internal/storefront"
	"cardflow/suppliers"
	"cardflow/suppliers/fulu/fulufake"
)

const (
	chaosSmall   = 8 * time.Second // load of the version that runs with every go test
	chaosRate    = 40              // orders a second
	chaosSenders = 8
	// chaosLimited is a Fulu card item with little stock: once it is sold
	// out, mix-card's batches fail over to own stock.
	chaosLimited int64 = 10000590
	// chaosPrice is the gateway's price of a unit of every item, and
	// chaosMaxQuantity the largest quantity newChaosOrder asks for.
	chaosPrice       money.Amount = 100
	chaosMaxQuantity              = 3
)

// chaosBalance is the gateway balance a load of orders needs: every order
// bought from Fulu at the largest quantity, twice over (a purchase that
// brings a duplicate card is paid for and bought again). The gateway's
// default (10,000 yuan) runs dry after about four minutes of load, and
// orders would then rightly wait for a top-up that never comes.
func chaosBalance(orders int64) money.Amount {
	return max(fulufake.DefaultBalance, money.Amount(orders)*chaosMaxQuantity*chaosPrice*2)
}

// chaosCatalogue is the service's mixed catalogue besides qb-10 (own stock,
// from newService): a Fulu card, a Fulu direct top-up, and a card with two
// sources, Fulu first and own stock as fallback.
const chaosCatalogue = `
[[products]]
sku = "fl-card"
name = "福禄卡密"
max_quantity = 3
batch_size = 2
  [[products.sources]]
  supplier = "fulu"
  item = "10000587"

[[products]]
sku = "fl-topup"
name = "福禄直充"
kind = "direct"
max_quantity = 3
batch_size = 5
  [[products.sources]]
  supplier = "fulu"
  item = "10000585"

[[products]]
sku = "mix-card"
name = "双来源卡密"
max_quantity = 3
batch_size = 2
  [[products.sources]]
  supplier = "fulu"
  item = "10000590"
  [[products.sources]]
  supplier = "own"
`

// chaosRates are the gateway's random faults while the load runs: timeouts
// (slow answers past the supplier's 1 s timeout), unknown outcomes (lost
// answers, 502s, 4009 and 5000 with and without the order created, 4008, bad
// signs, garbled bodies), early and repeated callbacks, duplicate cards.
var chaosRates = fulufake.Rates{
	LostAnswer: 0.03, BadGateway: 0.01,
	Code4009Created: 0.02, Code4009NotCreated: 0.02, Code5000Created: 0.02, Code5000NotCreated: 0.02, Code4008: 0.01,
	EarlyCallback: 0.02, DuplicateCallback: 0.03, BadSign: 0.01, Garbled: 0.01,
	Slow: 0.02, SlowDelay: 1500 * time.Millisecond, DuplicateCard: 0.04,
}

// chaosOrder is one order the storefront sends, and what it learned.
type chaosOrder struct {
	req     storefront.NewOrder
	fen     int64 // the amount submitted, in fen
	invalid bool  // a top-up to an account the gateway refuses

	id       string           // cardflow's id, from the first answer
	answer   storefront.Order // the first answer
	answered time.Time
}

// newChaosOrder makes order n: a quarter own stock, 30 % Fulu cards, a
// quarter two-source cards, a fifth top-ups of which one in four goes to
// an account the gateway refuses (blacklisted: 4004; unknown: accepted,
// then failed). Amounts are written the ways storefronts write them.
func newChaosOrder(n int64) *chaosOrder {
	o := &chaosOrder{req: storefront.NewOrder{ExternalID: fmt.Sprintf("CH-%06d", n), Quantity: 1 + int(n/7%chaosMaxQuantity),
		Buyer: storefront.Buyer{ID: fmt.Sprintf("b%d", n%97), Contact: fmt.Sprintf("b%d@example.com", n%97), IP: "203.0.113.9"}}}
	switch k := n % 20; {
	case k < 5:
		o.req.SKU = "qb-10"
	case k < 11:
		o.req.SKU = "fl-card"
	case k < 16:
		o.req.SKU = "mix-card"
	default:
		o.req.SKU, o.req.Account = "fl-topup", []string{"888888", "999999"}[n%2]
		switch n % 40 {
		case 16:
			o.req.Account, o.invalid = fmt.Sprintf("bad-%d", n), true
		case 37:
			o.req.Account, o.invalid = fmt.Sprintf("7%05d", n%100000), true
		}
	}
	o.fen = 1 + n*7919%50000
	switch n % 3 {
	case 0: // "123"
		o.fen = max(o.fen/100, 1) * 100
		o.req.Amount = fmt.Sprint(o.fen / 100)
	case 1: // "123.4"
		o.fen = max(o.fen/10, 1) * 10
		o.req.Amount = fmt.Sprintf("%d.%d", o.fen/100, o.fen/10%10)
	default: // "123.45"
		o.req.Amount = fmt.Sprintf("%d.%02d", o.fen/100, o.fen%100)
	}
	return o
}

// chaosLoad is the load's duration: CARDFLOW_CHAOS, or the small version.
func chaosLoad(t *testing.T) time.Duration {
	v := os.Getenv("CARDFLOW_CHAOS")
	if v == "" {
		return chaosSmall
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		t.Fatalf("CARDFLOW_CHAOS=%q: want a duration such as 10m", v)
	}
	return d
}

// TestChaos runs load against the real binary while it is killed with
// SIGKILL again and again, the fake Fulu gateway injects timeouts, unknown
// outcomes and duplicate cards, and the storefront's callback receiver fails
// 30 % of its requests. Once the faults stop and everything has settled
// (failed orders refunded, as an operator would), it checks the invariants
// of docs/lifecycle.md from the storefront's records (answers, callbacks,
// GETs) and the gateway's own orders: see chaosRun.check.
func TestChaos(t *testing.T) {
	if testing.Short() {
		t.Skip("drives the real binary")
	}
	load := chaosLoad(t)
	orders := int64(load.Seconds() * chaosRate)
	s, gw := newFuluService(t, `auto_refund = ["invalid_account"]`, chaosCatalogue, fulufake.Options{
		SuccessAfter: 100 * time.Millisecond,
		Products: []fulufake.Product{
			{ID: fulufake.ProductCard, Name: "卡密测试商品", Kind: suppliers.KindCard, Price: chaosPrice, Stock: fulufake.Unlimited},
			{ID: fulufake.ProductDirect, Name: "直充测试商品", Kind: suppliers.KindDirect, Price: chaosPrice, Stock: fulufake.Unlimited},
			// A quarter of orders are two-source, for two units on average:
			// this sells out about halfway through the load.
			{ID: chaosLimited, Name: "限量卡密", Kind: suppliers.KindCard, Price: chaosPrice, Stock: int(orders / 4)},
		},
	})
	gw.SetBalance(chaosBalance(orders))
	s.receiver.SetDirect("fl-topup")
	s.receiver.SetFailRate(0.3)
	p := s.start(t)
	// Own stock for every unit that could want it, so that no order waits
	// for stock: that wait is tested elsewhere and would only stall this.
	imported := map[string]int{"qb-10": int(orders), "mix-card": int(orders)}
	for sku, n := range imported {
		var lines strings.Builder
		for i := range n {
			fmt.Fprintf(&lines, "OWN-%s-%06d,pw-%06d\n", strings.ToUpper(sku), i, i)
		}
		res, err := s.adminClient().ImportStock(context.Background(), sku, strings.NewReader(lines.String()))
		if err != nil || res.Added != n {
			t.Fatalf("import %s: %+v %v", sku, res, err)
		}
	}
	// One of each fault first, so that even a short run meets them all;
	// then random faults.
	for k := fulufake.FaultLostAnswer; k <= fulufake.FaultDuplicateCard; k++ {
		gw.Inject("", fulufake.Fault{Kind: k, Delay: chaosRates.SlowDelay})
	}
	gw.SetRates(chaosRates)

	start := time.Now()
	ch := &chaosRun{s: s, gw: gw, imported: imported, balance: chaosBalance(orders), orders: map[string]*chaosOrder{},
		byHand: map[string]bool{}}
	loadDone := ch.sendLoad(t, orders)
	p = ch.killUntil(t, p, loadDone)
	if t.Failed() {
		t.FailNow()
	}
	if ch.kills < 3 || ch.midFlight == 0 {
		t.Fatalf("%d kills, %d with gateway requests in flight: the run proved little", ch.kills, ch.midFlight)
	}
	loaded := time.Now()

	// Faults off, so that what is left settles in bounded time: callbacks
	// failed under load wait out their backoff, unknown purchases are
	// queried, failed orders are refunded as an operator would.
	gw.SetRates(fulufake.Rates{})
	s.receiver.SetFailRate(0)
	// Once the faults stop, what is left waits at most about as long as the
	// load ran (a callback's backoff doubles from the event's creation).
	// At least the engine's longest wait between two queries of one
	// purchase (5 minutes), as in TestSupplierPurchasesSurviveKillsAndLostAnswers.
	ch.settle(t, p, max(5*time.Minute+30*time.Second, load+time.Minute))
	settled := time.Now()

	tl := ch.check(t)
	ch.summary(t, tl, load, loaded.Sub(start), settled.Sub(loaded))
	p.interrupt(t)
}

// chaosRun is the storefront's side of one chaos run.
type chaosRun struct {
	s        *service
	gw       *fuluGateway
	imported map[string]int // own stock imported, by SKU
	balance  money.Amount   // the gateway's balance at the start

	mu        sync.Mutex
	orders    map[string]*chaosOrder // external id →
	byTime    []*chaosOrder          // in the order answered
	resent    atomic.Int64           // accepted orders sent again, same body
	conflicts atomic.Int64           // accepted orders sent again, other body
	kills     int
	midFlight int             // kills while the gateway was answering the service
	byHand    map[string]bool // failed orders the test refunded, as an operator
}

// sendLoad starts the storefront: senders submit orders at chaosRate until
// all are answered, and a re-sender sends accepted orders again now and
// then. The channel closes when the load is done.
func (ch *chaosRun) sendLoad(t *testing.T, orders int64) <-chan struct{} {
	var (
		next atomic.Int64
		wg   sync.WaitGroup
		done = make(chan struct{})
	)
	client := ch.s.client()
	tick := time.NewTicker(time.Second / chaosRate)
	for range chaosSenders {
		wg.Go(func() {
			for {
				n := next.Add(1)
				if n > orders {
					return
				}
				<-tick.C
				o := newChaosOrder(n)
				got, status, err := submit(context.Background(), client, o.req)
				if err != nil || status != 201 && status != 200 {
					t.Errorf("order %s not accepted: %d %v", o.req.ExternalID, status, err)
					return
				}
				o.id, o.answer = got.ID, got
				ch.mu.Lock()
				o.answered = time.Now() // under the lock: byTime stays sorted
				ch.orders[o.req.ExternalID] = o
				ch.byTime = append(ch.byTime, o)
				ch.mu.Unlock()
			}
		})
	}
	stop := make(chan struct{})
	var resender sync.WaitGroup
	resender.Go(func() { ch.resend(t, client, stop) })
	go func() {
		wg.Wait()
		tick.Stop()
		close(stop)
		resender.Wait()
		close(done)
	}()
	return done
}

// resend sends orders answered a while ago again, as a storefront does
// that lost an answer: the same body must give the same order back (200),
// another body under the same external id must be refused (409). Each
// order is sent again at most once, more than a second after its answer:
// a request signed in the same second with the same body is a replay.
func (ch *chaosRun) resend(t *testing.T, client *storefront.Client, stop <-chan struct{}) {
	ctx := context.Background()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	used := map[string]bool{}
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		ch.mu.Lock()
		// byTime is in answer order: those answered long enough ago are a prefix.
		cut, _ := slices.BinarySearchFunc(ch.byTime, time.Now().Add(-1500*time.Millisecond),
			func(o *chaosOrder, at time.Time) int { return o.answered.Compare(at) })
		var o *chaosOrder
		if cut > 0 {
			o = ch.byTime[rand.IntN(cut)]
		}
		ch.mu.Unlock()
		if o == nil || used[o.req.ExternalID] {
			continue
		}
		used[o.req.ExternalID] = true
		if i%4 == 3 {
			other := o.req
			other.Buyer.Contact = "someone-else@example.com"
			_, status, err := submit(ctx, client, other)
			var apiErr *storefront.APIError
			if !errors.As(err, &apiErr) || apiErr.Status != 409 {
				t.Errorf("order %s sent again with another body: %d %v, want 409", o.req.ExternalID, status, err)
			}
			ch.conflicts.Add(1)
			continue
		}
		got, status, err := submit(ctx, client, o.req)
		if err != nil || status != 200 || got.ID != o.id {
			t.Errorf("order %s sent again: %d %v, order %s, want 200 and order %s", o.req.ExternalID, status, err, got.ID, o.id)
		}
		ch.resent.Add(1)
	}
}

// killUntil SIGKILLs the service at random moments until done closes,
// restarting it each time, and returns the process that runs then.
func (ch *chaosRun) killUntil(t *testing.T, p *proc, done <-chan struct{}) *proc {
	for {
		select {
		case <-done:
			return p
		case <-time.After(time.Duration(300+rand.IntN(900)) * time.Millisecond):
		}
		if ch.gw.inFlight.Load() > 0 {
			ch.midFlight++ // a purchase or query is half done on the gateway
		}
		p.kill()
		ch.kills++
		p = ch.s.start(t)
	}
}
