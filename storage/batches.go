package storage

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
)

// Own-stock import batches. Every import is a batch, numbered from one
// sequence across SKUs, so that an upheld claim on an own-stock card names
// the import it came from and a bad batch shows. A stock record stays
// fingerprint + box: the batch is not written per card but per run of
// stock seqs, in bucket stockbatch:
//
//	'r' SKU \x00 first seq (u64) → batch (u64): the SKU's cards from that
//	    seq on came in that batch, up to the next run
//	'u' SKU \x00 batch (u64)     → upheld claims on the batch's cards (u64)
//
// and the bucket's sequence is the last batch given out. A SKU's stock seqs
// only grow (bbolt's bucket sequence), so each AddStock's cards are one run.
// Cards stocked before batches existed come before every run: batch 0.
// A card taken from stock keeps its "in stock" fingerprint entry (stock
// seq and SKU), which is how a delivered card's batch is found later
// (StockBatchOf).

const (
	batchRun    = 'r'
	batchUpheld = 'u'
)

func batchKey(kind byte, sku string, n uint64) []byte {
	k := make([]byte, 0, 1+len(sku)+1+8)
	k = append(append(append(k, kind), sku...), 0)
	return binary.BigEndian.AppendUint64(k, n)
}

// NewStockBatch gives out the next import batch id (1, 2, …).
func (t *Tx) NewStockBatch() (uint64, error) {
	id, err := t.tx.Bucket(bucketStockBatch).NextSequence()
	if err != nil {
		return 0, fmt.Errorf("allocate stock batch: %w", err)
	}
	return id, nil
}

// stockBatchAt is the batch of a SKU's stock card seq: that of the last run
// starting at or before it, 0 before any run.
func (t *Tx) stockBatchAt(sku string, seq uint64) uint64 {
	prefix := batchKey(batchRun, sku, 0)
	prefix = prefix[:len(prefix)-8]
	c := t.tx.Bucket(bucketStockBatch).Cursor()
	at := batchKey(batchRun, sku, seq)
	k, v := c.Seek(at)
	switch {
	case k == nil:
		k, v = c.Last()
	case !bytes.Equal(k, at):
		k, v = c.Prev()
	}
	if k == nil || !bytes.HasPrefix(k, prefix) || len(k) != len(prefix)+8 || len(v) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

// markBatch records that a SKU's cards from seq first on are of batch,
// unless the run in effect there is that batch already.
func (t *Tx) markBatch(sku string, first, batch uint64) error {
	if t.stockBatchAt(sku, first) == batch {
		return nil
	}
	if err := t.tx.Bucket(bucketStockBatch).Put(batchKey(batchRun, sku, first), u64(batch)); err != nil {
		return fmt.Errorf("record stock batch %d of %s: %w", batch, sku, err)
	}
	return nil
}

// StockBatchOf finds the SKU and import batch of a card that was stocked,
// by its fingerprint: ok is false for a card that never was in own stock
// (or whose entry a later write took over).
func (t *Tx) StockBatchOf(fp Fingerprint) (sku string, batch uint64, ok bool) {
	v := t.tx.Bucket(bucketFingerprints).Get(fp[:])
	if len(v) < 9 || v[0] != fingerprintInStock {
		return "", 0, false
	}
	sku = string(v[9:])
	return sku, t.stockBatchAt(sku, binary.BigEndian.Uint64(v[1:9])), true
}

// AddBatchClaim counts an upheld claim on a card of a SKU's batch.
func (t *Tx) AddBatchClaim(sku string, batch uint64) error {
	b := t.tx.Bucket(bucketStockBatch)
	key := batchKey(batchUpheld, sku, batch)
	var n uint64
	if v := b.Get(key); len(v) == 8 {
		n = binary.BigEndian.Uint64(v)
	}
	if err := b.Put(key, u64(n+1)); err != nil {
		return fmt.Errorf("count claim on stock batch %d of %s: %w", batch, sku, err)
	}
	return nil
}

// BatchClaims is the upheld claims on one import batch of a SKU.
type BatchClaims struct {
	Batch  uint64 // 0: cards stocked before batches
	Upheld int
}

// BatchClaims lists a SKU's batches that have upheld claims, newest batch
// first.
func (t *Tx) BatchClaims(sku string) []BatchClaims {
	prefix := batchKey(batchUpheld, sku, 0)
	prefix = prefix[:len(prefix)-8]
	var out []BatchClaims
	c := t.tx.Bucket(bucketStockBatch).Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		if len(k) != len(prefix)+8 || len(v) != 8 {
			continue // another SKU whose name starts with this one and a \x00
		}
		out = append(out, BatchClaims{Batch: binary.BigEndian.Uint64(k[len(prefix):]), Upheld: int(binary.BigEndian.Uint64(v))})
	}
	slices.Reverse(out)
	return out
}
