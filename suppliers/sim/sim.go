// Package sim is a simulated supplier for the demo and benchmarks: it
// answers after a configurable latency and, at configurable rates, refuses
// orders, loses answers of orders it did create, returns a card it issued
// before, and goes down for a while. Its orders live in memory: after a
// restart it knows none of them, which the engine handles like any supplier
// that lost an order ("not found" past the grace window).
package sim

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"cardflow/card"
	"cardflow/internal/money"
	"cardflow/internal/periodic"
	"cardflow/suppliers"
)

// Options configure a simulator.
type Options struct {
	Name           string
	Latency        time.Duration
	FailRate       float64 // share of orders refused as out of stock
	UnknownRate    float64 // share of answers lost after the order was created
	DuplicateRate  float64 // share of orders returning an already issued card
	OutageRate     float64 // chance per minute that an outage starts
	OutageDuration time.Duration
	UnitCost       money.Amount
	Now            func() time.Time
	Rand           *rand.Rand // for repeatable tests; a random source when nil
	// Wait sleeps for d or until ctx ends; tests replace it to run without
	// real delays.
	Wait func(ctx context.Context, d time.Duration) error
}

// Sim is the simulated supplier.
type Sim struct {
	o Options

	mu          sync.Mutex
	rng         *rand.Rand
	orders      map[string]*order
	issued      []string // recent card numbers, for duplicates
	seq         uint64
	outageUntil time.Time
	lastRoll    time.Time
}

type order struct {
	result suppliers.Result
}

// New returns a simulator.
func New(o Options) *Sim {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Wait == nil {
		o.Wait = periodic.Sleep
	}
	if o.OutageDuration <= 0 {
		o.OutageDuration = time.Minute
	}
	rng := o.Rand
	if rng == nil {
		rng = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	return &Sim{o: o, rng: rng, orders: make(map[string]*order), lastRoll: o.Now()}
}

// latency draws an answer time around the configured mean (±50 %).
func (s *Sim) latency() time.Duration {
	if s.o.Latency <= 0 {
		return 0
	}
	s.mu.Lock()
	f := 0.5 + s.rng.Float64()
	s.mu.Unlock()
	return time.Duration(float64(s.o.Latency) * f)
}

// down reports whether an outage is on, rolling for a new one by the time
// passed since the last roll.
func (s *Sim) down() bool {
	now := s.o.Now()
	if now.Before(s.outageUntil) {
		return true
	}
	if s.o.OutageRate > 0 {
		minutes := now.Sub(s.lastRoll).Minutes()
		s.lastRoll = now
		if p := 1 - math.Pow(1-s.o.OutageRate, minutes); s.rng.Float64() < p {
			s.outageUntil = now.Add(s.o.OutageDuration)
			return true
		}
	}
	return false
}

// Down reports whether the simulator is in an outage now (for the demo's feed).
func (s *Sim) Down() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.o.Now().Before(s.outageUntil)
}

// Submit implements suppliers.Supplier.
func (s *Sim) Submit(ctx context.Context, o suppliers.Order) suppliers.Result {
	if err := s.o.Wait(ctx, s.latency()); err != nil {
		return unknown("timeout: " + err.Error())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down() {
		return unknown("outage: no answer")
	}
	if prev, ok := s.orders[o.No]; ok { // the same number again: the same order, as real suppliers dedupe
		return prev.result
	}
	if s.o.UnitCost > 0 && o.MaxUnitCost > 0 && s.o.UnitCost > o.MaxUnitCost {
		return failed(suppliers.ReasonOverCost, fmt.Sprintf("unit cost %s over %s", s.o.UnitCost, o.MaxUnitCost))
	}
	if o.Kind == suppliers.KindDirect && strings.HasPrefix(o.Account, "bad") {
		return failed(suppliers.ReasonInvalidAccount, "account refused")
	}
	if s.rng.Float64() < s.o.FailRate {
		return failed(suppliers.ReasonOutOfStock, "simulated out of stock")
	}
	s.seq++
	res := suppliers.Result{Status: suppliers.StatusSucceeded, Cost: s.o.UnitCost * money.Amount(o.Quantity),
		SupplierOrderID: fmt.Sprintf("SIM%08d", s.seq), Detail: "ok"}
	if o.Kind != suppliers.KindDirect {
		res.Cards = s.issue(o.Quantity)
	}
	s.orders[o.No] = &order{result: res}
	if s.rng.Float64() < s.o.UnknownRate {
		return unknown("simulated lost answer (the order exists)")
	}
	return res
}

// issue makes n cards, one of them a repeat of an earlier card at the
// duplicate rate.
func (s *Sim) issue(n int) []card.Card {
	cards := make([]card.Card, n)
	for i := range cards {
		if len(s.issued) > 0 && s.rng.Float64() < s.o.DuplicateRate {
			cards[i] = card.Card{Number: s.issued[s.rng.IntN(len(s.issued))], Password: "dup"}
			continue
		}
		num := fmt.Sprintf("SIM-%s-%08d-%04d", strings.ToUpper(s.o.Name), s.seq, s.rng.IntN(10000)+i)
		cards[i] = card.Card{Number: num, Password: fmt.Sprintf("%08d", s.rng.IntN(100_000_000))}
		if len(s.issued) < 1000 {
			s.issued = append(s.issued, num)
		} else {
			s.issued[s.rng.IntN(len(s.issued))] = num
		}
	}
	return cards
}

// Query implements suppliers.Supplier.
func (s *Sim) Query(ctx context.Context, no string) suppliers.Result {
	if err := s.o.Wait(ctx, s.latency()); err != nil {
		return unknown("timeout: " + err.Error())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down() {
		return unknown("outage: no answer")
	}
	if o, ok := s.orders[no]; ok {
		return o.result
	}
	return suppliers.Result{Status: suppliers.StatusNotFound, Detail: "no such order"}
}

// Balance implements suppliers.Balancer with a bottomless account.
func (s *Sim) Balance(context.Context) (money.Amount, error) { return money.Max, nil }

func unknown(detail string) suppliers.Result {
	return suppliers.Result{Status: suppliers.StatusUnknown, Detail: detail}
}

func failed(reason, detail string) suppliers.Result {
	return suppliers.Result{Status: suppliers.StatusFailed, Reason: reason, Detail: detail}
}
