package storage

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash"
	"time"

	bolt "go.etcd.io/bbolt"

	"cardflow/storage/kv"
	"cardflow/storage/kv/boltkv"
)

// A copy is verified bucket by bucket: the file's side is counted and hashed
// before anything is written (survey), the target's once every key is in
// (sumTarget), and the report sets the two side by side.

// BucketSum sums up one bucket or nested bucket on one side of a copy.
type BucketSum struct {
	Keys     int64
	Sequence uint64
	// Hash is SHA-256 over every key and value in key order, each
	// length-prefixed (uvarint).
	Hash [sha256.Size]byte
}

// CopiedBucket is one bucket, or one nested bucket, as the file and the
// target hold it after a copy.
type CopiedBucket struct {
	Name   string // the top-level bucket
	Nested string // a nested bucket's name; "" for the bucket's own keys
	File   BucketSum
	Target BucketSum
}

// Match reports whether the target holds what the file does.
func (b CopiedBucket) Match() bool { return b.File == b.Target }

// CopyReport is what CopyFromBolt copied and verified.
type CopyReport struct {
	Schema  uint64         // the file's schema version
	Buckets []CopiedBucket // in the file's order: each bucket, then its nested buckets
	Keys    int64          // keys in the file, nested buckets' included
	Took    time.Duration
}

// Verified reports whether every bucket matches.
func (r CopyReport) Verified() bool {
	for _, b := range r.Buckets {
		if !b.Match() {
			return false
		}
	}
	return len(r.Buckets) > 0
}

// survey checks that the file is a cardflow store of this build's schema
// whose master key check master opens, and sums up every bucket: the
// report before the target side is known.
func survey(btx *bolt.Tx, vault *Vault, path string) (CopyReport, error) {
	var rep CopyReport
	tx := boltkv.Wrap(btx)
	meta := tx.Bucket(bucketMeta)
	if meta == nil {
		return rep, fmt.Errorf("%w: %s has no %s bucket", ErrNotAStore, path, bucketMeta)
	}
	schema, check := meta.Get(keySchema), meta.Get(keyCheck)
	if len(schema) != 8 || check == nil {
		return rep, fmt.Errorf("%w: %s has no schema version or master key check", ErrNotAStore, path)
	}
	rep.Schema = binary.BigEndian.Uint64(schema)
	switch {
	case rep.Schema > schemaVersion:
		return rep, fmt.Errorf("%w: %s has schema %d, this build knows up to %d: copy it with a newer cardflow", ErrSchema, path, rep.Schema, schemaVersion)
	case rep.Schema < schemaVersion || meta.Get(keyReprinting) != nil:
		// Bringing a file up to date rewrites fingerprints; that is
		// Open's work, on the file, not the copy's.
		return rep, fmt.Errorf(`%w: %s has schema %d (this build writes %d): start this cardflow once on the file (backend = "bbolt") so that it brings the file up to date, stop it, then copy`,
			ErrSchema, path, rep.Schema, schemaVersion)
	}
	if err := vault.verify(check); err != nil {
		return rep, fmt.Errorf("%s: %w; give the config the master key the file's cardflow ran with", path, err)
	}
	err := btx.ForEach(func(name []byte, _ *bolt.Bucket) error {
		b := tx.Bucket(name)
		sum, err := sumBucket(b, nil)
		if err != nil {
			return fmt.Errorf("read bucket %s: %w", name, err)
		}
		rep.add(CopiedBucket{Name: string(name), File: sum})
		return b.ForEachBucket(func(sub []byte) error {
			nb := b.Bucket(sub)
			if err := nb.ForEachBucket(func(deeper []byte) error {
				return fmt.Errorf("bucket %s/%s holds bucket %s: a store nests one level only", name, sub, deeper)
			}); err != nil {
				return err
			}
			sum, err := sumBucket(nb, nil)
			if err != nil {
				return fmt.Errorf("read bucket %s/%s: %w", name, sub, err)
			}
			// PostgreSQL keeps no empty nested bucket; one that never held
			// a key or a sequence means nothing to the store either.
			if sum.Keys > 0 || sum.Sequence > 0 {
				rep.add(CopiedBucket{Name: string(name), Nested: string(sub), File: sum})
			}
			return nil
		})
	})
	return rep, err
}

func (r *CopyReport) add(b CopiedBucket) {
	r.Buckets = append(r.Buckets, b)
	r.Keys += b.File.Keys
}

// sumBucket counts and hashes a bucket's keys (not its nested buckets'),
// leaving out skip.
func sumBucket(b kv.Bucket, skip []byte) (BucketSum, error) {
	h := sha256.New()
	var n int64
	var buf []byte
	err := b.ForEach(func(k, v []byte) error {
		if skip != nil && bytes.Equal(k, skip) {
			return nil
		}
		n++
		buf = binary.AppendUvarint(buf[:0], uint64(len(k)))
		buf = append(buf, k...)
		buf = binary.AppendUvarint(buf, uint64(len(v)))
		writeAll(h, buf)
		writeAll(h, v)
		return nil
	})
	sum := BucketSum{Keys: n, Sequence: b.Sequence()}
	h.Sum(sum.Hash[:0])
	return sum, err
}

// writeAll writes to a hash, which never fails.
func writeAll(h hash.Hash, p []byte) { _, _ = h.Write(p) }

// sumTarget sums up, in one read, every bucket of the report on the target
// side, and adds any nested bucket the target holds that the file does not.
func sumTarget(to kv.DB, rep *CopyReport) error {
	err := to.View(func(tx kv.Tx) error {
		index := map[[2]string]int{}
		for i, cb := range rep.Buckets {
			index[[2]string{cb.Name, cb.Nested}] = i
		}
		var extra []CopiedBucket
		for i := range rep.Buckets {
			cb := &rep.Buckets[i]
			b := tx.Bucket([]byte(cb.Name))
			if b == nil {
				continue // no table: every sum stays zero, and differs
			}
			if cb.Nested != "" {
				b = b.Bucket([]byte(cb.Nested))
				if b == nil {
					continue
				}
			}
			var skip []byte
			if cb.Nested == "" && cb.Name == string(bucketMeta) {
				skip = keyCopying // the copy's own marker, removed once verified
			}
			sum, err := sumBucket(b, skip)
			if err != nil {
				return fmt.Errorf("read %s: %w", bucketLabel([]byte(cb.Name), []byte(cb.Nested)), err)
			}
			cb.Target = sum
			if cb.Nested != "" {
				continue
			}
			err = b.ForEachBucket(func(sub []byte) error {
				if _, ok := index[[2]string{cb.Name, string(sub)}]; ok {
					return nil
				}
				sum, err := sumBucket(b.Bucket(sub), nil)
				extra = append(extra, CopiedBucket{Name: cb.Name, Nested: string(sub), Target: sum})
				return err
			})
			if err != nil {
				return fmt.Errorf("list the nested buckets of %s: %w", cb.Name, err)
			}
		}
		rep.Buckets = append(rep.Buckets, extra...)
		return tx.Err()
	})
	if err != nil {
		return fmt.Errorf("verify the copy: %w", err)
	}
	return nil
}
