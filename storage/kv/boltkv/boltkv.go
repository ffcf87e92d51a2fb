// Package boltkv keeps the kv contract in an embedded bbolt file: every bucket
// a bbolt bucket, Update one bbolt write transaction. It adds nothing on top;
// the wrappers only translate bbolt's concrete types into kv's interfaces.
package boltkv

import (
	"bytes"
	"errors"

	"cardflow/storage/kv"

	bolt "go.etcd.io/bbolt"
)

// DB wraps an open bbolt database.
type DB struct{ Bolt *bolt.DB }

// View runs fn in a bbolt read transaction.
func (d DB) View(fn func(kv.Tx) error) error {
	return d.Bolt.View(func(tx *bolt.Tx) error { return fn(Tx{tx}) })
}

// Update runs fn in a bbolt write transaction.
func (d DB) Update(fn func(kv.Tx) error) error {
	return d.Bolt.Update(func(tx *bolt.Tx) error { return fn(Tx{tx}) })
}

// Close closes the file.
func (d DB) Close() error { return d.Bolt.Close() }

// Tx wraps a bbolt transaction.
type Tx struct{ tx *bolt.Tx }

// Wrap gives a bbolt transaction the kv interface.
func Wrap(tx *bolt.Tx) Tx { return Tx{tx} }

// Bucket returns a top-level bucket, nil if it does not exist.
func (t Tx) Bucket(name []byte) kv.Bucket { return wrapBucket(t.tx.Bucket(name)) }

// CreateBucketIfNotExists creates a top-level bucket.
func (t Tx) CreateBucketIfNotExists(name []byte) (kv.Bucket, error) {
	b, err := t.tx.CreateBucketIfNotExists(name)
	if err != nil {
		return nil, err
	}
	return bucket{b}, nil
}

// Err is always nil: bbolt reads cannot fail short of a crash.
func (Tx) Err() error { return nil }

type bucket struct{ b *bolt.Bucket }

func wrapBucket(b *bolt.Bucket) kv.Bucket {
	if b == nil {
		return nil // a nil interface, not an interface holding a nil pointer
	}
	return bucket{b}
}

func (b bucket) Get(k []byte) []byte                            { return b.b.Get(k) }
func (b bucket) Put(k, v []byte) error                          { return b.b.Put(k, v) }
func (b bucket) Delete(k []byte) error                          { return b.b.Delete(k) }
func (b bucket) Cursor() kv.Cursor                              { return &cursor{c: b.b.Cursor()} }
func (b bucket) NextSequence() (uint64, error)                  { return b.b.NextSequence() }
func (b bucket) Sequence() uint64                               { return b.b.Sequence() }
func (b bucket) SetSequence(v uint64) error                     { return b.b.SetSequence(v) }
func (b bucket) Bucket(name []byte) kv.Bucket                   { return wrapBucket(b.b.Bucket(name)) }
func (b bucket) ForEachBucket(fn func(name []byte) error) error { return b.b.ForEachBucket(fn) }

// Appending packs pages full: bbolt's default split leaves them half empty,
// which for keys that only grow doubles both the file and the pages each
// commit writes.
func (b bucket) Appending() { b.b.FillPercent = 1.0 }

func (b bucket) ForEach(fn func(k, v []byte) error) error {
	return b.b.ForEach(func(k, v []byte) error {
		if v == nil {
			return nil // a nested bucket
		}
		return fn(k, v)
	})
}

func (b bucket) CreateBucketIfNotExists(name []byte) (kv.Bucket, error) {
	nb, err := b.b.CreateBucketIfNotExists(name)
	if err != nil {
		return nil, err
	}
	return bucket{nb}, nil
}

// cursor is a bbolt cursor that moves on correctly after Delete. bbolt's
// own, after deleting from a leaf this transaction has already changed,
// skips the key after the deleted one on Next; so after a Delete the
// cursor finds its place again by seeking the deleted key.
type cursor struct {
	c       *bolt.Cursor
	cur     []byte // the key the cursor is on, nil off either end
	deleted []byte // the key Delete removed, until the cursor moves
}

// at records where a move left the cursor.
func (c *cursor) at(k, v []byte) ([]byte, []byte) {
	c.cur, c.deleted = k, nil
	return k, v
}

func (c *cursor) First() ([]byte, []byte)        { return c.at(c.c.First()) }
func (c *cursor) Last() ([]byte, []byte)         { return c.at(c.c.Last()) }
func (c *cursor) Seek(k []byte) ([]byte, []byte) { return c.at(c.c.Seek(k)) }

func (c *cursor) Next() ([]byte, []byte) {
	if d := c.deleted; d != nil {
		return c.at(c.c.Seek(d)) // the first key after d, now that d is gone
	}
	return c.at(c.c.Next())
}

func (c *cursor) Prev() ([]byte, []byte) {
	if d := c.deleted; d != nil {
		if k, _ := c.c.Seek(d); k == nil {
			return c.at(c.c.Last()) // d was the last key
		}
	}
	return c.at(c.c.Prev())
}

// Delete removes the key the cursor is on; Next then moves to the key
// after it, Prev to the one before.
func (c *cursor) Delete() error {
	if c.cur == nil || c.deleted != nil {
		return errors.New("boltkv: the cursor is on no key")
	}
	if err := c.c.Delete(); err != nil {
		return err
	}
	c.deleted = bytes.Clone(c.cur)
	return nil
}
