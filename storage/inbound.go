package storage

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"cardflow/storage/kv"
)

// InboundTx is the stored inbound chat events seen in one
// transaction (Tx.Inbound).
type InboundTx struct{ t *Tx }

// Inbound returns the stored inbound chat events of this transaction.
func (t *Tx) Inbound() InboundTx { return InboundTx{t} }

// Stored chat events (QQ's webhook calls) are acknowledged only once they
// are stored: QQ wants an answer within seconds and retries what it does
// not get, so the handler stores the event and answers, and a worker acts
// on it afterwards. The event id is remembered for a day so that a retry
// of an event already stored is answered without being stored twice.
//
// An event whose handling never finishes — it panics, or the process dies
// while handling it (an OOM kill, a fatal runtime error) — must not be
// replayed for ever: each start of its handling is counted durably before
// it begins (InboundTx.Begin), and the worker sets aside (InboundTx.Park) an
// event begun too often. Parked events are kept for inspection, at most
// MaxParkedInbound of them and for InboundParkedFor.

const (
	// inboundSeenFor is how long event ids are remembered against repeats.
	inboundSeenFor = 24 * time.Hour
	// InboundParkedFor is how long a parked event is kept.
	InboundParkedFor = 7 * 24 * time.Hour
	// MaxParkedInbound bounds the parked events; the oldest go first.
	MaxParkedInbound = 100
	// maxParkedBody is how much of a parked event's body is kept.
	maxParkedBody = 64 << 10
)

// A stored event is a header — a version byte and how many times its
// handling began — then the body. Events stored by earlier builds are the
// bare JSON body (never starting with the version byte) and count as never
// begun.
const inboundV1 = 0x01

func encodeInbound(attempts int, body []byte) []byte {
	v := make([]byte, 0, 2+len(body))
	v = append(v, inboundV1, byte(min(attempts, 255)))
	return append(v, body...)
}

func decodeInbound(v []byte) (attempts int, body []byte) {
	if len(v) >= 2 && v[0] == inboundV1 {
		return int(v[1]), v[2:]
	}
	return 0, v
}

// Enqueue stores an event unless its id was seen; it reports
// whether it was new.
func (view InboundTx) Enqueue(id string, body []byte, now time.Time) (bool, error) {
	t := view.t
	seen := t.tx.Bucket(bucketInboundSeen)
	if seen.Get([]byte(id)) != nil {
		return false, nil
	}
	if err := seen.Put([]byte(id), binary.BigEndian.AppendUint64(nil, uint64(now.Unix()))); err != nil {
		return false, fmt.Errorf("remember inbound event: %w", err)
	}
	b := t.tx.Bucket(bucketInbound)
	seq, err := b.NextSequence()
	if err != nil {
		return false, fmt.Errorf("allocate inbound seq: %w", err)
	}
	if err := b.Put(u64(seq), encodeInbound(0, body)); err != nil {
		return false, fmt.Errorf("store inbound event: %w", err)
	}
	return true, nil
}

// Stored calls fn for up to limit stored events, oldest first.
func (view InboundTx) Stored(limit int, fn func(seq uint64, body []byte)) {
	t := view.t
	c := t.tx.Bucket(bucketInbound).Cursor()
	n := 0
	for k, v := c.First(); k != nil && n < limit; k, v = c.Next() {
		_, body := decodeInbound(v)
		fn(binary.BigEndian.Uint64(k), append([]byte(nil), body...))
		n++
	}
}

// Begin records that handling an event begins, unless it has begun
// limit times already. It returns how many times handling has begun, this
// time included, and whether this time may begin; 0 when the event is
// gone. Commit it before handling: a process that dies while handling
// then still leaves the count behind.
func (view InboundTx) Begin(seq uint64, limit int) (int, bool, error) {
	t := view.t
	b := t.tx.Bucket(bucketInbound)
	v := b.Get(u64(seq))
	if v == nil {
		return 0, false, nil
	}
	attempts, body := decodeInbound(v)
	if attempts >= limit {
		return attempts, false, nil
	}
	attempts++
	if err := b.Put(u64(seq), encodeInbound(attempts, body)); err != nil {
		return 0, false, fmt.Errorf("count inbound attempt: %w", err)
	}
	return attempts, true, nil
}

// Ack drops an event that has been acted on.
func (view InboundTx) Ack(seq uint64) error {
	t := view.t
	if err := t.tx.Bucket(bucketInbound).Delete(u64(seq)); err != nil {
		return fmt.Errorf("ack inbound event: %w", err)
	}
	return nil
}

// ParkedEvent is an inbound event set aside because handling it failed.
type ParkedEvent struct {
	Seq      uint64    `json:"seq"`
	Attempts int       `json:"attempts"`
	Why      string    `json:"why"` // never a secret
	ParkedAt time.Time `json:"parked_at"`
	Body     []byte    `json:"body"` // the first 64 KiB
}

// Park moves an event from the inbound queue to the parked ones,
// dropping the oldest parked events beyond MaxParkedInbound. An event
// already gone is no error.
func (view InboundTx) Park(seq uint64, why string, now time.Time) error {
	t := view.t
	v := t.tx.Bucket(bucketInbound).Get(u64(seq))
	if v == nil {
		return nil
	}
	attempts, body := decodeInbound(v)
	rec, err := json.Marshal(ParkedEvent{Seq: seq, Attempts: attempts, Why: why, ParkedAt: now,
		Body: body[:min(len(body), maxParkedBody)]})
	if err != nil {
		return fmt.Errorf("encode parked event: %w", err)
	}
	parked := t.tx.Bucket(bucketParked)
	if err := parked.Put(u64(seq), rec); err != nil {
		return fmt.Errorf("park inbound event: %w", err)
	}
	if err := view.Ack(seq); err != nil {
		return err
	}
	var keys [][]byte
	c := parked.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		keys = append(keys, append([]byte(nil), k...))
	}
	return deleteKeys(parked, keys[:max(len(keys)-MaxParkedInbound, 0)], "drop parked event")
}

// Parked calls fn for every parked event, oldest first.
func (view InboundTx) Parked(fn func(ParkedEvent)) error {
	t := view.t
	return t.tx.Bucket(bucketParked).ForEach(func(_, v []byte) error {
		var p ParkedEvent
		if err := json.Unmarshal(v, &p); err != nil {
			return fmt.Errorf("decode parked event: %w", err)
		}
		fn(p)
		return nil
	})
}

// PurgeParked drops parked events older than InboundParkedFor; it
// reports how many.
func (view InboundTx) PurgeParked(now time.Time) (int, error) {
	t := view.t
	b := t.tx.Bucket(bucketParked)
	cutoff := now.Add(-InboundParkedFor)
	var old [][]byte
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		var p ParkedEvent
		if json.Unmarshal(v, &p) != nil || p.ParkedAt.Before(cutoff) {
			old = append(old, append([]byte(nil), k...))
		}
	}
	return len(old), deleteKeys(b, old, "purge parked event")
}

// Forget drops remembered event ids older than inboundSeenFor, at
// most limit of them; it reports how many.
func (view InboundTx) Forget(now time.Time, limit int) (int, error) {
	t := view.t
	b := t.tx.Bucket(bucketInboundSeen)
	cutoff := uint64(now.Add(-inboundSeenFor).Unix())
	var old [][]byte
	c := b.Cursor()
	for k, v := c.First(); k != nil && len(old) < limit; k, v = c.Next() {
		if len(v) == 8 && binary.BigEndian.Uint64(v) < cutoff {
			old = append(old, k)
		}
	}
	return len(old), deleteKeys(b, old, "forget inbound event")
}

// deleteKeys deletes keys collected by a cursor walk (deleting under a
// cursor would skip keys).
func deleteKeys(b kv.Bucket, keys [][]byte, what string) error {
	for _, k := range keys {
		if err := b.Delete(k); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
	}
	return nil
}
