package pgkv

import (
	"bytes"
	"encoding/binary"
	"errors"
)

// A commit's changes travel to the other processes as one record in
// kv_changelog (migration 0003): the server stores and sends a bytea as it
// is, where it sent the five arrays kv_changes held element by element, a
// function call each: half a millisecond for a commit of 25 orders, inside
// the writer lock, on each side.
//
// The record: the number of table names, each name (length, bytes), the
// number of keys; then per key written, the index of its table's name, its nested bucket and key
// (length, bytes each; an empty key stands for the bucket's sequence
// number), and one of putUnknown, putSmall (then the value, length and
// bytes) or deleted. Lengths and indexes are uvarints.
const (
	putUnknown byte = iota
	putSmall
	deleted
)

// errRecord is a changelog record that does not parse: the commit it
// stands for is left out, and the gap makes a cache behind it start afresh.
var errRecord = errors.New("pgkv: malformed changelog record")

// changeRecord encodes the keys the transaction wrote, with their values
// if small (smallValue), and its changed sequence numbers.
func (t *tx) changeRecord() []byte {
	names := map[string]uint64{}
	var order []string
	index := func(name string) uint64 {
		i, ok := names[name]
		if !ok {
			i = uint64(len(order))
			names[name] = i
			order = append(order, name)
		}
		return i
	}
	n := len(t.writes) + len(t.seqs)
	body := make([]byte, 0, 48*n) // a key of the usual size and its small value
	keys := 0
	for key, w := range t.writes {
		keys++
		body = binary.AppendUvarint(body, index(key.tbl.name))
		body = appendBytes(appendBytes(body, key.sub), key.k)
		switch {
		case w.v == nil:
			body = append(body, deleted)
		case len(w.v) <= smallValue:
			body = appendBytes(append(body, putSmall), string(w.v))
		default:
			body = append(body, putUnknown)
		}
	}
	var seq [8]byte
	for bk, s := range t.seqs {
		if s.changed {
			keys++
			body = binary.AppendUvarint(body, index(bk.tbl.name))
			body = appendBytes(appendBytes(body, bk.sub), "")
			binary.BigEndian.PutUint64(seq[:], s.n)
			body = appendBytes(append(body, putSmall), string(seq[:]))
		}
	}
	rec := binary.AppendUvarint(make([]byte, 0, len(body)+16*len(order)+8), uint64(len(order)))
	for _, name := range order {
		rec = appendBytes(rec, name)
	}
	rec = binary.AppendUvarint(rec, uint64(keys))
	return append(rec, body...)
}

func appendBytes(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// readRecord decodes a changelog record into the keys of the tables this
// DB knows (a table it never used has nothing in its cache).
func (d *DB) readRecord(rec []byte) ([]changed, error) {
	r := recordReader{b: rec}
	n := r.uvarint()
	if r.err != nil || n > uint64(len(rec)) {
		return nil, errRecord
	}
	tables := make([]*table, n)
	d.mu.Lock()
	for i := range tables {
		tables[i] = d.tables[string(r.bytes())]
	}
	d.mu.Unlock()
	count := r.uvarint()
	if r.err != nil || count > uint64(len(r.b)) { // a key takes 4 bytes at least
		return nil, errRecord
	}
	keys := make([]changed, 0, count)
	for r.err == nil && len(r.b) > 0 {
		i := r.uvarint()
		sub, k := r.bytes(), r.bytes()
		c := changed{k: string(k)}
		switch r.byte() {
		case putUnknown:
		case putSmall:
			c.v = bytes.Clone(r.bytes()) // a cached value must not hold the record
		case deleted:
			c.del = true
		default:
			r.err = errRecord
		}
		if r.err != nil || i >= n {
			return nil, errRecord
		}
		if count == 0 {
			return nil, errRecord // more keys than the record said
		}
		count--
		if tables[i] != nil {
			c.bk = bucketKey{tables[i], string(sub)}
			keys = append(keys, c)
		}
	}
	if r.err == nil && count != 0 {
		return nil, errRecord // fewer
	}
	return keys, r.err
}

// recordReader reads a changelog record; the first failure sticks.
type recordReader struct {
	b   []byte
	err error
}

func (r *recordReader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err, r.b = errRecord, nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *recordReader) bytes() []byte {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.err, r.b = errRecord, nil
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

func (r *recordReader) byte() byte {
	if len(r.b) == 0 {
		r.err = errRecord
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}
