package storage

import (
	"encoding/binary"
	"fmt"
	"slices"
	"testing"
	"time"

	"cardflow/internal/testkit"
)

// readTxns is how many read transactions the store has begun.
func readTxns(s *Store) int64 { return int64(s.bolt.Stats().TxN) }

// TestScanStatsReadsEveryCounterInShortTransactions: ScanStats returns what
// one read transaction's Stats returns, in order, read in several
// transactions when there are more than statChunk counters, each slot
// whole in one of them.
func TestScanStatsReadsEveryCounterInShortTransactions(t *testing.T) {
	s := testkit.NewStore(t, Open)
	<-s.buyersReady               // the start's own reads are over
	const slots, labels = 120, 50 // 6000 counters
	must(t, s.Update(func(tx *Tx) error {
		for slot := range uint32(slots) {
			for l := range labels {
				tx.Counters().Add(StatKey{Slot: 1000 + slot, Metric: MetricOrders, Label: fmt.Sprintf("sku-%02d", l)}, int64(l+1))
			}
		}
		tx.Counters().Add(StatKey{Slot: 999, Metric: MetricOrders}, 1)  // before the range
		tx.Counters().Add(StatKey{Slot: 2000, Metric: MetricOrders}, 1) // after it
		return nil
	}))
	type kv struct {
		k StatKey
		v int64
	}
	var want, got []kv
	_ = s.View(func(tx *Tx) error {
		tx.Counters().Range(1000, 1000+slots-1, func(k StatKey, v int64) { want = append(want, kv{k, v}) })
		return nil
	})
	before := readTxns(s)
	txnOf := map[uint32]int64{}
	err := s.ScanStats(1000, 1000+slots-1, func(k StatKey, v int64) {
		got = append(got, kv{k, v})
		n := readTxns(s)
		if first, ok := txnOf[k.Slot]; ok && first != n {
			t.Errorf("slot %d read in two transactions", k.Slot)
		}
		txnOf[k.Slot] = n
	})
	must(t, err)
	if len(want) != slots*labels || !slices.Equal(got, want) {
		t.Fatalf("ScanStats gave %d counters, one transaction %d; they differ", len(got), len(want))
	}
	if n := readTxns(s) - before; n < 2 {
		t.Errorf("6000 counters read in %d transaction(s), want at least 2", n)
	}
}

// TestEachOpenOrderReadsEveryOrderInShortTransactions: every open order of
// a status, oldest first, in transactions of openChunk orders.
func TestEachOpenOrderReadsEveryOrderInShortTransactions(t *testing.T) {
	s := testkit.NewStore(t, Open)
	<-s.buyersReady // the start's own reads are over
	const n = 2*openChunk + 10
	must(t, s.Update(func(tx *Tx) error {
		for i := range n {
			o := newOrder("shop", fmt.Sprintf("open-%d", i))
			if i%2 == 1 {
				o.Move(StatusReview, "", System, time.Unix(2, 0))
			}
			if err := tx.CreateOrder(o); err != nil {
				return err
			}
		}
		return nil
	}))
	before := readTxns(s)
	var ids []uint64
	must(t, s.EachOpenOrder(StatusPending, func(o *Order) error {
		if o.Status != StatusPending {
			t.Errorf("order %d is %s", o.ID, o.Status)
		}
		ids = append(ids, o.ID)
		return nil
	}))
	if len(ids) != n/2 || !slices.IsSorted(ids) || ids[0] != 1 {
		t.Fatalf("read %d pending orders (first %v), want %d oldest first", len(ids), ids[:1], n/2)
	}
	if txns := readTxns(s) - before; txns < 2 {
		t.Errorf("%d orders read in %d transaction(s)", len(ids), txns)
	}
}

// TestBuyerHistoryLoadsInShortTransactions: a day of buyer history larger
// than buyerChunk loads whole, in several read transactions.
func TestBuyerHistoryLoadsInShortTransactions(t *testing.T) {
	s := testkit.NewStore(t, Open)
	<-s.buyersReady // the start's own reads are over
	const n = 2*buyerChunk + 7
	must(t, s.Update(func(tx *Tx) error {
		b := tx.appending(bucketBuyerLog)
		for i := range n {
			var id identity
			binary.BigEndian.PutUint64(id[:], uint64(i))
			r := logRecord{at: 1_764_000_000 + int64(i), amount: 100, ids: []identity{id}}
			key := binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, uint64(r.at)*1e9), uint64(i))
			if err := b.Put(key, encodeLogRecord(&r)); err != nil {
				return err
			}
		}
		return nil
	}))
	before := readTxns(s)
	idx, err := s.loadBuyerRange(0, 1<<62, 0, 1<<62)
	must(t, err)
	if len(idx.m) != n {
		t.Errorf("indexed %d buyers, want %d", len(idx.m), n)
	}
	if txns := readTxns(s) - before; txns < 3 {
		t.Errorf("%d records read in %d transaction(s), want at least 3", n, txns)
	}
}
