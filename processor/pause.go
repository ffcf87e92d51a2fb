package processor

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"cardflow/internal/money"
	"cardflow/processor/health"
	"cardflow/storage"
)

// ErrUnknownTarget: a pause names neither a supplier nor a product.
var ErrUnknownTarget = errors.New("no supplier or product by that name")

// pauseTarget resolves a name an operator typed to "supplier:x" or "sku:x".
func (e *Engine) pauseTarget(name string) (string, error) {
	if _, ok := e.supplierTypes[name]; ok {
		return "supplier:" + name, nil
	}
	if _, ok := e.products[name]; ok {
		return "sku:" + name, nil
	}
	return "", fmt.Errorf("%q: %w", name, ErrUnknownTarget)
}

// Pause stops routing new purchases to a supplier, or stops fulfilling a
// product (its orders wait). It is durable and audited; pausing twice is
// harmless.
func (e *Engine) Pause(actor storage.Actor, name string) error { return e.setPaused(actor, name, true) }

// Resume undoes Pause; waiting orders look again at once.
func (e *Engine) Resume(actor storage.Actor, name string) error {
	if err := e.setPaused(actor, name, false); err != nil {
		return err
	}
	e.member.Publish(topicRequeue, "") // every process's waiting orders
	return nil
}

func (e *Engine) setPaused(actor storage.Actor, name string, paused bool) error {
	target, err := e.pauseTarget(name)
	if err != nil {
		return err
	}
	action := "resume"
	if paused {
		action = "pause"
	}
	return e.commit(func(tx *storage.Tx, c *effects) error {
		outcome := "ok"
		if tx.Paused(target) == paused {
			outcome = "noop"
		} else if err := tx.SetPaused(target, paused, actor.Name); err != nil {
			return err
		}
		return tx.Audit(storage.AuditEntry{At: c.now, Actor: actor, Action: action, Target: target, Outcome: outcome})
	})
}

// SupplierState is one supplier as operators see it.
type SupplierState struct {
	Name     string
	Type     string
	Paused   bool
	Breaker  string // closed, open, half-open; "n/a" for own stock
	BadCards int    // duplicates it sent, and cards of upheld claims (a remote supplier's)
	// ClaimCards counts the cards of upheld claims that came from it (own
	// stock too).
	ClaimCards int
	Balance    *money.Amount // last reported prepaid balance, if the supplier reports one
}

// Suppliers lists the configured suppliers with their state, in config order.
func (e *Engine) Suppliers() ([]SupplierState, error) {
	var out []SupplierState
	err := e.store.View(func(tx *storage.Tx) error {
		bad, claimed := tx.BadCards(), tx.ClaimCards()
		for _, name := range e.supplierNames {
			st := SupplierState{Name: name, Type: e.supplierTypes[name], Paused: tx.Paused("supplier:" + name),
				Breaker: e.health.BreakerState(name), BadCards: bad[name], ClaimCards: claimed[name]}
			if b, ok := e.health.Balance(name); ok {
				st.Balance = &b
			}
			out = append(out, st)
		}
		return nil
	})
	return out, err
}

// Scorecards returns every remote supplier's scorecard, in config order.
func (e *Engine) Scorecards() []health.Scorecard { return e.health.Scorecards() }

// PausedProducts lists paused SKUs.
func (e *Engine) PausedProducts() ([]string, error) {
	var out []string
	err := e.store.View(func(tx *storage.Tx) error {
		for target := range tx.PausedList() {
			if sku, ok := strings.CutPrefix(target, "sku:"); ok {
				out = append(out, sku)
			}
		}
		return nil
	})
	sort.Strings(out)
	return out, err
}
