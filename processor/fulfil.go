package processor

import (
	"fmt"
	"time"

	"cardflow/alert"
	"cardflow/config"
	"cardflow/storage"
)

// Reasons an order carries (docs/lifecycle.md).
const (
	ReasonOutOfStock  = "out_of_stock"
	ReasonUnknownSKU  = "unknown_sku"
	ReasonReissue     = "reissue"
	ReasonNoSource    = "no_source"
	reasonOperatorFmt = "operator:%s"
)

// Callback types (docs/api.md).
const (
	CallbackDelivered = "order.delivered"
	CallbackDelayed   = "order.delayed"
	CallbackFailed    = "order.failed"
	CallbackRefunded  = "order.refunded"
)

func (e *Engine) work() {
	for {
		id, ok := e.queue.pop()
		if !ok {
			return
		}
		if err := e.fulfil(id); err != nil {
			// The order stays pending in the store; it is looked at again on
			// the next stock arrival, expiry sweep or restart.
			e.log.Error().Err(err).Uint64("order_id", id).Msg("fulfil failed")
		}
		e.queue.done(id)
	}
}

// fulfil looks at one order and moves it on (see advance). Delivery from own
// stock happens inside this one transaction: the cards leave stock, the order
// becomes delivered and its callback is queued — all or nothing, so no card
// can reach two orders and no delivered order can miss its callback,
// whatever crashes.
func (e *Engine) fulfil(id uint64) error {
	var pl plan
	var sku string
	err := e.commit(func(tx *storage.Tx, c *effects) error {
		pl = plan{}
		o, err := tx.Order(id)
		if err != nil {
			return err
		}
		if o.Status != storage.StatusPending && o.Status != storage.StatusProcessing || !e.mine(o) {
			return nil
		}
		sku = o.SKU
		pl.seen = e.waits.current(o.SKU)
		if err := e.advance(tx, c, o, &pl); err != nil {
			return err
		}
		return tx.PutOrder(o)
	})
	if err != nil {
		return fmt.Errorf("order %d: %w", id, err)
	}
	if pl.waitSKU == "" && sku != "" {
		e.waits.forget(sku, id)
	}
	e.afterCommit(id, &pl)
	return nil
}

func (e *Engine) hasStockSource(p config.Product) bool {
	for _, s := range p.Sources {
		if e.supplierTypes[s.Supplier] == config.SupplierStock {
			return true
		}
	}
	return false
}

// deliver marks an order delivered with cards and queues its callback; the
// caller writes the order.
func (e *Engine) deliver(tx *storage.Tx, c *effects, o *storage.Order, cards []storage.SealedCard) error {
	reason := ""
	if len(o.Replaced) > 0 {
		reason = ReasonReissue // tells the storefront this is a new set, on purpose
	}
	o.Cards = cards
	o.DeliveredAt = c.now
	o.WaitUntil = time.Time{}
	c.move(o, storage.StatusDelivered, reason, storage.System)
	return c.callback(tx, o, CallbackDelivered)
}

// failOrder ends automatic handling: failed for a person to decide, or
// refunded at once when the reason is in auto_refund. The caller writes the
// order.
func (e *Engine) failOrder(tx *storage.Tx, c *effects, o *storage.Order, reason string) error {
	o.WaitUntil = time.Time{}
	if e.autoRefund[reason] {
		c.move(o, storage.StatusRefunded, reason, storage.System)
		if err := c.refunded(tx, o); err != nil {
			return err
		}
		return c.callback(tx, o, CallbackRefunded)
	}
	c.move(o, storage.StatusFailed, reason, storage.System)
	if err := c.callback(tx, o, CallbackFailed); err != nil {
		return err
	}
	return c.alert(tx, storage.Alert{
		Key: fmt.Sprintf("%s:%d", alert.OrderFailed, o.ID), Type: alert.OrderFailed, OrderID: o.ID, SKU: o.SKU, Detail: reason,
	})
}

// StockArrived wakes the orders waiting for a SKU, on every process
// sharing the store (each waits for stock for its own orders).
func (e *Engine) StockArrived(sku string) { e.member.Publish(topicStock, sku) }

// stockArrived is a StockArrived that reached this process.
func (e *Engine) stockArrived(sku string) {
	for _, id := range e.waits.arrived(sku) {
		e.queue.push(id)
	}
}

// ExpireWaits moves every order whose stock wait has ended to failed.
func (e *Engine) ExpireWaits() {
	for _, id := range e.waits.expired(e.now()) {
		var sku string
		err := e.commit(func(tx *storage.Tx, c *effects) error {
			o, err := tx.Order(id)
			if err != nil {
				return err
			}
			sku = o.SKU
			if o.Status != storage.StatusPending || o.WaitUntil.IsZero() || c.now.Before(o.WaitUntil) || !e.mine(o) {
				return nil
			}
			if err := e.failOrder(tx, c, o, o.Reason); err != nil {
				return err
			}
			return tx.PutOrder(o)
		})
		if err != nil {
			e.log.Error().Err(err).Uint64("order_id", id).Msg("expire stock wait failed")
			continue
		}
		e.waits.forget(sku, id)
	}
}
