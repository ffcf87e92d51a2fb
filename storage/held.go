package storage

import (
	"encoding/binary"
	"fmt"
	"time"
)

// A synchronous docking protocol (acg-faka's trade) must answer within a
// few seconds. An order not settled by then is answered without its
// result, and the shop may come back for it with the same request. Until
// it does, the order is held (bucket "claims" on disk, named before
// after-sale claims existed) with the time after which nobody is expected
// any more: then it is refunded to the shop and its unused keys go back to
// stock.

// HeldTx is the orders waiting to be claimed, seen in one transaction
// (Tx.Held).
type HeldTx struct{ t *Tx }

// Held returns the orders waiting to be claimed of this transaction.
func (t *Tx) Held() HeldTx { return HeldTx{t} }

// Hold records that an order was answered without its result and may be
// claimed until deadline.
func (view HeldTx) Hold(orderID uint64, deadline time.Time) error {
	v := binary.BigEndian.AppendUint64(nil, uint64(deadline.UnixNano()))
	if err := view.t.tx.Bucket(bucketHeld).Put(u64(orderID), v); err != nil {
		return fmt.Errorf("write claim: %w", err)
	}
	return nil
}

// Claimed records that the shop has the order's result now; it reports
// whether the order was waiting.
func (view HeldTx) Claimed(orderID uint64) (bool, error) {
	b := view.t.tx.Bucket(bucketHeld)
	if b.Get(u64(orderID)) == nil {
		return false, nil
	}
	if err := b.Delete(u64(orderID)); err != nil {
		return false, fmt.Errorf("delete claim: %w", err)
	}
	return true, nil
}

// Waiting reports whether an order waits to be claimed.
func (view HeldTx) Waiting(orderID uint64) bool {
	return view.t.tx.Bucket(bucketHeld).Get(u64(orderID)) != nil
}

// Due lists up to limit orders whose claim deadline is at or before now,
// oldest order first.
func (view HeldTx) Due(now time.Time, limit int) []uint64 {
	var out []uint64
	c := view.t.tx.Bucket(bucketHeld).Cursor()
	for k, v := c.First(); k != nil && len(out) < limit; k, v = c.Next() {
		if len(k) == 8 && len(v) == 8 && int64(binary.BigEndian.Uint64(v)) <= now.UnixNano() {
			out = append(out, binary.BigEndian.Uint64(k))
		}
	}
	return out
}

// ReturnStock puts cards that were delivered to an order nobody received
// back into a SKU's stock: each card whose fingerprint is the order's
// becomes a stock card again (any other card is left as it is). It answers
// how many went back.
func (t *Tx) ReturnStock(sku string, cards []SealedCard, orderID uint64) (int, error) {
	prints := t.tx.Bucket(bucketFingerprints)
	added := 0
	for _, c := range cards {
		// A card taken from own stock keeps its stock entry, its record
		// gone: the order holding it owns it (fingerprintOwnedBy).
		v := prints.Get(c.FP[:])
		if v == nil || !t.fingerprintOwnedBy(v, orderID) {
			continue
		}
		_, batch, _ := t.StockBatchOf(c.FP) // it goes back as a card of the batch it came in
		if err := prints.Delete(c.FP[:]); err != nil {
			return 0, fmt.Errorf("release fingerprint: %w", err)
		}
		n, _, err := t.AddStock(sku, batch, []SealedCard{c})
		if err != nil {
			return 0, err
		}
		added += n
	}
	return added, nil
}
