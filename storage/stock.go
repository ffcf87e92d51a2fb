package storage

import (
	"cardflow/storage/kv"
	"encoding/binary"
	"fmt"
)

// Where a fingerprint points: a card waiting in stock or one delivered.
const (
	fingerprintInStock   = 's'
	fingerprintDelivered = 'd'
	fingerprintSize      = len(Fingerprint{})
)

// FingerprintState says where a card key with a given fingerprint is.
type FingerprintState struct {
	InStock   bool
	SKU       string // in stock: which SKU holds it
	Delivered bool
	OrderID   uint64 // delivered: to which order
}

// Fingerprint reports whether a card is known, and where it is. A card taken
// from stock keeps its "in stock" fingerprint entry: it is delivered exactly
// when its stock record is gone. Not rewriting the entry on delivery spares
// one random page write per card in the hottest transaction (fingerprints
// are HMACs, so their pages are scattered); the order that got it is then
// unknown here, which nothing needs.
func (t *Tx) Fingerprint(fp Fingerprint) (FingerprintState, bool) {
	v := t.tx.Bucket(bucketFingerprints).Get(fp[:])
	if len(v) < 9 {
		return FingerprintState{}, false
	}
	id := binary.BigEndian.Uint64(v[1:9])
	if v[0] == fingerprintDelivered {
		return FingerprintState{Delivered: true, OrderID: id}, true
	}
	sku := string(v[9:])
	if b := t.tx.Bucket(bucketStock).Bucket([]byte(sku)); b != nil && b.Get(u64(id)) != nil {
		return FingerprintState{InStock: true, SKU: sku}, true
	}
	return FingerprintState{Delivered: true}, true
}

// AddStock puts sealed cards into a SKU's stock, as cards of import batch
// (NewStockBatch; batches.go). A card whose fingerprint is already known
// (in any stock, or delivered, or earlier in cards) is counted as a
// duplicate and not added.
func (t *Tx) AddStock(sku string, batch uint64, cards []SealedCard) (added, duplicates int, err error) {
	b, err := t.tx.Bucket(bucketStock).CreateBucketIfNotExists([]byte(sku))
	if err != nil {
		return 0, 0, fmt.Errorf("create stock bucket %s: %w", sku, err)
	}
	b.Appending() // appended at the end, taken from the front
	prints := t.tx.Bucket(bucketFingerprints)
	kv.Prefetch(prints, func() [][]byte { // PostgreSQL: one round trip per thousand cards, not per card
		fps := make([][]byte, len(cards))
		for i := range cards {
			fps[i] = cards[i].FP[:]
		}
		return fps
	})
	for _, c := range cards {
		if prints.Get(c.FP[:]) != nil {
			duplicates++
			continue
		}
		seq, err := b.NextSequence()
		if err != nil {
			return 0, 0, fmt.Errorf("allocate stock seq: %w", err)
		}
		if added == 0 {
			if err := t.markBatch(sku, seq, batch); err != nil {
				return 0, 0, err
			}
		}
		v := make([]byte, 0, fingerprintSize+len(c.Box))
		v = append(append(v, c.FP[:]...), c.Box...)
		if err := b.Put(u64(seq), v); err != nil {
			return 0, 0, fmt.Errorf("write stock card: %w", err)
		}
		if err := prints.Put(c.FP[:], fingerprintValue(fingerprintInStock, seq, sku)); err != nil {
			return 0, 0, fmt.Errorf("write fingerprint: %w", err)
		}
		added++
	}
	if added > 0 {
		if err := t.addLevel(sku, added); err != nil {
			return 0, 0, err
		}
	}
	return added, duplicates, nil
}

// TakeStock removes the n oldest cards of a SKU for an order, in the
// caller's transaction: either the order gets them (and their fingerprints
// read as delivered from then on) or nothing happened. ErrStockEmpty if
// fewer than n.
func (t *Tx) TakeStock(sku string, n int) ([]SealedCard, error) {
	if t.StockLevel(sku) < n {
		return nil, ErrStockEmpty
	}
	b := t.tx.Bucket(bucketStock).Bucket([]byte(sku))
	if b == nil {
		return nil, ErrStockEmpty
	}
	cards := make([]SealedCard, 0, n)
	keys := make([][]byte, 0, n)
	c := b.Cursor()
	for k, v := c.First(); k != nil && len(cards) < n; k, v = c.Next() {
		if len(v) < fingerprintSize {
			return nil, fmt.Errorf("stock %s card %x: damaged record", sku, k)
		}
		var sc SealedCard
		copy(sc.FP[:], v[:fingerprintSize])
		sc.Box = append([]byte(nil), v[fingerprintSize:]...) // bbolt memory is only valid inside the tx
		cards = append(cards, sc)
		keys = append(keys, append([]byte(nil), k...))
	}
	if len(cards) < n {
		return nil, ErrStockEmpty
	}
	for _, k := range keys {
		if err := b.Delete(k); err != nil {
			return nil, fmt.Errorf("remove stock card: %w", err)
		}
	}
	return cards, t.addLevel(sku, -n)
}

// ClaimFingerprints records cards as delivered to orderID. The caller has checked
// (with Fingerprint) that none belongs to another order.
func (t *Tx) ClaimFingerprints(cards []SealedCard, orderID uint64) error {
	prints := t.tx.Bucket(bucketFingerprints)
	for _, c := range cards {
		if err := prints.Put(c.FP[:], fingerprintValue(fingerprintDelivered, orderID, "")); err != nil {
			return fmt.Errorf("write fingerprint: %w", err)
		}
	}
	return nil
}

// StockLevel is the number of cards in a SKU's stock.
func (t *Tx) StockLevel(sku string) int {
	v := t.tx.Bucket(bucketLevels).Get([]byte(sku))
	if len(v) != 8 {
		return 0
	}
	return int(binary.BigEndian.Uint64(v))
}

// StockLevels lists every SKU that has ever had stock, with its level.
func (t *Tx) StockLevels() map[string]int {
	levels := make(map[string]int)
	_ = t.tx.Bucket(bucketLevels).ForEach(func(k, v []byte) error {
		if len(v) == 8 {
			levels[string(k)] = int(binary.BigEndian.Uint64(v))
		}
		return nil
	})
	return levels
}

func (t *Tx) addLevel(sku string, delta int) error {
	n := t.StockLevel(sku) + delta
	if n < 0 {
		return fmt.Errorf("stock %s level would be %d", sku, n)
	}
	if err := t.tx.Bucket(bucketLevels).Put([]byte(sku), u64(uint64(n))); err != nil {
		return fmt.Errorf("write stock level %s: %w", sku, err)
	}
	return nil
}

func fingerprintValue(kind byte, id uint64, sku string) []byte {
	v := make([]byte, 9, 9+len(sku))
	v[0] = kind
	binary.BigEndian.PutUint64(v[1:], id)
	return append(v, sku...)
}
