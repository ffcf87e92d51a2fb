// Package storage keeps all of cardflow's state in one bbolt file: orders and
// their history, the work-queue index, own stock (sealed), card fingerprints,
// the outbox and the audit log. Every write goes through one group-commit
// writer (see writer.go); reads use short bbolt View transactions.
package storage

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"cardflow/storage/kv"
	"cardflow/storage/kv/boltkv"
	"cardflow/storage/kv/pgkv"
)

// FileName is the database file inside the data directory.
const FileName = "cardflow.db"

// schemaVersion is bumped when the layout changes; Open refuses newer files
// and brings older ones up to date. 2: card fingerprints of cards as the
// import reads them now (reprint.go).
const schemaVersion = 2

var (
	bucketMeta         = []byte("meta")
	bucketOrders       = []byte("orders")
	bucketExt          = []byte("ext")          // storefront \x00 external_id → order id
	bucketOpen         = []byte("open")         // status code + order id → nothing
	bucketStock        = []byte("stock")        // sku → (seq → fingerprint || box)
	bucketLevels       = []byte("levels")       // sku → count
	bucketFingerprints = []byte("prints")       // fingerprint → where the card is
	bucketOutbox       = []byte("outbox")       // seq → Event
	bucketAudit        = []byte("audit")        // seq → AuditEntry
	bucketAlerts       = []byte("alerts")       // open alert key → nothing
	bucketBuyerLog     = []byte("buyerlog")     // time + seq → an order or refund and its buyer identities
	bucketFirstSeen    = []byte("firstseen")    // keyed hash of a buyer identity → first seen
	bucketRules        = []byte("rules")        // rule name → rule set from chat
	bucketHits         = []byte("hits")         // rule name \x00 day → matches
	bucketChat         = []byte("chat")         // dest \x00 seq → a chat message waiting to go out
	bucketAlertState   = []byte("alertstate")   // alert key → how it stands on chats
	bucketSilences     = []byte("silences")     // key prefix → muted until
	bucketStats        = []byte("stats")        // slot + metric + label → counter (stats.go)
	bucketBindCodes    = []byte("bindcodes")    // keyed hmac(code) → operator, expiry (bindings.go)
	bucketBindings     = []byte("bindings")     // platform identity → operator name
	bucketInbound      = []byte("inbound")      // seq → a chat platform's event, stored before it is acknowledged
	bucketInboundSeen  = []byte("inboundseen")  // event id → when it arrived (repeats are dropped)
	bucketParked       = []byte("parked")       // seq → an inbound event whose handling failed too often (inbound.go)
	bucketBalances     = []byte("balances")     // storefront → its prepaid balance in fen (balances.go)
	bucketLedger       = []byte("ledger")       // seq → a change of a storefront's balance
	bucketHeld         = []byte("claims")       // order id → until when its synchronous shop may claim it (held.go)
	bucketClaimRecs    = []byte("aftersale")    // claim id → an after-sale claim (claims.go)
	bucketClaimOrder   = []byte("claimorder")   // order id + claim id → nothing
	bucketClaimExt     = []byte("claimext")     // storefront \x00 claim_id → claim id
	bucketClaimOpen    = []byte("claimopen")    // claim id → nothing, while the claim is open
	bucketClaimBuyer   = []byte("claimbuyer")   // keyed hash of a buyer identity + claim id → nothing
	bucketStockBatch   = []byte("stockbatch")   // own-stock import batches and their upheld claims (batches.go)
	bucketReplyWindows = []byte("replywindows") // chat → the handle a bot may reply to, until when, replies taken (replywindows.go)
	allBuckets         = [][]byte{bucketMeta, bucketOrders, bucketExt, bucketOpen, bucketStock, bucketLevels, bucketFingerprints,
		bucketOutbox, bucketAudit, bucketAlerts, bucketBuyerLog, bucketFirstSeen, bucketRules, bucketHits,
		bucketChat, bucketAlertState, bucketSilences, bucketStats, bucketBindCodes, bucketBindings,
		bucketInbound, bucketInboundSeen, bucketParked, bucketBalances, bucketLedger, bucketHeld,
		bucketClaimRecs, bucketClaimOrder, bucketClaimExt, bucketClaimOpen, bucketClaimBuyer,
		bucketStockBatch, bucketReplyWindows}
	keySchema   = []byte("schema")
	keyCheck    = []byte("master_check")
	keyInstance = []byte("instance")
	keyEventSeq = []byte("event_seq")
	// keyBuyersFlushed is the unix second up to which every first sighting
	// of the buyer log is in the firstseen bucket (see FlushBuyers).
	keyBuyersFlushed = []byte("buyers_flushed")
)

// Options tune Open. The zero value is what production uses.
type Options struct {
	// LockTimeout is how long Open waits for another process's file lock.
	LockTimeout time.Duration
	// MaxBatch caps how many queued writes share one commit.
	MaxBatch int
	// InitialMmapSize is how much of the file bbolt maps at first; 0
	// chooses it from the file's size (see mmapSize).
	InitialMmapSize int
}

// Store is the open database.
type Store struct {
	db       kv.DB    // the engine the domain is written against
	bolt     *bolt.DB // the same file, for what only bbolt can do (Backup, Check, Trim); nil on PostgreSQL
	pg       *pgkv.DB // the same database on PostgreSQL, nil on bbolt
	vault    *Vault
	instance string
	w        *writer

	buyers      *buyerIndex   // set before buyersReady closes
	buyersReady chan struct{} // closed once the buyer history is indexed
	buyersErr   error

	avail     availability // whether the database answers (PostgreSQL; available.go)
	buyerSync buyerSync    // the other processes' buyer history (PostgreSQL; buyersync.go)

	// node is this process's id among those sharing a PostgreSQL store,
	// the owner of the outbox events it adds; "" on a bbolt file.
	node atomic.Pointer[string]

	// trimOther is the process's resident file-backed memory outside the
	// database mapping, as Trim last measured it (see Trim).
	trimOther atomic.Int64
}

// Open opens (creating if needed) the database in dir, checks that master is
// the key it was created with, and starts the writer.
func Open(dir string, master []byte, opts Options) (*Store, error) {
	vault, err := NewVault(master)
	if err != nil {
		return nil, err
	}
	if opts.LockTimeout <= 0 {
		opts.LockTimeout = time.Second
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("restrict data dir: %w", err)
	}
	path := filepath.Join(dir, FileName)
	if opts.InitialMmapSize <= 0 {
		opts.InitialMmapSize = mmapSize(path)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: opts.LockTimeout, InitialMmapSize: opts.InitialMmapSize})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("open %s: %w", path, ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("restrict database file: %w", err)
	}
	removeBackupFiles(dir)
	s, err := start(&Store{db: boltkv.DB{Bolt: db}, bolt: db, vault: vault}, opts)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	return s, nil
}

// start brings a store whose engine was just opened up to date (buckets,
// schema, master key check), starts indexing the buyer history and starts
// the writer.
func start(s *Store, opts Options) (*Store, error) {
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 2048
	}
	reprint, err := s.init()
	if err == nil && reprint {
		err = s.reprint()
	}
	if err != nil {
		return nil, err
	}
	// The buyer history of a busy day takes a second or two to index: the
	// store opens (and recovery runs) meanwhile, and only what screens an
	// order or writes its history waits for the index.
	s.buyersReady = make(chan struct{})
	go func() {
		defer close(s.buyersReady)
		if s.pg != nil {
			s.buyerSync.start(s.db) // before the load: it reads what was numbered until now
		}
		if s.buyersErr = s.loadBuyers(); s.buyersErr != nil {
			s.buyers = newBuyerIndex() // rules see no history rather than no order going through
		}
		_, _ = s.Trim(0) // the day of history just read stays in the page cache, not in our RSS
	}()
	s.w = startWriter(s, opts.MaxBatch)
	return s, nil
}

// init creates the buckets on a new file and checks schema and master key on
// an existing one. reprint says the card fingerprints of an older schema
// are to be brought up to date (a reprint started before is resumed).
func (s *Store) init() (reprint bool, err error) {
	err = s.db.Update(func(tx kv.Tx) error {
		for _, name := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
		}
		meta := tx.Bucket(bucketMeta)
		if meta.Get(keyCopying) != nil {
			return ErrUnfinishedCopy
		}
		if v := meta.Get(keySchema); v != nil {
			got := binary.BigEndian.Uint64(v)
			if got > schemaVersion {
				return fmt.Errorf("%w: file has schema %d, this build knows up to %d; upgrade cardflow", ErrSchema, got, schemaVersion)
			}
			if got < 2 {
				if err := meta.Put(keyReprinting, []byte{1}); err != nil {
					return fmt.Errorf("mark reprint: %w", err)
				}
			}
		}
		reprint = meta.Get(keyReprinting) != nil
		if err := meta.Put(keySchema, u64(schemaVersion)); err != nil {
			return fmt.Errorf("write schema version: %w", err)
		}
		if check := meta.Get(keyCheck); check != nil {
			if err := s.vault.verify(check); err != nil {
				return err
			}
		} else {
			check, err := s.vault.checkValue()
			if err != nil {
				return err
			}
			if err := meta.Put(keyCheck, check); err != nil {
				return fmt.Errorf("write master key check: %w", err)
			}
		}
		inst := meta.Get(keyInstance)
		if inst == nil {
			inst = make([]byte, 8)
			if _, err := rand.Read(inst); err != nil {
				return fmt.Errorf("generate instance id: %w", err)
			}
			if err := meta.Put(keyInstance, inst); err != nil {
				return fmt.Errorf("write instance id: %w", err)
			}
		}
		s.instance = fmt.Sprintf("%x", inst)
		return nil
	})
	return reprint, err
}

// Vault returns the store's card vault, for sealing before a write and
// opening after a read.
func (s *Store) Vault() *Vault { return s.vault }

// Path is the database file's path; "" on PostgreSQL.
func (s *Store) Path() string {
	if s.bolt == nil {
		return ""
	}
	return s.bolt.Path()
}

// SetNode names this process among those sharing the store (its cluster
// member id): the outbox events it adds from now on are its to carry out.
// Call it before the first write.
func (s *Store) SetNode(id string) { s.node.Store(&id) }

// Node is the id SetNode gave.
func (s *Store) Node() string {
	if p := s.node.Load(); p != nil {
		return *p
	}
	return ""
}

// Postgres reports whether the store is kept in PostgreSQL.
func (s *Store) Postgres() bool { return s.pg != nil }

// Close stops the writer (after the queued writes) and closes the file.
func (s *Store) Close() error {
	<-s.buyersReady
	s.stopWatch()
	s.w.stop()
	if s.buyersErr == nil && s.Err() == nil {
		// Best effort: without it the next start reads the log instead.
		// After a storage error nothing more is written.
		_ = s.saveBuyerSnapshot()
	}
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close database: %w", err)
	}
	return nil
}

// View runs fn in a read transaction. Keep it short: a long read blocks the
// file from growing.
func (s *Store) View(fn func(*Tx) error) error {
	if p := s.avail.lost.Load(); p != nil {
		return *p // the database is away: answer now, not after a timeout
	}
	err := s.db.View(func(ktx kv.Tx) error { return fn(&Tx{tx: ktx, store: s}) })
	s.markLost(err)
	return err
}

// Update queues fn for the writer and waits until its commit is durable. fn
// may run more than once (when a write sharing its commit fails), so it must
// only touch the transaction and variables it assigns afresh on each run.
// If fn returns an error none of its writes are kept.
func (s *Store) Update(fn func(*Tx) error) error { return s.UpdateIntake(nil, fn) }

// UpdateIntake is Update for a write that stores a new order and begins by
// looking up what o names: its storefront's external id and its buyer's
// identities (o needs only those fields). Where every read is a round trip
// to a server (PostgreSQL), the writer reads what a whole batch of such
// writes looks up in one round trip per bucket before it runs them, rather
// than one per key while every other process waits for the writer lock.
// On bbolt it is Update, and so it is with o nil.
func (s *Store) UpdateIntake(o *Order, fn func(*Tx) error) error {
	if p := s.avail.lost.Load(); p != nil {
		return *p // the database is away: answer now, not after a timeout
	}
	return s.w.do(fn, o)
}

// Backup writes a consistent copy of the database to w. The copy is itself a
// valid database: start cardflow on it to restore. size, if not nil, learns
// the copy's exact length before the first byte is written.
//
// The copy is taken into a file in the data directory first, in one short
// read transaction, and then streamed from that file: a read transaction
// held while a slow client reads would keep bbolt from remapping the file,
// and every write that makes the file grow would wait for the client. The
// file is private (0600) and removed afterwards, whatever happens to the
// stream; one a crash left behind is removed at the next Open.
func (s *Store) Backup(w io.Writer, size func(int64)) (int64, error) {
	if s.bolt == nil {
		return 0, ErrBackupElsewhere
	}
	f, err := os.CreateTemp(filepath.Dir(s.bolt.Path()), backupPattern)
	if err != nil {
		return 0, fmt.Errorf("write backup: %w", err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	var total int64
	err = s.bolt.View(func(tx *bolt.Tx) error {
		var err error
		total, err = tx.WriteTo(f)
		return err
	})
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		return 0, fmt.Errorf("write backup: %w", err)
	}
	if size != nil {
		size(total)
	}
	n, err := io.Copy(w, f)
	if err != nil {
		return n, fmt.Errorf("write backup: %w", err)
	}
	return n, nil
}

// backupPattern names the copies Backup takes in the data directory.
const backupPattern = "backup-*.tmp"

// removeBackupFiles removes copies a backup left behind (a crash while it
// streamed). Open calls it once it holds the file lock: no backup of
// another process can be under way.
func removeBackupFiles(dir string) {
	names, _ := filepath.Glob(filepath.Join(dir, backupPattern))
	for _, name := range names {
		_ = os.Remove(name)
	}
}

// minMmap is the least bbolt maps of the file at Open.
const minMmap = 256 << 20

// mmapSize is how much of the file bbolt maps at Open: the smallest power of
// two that is at least twice the file's size, and at least minMmap. bbolt
// remaps the file whenever it outgrows the mapping, and a remap waits for
// every read transaction to end, holding up the write that grew the file
// (and every write queued behind it). Starting at twice the size, the file
// must double before the first remap: rare for a store that grows by a day
// of orders at a time. The mapping is address space, not memory: a page
// counts in the resident set only once it is read, Trim lets go of those
// (trim_linux.go), and nothing past the end of the file is ever touched;
// the file itself grows as data is written, not to the mapping's size.
func mmapSize(path string) int {
	if strconv.IntSize == 32 {
		return minMmap // a 32-bit address space has no room for more
	}
	var size int64
	if st, err := os.Stat(path); err == nil {
		size = st.Size()
	}
	m := int64(minMmap)
	for m < 2*size {
		m <<= 1
	}
	return int(m)
}

// Size is the database file's size in bytes; on PostgreSQL, the
// database's (0 while it cannot be asked).
func (s *Store) Size() int64 {
	if s.pg != nil {
		return s.pg.Size()
	}
	var n int64
	_ = s.bolt.View(func(tx *bolt.Tx) error { n = tx.Size(); return nil })
	return n
}

// Check runs bbolt's consistency check; tests call it on cleanup.
// PostgreSQL checks its own pages: nothing to do there.
func (s *Store) Check() error {
	if s.bolt == nil {
		return nil
	}
	return s.bolt.View(func(tx *bolt.Tx) error {
		var first error
		for err := range tx.Check() { // drain: the checker goroutine writes every error
			if first == nil {
				first = err
			}
		}
		return first
	})
}

func u64(v uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, v)
	return b
}
