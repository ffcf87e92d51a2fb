package storage

import (
	"encoding/binary"
	"sync"
	"time"

	"cardflow/storage/kv"
)

// Several processes sharing a PostgreSQL store each keep the buyer history
// in memory (buyers.go), and each adds its own commits' records as they
// commit. A buyer's orders arrive at any of them, so each also reads, every
// buyerSyncEvery, the records the others committed since it last looked:
// the rules of every process see a burst spread over all of them, a second
// late at most. The log's sequence numbers are handed out under the one
// writer lock, so every record numbered at or below the bucket's sequence
// when a read begins is committed and visible to it; the process's own
// records since the last look are known (own) and skipped.
//
// A look knows how many records are new (the sequence moved from seen to
// top) but not where they are: the log is in time order, and a record is
// stamped with its transaction's clock, a little before it commits, on a
// process whose clock differs. So it walks the log back from its newest
// record and stops once it has met every new number. It used to read
// forward over a window of buyerSyncSlack every second, ten times each
// record, which at 2,000 orders/s was a fifth of what two processes read.
const (
	buyerSyncEvery = time.Second
	// buyerSyncSlack is how far before the newest record the last look saw
	// a walk goes back at most: a record that was never found (deleted,
	// or stamped earlier than that) stops being looked for there.
	buyerSyncSlack = 10 * time.Second
)

// buyerSync is what a shared store's process knows of the buyer log.
type buyerSync struct {
	look sync.Mutex // one look at a time: two would apply the same records
	mu   sync.Mutex
	on   bool                // a shared store: start ran
	seen uint64              // every record numbered up to seen is in the index
	from int64               // unix nanoseconds: where the next look starts
	own  map[uint64]struct{} // this process's records numbered above seen
}

// start notes, before the history is loaded, the log's sequence: the load
// reads the records numbered up to it (loadUpTo) and the looks read the
// ones after, so none is counted twice or missed.
func (b *buyerSync) start(db kv.DB) {
	var top uint64
	_ = db.View(func(tx kv.Tx) error { top = tx.Bucket(bucketBuyerLog).Sequence(); return nil })
	b.mu.Lock()
	b.on, b.seen, b.from = true, top, time.Now().Add(-buyerSyncSlack).UnixNano()
	b.mu.Unlock()
}

// loadUpTo is the highest record number the load reads; every record on
// a bbolt file (bounded false), where nobody else writes.
func (b *buyerSync) loadUpTo() (seq uint64, bounded bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.seen, b.on
}

// committed notes this process's records, just applied to the index.
func (b *buyerSync) committed(seqs []uint64) {
	if len(seqs) == 0 {
		return
	}
	b.mu.Lock()
	if b.own == nil {
		b.own = map[uint64]struct{}{}
	}
	for _, s := range seqs {
		if s > b.seen {
			b.own[s] = struct{}{}
		}
	}
	b.mu.Unlock()
}

// syncBuyers reads the other processes' records committed since the last
// look into the index.
func (s *Store) syncBuyers() error {
	idx := s.buyerIndex()
	b := &s.buyerSync
	b.look.Lock()
	defer b.look.Unlock()
	b.mu.Lock()
	seen, from := b.seen, b.from
	b.mu.Unlock()
	var top uint64
	var records []logRecord
	var newest int64
	err := s.db.View(func(tx kv.Tx) error {
		log := tx.Bucket(bucketBuyerLog)
		top = log.Sequence()
		if top <= seen {
			return nil
		}
		b.mu.Lock()
		defer b.mu.Unlock()
		c := log.Cursor()
		met := uint64(0)
		for k, v := c.Last(); k != nil && met < top-seen; k, v = c.Prev() {
			if len(k) != 16 {
				continue
			}
			at := int64(binary.BigEndian.Uint64(k))
			if at < from {
				break
			}
			seq := binary.BigEndian.Uint64(k[8:])
			if seq <= seen || seq > top {
				continue
			}
			met++
			newest = max(newest, at)
			if _, mine := b.own[seq]; mine {
				continue
			}
			var r logRecord
			if _, err := decodeLogRecord(v, &r); err != nil {
				continue // a damaged record only weakens the history
			}
			records = append(records, r)
		}
		markFresh(tx.Bucket(bucketFirstSeen), records)
		return nil
	})
	if err != nil || top <= seen {
		return err
	}
	idx.apply(records)
	b.mu.Lock()
	b.seen = top
	if newest > 0 {
		b.from = max(b.from, newest-int64(buyerSyncSlack))
	}
	for s := range b.own {
		if s <= top {
			delete(b.own, s)
		}
	}
	b.mu.Unlock()
	return nil
}
