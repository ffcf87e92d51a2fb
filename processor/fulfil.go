package processor

import (
	"context"
	"errors"
	"fmt"
	"time"

	"cardflow/config"
	"cardflow/storage"
)

// Reasons an order carries (DESIGN §3).
const (
	ReasonOutOfStock  = "out_of_stock"
	ReasonUnknownSKU  = "unknown_sku"
	ReasonReissue     = "reissue"
	ReasonNoSource    = "no_source"
	reasonOperatorFmt = "operator:%s"
)

// Callback types (DESIGN §4).
const (
	CallbackDelivered = "order.delivered"
	CallbackDelayed   = "order.delayed"
	CallbackFailed    = "order.failed"
	CallbackRefunded  = "order.refunded"
)

// Alert types raised by the engine.
const (
	AlertOutOfStock      = "out_of_stock"
	AlertOrderFailed     = "order_failed"
	AlertCallbackFailing = "callback_failing"
	AlertReview          = "review"
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

// outcome of one look at a pending order.
type outcome struct {
	waitSKU   string    // out of stock: register as waiting for this SKU
	waitUntil time.Time // and give up then
	firstWait bool      // this look started the wait
}

// fulfil looks at one order and, if it is pending, delivers it from own stock
// in a single transaction: the cards leave stock, their fingerprints are
// marked delivered to this order, the order becomes delivered and its callback
// is queued — all or nothing, so no card can reach two orders and no delivered
// order can miss its callback, whatever crashes.
func (e *Engine) fulfil(id uint64) error {
	var out outcome
	var sku string
	var seen uint64
	err := e.commit(func(tx *storage.Tx, c *effects) error {
		out = outcome{}
		o, err := tx.Order(id)
		if err != nil {
			return err
		}
		if o.Status != storage.StatusPending {
			return nil
		}
		sku = o.SKU
		seen = e.waits.current(o.SKU)
		p, ok := e.products[o.SKU]
		if !ok {
			// The product left the config while the order waited.
			return e.failOrder(tx, c, o, ReasonUnknownSKU)
		}
		if ok, err := e.deliverFromStock(tx, c, o, p); ok || err != nil {
			if err != nil {
				return err
			}
			return tx.PutOrder(o)
		}
		return e.startWaiting(tx, c, o, &out)
	})
	if err != nil {
		return fmt.Errorf("order %d: %w", id, err)
	}
	if out.waitSKU != "" && !e.waits.wait(out.waitSKU, id, out.waitUntil, seen) {
		e.queue.push(id) // stock arrived while we looked: look again
	}
	if out.waitSKU == "" && sku != "" {
		e.waits.forget(sku, id)
	}
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

// deliverFromStock delivers a pending order from own stock if the product
// has an own-stock source and enough cards are on hand. The caller writes
// the order.
func (e *Engine) deliverFromStock(tx *storage.Tx, c *effects, o *storage.Order, p config.Product) (bool, error) {
	if !e.hasStockSource(p) {
		return false, nil
	}
	cards, err := tx.TakeStock(o.SKU, o.Quantity)
	if errors.Is(err, storage.ErrStockEmpty) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, e.deliver(tx, c, o, cards)
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

// startWaiting keeps an order pending for stock. The first time, it tells the
// storefront the order is delayed and the operators that a SKU ran out;
// later looks change nothing in the store.
func (e *Engine) startWaiting(tx *storage.Tx, c *effects, o *storage.Order, out *outcome) error {
	out.waitSKU = o.SKU
	if o.Reason == ReasonOutOfStock && !o.WaitUntil.IsZero() {
		out.waitUntil = o.WaitUntil
		return nil
	}
	o.WaitUntil = c.now.Add(e.stockWait)
	out.waitUntil, out.firstWait = o.WaitUntil, true
	c.move(o, storage.StatusPending, ReasonOutOfStock, storage.System)
	if err := tx.PutOrder(o); err != nil {
		return err
	}
	if err := c.callback(tx, o, CallbackDelayed); err != nil {
		return err
	}
	return c.alert(tx, storage.Alert{
		Key: AlertOutOfStock + ":" + o.SKU, Type: AlertOutOfStock, SKU: o.SKU, OrderID: o.ID,
		Count: tx.StockLevel(o.SKU),
	})
}

// failOrder ends automatic handling: failed for a person to decide, or
// refunded at once when the reason is in auto_refund.
func (e *Engine) failOrder(tx *storage.Tx, c *effects, o *storage.Order, reason string) error {
	o.WaitUntil = time.Time{}
	if e.autoRefund[reason] {
		c.move(o, storage.StatusRefunded, reason, storage.System)
		if err := tx.PutOrder(o); err != nil {
			return err
		}
		return c.callback(tx, o, CallbackRefunded)
	}
	c.move(o, storage.StatusFailed, reason, storage.System)
	if err := tx.PutOrder(o); err != nil {
		return err
	}
	if err := c.callback(tx, o, CallbackFailed); err != nil {
		return err
	}
	return c.alert(tx, storage.Alert{
		Key: fmt.Sprintf("%s:%d", AlertOrderFailed, o.ID), Type: AlertOrderFailed, OrderID: o.ID, SKU: o.SKU, Detail: reason,
	})
}

// StockArrived wakes the orders waiting for a SKU.
func (e *Engine) StockArrived(sku string) {
	for _, id := range e.waits.arrived(sku) {
		e.queue.push(id)
	}
}

// expireLoop fails orders whose stock wait ran out. It ticks once a second;
// tests call ExpireWaits directly with an injected clock.
func (e *Engine) expireLoop(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			e.ExpireWaits()
		}
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
			if o.Status != storage.StatusPending || o.Reason != ReasonOutOfStock || c.now.Before(o.WaitUntil) {
				return nil
			}
			return e.failOrder(tx, c, o, ReasonOutOfStock)
		})
		if err != nil {
			e.log.Error().Err(err).Uint64("order_id", id).Msg("expire stock wait failed")
			continue
		}
		e.waits.forget(sku, id)
	}
}
