package pgkv

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"time"

	"cardflow/storage/kv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// maxCached bounds the reads a transaction keeps for itself: a long walk by
// Get must not hold the whole table in memory. Writes are always kept until
// the transaction ends.
const maxCached = 100_000

// bucketName is what a bucket may be called: a table name that needs no
// care.
var bucketName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// entryKey names one key of one bucket.
type entryKey struct {
	tbl    *table
	sub, k string
}

// write is a transaction's last write to a key: its value (nil: deleted),
// and whether the database has seen it.
type write struct {
	v       []byte
	flushed bool
}

// keySet is the keys a transaction wrote to one bucket, put in order when a
// read needs them.
type keySet struct {
	keys   []string
	sorted bool
}

func (s *keySet) add(k string) {
	if n := len(s.keys); n > 0 && k < s.keys[n-1] {
		s.sorted = false
	}
	s.keys = append(s.keys, k)
}

func (s *keySet) inOrder() []string {
	if !s.sorted {
		slices.Sort(s.keys)
		s.sorted = true
	}
	return s.keys
}

// bucketKey names a bucket: a table and a sub.
type bucketKey struct {
	tbl *table
	sub string
}

// seqState is a bucket's sequence number within a transaction: dirty
// until the database has it, changed if the transaction set it.
type seqState struct {
	n       uint64
	dirty   bool
	changed bool
}

// tx is a transaction on one pooled connection. Under Update's lock nobody
// else writes, and a view reads one snapshot, so what it read once stays
// true for its life: reads are kept in reads, and its writes in writes.
// The database shows none of its writes until commit (or a flush for
// ForEachBucket): reads merge them in.
type tx struct {
	d        *DB
	conn     *pgxpool.Conn
	writable bool
	err      error
	clock    clock // the write clock as the transaction began
	wrote    bool  // some writes reached the database before the commit

	buckets   map[string]*bucket // top-level buckets by name; nil: no table
	writes    map[entryKey]write
	written   map[bucketKey]*keySet // the keys of writes, by bucket
	unflushed int                   // writes the database has not seen
	reads     map[entryKey][]byte   // nil: read as missing
	seqs      map[bucketKey]*seqState
	logs      map[bucketKey]*writeLog // writes to buckets a cursor walks
}

// clock is the write clock: how many Updates have written, and the DB
// handle that wrote last.
type clock struct{ n, writer int64 }

func newTx(d *DB, conn *pgxpool.Conn, writable bool, c clock) *tx {
	return &tx{
		d: d, conn: conn, writable: writable, clock: c,
		buckets: map[string]*bucket{},
		writes:  map[entryKey]write{},
		written: map[bucketKey]*keySet{},
		reads:   map[entryKey][]byte{},
		seqs:    map[bucketKey]*seqState{},
		logs:    map[bucketKey]*writeLog{},
	}
}

// Err is the first engine error the transaction met.
func (t *tx) Err() error { return t.err }

// fail records the transaction's first engine error.
func (t *tx) fail(what string, err error) {
	if t.err == nil {
		t.err = t.d.wrap(what, err)
	}
}

var errReadOnly = errors.New("pgkv: read-only transaction")

// Bucket returns a top-level bucket, nil if it has no table.
func (t *tx) Bucket(name []byte) kv.Bucket {
	if b := t.bucket(name); b != nil {
		return b
	}
	return nil // a nil interface, not one holding a nil pointer
}

func (t *tx) bucket(name []byte) *bucket {
	if b, ok := t.buckets[string(name)]; ok {
		return b
	}
	if !validName(name) {
		return nil
	}
	var tb *table
	if t.err == nil {
		var err error
		if tb, err = t.d.table(t, string(name)); err != nil {
			t.fail("look up table "+string(name), err)
		}
	}
	if t.err != nil {
		// A failed transaction cannot learn whether the table exists. It
		// hands out a bucket whose reads return nil, as every read now
		// does, rather than a nil that the caller would not expect.
		return &bucket{t: t, tbl: newTable(string(name)), subB: []byte{}}
	}
	var b *bucket
	if tb != nil {
		b = &bucket{t: t, tbl: tb, subB: []byte{}}
	}
	t.buckets[string(name)] = b
	return b
}

func validName(name []byte) bool {
	return bucketName.Match(name) && !strings.HasPrefix(string(name), "kv_") && string(name) != callerRecord
}

// CreateBucketIfNotExists returns a top-level bucket: its table must exist,
// made by a migration.
func (t *tx) CreateBucketIfNotExists(name []byte) (kv.Bucket, error) {
	if !t.writable {
		return nil, errReadOnly
	}
	if !validName(name) {
		return nil, fmt.Errorf("pgkv: bucket name %q: use lower-case letters, digits and _ (at most 63 bytes), not beginning with kv_", name)
	}
	b := t.bucket(name)
	if t.err != nil {
		return nil, t.err
	}
	if b == nil {
		return nil, fmt.Errorf("pgkv: bucket %s has no table %q (schema not migrated?)", name, name)
	}
	return b, nil
}

// ctx bounds one round trip.
func (t *tx) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(t.d.ctx, t.d.timeout)
}

// queryRow runs a query of one row into dest; pgx.ErrNoRows if none.
func (t *tx) queryRow(sql string, args []any, dest ...any) error {
	t.d.reads.Add(1)
	ctx, cancel := t.ctx()
	defer cancel()
	return t.conn.QueryRow(ctx, sql, args...).Scan(dest...)
}

// end runs ROLLBACK or COMMIT; a failure leaves the connection out of the
// idle state, and the pool drops it on release.
func (t *tx) end(sql string) error {
	ctx, cancel := t.ctx()
	defer cancel()
	_, err := t.conn.Exec(ctx, sql)
	return err
}

// rollback ends the transaction keeping nothing. Its error is of no use:
// the server rolls back a transaction whose connection is gone.
func (t *tx) rollback() { _ = t.end("ROLLBACK") }

// get reads a key through the transaction's cache.
func (t *tx) get(b *bucket, k []byte) []byte {
	if t.err != nil || len(k) == 0 {
		return nil
	}
	key := entryKey{b.tbl, b.sub, string(k)}
	if w, ok := t.writes[key]; ok {
		return w.v
	}
	if v, ok := t.reads[key]; ok {
		return v
	}
	if v, ok := t.d.cache.get(t.clock, b.key(), key.k); ok {
		return v
	}
	var v []byte
	err := t.queryRow(b.tbl.get, []any{b.subB, k}, &v)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		v = nil
	case err != nil:
		t.fail("read "+b.tbl.name, err)
		return nil
	case v == nil:
		v = []byte{} // an empty value is not a missing one
	}
	// A key the transaction did not write reads the same in the database
	// as at its clock, whatever it flushed.
	if !t.d.cache.putRead(t.clock, b.key(), key.k, v) && len(t.reads) < maxCached {
		t.reads[key] = v
	}
	return v
}

// prefetchChunk bounds the keys one query of prefetch asks for.
const prefetchChunk = 1000

// wanted is what prefetch asks for: the keys of b that get would send a
// query for. A view keeps what the cache knows as well: the cache moves on
// with the next commit.
func (t *tx) wanted(b *bucket, keys [][]byte) [][]byte {
	var want [][]byte
	for _, k := range keys {
		if len(k) == 0 {
			continue
		}
		key := entryKey{b.tbl, b.sub, string(k)}
		if _, ok := t.writes[key]; ok {
			continue
		}
		if _, ok := t.reads[key]; ok {
			continue
		}
		if v, ok := t.d.cache.get(t.clock, b.key(), key.k); ok {
			if !t.writable {
				t.reads[key] = v
			}
			continue
		}
		want = append(want, k)
	}
	return want
}

// ahead is keys of one bucket to prefetch.
type ahead struct {
	b    *bucket
	keys [][]byte
}

// prefetch reads, in one round trip, the keys of each bucket that get
// would send a query for, a chunk of them per statement, into the
// transaction's reads (missing ones as nil); no more than the transaction
// keeps (maxCached).
func (t *tx) prefetch(items ...ahead) {
	if t.err != nil {
		return
	}
	batch := &pgx.Batch{}
	var fetch fetches
	room := maxCached - len(t.reads)
	for _, it := range items {
		want := t.wanted(it.b, it.keys)
		want = want[:min(len(want), max(room, 0))]
		room -= len(want)
		fetch.queue(batch, it.b.key(), it.b.subB, want)
	}
	if len(fetch) == 0 {
		return
	}
	t.d.reads.Add(1)
	ctx, cancel := t.ctx()
	defer cancel()
	br := t.conn.SendBatch(ctx, batch)
	err := fetch.scan(br)
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.fail("prefetch", err)
		return
	}
	for _, f := range fetch {
		t.keep(f.bk, f.keys, f.found)
	}
}

// fetched is what one getMany read: of keys in bk, those found, with
// their values.
type fetched struct {
	bk    bucketKey
	keys  [][]byte
	found map[string][]byte
}

// fetches are getMany statements queued in one batch.
type fetches []fetched

// queue queues the getMany statements of keys of bk (its sub as sub), a
// chunk of keys each.
func (fs *fetches) queue(batch *pgx.Batch, bk bucketKey, sub []byte, keys [][]byte) {
	for chunk := range slices.Chunk(keys, prefetchChunk) {
		*fs = append(*fs, fetched{bk: bk, keys: chunk})
		batch.Queue(bk.tbl.getMany, sub, chunk)
	}
}

// scan reads the answers to the statements queue queued, in order.
func (fs fetches) scan(br pgx.BatchResults) error {
	for i := range fs {
		rows, err := br.Query()
		if err == nil {
			fs[i].found, err = scanFound(rows)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// ReadAhead reads the keys reads names, of top-level buckets, in one round
// trip (kv.ReadAhead).
func (t *tx) ReadAhead(reads []kv.Read) {
	var items []ahead
	for _, r := range reads {
		if b := t.bucket(r.Bucket); b != nil && len(r.Keys) > 0 {
			items = append(items, ahead{b, r.Keys})
		}
	}
	t.prefetch(items...)
}

// scanFound reads the rows of a getMany: the keys found, with their values.
func scanFound(rows pgx.Rows) (map[string][]byte, error) {
	defer rows.Close()
	found := map[string][]byte{}
	for rows.Next() {
		var k, v []byte
		if err := rows.Scan(&k, &v); err != nil {
			return nil, err
		}
		if v == nil {
			v = []byte{} // an empty value is not a missing one
		}
		found[string(k)] = v
	}
	return found, rows.Err()
}

// keep records what a getMany read of keys in bk: found's, and the others
// as missing.
func (t *tx) keep(bk bucketKey, keys [][]byte, found map[string][]byte) {
	for _, k := range keys {
		key := entryKey{bk.tbl, bk.sub, string(k)}
		v := found[key.k] // nil: missing
		// A view keeps them itself as well: the cache moves on with the
		// next commit, long before the view has read them all.
		if !t.d.cache.putRead(t.clock, bk, key.k, v) || !t.writable {
			t.reads[key] = v
		}
	}
}

// write buffers a put (v non-nil) or a delete (v nil).
func (t *tx) write(b *bucket, k, v []byte) error {
	if !t.writable {
		return errReadOnly
	}
	if t.err != nil {
		return t.err
	}
	if len(k) == 0 {
		return errors.New("pgkv: key required")
	}
	if len(k)+len(b.sub) > MaxKey {
		return fmt.Errorf("pgkv: key of %d bytes in %s: at most %d with the nested bucket's name", len(k), b.tbl.name, MaxKey)
	}
	key := entryKey{b.tbl, b.sub, string(k)}
	bk := b.key()
	switch w, ok := t.writes[key]; {
	case !ok:
		ks := t.written[bk]
		if ks == nil {
			ks = &keySet{sorted: true}
			t.written[bk] = ks
		}
		ks.add(key.k)
		t.unflushed++
	case w.flushed:
		t.unflushed++
	}
	t.writes[key] = write{v: v}
	if l := t.logs[bk]; l != nil {
		l.keys = append(l.keys, key.k)
	}
	return nil
}

// seq returns a bucket's sequence state, read once per transaction; nil
// after a failed read.
func (t *tx) seq(b *bucket) *seqState {
	bk := b.key()
	if s := t.seqs[bk]; s != nil {
		return s
	}
	if t.err != nil {
		return nil
	}
	if n, ok := t.d.cache.sequence(t.clock, bk); ok {
		s := &seqState{n: n}
		t.seqs[bk] = s
		return s
	}
	var n int64
	err := t.queryRow("SELECT seq FROM kv_sequences WHERE tbl = $1 AND sub = $2", []any{b.tbl.name, b.subB}, &n)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		t.fail("read the sequence of "+b.tbl.name, err)
		return nil
	}
	s := &seqState{n: uint64(n)}
	t.seqs[bk] = s
	t.d.cache.putSequence(t.clock, bk, s.n)
	return s
}

// columns gathers one table's buffered writes as arrays: puts for unnest,
// deletions by nested bucket.
type columns struct {
	putSub, putK, putV [][]byte
	dels               map[string][][]byte // sub: keys
}

// queue adds the buffered writes to batch, and returns whether there were
// any.
func (t *tx) queue(batch *pgx.Batch) bool {
	n := batch.Len()
	if t.unflushed > 0 {
		tables := map[*table]*columns{}
		var order []*table
		for key, e := range t.writes {
			if e.flushed {
				continue
			}
			c := tables[key.tbl]
			if c == nil {
				c = &columns{}
				tables[key.tbl] = c
				order = append(order, key.tbl)
			}
			sub, k := []byte(key.sub), []byte(key.k)
			switch {
			case e.v != nil:
				c.putSub, c.putK, c.putV = append(c.putSub, sub), append(c.putK, k), append(c.putV, e.v)
			case c.dels == nil:
				c.dels = map[string][][]byte{key.sub: {k}}
			default:
				c.dels[key.sub] = append(c.dels[key.sub], k)
			}
			e.flushed = true
			t.writes[key] = e
		}
		t.unflushed = 0
		for _, tb := range order {
			c := tables[tb]
			if len(c.putK) > 0 {
				batch.Queue(tb.upsert, c.putSub, c.putK, c.putV)
			}
			for sub, keys := range c.dels {
				batch.Queue(tb.del, []byte(sub), keys)
			}
		}
	}
	var names []string
	var subs [][]byte
	var seqs []int64
	for bk, s := range t.seqs {
		if s.dirty {
			names, subs, seqs = append(names, bk.tbl.name), append(subs, []byte(bk.sub)), append(seqs, int64(s.n))
			s.dirty = false
		}
	}
	if len(names) > 0 {
		batch.Queue(`INSERT INTO kv_sequences (tbl, sub, seq) SELECT * FROM unnest($1::text[], $2::bytea[], $3::bigint[])
			ON CONFLICT (tbl, sub) DO UPDATE SET seq = excluded.seq`, names, subs, seqs)
	}
	return batch.Len() > n
}

// flush sends the buffered writes before the commit, for a query that must
// see them.
func (t *tx) flush() error {
	if t.err != nil {
		return t.err
	}
	batch := &pgx.Batch{}
	if !t.queue(batch) {
		return nil
	}
	t.wrote = true
	ctx, cancel := t.ctx()
	defer cancel()
	if err := t.conn.SendBatch(ctx, batch).Close(); err != nil {
		t.fail("write", err)
		return t.err
	}
	return nil
}

// tickClock advances the write clock in an Update's commit and stamps it
// with the DB handle; it returns the new count. It makes the row if it is
// missing.
const tickClock = `INSERT INTO kv_clock (n, writer) VALUES (1, $1)
	ON CONFLICT (one) DO UPDATE SET n = kv_clock.n + 1, writer = excluded.writer RETURNING n`

// recordChanges keeps the keys a commit wrote (changeRecord), under the
// count its tick left.
const recordChanges = `INSERT INTO kv_changelog (n, rec) SELECT n, $1 FROM kv_clock`

// smallValue is the largest value a change carries, so that another
// process's cache takes it instead of reading it again: counters, levels,
// index entries.
const smallValue = 64

// commit sends the buffered writes, the clock's tick, the list of changes,
// a commit marker and COMMIT in one round trip. A commit whose answer was lost with the
// connection is settled by looking for the marker. An update that wrote
// nothing ends without a commit.
func (t *tx) commit() error {
	batch := &pgx.Batch{}
	if !t.queue(batch) && !t.wrote {
		t.rollback()
		return nil
	}
	marker := newMarker()
	tick := batch.Len()
	batch.Queue(tickClock, t.d.id)
	if len(t.writes)+len(t.seqs) <= maxChanged {
		batch.Queue(recordChanges, t.changeRecord())
	}
	batch.Queue("INSERT INTO kv_commits (id) VALUES ($1)", marker)
	if t.d.commits.Add(1)%pruneEvery == 0 {
		batch.Queue("DELETE FROM kv_commits WHERE id < $1", markerTime(time.Now().Add(-markerKeep)))
		batch.Queue("DELETE FROM kv_changelog WHERE n <= (SELECT n FROM kv_clock) - $1", changesKeep)
	}
	batch.Queue("COMMIT")
	ctx, cancel := t.ctx()
	defer cancel()
	send := func() pgx.BatchResults { return t.conn.SendBatch(ctx, batch) }
	var br pgx.BatchResults
	if t.d.breakCommit != nil {
		br = t.d.breakCommit(t.conn.Conn().PgConn(), send)
	} else {
		br = send()
	}
	var n int64
	err := readCommit(br, batch.Len(), tick, &n)
	if err == nil {
		t.d.cache.commit(t.clock, clock{n, t.d.id}, t.writes, t.seqs)
		t.d.noteWrites(t.written)
		return nil
	}
	if !unavailable(err) {
		// The server answered: it refused a statement or the commit, and
		// the transaction did not apply.
		t.rollback()
		return t.d.wrap("commit", err)
	}
	// What the cache holds is true at the clock before the commit or after
	// it, and which is not yet known.
	t.d.cache.drop()
	return t.d.settle(marker, err)
}

// readCommit reads the answers to a commit's batch of size statements,
// the one at tick the clock's new count, into n.
func readCommit(br pgx.BatchResults, size, tick int, n *int64) error {
	for i := range size {
		var err error
		if i == tick {
			err = br.QueryRow().Scan(n)
		} else {
			_, err = br.Exec()
		}
		if err != nil {
			br.Close()
			return err
		}
	}
	return br.Close()
}

// newMarker is a commit's unique id: its time, then 8 random bytes.
func newMarker() []byte {
	return binary.BigEndian.AppendUint64(markerTime(time.Now()), rand.Uint64())
}

// markerTime is the first 8 bytes of a marker made at now.
func markerTime(now time.Time) []byte {
	return binary.BigEndian.AppendUint64(nil, uint64(now.UnixNano()))
}

// settle learns whether a commit whose answer was lost applied: its marker
// is there or not once the writer lock is ours (the lost transaction holds
// it until it has committed or rolled back). While the database cannot be
// reached it tries again, with backoff, until Close, or until markers older
// than it may have been pruned.
func (d *DB) settle(marker []byte, cause error) error {
	start := time.Now()
	wait := 10 * time.Millisecond
	for {
		found, err := d.findMarker(marker)
		switch {
		case err == nil && found:
			return nil
		case err == nil:
			return fmt.Errorf("pgkv: commit did not apply: %w: %w", kv.ErrUnavailable, cause)
		case !unavailable(err):
			return fmt.Errorf("pgkv: commit outcome unknown: the connection broke (%v), and looking for its marker failed: %v", cause, err)
		case time.Since(start) > markerKeep-10*time.Minute:
			return fmt.Errorf("pgkv: commit outcome unknown: the database stayed unreachable for %v: %v", time.Since(start).Round(time.Second), err)
		}
		select {
		case <-d.ctx.Done():
			return fmt.Errorf("pgkv: commit outcome unknown: closed while finding it out (%v)", cause)
		case <-time.After(wait):
		}
		wait = min(2*wait, 2*time.Second)
	}
}

// findMarker looks for a commit marker under the writer lock.
func (d *DB) findMarker(marker []byte) (bool, error) {
	ctx, cancel := context.WithTimeout(d.ctx, d.timeout)
	defer cancel()
	conn, err := d.pool.Acquire(ctx)
	if err != nil {
		return false, err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "BEGIN; "+lockWriter); err != nil {
		return false, err
	}
	var found bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM kv_commits WHERE id = $1)", marker).Scan(&found); err != nil {
		return false, err
	}
	// The answer holds whatever ROLLBACK does; a failure leaves the
	// connection for the pool to drop.
	_, _ = conn.Exec(ctx, "ROLLBACK")
	return found, nil
}
