package storage

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Ceiling is what the disk under a data directory allows: the rate of
// durable writes through the store's own group-commit writer when nothing
// else happens in them (docs/performance.md has what it was measured at).
// The disk's speed drifts, so `cardflow bench` measures it again in the
// same run and reports cardflow's throughput as a share of it.
type Ceiling struct {
	Writes    int           // durable writes made
	Commits   int           // bbolt commits they took
	Duration  time.Duration // wall time
	Producers int
}

// WritesPerSecond is the ceiling's throughput.
func (c Ceiling) WritesPerSecond() float64 {
	if c.Duration <= 0 {
		return 0
	}
	return float64(c.Writes) / c.Duration.Seconds()
}

// ceilingBucket holds the measurement's values; the store is thrown away.
var ceilingBucket = []byte("ceiling")

// MeasureCeiling opens a scratch store in a new directory under dir, has
// producers write 300-byte values under sequential keys through the group
// commit writer for about d, and removes the scratch store.
func MeasureCeiling(ctx context.Context, dir string, d time.Duration, producers int) (Ceiling, error) {
	scratch, err := os.MkdirTemp(dir, "ceiling-")
	if err != nil {
		return Ceiling{}, err
	}
	defer os.RemoveAll(scratch)
	key := make([]byte, masterBytes)
	_, _ = rand.Read(key)
	s, err := Open(scratch, key, Options{})
	if err != nil {
		return Ceiling{}, err
	}
	defer s.Close()
	if err := s.Update(func(tx *Tx) error {
		_, err := tx.tx.CreateBucketIfNotExists(ceilingBucket)
		return err
	}); err != nil {
		return Ceiling{}, err
	}
	value := make([]byte, 300)
	_, _ = rand.Read(value)
	var (
		next     atomic.Uint64
		wg       sync.WaitGroup
		firstErr atomic.Pointer[error]
	)
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	before := s.Stats()
	start := time.Now()
	for range producers {
		wg.Go(func() {
			k := make([]byte, 8)
			for ctx.Err() == nil {
				binary.BigEndian.PutUint64(k, next.Add(1))
				err := s.Update(func(tx *Tx) error { return tx.tx.Bucket(ceilingBucket).Put(k, value) })
				if err != nil {
					firstErr.CompareAndSwap(nil, &err)
					return
				}
			}
		})
	}
	wg.Wait()
	c := Ceiling{Duration: time.Since(start), Producers: producers}
	after := s.Stats()
	c.Writes, c.Commits = int(after.Writes-before.Writes), int(after.Commits-before.Commits)
	if p := firstErr.Load(); p != nil {
		return c, fmt.Errorf("ceiling write: %w", *p)
	}
	return c, nil
}
