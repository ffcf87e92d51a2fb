package storage

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	bolt "go.etcd.io/bbolt"

	"cardflow/internal/pgtest"
	"cardflow/internal/testkit"
)

func pgURL(t *testing.T) string { return pgtest.URL(t) }

// migrated is an empty test database with its tables.
func migrated(t *testing.T) string {
	t.Helper()
	url := pgURL(t)
	if _, err := MigratePostgres(context.Background(), url); err != nil {
		t.Fatal(err)
	}
	return url
}

// sql runs one statement on a test database.
func sql(t *testing.T, url, stmt string, args ...any) { t.Helper(); pgtest.Exec(t, url, stmt, args...) }

// count is how many rows a table of a test database holds.
func count(t *testing.T, url, table string) int {
	t.Helper()
	return pgtest.Int(t, url, "SELECT count(*) FROM "+pgx.Identifier{table}.Sanitize())
}

// bucketTables lists the bucket tables of a migrated database: every table
// of the (sub, k, v) shape but the engine's own (not cluster_members, say).
func bucketTables(t *testing.T, url string) []string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT table_name FROM information_schema.columns
		WHERE table_schema = current_schema() AND column_name = 'sub' AND table_name NOT LIKE 'kv\_%' ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// smallStore is a bbolt store with one order and one stock card, closed.
func smallStore(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	s, err := Open(dir, testkit.MasterKey(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	cards := sealN(t, s, "SMALL", 1)
	must(t, s.Update(func(tx *Tx) error {
		if _, _, err := tx.AddStock("qb-10", 0, cards); err != nil {
			return err
		}
		return tx.CreateOrder(newOrder("shop1", "small-1"))
	}))
	testkit.CloseStore(t, s)
	return filepath.Join(dir, FileName)
}

// variant is a copy of a bbolt file changed by change.
func variant(t *testing.T, file string, change func(*bolt.Tx) error) string {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "variant.db")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(change); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestCopyRefusesATargetThatHoldsData: one row in any bucket table (each
// table the migrations make, in turn), a nested bucket's row, or a
// sequence alone makes the copy refuse, naming the table, and leave the
// target as it was; emptied again, the same target takes the copy. A
// target a cardflow has already started on is refused too.
func TestCopyRefusesATargetThatHoldsData(t *testing.T) {
	file := smallStore(t)
	url := migrated(t)
	tables := bucketTables(t, url)
	if len(tables) < len(allBuckets) {
		t.Fatalf("the migrated database has %d bucket tables: %v", len(tables), tables)
	}
	refused := func(what, name string) {
		t.Helper()
		_, err := CopyFromBolt(context.Background(), file, url, testkit.MasterKey(), CopyOptions{})
		if !errors.Is(err, ErrTargetNotEmpty) || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: %v, want ErrTargetNotEmpty naming %s", what, err, name)
		}
	}
	for _, table := range tables {
		stmt := "INSERT INTO " + pgx.Identifier{table}.Sanitize() + " (sub, k, v) VALUES ('', 'x', 'y')"
		sql(t, url, stmt)
		refused("a row in "+table, table)
		sql(t, url, "DELETE FROM "+pgx.Identifier{table}.Sanitize())
	}
	sql(t, url, "INSERT INTO stock (sub, k, v) VALUES ('qb-10', 'x', 'y')")
	refused("a nested bucket's row", "stock")
	sql(t, url, "DELETE FROM stock")
	sql(t, url, "INSERT INTO kv_sequences (tbl, sub, seq) VALUES ('orders', '', 7)")
	refused("a sequence alone", "orders")
	sql(t, url, "DELETE FROM kv_sequences")
	for _, table := range tables {
		if n := count(t, url, table); n != 0 {
			t.Fatalf("a refused copy left %d rows in %s", n, table)
		}
	}
	if rep, err := CopyFromBolt(context.Background(), file, url, testkit.MasterKey(), CopyOptions{}); err != nil || !rep.Verified() {
		t.Fatalf("copy into the emptied target: %v", err)
	}

	started := pgURL(t)
	s, err := OpenPostgres(context.Background(), started, testkit.MasterKey(), PostgresOptions{})
	if err != nil {
		t.Fatal(err)
	}
	must(t, s.Close())
	_, err = CopyFromBolt(context.Background(), file, started, testkit.MasterKey(), CopyOptions{})
	if !errors.Is(err, ErrTargetNotEmpty) || !strings.Contains(err.Error(), "meta") {
		t.Errorf("copy into a database cardflow started on: %v, want ErrTargetNotEmpty naming meta", err)
	}
}

// TestCopyRefusesAFileItCannotCopyFaithfully tries files that are missing,
// empty, not bbolt, bbolt but not cardflow's, of a newer or an older
// schema, halfway through a schema upgrade, holding a bucket this build
// has no table for (or one PostgreSQL cannot name), nesting two levels,
// or sealed with another master key: each is refused with its own error
// before anything reaches the target.
func TestCopyRefusesAFileItCannotCopyFaithfully(t *testing.T) {
	file := smallStore(t)
	url := migrated(t)
	dir := t.TempDir()
	emptyFile := filepath.Join(dir, "empty.db")
	textFile := filepath.Join(dir, "notes.txt")
	for path, data := range map[string]string{emptyFile: "", textFile: strings.Repeat("not a database\n", 1000)} {
		if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	foreign := filepath.Join(dir, "other.db")
	other, err := bolt.Open(foreign, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	must(t, other.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("widgets")); return err }))
	must(t, other.Close())
	setMeta := func(k, v []byte) func(*bolt.Tx) error {
		return func(tx *bolt.Tx) error {
			if v == nil {
				return tx.Bucket(bucketMeta).Delete(k)
			}
			return tx.Bucket(bucketMeta).Put(k, v)
		}
	}
	addBucket := func(name string) func(*bolt.Tx) error {
		return func(tx *bolt.Tx) error {
			b, err := tx.CreateBucket([]byte(name))
			if err != nil {
				return err
			}
			return b.Put([]byte("k"), []byte("v"))
		}
	}
	for _, tc := range []struct {
		name string
		path string
		key  []byte
		want error  // nil: only the text matters
		text string // in the message
	}{
		{"missing file", filepath.Join(dir, "nothing.db"), nil, fs.ErrNotExist, "nothing.db"},
		{"empty file", emptyFile, nil, ErrNotAStore, "empty"},
		{"text file", textFile, nil, ErrNotAStore, "not a bbolt database"},
		{"another program's bbolt file", foreign, nil, ErrNotAStore, "no meta bucket"},
		{"no schema version", variant(t, file, setMeta(keySchema, nil)), nil, ErrNotAStore, "no schema version"},
		{"newer schema", variant(t, file, setMeta(keySchema, u64(schemaVersion+1))), nil, ErrSchema, "newer cardflow"},
		{"schema 1", variant(t, file, setMeta(keySchema, u64(1))), nil, ErrSchema, "start this cardflow once"},
		{"reprint under way", variant(t, file, setMeta(keyReprinting, []byte{1})), nil, ErrSchema, "start this cardflow once"},
		{"a bucket without a table", variant(t, file, addBucket("gift_cards")), nil, nil, "gift_cards"},
		{"a bucket PostgreSQL cannot name", variant(t, file, addBucket("Gift-Cards")), nil, nil, "Gift-Cards"},
		{"two levels of nesting", variant(t, file, func(tx *bolt.Tx) error {
			_, err := tx.Bucket(bucketStock).Bucket([]byte("qb-10")).CreateBucket([]byte("deeper"))
			return err
		}), nil, nil, "deeper"},
		{"another master key", file, bytes.Repeat([]byte{9}, 32), ErrMasterKey, "different master key"},
		{"a master key of 16 bytes", file, make([]byte, 16), ErrMasterKey, "16 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key := tc.key
			if key == nil {
				key = testkit.MasterKey()
			}
			_, err := CopyFromBolt(context.Background(), tc.path, url, key, CopyOptions{})
			if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) || !strings.Contains(err.Error(), tc.text) {
				t.Fatalf("err = %v, want %v saying %q", err, tc.want, tc.text)
			}
			if n := count(t, url, "meta"); n != 0 {
				t.Fatalf("the refused copy left %d rows in meta", n)
			}
		})
	}
}

// TestCopyRefusesAFileACardflowHolds: while a cardflow has the file open
// the copy fails within its lock timeout, telling the operator to stop
// cardflow; a data directory works as well as the file's path once it is
// free, and while the copy runs a cardflow cannot start on the file.
func TestCopyRefusesAFileACardflowHolds(t *testing.T) {
	file := smallStore(t)
	url := migrated(t)
	s := testkit.OpenStore(t, Open, filepath.Dir(file), Options{})
	start := time.Now()
	_, err := CopyFromBolt(context.Background(), file, url, testkit.MasterKey(), CopyOptions{LockTimeout: 100 * time.Millisecond})
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "stop cardflow first") {
		t.Fatalf("copy of a held file: %v, want ErrLocked telling to stop cardflow", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the refusal took %v", d)
	}
	if n := count(t, url, "meta"); n != 0 {
		t.Fatalf("the refused copy left %d rows in meta", n)
	}
	testkit.CloseStore(t, s)
	var during error
	rep, err := CopyFromBolt(context.Background(), filepath.Dir(file), url, testkit.MasterKey(), CopyOptions{Progress: func(CopyProgress) {
		if during == nil {
			s, err := Open(filepath.Dir(file), testkit.MasterKey(), Options{LockTimeout: 50 * time.Millisecond})
			if err == nil {
				_ = s.Close()
				err = errors.New("opened")
			}
			during = err
		}
	}})
	if err != nil || !rep.Verified() {
		t.Fatalf("copy from the data directory once it is free: %v", err)
	}
	if !errors.Is(during, ErrLocked) {
		t.Errorf("a cardflow starting on the file during the copy: %v, want ErrLocked", during)
	}
}
