package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"cardflow/internal/testkit"
)

func TestOpenCreatesPrivateFiles(t *testing.T) {
	dir := t.TempDir()
	testkit.OpenStore(t, Open, dir, Options{})
	for path, want := range map[string]os.FileMode{dir: 0o700, filepath.Join(dir, FileName): 0o600} {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := st.Mode().Perm(); got != want {
			t.Errorf("%s mode = %o, want %o", path, got, want)
		}
	}
}

func TestOpenWithAnotherMasterKeyFails(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, testkit.MasterKey(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	other := bytes.Repeat([]byte{8}, 32)
	if _, err := Open(dir, other, Options{}); !errors.Is(err, ErrMasterKey) {
		t.Fatalf("open with other key: err = %v, want ErrMasterKey", err)
	}
	for _, bad := range [][]byte{nil, make([]byte, 16), make([]byte, 33)} {
		if _, err := Open(dir, bad, Options{}); !errors.Is(err, ErrMasterKey) {
			t.Errorf("open with %d-byte key: err = %v, want ErrMasterKey", len(bad), err)
		}
	}
}

func TestSecondProcessFailsFastOnLock(t *testing.T) {
	dir := t.TempDir()
	testkit.OpenStore(t, Open, dir, Options{})
	start := time.Now()
	_, err := Open(dir, testkit.MasterKey(), Options{LockTimeout: 100 * time.Millisecond})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second open: err = %v, want ErrLocked", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("second open took %v", d)
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, testkit.MasterKey(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	db, err := bolt.Open(filepath.Join(dir, FileName), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(keySchema, u64(schemaVersion+1)) })
	_ = db.Close()
	if _, err := Open(dir, testkit.MasterKey(), Options{}); !errors.Is(err, ErrSchema) {
		t.Fatalf("err = %v, want ErrSchema", err)
	}
}

func newOrder(sf, ext string) *Order {
	o := &Order{Storefront: sf, ExternalID: ext, SKU: "qb-10", Quantity: 1, Amount: 1000}
	o.Move(StatusPending, "", Actor{Name: sf}, time.Unix(1, 0))
	return o
}

func TestGroupCommitManyWritersAllDurable(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, testkit.MasterKey(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	const n = 2000
	var wg sync.WaitGroup
	ids := make([]uint64, n)
	for i := range n {
		wg.Go(func() {
			o := newOrder("shop", fmt.Sprintf("ext-%d", i))
			if err := s.Update(func(tx *Tx) error { return tx.CreateOrder(o) }); err != nil {
				t.Errorf("create %d: %v", i, err)
			}
			ids[i] = o.ID
		})
	}
	wg.Wait()
	seen := map[uint64]bool{}
	for _, id := range ids {
		if id == 0 || seen[id] {
			t.Fatalf("id %d missing or repeated", id)
		}
		seen[id] = true
	}
	// Reopen: everything acknowledged is on disk.
	must(t, s.Close())
	s2, err := Open(dir, testkit.MasterKey(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	must(t, s2.Check())
	_ = s2.View(func(tx *Tx) error {
		if got := tx.CountOpen(StatusPending); got != n {
			t.Errorf("open pending = %d, want %d", got, n)
		}
		o, err := tx.OrderByExternal("shop", "ext-1999")
		if err != nil || o.ID != ids[1999] {
			t.Errorf("by external: %v %v", o, err)
		}
		return nil
	})
}

func TestFailedWriteLeavesNothingAndSparesItsBatch(t *testing.T) {
	s := testkit.NewStore(t, openTest)
	boom := errors.New("boom")
	var wg sync.WaitGroup
	errs := make([]error, 50)
	for i := range 50 {
		wg.Go(func() {
			errs[i] = s.Update(func(tx *Tx) error {
				if err := tx.CreateOrder(newOrder("shop", fmt.Sprintf("o-%d", i))); err != nil {
					return err
				}
				if i%10 == 3 {
					return boom // after writing: the write must vanish
				}
				if i%10 == 7 {
					panic("bad write") // a panic is an error, not a crash
				}
				return nil
			})
		})
	}
	wg.Wait()
	for i, err := range errs {
		switch i % 10 {
		case 3:
			if !errors.Is(err, boom) {
				t.Errorf("write %d: err = %v, want boom", i, err)
			}
		case 7:
			if err == nil {
				t.Errorf("write %d: panicking write reported success", i)
			}
		default:
			if err != nil {
				t.Errorf("write %d: %v", i, err)
			}
		}
	}
	_ = s.View(func(tx *Tx) error {
		for i := range 50 {
			_, err := tx.OrderByExternal("shop", fmt.Sprintf("o-%d", i))
			kept := i%10 != 3 && i%10 != 7
			if kept != (err == nil) {
				t.Errorf("order o-%d kept=%v but lookup err=%v", i, kept, err)
			}
		}
		return nil
	})
}

func TestOpenIndexFollowsStatus(t *testing.T) {
	s := testkit.NewStore(t, openTest)
	o := newOrder("shop", "a")
	must(t, s.Update(func(tx *Tx) error { return tx.CreateOrder(o) }))
	steps := []Status{StatusReview, StatusPending, StatusFailed, StatusDelivered}
	for _, st := range steps {
		must(t, s.Update(func(tx *Tx) error {
			cur, err := tx.Order(o.ID)
			if err != nil {
				return err
			}
			cur.Move(st, "", System, time.Unix(2, 0))
			return tx.PutOrder(cur)
		}))
		_ = s.View(func(tx *Tx) error {
			for _, open := range []Status{StatusPending, StatusReview, StatusFailed, StatusProcessing} {
				want := 0
				if open == st {
					want = 1
				}
				if got := tx.CountOpen(open); got != want {
					t.Errorf("after %s: open[%s] = %d, want %d", st, open, got, want)
				}
			}
			return nil
		})
	}
}

func TestBackupIsARestorableDatabase(t *testing.T) {
	s := testkit.NewStore(t, Open)
	o := newOrder("shop", "keep-me")
	must(t, s.Update(func(tx *Tx) error { return tx.CreateOrder(o) }))
	var buf bytes.Buffer
	var announced int64
	n, err := s.Backup(&buf, func(size int64) { announced = size })
	if err != nil || n != int64(buf.Len()) || announced != n {
		t.Fatalf("backup: n=%d len=%d announced=%d err=%v", n, buf.Len(), announced, err)
	}
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, FileName), buf.Bytes(), 0o600))
	r, err := Open(dir, testkit.MasterKey(), Options{})
	if err != nil {
		t.Fatalf("open restored copy: %v", err)
	}
	defer r.Close()
	_ = r.View(func(tx *Tx) error {
		got, err := tx.OrderByExternal("shop", "keep-me")
		if err != nil || got.ID != o.ID {
			t.Errorf("restored order: %v %v", got, err)
		}
		return nil
	})
	if err := r.Check(); err != nil {
		t.Errorf("restored copy check: %v", err)
	}
}

func TestAuditIsAppendOnlyAndNewestFirst(t *testing.T) {
	s := testkit.NewStore(t, openTest)
	for i := range 5 {
		must(t, s.Update(func(tx *Tx) error {
			return tx.Audit(AuditEntry{At: time.Unix(int64(i), 0), Actor: Actor{Name: "alice"}, Action: fmt.Sprintf("a%d", i), Outcome: "ok"})
		}))
	}
	_ = s.View(func(tx *Tx) error {
		got, err := tx.AuditLast(3)
		if err != nil || len(got) != 3 || got[0].Action != "a4" || got[2].Action != "a2" || got[0].Seq != 5 {
			t.Errorf("AuditLast(3) = %+v, %v", got, err)
		}
		return nil
	})
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestMeasureCeilingCountsDurableWrites: the ceiling run writes through the
// real writer, counts every write and commit, and leaves nothing behind.
func TestMeasureCeilingCountsDurableWrites(t *testing.T) {
	dir := t.TempDir()
	c, err := MeasureCeiling(context.Background(), dir, 200*time.Millisecond, 16)
	if err != nil {
		t.Fatal(err)
	}
	if c.Writes == 0 || c.Commits == 0 || c.Commits > c.Writes || c.WritesPerSecond() <= 0 {
		t.Fatalf("ceiling = %+v", c)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("scratch store left behind: %v", entries)
	}
}

// TestAlertOpenInTheTransactionThatRaisedIt: an alert raised twice in one
// write (two bad purchases of one order settled together) must be open for
// the second raise, or the operators get the same alert twice. bbolt's Get
// returns nil for a key put with a nil value until the write commits.
func TestAlertOpenInTheTransactionThatRaisedIt(t *testing.T) {
	s := testkit.NewStore(t, openTest)
	err := s.Update(func(tx *Tx) error {
		if err := tx.Alerts().SetOpen("duplicate_card:fulu:7", true); err != nil {
			return err
		}
		if !tx.Alerts().Open("duplicate_card:fulu:7") {
			t.Error("alert not open in the write that raised it")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.View(func(tx *Tx) error {
		if !tx.Alerts().Open("duplicate_card:fulu:7") {
			t.Error("alert not open after the write")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
