package storage

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"

	"cardflow/storage/kv"
)

// A clean shutdown writes the buyer index as it stands, with the key of
// the newest log record it covers; the next start-up reads that instead of
// a day of log records when the log has not changed since, a fraction of
// the time (docs/performance.md). A crash leaves a snapshot whose key no
// longer matches the log's newest, and the log is read as before.

var keyBuyerSnapshot = []byte("buyer_snapshot")

const buyerSnapshotFormat = 1

// saveBuyerSnapshot writes the index; the writer must be stopped.
func (s *Store) saveBuyerSnapshot() error {
	idx := s.buyers
	return s.db.Update(func(tx kv.Tx) error {
		last, _ := tx.Bucket(bucketBuyerLog).Cursor().Last()
		if last == nil {
			return tx.Bucket(bucketMeta).Delete(keyBuyerSnapshot)
		}
		idx.mu.RLock()
		v := idx.encode(last)
		idx.mu.RUnlock()
		return tx.Bucket(bucketMeta).Put(keyBuyerSnapshot, v)
	})
}

// loadBuyerSnapshot returns the saved index if it covers exactly the log
// as it is now, else nil.
func (s *Store) loadBuyerSnapshot() *buyerIndex {
	var idx *buyerIndex
	_ = s.db.View(func(tx kv.Tx) error {
		v := tx.Bucket(bucketMeta).Get(keyBuyerSnapshot)
		last, _ := tx.Bucket(bucketBuyerLog).Cursor().Last()
		if v == nil || last == nil {
			return nil
		}
		got, covers, err := decodeBuyerSnapshot(v)
		if err == nil && bytes.Equal(covers, last) {
			idx = got
		}
		return nil
	})
	return idx
}

func (idx *buyerIndex) encode(last []byte) []byte {
	e := encoder{b: []byte{buyerSnapshotFormat}}
	e.bytes(last)
	e.varint(idx.newest)
	e.uvarint(uint64(len(idx.pending)))
	for id, at := range idx.pending {
		e.b = append(e.b, id[:]...)
		e.varint(at)
	}
	e.uvarint(uint64(len(idx.m)))
	for id, h := range idx.m {
		e.b = append(e.b, id[:]...)
		e.varint(h.first)
		e.bool(h.pending)
		e.uvarint(uint64(len(h.orders)))
		for _, o := range h.orders {
			e.b = binary.BigEndian.AppendUint32(e.b, o.at)
			e.b = binary.BigEndian.AppendUint32(e.b, o.amount)
		}
		e.uvarint(uint64(len(h.refunds)))
		for _, r := range h.refunds {
			e.varint(r)
		}
	}
	return e.b
}

func decodeBuyerSnapshot(b []byte) (*buyerIndex, []byte, error) {
	if len(b) == 0 || b[0] != buyerSnapshotFormat {
		return nil, nil, fmt.Errorf("%w: unknown buyer snapshot format", errCorrupt)
	}
	d := decoder{b: b[1:]}
	last := d.bytes()
	idx := newBuyerIndex()
	idx.newest = d.varint()
	for range d.count(identitySize + 1) {
		var id identity
		copy(id[:], d.raw(identitySize))
		idx.pending[id] = d.varint()
	}
	n := d.count(identitySize + 3)
	idx.m = make(map[identity]*history, n)
	for range n {
		var id identity
		copy(id[:], d.raw(identitySize))
		h := &history{first: d.varint(), pending: d.bool()}
		if k := d.count(8); k > 0 {
			h.orders = make([]entry, k)
			for i := range h.orders {
				p := d.raw(8)
				if len(p) == 8 {
					h.orders[i] = entry{at: binary.BigEndian.Uint32(p), amount: binary.BigEndian.Uint32(p[4:])}
				}
			}
		}
		if k := d.count(1); k > 0 {
			h.refunds = make([]int64, k)
			for i := range h.refunds {
				h.refunds[i] = d.varint()
			}
		}
		idx.m[id] = h
	}
	if d.err != nil {
		return nil, nil, d.err
	}
	if len(d.b) != 0 || idx.newest < 0 || idx.newest > math.MaxInt64/2 {
		return nil, nil, fmt.Errorf("%w: buyer snapshot has %d trailing bytes", errCorrupt, len(d.b))
	}
	return idx, last, nil
}
