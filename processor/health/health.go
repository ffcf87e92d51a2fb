// Package health keeps how each remote supplier is doing, for the order
// engine's routing: a circuit breaker per supplier (marked down after
// unknown outcomes in a row, probed back up), the last prepaid balance it
// reported, and its scorecard over the last hour, which ranks sources
// under adaptive routing and switches second verification on and off. Its
// alerts and audit entries are written through the engine's commit, so
// they reach the operators like every other side effect.
package health

import (
	"cmp"
	"context"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"cardflow/config"
	"cardflow/internal/money"
	"cardflow/storage"
	"cardflow/suppliers"
)

// Write runs fn in one write of the order engine's (processor.Engine's
// commit); now is the write's time, and the alerts fn raises reach the
// operators once it commits.
type Write func(fn func(tx *storage.Tx, now time.Time, raise func(storage.Alert) error) error) error

// Options are supplier health's settings and what it reports to.
type Options struct {
	Suppliers []config.Supplier // in config order
	// Sources are the remote suppliers by name (for their balances).
	Sources map[string]suppliers.Supplier
	// BreakerProbe, if set, overrides every supplier's breaker_probe
	// (tests).
	BreakerProbe time.Duration
	// Adaptive ranks sources by their suppliers' scorecards
	// (config.RoutingAdaptive).
	Adaptive bool
	Now      func() time.Time
	Log      zerolog.Logger
	Write    Write
	// MarkedUp is called when a supplier answers again after it was
	// marked down: orders waiting for it look again.
	MarkedUp func()
	// Publish, if set, tells the other processes sharing the store when a
	// supplier's breaker opens or closes (TopicSupplier); what they say
	// reaches Heard.
	Publish func(topic, payload string)
}

// Health is the state of every remote supplier.
type Health struct {
	store      *storage.Store
	log        zerolog.Logger
	now        func() time.Time
	write      Write
	markedUp   func()
	names      []string          // every configured supplier, in config order
	types      map[string]string // supplier name → type
	sources    map[string]suppliers.Supplier
	timeouts   map[string]time.Duration
	balanceLow map[string]money.Amount
	probes     map[string]time.Duration // each remote supplier's breaker probe
	breakers   *breakers
	balances   balances
	scores     scorecards
	adaptive   bool
}

// New builds the health of the configured suppliers over an open store.
func New(store *storage.Store, opts Options) *Health {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	h := &Health{store: store, log: opts.Log, now: opts.Now, write: opts.Write, markedUp: opts.MarkedUp,
		types: map[string]string{}, sources: opts.Sources, timeouts: map[string]time.Duration{},
		balanceLow: map[string]money.Amount{}, probes: map[string]time.Duration{}, adaptive: opts.Adaptive}
	h.balances.last = map[string]money.Amount{}
	remote := map[string]breakerSettings{}
	for _, s := range opts.Suppliers {
		h.names = append(h.names, s.Name)
		h.types[s.Name] = s.Type
		h.timeouts[s.Name] = cmp.Or(s.Timeout.Std(), 10*time.Second)
		h.balanceLow[s.Name] = s.BalanceLow
		if s.Type != config.SupplierStock {
			st := breakerSettings{failures: s.BreakerFailures, probe: cmp.Or(opts.BreakerProbe, s.BreakerProbe.Std(), breakerProbe)}
			remote[s.Name], h.probes[s.Name] = st, st.probe
		}
	}
	h.breakers = newBreakers(remote, opts.Now, opts.Publish, h.changed)
	return h
}

// Run checks balances (now, then every balanceEvery) and refreshes the
// scorecards every scoreEvery until ctx ends.
func (h *Health) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Go(func() { h.Balances(ctx) })
	wg.Go(func() { h.Scores(ctx) })
	wg.Wait()
}

// Balances checks the suppliers' balances until ctx ends: the work of one
// process among those sharing a store (the leader's).
func (h *Health) Balances(ctx context.Context) { h.balanceLoop(ctx) }

// Scores refreshes the suppliers' scorecards from the store until ctx
// ends: every process routes by them.
func (h *Health) Scores(ctx context.Context) { h.scoreLoop(ctx) }
