package processor

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"cardflow/alert"
	"cardflow/storage"
	"cardflow/suppliers"
)

// Second verification, the engine's side: while supplier health has a
// supplier under second verification (health.Health.Verifying), a
// purchase's goods are kept but not trusted until a second query confirms
// the same cards.
const (
	// ReasonVerifyMismatch is a purchase whose cards the supplier did not
	// confirm on the second look.
	ReasonVerifyMismatch = "verify_mismatch"
	// ReasonVerifyHold is the review reason of an order held because its
	// cards came from a supplier under second verification.
	ReasonVerifyHold = "verify_hold"
)

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
	return true, c.alert(tx, storage.Alert{Key: fmt.Sprintf("%s:%d", alert.Review, o.ID), Type: alert.Review,
		OrderID: o.ID, SKU: o.SKU, Detail: reason})
}
