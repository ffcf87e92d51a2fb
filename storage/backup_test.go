package storage

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"cardflow/internal/testkit"
)

// bigOrders writes n orders of about 64 KiB each (a long extra field), so
// that a few of them make the file grow.
func bigOrders(t *testing.T, s *Store, prefix string, n int) error {
	t.Helper()
	return s.Update(func(tx *Tx) error {
		for i := range n {
			o := newOrder("shop", fmt.Sprintf("%s-%d", prefix, i))
			o.Extra = map[string]string{"note": strings.Repeat("x", 64<<10)}
			if err := tx.CreateOrder(o); err != nil {
				return err
			}
		}
		return nil
	})
}

// TestWriteThatGrowsTheFileIsNotHeldUpByABackupToAStalledReader: a backup
// whose reader stops reading (a slow client) must not hold a read
// transaction, or the next write that grows the file past its mapping waits
// for the reader: bbolt remaps only once every read transaction is closed.
func TestWriteThatGrowsTheFileIsNotHeldUpByABackupToAStalledReader(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, testkit.MasterKey(), Options{InitialMmapSize: 1 << 20}) // a small mapping: the write below outgrows it
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	must(t, bigOrders(t, s, "before", 16)) // about 1 MiB

	pr, pw := io.Pipe()
	backupDone := make(chan error, 1)
	go func() {
		_, err := s.Backup(pw, nil)
		pw.CloseWithError(err)
		backupDone <- err
	}()
	head := make([]byte, 4096)
	if _, err := io.ReadFull(pr, head); err != nil { // the backup is under way; now the reader stalls
		t.Fatal(err)
	}

	wrote := make(chan error, 1)
	start := time.Now()
	go func() { wrote <- bigOrders(t, s, "during", 64) }() // about 4 MiB: the file must grow
	select {
	case err := <-wrote:
		must(t, err)
		t.Logf("the write took %v while the backup's reader stalled", time.Since(start).Round(time.Millisecond))
	case <-time.After(10 * time.Second):
		t.Errorf("a write that grows the file waited over 10 s for a stalled backup reader")
	}

	out := filepath.Join(t.TempDir(), "backup.db")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(head); err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(f, pr); err != nil {
		t.Fatal(err)
	}
	must(t, f.Close())
	must(t, <-backupDone)
	select {
	case err := <-wrote:
		must(t, err)
	default:
	}
	db, err := bolt.Open(out, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("open backup: %v", err)
	}
	defer db.Close()
	_ = db.View(func(tx *bolt.Tx) error {
		if n := tx.Bucket(bucketOrders).Stats().KeyN; n != 16 {
			t.Errorf("backup holds %d orders, want the 16 written before it began", n)
		}
		for err := range tx.Check() {
			t.Errorf("backup fails bbolt's check: %v", err)
		}
		return nil
	})
	leftovers, _ := filepath.Glob(filepath.Join(dir, "*backup*"))
	if len(leftovers) != 0 {
		t.Errorf("files left in the data dir: %v", leftovers)
	}
}
