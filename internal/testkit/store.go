package testkit

import (
	"bytes"
	"sync"
	"testing"
)

// Store is what the kit needs of a store: *storage.Store has it.
type Store interface {
	// Check runs bbolt's consistency check (tx.Check) over the file.
	Check() error
	Close() error
}

// MasterKey returns the master key of every store a test opens through
// the kit; a test that reopens a directory itself opens it with this key.
func MasterKey() []byte { return bytes.Repeat([]byte{7}, 32) }

// NewStore opens a store in a fresh t.TempDir() with default options,
// through open (pass storage.Open); see OpenStore.
func NewStore[S Store, O any](t testing.TB, open func(dir string, key []byte, opts O) (S, error)) S {
	t.Helper()
	var defaults O
	return OpenStore(t, open, t.TempDir(), defaults)
}

// OpenStore opens the store in dir (usually t.TempDir()) with MasterKey and
// opts, through open: pass storage.Open (the kit does not import storage, so
// that storage's own tests can use it too). When the test ends the store is
// checked with bbolt's tx.Check and closed, as bbolt's own tests do, unless
// the test closed it first with CloseStore.
func OpenStore[S Store, O any](t testing.TB, open func(dir string, key []byte, opts O) (S, error), dir string, opts O) S {
	t.Helper()
	s, err := open(dir, MasterKey(), opts)
	if err != nil {
		t.Fatalf("open store in %s: %v", dir, err)
	}
	t.Cleanup(func() {
		if _, early := closedEarly.LoadAndDelete(s); !early {
			checkAndClose(t, s)
		}
	})
	return s
}

// closedEarly holds the stores CloseStore closed before their test ended,
// until the cleanup of OpenStore has seen them.
var closedEarly sync.Map

// CloseStore checks s with bbolt's tx.Check and closes it, failing t on
// either error, as the test's end would. A test calls it to close a store
// before it ends (to reopen the directory, as a restart does); a second
// call does nothing.
func CloseStore(t testing.TB, s Store) {
	t.Helper()
	if _, done := closedEarly.LoadOrStore(s, true); !done {
		checkAndClose(t, s)
	}
}

func checkAndClose(t testing.TB, s Store) {
	t.Helper()
	if err := s.Check(); err != nil {
		t.Errorf("bbolt check: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("close store: %v", err)
	}
}
