package boltkv_test

import (
	"path/filepath"
	"testing"

	"cardflow/storage/kv"
	"cardflow/storage/kv/boltkv"
	"cardflow/storage/kv/kvtest"

	bolt "go.etcd.io/bbolt"
)

// open gives a test a bbolt file of its own. The map starts large, as the
// storage package's does: a view open while an update grows the file would
// otherwise wait for a remap that waits for the view.
func open(t *testing.T) kv.DB {
	t.Helper()
	db, err := bolt.Open(filepath.Join(t.TempDir(), "kv.db"), 0o600, &bolt.Options{InitialMmapSize: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.View(func(tx *bolt.Tx) error {
			for err := range tx.Check() {
				return err
			}
			return nil
		}); err != nil {
			t.Errorf("bbolt check: %v", err)
		}
		db.Close()
	})
	return boltkv.DB{Bolt: db}
}

func TestBoltKeepsTheKVContract(t *testing.T) { kvtest.Run(t, open) }

func BenchmarkUpdate(b *testing.B) {
	db, err := bolt.Open(filepath.Join(b.TempDir(), "kv.db"), 0o600, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	kvtest.BenchUpdate(b, boltkv.DB{Bolt: db})
}
