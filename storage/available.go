package storage

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// A store in PostgreSQL can lose its database and get it back while the
// process runs. watch tells: it pings the database every pingEvery (each
// ping bounded by pingTimeout), and a write that finds the database
// unreachable marks it lost at once. Whoever asked (OnAvailable) hears of
// each change; the API answers 503 meanwhile instead of waiting on it.
const (
	pingEvery   = time.Second
	pingTimeout = 2 * time.Second
)

// availability is the store's view of its database.
type availability struct {
	lost     atomic.Pointer[error] // nil while the database answers
	mu       sync.Mutex
	watchers []func(error)
	stop     chan struct{}
	done     chan struct{}
}

// Available is nil while the store's database answers; while it does not
// (PostgreSQL only), an error wrapping ErrUnavailable. A store that stopped
// taking writes after a storage error reports that error.
func (s *Store) Available() error {
	if p := s.avail.lost.Load(); p != nil {
		return *p
	}
	return s.Err()
}

// OnAvailable has fn called, from the store's watch, each time the database
// is lost (err wraps ErrUnavailable) and each time it answers again (err
// nil). fn must not block.
func (s *Store) OnAvailable(fn func(err error)) {
	s.avail.mu.Lock()
	s.avail.watchers = append(s.avail.watchers, fn)
	s.avail.mu.Unlock()
}

// markLost records that the database did not answer; the watch finds out
// when it answers again.
func (s *Store) markLost(err error) {
	if !errors.Is(err, ErrUnavailable) {
		return
	}
	if s.avail.lost.CompareAndSwap(nil, &err) {
		s.tellAvailable(err)
	}
}

func (s *Store) tellAvailable(err error) {
	s.avail.mu.Lock()
	watchers := append([]func(error){}, s.avail.watchers...)
	s.avail.mu.Unlock()
	for _, fn := range watchers {
		fn(err)
	}
}

// watch pings the database until Close.
func (s *Store) watch(ping func(context.Context) error) {
	s.avail.stop, s.avail.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(s.avail.done)
		t := time.NewTicker(pingEvery)
		defer t.Stop()
		for {
			select {
			case <-s.avail.stop:
				return
			case <-t.C:
			}
			ctx, cancel := context.WithTimeout(context.Background(), pingTimeout)
			err := ping(ctx)
			cancel()
			if err != nil {
				s.markLost(err)
				continue
			}
			if p := s.avail.lost.Load(); p != nil && s.avail.lost.CompareAndSwap(p, nil) {
				s.tellAvailable(nil)
			}
			select {
			case <-s.buyersReady:
				if err := s.syncBuyers(); err != nil {
					s.markLost(err) // read again at the next tick
				}
			default: // the history is still loading
			}
		}
	}()
}

// stopWatch ends the watch, if one runs. Not safe for concurrent use.
func (s *Store) stopWatch() {
	if s.avail.stop != nil {
		close(s.avail.stop)
		<-s.avail.done
		s.avail.stop = nil
	}
}
