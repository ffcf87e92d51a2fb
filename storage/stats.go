package storage

import (
	"encoding/binary"
	"fmt"
	"sort"
	"time"
)

// CounterTx is the counters seen in one transaction (Tx.Counters): the
// per-quarter-hour slots every write that changes an order adds to, read
// back by reports and scorecards.
type CounterTx struct{ t *Tx }

// Counters returns the counters of this transaction.
func (t *Tx) Counters() CounterTx { return CounterTx{t} }

// Reports and scorecards read durable counters, never the orders: a day of
// a busy shop is a million orders, and "right across restarts" rules out
// counting in memory. Counters live in 15-minute slots of UTC time. Every
// time zone's offset is a whole number of quarter hours, so any local day
// or hour is an exact run of slots, and one layout serves the daily report
// in any zone, the hourly chart and a rolling hour for routing.
//
// A key is slot (4 bytes, big-endian) | metric (1 byte) | label; the value
// is a signed varint. Writes add to a per-transaction map and the writer
// folds the map into the bucket once per commit, so a thousand orders in
// one commit touch each counter once.

// SlotLength is the span of one counter slot.
const SlotLength = 15 * time.Minute

// Slot is the slot holding t.
func Slot(t time.Time) uint32 { return uint32(t.Unix() / int64(SlotLength/time.Second)) }

// SlotTime is when slot s begins.
func SlotTime(s uint32) time.Time {
	return time.Unix(int64(s)*int64(SlotLength/time.Second), 0).UTC()
}

// Metric names one kind of counter. Labels (SKU, supplier, reason, rule,
// histogram bucket) refine it.
type Metric byte

// The counters. Those marked "cohort" are kept in the slot the order was
// accepted in and move with it from status to status, so that a day's
// orders can be reconciled however long they take; the rest are kept in the
// slot where the thing happened.
const (
	MetricOrders          Metric = 'o' // orders accepted; label SKU
	MetricPaid            Metric = 'g' // amount paid (fen) of orders accepted; label SKU
	MetricDelivered       Metric = 'd' // orders delivered
	MetricDeliveredAmount Metric = 'D' // their amount
	MetricRefunded        Metric = 'x' // orders refunded
	MetricRefundedAmount  Metric = 'X' // their amount
	MetricFailed          Metric = 'f' // orders failed; label reason
	MetricDeliveryTime    Metric = 't' // acceptance to delivery; label histogram bucket
	MetricReviews         Metric = 'v' // orders held for review
	MetricReviewWait      Metric = 'w' // time in review until a decision; label histogram bucket
	MetricRuleHits        Metric = 'h' // label rule
	MetricSupplierOK      Metric = 's' // purchases that delivered; label supplier
	MetricSupplierFail    Metric = 'e' // purchases answered with a definite failure; label supplier
	MetricSupplierUnknown Metric = 'u' // purchases whose outcome was unknown at first; label supplier
	MetricSupplierBad     Metric = 'b' // purchases that returned a bad (duplicate) card, and cards of upheld claims; label supplier
	MetricSupplierCost    Metric = 'c' // supplier spend (fen); label supplier
	MetricSupplierTime    Metric = 'l' // purchase latency; label supplier \x00 histogram bucket
	MetricCohort          Metric = 'P' // cohort: amount (fen) of the slot's orders by current status; label status
	MetricBalance         Metric = 'B' // last balance (fen) a supplier reported in the slot; label supplier (set, not added)
	MetricBalanceSpend    Metric = 'Q' // lifetime spend at that supplier when the balance was read; label supplier (set)
	MetricShopOrders      Metric = 'k' // orders a docking shop placed; label storefront
	MetricShopSpend       Metric = 'K' // what they took from its balance (fen), less refunds; label storefront

	// After-sale claims (docs/claims.md), counted when opened and when
	// resolved; a claim is upheld when reissued or refunded.
	MetricClaimsOpened   Metric = 'C' // claims opened; label SKU
	MetricClaimsResolved Metric = 'R' // claims resolved, upheld or not; label SKU
	MetricClaimsUpheld   Metric = 'U' // claims upheld; label SKU
	MetricClaimTime      Metric = 'T' // opened to resolved; label histogram bucket
	MetricClaimCards     Metric = 'n' // cards named by claims opened; label the supplier each came from
	MetricClaimCardsDone Metric = 'N' // cards named by claims resolved; label supplier
	MetricClaimCardsBad  Metric = 'a' // cards named by claims upheld; label supplier
	metricSupplierLabel         = "\x00"
)

// LifetimeSlot holds counters that are never pruned (lifetime supplier
// spend, to reconcile against balance movements).
const LifetimeSlot = ^uint32(0)

// StatKey addresses one counter.
type StatKey struct {
	Slot   uint32
	Metric Metric
	Label  string
}

func (k StatKey) bytes() []byte {
	b := make([]byte, 5, 5+len(k.Label))
	binary.BigEndian.PutUint32(b, k.Slot)
	b[4] = byte(k.Metric)
	return append(b, k.Label...)
}

func parseStatKey(b []byte) (StatKey, bool) {
	if len(b) < 5 {
		return StatKey{}, false
	}
	return StatKey{Slot: binary.BigEndian.Uint32(b), Metric: Metric(b[4]), Label: string(b[5:])}, true
}

// SupplierLabel is the label of a per-supplier histogram counter.
func SupplierLabel(supplier string, bucket int) string {
	return supplier + metricSupplierLabel + string([]byte{byte(bucket)})
}

// SplitSupplierLabel undoes SupplierLabel.
func SplitSupplierLabel(label string) (supplier string, bucket int, ok bool) {
	n := len(label)
	if n < 2 || label[n-2] != metricSupplierLabel[0] {
		return "", 0, false
	}
	return label[:n-2], int(label[n-1]), true
}

// Add adds delta to a counter. It takes effect when the write commits.
func (view CounterTx) Add(k StatKey, delta int64) {
	t := view.t
	if delta == 0 {
		return
	}
	if t.stats == nil {
		t.stats = make(map[StatKey]int64)
	}
	t.stats[k] += delta
}

// Set overwrites a counter (a gauge such as a balance reading).
func (view CounterTx) Set(k StatKey, v int64) {
	t := view.t
	if t.statSets == nil {
		t.statSets = make(map[StatKey]int64)
	}
	t.statSets[k] = v
	delete(t.stats, k)
}

// Get reads a counter as this transaction sees it.
func (view CounterTx) Get(k StatKey) int64 {
	t := view.t
	if v, ok := t.statSets[k]; ok {
		return v
	}
	var v int64
	if old := t.tx.Bucket(bucketStats).Get(k.bytes()); old != nil {
		v, _ = binary.Varint(old)
	}
	return v + t.stats[k]
}

// flushStats folds the transaction's counters into the bucket, in key
// order so that bbolt touches each page once.
func (t *Tx) flushStats() error {
	if len(t.stats) == 0 && len(t.statSets) == 0 {
		return nil
	}
	b := t.tx.Bucket(bucketStats)
	keys := make([]StatKey, 0, len(t.stats)+len(t.statSets))
	for k := range t.stats {
		keys = append(keys, k)
	}
	for k := range t.statSets {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return string(keys[i].bytes()) < string(keys[j].bytes()) })
	for _, k := range keys {
		kb := k.bytes()
		v, set := t.statSets[k]
		if !set {
			if old := b.Get(kb); old != nil {
				v, _ = binary.Varint(old)
			}
			v += t.stats[k]
		}
		// A fresh value each time: bbolt keeps the slice until the commit.
		if err := b.Put(kb, binary.AppendVarint(nil, v)); err != nil {
			return fmt.Errorf("write counter: %w", err)
		}
	}
	t.stats, t.statSets = nil, nil
	return nil
}

// Range calls fn for every counter of the slots from..to (inclusive), in
// key order.
func (view CounterTx) Range(from, to uint32, fn func(k StatKey, v int64)) {
	t := view.t
	c := t.tx.Bucket(bucketStats).Cursor()
	var start [4]byte
	binary.BigEndian.PutUint32(start[:], from)
	for k, v := c.Seek(start[:]); k != nil; k, v = c.Next() {
		sk, ok := parseStatKey(k)
		if !ok {
			continue
		}
		if sk.Slot > to {
			return
		}
		n, _ := binary.Varint(v)
		fn(sk, n)
	}
}

// statChunk is about how many counters one read transaction of ScanStats
// reads.
const statChunk = 4096

// ScanStats is CounterTx.Range in short read transactions of about statChunk
// counters each: a period of weeks is hundreds of thousands of counters,
// and one long read transaction would hold up every write that makes the
// file grow (bbolt remaps the file only once no read transaction is open).
// A transaction ends only between slots, so each slot is read whole, at
// one moment: counters that one write changes together in a slot (an
// order's cohort amounts moving from one status to another, its count and
// amount paid) always add up.
func (s *Store) ScanStats(from, to uint32, fn func(k StatKey, v int64)) error {
	for {
		next, more := uint32(0), false
		err := s.View(func(tx *Tx) error {
			c := tx.tx.Bucket(bucketStats).Cursor()
			n, last := 0, from
			for k, v := c.Seek(binary.BigEndian.AppendUint32(nil, from)); k != nil; k, v = c.Next() {
				sk, ok := parseStatKey(k)
				if !ok {
					continue
				}
				if sk.Slot > to {
					return nil
				}
				if n >= statChunk && sk.Slot != last {
					next, more = sk.Slot, true
					return nil
				}
				n, last = n+1, sk.Slot
				val, _ := binary.Varint(v)
				fn(sk, val)
			}
			return nil
		})
		if err != nil || !more {
			return err
		}
		from = next
	}
}

// Prune deletes the counters of slots before the given one, at most
// limit of them so that one write stays small; it reports how many it
// deleted.
func (view CounterTx) Prune(before uint32, limit int) (int, error) {
	t := view.t
	b := t.tx.Bucket(bucketStats)
	var doomed [][]byte
	c := b.Cursor()
	for k, _ := c.First(); k != nil && len(doomed) < limit; k, _ = c.Next() {
		if sk, ok := parseStatKey(k); ok && sk.Slot >= before {
			break
		}
		doomed = append(doomed, k)
	}
	for _, k := range doomed {
		if err := b.Delete(k); err != nil {
			return 0, fmt.Errorf("prune counters: %w", err)
		}
	}
	return len(doomed), nil
}

// FirstCounted is when the oldest counter slot kept begins: the store's
// first order, purchase or balance reading, unless 93 days of pruning have
// moved it on. ok is false while nothing has been counted (lifetime
// counters aside).
func (view CounterTx) FirstCounted() (at time.Time, ok bool) {
	t := view.t
	k, _ := t.tx.Bucket(bucketStats).Cursor().First()
	if len(k) < 4 {
		return time.Time{}, false
	}
	slot := binary.BigEndian.Uint32(k)
	if slot == LifetimeSlot {
		return time.Time{}, false
	}
	return SlotTime(slot), true
}
