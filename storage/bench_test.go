package storage

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"cardflow/card"
	"cardflow/internal/pgtest"
	"cardflow/internal/testkit"
)

// BenchmarkOrderWrites is the store's share of an order's life: accepted
// (record, indexes, counters, an outbox event), then a card taken from stock
// and the order delivered, each a write of its own through the group-commit
// writer, from many goroutines at once as the engine's workers make them. It
// compares engines, and one build with another, side by side in one run.
func BenchmarkOrderWrites(b *testing.B) {
	s := testkit.NewStore(b, openTest)
	benchOrderWrites(b, s)
}

// BenchmarkOrderWritesTwoProcesses is BenchmarkOrderWrites with two
// stores open on one PostgreSQL database, as two processes share it, the
// goroutines split between them: beside the one-store figure of the same
// run it shows what taking turns at the writer lock costs.
func BenchmarkOrderWritesTwoProcesses(b *testing.B) {
	if !pgtest.Postgres() {
		b.Skip("two processes share a store only on PostgreSQL (CARDFLOW_TEST_BACKEND=postgres)")
	}
	dir := b.TempDir()
	s := testkit.OpenStore(b, openTest, dir, Options{})
	other := testkit.OpenStore(b, openTest, dir, Options{})
	benchOrderWrites(b, s, other)
}

func benchOrderWrites(b *testing.B, stores ...*Store) {
	s := stores[0]
	const chunk = 1000
	for n := 0; n < b.N; n += chunk {
		cards := make([]SealedCard, min(chunk, b.N-n))
		for i := range cards {
			sc, err := s.Vault().Seal(card.Card{Number: fmt.Sprintf("BENCH-%09d", n+i), Password: "pw"})
			if err != nil {
				b.Fatal(err)
			}
			cards[i] = sc
		}
		must(b, s.Update(func(tx *Tx) error {
			batch, err := tx.NewStockBatch()
			if err != nil {
				return err
			}
			_, _, err = tx.AddStock("qb-10", batch, cards)
			return err
		}))
	}
	var next atomic.Int64
	b.SetParallelism(16) // the engine's workers
	b.ResetTimer()
	var turn atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		s := stores[int(turn.Add(1))%len(stores)]
		for pb.Next() {
			o := newOrder("shop", fmt.Sprintf("bench-%d", next.Add(1)))
			if err := s.Update(func(tx *Tx) error {
				if err := tx.CreateOrder(o); err != nil {
					return err
				}
				return tx.Outbox().Add(&Event{Kind: "callback", Type: "order.accepted", OrderID: o.ID, Target: "shop"})
			}); err != nil {
				b.Error(err)
				return
			}
			if err := s.Update(func(tx *Tx) error {
				got, err := tx.Order(o.ID)
				if err != nil {
					return err
				}
				cards, err := tx.TakeStock(got.SKU, 1)
				if err != nil {
					return err
				}
				got.Cards = cards
				got.Move(StatusDelivered, "", Actor{Name: "bench"}, time.Unix(2, 0))
				if err := tx.PutOrder(got); err != nil {
					return err
				}
				return tx.Outbox().Add(&Event{Kind: "callback", Type: "order.delivered", OrderID: o.ID, Target: "shop"})
			}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
