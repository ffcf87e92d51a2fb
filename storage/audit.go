package storage

import (
	"encoding/json"
	"fmt"
)

// Audit appends an entry to the audit log. There is no method to change or
// remove one: the log is append-only by construction.
func (t *Tx) Audit(e AuditEntry) error {
	b := t.appending(bucketAudit)
	seq, err := b.NextSequence()
	if err != nil {
		return fmt.Errorf("allocate audit seq: %w", err)
	}
	e.Seq = seq
	v, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encode audit entry: %w", err)
	}
	if err := b.Put(u64(seq), v); err != nil {
		return fmt.Errorf("write audit entry: %w", err)
	}
	return nil
}

// AuditLast returns up to n of the newest entries, newest first.
func (t *Tx) AuditLast(n int) ([]AuditEntry, error) {
	var out []AuditEntry
	c := t.tx.Bucket(bucketAudit).Cursor()
	for k, v := c.Last(); k != nil && len(out) < n; k, v = c.Prev() {
		var e AuditEntry
		if err := json.Unmarshal(v, &e); err != nil {
			return nil, fmt.Errorf("decode audit entry: %w", err)
		}
		out = append(out, e)
	}
	return out, nil
}
