package api_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"cardflow/api"
	"cardflow/cluster"
	"cardflow/internal/pgtest"
	"cardflow/internal/signing"
	"cardflow/internal/testkit"
	"cardflow/storage"
)

// hearing is a cluster member that counts the nudges it hands to the
// server, so that the test knows when a peer's have arrived.
type hearing struct {
	cluster.Member
	heard atomic.Int64
}

func (h *hearing) Subscribe(topic string, fn func(string)) {
	h.Member.Subscribe(topic, func(p string) {
		fn(p)
		h.heard.Add(1)
	})
}

// TestAReplayToAnotherProcessIsRefused: two processes serve the same
// storefronts on one PostgreSQL database (here two servers, each a real
// member of the processes on it). Each remembers the signatures it let in,
// in memory; a request captured on its way to one was answered again by
// the other, the order's card keys included. Now a process tells the
// others the signatures it saw, and once that has arrived the replay is
// refused there too. A request nobody has seen still passes on both.
func TestAReplayToAnotherProcessIsRefused(t *testing.T) {
	url := pgtest.URL(t)
	s, err := storage.OpenPostgres(context.Background(), url, testkit.MasterKey(), storage.PostgresOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_ = s.Close() // the database now has the tables members need
	f := newFixture(t, fixtureOptions{})
	f.importStock(t, skuQB, "SHARED-CARD-1,PW-1\n")
	logs := &testkit.Buffer{}
	serve := func() (*httptest.Server, *hearing) {
		m, err := cluster.Join(context.Background(), url, cluster.Options{Log: zerolog.Nop()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = m.Close() })
		h := &hearing{Member: m}
		srv := httptest.NewServer(api.New(api.Options{Orders: f.engine, Storefronts: map[string][]byte{"shop1": shop1Secret},
			Now: f.clock.Now, Peers: h, Log: zerolog.New(logs)}).Storefront())
		t.Cleanup(srv.Close)
		return srv, h
	}
	a, aHears := serve()
	b, bHears := serve()

	captured := f.signed("shop1", http.MethodPost, "/v1/orders", simpleOrder(t, "SHARED-1", skuQB, 1, "100.00"))
	wantStatus(t, send(t, a, captured), http.StatusCreated)
	testkit.EventuallyWithin(t, 10*time.Second, "the other process hearing the signature", func() bool { return bHears.heard.Load() > 0 })
	r := send(t, b, captured)
	wantError(t, r, http.StatusUnauthorized, "unauthorized", "")
	if strings.Contains(string(r.body), "SHARED-CARD-1") {
		t.Fatalf("the replay to the other process got the card keys: %s", r.body)
	}
	// And the other way round, for a request nobody had seen.
	heard := aHears.heard.Load()
	fresh := f.signed("shop1", http.MethodGet, "/v1/orders?external_id=SHARED-1", nil)
	wantStatus(t, send(t, b, fresh), http.StatusOK)
	testkit.EventuallyWithin(t, 10*time.Second, "the first process hearing it", func() bool { return aHears.heard.Load() > heard })
	wantError(t, send(t, a, fresh), http.StatusUnauthorized, "unauthorized", "")

	// A garbled nudge on the topic (from a third member: keys that are not
	// hex, a timestamp that is not a number, an entry without its colon,
	// a key from outside the window) is logged and skipped; the one good
	// entry beside them is noted.
	third, err := cluster.Join(context.Background(), url, cluster.Options{Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	defer third.Close()
	next := f.signed("shop1", http.MethodGet, "/v1/orders?external_id=SHARED-1&n=2", nil)
	key, err := signing.Key(next.header.Get(signing.HeaderSignature))
	if err != nil {
		t.Fatal(err)
	}
	old := f.clock.Now().Add(-time.Hour).Unix()
	heard = bHears.heard.Load()
	third.Publish("api.signed", fmt.Sprintf("peer 1795575601:zzzz abc:%016x %016x %d:%016x %s:%016x",
		key, key, old, key, next.header.Get(signing.HeaderTimestamp), key))
	testkit.EventuallyWithin(t, 10*time.Second, "the garbled nudge", func() bool { return bHears.heard.Load() > heard })
	wantError(t, send(t, b, next), http.StatusUnauthorized, "unauthorized", "")
	if !strings.Contains(logs.String(), `"entries":3,"message":"malformed signature keys from a peer ignored"`) {
		t.Errorf("the garbled entries were not logged; log:\n%s", logs.String())
	}
}
