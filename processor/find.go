package processor

import (
	"strings"

	"cardflow/storage"
)

// Bounds of a search by buyer. Orders are not indexed by buyer in the
// clear (the buyer history keeps keyed hashes only), so /find reads the
// newest orders, in short read transactions, as /rules test does: the
// writer is never held, and the cost of one search is fixed.
const (
	findScanned = 20_000 // newest orders one search reads at most
	findChunk   = 500    // orders per read transaction
)

// BuyerOrders is what a search by buyer found.
type BuyerOrders struct {
	Orders  []*storage.Order // the newest matches, newest first, at most the limit asked
	Matched int              // every match among the orders read
	Scanned int              // orders read
	Capped  bool             // the store holds older orders that were not read
}

// FindBuyerOrders finds orders whose buyer id, contact or top-up account is
// who (case does not matter; spaces around it are dropped), among the
// newest findScanned orders. It changes nothing.
func (e *Engine) FindBuyerOrders(who string, limit int) (BuyerOrders, error) {
	return e.findBuyerOrders(who, limit, findScanned)
}

// findBuyerOrders reads at most scan orders.
func (e *Engine) findBuyerOrders(who string, limit, scan int) (BuyerOrders, error) {
	var res BuyerOrders
	who = strings.TrimSpace(who)
	if who == "" {
		return res, nil
	}
	var before uint64
	for res.Scanned < scan {
		var chunk []*storage.Order
		err := e.store.View(func(tx *storage.Tx) error {
			var err error
			chunk, err = tx.RecentOrders(before, min(findChunk, scan-res.Scanned))
			return err
		})
		if err != nil {
			return res, err
		}
		if len(chunk) == 0 {
			return res, nil
		}
		for _, o := range chunk {
			if buyerIs(o, who) {
				res.Matched++
				if len(res.Orders) < limit {
					res.Orders = append(res.Orders, o)
				}
			}
		}
		res.Scanned += len(chunk)
		before = chunk[len(chunk)-1].ID
	}
	err := e.store.View(func(tx *storage.Tx) error {
		older, err := tx.RecentOrders(before, 1)
		res.Capped = len(older) > 0
		return err
	})
	return res, err
}

func buyerIs(o *storage.Order, who string) bool {
	return (o.Buyer.ID != "" && strings.EqualFold(strings.TrimSpace(o.Buyer.ID), who)) ||
		(o.Buyer.Contact != "" && strings.EqualFold(strings.TrimSpace(o.Buyer.Contact), who)) ||
		(o.Account != "" && strings.EqualFold(strings.TrimSpace(o.Account), who))
}
