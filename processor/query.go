package processor

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"cardflow/storage"
)

// AmbiguousError is a reference that names more than one order: a bare
// value that is one order's internal id and another's external id, or an
// external id two storefronts use. Nothing is done; the edge lists the
// candidates and asks which one.
type AmbiguousError struct {
	Ref        string
	Candidates []*storage.Order // by id
}

func (e *AmbiguousError) Error() string {
	return fmt.Sprintf("order %q names %d orders", e.Ref, len(e.Candidates))
}

// ResolveOrder finds the one order a reference names, as operators type it:
//
//	#12        internal order 12
//	shop1:EXT  storefront shop1's external id EXT (shop1 a configured storefront)
//	anything else, bare: the order whose internal id or whose external id at
//	           any storefront it is, if exactly one order has it
//
// A reference that names nothing is storage.ErrNotFound; one that names
// several is an *AmbiguousError with every candidate. Buttons carry internal
// ids and are looked up with Order, never here.
func (e *Engine) ResolveOrder(ref string) (*storage.Order, error) {
	var found []*storage.Order
	add := func(o *storage.Order, err error) error {
		switch {
		case errors.Is(err, storage.ErrNotFound):
			return nil
		case err != nil:
			return err
		}
		for _, f := range found {
			if f.ID == o.ID {
				return nil
			}
		}
		found = append(found, o)
		return nil
	}
	err := e.store.View(func(tx *storage.Tx) error {
		if digits, ok := strings.CutPrefix(ref, "#"); ok {
			if id, err := strconv.ParseUint(digits, 10, 64); err == nil {
				return add(tx.Order(id))
			}
			return nil
		}
		if sf, ext, ok := strings.Cut(ref, ":"); ok {
			if _, known := e.storefronts[sf]; known {
				return add(tx.OrderByExternal(sf, ext))
			}
		}
		if id, err := strconv.ParseUint(ref, 10, 64); err == nil {
			if err := add(tx.Order(id)); err != nil {
				return err
			}
		}
		for sf := range e.storefronts {
			if err := add(tx.OrderByExternal(sf, ref)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	switch len(found) {
	case 0:
		return nil, fmt.Errorf("order %q: %w", ref, storage.ErrNotFound)
	case 1:
		return found[0], nil
	}
	slices.SortFunc(found, func(a, b *storage.Order) int { return cmp.Compare(a.ID, b.ID) })
	return nil, &AmbiguousError{Ref: ref, Candidates: found}
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
