package storage

import "cardflow/storage/kv"

// lookups lists what the intake writes (UpdateIntake) of a batch look up
// first: each new order's external id, and the first sightings of buyer
// identities the buyer index does not know.
func (s *Store) lookups(batch []*writeReq) []kv.Read {
	var exts, firsts [][]byte
	idx := s.buyerIndex()
	for _, r := range batch {
		o := r.intake
		if o == nil {
			continue
		}
		exts = append(exts, extKey(o.Storefront, o.ExternalID))
		for _, v := range BuyerIdentities(o) {
			if id := s.identity(v); idx.first(id) == 0 {
				firsts = append(firsts, id[:])
			}
		}
	}
	if len(exts) == 0 {
		return nil
	}
	return []kv.Read{{Bucket: bucketExt, Keys: exts}, {Bucket: bucketFirstSeen, Keys: firsts}}
}

// update runs a batch's transaction. An engine whose reads are round trips
// to a server (pgkv) reads the batch's lookups in the round trip that
// takes the writer lock; on bbolt, whose reads are memory reads, it is
// Update.
func (s *Store) update(batch []*writeReq, fn func(kv.Tx) error) error {
	if r, ok := s.db.(kv.ReadingUpdater); ok {
		return r.UpdateReading(s.lookups(batch), fn)
	}
	return s.db.Update(fn)
}

// lookAhead reads the lookups of writes that joined a batch after its
// transaction began, on an engine whose reads are round trips, in one round
// trip.
func (t *Tx) lookAhead(joined []*writeReq) {
	if r, ok := t.tx.(kv.ReadAhead); ok && len(joined) > 0 {
		r.ReadAhead(t.store.lookups(joined))
	}
}

// markFresh sets, for each record that does not say it (one written by a
// version before first-sighting flags: its fresh is shorter than its ids),
// which of its identities the firstseen bucket does not have: on
// PostgreSQL in one round trip for them all rather than one per identity.
func markFresh(first kv.Bucket, records []logRecord) {
	unflagged := func(r *logRecord) bool { return len(r.fresh) != len(r.ids) }
	kv.Prefetch(first, func() [][]byte {
		var keys [][]byte
		for i := range records {
			if !unflagged(&records[i]) {
				continue
			}
			for j := range records[i].ids {
				keys = append(keys, records[i].ids[j][:])
			}
		}
		return keys
	})
	for i := range records {
		r := &records[i]
		if !unflagged(r) {
			continue
		}
		r.fresh = make([]bool, len(r.ids))
		for j, id := range r.ids {
			r.fresh[j] = first.Get(id[:]) == nil
		}
	}
}
