package pgkv

import "slices"

// page reads up to size keys of b onward from from (or back from it), as
// the transaction sees them, and the window they fill: every key of b
// between lo and hi is in rows. False after a failure (the transaction
// holds it).
func (t *tx) page(b *bucket, onward bool, from pos, size int) (rows []row, lo, hi pos, ok bool) {
	if t.err != nil {
		return nil, lo, hi, false
	}
	if rows, lo, hi, ok := t.d.cache.page(t.clock, b.key(), onward, from, size); ok {
		return t.overlay(b, rows, lo, hi), lo, hi, true
	}
	tb := b.tbl
	var sql string
	args := []any{b.subB}
	switch {
	case from == start:
		sql = tb.first
	case from == stop:
		sql = tb.last
	case onward && from.after:
		sql = tb.after
	case onward:
		sql = tb.from
	case from.after:
		sql = tb.through
	default:
		sql = tb.before
	}
	if from.end == 0 {
		args = append(args, []byte(from.key))
	}
	args = append(args, size)
	rows, err := t.query(sql, args, size)
	if err != nil {
		t.fail("walk "+tb.name, err)
		return nil, lo, hi, false
	}
	full := len(rows) == size
	if onward {
		lo, hi = from, stop
		if full {
			hi = after(string(rows[len(rows)-1].k))
		}
	} else {
		slices.Reverse(rows)
		lo, hi = start, from
		if full {
			lo = before(string(rows[0].k))
		}
	}
	if !t.wrote { // else the page shows some of the transaction's writes
		t.d.cache.putPage(t.clock, b.key(), lo, hi, rows)
	}
	return t.overlay(b, rows, lo, hi), lo, hi, true
}

// query reads a page of rows.
func (t *tx) query(sql string, args []any, size int) ([]row, error) {
	t.d.reads.Add(1)
	ctx, cancel := t.ctx()
	defer cancel()
	rs, err := t.conn.Query(ctx, sql, args...)
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

// overlay merges into rows, the keys of b between lo and hi as the
// database or the cache showed them, the transaction's writes there that
// they may not show.
func (t *tx) overlay(b *bucket, rows []row, lo, hi pos) []row {
	ks := t.written[b.key()]
	if ks == nil {
		return rows
	}
	keys := ks.inOrder()
	i, _ := slices.BinarySearchFunc(keys, lo, func(k string, lo pos) int {
		if lo.below(k) {
			return +1
		}
		return -1
	})
	for ; i < len(keys) && !hi.below(keys[i]); i++ {
		rows = merge(rows, keys[i], t.writes[entryKey{b.tbl, b.sub, keys[i]}].v)
	}
	return rows
}
