package storage

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"cardflow/storage/kv"
)

// writer is the group-commit writer (docs/storage.md): producers queue write
// functions, one goroutine applies everything queued in a single bbolt
// transaction and reports back after the commit. One commit costs two
// fsyncs whether it carries one write or two thousand, so throughput grows
// with load while a lone write waits for nothing.
type writer struct {
	store    *Store
	reqs     chan *writeReq
	maxBatch int
	mu       sync.RWMutex // guards closed against do racing stop
	closed   bool
	done     chan struct{}

	// A commit that fails for the storage's sake (see fail) stops all
	// writes: failed is closed and failure holds the error every write
	// gets from then on.
	failed    chan struct{}
	failure   atomic.Pointer[error]
	failOnce  sync.Once
	onFailMu  sync.Mutex
	onFailure func(error)
	// commitErr, if set, is what commits report after bbolt's own commit
	// succeeded: a sync error after the pages reached the file. Tests only
	// (export_test.go).
	commitErr atomic.Pointer[error]

	// Counters for Stats, written by the loop only.
	commits, writes atomic.Uint64
	commitNanos     atomic.Int64
}

type writeReq struct {
	fn   func(*Tx) error
	errc chan error
	// intake, if set, is a new order (storefront, external id, buyer) that
	// fn looks up first: see UpdateIntake.
	intake *Order
}

// errSkip rolls back a batch in which one write failed; the failed write is
// answered and the rest are retried without it.
var errSkip = errors.New("rollback batch")

func startWriter(s *Store, maxBatch int) *writer {
	w := &writer{store: s, reqs: make(chan *writeReq, maxBatch), maxBatch: maxBatch, done: make(chan struct{}),
		failed: make(chan struct{})}
	go w.loop()
	return w
}

func (w *writer) do(fn func(*Tx) error, intake *Order) error {
	if err := w.err(); err != nil {
		return err
	}
	req := &writeReq{fn: fn, errc: make(chan error, 1), intake: intake}
	w.mu.RLock()
	if w.closed {
		w.mu.RUnlock()
		return ErrClosed
	}
	w.reqs <- req
	w.mu.RUnlock()
	return <-req.errc
}

// stop lets queued writes finish, then ends the loop.
func (w *writer) stop() {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		close(w.reqs)
	}
	w.mu.Unlock()
	<-w.done
}

func (w *writer) loop() {
	defer close(w.done)
	batch := make([]*writeReq, 0, w.maxBatch)
	for first := range w.reqs {
		batch = w.drain(append(batch[:0], first))
		if err := w.err(); err != nil { // queued before the failure: never run
			for _, r := range batch {
				r.errc <- err
			}
			continue
		}
		w.commit(batch)
	}
}

// err is the failure that stopped the writer, nil while it works.
func (w *writer) err() error {
	if p := w.failure.Load(); p != nil {
		return *p
	}
	return nil
}

// fail stops the writer for good after a storage error, the one kind of
// write error that is not a write refusing its input: bbolt's commit (its
// page writes, file growth or fsync) or the writer's own counter flush
// failed. After a failed commit nothing is certain any more: its pages may
// be in the file and visible through the mapping, or half of them; the
// orders it carried may have moved without their side effects. Carrying
// on would act on that state; stopping leaves it to the recovery of the
// next start, which trusts only what is durable. fail reports the failure
// once (OnFailure) and returns the error writes get from now on.
func (w *writer) fail(cause error) error {
	w.failOnce.Do(func() {
		err := fmt.Errorf("%w: %w", ErrStoreFailed, cause)
		w.failure.Store(&err)
		close(w.failed)
		w.onFailMu.Lock()
		fn := w.onFailure
		w.onFailMu.Unlock()
		if fn != nil {
			fn(err)
		}
	})
	return w.err()
}

// commit applies batch in one transaction. When a write fails, the whole
// transaction is rolled back, that write gets its error and the others are
// tried again without it, so a failed write never leaves half its changes.
func (w *writer) commit(batch []*writeReq) {
	for len(batch) > 0 {
		failed, failErr := -1, error(nil)
		var tx *Tx
		start := time.Now()
		err := w.store.update(batch, func(ktx kv.Tx) error {
			// On a shared store the engine waited for the writer lock
			// before calling this: what was queued meanwhile joins the
			// commit, so that processes taking turns commit more at a
			// time, not more often.
			began := len(batch)
			batch = w.drain(batch)
			tx = &Tx{tx: ktx, store: w.store}
			tx.lookAhead(batch[began:])
			for i, r := range batch {
				if err := call(r.fn, tx); err != nil {
					if kerr := ktx.Err(); kerr != nil {
						return kerr // a read failed under the write: the write is not to blame
					}
					failed, failErr = i, err
					return errSkip
				}
			}
			return tx.flushStats()
		})
		if failed >= 0 && errors.Is(err, errSkip) {
			batch[failed].errc <- failErr
			batch = append(batch[:failed:failed], batch[failed+1:]...)
			continue
		}
		if p := w.commitErr.Load(); err == nil && p != nil {
			err = *p
		}
		switch {
		case errors.Is(err, ErrUnavailable):
			// The database could not be reached and the engine made sure
			// nothing of the batch applied: every write in it is refused,
			// the store stays open and the next batch tries again.
			err = fmt.Errorf("commit: %w", err)
			w.store.markLost(err)
		case err != nil:
			err = w.fail(fmt.Errorf("commit: %w", err))
		default:
			if len(tx.buyerLog) > 0 {
				w.store.buyerIndex().apply(tx.buyerLog)
				if w.store.pg != nil {
					w.store.buyerSync.committed(tx.buyerSeqs)
				}
			}
			w.commits.Add(1)
			w.writes.Add(uint64(len(batch)))
			w.commitNanos.Add(int64(time.Since(start)))
		}
		for _, r := range batch {
			r.errc <- err
		}
		return
	}
}

// drain adds to batch what is queued now, up to maxBatch, without waiting.
func (w *writer) drain(batch []*writeReq) []*writeReq {
	for len(batch) < w.maxBatch {
		select {
		case r, ok := <-w.reqs:
			if !ok {
				return batch
			}
			batch = append(batch, r)
		default:
			return batch
		}
	}
	return batch
}

// call runs one write, turning a panic into an error so that one bad write
// cannot take the writer (and every other caller) down with it.
func call(fn func(*Tx) error, tx *Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("write panicked: %v", p)
		}
	}()
	return fn(tx)
}

// WriterStats count the group-commit writer's work since the store opened.
type WriterStats struct {
	Commits    uint64        // bbolt transactions committed
	Writes     uint64        // Update calls they carried
	CommitTime time.Duration // spent in them, fsyncs included
}

// OnFailure has fn called once, from the writer, when the store stops
// taking writes after a storage error (at once if it has already). fn must
// not block or write to the store.
func (s *Store) OnFailure(fn func(error)) {
	s.w.onFailMu.Lock()
	s.w.onFailure = fn
	s.w.onFailMu.Unlock()
	if err := s.Err(); err != nil {
		fn(err)
	}
}

// Failed is closed once the store has stopped taking writes after a storage
// error; Err says why.
func (s *Store) Failed() <-chan struct{} { return s.w.failed }

// Err is the storage error that stopped the store taking writes (an
// ErrStoreFailed), nil while it takes them.
func (s *Store) Err() error { return s.w.err() }

// Stats reports the writer's counters.
func (s *Store) Stats() WriterStats {
	return WriterStats{Commits: s.w.commits.Load(), Writes: s.w.writes.Load(), CommitTime: time.Duration(s.w.commitNanos.Load())}
}
