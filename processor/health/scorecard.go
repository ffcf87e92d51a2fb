package health

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"cardflow/alert"
	"cardflow/config"
	"cardflow/internal/periodic"
	"cardflow/report"
	"cardflow/storage"
)

// Supplier scorecards: each remote supplier's last hour, read from the slot
// counters every scoreEvery. They feed /suppliers, adaptive routing and
// second verification.
const (
	scoreWindow = time.Hour
	scoreEvery  = 30 * time.Second
	// scoreSample is how many ended purchases a scorecard needs before
	// adaptive routing believes it; below it a supplier keeps its place.
	scoreSample = 10

	// Second verification goes on when the last hour holds at least
	// verifyOnBad refused purchases and they are at least verifyOnRate of
	// the delivered ones, and off once verifyOffSample purchases delivered
	// with fewer than verifyOffRate refused.
	verifyOnBad     = 3
	verifyOnRate    = 0.02
	verifyOffRate   = 0.005
	verifyOffSample = 10
)

// Scorecard is a remote supplier's recent record.
type Scorecard struct {
	Supplier string
	report.SupplierFigures
	P95       time.Duration
	Score     float64 // 0..1; adaptive routing prefers higher
	Verifying bool    // its cards are checked twice before delivery
}

type scorecards struct {
	mu        sync.RWMutex
	cards     map[string]Scorecard
	verifying map[string]bool
}

// score rates a supplier from 0 to 1: the share of purchases that end
// well (delivered, with cards that pass, without an unknown outcome first),
// less a little for slowness. With too few purchases it is 1 in /suppliers
// (nothing against the supplier yet); adaptive routing does not go by it
// then, and the supplier keeps its configured place (rankSources).
func score(f *report.SupplierFigures, p95 time.Duration) float64 {
	if f.Answered() < scoreSample {
		return 1
	}
	s := f.SuccessRate() * (1 - f.BadCardRate()) * (1 - f.UnknownRate()/2)
	if p95 > 30*time.Second {
		s -= 0.1
	}
	return math.Max(s, 0)
}

// Scorecards returns every remote supplier's scorecard, in config order.
func (h *Health) Scorecards() []Scorecard {
	h.scores.mu.RLock()
	defer h.scores.mu.RUnlock()
	out := make([]Scorecard, 0, len(h.scores.cards))
	for _, name := range h.names {
		if sc, ok := h.scores.cards[name]; ok {
			out = append(out, sc)
		}
	}
	return out
}

// Verifying reports whether a supplier is under second verification: its
// cards are checked twice before delivery.
func (h *Health) Verifying(supplier string) bool {
	h.scores.mu.RLock()
	defer h.scores.mu.RUnlock()
	return h.scores.verifying[supplier]
}

// scoreLoop refreshes the scorecards every scoreEvery, and prunes the
// counters they are read from once an hour.
func (h *Health) scoreLoop(ctx context.Context) {
	var pruned time.Time
	periodic.Every(ctx, scoreEvery, func() {
		if err := h.Refresh(); err != nil {
			h.log.Error().Err(err).Msg("refresh supplier scorecards")
		}
		if time.Since(pruned) > time.Hour {
			pruned = time.Now()
			if err := report.Prune(h.store, h.now()); err != nil {
				h.log.Error().Err(err).Msg("prune old counters")
			}
		}
	})
}

// Load restores which suppliers are under second verification: an open
// alert says so, across restarts.
func (h *Health) Load() error {
	return h.store.View(func(tx *storage.Tx) error {
		h.scores.mu.Lock()
		defer h.scores.mu.Unlock()
		h.scores.verifying = map[string]bool{}
		for _, name := range h.names {
			if tx.Alerts().Open(verifyAlertKey(name)) {
				h.scores.verifying[name] = true
			}
		}
		return nil
	})
}

func verifyAlertKey(supplier string) string { return string(alert.SupplierVerifying) + ":" + supplier }

// Refresh recomputes the scorecards and switches second verification on or
// off where the bad-card rate calls for it.
func (h *Health) Refresh() error {
	now := h.now()
	f, err := report.Read(h.store, now.Add(-scoreWindow), now.Add(time.Nanosecond), time.UTC)
	if err != nil {
		return err
	}
	cards := map[string]Scorecard{}
	var switches []Scorecard
	h.scores.mu.RLock()
	for _, name := range h.names {
		if h.types[name] == config.SupplierStock {
			continue
		}
		sf := f.Suppliers[name]
		if sf == nil {
			sf = &report.SupplierFigures{}
		}
		sc := Scorecard{Supplier: name, SupplierFigures: *sf, P95: sf.Latency.Quantile(0.95)}
		sc.Score = score(sf, sc.P95)
		sc.Verifying = h.scores.verifying[name]
		switch {
		case !sc.Verifying && sf.BadCards >= verifyOnBad && sf.BadCardRate() >= verifyOnRate:
			sc.Verifying = true
			switches = append(switches, sc)
		case sc.Verifying && sf.Succeeded >= verifyOffSample && sf.BadCardRate() < verifyOffRate:
			sc.Verifying = false
			switches = append(switches, sc)
		}
		cards[name] = sc
	}
	h.scores.mu.RUnlock()
	for _, sc := range switches {
		if err := h.switchVerification(sc); err != nil {
			return err
		}
	}
	h.scores.mu.Lock()
	h.scores.cards = cards
	if h.scores.verifying == nil {
		h.scores.verifying = map[string]bool{}
	}
	for _, sc := range switches {
		h.scores.verifying[sc.Supplier] = sc.Verifying
	}
	h.scores.mu.Unlock()
	return nil
}

// switchVerification records second verification going on or off: an
// alert (resolved when it goes off) and an audit entry, in one write.
func (h *Health) switchVerification(sc Scorecard) error {
	detail := fmt.Sprintf("bad cards %d of %d (%.1f%%) in the last hour", sc.BadCards, sc.Succeeded, 100*sc.BadCardRate())
	action := "verify.off"
	if sc.Verifying {
		action = "verify.on"
	}
	err := h.write(func(tx *storage.Tx, now time.Time, raise func(storage.Alert) error) error {
		if err := raise(storage.Alert{Key: verifyAlertKey(sc.Supplier), Type: alert.SupplierVerifying,
			Target: sc.Supplier, Resolved: !sc.Verifying, Detail: detail}); err != nil {
			return err
		}
		return tx.Audit(storage.AuditEntry{At: now, Actor: storage.System, Action: action, Target: sc.Supplier,
			Outcome: "ok", Detail: detail})
	})
	if err != nil {
		return fmt.Errorf("switch second verification of %s: %w", sc.Supplier, err)
	}
	h.log.Warn().Str("supplier", sc.Supplier).Bool("verifying", sc.Verifying).Str("detail", detail).
		Msg("second verification switched")
	return nil
}

// Rank reorders (in place) a product's sources for adaptive routing (see
// rankSources); without adaptive routing they keep the configured order.
// Paused suppliers and those over max_cost are still skipped by the caller.
func (h *Health) Rank(sources []config.Source) []config.Source {
	if !h.adaptive {
		return sources
	}
	h.scores.mu.RLock()
	defer h.scores.mu.RUnlock()
	return rankSources(sources, func(supplier string) (float64, bool) {
		sc, ok := h.scores.cards[supplier]
		return sc.Score, ok && sc.Answered() >= scoreSample
	})
}

// scoreMargin is how much better a source's score must be to go ahead of
// one configured before it: smaller differences are noise, and the
// configured priority (usually price) stands.
const scoreMargin = 0.05

// rankSources orders sources for adaptive routing. Sources without a
// score (own stock; a supplier with fewer than scoreSample ended purchases
// in the hour) keep their positions. The scored ones are taken in
// configured order, and each moves ahead past the scored sources before it
// while its score is more than scoreMargin above the one just ahead: so a
// source is never ahead of one configured before it unless it scores more
// than scoreMargin better. Closeness is not transitive, and the order
// respects every close pair: with scores 0.50, 0.54, 0.58 in that order
// nothing moves.
func rankSources(sources []config.Source, score func(supplier string) (s float64, ok bool)) []config.Source {
	var slots []int // positions of the scored sources
	var ranked []config.Source
	var scores []float64
	for i, src := range sources {
		s, ok := score(src.Supplier)
		if !ok {
			continue
		}
		slots = append(slots, i)
		at := len(ranked)
		for at > 0 && s-scores[at-1] > scoreMargin+1e-9 { // 1e-9: 0.55-0.50 is 0.05000000000000004
			at--
		}
		ranked = slices.Insert(ranked, at, src)
		scores = slices.Insert(scores, at, s)
	}
	for k, i := range slots {
		sources[i] = ranked[k]
	}
	return sources
}
