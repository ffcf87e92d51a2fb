// Package kv is the seam between cardflow's storage layer and the engine that
// keeps its bytes: an ordered key-value store with buckets, one serial writer
// and consistent read snapshots. The storage package writes the domain
// (orders, stock, outbox, ledger, ...) once, against these interfaces; boltkv
// keeps it in an embedded bbolt file and pgkv in PostgreSQL tables.
//
// The contract is bbolt's, because that is what the domain code was written
// for and what its invariants rest on:
//   - Update transactions are serial: while one runs, no other writer (in this
//     process or, for a shared database, in any other) changes anything, and
//     it sees every write committed before it began.
//   - View transactions see one consistent snapshot for their whole life.
//   - Keys sort bytewise; a cursor walks them in that order.
//   - A value returned by Get or a cursor is valid until the transaction ends
//     and must not be modified.
//   - A missing key reads as nil; an empty value is not nil.
//   - Only Update writes the buckets. An engine may rely on that: pgkv's
//     caches learn of other processes' writes from what each Update
//     records at its commit, so a table written any other way (SQL beside
//     the engine, another program) leaves them believing what is no longer
//     there. Work beside the buckets (claims, leases) keeps to tables of its
//     own.
package kv

import "errors"

// ErrUnavailable is returned when the engine cannot be reached (a lost
// database connection). Nothing of the transaction was applied, or, for a
// commit whose outcome the engine could not learn, it is reported as
// ErrUnavailable only once the engine has made sure it did not apply.
// Callers may try again later; the store itself stays usable.
var ErrUnavailable = errors.New("storage unavailable")

// DB is an open store.
type DB interface {
	// View runs fn in a read-only transaction.
	View(fn func(Tx) error) error
	// Update runs fn in the read-write transaction and commits it durably
	// if fn returns nil; otherwise nothing fn wrote is kept.
	Update(fn func(Tx) error) error
	Close() error
}

// Tx is a transaction.
type Tx interface {
	// Bucket returns a top-level bucket, nil if it does not exist.
	Bucket(name []byte) Bucket
	// CreateBucketIfNotExists creates a top-level bucket (write transactions
	// only).
	CreateBucketIfNotExists(name []byte) (Bucket, error)
	// Err is the first engine error the transaction met (a read that could
	// not reach the database). Reads return nil after one, so a caller that
	// saw an odd nil checks Err before believing it; View and Update return
	// it in place of fn's own result.
	Err() error
}

// Bucket is a set of keys in order, with an optional level of nested buckets.
type Bucket interface {
	Get(key []byte) []byte
	Put(key, value []byte) error
	Delete(key []byte) error
	Cursor() Cursor
	// ForEach calls fn for every key in order; nested buckets are skipped.
	ForEach(fn func(k, v []byte) error) error
	// NextSequence increments and returns the bucket's sequence number.
	NextSequence() (uint64, error)
	// Sequence is the bucket's last sequence number.
	Sequence() uint64
	// SetSequence sets it (copying a store from one engine to another).
	SetSequence(v uint64) error
	// Bucket returns a nested bucket. An engine may return an empty bucket
	// for one never created (pgkv does); callers treat both alike.
	Bucket(name []byte) Bucket
	CreateBucketIfNotExists(name []byte) (Bucket, error)
	// ForEachBucket calls fn with the name of every nested bucket.
	ForEachBucket(fn func(name []byte) error) error
	// Appending hints that keys only ever grow (sequence numbers): the
	// engine may pack them tighter.
	Appending()
}

// Prefetcher is a bucket whose reads each cost a round trip to a server
// (pgkv): Prefetch reads many keys in one, so that the Gets of them that
// follow in the transaction answer from memory. A caller about to look up
// many keys it knows in advance (a stock import's fingerprints) asks a
// bucket for it; an engine whose reads are cheap (boltkv) does not have it.
type Prefetcher interface {
	Prefetch(keys [][]byte)
}

// Read names keys of a top-level bucket.
type Read struct {
	Bucket []byte
	Keys   [][]byte
}

// ReadingUpdater is a DB whose transactions begin with a round trip to a
// server (pgkv): UpdateReading is Update that reads the keys reads names
// in that same round trip, so that fn's Gets of them answer from memory
// without another while the writer lock is held.
type ReadingUpdater interface {
	UpdateReading(reads []Read, fn func(Tx) error) error
}

// ReadAhead is a transaction whose reads are round trips to a server
// (pgkv): it reads the keys of several top-level buckets in one.
type ReadAhead interface {
	ReadAhead(reads []Read)
}

// Prefetch has b read ahead the keys keys lists, if b is a Prefetcher
// (keys is called only then: on bbolt nothing is gathered). A nil bucket
// is fine.
func Prefetch(b Bucket, keys func() [][]byte) {
	if p, ok := b.(Prefetcher); ok {
		if ks := keys(); len(ks) > 0 {
			p.Prefetch(ks)
		}
	}
}

// Cursor walks a bucket's keys in order. A nil key means the walk has run
// off either end.
type Cursor interface {
	First() (k, v []byte)
	Last() (k, v []byte)
	// Seek moves to key, or the first key after it.
	Seek(key []byte) (k, v []byte)
	Next() (k, v []byte)
	Prev() (k, v []byte)
	// Delete removes the key the cursor is on.
	Delete() error
}
