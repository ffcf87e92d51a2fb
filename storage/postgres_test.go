package storage

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"

	"cardflow/card"
	"cardflow/internal/pgtest"
	"cardflow/internal/testkit"
)

// TestPostgresStockTableHoldsCiphertextOnly: what an operator with a SQL
// prompt sees of own stock is fingerprints and sealed boxes; neither the
// card number nor its password, as text or in any byte string.
func TestPostgresStockTableHoldsCiphertextOnly(t *testing.T) {
	url := pgtest.URL(t)
	s, err := OpenPostgres(context.Background(), url, testkit.MasterKey(), PostgresOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	secret := card.Card{Number: "QB10-PLAIN-NUMBER-4242", Password: "pw-PLAIN-SECRET-4242"}
	sc, err := s.Vault().Seal(secret)
	if err != nil {
		t.Fatal(err)
	}
	must(t, s.Update(func(tx *Tx) error {
		batch, err := tx.NewStockBatch()
		if err != nil {
			return err
		}
		_, _, err = tx.AddStock("qb-10", batch, []SealedCard{sc})
		return err
	}))
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	for _, table := range []string{"stock", "prints", "orders", "outbox"} {
		rows, err := conn.Query(context.Background(), "SELECT sub, k, v FROM "+table)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for rows.Next() {
			var sub, k, v []byte
			if err := rows.Scan(&sub, &k, &v); err != nil {
				t.Fatal(err)
			}
			n++
			for _, plain := range []string{secret.Number, secret.Password, "PLAIN"} {
				if bytes.Contains(bytes.Join([][]byte{sub, k, v}, nil), []byte(plain)) {
					t.Errorf("table %s holds %q in clear", table, plain)
				}
			}
		}
		if rows.Err() != nil {
			t.Fatal(rows.Err())
		}
		if table == "stock" && n != 1 {
			t.Errorf("stock table has %d rows, want the 1 card", n)
		}
	}
}

// TestPostgresRefusesAnotherMasterKey: a second process started with a
// different key must not seal new cards with it next to the first's.
func TestPostgresRefusesAnotherMasterKey(t *testing.T) {
	url := pgtest.URL(t)
	s, err := OpenPostgres(context.Background(), url, testkit.MasterKey(), PostgresOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	other := bytes.Repeat([]byte{9}, 32)
	if s2, err := OpenPostgres(context.Background(), url, other, PostgresOptions{}); !errors.Is(err, ErrMasterKey) {
		if s2 != nil {
			_ = s2.Close()
		}
		t.Fatalf("open with another master key: %v, want ErrMasterKey", err)
	}
}

// TestPostgresStoreIsSharedByTwoOpens: what one process commits, another
// on the same database reads, and an order accepted through one is the
// same order for the other (idempotency holds across processes).
func TestPostgresStoreIsSharedByTwoOpens(t *testing.T) {
	url := pgtest.URL(t)
	a, err := OpenPostgres(context.Background(), url, testkit.MasterKey(), PostgresOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := OpenPostgres(context.Background(), url, testkit.MasterKey(), PostgresOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	o := newOrder("shop", "same-ext")
	must(t, a.Update(func(tx *Tx) error { return tx.CreateOrder(o) }))
	dup := newOrder("shop", "same-ext")
	err = b.Update(func(tx *Tx) error {
		if got, err := tx.OrderByExternal("shop", "same-ext"); err == nil {
			dup.ID = got.ID
			return nil
		}
		return tx.CreateOrder(dup)
	})
	if err != nil || dup.ID != o.ID {
		t.Fatalf("the second process sees order %d (err %v), want the first's %d", dup.ID, err, o.ID)
	}
	if a.Size() <= 0 || a.Path() != "" || !a.Postgres() {
		t.Errorf("size %d path %q postgres %v", a.Size(), a.Path(), a.Postgres())
	}
	if _, err := a.Backup(&bytes.Buffer{}, nil); !errors.Is(err, ErrBackupElsewhere) {
		t.Errorf("backup of a PostgreSQL store: %v", err)
	}
}
