package processor

import (
	"fmt"
	"time"

	"cardflow/alert"
	"cardflow/config"
	"cardflow/storage"
)

// A synchronous docking shop (acg-faka) is answered within a few seconds,
// with the order's keys or without them. An order answered without them is
// held for the shop to claim with the same request; one nobody claims in
// time is refunded to the shop and its unused keys go back to stock
// (docs/docking.md).

// ReasonUnclaimed is the reason of an order its synchronous shop never
// came back for.
const ReasonUnclaimed = "unclaimed"

// claimCheckEvery is how often held orders are looked at; claimRetry is
// how long one with a purchase still in flight waits before the next look.
const (
	claimCheckEvery = time.Minute
	claimRetry      = 10 * time.Minute
)

// HoldForClaim records that an order was answered without its result: if
// its shop does not Claim it within the claim period, it is reclaimed.
func (e *Engine) HoldForClaim(id uint64, within time.Duration) error {
	return e.commit(func(tx *storage.Tx, c *effects) error {
		return tx.Held().Hold(id, c.now.Add(within))
	})
}

// Claim records that an order's shop has its result now (the keys or the
// refusal); it is no longer reclaimed. Claiming an order that was not held
// does nothing.
func (e *Engine) Claim(id uint64) error {
	var waiting bool
	_ = e.store.View(func(tx *storage.Tx) error { waiting = tx.Held().Waiting(id); return nil })
	if !waiting {
		return nil // the common case: answered in time, nothing to write
	}
	return e.commit(func(tx *storage.Tx, c *effects) error {
		_, err := tx.Held().Claimed(id)
		return err
	})
}

// ReclaimDue reclaims the held orders whose claim period has ended.
func (e *Engine) ReclaimDue() {
	var due []uint64
	_ = e.store.View(func(tx *storage.Tx) error { due = tx.Held().Due(e.now(), 100); return nil })
	for _, id := range due {
		var restocked string
		err := e.commit(func(tx *storage.Tx, c *effects) error {
			var err error
			restocked, err = e.reclaim(tx, c, id)
			return err
		})
		if err != nil {
			e.log.Error().Err(err).Uint64("order_id", id).Msg("reclaim an unclaimed order")
			continue
		}
		if restocked != "" {
			e.StockArrived(restocked) // orders waiting for it may have it now
		}
	}
}

// reclaim ends one unclaimed order: a delivered one is refunded and its
// keys go back to stock if the product is sold from own stock; one not yet
// delivered is refunded unless a purchase is still in flight, in which
// case it is looked at again later; a refunded one only leaves the list.
// It answers the SKU whose stock it filled, if any.
func (e *Engine) reclaim(tx *storage.Tx, c *effects, id uint64) (string, error) {
	if _, err := tx.Held().Claimed(id); err != nil {
		return "", err
	}
	o, err := tx.Order(id)
	if err != nil {
		return "", err
	}
	if o.Status == storage.StatusRefunded {
		return "", nil
	}
	for _, a := range o.Attempts {
		if !a.Archived && a.State.InFlight() {
			return "", tx.Held().Hold(id, c.now.Add(claimRetry))
		}
	}
	returned, cards := 0, len(o.Cards)
	if o.Status == storage.StatusDelivered && e.ownStock(o.SKU) {
		if returned, err = tx.ReturnStock(o.SKU, o.Cards, o.ID); err != nil {
			return "", err
		}
		o.Cards = nil // they are stock again: the order no longer holds them
	}
	o.WaitUntil = time.Time{}
	c.move(o, storage.StatusRefunded, ReasonUnclaimed, storage.System)
	if err := c.refunded(tx, o); err != nil {
		return "", err
	}
	if err := tx.PutOrder(o); err != nil {
		return "", err
	}
	if err := c.callback(tx, o, CallbackRefunded); err != nil {
		return "", err
	}
	restocked := ""
	if returned > 0 {
		restocked = o.SKU
	}
	return restocked, c.alert(tx, storage.Alert{Key: fmt.Sprintf("%s:%d", alert.OrderUnclaimed, o.ID), Type: alert.OrderUnclaimed,
		OrderID: o.ID, SKU: o.SKU, Target: o.Storefront, Count: returned, Detail: fmt.Sprintf("%d/%d", returned, cards)})
}

// ownStock reports whether a product is sold from the shop's own stock.
func (e *Engine) ownStock(sku string) bool {
	for _, s := range e.products[sku].Sources {
		if e.supplierTypes[s.Supplier] == config.SupplierStock {
			return true
		}
	}
	return false
}
