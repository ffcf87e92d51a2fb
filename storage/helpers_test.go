package storage

import (
	"bytes"
	"testing"
)

// testKey is a fixed master key for tests.
var testKey = bytes.Repeat([]byte{7}, 32)

// openTest opens a store in a temp dir and, on cleanup, closes it and runs
// bbolt's consistency check on the file (like bbolt's internal btesting).
func openTest(t *testing.T) (*Store, string) {
	t.Helper()
	dir := t.TempDir()
	s, err := Open(dir, testKey, Options{})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Check(); err != nil {
			t.Errorf("bbolt check: %v", err)
		}
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s, dir
}
