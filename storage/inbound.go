package storage

import (
	"encoding/binary"
	"fmt"
	"time"
)

// Inbound chat events (QQ's webhook calls) are acknowledged only once they
// are stored: QQ wants an answer within seconds and retries what it does
// not get, so the handler stores the event and answers, and a worker acts
// on it afterwards. The event id is remembered for a day so that a retry
// of an event already stored is answered without being stored twice.

// inboundSeenFor is how long event ids are remembered against repeats.
const inboundSeenFor = 24 * time.Hour

// EnqueueInbound stores an event unless its id was seen; it reports
// whether it was new.
func (t *Tx) EnqueueInbound(id string, body []byte, now time.Time) (bool, error) {
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
	if err := b.Put(u64(seq), append([]byte(nil), body...)); err != nil {
		return false, fmt.Errorf("store inbound event: %w", err)
	}
	return true, nil
}

// Inbound calls fn for up to limit stored events, oldest first.
func (t *Tx) Inbound(limit int, fn func(seq uint64, body []byte)) {
	c := t.tx.Bucket(bucketInbound).Cursor()
	n := 0
	for k, v := c.First(); k != nil && n < limit; k, v = c.Next() {
		fn(binary.BigEndian.Uint64(k), append([]byte(nil), v...))
		n++
	}
}

// AckInbound drops an event that has been acted on.
func (t *Tx) AckInbound(seq uint64) error {
	if err := t.tx.Bucket(bucketInbound).Delete(u64(seq)); err != nil {
		return fmt.Errorf("ack inbound event: %w", err)
	}
	return nil
}

// ForgetInbound drops remembered event ids older than inboundSeenFor, at
// most limit of them; it reports how many.
func (t *Tx) ForgetInbound(now time.Time, limit int) (int, error) {
	b := t.tx.Bucket(bucketInboundSeen)
	cutoff := uint64(now.Add(-inboundSeenFor).Unix())
	var old [][]byte
	c := b.Cursor()
	for k, v := c.First(); k != nil && len(old) < limit; k, v = c.Next() {
		if len(v) == 8 && binary.BigEndian.Uint64(v) < cutoff {
			old = append(old, k)
		}
	}
	for _, k := range old {
		if err := b.Delete(k); err != nil {
			return 0, fmt.Errorf("forget inbound event: %w", err)
		}
	}
	return len(old), nil
}
