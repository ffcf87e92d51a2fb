//go:build linux

package storage

import (
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"cardflow/internal/diskfault"
	"cardflow/internal/testkit"
)

// TestADiskErrorStopsEveryLaterWrite: a commit that fails for the disk's
// sake (not because a write refused its input) stops the store taking
// writes for good, also once the disk works again: a commit that failed
// half-way may be visible through the mapping already, and only a restart
// (with its recovery) knows what is durable. Callers get ErrStoreFailed,
// the failure is reported once, and the file opens cleanly afterwards.
func TestADiskErrorStopsEveryLaterWrite(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, testkit.MasterKey(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	reported := make(chan error, 4)
	s.OnFailure(func(err error) { reported <- err })
	must(t, s.Update(func(tx *Tx) error { return tx.CreateOrder(newOrder("shop", "before")) }))

	heal := diskfault.Break(t, filepath.Join(dir, FileName))
	err = s.Update(func(tx *Tx) error { return tx.CreateOrder(newOrder("shop", "while-broken")) })
	if !errors.Is(err, ErrStoreFailed) || !errors.Is(err, ErrClosed) {
		t.Fatalf("write on a full disk: err = %v, want ErrStoreFailed (an ErrClosed)", err)
	}
	heal()
	start := time.Now()
	err = s.Update(func(tx *Tx) error { return tx.CreateOrder(newOrder("shop", "after-heal")) })
	if !errors.Is(err, ErrStoreFailed) {
		t.Fatalf("write after the disk came back: err = %v, want ErrStoreFailed", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("a refused write took %v; it must fail fast", d)
	}
	select {
	case <-s.Failed():
	default:
		t.Error("Failed() is not closed")
	}
	select {
	case got := <-reported:
		if !errors.Is(got, ErrStoreFailed) {
			t.Errorf("reported %v, want ErrStoreFailed", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the failure was not reported")
	}
	if len(reported) != 0 {
		t.Errorf("the failure was reported %d more times", len(reported))
	}
	must(t, s.Close())

	s2, err := Open(dir, testkit.MasterKey(), Options{})
	if err != nil {
		t.Fatalf("reopen after the failure: %v", err)
	}
	defer s2.Close()
	must(t, s2.Check())
	_ = s2.View(func(tx *Tx) error {
		if _, err := tx.OrderByExternal("shop", "before"); err != nil {
			t.Errorf("the order written before the failure: %v", err)
		}
		if _, err := tx.OrderByExternal("shop", "after-heal"); err == nil {
			t.Error("a write after the failure reached the file")
		}
		return nil
	})
	must(t, s2.Update(func(tx *Tx) error { return tx.CreateOrder(newOrder("shop", "after-restart")) }))
}

// TestACommitErrorAfterBboltWroteStopsTheStore: the worst case, a commit
// whose pages reached the file and the mapping but whose sync reported an
// error. Every write of that commit gets the error, and so does every
// write queued behind it, without running.
func TestACommitErrorAfterBboltWroteStopsTheStore(t *testing.T) {
	s := testkit.NewStore(t, Open)
	fsync := errors.New("fdatasync: input/output error")
	s.failCommitsWith(fsync)
	ran := make(chan int, 100)
	errs := make(chan error, 100)
	for i := range 100 {
		go func() {
			errs <- s.Update(func(tx *Tx) error {
				ran <- i
				return tx.CreateOrder(newOrder("shop", fmt.Sprintf("o-%d", i)))
			})
		}()
	}
	for range 100 {
		if err := <-errs; !errors.Is(err, ErrStoreFailed) {
			t.Fatalf("err = %v, want ErrStoreFailed", err)
		}
	}
	if !errors.Is(s.Err(), fsync) {
		t.Errorf("Err() = %v, want the commit's error", s.Err())
	}
	ranBefore := len(ran)
	if err := s.Update(func(tx *Tx) error { ran <- -1; return nil }); !errors.Is(err, ErrStoreFailed) {
		t.Fatalf("later write: err = %v, want ErrStoreFailed", err)
	}
	if len(ran) != ranBefore {
		t.Error("a write ran after the store failed")
	}
	// A write that refuses its input is not a storage failure.
	s2 := testkit.NewStore(t, Open)
	refused := errors.New("invalid input")
	if err := s2.Update(func(*Tx) error { return refused }); !errors.Is(err, refused) || errors.Is(err, ErrStoreFailed) {
		t.Fatalf("refused write: err = %v", err)
	}
	must(t, s2.Update(func(tx *Tx) error { return tx.CreateOrder(newOrder("shop", "next")) }))
}
