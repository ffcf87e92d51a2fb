package pgkv

import (
	"bytes"
	"errors"
	"slices"
	"strings"
)

// Page sizes of a cursor: a walk that stops after a few keys (most do)
// reads few; a long one reads larger pages as it goes on.
const (
	firstPage = 32
	maxPage   = 256
)

// writeLog lists the keys written to a bucket while a cursor walks it, in
// order, for cursors to catch up with.
type writeLog struct {
	keys    []string
	walkers int
}

// row is one key and its value.
type row struct{ k, v []byte }

// bound is one end of a cursor's window: a key, included or not, or no
// bound at all (the bucket's end).
type bound struct {
	key  []byte
	set  bool
	incl bool
}

// cursor walks a window of the bucket's rows, read a page at a time. The
// window holds every key of the bucket between lo and hi as the
// transaction sees it: writes the transaction makes later are merged into
// the window at the next move (catchUp); a page read flushes the buffered
// writes first, so the database shows them.
type cursor struct {
	b      *bucket
	log    *writeLog
	seen   int // log entries the window reflects
	rows   []row
	lo, hi bound
	page   int // size of the last page read
	// The position: on rows[i] (on), or between rows[i-1] and rows[i]
	// after cur was deleted, or off an end (cur nil, edge -1 or +1).
	i    int
	cur  []byte
	on   bool
	edge int
}

func (b *bucket) cursor() *cursor {
	bk := bucketKey{b.tbl, b.sub}
	l := b.t.logs[bk]
	if l == nil {
		l = &writeLog{}
		b.t.logs[bk] = l
	}
	l.walkers++
	return &cursor{b: b, log: l}
}

// done lets the write log go once no cursor of the bucket walks (ForEach's
// cursor ends with it; one handed to a caller lives as long as its
// transaction).
func (c *cursor) done() {
	if c.log.walkers--; c.log.walkers == 0 {
		delete(c.b.t.logs, bucketKey{c.b.tbl, c.b.sub})
	}
}

// First moves to the first key.
func (c *cursor) First() ([]byte, []byte) {
	if !c.read(true, bound{}, firstPage) {
		return nil, nil
	}
	return c.forward(0)
}

// Last moves to the last key.
func (c *cursor) Last() ([]byte, []byte) {
	if !c.read(false, bound{}, firstPage) {
		return nil, nil
	}
	return c.backward(len(c.rows) - 1)
}

// Seek moves to key, or the first key after it.
func (c *cursor) Seek(key []byte) ([]byte, []byte) {
	from := bound{}
	if len(key) > 0 {
		from = bound{key: bytes.Clone(key), set: true, incl: true}
	}
	if !c.read(true, from, firstPage) {
		return nil, nil
	}
	return c.forward(0)
}

// Next moves to the next key.
func (c *cursor) Next() ([]byte, []byte) {
	if !c.catchUp() {
		return nil, nil
	}
	j := c.i
	if c.on {
		j++
	}
	return c.forward(j)
}

// Prev moves to the previous key.
func (c *cursor) Prev() ([]byte, []byte) {
	if !c.catchUp() {
		return nil, nil
	}
	return c.backward(c.i - 1)
}

// Delete removes the key the cursor is on; Next then moves to the key
// after it, Prev to the one before.
func (c *cursor) Delete() error {
	if !c.b.t.writable {
		return errReadOnly
	}
	if !c.catchUp() {
		return c.b.t.err
	}
	if !c.on {
		return errors.New("pgkv: the cursor is on no key")
	}
	return c.b.Delete(c.cur)
}

// forward moves to rows[j], reading pages onward while j is past the
// window.
func (c *cursor) forward(j int) ([]byte, []byte) {
	for j >= len(c.rows) {
		if !c.hi.set {
			return c.off(+1)
		}
		if !c.read(true, bound{key: c.hi.key, set: true, incl: !c.hi.incl}, c.grow()) {
			return nil, nil
		}
		j = 0
	}
	return c.at(j)
}

// backward moves to rows[j], reading pages back while j is before the
// window.
func (c *cursor) backward(j int) ([]byte, []byte) {
	for j < 0 {
		if !c.lo.set {
			return c.off(-1)
		}
		if !c.read(false, bound{key: c.lo.key, set: true, incl: !c.lo.incl}, c.grow()) {
			return nil, nil
		}
		j = len(c.rows) - 1
	}
	return c.at(j)
}

func (c *cursor) at(j int) ([]byte, []byte) {
	c.i, c.cur, c.on, c.edge = j, c.rows[j].k, true, 0
	return c.rows[j].k, c.rows[j].v
}

// off leaves the cursor off one end: -1 before the first key, +1 after the
// last.
func (c *cursor) off(edge int) ([]byte, []byte) {
	c.cur, c.on, c.edge = nil, false, edge
	c.i = 0
	if edge > 0 {
		c.i = len(c.rows)
	}
	return nil, nil
}

func (c *cursor) grow() int {
	return min(4*c.page, maxPage)
}

// read replaces the window with a page from the database: onward from
// from, or back from it. It flushes the transaction's writes first, so the
// page shows them. False after a failure (the transaction holds it).
func (c *cursor) read(onward bool, from bound, size int) bool {
	t := c.b.t
	if t.err != nil || t.flush() != nil {
		c.rows = nil
		return false
	}
	tb := c.b.tbl
	var sql string
	args := []any{c.b.subB}
	switch {
	case !from.set && onward:
		sql = tb.first
	case !from.set:
		sql = tb.last
	case onward && from.incl:
		sql = tb.from
	case onward:
		sql = tb.after
	case from.incl:
		sql = tb.through
	default:
		sql = tb.before
	}
	if from.set {
		args = append(args, from.key)
	}
	args = append(args, size)
	rows, err := c.query(sql, args, size)
	if err != nil {
		t.fail("walk "+tb.name, err)
		c.rows = nil
		return false
	}
	c.page, c.seen = size, len(c.log.keys)
	full := len(rows) == size
	if onward {
		c.lo, c.hi = from, bound{}
		if full {
			c.hi = bound{key: rows[len(rows)-1].k, set: true, incl: true}
		}
	} else {
		slices.Reverse(rows)
		c.lo, c.hi = bound{}, from
		if full {
			c.lo = bound{key: rows[0].k, set: true, incl: true}
		}
	}
	c.rows = rows
	return true
}

func (c *cursor) query(sql string, args []any, size int) ([]row, error) {
	ctx, cancel := c.b.t.ctx()
	defer cancel()
	rs, err := c.b.t.conn.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	out := make([]row, 0, size)
	for rs.Next() {
		var r row
		if err := rs.Scan(&r.k, &r.v); err != nil {
			return nil, err
		}
		if r.v == nil {
			r.v = []byte{}
		}
		out = append(out, r)
	}
	return out, rs.Err()
}

// catchUp merges into the window the writes made since it was read, and
// finds the cursor's place again. False if the transaction has failed.
func (c *cursor) catchUp() bool {
	t := c.b.t
	if t.err != nil {
		return false
	}
	if c.seen == len(c.log.keys) {
		return true
	}
	for _, k := range c.log.keys[c.seen:] {
		if !c.holds(k) {
			continue // a later page read shows it
		}
		j, found := c.search(k)
		v := t.known[entryKey{c.b.tbl, c.b.sub, k}].v
		switch {
		case v != nil && found:
			c.rows[j].v = v
		case v != nil:
			c.rows = slices.Insert(c.rows, j, row{k: []byte(k), v: v})
		case found:
			c.rows = slices.Delete(c.rows, j, j+1)
		}
	}
	c.seen = len(c.log.keys)
	switch {
	case c.cur != nil:
		c.i, c.on = c.search(string(c.cur))
	case c.edge > 0:
		c.i = len(c.rows)
	default:
		c.i = 0
	}
	return true
}

// holds says whether key k falls within the window.
func (c *cursor) holds(k string) bool {
	if c.lo.set {
		if n := strings.Compare(k, string(c.lo.key)); n < 0 || n == 0 && !c.lo.incl {
			return false
		}
	}
	if c.hi.set {
		if n := strings.Compare(k, string(c.hi.key)); n > 0 || n == 0 && !c.hi.incl {
			return false
		}
	}
	return true
}

// search finds k's place in the window.
func (c *cursor) search(k string) (int, bool) {
	return slices.BinarySearchFunc(c.rows, k, func(r row, k string) int {
		return strings.Compare(string(r.k), k)
	})
}
