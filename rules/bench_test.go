package rules

import (
	"fmt"

	"testing"
	"time"

	"github.com/rs/zerolog"

	"cardflow/config"
	"cardflow/internal/testkit"
	"cardflow/storage"
)

var noLog = zerolog.Nop()

// benchBuyers is the size of the buyer history the benchmarks run against.
const benchBuyers = 100_000

// seedBuyers writes the history of benchBuyers buyers (id, contact and IP
// each), one to three orders each within the last day.
func seedBuyers(b *testing.B, s *storage.Store, at time.Time) {
	b.Helper()
	for start := 0; start < benchBuyers; start += 5000 {
		err := s.Update(func(tx *storage.Tx) error {
			for i := start; i < start+5000; i++ {
				o := order(at, fmt.Sprintf("u-%d", i), fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255), 1000)
				for k := range 1 + i%3 {
					if err := tx.RecordBuyerOrder(storage.BuyerIdentities(o), at.Add(-time.Duration(k+1)*time.Hour), 1000); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLookupAndEvaluate is the per-order cost of the rules at intake:
// the buyer-history lookup (three identities) and the default rules, with
// 100,000 buyers in the store. It runs in a read transaction, so the write
// that records the order is not included (see BenchmarkScreen).
func BenchmarkLookupAndEvaluate(b *testing.B) {
	s := testkit.NewStore(b, storage.Open)
	at := time.Date(2026, 11, 25, 12, 0, 0, 0, shanghai)
	seedBuyers(b, s, at)
	e, err := New(s, config.DefaultRules(), shanghai, func() time.Time { return at }, noLog)
	if err != nil {
		b.Fatal(err)
	}
	orders := make([]*storage.Order, 1024)
	for i := range orders {
		j := (i * 7919) % benchBuyers
		orders[i] = order(at, fmt.Sprintf("u-%d", j), fmt.Sprintf("10.%d.%d.%d", j>>16&255, j>>8&255, j&255), 1000)
	}
	b.ReportAllocs()
	b.ResetTimer()
	_ = s.View(func(tx *storage.Tx) error {
		for i := range b.N {
			o := orders[i%len(orders)]
			f := tx.BuyerFeatures(storage.BuyerIdentities(o), at)
			if _, hit := e.decide(envOf(o, f), 0); hit {
				b.Fatal("a rule matched a small order of a calm buyer")
			}
		}
		return nil
	})
}

// BenchmarkScreen is the whole intake screen, the history write included,
// a thousand orders per write transaction as under load.
func BenchmarkScreen(b *testing.B) {
	s := testkit.NewStore(b, storage.Open)
	at := time.Date(2026, 11, 25, 12, 0, 0, 0, shanghai)
	seedBuyers(b, s, at)
	e, err := New(s, config.DefaultRules(), shanghai, func() time.Time { return at }, noLog)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; {
		n := min(1000, b.N-done)
		err := s.Update(func(tx *storage.Tx) error {
			for i := range n {
				j := ((done + i) * 7919) % benchBuyers
				o := order(at, fmt.Sprintf("u-%d", j), fmt.Sprintf("10.%d.%d.%d", j>>16&255, j>>8&255, j&255), 1000)
				if _, err := e.Screen(tx, o); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		done += n
	}
}
