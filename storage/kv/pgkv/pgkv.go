// Package pgkv keeps the kv contract in PostgreSQL, so that several cardflow
// processes can share one database.
//
// Every top-level bucket is a table of the same name, (sub bytea, k bytea,
// v bytea, primary key (sub, k)), created by the caller's migrations (see
// Migrate); sub is a nested bucket's name, empty at the top level. Bucket names
// are lower-case letters, digits and underscores (at most 63 bytes); names
// beginning with kv_ and schema_migrations are the engine's. Sequence
// numbers live in kv_sequences.
//
// Update takes the advisory lock WriterLock in its transaction first, so
// writers are serial across every process on the database, as the contract
// requires. Its writes are buffered in the process and reach the database
// in one batch at commit (or when a cursor or ForEachBucket needs them),
// sent with COMMIT in one round trip, with a commit marker that tells a
// commit whose answer was lost whether it applied, and a tick of the write
// clock (kv_clock), which says whether anything was written since a given
// commit. View is one REPEATABLE READ snapshot, taken when it begins.
//
// Each DB caches what its transactions read and its Updates wrote: keys,
// ranges of keys a cursor walked (known complete, so a walk there asks
// nothing), sequence numbers. The cache is true while the write clock reads
// what it recorded, and used only then: by Updates, and by a View whose
// snapshot shows that clock. Each commit also lists the keys it wrote
// (kv_changelog), so that an Update of another process brings its cache up
// to date with a few commits it missed rather than starting afresh.
// Options.CacheBytes bounds it.
//
// Where pgkv differs from bbolt:
//   - A cursor sees every write its transaction made, before or ahead of it,
//     at its next move; bbolt shows some and not others, by page layout.
//     A cursor never shows a nested bucket (bbolt's show its name with a nil
//     value).
//   - Bucket returns a handle for a nested bucket never created, and a nested
//     bucket exists while it has keys or a sequence number: ForEachBucket
//     lists those, not an empty one that was only created.
//   - Nested buckets and keys are apart: a nested bucket may share a key's
//     name. There is one level of nesting.
//   - A key and its nested bucket's name together are at most MaxKey bytes
//     (PostgreSQL's index entries are bounded).
//   - Put keeps the value slice until commit without copying it: it must not
//     change before the transaction ends (bbolt asks the same).
package pgkv

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"math/rand/v2"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"cardflow/storage/kv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Advisory lock keys (pg_advisory_xact_lock) the engine holds; other users
// of advisory locks on the same database must pick other keys.
const (
	// WriterLock is held by every Update: "cfkvwrit".
	WriterLock int64 = 0x63666b7677726974
	// MigrationLock is held while migrations run: "cfkvmigr".
	MigrationLock int64 = 0x63666b766d696772
)

// MaxKey bounds a key and its nested bucket's name together, in bytes.
const MaxKey = 2000

// ErrClosed is returned by a DB after Close.
var ErrClosed = errors.New("pgkv: database closed")

// Options configure Open.
type Options struct {
	// Migrations are the caller's SQL files (NNNN_name.sql, see Migrate),
	// applied after the engine's own. Nil applies only the engine's.
	Migrations fs.FS
	// MaxConns bounds the connection pool (0: pgxpool's default, the larger
	// of 4 and the number of CPUs).
	MaxConns int32
	// QueryTimeout bounds each round trip to the database, the wait for the
	// writer lock included (0: 30 s). One that runs out reads as
	// kv.ErrUnavailable. The server ends a transaction left idle between
	// two statements for twice as long (at least a minute), so that a
	// client gone silent cannot hold the writer lock.
	QueryTimeout time.Duration
	// CacheBytes bounds the cache of what this DB read and wrote, kept
	// across transactions and brought up to date with other processes'
	// commits (0: 64 MiB; negative: no cache).
	CacheBytes int64
}

const (
	defaultQueryTimeout = 30 * time.Second
	// markerKeep is how long commit markers are kept, and so how long a
	// commit's outcome can still be learned after its connection broke.
	markerKeep = time.Hour
	// pruneEvery is how many commits of a process go between two prunings of
	// its old markers.
	pruneEvery = 256
	// defaultCacheBytes is the cache's bound unless Options set one.
	defaultCacheBytes = 64 << 20
)

var (
	_ kv.DB     = (*DB)(nil)
	_ kv.Tx     = (*tx)(nil)
	_ kv.Bucket = (*bucket)(nil)
	_ kv.Cursor = (*cursor)(nil)

	_ kv.ReadingUpdater = (*DB)(nil)
	_ kv.ReadAhead      = (*tx)(nil)
)

// DB is an open PostgreSQL store.
type DB struct {
	pool     *pgxpool.Pool
	ctx      context.Context // cancelled by Close
	stop     context.CancelFunc
	timeout  time.Duration
	maxConns int32
	commits  atomic.Uint64
	reads    atomic.Uint64 // round trips for a read inside a transaction (tests ask)
	// id names this handle in the write clock: random, never 0 (a
	// migration's).
	id int64
	// writing lets one Update of this handle at a time wait for the writer
	// lock: the others wait here without holding a connection, and an
	// Update's cache work after its COMMIT is done before the next begins.
	writing chan struct{}
	cache   *cache // nil: none

	mu     sync.Mutex
	tables map[string]*table // the bucket tables known to exist

	background sync.WaitGroup // ANALYZEs under way (analyze.go)
	closed     bool           // Close began: no more of them

	// size is Size's last answer, asked at sizeAt; sizeMu lets one
	// caller at a time ask the server. now is time.Now but in tests.
	sizeMu sync.Mutex
	size   int64
	sizeAt time.Time
	now    func() time.Time

	// breakCommit, set by tests, stands in for sending a commit's batch
	// (send) on its connection: it may break the connection before or after
	// sending it.
	breakCommit func(pc *pgconn.PgConn, send func() pgx.BatchResults) pgx.BatchResults
}

// Open connects to the database url names (a libpq URL or key=value DSN),
// applies the migrations and returns the store. ctx bounds connecting and
// migrating.
func Open(ctx context.Context, url string, opts Options) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("pgkv: %w", err)
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	timeout := opts.QueryTimeout
	if timeout <= 0 {
		timeout = defaultQueryTimeout
	}
	params := cfg.ConnConfig.RuntimeParams
	if params["application_name"] == "" {
		params["application_name"] = "cardflow"
	}
	// A client that vanished mid-transaction (a network cut the server does
	// not notice) would hold the writer lock, and stall every process, until
	// the server gives up on it.
	if params["idle_in_transaction_session_timeout"] == "" {
		params["idle_in_transaction_session_timeout"] = strconv.FormatInt(max(2*timeout, time.Minute).Milliseconds(), 10)
	}
	// Every statement is prepared once per connection. After five runs the
	// server may settle on a generic plan, made for the table as it was
	// then and kept while it grows: in a bench run a Prefetch planned as a
	// walk of a young bucket walked all 20,000 of its keys later (1-3 ms,
	// inside the writer lock, to the end of the run). A plan made for each
	// run, with its keys and the table as it is, costs the server a few
	// tens of microseconds. A URL that sets plan_cache_mode is obeyed.
	if params["plan_cache_mode"] == "" {
		params["plan_cache_mode"] = "force_custom_plan"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("pgkv: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, wrap("connect", err)
	}
	if _, err := Migrate(ctx, pool, opts.Migrations); err != nil {
		pool.Close()
		return nil, err
	}
	d := &DB{pool: pool, timeout: timeout, maxConns: cfg.MaxConns, tables: map[string]*table{},
		id: rand.Int64N(math.MaxInt64) + 1, writing: make(chan struct{}, 1), now: time.Now}
	if opts.CacheBytes >= 0 {
		d.cache = newCache(cmp.Or(opts.CacheBytes, defaultCacheBytes))
	}
	d.ctx, d.stop = context.WithCancel(context.Background())
	return d, nil
}

// ReadTrips counts the round trips transactions made to read, since Open:
// for tests and benchmarks that check a change saved some.
func (d *DB) ReadTrips() uint64 { return d.reads.Load() }

// Close cancels what is under way and closes the pool.
func (d *DB) Close() error {
	d.mu.Lock()
	d.closed = true
	d.mu.Unlock()
	d.stop()
	d.background.Wait()
	d.pool.Close()
	return nil
}

// Ping checks that the database answers.
func (d *DB) Ping(ctx context.Context) error {
	if err := d.pool.Ping(ctx); err != nil {
		return d.wrap("ping", err)
	}
	return nil
}

// sizeEvery is how long Size answers what it last learned. The server
// finds a database's size by looking at every file of it, a few
// milliseconds each time, and a gauge scraped every few seconds by each
// process need not cost that every time.
const sizeEvery = 10 * time.Second

// Size is the database's size on disk in bytes, as learned in the last
// sizeEvery; 0 if the database cannot be asked within a couple of seconds
// (it is a gauge, not a decision).
func (d *DB) Size() int64 {
	d.sizeMu.Lock()
	defer d.sizeMu.Unlock()
	if now := d.now(); !d.sizeAt.IsZero() && now.Sub(d.sizeAt) < sizeEvery {
		return d.size
	}
	ctx, cancel := context.WithTimeout(d.ctx, 2*time.Second)
	defer cancel()
	var n int64
	if err := d.pool.QueryRow(ctx, "SELECT pg_database_size(current_database())").Scan(&n); err != nil {
		return 0
	}
	d.size, d.sizeAt = n, d.now()
	return n
}

// Pool is the connection pool, for work beside the kv contract (claiming
// rows, electing a leader). Writes to the bucket tables must go through
// Update: its transactions trust that nobody else writes them, and every
// DB's cache that the write clock, which only Update and Migrate tick,
// tells it of every write.
func (d *DB) Pool() *pgxpool.Pool { return d.pool }

// Update runs fn in a transaction that holds the writer lock, and commits
// its writes if fn returns nil. A commit whose connection broke is looked
// up by its marker; while the database cannot be reached to find out,
// Update keeps trying (until Close), and answers only once it knows.
func (d *DB) Update(fn func(kv.Tx) error) error { return d.UpdateReading(nil, fn) }

// UpdateReading is Update that reads the keys reads names in the round
// trip that takes the writer lock, so that fn's Gets of them answer from
// memory (kv.ReadingUpdater). A bucket whose table this DB has not used
// yet is left to fn.
func (d *DB) UpdateReading(reads []kv.Read, fn func(kv.Tx) error) error {
	ctx, cancel := context.WithTimeout(d.ctx, d.timeout)
	select {
	case d.writing <- struct{}{}:
		cancel()
		defer func() { <-d.writing }()
	case <-ctx.Done():
		cancel()
		return d.wrap("wait for the writer lock", ctx.Err())
	}
	t, err := d.begin(true, reads)
	if err != nil {
		return err
	}
	defer t.conn.Release()
	ferr := fn(t)
	if t.err != nil || ferr != nil {
		t.rollback()
		if t.err != nil {
			return t.err
		}
		return ferr
	}
	return t.commit()
}

// View runs fn in a read-only transaction on one snapshot.
func (d *DB) View(fn func(kv.Tx) error) error {
	t, err := d.begin(false, nil)
	if err != nil {
		return err
	}
	defer t.conn.Release()
	ferr := fn(t)
	t.rollback()
	if t.err != nil {
		return t.err
	}
	return ferr
}

// The statements that open a transaction and read the write clock, in one
// round trip. An update reads the clock, and the changes its cache has not
// seen, in statements of their own after the lock, so that their snapshot
// is taken once the lock is held. A view's SELECT takes its snapshot at
// once, as bbolt's does at begin, rather than at fn's first read.
var (
	lockWriter = "SELECT pg_advisory_xact_lock(" + strconv.FormatInt(WriterLock, 10) + ")"
	readClock  = "SELECT n, writer FROM kv_clock"
	// readChanges lists the changes committed after count $1, if there are
	// at most $2 to catch up with; none otherwise, and the cache starts
	// afresh.
	readChanges = `SELECT n, rec FROM kv_changelog
		WHERE n > $1 AND (SELECT n FROM kv_clock) - $1 <= $2 ORDER BY n`
	openView = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; " + readClock
)

// maxCatchUp is how many commits of others a cache catches up with at
// most; changesKeep how many commits' changes are kept; maxChanged how
// many keys a commit lists at most (one that writes more lists none, and
// caches behind it start afresh).
const (
	maxCatchUp  = 256
	changesKeep = 4096
	maxChanged  = 10_000
)

// beginUpdate begins an update on conn: takes the writer lock, reads the
// clock, brings the cache up to it, and reads the keys reads names, in one
// round trip.
func (d *DB) beginUpdate(ctx context.Context, conn *pgxpool.Conn, reads []kv.Read) (clock, fetches, error) {
	var c clock
	since, catchUp := d.cache.since()
	b := &pgx.Batch{}
	b.Queue("BEGIN")
	b.Queue(lockWriter)
	b.Queue(readClock)
	if catchUp {
		b.Queue(readChanges, since, maxCatchUp)
	}
	var fetch fetches
	d.mu.Lock()
	for _, r := range reads {
		if tb := d.tables[string(r.Bucket)]; tb != nil {
			fetch.queue(b, bucketKey{tbl: tb}, []byte{}, r.Keys)
		}
	}
	d.mu.Unlock()
	br := conn.SendBatch(ctx, b)
	defer br.Close()
	for range 2 {
		if _, err := br.Exec(); err != nil {
			return c, nil, err
		}
	}
	if err := br.QueryRow().Scan(&c.n, &c.writer); err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return c, nil, err
	}
	var changes []change
	if catchUp {
		var err error
		if changes, err = d.scanChanges(br); err != nil {
			return c, nil, err
		}
	}
	if err := fetch.scan(br); err != nil {
		return c, nil, err
	}
	if err := br.Close(); err != nil {
		return c, nil, err
	}
	if len(fetch) > 0 {
		d.reads.Add(1)
	}
	d.cache.begin(c, changes)
	return c, fetch, nil
}

// scanChanges reads the answer to readChanges. A record that does not
// parse is left out.
func (d *DB) scanChanges(br pgx.BatchResults) ([]change, error) {
	rows, err := br.Query()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []change
	var n int64
	var rec []byte
	for rows.Next() {
		if err := rows.Scan(&n, &rec); err != nil {
			return nil, err
		}
		keys, err := d.readRecord(rec)
		if err != nil {
			// Not made by pgkv: left out, the gap makes the cache start
			// afresh.
			continue
		}
		out = append(out, change{n: n, keys: keys})
	}
	return out, rows.Err()
}

// beginView begins a view on conn and reads the clock its snapshot shows.
func beginView(ctx context.Context, conn *pgxpool.Conn) (clock, error) {
	results, err := conn.Conn().PgConn().Exec(ctx, openView).ReadAll()
	if err != nil {
		return clock{}, err
	}
	return parseClock(results)
}

// begin opens a transaction on a pooled connection; an update reads the
// keys reads names as it begins.
func (d *DB) begin(writable bool, reads []kv.Read) (*tx, error) {
	// A pooled connection found broken (the server restarted, or ended it)
	// is dropped and the next tried: as many as the pool holds, and a new.
	var err error
	for range d.maxConns + 1 {
		if d.ctx.Err() != nil {
			return nil, ErrClosed
		}
		var conn *pgxpool.Conn
		ctx, cancel := context.WithTimeout(d.ctx, d.timeout)
		conn, err = d.pool.Acquire(ctx)
		if err != nil {
			cancel()
			return nil, d.wrap("connect", err)
		}
		var c clock
		var fetch fetches
		if writable {
			c, fetch, err = d.beginUpdate(ctx, conn, reads)
		} else {
			c, err = beginView(ctx, conn)
		}
		cancel()
		if err == nil {
			t := newTx(d, conn, writable, c)
			for _, f := range fetch {
				t.keep(f.bk, f.keys, f.found)
			}
			return t, nil
		}
		broken := conn.Conn().IsClosed() && !pgconn.Timeout(err)
		conn.Release()
		if !broken {
			break
		}
	}
	return nil, d.wrap("begin", err)
}

// parseClock reads the write clock from the last result of a view's begin,
// in text as the simple protocol gives it. No row reads as the clock's start.
func parseClock(results []*pgconn.Result) (clock, error) {
	var c clock
	if len(results) == 0 {
		return c, errors.New("begin: no answer")
	}
	rows := results[len(results)-1].Rows
	if len(rows) == 0 {
		return c, nil
	}
	if len(rows[0]) != 2 {
		return c, errors.New("begin: the write clock has an odd shape")
	}
	var err1, err2 error
	c.n, err1 = strconv.ParseInt(string(rows[0][0]), 10, 64)
	c.writer, err2 = strconv.ParseInt(string(rows[0][1]), 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return c, fmt.Errorf("begin: read the write clock: %w", err)
	}
	return c, nil
}

// wrap says what failed, marking what means "the database cannot be
// reached" with kv.ErrUnavailable.
func (d *DB) wrap(what string, err error) error {
	if d.ctx.Err() != nil {
		return fmt.Errorf("pgkv: %s: %w", what, ErrClosed)
	}
	return wrap(what, err)
}

func wrap(what string, err error) error {
	if unavailable(err) {
		return fmt.Errorf("pgkv: %s: %w: %w", what, kv.ErrUnavailable, err)
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) && (pe.Code == "42P01" || pe.Code == "42703") {
		return fmt.Errorf("pgkv: %s (schema not migrated?): %w", what, err)
	}
	return fmt.Errorf("pgkv: %s: %w", what, err)
}

// unavailable says whether err means that the database could not be reached
// or the connection broke, as opposed to a statement the server refused.
func unavailable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code[:min(2, len(pe.Code))] {
		case "08": // connection exception
			return true
		case "53": // insufficient resources: too many connections, out of memory or disk
			return true
		}
		switch pe.Code {
		case "57P01", "57P02", "57P03", // admin shutdown, crash shutdown, cannot connect now
			"57014", // query cancelled (statement_timeout)
			"25P03", // idle_in_transaction_session_timeout
			"55P03": // lock_timeout
			return true
		}
		return false
	}
	var ne net.Error
	var ce *pgconn.ConnectError
	return pgconn.SafeToRetry(err) || pgconn.Timeout(err) ||
		errors.As(err, &ce) || errors.As(err, &ne) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, pgconn.ErrConnClosed) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// table is a bucket's table and the statements on it.
type table struct {
	// writes counts this DB's writes to the table, and nextAnalyze is the
	// count at which it next has it analyzed (analyze.go); d.mu guards
	// both.
	writes, nextAnalyze int64

	name                  string
	get, upsert, del      string
	getMany               string // the keys of an array at once (Prefetch)
	first, after, from    string // forward pages: from the start, k > $2, k >= $2
	last, before, through string // backward pages: from the end, k < $2, k <= $2
	subs                  string // the nested buckets
}

func newTable(name string) *table {
	q := pgx.Identifier{name}.Sanitize()
	page := "SELECT k, v FROM " + q + " WHERE sub = $1"
	return &table{
		name: name,
		get:  "SELECT v FROM " + q + " WHERE sub = $1 AND k = $2",
		// The keys of one nested bucket as an array the primary key is
		// probed with. Like every statement here it relies on the table's
		// statistics to be planned so (analyze.go).
		getMany: "SELECT k, v FROM " + q + " WHERE sub = $1 AND k = ANY($2::bytea[])",
		upsert:  "INSERT INTO " + q + " (sub, k, v) SELECT * FROM unnest($1::bytea[], $2::bytea[], $3::bytea[]) ON CONFLICT (sub, k) DO UPDATE SET v = excluded.v",
		del:     "DELETE FROM " + q + " WHERE sub = $1 AND k = ANY($2::bytea[])",
		first:   page + " ORDER BY k LIMIT $2",
		after:   page + " AND k > $2 ORDER BY k LIMIT $3",
		from:    page + " AND k >= $2 ORDER BY k LIMIT $3",
		last:    page + " ORDER BY k DESC LIMIT $2",
		before:  page + " AND k < $2 ORDER BY k DESC LIMIT $3",
		through: page + " AND k <= $2 ORDER BY k DESC LIMIT $3",
		// The distinct subs by a walk down the index (one probe per nested
		// bucket, not a scan of every key), and those with only a sequence.
		subs: `WITH RECURSIVE s(sub) AS (
			(SELECT sub FROM ` + q + ` WHERE sub > ''::bytea ORDER BY sub LIMIT 1)
			UNION ALL
			SELECT (SELECT t.sub FROM ` + q + ` t WHERE t.sub > s.sub ORDER BY t.sub LIMIT 1) FROM s WHERE s.sub IS NOT NULL)
		SELECT sub FROM s WHERE sub IS NOT NULL
		UNION SELECT sub FROM kv_sequences WHERE tbl = $1 AND sub > ''::bytea
		ORDER BY sub`,
	}
}

// table returns a bucket's table, nil if it does not exist, asking the
// database (through t) the first time.
func (d *DB) table(t *tx, name string) (*table, error) {
	d.mu.Lock()
	tb := d.tables[name]
	d.mu.Unlock()
	if tb != nil {
		return tb, nil
	}
	var exists bool
	if err := t.queryRow("SELECT to_regclass($1) IS NOT NULL", []any{pgx.Identifier{name}.Sanitize()}, &exists); err != nil {
		return nil, err
	}
	if !exists {
		return nil, nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.tables[name] == nil {
		d.tables[name] = newTable(name)
	}
	return d.tables[name], nil
}
