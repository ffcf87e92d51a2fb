package processor

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"cardflow/storage"
)

// FindOrder finds an order by what an operator types: its id, or a
// storefront's external id.
func (e *Engine) FindOrder(ref string) (*storage.Order, error) {
	if id, err := strconv.ParseUint(ref, 10, 64); err == nil {
		o, err := e.Order(id)
		if !errors.Is(err, storage.ErrNotFound) {
			return o, err
		}
	}
	for sf := range e.storefronts {
		o, err := e.OrderByExternal(sf, ref)
		if !errors.Is(err, storage.ErrNotFound) {
			return o, err
		}
	}
	return nil, fmt.Errorf("order %q: %w", ref, storage.ErrNotFound)
}

// OpenOrders returns up to limit orders in an open status, oldest first, and
// how many there are in all.
func (e *Engine) OpenOrders(s storage.Status, limit int) ([]*storage.Order, int, error) {
	var (
		orders []*storage.Order
		total  int
	)
	err := e.store.View(func(tx *storage.Tx) error {
		total = tx.CountOpen(s)
		for _, id := range tx.OpenOrders(s, limit) {
			o, err := tx.Order(id)
			if err != nil {
				return err
			}
			orders = append(orders, o)
		}
		return nil
	})
	return orders, total, err
}

// Waiting is the number of orders waiting for a SKU's stock.
func (e *Engine) Waiting(sku string) int { return e.waits.waiting(sku) }

// Vault opens sealed cards, for showing an operator the last digits.
func (e *Engine) Vault() *storage.Vault { return e.store.Vault() }

// Audit records an operator-side event that changes no order (a refused
// command, a stranger's button press). The time is the engine's clock.
func (e *Engine) Audit(entry storage.AuditEntry) error {
	return e.store.Update(func(tx *storage.Tx) error {
		entry.At = e.now()
		return tx.Audit(entry)
	})
}

// AuditLog returns the newest n audit entries, newest first.
func (e *Engine) AuditLog(n int) ([]storage.AuditEntry, error) {
	var out []storage.AuditEntry
	err := e.store.View(func(tx *storage.Tx) error {
		var err error
		out, err = tx.AuditLast(n)
		return err
	})
	return out, err
}

// Silence mutes alerts whose key starts with pattern for d, audited.
func (e *Engine) Silence(actor storage.Actor, pattern string, d time.Duration) (time.Time, error) {
	var until time.Time
	err := e.store.Update(func(tx *storage.Tx) error {
		now := e.now()
		until = now.Add(d)
		if err := tx.Silence(pattern, until, actor.Name); err != nil {
			return err
		}
		return tx.Audit(storage.AuditEntry{At: now, Actor: actor, Action: "silence", Target: pattern, Outcome: "ok", Detail: d.String()})
	})
	return until, err
}
