package storage

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"cardflow/storage/kv"

	"cardflow/internal/money"
)

// Buyer history: what the intake rules read (buyer.orders_1h, orders_24h,
// amount_24h, refunds_30d, first_seen_days). A buyer is known by each of
// its identities — storefront buyer id, contact, IP and top-up account — so
// a new buyer id from a known IP still counts; identities are kept as keyed
// hashes, not in the clear.
//
// Every order and refund is appended to a log keyed by time: one sequential
// write per order, whatever the number of buyers. The last day of orders
// and month of refunds live in an in-memory index built from that log at
// start-up and updated after each commit. When each identity was first seen
// is kept for good in its own bucket; those scattered writes are gathered
// into one transaction a minute (FlushBuyers) instead of one per order, and
// an identity first seen in the minute before a crash is recovered from the
// log.

const (
	historyWindow = 24 * time.Hour
	refundWindow  = 30 * day
	logKeep       = 31 * day
	day           = 24 * time.Hour
	identitySize  = 16
	maxOrdersKept = 256 // per identity
)

// Features are the buyer-history values a rule can read, as seen at intake
// (the order being evaluated not included).
type Features struct {
	Orders1h      int          `json:"orders_1h"`
	Orders24h     int          `json:"orders_24h"`
	Amount24h     money.Amount `json:"amount_24h"`
	Refunds30d    int          `json:"refunds_30d"`
	FirstSeenDays int          `json:"first_seen_days"` // whole days since the oldest identity was first seen; 0 for new
	Hour          int          `json:"hour"`            // the hour of day at intake in the shop's zone
}

// BuyerIdentities are the identities an order's buyer is known by.
func BuyerIdentities(o *Order) []string {
	var ids []string
	add := func(kind, v string) {
		if v = strings.TrimSpace(v); v != "" {
			ids = append(ids, kind+":"+v)
		}
	}
	if o.Buyer.ID != "" {
		add("id", o.Storefront+"/"+o.Buyer.ID) // buyer ids are the storefront's own
	}
	add("contact", strings.ToLower(o.Buyer.Contact))
	add("ip", o.Buyer.IP)
	add("account", o.Account)
	return ids
}

type identity [identitySize]byte

// entry is one order in an identity's history. The index holds one per
// identity of every order of the last day (three or four per order), so
// it is kept to 8 bytes: unix seconds fit 32 bits until 2106, and an
// amount over 42 million yuan saturates, which no rule can tell.
type entry struct {
	at     uint32 // unix seconds
	amount uint32 // fen
}

func newEntry(at, amount int64) entry {
	return entry{at: uint32(min(max(at, 0), math.MaxUint32)), amount: uint32(min(max(amount, 0), math.MaxUint32))}
}

// history is one identity's recent past.
type history struct {
	// first is when the identity was first seen, in unix seconds, if
	// known here: from a log record that saw it first, or read from the
	// firstseen bucket once. 0 means "ask the bucket".
	first   int64
	orders  []entry
	refunds []int64 // unix seconds
	// pending says the identity may have a sighting in buyerIndex.pending:
	// only then is that map consulted, which halves the map work of
	// loading a day of a million orders at start-up.
	pending bool
}

// logRecord is one logged order or refund and the identities it touched.
type logRecord struct {
	at     int64
	refund bool
	amount int64
	ids    []identity
	fresh  []bool // ids[i] was seen for the first time
}

// buyerIndex is the in-memory half of the buyer history. It is changed only
// after commits (so a rolled-back write never shows), under mu.
type buyerIndex struct {
	mu      sync.RWMutex
	m       map[identity]*history
	pending map[identity]int64 // first sightings not yet in the firstseen bucket
	newest  int64
}

func newBuyerIndex() *buyerIndex {
	return &buyerIndex{m: map[identity]*history{}, pending: map[identity]int64{}}
}

// identity is the keyed hash a buyer identity is kept under.
func (s *Store) identity(v string) identity {
	sum := s.vault.buyerMAC.Sum(nil, v)
	var id identity
	copy(id[:], sum[:])
	return id
}

func (t *Tx) identity(s string) identity {
	if id, ok := t.identities[s]; ok {
		return id
	}
	id := t.store.identity(s)
	if t.identities == nil {
		t.identities = map[string]identity{}
	}
	t.identities[s] = id
	return id
}

// logged returns this transaction's records that touch id.
func (t *Tx) logged(id identity) []*logRecord {
	var out []*logRecord
	for _, i := range t.buyerByID[id] {
		out = append(out, &t.buyerLog[i])
	}
	return out
}

// first is when an identity was first seen as far as the index knows, 0
// if it does not.
func (idx *buyerIndex) first(id identity) int64 {
	idx.mu.RLock()
	defer idx.mu.RUnlock()
	first := int64(0)
	if h := idx.m[id]; h != nil {
		first = h.first
	}
	if p, ok := idx.pending[id]; ok && (first == 0 || p < first) {
		first = p
	}
	return first
}

// firstSeen is when an identity was first seen, or 0.
func (t *Tx) firstSeen(id identity) int64 {
	idx := t.store.buyerIndex()
	first := idx.first(id)
	for _, r := range t.logged(id) {
		for i, x := range r.ids {
			if x == id && r.fresh[i] && (first == 0 || r.at < first) {
				first = r.at
			}
		}
	}
	if first != 0 {
		return first
	}
	if v := t.tx.Bucket(bucketFirstSeen).Get(id[:]); v != nil {
		first, _ = binary.Varint(v)
		// Remember it: the bucket's entries never change once written, and
		// a busy buyer would otherwise cost a random read per order.
		idx.mu.Lock()
		if h := idx.m[id]; h != nil && h.first == 0 {
			h.first = first
		}
		idx.mu.Unlock()
	}
	return first
}

// BuyerFeatures computes the history features of identities at now: the
// highest value over all of them.
func (t *Tx) BuyerFeatures(identities []string, now time.Time) Features {
	var f Features
	unix := now.Unix()
	idx := t.store.buyerIndex()
	for _, s := range identities {
		id := t.identity(s)
		var n1h, n24h, refunds int
		var amount int64
		count := func(h *history) {
			for _, e := range h.orders {
				if age := unix - int64(e.at); age >= 0 && age < int64(historyWindow/time.Second) {
					n24h++
					amount += int64(e.amount)
					if age < 3600 {
						n1h++
					}
				}
			}
			for _, r := range h.refunds {
				if age := unix - r; age >= 0 && age < int64(refundWindow/time.Second) {
					refunds++
				}
			}
		}
		idx.mu.RLock()
		if h := idx.m[id]; h != nil {
			count(h)
		}
		idx.mu.RUnlock()
		for _, r := range t.logged(id) { // earlier orders of this same transaction
			h := history{}
			if r.refund {
				h.refunds = []int64{r.at}
			} else {
				h.orders = []entry{newEntry(r.at, r.amount)}
			}
			count(&h)
		}
		f.Orders1h = max(f.Orders1h, n1h)
		f.Orders24h = max(f.Orders24h, n24h)
		f.Amount24h = max(f.Amount24h, money.Amount(amount))
		f.Refunds30d = max(f.Refunds30d, refunds)
		if first := t.firstSeen(id); first != 0 && unix > first {
			f.FirstSeenDays = max(f.FirstSeenDays, int((unix-first)/86400))
		}
	}
	return f
}

// RecordBuyerOrder adds an accepted order to its buyer's history.
func (t *Tx) RecordBuyerOrder(identities []string, now time.Time, amount money.Amount) error {
	return t.logBuyer(identities, now, false, amount)
}

// RecordBuyerRefund adds a refund to its buyer's history.
func (t *Tx) RecordBuyerRefund(identities []string, now time.Time) error {
	return t.logBuyer(identities, now, true, 0)
}

func (t *Tx) logBuyer(identities []string, now time.Time, refund bool, amount money.Amount) error {
	if len(identities) == 0 {
		return nil
	}
	r := logRecord{at: now.Unix(), refund: refund, amount: int64(amount)}
	for _, s := range identities {
		id := t.identity(s)
		r.ids = append(r.ids, id)
		r.fresh = append(r.fresh, t.firstSeen(id) == 0)
	}
	b := t.appending(bucketBuyerLog)
	seq, err := b.NextSequence()
	if err != nil {
		return fmt.Errorf("allocate buyer log seq: %w", err)
	}
	key := binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, uint64(now.UnixNano())), seq)
	if err := b.Put(key, encodeLogRecord(&r)); err != nil {
		return fmt.Errorf("write buyer log: %w", err)
	}
	t.buyerSeqs = append(t.buyerSeqs, seq)
	if t.buyerByID == nil {
		t.buyerByID = map[identity][]int{}
	}
	for _, id := range r.ids {
		t.buyerByID[id] = append(t.buyerByID[id], len(t.buyerLog))
	}
	t.buyerLog = append(t.buyerLog, r)
	return nil
}

// apply adds a committed transaction's log records to the index.
func (idx *buyerIndex) apply(records []logRecord) {
	if len(records) == 0 {
		return
	}
	idx.mu.Lock()
	defer idx.mu.Unlock()
	for i := range records {
		idx.add(&records[i])
	}
}

// add puts one record in the index. fresh marks first sightings that the
// firstseen bucket does not have yet.
func (idx *buyerIndex) add(r *logRecord) {
	idx.newest = max(idx.newest, r.at)
	for i, id := range r.ids {
		h := idx.m[id]
		if h == nil {
			h = &history{}
			idx.m[id] = h
		}
		// A record stamped earlier than a sighting already known moves it
		// back (a refund may be logged with its order's time).
		if r.fresh[i] || h.pending {
			p, isPending := idx.pending[id]
			if r.fresh[i] || isPending {
				if !isPending || r.at < p {
					idx.pending[id] = r.at
				}
				h.pending = true
			}
		}
		if r.fresh[i] || (h.first != 0 && r.at < h.first) {
			if h.first == 0 || r.at < h.first {
				h.first = r.at
			}
		}
		if r.refund {
			h.refunds = append(h.refunds, r.at)
		} else {
			if len(h.orders) == cap(h.orders) {
				// Grow by a quarter, not append's double: the slack of a
				// million histories is memory the process keeps.
				grown := make([]entry, len(h.orders), len(h.orders)+max(2, len(h.orders)/4))
				h.orders = grown[:copy(grown, h.orders)]
			}
			h.orders = append(h.orders, newEntry(r.at, r.amount))
		}
		if len(h.orders) > maxOrdersKept { // keep the newest; counts saturate, which rules do not mind
			h.orders = h.orders[:copy(h.orders, h.orders[len(h.orders)-maxOrdersKept:])]
		}
	}
}

// sweep drops what has left every window.
func (idx *buyerIndex) sweep(now int64) {
	idx.mu.Lock()
	defer idx.mu.Unlock()
	for id, h := range idx.m {
		i := 0
		for i < len(h.orders) && now-int64(h.orders[i].at) >= int64(historyWindow/time.Second) {
			i++
		}
		h.orders = h.orders[:copy(h.orders, h.orders[i:])] // in place: the array's front would otherwise stay allocated
		j := 0
		for j < len(h.refunds) && now-h.refunds[j] >= int64(refundWindow/time.Second) {
			j++
		}
		h.refunds = h.refunds[j:]
		if _, unsaved := idx.pending[id]; len(h.orders) == 0 && len(h.refunds) == 0 && !unsaved {
			delete(idx.m, id) // first-seen is in the bucket; nothing else to remember
		}
	}
}

// buyerIndex waits until the buyer history is indexed.
func (s *Store) buyerIndex() *buyerIndex {
	<-s.buyersReady
	return s.buyers
}

// loadBuyers rebuilds the index from the log at start-up. An identity whose
// first sighting is in the log but not in the firstseen bucket (a crash
// came before the minute's flush) is queued to be written again.
//
// Start-up time matters (a million orders stored must be ready in under
// two seconds), so it reads only what a window needs: refunds of the last
// month, orders of the last day (told apart by a byte, without decoding
// them), and it looks records up in the firstseen bucket only past the
// last flush. Older records' identities are in the bucket already; their
// first sighting is read from it when the buyer is next screened.
func (s *Store) loadBuyers() error {
	if idx := s.loadBuyerSnapshot(); idx != nil {
		idx.sweep(idx.newest)
		s.buyers = idx
		return nil
	}
	var newest, flushed int64
	err := s.db.View(func(tx kv.Tx) error {
		if v := tx.Bucket(bucketMeta).Get(keyBuyersFlushed); v != nil {
			flushed, _ = binary.Varint(v)
		}
		if last, _ := tx.Bucket(bucketBuyerLog).Cursor().Last(); last != nil {
			newest = int64(binary.BigEndian.Uint64(last))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("load buyer history: %w", err)
	}
	idx := newBuyerIndex()
	if newest > 0 {
		// The windows end at the newest record: the clock may not be
		// trusted at start-up, and sweeps drop whatever is stale later.
		// Keys are stamped in Unix nanoseconds.
		refundsFrom := max(newest-int64(refundWindow), 0)
		ordersFrom := newest - int64(historyWindow)
		// Two halves of the day on two cores, merged in time order: the
		// map work dominates, and a busy day is a million records.
		mid := ordersFrom + (newest-ordersFrom)/2
		var later *buyerIndex
		var laterErr error
		var wg sync.WaitGroup
		wg.Go(func() { later, laterErr = s.loadBuyerRange(mid, newest+1, ordersFrom, flushed) })
		idx, err = s.loadBuyerRange(refundsFrom, mid, ordersFrom, flushed)
		wg.Wait()
		if err = cmp.Or(err, laterErr); err != nil {
			return fmt.Errorf("load buyer history: %w", err)
		}
		idx.merge(later)
		idx.sweep(idx.newest)
	}
	s.buyers = idx
	return nil
}

// loadBuyerRange indexes the log records stamped in [from, to): refunds
// all, orders only from ordersFrom on (told apart by a byte, without
// decoding them). It looks identities up in the firstseen bucket only for
// records past the last flush, a chunk's together. A busy day is a million records: they are
// read buyerChunk at a time, each chunk in its own read transaction, so
// that writes that grow the file meanwhile are not held up (bbolt remaps
// only when no read transaction is open). No record is written while the
// index loads (logBuyer waits for the index first), so the chunks read
// what one transaction would.
func (s *Store) loadBuyerRange(from, to, ordersFrom, flushed int64) (*buyerIndex, error) {
	idx := newBuyerIndex()
	upTo, bounded := s.buyerSync.loadUpTo()
	seek := binary.BigEndian.AppendUint64(nil, uint64(from))
	var r logRecord
	var tail []logRecord
	for seek != nil {
		err := s.db.View(func(tx kv.Tx) error {
			tail = tail[:0]
			first := tx.Bucket(bucketFirstSeen)
			c := tx.Bucket(bucketBuyerLog).Cursor()
			k, v := c.Seek(seek)
			seek = nil
			for n := 0; k != nil; k, v = c.Next() {
				at := int64(binary.BigEndian.Uint64(k))
				if at >= to {
					break
				}
				if n == buyerChunk {
					seek = append([]byte(nil), k...)
					break
				}
				n++
				if at < ordersFrom && !isRefundRecord(v) {
					continue
				}
				if bounded && len(k) == 16 && binary.BigEndian.Uint64(k[8:]) > upTo {
					continue // another process's, committed while this one loads: syncBuyers reads it
				}
				// The index copies what it keeps: the record is reused.
				flagged, err := decodeLogRecord(v, &r)
				if err != nil {
					continue // a damaged record only weakens the history; skip it
				}
				switch {
				case r.at <= flushed:
					// Its first sightings are in the bucket already.
					r.fresh = slices.Grow(r.fresh[:0], len(r.ids))[:len(r.ids)]
					clear(r.fresh)
				case !flagged:
					// Past the last flush, written by a version that did
					// not flag first sightings: the firstseen bucket says
					// which are, looked up together below.
					tail = append(tail, logRecord{at: r.at, refund: r.refund, amount: r.amount, ids: slices.Clone(r.ids)})
					continue
				}
				idx.add(&r)
			}
			markFresh(first, tail)
			return nil
		})
		if err != nil {
			return nil, err
		}
		for i := range tail {
			idx.add(&tail[i])
		}
	}
	return idx, nil
}

// buyerChunk is how many buyer log records one read transaction of
// loadBuyerRange reads.
const buyerChunk = 50_000

// merge adds a later index (records stamped after all of idx's) to idx.
func (idx *buyerIndex) merge(later *buyerIndex) {
	idx.newest = max(idx.newest, later.newest)
	for id, at := range later.pending {
		if p, ok := idx.pending[id]; !ok || at < p {
			idx.pending[id] = at
		}
	}
	for id, lh := range later.m {
		h := idx.m[id]
		if h == nil {
			lh.pending = lh.pending || idx.pending[id] != 0
			idx.m[id] = lh
			continue
		}
		if lh.first != 0 && (h.first == 0 || lh.first < h.first) {
			h.first = lh.first
		}
		h.pending = h.pending || lh.pending
		h.refunds = append(h.refunds, lh.refunds...)
		h.orders = append(h.orders, lh.orders...)
		if len(h.orders) > maxOrdersKept {
			h.orders = h.orders[:copy(h.orders, h.orders[len(h.orders)-maxOrdersKept:])]
		}
	}
}

// FlushBuyers writes first sightings gathered since the last flush into the
// firstseen bucket and drops log records older than a month. The engine
// calls it about once a minute.
//
// A busy minute leaves a hundred thousand sightings or more. They are
// written in key order and in transactions of flushChunk: bbolt splits
// nodes only at commit, so random keys put into one transaction make each
// insert shift a node that keeps growing (a stall quadratic in the keys,
// during which no order can be written; docs/performance.md), and one huge
// transaction would hold the writer from every order anyway.
func (s *Store) FlushBuyers(now time.Time) error {
	idx := s.buyerIndex()
	if s.buyersErr != nil {
		return fmt.Errorf("buyer history not loaded, rules see none: %w", s.buyersErr)
	}
	idx.mu.RLock()
	batch := make([]sighting, 0, len(idx.pending))
	for id, at := range idx.pending {
		batch = append(batch, sighting{id, at})
	}
	// Every record applied so far has its sightings in this batch. A
	// commit in flight may still apply a record a little older than the
	// newest (orders are stamped before they commit): a minute of margin
	// covers it, and a sighting missed anyway is found fresh again at the
	// buyer's next order.
	watermark := idx.newest - 60
	idx.mu.RUnlock()
	slices.SortFunc(batch, func(a, b sighting) int { return bytes.Compare(a.id[:], b.id[:]) })
	for chunk := range slices.Chunk(batch, flushChunk) {
		err := s.Update(func(tx *Tx) error {
			first := tx.tx.Bucket(bucketFirstSeen)
			kv.Prefetch(first, func() [][]byte {
				keys := make([][]byte, len(chunk))
				for i := range chunk {
					keys[i] = chunk[i].id[:]
				}
				return keys
			})
			for _, sg := range chunk {
				if first.Get(sg.id[:]) == nil {
					if err := first.Put(sg.id[:], binary.AppendVarint(nil, sg.at)); err != nil {
						return fmt.Errorf("write first sighting: %w", err)
					}
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		idx.mu.Lock()
		for _, sg := range chunk {
			if idx.pending[sg.id] == sg.at {
				delete(idx.pending, sg.id)
			}
		}
		idx.mu.Unlock()
	}
	err := s.Update(func(tx *Tx) error {
		if watermark > 0 {
			if err := tx.tx.Bucket(bucketMeta).Put(keyBuyersFlushed, binary.AppendVarint(nil, watermark)); err != nil {
				return fmt.Errorf("write flush watermark: %w", err)
			}
		}
		return tx.pruneBuyerLog(now.Add(-logKeep), 10_000)
	})
	if err != nil {
		return err
	}
	idx.sweep(now.Unix())
	return nil
}

// flushChunk is how many first sightings one FlushBuyers transaction writes.
const flushChunk = 5000

type sighting struct {
	id identity
	at int64
}

// pruneBuyerLog deletes up to limit log records older than cutoff.
func (t *Tx) pruneBuyerLog(cutoff time.Time, limit int) error {
	c := t.tx.Bucket(bucketBuyerLog).Cursor()
	n := 0
	for k, _ := c.First(); k != nil && n < limit && int64(binary.BigEndian.Uint64(k[:8])) < cutoff.UnixNano(); k, _ = c.Next() {
		if err := c.Delete(); err != nil {
			return fmt.Errorf("prune buyer log: %w", err)
		}
		n++
	}
	return nil
}

// A log record is its time (varint), its kind, its amount (varint) and its
// identities, identitySize bytes each. The kinds 'o' (order) and 'r'
// (refund) are records of versions before first-sighting flags; 'O' and
// 'R' carry, between the amount and the identities, a uvarint whose bit i
// says whether identity i was seen there for the first time, as the
// writer's transaction found it. Another process reading the record then
// need not look each identity up in the firstseen bucket to know (that
// was a read of three keys per order for every process but the writer).
// A record with more than maxFlagged identities is written without flags.
const maxFlagged = 64

func encodeLogRecord(r *logRecord) []byte {
	flagged := len(r.fresh) == len(r.ids) && len(r.ids) <= maxFlagged
	b := binary.AppendVarint(nil, r.at)
	switch {
	case r.refund && flagged:
		b = append(b, 'R')
	case r.refund:
		b = append(b, 'r')
	case flagged:
		b = append(b, 'O')
	default:
		b = append(b, 'o')
	}
	b = binary.AppendVarint(b, r.amount)
	if flagged {
		var mask uint64
		for i, fresh := range r.fresh {
			if fresh {
				mask |= 1 << i
			}
		}
		b = binary.AppendUvarint(b, mask)
	}
	for _, id := range r.ids {
		b = append(b, id[:]...)
	}
	return b
}

// isRefundRecord tells a refund record from an order record by its kind
// byte, without decoding the rest.
func isRefundRecord(b []byte) bool {
	_, n := binary.Varint(b)
	return n > 0 && len(b) > n && (b[n] == 'r' || b[n] == 'R')
}

// decodeLogRecord decodes b into r, reusing r's slices. flagged tells
// whether the record said which identities were first seen: then r.fresh
// says it, else r.fresh is empty (and shorter than r.ids, if the record has
// identities: see markFresh).
func decodeLogRecord(b []byte, r *logRecord) (flagged bool, err error) {
	at, n := binary.Varint(b)
	if n <= 0 || len(b) < n+1 {
		return false, errCorrupt
	}
	kind := b[n]
	switch kind {
	case 'o', 'r':
	case 'O', 'R':
		flagged = true
	default:
		return false, errCorrupt
	}
	r.at, r.refund = at, kind == 'r' || kind == 'R'
	b = b[n+1:]
	amount, n := binary.Varint(b)
	if n <= 0 {
		return false, errCorrupt
	}
	r.amount, b = amount, b[n:]
	var mask uint64
	if flagged {
		if mask, n = binary.Uvarint(b); n <= 0 {
			return false, errCorrupt
		}
		b = b[n:]
	}
	if len(b)%identitySize != 0 || (flagged && len(b)/identitySize > maxFlagged) {
		return false, errCorrupt
	}
	r.ids, r.fresh = r.ids[:0], r.fresh[:0]
	for ; len(b) > 0; b = b[identitySize:] {
		var id identity
		copy(id[:], b)
		r.ids = append(r.ids, id)
		if flagged {
			r.fresh = append(r.fresh, mask&(1<<(len(r.ids)-1)) != 0)
		}
	}
	return flagged, nil
}
