package pgkv

import (
	"bytes"
	"encoding/binary"
	"slices"
	"sort"
	"sync"
)

// cache is what a DB handle knows of its bucket tables as they stood at one
// reading of the write clock: keys read (found or missing), ranges of keys
// known complete (every key between two places, with its value), sequence
// numbers, and what its own Updates wrote. All of it is true while the
// clock reads what the cache records, and a transaction uses it only then:
//   - An Update finds the clock, under the writer lock, where the cache
//     has it (this handle wrote last) and uses it; or a few commits on, and
//     brings it up to date with their changes (kv_changelog: deletions and
//     small values are applied, other keys put are forgotten); or else
//     empties it and starts it at the clock's reading. What it reads from the database goes in as
//     it is read, its writes at its commit with the clock's new reading.
//     One that rolls back leaves the clock, and so the cache, as it was;
//     one whose commit's outcome was lost empties it.
//   - A View uses and fills it while its snapshot's clock is the cache's;
//     otherwise it reads the database alone.
//
// It is bounded by bytes (keys, values and a fixed cost per entry). Past
// the bound it sheds a quarter: keys read one by one go first, in map
// order (as good as random), then ranges shrink from their high end, since
// queues are walked from the low end.
type cache struct {
	mu      sync.Mutex
	max     int64
	size    int64
	at      clock
	valid   bool
	buckets map[bucketKey]*bcache
}

// bcache is what the cache knows of one bucket.
type bcache struct {
	points   map[string][]byte // keys known one by one (a span's answer comes first); nil: missing
	spans    []*span           // apart, in order
	seq      uint64
	seqKnown bool
}

// span is a range of keys known complete: every key between lo and hi is
// in rows, in order.
type span struct {
	lo, hi pos
	rows   []row
}

// entryCost is what an entry costs beside its key and value.
const entryCost = 64

func cost(k string, v []byte) int64 { return int64(len(k) + len(v) + entryCost) }

func rowCost(r row) int64 { return int64(len(r.k) + len(r.v) + entryCost) }

func newCache(max int64) *cache { return &cache{max: max} }

// holds says whether the cache is true at clock at; mu is held.
func (c *cache) holds(at clock) bool { return c.valid && c.at == at }

// change is what one commit changed, as a cache needs it.
type change struct {
	n    int64 // the clock's count the commit left
	keys []changed
}

// changed is one key a commit wrote.
type changed struct {
	bk  bucketKey
	k   string // "": the bucket's sequence number
	v   []byte // the value put, if small; nil: not known
	del bool
}

// since returns the clock's count the cache is true at, false if it knows
// nothing.
func (c *cache) since() (int64, bool) {
	if c == nil {
		return 0, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.at.n, c.valid
}

// begin is called by an Update that found the clock at at, under the
// writer lock, with the changes committed since the cache's count (as many
// as there were, if few enough).
func (c *cache) begin(at clock, changes []change) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.holds(at) {
		return
	}
	if c.valid && at.n > c.at.n && int64(len(changes)) == at.n-c.at.n {
		caught := true
		for i, ch := range changes {
			caught = caught && ch.n == c.at.n+1+int64(i)
		}
		if caught {
			for _, ch := range changes {
				for _, x := range ch.keys {
					c.forget(x)
				}
			}
			c.at = at
			return
		}
	}
	c.buckets, c.size, c.at, c.valid = map[bucketKey]*bcache{}, 0, at, true
}

// forget brings the cache past another process's write of one key: a
// deletion, or a put whose value came with it, is applied; any other put
// is no longer known. mu is held.
func (c *cache) forget(x changed) {
	bc := c.buckets[x.bk]
	switch {
	case bc == nil:
		return
	case x.k == "" && len(x.v) == 8:
		bc.seq, bc.seqKnown = binary.BigEndian.Uint64(x.v), true
		return
	case x.k == "":
		bc.seqKnown = false
		return
	case x.del:
		c.setPoint(bc, x.k, nil)
		return
	case x.v != nil:
		c.setPoint(bc, x.k, x.v)
		return
	}
	if old, ok := bc.points[x.k]; ok {
		delete(bc.points, x.k)
		c.size -= cost(x.k, old)
	}
	i := bc.spanIndex(x.k)
	if i < 0 {
		return
	}
	// The span splits around the key.
	s := bc.spans[i]
	j, found := search(s.rows, x.k)
	rest := j
	if found {
		c.size -= rowCost(s.rows[j])
		s.rows[j] = row{}
		rest++
	}
	left := &span{lo: s.lo, hi: before(x.k), rows: s.rows[:j:j]}
	right := &span{lo: after(x.k), hi: s.hi, rows: s.rows[rest:]}
	bc.spans = slices.Replace(bc.spans, i, i+1, left, right)
	c.size += entryCost
}

// drop empties the cache until the next Update begins.
func (c *cache) drop() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.buckets, c.size, c.valid = nil, 0, false
}

// bucket returns what the cache knows of bk, made if new; mu is held.
func (c *cache) bucket(bk bucketKey) *bcache {
	bc := c.buckets[bk]
	if bc == nil {
		bc = &bcache{points: map[string][]byte{}}
		c.buckets[bk] = bc
	}
	return bc
}

// spanAt returns the span k lies in, nil if none.
func (bc *bcache) spanAt(k string) *span {
	if i := bc.spanIndex(k); i >= 0 {
		return bc.spans[i]
	}
	return nil
}

// spanIndex returns the index of the span k lies in, -1 if none.
func (bc *bcache) spanIndex(k string) int {
	i := sort.Search(len(bc.spans), func(i int) bool { return !bc.spans[i].hi.below(k) })
	if i < len(bc.spans) && bc.spans[i].lo.below(k) {
		return i
	}
	return -1
}

// clip keeps a cached value from being appended to in place by a reader.
func clip(v []byte) []byte { return v[:len(v):len(v)] }

// get returns k's value in bk (nil: missing) and whether the cache knows
// it at clock at.
func (c *cache) get(at clock, bk bucketKey, k string) ([]byte, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.holds(at) {
		return nil, false
	}
	bc := c.buckets[bk]
	if bc == nil {
		return nil, false
	}
	if s := bc.spanAt(k); s != nil {
		if j, found := search(s.rows, k); found {
			return clip(s.rows[j].v), true
		}
		return nil, true
	}
	v, ok := bc.points[k]
	if v != nil {
		v = clip(v)
	}
	return v, ok
}

// putRead records k's value in bk (nil: missing) as read at clock at, and
// says whether the cache took it (it holds at).
func (c *cache) putRead(at clock, bk bucketKey, k string, v []byte) bool {
	if c == nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.holds(at) {
		return false
	}
	c.setPoint(c.bucket(bk), k, v)
	c.trim()
	return true
}

// setPoint records k's value where it belongs: in its span, or as a point.
// mu is held.
func (c *cache) setPoint(bc *bcache, k string, v []byte) {
	if s := bc.spanAt(k); s != nil {
		if old, ok := bc.points[k]; ok {
			delete(bc.points, k)
			c.size -= cost(k, old)
		}
		j, found := search(s.rows, k)
		switch {
		case v != nil && found:
			c.size += int64(len(v) - len(s.rows[j].v))
			s.rows[j].v = v
		case v != nil:
			r := row{k: []byte(k), v: v}
			s.rows = slices.Insert(s.rows, j, r)
			c.size += rowCost(r)
		case found && j == 0:
			// Queues are taken from the front: no rows move.
			c.size -= rowCost(s.rows[0])
			s.rows[0] = row{}
			s.rows = s.rows[1:]
		case found:
			c.size -= rowCost(s.rows[j])
			s.rows = slices.Delete(s.rows, j, j+1)
		}
		return
	}
	if old, ok := bc.points[k]; ok {
		c.size -= cost(k, old)
	}
	bc.points[k] = v
	c.size += cost(k, v)
}

// sequence returns bk's sequence number, and whether the cache knows it at
// clock at.
func (c *cache) sequence(at clock, bk bucketKey) (uint64, bool) {
	if c == nil {
		return 0, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.holds(at) {
		return 0, false
	}
	if bc := c.buckets[bk]; bc != nil && bc.seqKnown {
		return bc.seq, true
	}
	return 0, false
}

// putSequence records bk's sequence number as read at clock at.
func (c *cache) putSequence(at clock, bk bucketKey, n uint64) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.holds(at) {
		bc := c.bucket(bk)
		bc.seq, bc.seqKnown = n, true
	}
}

// page returns, if the cache knows them at clock at, up to size keys of bk
// onward from from (or back from it), in order, and the window they fill:
// every key between lo and hi. The rows are the caller's to change.
func (c *cache) page(at clock, bk bucketKey, onward bool, from pos, size int) (rows []row, lo, hi pos, ok bool) {
	if c == nil {
		return nil, lo, hi, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.holds(at) {
		return nil, lo, hi, false
	}
	bc := c.buckets[bk]
	if bc == nil {
		return nil, lo, hi, false
	}
	var s *span
	if onward {
		// The span from lies in, not at its end: lo <= from < hi.
		i := sort.Search(len(bc.spans), func(i int) bool { return bc.spans[i].hi.cmp(from) > 0 })
		if i == len(bc.spans) || bc.spans[i].lo.cmp(from) > 0 {
			return nil, lo, hi, false
		}
		s = bc.spans[i]
		j := sort.Search(len(s.rows), func(j int) bool { return from.below(string(s.rows[j].k)) })
		end := min(j+size, len(s.rows))
		lo, hi = from, s.hi
		if end < len(s.rows) {
			hi = after(string(s.rows[end-1].k))
		}
		rows = s.rows[j:end]
	} else {
		// lo < from <= hi.
		i := sort.Search(len(bc.spans), func(i int) bool { return bc.spans[i].hi.cmp(from) >= 0 })
		if i == len(bc.spans) || bc.spans[i].lo.cmp(from) >= 0 {
			return nil, lo, hi, false
		}
		s = bc.spans[i]
		j := sort.Search(len(s.rows), func(j int) bool { return from.below(string(s.rows[j].k)) })
		begin := max(0, j-size)
		lo, hi = s.lo, from
		if begin > 0 {
			lo = before(string(s.rows[begin].k))
		}
		rows = s.rows[begin:j]
	}
	out := make([]row, len(rows), max(len(rows), size))
	for i, r := range rows {
		out[i] = row{k: clip(r.k), v: clip(r.v)}
	}
	return out, lo, hi, true
}

// putPage records that rows are every key of bk between lo and hi, as read
// at clock at. It joins the spans it meets.
func (c *cache) putPage(at clock, bk bucketKey, lo, hi pos, rows []row) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.holds(at) {
		return
	}
	bc := c.bucket(bk)
	// spans[i:j] overlap or touch lo..hi.
	i := sort.Search(len(bc.spans), func(i int) bool { return bc.spans[i].hi.cmp(lo) >= 0 })
	j := i
	for j < len(bc.spans) && bc.spans[j].lo.cmp(hi) <= 0 {
		j++
	}
	joined := &span{lo: lo, hi: hi}
	var head, tail []row
	if i < j {
		if first := bc.spans[i]; first.lo.cmp(lo) < 0 {
			joined.lo = first.lo
			n := sort.Search(len(first.rows), func(n int) bool { return lo.below(string(first.rows[n].k)) })
			head = first.rows[:n]
		}
		if last := bc.spans[j-1]; last.hi.cmp(hi) > 0 {
			joined.hi = last.hi
			n := sort.Search(len(last.rows), func(n int) bool { return hi.below(string(last.rows[n].k)) })
			tail = last.rows[n:]
		}
		for _, s := range bc.spans[i:j] {
			c.size -= entryCost
			for _, r := range s.rows {
				c.size -= rowCost(r)
			}
		}
	}
	joined.rows = make([]row, 0, len(head)+len(rows)+len(tail))
	joined.rows = append(append(append(joined.rows, head...), rows...), tail...)
	c.size += entryCost
	for _, r := range joined.rows {
		c.size += rowCost(r)
	}
	bc.spans = append(bc.spans[:i], append([]*span{joined}, bc.spans[j:]...)...)
	c.trim()
}

// commit records an Update's writes and sequence numbers: it began at clock
// from and its commit moved the clock to to. If the clock moved by more
// than the one commit, someone else wrote beside it, and the cache is
// emptied.
func (c *cache) commit(from, to clock, writes map[entryKey]write, seqs map[bucketKey]*seqState) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.holds(from) || to.n != from.n+1 {
		c.buckets, c.size, c.valid = nil, 0, false
		return
	}
	for key, w := range writes {
		var v []byte
		if w.v != nil {
			v = bytes.Clone(w.v) // the caller may reuse its slice once the transaction ends
		}
		c.setPoint(c.bucket(bucketKey{key.tbl, key.sub}), key.k, v)
		c.trim() // as it goes: a large commit must not hold all its writes twice
	}
	for bk, s := range seqs {
		bc := c.bucket(bk)
		bc.seq, bc.seqKnown = s.n, true
	}
	c.at = to
}

// trim sheds a quarter of the cache once it is past its bound; mu is held.
func (c *cache) trim() {
	if c.size <= c.max {
		return
	}
	target := c.max / 4 * 3
	for _, bc := range c.buckets {
		for k, v := range bc.points {
			delete(bc.points, k)
			c.size -= cost(k, v)
			if c.size <= target {
				return
			}
		}
	}
	for bk, bc := range c.buckets {
		for len(bc.spans) > 0 && c.size > target {
			s := bc.spans[len(bc.spans)-1]
			n := len(s.rows)
			for n > 0 && c.size > target {
				n--
				c.size -= rowCost(s.rows[n])
			}
			clear(s.rows[n:])
			s.rows = s.rows[:n]
			if n == 0 {
				c.size -= entryCost
				bc.spans[len(bc.spans)-1] = nil
				bc.spans = bc.spans[:len(bc.spans)-1]
			} else {
				s.hi = after(string(s.rows[n-1].k))
			}
		}
		if len(bc.spans) == 0 && !bc.seqKnown {
			delete(c.buckets, bk)
		}
		if c.size <= target {
			return
		}
	}
}
