package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"cardflow/storage/kv"
	"cardflow/storage/kv/boltkv"
	"cardflow/storage/kv/pgkv"
)

// keyCopying, in meta, marks a copy from a bbolt file under way: set in the
// copy's first transaction and removed once every bucket is verified, so
// that a store whose copy broke off is refused at Open instead of served
// half-filled (its order sequence behind its orders).
var keyCopying = []byte("copying_from_bbolt")

// CopyOptions tune CopyFromBolt. The zero value is what `cardflow migrate`
// uses.
type CopyOptions struct {
	// Chunk is how many keys go into one transaction of the target
	// (0: 5,000): one transaction for a whole store would hold all of it in
	// memory until the commit.
	Chunk int
	// LockTimeout is how long to wait for the file's lock (0: 1 s). A
	// cardflow serving from the file holds it.
	LockTimeout time.Duration
	// Progress, if set, is called after each chunk is committed.
	Progress func(CopyProgress)
}

// CopyProgress is how far a copy has come.
type CopyProgress struct {
	Bucket string // the bucket being copied
	Done   int64  // keys committed to the target
	Total  int64  // keys in the file
}

// CopyFromBolt copies the cardflow store in the bbolt file at path (or in
// the data directory path) into the PostgreSQL database url names, which
// must hold no data, applying the migrations first: every bucket, nested
// bucket and sequence, byte for byte. Sealed cards are copied as they are;
// master must open the file's master key check, so that the database is
// not served with a key that cannot open its cards. The file is opened
// read-only and must not be held by a running cardflow (ErrLocked). Keys
// go over opts.Chunk at a time; the copy is then read back through a
// connection of its own and verified, bucket by bucket, by key count, a
// hash of every key and value, and sequence. A difference returns the
// report with ErrCopyMismatch. Until the copy is verified the database
// carries a marker that makes OpenPostgres refuse it (ErrUnfinishedCopy).
func CopyFromBolt(ctx context.Context, path, url string, master []byte, opts CopyOptions) (CopyReport, error) {
	return copyFromBolt(ctx, path, func() (kv.DB, error) {
		db, err := pgkv.Open(ctx, url, pgkv.Options{Migrations: Migrations(), MaxConns: 2})
		if err != nil {
			return nil, fmt.Errorf("open the PostgreSQL database: %w", err)
		}
		return db, nil
	}, master, opts)
}

// copyFromBolt is CopyFromBolt into any engine: open opens the target
// afresh, once for the copy and once for its verification, so that what is
// verified is what the engine holds, not what the copying handle
// remembers of its own writes.
func copyFromBolt(ctx context.Context, path string, open func() (kv.DB, error), master []byte, opts CopyOptions) (CopyReport, error) {
	start := time.Now()
	vault, err := NewVault(master)
	if err != nil {
		return CopyReport{}, err
	}
	if opts.Chunk <= 0 {
		opts.Chunk = 5000
	}
	if opts.LockTimeout <= 0 {
		opts.LockTimeout = time.Second
	}
	src, err := openSource(path, opts.LockTimeout)
	if err != nil {
		return CopyReport{}, err
	}
	defer src.Close()
	var rep CopyReport
	// One read transaction for the whole copy: nothing writes the file
	// meanwhile (our shared lock keeps cardflow from opening it), and the
	// values handed to the target's writes stay valid until it ends.
	err = src.View(func(btx *bolt.Tx) error {
		var err error
		if rep, err = survey(btx, vault, src.Path()); err != nil {
			return err
		}
		to, err := open()
		if err != nil {
			return err
		}
		defer to.Close()
		if err := prepareTarget(to, rep); err != nil {
			return err
		}
		return copyKeys(ctx, boltkv.Wrap(btx), to, &rep, opts)
	})
	if err != nil {
		return rep, err
	}
	to, err := open()
	if err != nil {
		return rep, err
	}
	defer to.Close()
	if err := sumTarget(to, &rep); err != nil {
		return rep, err
	}
	rep.Took = time.Since(start)
	if !rep.Verified() {
		return rep, fmt.Errorf("%w: the target keeps its copy marker, so cardflow will not start on it", ErrCopyMismatch)
	}
	err = to.Update(func(tx kv.Tx) error { return tx.Bucket(bucketMeta).Delete(keyCopying) })
	if err != nil {
		return rep, fmt.Errorf("remove the copy marker: %w", err)
	}
	rep.Took = time.Since(start)
	return rep, nil
}

// openSource opens a cardflow bbolt file read-only, failing fast on one a
// running cardflow holds.
func openSource(path string, timeout time.Duration) (*bolt.DB, error) {
	st, err := os.Stat(path)
	if err == nil && st.IsDir() {
		path = filepath.Join(path, FileName)
		st, err = os.Stat(path)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if st.Size() == 0 {
		return nil, fmt.Errorf("%w: %s is empty", ErrNotAStore, path)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: timeout})
	switch {
	case errors.Is(err, berrors.ErrTimeout):
		return nil, fmt.Errorf("open %s: %w: stop cardflow first, then copy", path, ErrLocked)
	case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrVersionMismatch), errors.Is(err, berrors.ErrChecksum):
		return nil, fmt.Errorf("%w: %s is not a bbolt database (%v)", ErrNotAStore, path, err)
	case err != nil:
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return db, nil
}

// prepareTarget makes sure, in one transaction, that every bucket of the
// file has its place in the target and that the target holds nothing, and
// marks the copy as under way. Holding the writer's lock, it also keeps two
// copies into one database apart: the second finds the first's marker.
func prepareTarget(to kv.DB, rep CopyReport) error {
	err := to.Update(func(tx kv.Tx) error {
		names := map[string]bool{}
		var missing []string
		var cause error
		for _, b := range rep.Buckets {
			if names[b.Name] {
				continue
			}
			names[b.Name] = true
			if _, err := tx.CreateBucketIfNotExists([]byte(b.Name)); err != nil {
				missing, cause = append(missing, b.Name), err
			}
		}
		if err := tx.Err(); err != nil {
			return err
		}
		if len(missing) > 0 {
			return fmt.Errorf("the file's buckets %s have no place in the target: buckets this build does not know? (%w)", strings.Join(missing, ", "), cause)
		}
		for _, name := range append(allBuckets, ceilingBucket) {
			names[string(name)] = true
		}
		var full []string
		for _, name := range slices.Sorted(maps.Keys(names)) {
			b := tx.Bucket([]byte(name))
			if b != nil && holdsData(b) {
				full = append(full, name)
			}
		}
		if err := tx.Err(); err != nil {
			return err
		}
		if len(full) > 0 {
			if tx.Bucket(bucketMeta).Get(keyCopying) != nil {
				return fmt.Errorf("%w: an earlier copy into it did not finish; drop the database, create it empty and copy again", ErrTargetNotEmpty)
			}
			return fmt.Errorf("%w: %s hold data; copy into a new, empty database", ErrTargetNotEmpty, strings.Join(full, ", "))
		}
		return tx.Bucket(bucketMeta).Put(keyCopying, []byte{1})
	})
	if err != nil {
		return fmt.Errorf("prepare the target: %w", err)
	}
	return nil
}

// holdsData reports whether a bucket has a key, a sequence or a nested
// bucket.
func holdsData(b kv.Bucket) bool {
	if k, _ := b.Cursor().First(); k != nil || b.Sequence() != 0 {
		return true
	}
	nested := false
	_ = b.ForEachBucket(func([]byte) error { nested = true; return nil })
	return nested
}

// pending is a key on its way to the target.
type pending struct {
	name, sub []byte
	k, v      []byte
}

// copyKeys copies every key of the surveyed buckets, opts.Chunk per
// transaction of the target, and then every sequence.
func copyKeys(ctx context.Context, src kv.Tx, to kv.DB, rep *CopyReport, opts CopyOptions) error {
	var batch []pending
	var done int64
	current := ""
	flush := func() error {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("copy interrupted (%w): the target holds part of the file; drop the database, create it empty and copy again", err)
		}
		if len(batch) == 0 {
			return nil
		}
		err := to.Update(func(tx kv.Tx) error {
			var b kv.Bucket
			var name, sub []byte
			for _, p := range batch {
				if b == nil || !bytes.Equal(p.name, name) || !bytes.Equal(p.sub, sub) {
					var err error
					if b, err = targetBucket(tx, p.name, p.sub); err != nil {
						return err
					}
					name, sub = p.name, p.sub
				}
				if err := b.Put(p.k, p.v); err != nil {
					return fmt.Errorf("write %s: %w", bucketLabel(p.name, p.sub), err)
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("copy %s: %w", current, err)
		}
		done += int64(len(batch))
		batch = batch[:0]
		if opts.Progress != nil {
			opts.Progress(CopyProgress{Bucket: current, Done: done, Total: rep.Keys})
		}
		return nil
	}
	for _, cb := range rep.Buckets {
		name := []byte(cb.Name)
		b := src.Bucket(name)
		var sub []byte
		if cb.Nested != "" {
			sub = []byte(cb.Nested)
			b = b.Bucket(sub)
		}
		current = bucketLabel(name, sub)
		err := b.ForEach(func(k, v []byte) error {
			batch = append(batch, pending{name: name, sub: sub, k: k, v: v})
			if len(batch) < opts.Chunk {
				return nil
			}
			return flush()
		})
		if err != nil {
			return err
		}
	}
	if err := flush(); err != nil {
		return err
	}
	err := to.Update(func(tx kv.Tx) error {
		for _, cb := range rep.Buckets {
			if cb.File.Sequence == 0 {
				continue
			}
			b, err := targetBucket(tx, []byte(cb.Name), []byte(cb.Nested))
			if err != nil {
				return err
			}
			if err := b.SetSequence(cb.File.Sequence); err != nil {
				return fmt.Errorf("set the sequence of %s: %w", bucketLabel([]byte(cb.Name), []byte(cb.Nested)), err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("copy the sequences: %w", err)
	}
	return nil
}

// targetBucket is a bucket of the target, or a nested bucket (sub not
// empty), created if needed.
func targetBucket(tx kv.Tx, name, sub []byte) (kv.Bucket, error) {
	b := tx.Bucket(name)
	if b == nil {
		if err := tx.Err(); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("the target has no bucket %s", name)
	}
	if len(sub) == 0 {
		return b, nil
	}
	nb, err := b.CreateBucketIfNotExists(sub)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", bucketLabel(name, sub), err)
	}
	return nb, nil
}

// bucketLabel names a bucket or nested bucket in messages.
func bucketLabel(name, sub []byte) string {
	if len(sub) == 0 {
		return string(name)
	}
	return string(name) + "/" + string(sub)
}
