package fulufake_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"cardflow/card"
	"cardflow/suppliers"
	"cardflow/suppliers/fulu"
	"cardflow/suppliers/fulu/fulufake"
)

// TestChaosNeverBuysTwiceAndNeverDuplicatesCards drives the client the way
// the engine does (unknown → query, not found → resubmit the same number)
// against random faults, concurrently, and checks the invariants: one order
// per number, every order resolved, cards unique and equal to what the
// gateway issued.
func TestChaosNeverBuysTwiceAndNeverDuplicatesCards(t *testing.T) {
	e := newEnv(t, fulufake.Options{Seed: 42})
	e.gw.SetRates(fulufake.Rates{
		LostAnswer: 0.05, BadGateway: 0.05, Code4009Created: 0.05, Code4009NotCreated: 0.05,
		Code5000Created: 0.05, Code5000NotCreated: 0.05, Code4008: 0.05, BadSign: 0.05, Garbled: 0.05,
		Slow: 0.03, SlowDelay: 300 * time.Millisecond, EarlyCallback: 0.03, DuplicateCallback: 0.03,
	})
	hc := e.srv.Client()
	hc.Timeout = 100 * time.Millisecond
	c, err := fulu.New(fulu.Options{BaseURL: e.srv.URL, AppKey: fulufake.SandboxAppKey, AppSecret: fulufake.SandboxAppSecret, HTTP: hc, Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	const workers, perWorker = 6, 15
	var mu sync.Mutex
	delivered := map[string][]card.Card{}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWorker {
				o := suppliers.Order{No: fmt.Sprintf("CH-%d-%d", w, i), Item: "10000587", Kind: suppliers.KindCard, Quantity: 2}
				cards, ok := resolve(c, o)
				if !ok {
					t.Errorf("%s: unresolved", o.No)
					continue
				}
				mu.Lock()
				delivered[o.No] = cards
				mu.Unlock()
			}
		}()
	}
	wg.Wait()

	orders := e.gw.Orders()
	if len(orders) != workers*perWorker {
		t.Fatalf("gateway holds %d orders for %d numbers", len(orders), workers*perWorker)
	}
	if e.gw.AddCalls() <= len(orders) {
		t.Errorf("%d add calls for %d orders: the faults did not bite", e.gw.AddCalls(), len(orders))
	}
	seen := map[string]bool{}
	for _, o := range orders {
		if o.State != fulu.StateSuccess || len(o.Cards) != 2 {
			t.Errorf("%s: %s with %d cards", o.No, o.State, len(o.Cards))
		}
		for i, card := range o.Cards {
			if seen[card.Number] {
				t.Errorf("card %v issued twice", card)
			}
			seen[card.Number] = true
			if got := delivered[o.No]; len(got) != 2 || got[i] != card || got[i].Password != card.Password {
				t.Errorf("%s: delivered cards differ from issued", o.No)
			}
		}
	}
	if b := e.gw.Balance(); b != fulufake.DefaultBalance-200*workers*perWorker {
		t.Errorf("balance %v: charged for %d orders", b, (fulufake.DefaultBalance-b)/200)
	}
}

// resolve is the engine's loop in miniature.
func resolve(c *fulu.Client, o suppliers.Order) ([]card.Card, bool) {
	ctx := context.Background()
	res := c.Submit(ctx, o)
	for range 200 {
		switch res.Status {
		case suppliers.StatusSucceeded:
			return res.Cards, true
		case suppliers.StatusFailed:
			return nil, false
		case suppliers.StatusNotFound:
			res = c.Submit(ctx, o) // proved never created: same number again
		default:
			res = c.Query(ctx, o.No)
		}
	}
	return nil, false
}
