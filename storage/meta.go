package storage

import (
	"encoding/binary"
	"fmt"
	"time"
)

// Named values kept in the meta bucket (docs/storage.md lists them).

// MetaTime reads a time kept in meta under name (zero if none).
func (t *Tx) MetaTime(name string) time.Time {
	v := t.tx.Bucket(bucketMeta).Get([]byte(name))
	if len(v) != 8 {
		return time.Time{}
	}
	return time.Unix(0, int64(binary.BigEndian.Uint64(v))).UTC()
}

// SetMetaTime keeps a time in meta under name.
func (t *Tx) SetMetaTime(name string, at time.Time) error {
	if err := t.tx.Bucket(bucketMeta).Put([]byte(name), u64(uint64(at.UnixNano()))); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}
