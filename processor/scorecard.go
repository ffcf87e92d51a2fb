package processor

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"cardflow/config"
	"cardflow/report"
	"cardflow/storage"
	"cardflow/suppliers"
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

	// AlertVerifying is the alert type of second verification switched on.
	AlertVerifying = "supplier_verifying"
	// ReasonVerifyMismatch is a purchase whose cards the supplier did not
	// confirm on the second look.
	ReasonVerifyMismatch = "verify_mismatch"
	// ReasonVerifyHold is the review reason of an order held because its
	// cards came from a supplier under second verification.
	ReasonVerifyHold = "verify_hold"
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
func (e *Engine) Scorecards() []Scorecard {
	e.scores.mu.RLock()
	defer e.scores.mu.RUnlock()
	out := make([]Scorecard, 0, len(e.scores.cards))
	for _, name := range e.supplierNames {
		if sc, ok := e.scores.cards[name]; ok {
			out = append(out, sc)
		}
	}
	return out
}

func (e *Engine) verifying(supplier string) bool {
	e.scores.mu.RLock()
	defer e.scores.mu.RUnlock()
	return e.scores.verifying[supplier]
}

func (e *Engine) scoreLoop(ctx context.Context) {
	var pruned time.Time
	every(ctx, scoreEvery, func() {
		if err := e.RefreshScores(); err != nil {
			e.log.Error().Err(err).Msg("refresh supplier scorecards")
		}
		if time.Since(pruned) > time.Hour {
			pruned = time.Now()
			if err := report.Prune(e.store, e.now()); err != nil {
				e.log.Error().Err(err).Msg("prune old counters")
			}
		}
	})
}

// loadVerifying restores which suppliers are under second verification: an
// open alert says so, across restarts.
func (e *Engine) loadVerifying() error {
	return e.store.View(func(tx *storage.Tx) error {
		e.scores.mu.Lock()
		defer e.scores.mu.Unlock()
		e.scores.verifying = map[string]bool{}
		for _, name := range e.supplierNames {
			if tx.AlertOpen(verifyAlertKey(name)) {
				e.scores.verifying[name] = true
			}
		}
		return nil
	})
}

func verifyAlertKey(supplier string) string { return AlertVerifying + ":" + supplier }

// RefreshScores recomputes the scorecards and switches second verification
// on or off where the bad-card rate calls for it.
func (e *Engine) RefreshScores() error {
	now := e.now()
	f, err := report.Read(e.store, now.Add(-scoreWindow), now.Add(time.Nanosecond), time.UTC)
	if err != nil {
		return err
	}
	cards := map[string]Scorecard{}
	var switches []Scorecard
	e.scores.mu.RLock()
	for _, name := range e.supplierNames {
		if e.supplierTypes[name] == config.SupplierStock {
			continue
		}
		sf := f.Suppliers[name]
		if sf == nil {
			sf = &report.SupplierFigures{}
		}
		sc := Scorecard{Supplier: name, SupplierFigures: *sf, P95: sf.Latency.Quantile(0.95)}
		sc.Score = score(sf, sc.P95)
		sc.Verifying = e.scores.verifying[name]
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
	e.scores.mu.RUnlock()
	for _, sc := range switches {
		if err := e.switchVerification(sc); err != nil {
			return err
		}
	}
	e.scores.mu.Lock()
	e.scores.cards = cards
	if e.scores.verifying == nil {
		e.scores.verifying = map[string]bool{}
	}
	for _, sc := range switches {
		e.scores.verifying[sc.Supplier] = sc.Verifying
	}
	e.scores.mu.Unlock()
	return nil
}

// switchVerification records second verification going on or off: an
// alert (resolved when it goes off) and an audit entry, in one write.
func (e *Engine) switchVerification(sc Scorecard) error {
	detail := fmt.Sprintf("bad cards %d of %d (%.1f%%) in the last hour", sc.BadCards, sc.Succeeded, 100*sc.BadCardRate())
	action := "verify.off"
	if sc.Verifying {
		action = "verify.on"
	}
	err := e.commit(func(tx *storage.Tx, c *effects) error {
		if err := c.alert(tx, storage.Alert{Key: verifyAlertKey(sc.Supplier), Type: AlertVerifying,
			Target: sc.Supplier, Resolved: !sc.Verifying, Detail: detail}); err != nil {
			return err
		}
		return tx.Audit(storage.AuditEntry{At: c.now, Actor: storage.System, Action: action, Target: sc.Supplier,
			Outcome: "ok", Detail: detail})
	})
	if err != nil {
		return fmt.Errorf("switch second verification of %s: %w", sc.Supplier, err)
	}
	e.log.Warn().Str("supplier", sc.Supplier).Bool("verifying", sc.Verifying).Str("detail", detail).
		Msg("second verification switched")
	return nil
}

// adaptiveOrder reorders (in place) a product's sources for adaptive
// routing (see rankSources). Paused suppliers and those over max_cost are
// still skipped by the caller.
func (e *Engine) adaptiveOrder(sources []config.Source) []config.Source {
	if !e.adaptive {
		return sources
	}
	e.scores.mu.RLock()
	defer e.scores.mu.RUnlock()
	return rankSources(sources, func(supplier string) (float64, bool) {
		sc, ok := e.scores.cards[supplier]
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

// verifyDelay is how long after a purchase from a supplier under second
// verification its second query goes out.
const verifyDelay = 2 * time.Second

// applyVerification judges the second answer about a purchase held for
// verification: the same cards again confirm it; different cards, or a
// supplier that now says it failed or never had the order, make it bad
// (bought again elsewhere first, like a duplicate card); no answer yet
// asks again.
func (e *Engine) applyVerification(a *storage.Attempt, res suppliers.Result, sealed []storage.SealedCard, now time.Time, pl *plan) {
	switch res.Status {
	case suppliers.StatusSucceeded:
		if sameCards(a.Cards, sealed) {
			a.State, a.Reason, a.EndedAt, a.NextAt = storage.AttemptSucceeded, reasonVerified, now, time.Time{}
			return
		}
	case suppliers.StatusFailed, suppliers.StatusNotFound:
	default:
		e.askLater(a, now, pl)
		return
	}
	a.State, a.Reason, a.EndedAt, a.NextAt = storage.AttemptBad, ReasonVerifyMismatch, now, time.Time{}
}

// reasonVerified marks a purchase that passed second verification;
// reasonVerifiedHeld one whose order an operator has since approved.
const (
	reasonVerified     = "verified"
	reasonVerifiedHeld = "verified_held"
)

// sameCards reports whether two card sets hold the same keys, by
// fingerprint, in any order.
func sameCards(a, b []storage.SealedCard) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[storage.Fingerprint]int{}
	for _, c := range a {
		seen[c.FP]++
	}
	for _, c := range b {
		if seen[c.FP] == 0 {
			return false
		}
		seen[c.FP]--
	}
	return true
}

// holdVerified puts an order whose cards passed second verification in
// review when the shop asked for that ([processing] verify_hold): a person
// looks before the cards go out. An approved order is not held again.
func (e *Engine) holdVerified(tx *storage.Tx, c *effects, o *storage.Order) (bool, error) {
	if !e.verifyHold {
		return false, nil
	}
	var from []string
	for i := range o.Attempts {
		if a := &o.Attempts[i]; !a.Archived && a.State == storage.AttemptSucceeded && a.Reason == reasonVerified {
			a.Reason = reasonVerifiedHeld
			from = append(from, a.Supplier)
		}
	}
	if len(from) == 0 {
		return false, nil
	}
	slices.Sort(from)
	reason := ReasonVerifyHold + ":" + strings.Join(slices.Compact(from), ",")
	c.move(o, storage.StatusReview, reason, storage.System)
	return true, c.alert(tx, storage.Alert{Key: fmt.Sprintf("%s:%d", AlertReview, o.ID), Type: AlertReview,
		OrderID: o.ID, SKU: o.SKU, Detail: reason})
}
