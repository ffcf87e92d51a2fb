package storage

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
)

// OutboxTx is the outbox's events seen in one transaction (Tx.Outbox):
// every side effect of a write, stored in the same write, until its
// receiver has acknowledged it.
type OutboxTx struct{ t *Tx }

// Outbox returns the outbox's events of this transaction.
func (t *Tx) Outbox() OutboxTx { return OutboxTx{t} }

// Add appends an event to the outbox, giving it a sequence number and a
// globally unique event_id (a restored backup can reuse sequence numbers, so
// the id also carries random bytes).
func (view OutboxTx) Add(e *Event) error {
	t := view.t
	b := t.appending(bucketOutbox)
	seq, err := t.nextEventSeq()
	if err != nil {
		return err
	}
	var r [6]byte
	if _, err := rand.Read(r[:]); err != nil {
		return fmt.Errorf("generate event id: %w", err)
	}
	e.Seq = seq
	e.ID = fmt.Sprintf("ev_%d_%s", seq, hex.EncodeToString(r[:]))
	e.Owner = t.store.Node() // this process carries it out (Store.SetNode)
	return t.putEvent(b, e)
}

// nextEventSeq keeps its own counter in meta: the outbox bucket's sequence
// would do, but events are deleted when acknowledged and a counter that lives
// apart from them makes that obvious.
func (t *Tx) nextEventSeq() (uint64, error) {
	meta := t.tx.Bucket(bucketMeta)
	var n uint64
	if v := meta.Get(keyEventSeq); len(v) == 8 {
		n = binary.BigEndian.Uint64(v)
	}
	n++
	if err := meta.Put(keyEventSeq, u64(n)); err != nil {
		return 0, fmt.Errorf("advance event seq: %w", err)
	}
	return n, nil
}

// Put rewrites an event (after a failed delivery attempt).
func (view OutboxTx) Put(e *Event) error {
	t := view.t
	b := t.tx.Bucket(bucketOutbox)
	if b.Get(u64(e.Seq)) == nil {
		return fmt.Errorf("event %d: %w", e.Seq, ErrNotFound)
	}
	return t.putEvent(b, e)
}

func (t *Tx) putEvent(b interface{ Put(k, v []byte) error }, e *Event) error {
	v, err := encodeEvent(nil, e)
	if err != nil {
		return err
	}
	if err := b.Put(u64(e.Seq), v); err != nil {
		return fmt.Errorf("write event %d: %w", e.Seq, err)
	}
	return nil
}

// Delete removes an acknowledged event. Deleting one already gone is
// fine: acknowledgements may be repeated.
func (view OutboxTx) Delete(seq uint64) error {
	t := view.t
	if err := t.tx.Bucket(bucketOutbox).Delete(u64(seq)); err != nil {
		return fmt.Errorf("delete event %d: %w", seq, err)
	}
	return nil
}

// Get reads one event.
func (view OutboxTx) Get(seq uint64) (*Event, error) {
	t := view.t
	v := t.tx.Bucket(bucketOutbox).Get(u64(seq))
	if v == nil {
		return nil, fmt.Errorf("event %d: %w", seq, ErrNotFound)
	}
	e := new(Event)
	if err := decodeEvent(v, e); err != nil {
		return nil, fmt.Errorf("decode event %d: %w", seq, err)
	}
	return e, nil
}

// Each calls fn for every pending event in sequence order.
func (view OutboxTx) Each(fn func(*Event) error) error {
	t := view.t
	return t.tx.Bucket(bucketOutbox).ForEach(func(k, v []byte) error {
		e := new(Event)
		if err := decodeEvent(v, e); err != nil {
			return fmt.Errorf("decode event %d: %w", binary.BigEndian.Uint64(k), err)
		}
		return fn(e)
	})
}

// From calls fn for the events from sequence number from on, in
// order, until fn returns false. It returns the sequence number after the
// last event fn saw, and whether the bucket ended.
func (view OutboxTx) From(from uint64, fn func(*Event) bool) (next uint64, end bool, err error) {
	t := view.t
	c := t.tx.Bucket(bucketOutbox).Cursor()
	next = from
	for k, v := c.Seek(u64(from)); k != nil; k, v = c.Next() {
		e := new(Event)
		if err := decodeEvent(v, e); err != nil {
			return next, false, fmt.Errorf("decode event %d: %w", binary.BigEndian.Uint64(k), err)
		}
		if !fn(e) {
			return next, false, nil
		}
		next = e.Seq + 1
	}
	return next, true, nil
}

// LastSeq is the sequence number of the newest event ever added (0 if
// none).
func (view OutboxTx) LastSeq() uint64 {
	t := view.t
	if v := t.tx.Bucket(bucketMeta).Get(keyEventSeq); len(v) == 8 {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

// CountOwned counts the events not yet acknowledged that owner carries
// out (Event.Owner); with owner "", on a bbolt file, every event.
func (view OutboxTx) CountOwned(owner string) int {
	if owner == "" {
		return view.Count()
	}
	n := 0
	_ = view.Each(func(e *Event) error {
		if e.Owner == owner {
			n++
		}
		return nil
	})
	return n
}

// Count counts the events not yet acknowledged.
func (view OutboxTx) Count() int {
	t := view.t
	n := 0
	c := t.tx.Bucket(bucketOutbox).Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		n++
	}
	return n
}
