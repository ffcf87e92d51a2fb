package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"cardflow/api/acgfaka"
	"cardflow/api/acgfaka/acgshop"
	"cardflow/api/dujiao"
	"cardflow/api/dujiao/djshop"
	"cardflow/internal/testkit"
)

// placed is what a shop made of one order it sent: accepted (ok:true,
// code 200) or refused, the keys when the answer carried them (acg-faka),
// the order_id to poll (Dujiao-Next), and how many times it was sent
// again.
type placed struct {
	accepted bool
	keys     string
	orderID  uint
	retries  int
}

// dockingBuyer is one protocol's shop as the kill -9 test drives it.
type dockingBuyer struct {
	protocol, storefront string
	// send sends an order of qty keys once; an error is its refusal, or
	// no answer.
	send func(ctx context.Context, d *dockingShops, no string, qty int) (placed, error)
	// judge says what the shop makes of an error: send it again (no
	// answer, or one the shop retries), or a refusal for want of balance,
	// which the load expects once its top-up is spent.
	judge func(err error) (again, balance bool)
	// delivered is the keys the shop holds for an order, once it has them.
	delivered func(d *dockingShops, no string, p placed) (string, bool)
	// poll, where the protocol has one, asks for an accepted order and
	// fails unless it is delivered (the shop flags keys other than the
	// callback's).
	poll     func(ctx context.Context, d *dockingShops, p placed) error
	problems func(d *dockingShops) []string
}

// place sends an order until the service answers it for good, as the
// shop does: again after no answer or an answer the shop retries, with a
// short pause while the service restarts; for 30 s at most.
func (b dockingBuyer) place(ctx context.Context, d *dockingShops, no string, qty int) (placed, error) {
	deadline := time.Now().Add(30 * time.Second)
	for retries := 0; ; retries++ {
		p, err := b.send(ctx, d, no, qty)
		p.retries = retries
		if err == nil {
			p.accepted = true
			return p, nil
		}
		again, balance := b.judge(err)
		switch {
		case balance:
			return placed{retries: retries}, nil
		case !again || time.Now().After(deadline):
			return p, err
		}
		<-time.After(5 * time.Millisecond)
	}
}

// procurementKeys is a Dujiao-Next shop's keys for an order, either kind.
func procurementKeys(p djshop.Procurement, _ bool) (string, bool) { return p.Payload, p.Deliveries > 0 }

var dockingBuyers = []dockingBuyer{{
	// Dujiao-Next sends the same downstream_order_no again for anything
	// but 200 with ok:false and a final code; keys come by callback and
	// poll.
	protocol: "dujiao-next", storefront: djShopID,
	send: func(ctx context.Context, d *dockingShops, no string, qty int) (placed, error) {
		a, err := d.dj.Buy(ctx, djshop.Purchase{SKUID: dockedID, Quantity: qty, DownstreamOrderNo: no, TraceID: "kill"})
		return placed{orderID: a.OrderID}, err
	},
	judge: func(err error) (again, balance bool) {
		var e *djshop.APIError
		return !errors.As(err, &e) || !e.Final(), errors.As(err, &e) && e.Code == dujiao.CodeInsufficientBalance
	},
	delivered: func(d *dockingShops, no string, _ placed) (string, bool) {
		return procurementKeys(d.dj.Procurement(no))
	},
	poll: func(ctx context.Context, d *dockingShops, p placed) error {
		o, err := d.dj.Order(ctx, p.orderID)
		if err == nil && (o.Status != dujiao.StatusDelivered || o.Fulfillment == nil) {
			err = fmt.Errorf("polled %+v", o)
		}
		return err
	},
	problems: func(d *dockingShops) []string { return d.dj.Problems() },
}, {
	// The webhook shop sends the same order_no as Idempotency-Key again
	// after no answer, 408, 429 or 5xx; keys come by callback only.
	protocol: "dujiao-webhook", storefront: hookShopID,
	send: func(ctx context.Context, d *dockingShops, no string, qty int) (placed, error) {
		_, err := d.hook.Push(ctx, djshop.WebhookPurchase{OrderNo: no, TraceID: "kill", ProductID: 55, SKUID: 56,
			SKUCode: dockedSKU, Quantity: qty, Amount: yuan(55 * qty)})
		return placed{}, err
	},
	judge: func(err error) (again, balance bool) {
		var e *djshop.WebhookError
		return !errors.As(err, &e) || e.Retry, errors.As(err, &e) && e.Code == dujiao.CodeInsufficientBalance
	},
	delivered: func(d *dockingShops, no string, _ placed) (string, bool) {
		return procurementKeys(d.hook.Procurement(no))
	},
	problems: func(d *dockingShops) []string { return d.hook.Problems() },
}, {
	// An acg-faka trade killed mid-flight gets no answer; the shop comes
	// again with the same request_no, as a payment retried does, until it
	// gets the keys or a refusal. Keys come only in a trade's answer.
	protocol: "acg-faka", storefront: acgShopID,
	send: func(ctx context.Context, d *dockingShops, no string, qty int) (placed, error) {
		tr, err := d.acg.Trade(ctx, acgshop.Order{Code: strconv.Itoa(dockedID), Contact: "kill-test", Num: qty, RequestNo: no})
		return placed{keys: tr.Secret}, err
	},
	judge: func(err error) (again, balance bool) {
		var e *acgshop.Error
		if !errors.As(err, &e) {
			return false, false
		}
		return e.Err != nil || e.Msg == acgfaka.ErrPending.Msg, e.Msg == acgfaka.ErrBalance.Msg
	},
	delivered: func(_ *dockingShops, _ string, p placed) (string, bool) { return p.keys, p.accepted },
	problems:  func(*dockingShops) []string { return nil },
}}

// TestAKilledServiceLosesNoDockingOrderItAnsweredAndChargesNoneTwice: for
// each docking protocol, concurrent shop senders place a few hundred
// orders of 1 to 3 keys, each tried again as that shop does, while the
// real binary is SIGKILLed and restarted at random points of the load.
// The balance runs out part way. Then, from the shop's side: every order
// answered ok is delivered, once, with its keys; no key is in two orders
// and no refused order has any; the balance is the top-up less the price
// of the keys accepted, and the stock the import less the keys delivered.
func TestAKilledServiceLosesNoDockingOrderItAnsweredAndChargesNoneTwice(t *testing.T) {
	if testing.Short() {
		t.Skip("drives the real binary")
	}
	for _, shop := range dockingBuyers {
		t.Run(shop.protocol, func(t *testing.T) { killMidLoad(t, shop) })
	}
}

func killMidLoad(t *testing.T, shop dockingBuyer) {
	const (
		orders, senders, kills = 300, 8, 4
		imported               = 700 // keys: more than the 600 the orders ask for
		covered                = 510 // keys the top-up pays for
	)
	s, d := newDockingService(t, `sync_window = "2s"`, "")
	p := d.start(t, s)
	importKeys(t, s, "KILL", imported)
	topUp(t, s, shop.storefront, fmt.Sprintf(`{"amount":%q,"reason":"kill test"}`, yuan(covered*dockedPrice)), yuan(covered*dockedPrice))

	var (
		mu       sync.Mutex
		results  = map[string]placed{} // order number → what the shop made of it
		quantity = map[string]int{}
	)
	ctx := context.Background()
	load := startLoad(t, orders, senders, func(n int) error {
		no, qty := fmt.Sprintf("2026112516%08d", n), 1+n%3
		got, err := shop.place(ctx, d, no, qty)
		mu.Lock()
		results[no], quantity[no] = got, qty
		mu.Unlock()
		return err
	})

	// Killer: SIGKILL at a random point of each fifth of the load, then
	// restart.
	midFlight := 0
	for i := range kills {
		stretch := orders / (kills + 1)
		at := stretch*(i+1) - stretch/4 + rand.IntN(stretch/2)
		testkit.Poll(60*time.Second, time.Millisecond, func() bool { return load.begun() >= at || t.Failed() })
		<-time.After(time.Duration(rand.IntN(20)) * time.Millisecond)
		if load.sending() {
			midFlight++
		}
		p.kill()
		p = d.start(t, s)
	}
	load.wait()
	if t.Failed() {
		t.FailNow()
	}
	if midFlight < 3 {
		t.Fatalf("only %d of %d kills hit while orders were being sent; the test proved little", midFlight, kills)
	}

	testkit.EventuallyWithin(t, 60*time.Second, "every accepted order delivered to its shop", func() bool {
		for no, r := range results {
			if _, ok := shop.delivered(d, no, r); r.accepted && !ok {
				return false
			}
		}
		return true
	})
	owner := map[string]string{} // key → the order it went to
	units, refused, retries := 0, 0, 0
	for no, r := range results {
		retries += r.retries
		keys, delivered := shop.delivered(d, no, r)
		if !r.accepted {
			refused++
			if delivered {
				t.Errorf("order %s was refused and has keys", no)
			}
			continue
		}
		if shop.poll != nil {
			if err := shop.poll(ctx, d, r); err != nil {
				t.Errorf("order %s: %v", no, err)
			}
		}
		units += quantity[no]
		lines := strings.Split(keys, "\n")
		if len(lines) != quantity[no] {
			t.Errorf("order %s of %d keys delivered %q", no, quantity[no], keys)
		}
		for _, k := range lines {
			if other, ok := owner[k]; ok {
				t.Errorf("key %s in orders %s and %s", k, other, no)
			}
			owner[k] = no
		}
	}
	if got := shop.problems(d); len(got) > 0 {
		t.Errorf("the shop saw %v", got)
	}
	if refused == 0 || units == 0 || retries == 0 {
		t.Fatalf("%d orders refused, %d keys accepted, %d tries sent again: the balance was to run out part way, and kills to cut tries",
			refused, units, retries)
	}
	if got, want := balanceOf(t, s, shop.storefront), yuan((covered-units)*dockedPrice); got != want {
		t.Errorf("balance %s after %d keys accepted, want %s", got, units, want)
	}
	if n := dockedStock(t, s); n != imported-len(owner) {
		t.Errorf("stock %d after %d keys delivered from %d", n, len(owner), imported)
	}
	t.Logf("%d orders over %d kills (%d mid-flight): %d keys delivered, %d orders refused, %d tries sent again",
		orders, kills, midFlight, len(owner), refused, retries)
	p.interrupt(t)
}
