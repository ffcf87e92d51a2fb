package pgkv

import (
	"errors"
	"fmt"

	"cardflow/storage/kv"
)

// bucket is a top-level bucket (an empty sub) or a nested one of its table.
type bucket struct {
	t      *tx
	tbl    *table
	sub    string
	subB   []byte // sub as bytes, never nil: a nil would be SQL NULL
	nested bool
}

func (b *bucket) key() bucketKey { return bucketKey{b.tbl, b.sub} }

// Get reads a key: the transaction's own writes first, then the database.
func (b *bucket) Get(k []byte) []byte { return b.t.get(b, k) }

// Put buffers a write; a nil value is stored empty.
func (b *bucket) Put(k, v []byte) error {
	if v == nil {
		v = []byte{}
	}
	return b.t.write(b, k, v)
}

// Delete buffers the removal of a key.
func (b *bucket) Delete(k []byte) error { return b.t.write(b, k, nil) }

// Cursor walks the bucket's keys, its nested buckets' apart.
func (b *bucket) Cursor() kv.Cursor { return b.cursor() }

// ForEach calls fn for every key in order.
func (b *bucket) ForEach(fn func(k, v []byte) error) error {
	c := b.cursor()
	defer c.done()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if err := fn(k, v); err != nil {
			return err
		}
	}
	return b.t.err
}

// NextSequence increments the bucket's sequence number; it reaches the
// database with the transaction's other writes.
func (b *bucket) NextSequence() (uint64, error) {
	if !b.t.writable {
		return 0, errReadOnly
	}
	s := b.t.seq(b)
	if s == nil {
		return 0, b.t.err
	}
	s.n++
	s.dirty, s.changed = true, true
	return s.n, nil
}

// Prefetch reads keys in as few round trips as it can, for the Gets that
// follow (kv.Prefetcher).
func (b *bucket) Prefetch(keys [][]byte) { b.t.prefetch(ahead{b, keys}) }

// SetSequence sets the bucket's sequence number; it reaches the database
// with the transaction's other writes.
func (b *bucket) SetSequence(v uint64) error {
	if !b.t.writable {
		return errReadOnly
	}
	s := b.t.seq(b)
	if s == nil {
		return b.t.err
	}
	s.n, s.dirty, s.changed = v, true, true
	return nil
}

// Sequence is the bucket's last sequence number.
func (b *bucket) Sequence() uint64 {
	if s := b.t.seq(b); s != nil {
		return s.n
	}
	return 0
}

// Bucket returns a nested bucket: a handle even for one never written.
// Nested buckets have no buckets of their own.
func (b *bucket) Bucket(name []byte) kv.Bucket {
	if b.nested || len(name) == 0 {
		return nil
	}
	return &bucket{t: b.t, tbl: b.tbl, sub: string(name), subB: []byte(string(name)), nested: true}
}

// CreateBucketIfNotExists returns a nested bucket; it exists in the
// database once it holds a key or a sequence number.
func (b *bucket) CreateBucketIfNotExists(name []byte) (kv.Bucket, error) {
	switch {
	case !b.t.writable:
		return nil, errReadOnly
	case b.nested:
		return nil, fmt.Errorf("pgkv: bucket %s: pgkv nests buckets one level deep", b.tbl.name)
	case len(name) == 0:
		return nil, errors.New("pgkv: bucket name required")
	}
	return b.Bucket(name), nil
}

// ForEachBucket calls fn with the name of every nested bucket that holds a
// key or a sequence number, in order.
func (b *bucket) ForEachBucket(fn func(name []byte) error) error {
	t := b.t
	if b.nested || t.err != nil {
		return t.err
	}
	if err := t.flush(); err != nil {
		return err
	}
	ctx, cancel := t.ctx()
	defer cancel()
	rows, err := t.conn.Query(ctx, b.tbl.subs, b.tbl.name)
	if err != nil {
		t.fail("list the buckets of "+b.tbl.name, err)
		return t.err
	}
	var names [][]byte
	for rows.Next() {
		var name []byte
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			t.fail("list the buckets of "+b.tbl.name, err)
			return t.err
		}
		names = append(names, name)
	}
	if err := rows.Err(); err != nil {
		t.fail("list the buckets of "+b.tbl.name, err)
		return t.err
	}
	// fn runs once the rows are read: it may use the transaction.
	for _, name := range names {
		if err := fn(name); err != nil {
			return err
		}
	}
	return nil
}

// Appending does nothing: PostgreSQL's b-tree already packs keys that only
// grow.
func (b *bucket) Appending() {}
