package pgkv

import (
	"cmp"
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

// pos is a place between keys: before every key, after every key, or just
// before or just after one key. A cursor's window, and a range of keys
// known complete, runs from one place to another.
type pos struct {
	end   int8 // -1 before every key, +1 after every key, 0 beside key
	key   string
	after bool // just after key, else just before it
}

var (
	start = pos{end: -1}
	stop  = pos{end: +1}
)

func before(k string) pos { return pos{key: k} }
func after(k string) pos  { return pos{key: k, after: true} }

// cmp orders two places.
func (p pos) cmp(q pos) int {
	if p.end != 0 || q.end != 0 {
		return cmp.Compare(p.end, q.end)
	}
	if c := strings.Compare(p.key, q.key); c != 0 {
		return c
	}
	switch {
	case p.after == q.after:
		return 0
	case p.after:
		return +1
	}
	return -1
}

// below says whether p comes before key k.
func (p pos) below(k string) bool {
	if p.end != 0 {
		return p.end < 0
	}
	c := strings.Compare(p.key, k)
	return c < 0 || c == 0 && !p.after
}

// between says whether key k lies between lo and hi.
func between(k string, lo, hi pos) bool { return lo.below(k) && !hi.below(k) }

// cursor walks a window of the bucket's rows, read a page at a time: every
// key of the bucket between lo and hi as the transaction sees it. A page
// read merges in the transaction's writes; writes it makes later are
// merged into the window at the next move (catchUp).
type cursor struct {
	b      *bucket
	log    *writeLog
	seen   int // log entries the window reflects
	rows   []row
	lo, hi pos
	page   int // size of the last page read
	// The position: on rows[i] (on), or between rows[i-1] and rows[i]
	// after cur was deleted, or off an end (cur nil, edge -1 or +1).
	i    int
	cur  []byte
	on   bool
	edge int
}

func (b *bucket) cursor() *cursor {
	bk := b.key()
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
		delete(c.b.t.logs, c.b.key())
	}
}

// First moves to the first key.
func (c *cursor) First() ([]byte, []byte) {
	if !c.read(true, start, firstPage) {
		return nil, nil
	}
	return c.forward(0)
}

// Last moves to the last key.
func (c *cursor) Last() ([]byte, []byte) {
	if !c.read(false, stop, firstPage) {
		return nil, nil
	}
	return c.backward(len(c.rows) - 1)
}

// Seek moves to key, or the first key after it.
func (c *cursor) Seek(key []byte) ([]byte, []byte) {
	from := start
	if len(key) > 0 {
		from = before(string(key))
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
		if c.hi == stop {
			return c.off(+1)
		}
		if !c.read(true, c.hi, c.grow()) {
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
		if c.lo == start {
			return c.off(-1)
		}
		if !c.read(false, c.lo, c.grow()) {
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

// read replaces the window with a page: up to size keys onward from from,
// or back from it. False after a failure (the transaction holds it).
func (c *cursor) read(onward bool, from pos, size int) bool {
	rows, lo, hi, ok := c.b.t.page(c.b, onward, from, size)
	if !ok {
		c.rows = nil
		return false
	}
	c.page, c.seen = size, len(c.log.keys)
	c.rows, c.lo, c.hi = rows, lo, hi
	return true
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
		if between(k, c.lo, c.hi) {
			c.rows = merge(c.rows, k, t.writes[entryKey{c.b.tbl, c.b.sub, k}].v)
		}
	}
	c.seen = len(c.log.keys)
	switch {
	case c.cur != nil:
		c.i, c.on = search(c.rows, string(c.cur))
	case c.edge > 0:
		c.i = len(c.rows)
	default:
		c.i = 0
	}
	return true
}

// merge puts key k with value v (nil: deleted) into rows, in order.
func merge(rows []row, k string, v []byte) []row {
	j, found := search(rows, k)
	switch {
	case v != nil && found:
		rows[j].v = v
	case v != nil:
		rows = slices.Insert(rows, j, row{k: []byte(k), v: v})
	case found:
		rows = slices.Delete(rows, j, j+1)
	}
	return rows
}

// search finds k's place in rows.
func search(rows []row, k string) (int, bool) {
	return slices.BinarySearchFunc(rows, k, func(r row, k string) int {
		return strings.Compare(string(r.k), k)
	})
}
