package processor

import (
	"fmt"
	"slices"
	"strconv"
	"time"

	"cardflow/alert"
	"cardflow/storage"
)

// Operator actions (docs/lifecycle.md). Each is checked against the order's
// state inside the write transaction, so two operators racing on one order
// get exactly one success and one *StateError, and every attempt — done or
// refused — is in the audit log of that same transaction.
const (
	ActionApprove = "approve"
	ActionRetry   = "retry"
	ActionRefund  = "refund"
	ActionReissue = "reissue"
)

// Approve sends an order held for review on to fulfilment.
func (e *Engine) Approve(actor storage.Actor, id uint64) (*storage.Order, error) {
	return e.act(actor, ActionApprove, id, "", []storage.Status{storage.StatusReview},
		func(tx *storage.Tx, c *effects, o *storage.Order) error {
			c.move(o, storage.StatusPending, operatorReason(actor), actor)
			return tx.PutOrder(o)
		})
}

// Retry sends a failed order back to fulfilment with a fresh stock wait.
func (e *Engine) Retry(actor storage.Actor, id uint64) (*storage.Order, error) {
	return e.act(actor, ActionRetry, id, "", []storage.Status{storage.StatusFailed},
		func(tx *storage.Tx, c *effects, o *storage.Order) error {
			o.WaitUntil = time.Time{}
			archive(o, false)
			c.move(o, storage.StatusPending, operatorReason(actor), actor)
			return tx.PutOrder(o)
		})
}

// refundable are the states an order can be refunded from.
var refundable = []storage.Status{storage.StatusPending, storage.StatusReview, storage.StatusFailed, storage.StatusDelivered}

// Refund ends an order and tells the storefront to return the buyer's money.
// A delivered order can be refunded after sale; its cards stay delivered (a
// handed-out key is never handed out again).
func (e *Engine) Refund(actor storage.Actor, id uint64, note string) (*storage.Order, error) {
	return e.refund(actor, id, note, refundable)
}

// RefundFrom refunds only if the order is still in one of the states from. A
// Refund button on a review prompt means "refuse this order", not "refund
// whatever it has become": if Approve won the race, this refund is refused
// and says so.
func (e *Engine) RefundFrom(actor storage.Actor, id uint64, note string, from ...storage.Status) (*storage.Order, error) {
	for _, st := range from {
		if !slices.Contains(refundable, st) {
			return nil, fmt.Errorf("refund from %s: not a refundable state", st)
		}
	}
	return e.refund(actor, id, note, from)
}

func (e *Engine) refund(actor storage.Actor, id uint64, note string, from []storage.Status) (*storage.Order, error) {
	return e.act(actor, ActionRefund, id, note, from, refundOrder(actor))
}

func refundOrder(actor storage.Actor) func(*storage.Tx, *effects, *storage.Order) error {
	return func(tx *storage.Tx, c *effects, o *storage.Order) error {
		o.WaitUntil = time.Time{}
		c.move(o, storage.StatusRefunded, operatorReason(actor), actor)
		if err := tx.PutOrder(o); err != nil {
			return err
		}
		if err := c.refunded(tx, o); err != nil {
			return err
		}
		return c.callback(tx, o, CallbackRefunded)
	}
}

// Reissue replaces a delivered order's cards with new ones (the buyer reports
// a bad key). The old set is kept as replaced; its fingerprints stay
// delivered to this order forever.
func (e *Engine) Reissue(actor storage.Actor, id uint64) (*storage.Order, error) {
	return e.act(actor, ActionReissue, id, "", []storage.Status{storage.StatusDelivered}, reissueOrder(actor))
}

func reissueOrder(actor storage.Actor) func(*storage.Tx, *effects, *storage.Order) error {
	return func(tx *storage.Tx, c *effects, o *storage.Order) error {
		if len(o.Cards) > 0 {
			o.Replaced = append(o.Replaced, o.Cards)
			o.Cards = nil
		}
		o.DeliveredAt = time.Time{}
		archive(o, true)
		c.move(o, storage.StatusPending, ReasonReissue, actor)
		return tx.PutOrder(o)
	}
}

// RefundDelivered and ReissueDelivered are the confirmed forms of a typed
// refund or reissue of a delivered order: they act only while the order is
// delivered and is still what the operator was shown — it had transitions
// entries of history then, and history only grows. An order reissued and
// delivered anew meanwhile is refused like any stale action, so one
// confirmation never acts on a later delivery.
func (e *Engine) RefundDelivered(actor storage.Actor, id uint64, note string, transitions int) (*storage.Order, error) {
	return e.actWhen(actor, ActionRefund, id, note, asShown(transitions), refundOrder(actor))
}

// ReissueDelivered: see RefundDelivered.
func (e *Engine) ReissueDelivered(actor storage.Actor, id uint64, transitions int) (*storage.Order, error) {
	return e.actWhen(actor, ActionReissue, id, "", asShown(transitions), reissueOrder(actor))
}

func asShown(transitions int) func(*storage.Order) bool {
	return func(o *storage.Order) bool {
		return o.Status == storage.StatusDelivered && len(o.History) == transitions
	}
}

func operatorReason(a storage.Actor) string { return fmt.Sprintf(reasonOperatorFmt, a.Name) }

// act runs one operator action: state check, change, audit, all in one write.
func (e *Engine) act(actor storage.Actor, action string, id uint64, note string, from []storage.Status,
	apply func(*storage.Tx, *effects, *storage.Order) error) (*storage.Order, error) {
	return e.actWhen(actor, action, id, note, func(o *storage.Order) bool { return slices.Contains(from, o.Status) }, apply)
}

// actWhen is act with the check as a function of the order read inside the
// write.
func (e *Engine) actWhen(actor storage.Actor, action string, id uint64, note string, accept func(*storage.Order) bool,
	apply func(*storage.Tx, *effects, *storage.Order) error) (*storage.Order, error) {
	var (
		order   *storage.Order
		refused *StateError
	)
	err := e.commit(func(tx *storage.Tx, c *effects) error {
		order, refused = nil, nil
		o, err := tx.Order(id)
		if err != nil {
			return err
		}
		entry := storage.AuditEntry{At: c.now, Actor: actor, Action: action, Target: strconv.FormatUint(id, 10), Detail: note}
		if !accept(o) {
			refused = &StateError{Action: action, Order: o, Last: lastHuman(o)}
			entry.Outcome, entry.Detail = "refused", fmt.Sprintf("order is %s", o.Status)
			order = o
			return tx.Audit(entry)
		}
		if err := apply(tx, c, o); err != nil {
			return err
		}
		// The review prompt or failure alert of this order is answered.
		for _, typ := range []alert.Kind{alert.Review, alert.OrderFailed} {
			if err := c.alert(tx, storage.Alert{Key: fmt.Sprintf("%s:%d", typ, o.ID), Type: typ, Resolved: true,
				OrderID: o.ID, SKU: o.SKU, Target: actor.Name, Detail: action}); err != nil {
				return err
			}
		}
		entry.Outcome = "ok"
		order = o
		return tx.Audit(entry)
	})
	if err != nil {
		return nil, fmt.Errorf("%s order %d: %w", action, id, err)
	}
	if refused != nil {
		return order, refused
	}
	e.log.Info().Str("action", action).Str("actor", actor.Name).Str("platform", actor.Platform).
		Object("order", order).Msg("operator action")
	if order.Status == storage.StatusPending {
		e.queue.push(order.ID)
	} else {
		e.waits.forget(order.SKU, order.ID)
	}
	return order, nil
}

// lastHuman is the transition a refused operator should hear about: the
// latest one made by a person, else the latest of all.
func lastHuman(o *storage.Order) storage.Transition {
	for i := len(o.History) - 1; i >= 0; i-- {
		if a := o.History[i].Actor; a.Platform != "system" && a.Platform != "storefront" {
			return o.History[i]
		}
	}
	if n := len(o.History); n > 0 {
		return o.History[n-1]
	}
	return storage.Transition{}
}
