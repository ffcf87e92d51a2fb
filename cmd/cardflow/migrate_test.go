package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cardflow/internal/demo"
	"cardflow/internal/pgtest"
	"cardflow/internal/storefront"
	"cardflow/internal/testkit"
	"cardflow/storage"
)

const (
	bboltStorage    = "[storage]\nbackend = \"bbolt\"\n"
	postgresStorage = "[storage]\nbackend = \"postgres\"\n"
)

// usePostgres switches a service's config from the bbolt file to the
// PostgreSQL database url (read from CARDFLOW_DATABASE_URL, the default).
func (s *service) usePostgres(t *testing.T, url string) {
	t.Helper()
	cfg, err := os.ReadFile(s.config)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(cfg), bboltStorage, postgresStorage, 1)
	if text == string(cfg) {
		t.Fatal("the service's config has no bbolt [storage] to switch")
	}
	if err := os.WriteFile(s.config, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	s.env = append(s.env, "CARDFLOW_DATABASE_URL="+url)
}

// TestMigrateAppliesTheSchemaOnceWithoutTheMasterKey: `cardflow migrate`
// on an empty database applies pgkv's and the store's migrations and
// exits 0, says the schema is current the second time, needs no master
// key, and exits 1 with a clear message on a database a newer cardflow
// migrated.
func TestMigrateAppliesTheSchemaOnceWithoutTheMasterKey(t *testing.T) {
	url := pgtest.URL(t)
	s := newService(t, bboltStorage)
	s.usePostgres(t, url)
	env := append(s.env, "CARDFLOW_MASTER_KEY=")
	code, out := runBinary(t, env, "migrate", "-config", s.config)
	if code != 0 || !strings.Contains(out, "applied 0001_engine.sql") || !strings.Contains(out, "applied 0001_buckets.sql") {
		t.Fatalf("first migrate: code %d\n%s", code, out)
	}
	code, out = runBinary(t, env, "migrate", "-config", s.config)
	if code != 0 || !strings.Contains(out, "the schema is current") || strings.Contains(out, "applied") {
		t.Fatalf("second migrate: code %d\n%s", code, out)
	}
	pgtest.Exec(t, url, "INSERT INTO schema_migrations (version, name) VALUES (9999, '9999_from_the_future')")
	code, out = runBinary(t, env, "migrate", "-config", s.config)
	if code != 1 || !strings.Contains(out, "a newer cardflow has migrated this database") {
		t.Fatalf("migrate of a newer schema: code %d\n%s", code, out)
	}
}

// TestMigrateRefusesWhatItCannotWorkOn tries no -config, a stray
// argument, a config that keeps the state in bbolt, a postgres config
// whose connection string is not set, and one whose server is not there
// (its password must not be printed).
func TestMigrateRefusesWhatItCannotWorkOn(t *testing.T) {
	s := newService(t, bboltStorage)
	for _, tc := range []struct {
		name string
		env  []string
		args []string
		code int
		want string
	}{
		{"no config", s.env, []string{"migrate"}, 2, "usage: cardflow migrate"},
		{"a stray argument", s.env, []string{"migrate", "-config", s.config, "extra"}, 2, "usage: cardflow migrate"},
		{"bbolt config", s.env, []string{"migrate", "-config", s.config}, 2, `backend = "postgres"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out := runBinary(t, tc.env, tc.args...)
			if code != tc.code || !strings.Contains(out, tc.want) {
				t.Fatalf("code %d, want %d saying %q:\n%s", code, tc.code, tc.want, out)
			}
		})
	}
	const password = "pw-never-printed-4242"
	s.usePostgres(t, "")
	t.Run("connection string not set", func(t *testing.T) {
		code, out := runBinary(t, s.env, "migrate", "-config", s.config)
		if code != 2 || !strings.Contains(out, "CARDFLOW_DATABASE_URL") {
			t.Fatalf("code %d:\n%s", code, out)
		}
	})
	t.Run("no server there", func(t *testing.T) {
		nowhere := "postgres://cardflow:" + password + "@/cardflow?host=" + t.TempDir() + "&connect_timeout=2"
		code, out := runBinary(t, append(s.env, "CARDFLOW_DATABASE_URL="+nowhere), "migrate", "-config", s.config)
		if code != 1 || !strings.Contains(out, "connect") || strings.Contains(out, password) {
			t.Fatalf("code %d (want 1, the error, no password):\n%s", code, out)
		}
	})
}

// TestMigrateFromBboltMovesAServedShopToPostgres: a shop that took orders
// (delivered from own stock) on the bbolt file cannot be copied while it
// runs; once stopped, `cardflow migrate -from-bbolt` copies it, prints a
// verified table with every bucket and the stock's nested buckets, and the
// database opens as a store with the same orders, stock and cards. A second
// copy into the now full database, and a copy with another master key, are
// refused.
func TestMigrateFromBboltMovesAServedShopToPostgres(t *testing.T) {
	url := pgtest.URL(t)
	s := newService(t, bboltStorage)
	p := s.start(t)
	ctx := context.Background()
	if _, err := s.adminClient().ImportStock(ctx, "qb-10", strings.NewReader(demo.CardLines("qb-10", 20))); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := range 8 {
		o, _, err := s.client().Create(ctx, storefront.NewOrder{ExternalID: fmt.Sprintf("MOVE-%d", i), SKU: "qb-10", Quantity: 1 + i%2,
			Amount: "10.00", Buyer: storefront.Buyer{ID: fmt.Sprintf("b-%d", i)}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, o.ID)
	}
	testkit.EventuallyWithin(t, 20*time.Second, "every order delivered", func() bool {
		for _, id := range ids {
			if !s.receiver.Delivered(id) {
				return false
			}
		}
		return true
	})
	file := filepath.Join(s.dir, "data", storage.FileName)
	s.usePostgres(t, url)
	code, out := runBinary(t, s.env, "migrate", "-config", s.config, "-from-bbolt", file)
	if code != 1 || !strings.Contains(out, "stop cardflow first") || !strings.Contains(out, "applied 0001_buckets.sql") {
		t.Fatalf("copy while cardflow runs: code %d (want 1, the schema applied, the copy refused)\n%s", code, out)
	}
	p.interrupt(t)

	code, out = runBinary(t, s.env, "migrate", "-config", s.config, "-from-bbolt", file)
	if code != 0 || !strings.Contains(out, "verified:") || strings.Contains(out, "DIFFERS") {
		t.Fatalf("copy: code %d\n%s", code, out)
	}
	for _, want := range []string{"the schema is current", "copying " + file, "keys (100%)", "orders ", "stock/qb-10 ", "audit "} {
		if !strings.Contains(out, want) {
			t.Errorf("the output lacks %q:\n%s", want, out)
		}
	}

	master, err := base64.StdEncoding.DecodeString(testMasterKey)
	if err != nil {
		t.Fatal(err)
	}
	st, err := storage.OpenPostgres(ctx, url, master, storage.PostgresOptions{})
	if err != nil {
		t.Fatal(err)
	}
	delivered, cards := 0, 0
	err = st.View(func(tx *storage.Tx) error {
		for i := range ids {
			o, err := tx.OrderByExternal("shop1", fmt.Sprintf("MOVE-%d", i))
			if err != nil {
				return err
			}
			opened, err := st.Vault().OpenAll(o.Cards)
			if err != nil {
				return err
			}
			if o.Status == storage.StatusDelivered && len(opened) == o.Quantity {
				delivered++
			}
			cards += len(opened)
		}
		if n := tx.StockLevel("qb-10"); n != 20-cards {
			t.Errorf("qb-10 level %d in PostgreSQL, want %d", n, 20-cards)
		}
		return nil
	})
	_ = st.Close()
	if err != nil || delivered != len(ids) {
		t.Fatalf("%d of %d orders delivered with their cards in PostgreSQL (%v)", delivered, len(ids), err)
	}

	code, out = runBinary(t, s.env, "migrate", "-config", s.config, "-from-bbolt", file)
	if code != 1 || !strings.Contains(out, "not empty") {
		t.Fatalf("second copy: code %d\n%s", code, out)
	}
	other := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("z", 32)))
	code, out = runBinary(t, append(s.env, "CARDFLOW_MASTER_KEY="+other), "migrate", "-config", s.config, "-from-bbolt", file)
	if code != 1 || !strings.Contains(out, "different master key") {
		t.Fatalf("copy with another master key: code %d\n%s", code, out)
	}
}
