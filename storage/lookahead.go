package storage

import "cardflow/storage/kv"

// lookAhead reads, before a batch's writes run, what its intake writes
// (UpdateIntake) look up first: each new order's external id, and the
// first sightings of buyer identities the buyer index does not know. An
// engine whose reads are round trips (pgkv) reads each bucket's keys in
// one; the writes then find them in memory, and misses cost nothing. On
// bbolt, whose reads are memory reads, it does nothing.
func (t *Tx) lookAhead(batch []*writeReq) {
	kv.Prefetch(t.tx.Bucket(bucketExt), func() [][]byte {
		var keys [][]byte
		for _, r := range batch {
			if o := r.intake; o != nil {
				keys = append(keys, extKey(o.Storefront, o.ExternalID))
			}
		}
		return keys
	})
	kv.Prefetch(t.tx.Bucket(bucketFirstSeen), func() [][]byte {
		var keys [][]byte
		idx := t.store.buyerIndex()
		for _, r := range batch {
			if r.intake == nil {
				continue
			}
			for _, s := range BuyerIdentities(r.intake) {
				if id := t.identity(s); idx.first(id) == 0 {
					keys = append(keys, id[:])
				}
			}
		}
		return keys
	})
}

// markFresh sets, for each record, which of its identities the firstseen
// bucket does not have: on PostgreSQL in one round trip for them all
// rather than one per identity.
func markFresh(first kv.Bucket, records []logRecord) {
	kv.Prefetch(first, func() [][]byte {
		var keys [][]byte
		for i := range records {
			for j := range records[i].ids {
				keys = append(keys, records[i].ids[j][:])
			}
		}
		return keys
	})
	for i := range records {
		r := &records[i]
		r.fresh = make([]bool, len(r.ids))
		for j, id := range r.ids {
			r.fresh[j] = first.Get(id[:]) == nil
		}
	}
}
