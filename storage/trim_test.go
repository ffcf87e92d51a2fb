//go:build linux

package storage

import (
	"fmt"
	"path/filepath"
	"testing"

	"cardflow/internal/testkit"
)

// TestTrimReleasesMappedPagesAndKeepsTheData: after reading 4,000 orders
// (a few MB of pages) the mapping is resident; Trim with a budget above that
// leaves it, Trim with a budget below it releases it, and the orders read
// back the same afterwards.
func TestTrimReleasesMappedPagesAndKeepsTheData(t *testing.T) {
	dir := t.TempDir()
	s := testkit.OpenStore(t, Open, dir, Options{})
	err := s.Update(func(tx *Tx) error {
		for i := range 4000 {
			o := fullOrder()
			o.ID, o.ExternalID = uint64(i+1), fmt.Sprintf("T-%d", i)
			o.Attempts = nil
			if err := tx.CreateOrder(o); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	readAll := func() {
		t.Helper()
		err := s.View(func(tx *Tx) error {
			for i := range 4000 {
				o, err := tx.Order(uint64(i + 1))
				if err != nil {
					return err
				}
				if o.ExternalID != fmt.Sprintf("T-%d", i) {
					return fmt.Errorf("order %d reads as %q", i+1, o.ExternalID)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	readAll()
	path, _ := filepath.EvalSymlinks(filepath.Join(dir, "cardflow.db"))
	_, _, before, err := mappingOf(path)
	if err != nil {
		t.Fatal(err)
	}
	if before < 1<<20 {
		t.Fatalf("only %d bytes resident after reading every order", before)
	}
	// Above what is resident, Trim only reports it: the first time from
	// smaps, the second from statm, whose estimate must not fall behind.
	for range 2 {
		was, err := s.Trim(2 * before)
		if err != nil {
			t.Fatal(err)
		}
		_, _, kept, _ := mappingOf(path)
		if was < kept || kept < before/2 {
			t.Fatalf("Trim(%d) with %d resident: saw %d, %d left; want nothing trimmed", 2*before, before, was, kept)
		}
	}
	was, err := s.Trim(before / 4)
	if err != nil {
		t.Fatal(err)
	}
	_, _, after, _ := mappingOf(path)
	if was < before/2 || after > before/4 {
		t.Fatalf("resident before %d, Trim saw %d, after %d", before, was, after)
	}
	readAll()
}

// TestTrimMeasuresResidentPagesNotTheMapping: the file is mapped far past
// its end (mmapSize), which is address space, not memory: the mapping's
// resident pages stay what was read, and Trim measures and releases those.
func TestTrimMeasuresResidentPagesNotTheMapping(t *testing.T) {
	dir := t.TempDir()
	s := testkit.OpenStore(t, Open, dir, Options{})
	<-s.buyersReady
	must(t, bigOrders(t, s, "trim", 32)) // about 2 MiB
	path, _ := filepath.EvalSymlinks(filepath.Join(dir, "cardflow.db"))
	start, end, rss, err := mappingOf(path)
	if err != nil {
		t.Fatal(err)
	}
	if size := int64(end - start); size < minMmap {
		t.Fatalf("mapping of %d bytes, want at least %d", size, minMmap)
	}
	if rss > 16<<20 {
		t.Errorf("%d bytes of the mapping resident, more than the file holds", rss)
	}
	was, err := s.Trim(0)
	if err != nil {
		t.Fatal(err)
	}
	_, _, after, _ := mappingOf(path)
	if was > 16<<20 || after > was {
		t.Errorf("Trim saw %d resident and left %d: it must measure pages, not the mapping", was, after)
	}
}
