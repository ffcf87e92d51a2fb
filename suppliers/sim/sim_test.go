package sim

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"cardflow/internal/testkit"
	"cardflow/suppliers"
)

// noWait answers at once: the simulator's latency is not under test here.
func noWait(ctx context.Context, d time.Duration) error { return ctx.Err() }

func newSim(o Options) *Sim {
	o.Name = "t"
	o.Wait = noWait
	o.Rand = rand.New(rand.NewPCG(1, 2))
	return New(o)
}

func buy(no string, qty int) suppliers.Order {
	return suppliers.Order{No: no, Item: "X", Kind: suppliers.KindCard, Quantity: qty}
}

func TestSimDeliversUniqueCardsAndDedupesByNumber(t *testing.T) {
	s := newSim(Options{UnitCost: 950})
	ctx := context.Background()
	r := s.Submit(ctx, buy("n1", 3))
	if r.Status != suppliers.StatusSucceeded || len(r.Cards) != 3 || r.Cost != 2850 {
		t.Fatalf("submit = %+v", r)
	}
	again := s.Submit(ctx, buy("n1", 3))
	if again.SupplierOrderID != r.SupplierOrderID || again.Cards[0] != r.Cards[0] {
		t.Fatal("the same number bought a second order")
	}
	seen := map[string]bool{}
	for i := range 50 {
		for _, c := range s.Submit(ctx, buy(string(rune('a'+i%26))+strings.Repeat("x", i), 2)).Cards {
			if seen[c.Number] {
				t.Fatalf("card %s issued twice without a duplicate rate", c.Number)
			}
			seen[c.Number] = true
		}
	}
	if q := s.Query(ctx, "n1"); q.Status != suppliers.StatusSucceeded {
		t.Errorf("query = %+v", q)
	}
	if q := s.Query(ctx, "nope"); q.Status != suppliers.StatusNotFound {
		t.Errorf("query of unknown number = %+v", q)
	}
}

func TestSimFaultsAtTheirRates(t *testing.T) {
	ctx := context.Background()
	t.Run("fail_rate 1 refuses as out of stock", func(t *testing.T) {
		r := newSim(Options{FailRate: 1}).Submit(ctx, buy("f", 1))
		if r.Status != suppliers.StatusFailed || r.Reason != suppliers.ReasonOutOfStock {
			t.Fatalf("%+v", r)
		}
	})
	t.Run("unknown_rate 1 loses the answer of an order that exists", func(t *testing.T) {
		s := newSim(Options{UnknownRate: 1})
		if r := s.Submit(ctx, buy("u", 1)); r.Status != suppliers.StatusUnknown {
			t.Fatalf("submit %+v", r)
		}
		if q := s.Query(ctx, "u"); q.Status != suppliers.StatusSucceeded || len(q.Cards) != 1 {
			t.Fatalf("query %+v", q)
		}
	})
	t.Run("duplicate_rate 1 repeats a card issued before", func(t *testing.T) {
		s := newSim(Options{DuplicateRate: 1})
		first := s.Submit(ctx, buy("d1", 1)).Cards[0].Number // nothing issued yet: a fresh card
		if second := s.Submit(ctx, buy("d2", 1)).Cards[0].Number; second != first {
			t.Fatalf("second card %s, want the repeat of %s", second, first)
		}
	})
	t.Run("unit cost over the max is refused", func(t *testing.T) {
		o := buy("c", 1)
		o.MaxUnitCost = 900
		if r := newSim(Options{UnitCost: 950}).Submit(ctx, o); r.Reason != suppliers.ReasonOverCost {
			t.Fatalf("%+v", r)
		}
	})
	t.Run("direct top-up of a bad account", func(t *testing.T) {
		o := suppliers.Order{No: "a", Kind: suppliers.KindDirect, Quantity: 1, Account: "bad-1"}
		if r := newSim(Options{}).Submit(ctx, o); r.Reason != suppliers.ReasonInvalidAccount {
			t.Fatalf("%+v", r)
		}
		o.Account, o.No = "12345", "b"
		if r := newSim(Options{}).Submit(ctx, o); r.Status != suppliers.StatusSucceeded || len(r.Cards) != 0 {
			t.Fatalf("%+v", r)
		}
	})
}

func TestSimOutageAnswersNothingUntilItEnds(t *testing.T) {
	clock := testkit.NewClock(time.Unix(1_764_000_000, 0))
	s := newSim(Options{OutageRate: 1, OutageDuration: time.Minute, Now: clock.Now})
	s.o.Now = clock.Now
	clock.Advance(time.Minute) // a minute at rate 1: an outage starts
	if r := s.Submit(context.Background(), buy("o", 1)); r.Status != suppliers.StatusUnknown || !s.Down() {
		t.Fatalf("during outage: %+v", r)
	}
	s.o.OutageRate = 0
	clock.Advance(61 * time.Second)
	if r := s.Submit(context.Background(), buy("o2", 1)); r.Status != suppliers.StatusSucceeded || s.Down() {
		t.Fatalf("after outage: %+v", r)
	}
}

func TestSimLatencyHonoursTheContext(t *testing.T) {
	s := New(Options{Name: "slow", Latency: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if r := s.Submit(ctx, buy("s", 1)); r.Status != suppliers.StatusUnknown {
		t.Fatalf("cancelled submit = %+v", r)
	}
}
