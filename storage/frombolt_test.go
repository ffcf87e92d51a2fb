package storage

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"cardflow/card"
	"cardflow/internal/money"
	"cardflow/internal/testkit"
	"cardflow/storage/kv"
	"cardflow/storage/kv/boltkv"
)

// shop is a bbolt store filled through the storage API as a shop that has
// traded a while would have it, and what it holds.
type shop struct {
	dir   string
	view  shopView
	cards map[string][]card.Card // SKU → the cards imported, in order
}

// shopView is what the storage API shows of a store: compared between the
// file and its copy.
type shopView struct {
	LastOrderID uint64
	Orders      []*Order
	Open        map[Status][]uint64
	Levels      map[string]int
	Balances    map[string]money.Amount
	Ledger      []LedgerEntry
	Audit       []AuditEntry
	Claims      []*Claim
	ClaimCount  int
	Chat        map[string][]ChatMessage
	Counters    map[StatKey]int64
	Outbox      []*Event
	Batches     []BatchClaims
	Paused      map[string]string
	Features    Features
}

var copyAt = time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)

// newShop builds the store in a new directory: own stock in two SKUs,
// orders (some delivered with cards from stock, some still open), a
// docking shop's balance and ledger, after-sale claims, audit entries,
// chat queues, counters, outbox events, buyer history and a paused
// supplier.
func newShop(t *testing.T) *shop {
	t.Helper()
	sh := &shop{dir: t.TempDir(), cards: map[string][]card.Card{}}
	s, err := Open(sh.dir, testkit.MasterKey(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for sku, n := range map[string]int{"qb-10": 12, "steam-50": 8} {
		var sealed []SealedCard
		for i := range n {
			c := card.Card{Number: fmt.Sprintf("%s-CARD-%04d", sku, i), Password: fmt.Sprintf("pw-%d", i)}
			sh.cards[sku] = append(sh.cards[sku], c)
			sc, err := s.Vault().Seal(c)
			if err != nil {
				t.Fatal(err)
			}
			sealed = append(sealed, sc)
		}
		must(t, s.Update(func(tx *Tx) error {
			batch, err := tx.NewStockBatch()
			if err != nil {
				return err
			}
			_, _, err = tx.AddStock(sku, batch, sealed)
			return err
		}))
	}
	for i := range 30 {
		o := newOrder("shop1", fmt.Sprintf("ext-%03d", i))
		o.Buyer = Buyer{ID: fmt.Sprintf("buyer-%d", i%4), IP: "203.0.113.7"}
		must(t, s.Update(func(tx *Tx) error {
			if err := tx.CreateOrder(o); err != nil {
				return err
			}
			if err := tx.RecordBuyerOrder(BuyerIdentities(o), copyAt.Add(-time.Duration(i)*time.Minute), o.Amount); err != nil {
				return err
			}
			tx.Counters().Add(StatKey{Slot: Slot(copyAt), Metric: MetricOrders, Label: o.SKU}, 1)
			return tx.Audit(AuditEntry{At: copyAt, Actor: Actor{Name: "shop1"}, Action: "order.create", Target: fmt.Sprint(o.ID), Outcome: "ok"})
		}))
		switch i % 3 {
		case 0: // delivered from stock
			sku := []string{"qb-10", "steam-50"}[i%2]
			must(t, s.Update(func(tx *Tx) error {
				got, err := tx.Order(o.ID)
				if err != nil {
					return err
				}
				if got.Cards, err = tx.TakeStock(sku, 1); err != nil {
					return err
				}
				got.SKU = sku
				got.Move(StatusDelivered, "", System, copyAt)
				got.DeliveredAt = copyAt
				tx.Counters().Add(StatKey{Slot: Slot(copyAt), Metric: MetricDelivered, Label: sku}, 1)
				if err := tx.PutOrder(got); err != nil {
					return err
				}
				return tx.Outbox().Add(&Event{Kind: "callback", Type: "order.delivered", OrderID: got.ID, Target: "shop1",
					CreatedAt: copyAt, Status: StatusDelivered, NextAt: copyAt})
			}))
		case 1: // waiting for review
			must(t, s.Update(func(tx *Tx) error {
				got, err := tx.Order(o.ID)
				if err != nil {
					return err
				}
				got.Move(StatusReview, "amount", System, copyAt)
				return tx.PutOrder(got)
			}))
		}
	}
	must(t, s.Update(func(tx *Tx) error {
		for _, e := range []LedgerEntry{
			{Storefront: "dj1", At: copyAt, Amount: 100000, Reason: "top_up", Actor: Actor{Name: "alice"}},
			{Storefront: "dj1", At: copyAt, Amount: -1000, Reason: LedgerOrder, OrderID: 3},
			{Storefront: "dj2", At: copyAt, Amount: 500, Reason: "top_up", Actor: Actor{Name: "bob"}},
		} {
			if _, err := tx.Balances().Change(&e, 0); err != nil {
				return err
			}
		}
		for i, id := range []uint64{1, 4} {
			c := &Claim{OrderID: id, Storefront: "shop1", ClaimID: fmt.Sprintf("T-%d", i), Reason: "card_invalid",
				CardSet: 1, Cards: []int{0}, Status: ClaimOpen, CreatedAt: copyAt}
			if err := tx.Claims().Create(c, "id:shop1/buyer-0"); err != nil {
				return err
			}
		}
		for i := range 7 {
			dest := []string{"telegram:-100123", "qq:group-9"}[i%2]
			if err := tx.Chat().Queue(&ChatMessage{Dest: dest, AlertType: "review", Text: fmt.Sprintf("订单 %d 待审核", i),
				CreatedAt: copyAt.Add(time.Duration(i) * time.Second)}); err != nil {
				return err
			}
		}
		if err := tx.AddBatchClaim("qb-10", 1); err != nil {
			return err
		}
		return tx.SetPaused("supplier:fulu", true, "alice")
	}))
	must(t, s.FlushBuyers(copyAt))
	sh.view = viewOf(t, s)
	if len(sh.view.Orders) != 30 || len(sh.view.Open[StatusReview]) != 10 || sh.view.Levels["qb-10"] != 7 || len(sh.view.Chat) != 2 {
		t.Fatalf("the shop is not what the test meant to build: %d orders, open %v, levels %v", len(sh.view.Orders), sh.view.Open, sh.view.Levels)
	}
	testkit.CloseStore(t, s)
	return sh
}

// viewOf reads a store through its API.
func viewOf(t *testing.T, s *Store) shopView {
	t.Helper()
	v := shopView{Open: map[Status][]uint64{}, Chat: map[string][]ChatMessage{}, Counters: map[StatKey]int64{}}
	must(t, s.View(func(tx *Tx) error {
		v.LastOrderID = tx.LastOrderID()
		for id := uint64(1); id <= v.LastOrderID; id++ {
			o, err := tx.Order(id)
			if err != nil {
				return err
			}
			byExt, err := tx.OrderByExternal(o.Storefront, o.ExternalID)
			if err != nil || byExt.ID != id {
				return fmt.Errorf("order %d by its external id: %v", id, err)
			}
			v.Orders = append(v.Orders, o)
		}
		for _, st := range []Status{StatusPending, StatusReview, StatusProcessing, StatusFailed} {
			v.Open[st] = tx.OpenOrders(st, 1000)
		}
		v.Levels = tx.StockLevels()
		v.Balances = tx.Balances().All()
		var err error
		if v.Ledger, err = tx.Balances().Ledger("", 100); err != nil {
			return err
		}
		if v.Audit, err = tx.AuditLast(100); err != nil {
			return err
		}
		if v.Claims, _, err = tx.Claims().Open(100); err != nil {
			return err
		}
		v.ClaimCount = tx.Claims().BuyerCount("id:shop1/buyer-0")
		for _, dest := range []string{"telegram:-100123", "qq:group-9"} {
			if v.Chat[dest], err = tx.Chat().Pending(dest, 100); err != nil {
				return err
			}
		}
		tx.Counters().Range(0, ^uint32(0), func(k StatKey, n int64) { v.Counters[k] = n })
		if err := tx.Outbox().Each(func(e *Event) error { v.Outbox = append(v.Outbox, e); return nil }); err != nil {
			return err
		}
		v.Batches = tx.BatchClaims("qb-10")
		v.Paused = tx.PausedList()
		return nil
	}))
	must(t, s.View(func(tx *Tx) error {
		v.Features = tx.BuyerFeatures([]string{"id:shop1/buyer-1"}, copyAt)
		return nil
	}))
	return v
}

// copyTarget copies into an empty store of one engine, and opens it as a
// Store once the copy is done.
type copyTarget struct {
	copy func(path string, opts CopyOptions) (CopyReport, error)
	open func(t *testing.T) *Store
}

// postgresTarget is an empty PostgreSQL database.
func postgresTarget(t *testing.T) copyTarget {
	t.Helper()
	url := pgURL(t)
	return copyTarget{
		copy: func(path string, opts CopyOptions) (CopyReport, error) {
			return CopyFromBolt(context.Background(), path, url, testkit.MasterKey(), opts)
		},
		open: func(t *testing.T) *Store { return openPostgres(t, url) },
	}
}

// boltTarget is an empty bbolt file: the copy is written against the kv
// seam, not against PostgreSQL.
func boltTarget(t *testing.T) copyTarget {
	t.Helper()
	dir := t.TempDir()
	open := func() (kv.DB, error) {
		b, err := bolt.Open(filepath.Join(dir, FileName), 0o600, nil)
		if err != nil {
			return nil, err
		}
		return boltkv.DB{Bolt: b}, nil
	}
	return copyTarget{
		copy: func(path string, opts CopyOptions) (CopyReport, error) {
			return copyFromBolt(context.Background(), path, open, testkit.MasterKey(), opts)
		},
		open: func(t *testing.T) *Store { return testkit.OpenStore(t, Open, dir, Options{}) },
	}
}

// TestACopiedStoreServesTheSameShop: a shop's bbolt store copied (seven
// keys per transaction, so that chunks end inside buckets and nested
// buckets) into PostgreSQL, and into another bbolt file, reads the same
// through the storage API: orders by id and external id, the open lists,
// stock levels, balances and ledger, claims, audit, chat queues,
// counters, outbox, buyer history. New ids follow the copied ones, cards
// taken from the copied stock open with the master key, the report
// matches on every bucket, and the file is left byte for byte as it was.
func TestACopiedStoreServesTheSameShop(t *testing.T) {
	sh := newShop(t)
	fileSum := func() [sha256.Size]byte {
		data, err := os.ReadFile(filepath.Join(sh.dir, FileName))
		if err != nil {
			t.Fatal(err)
		}
		return sha256.Sum256(data)
	}
	before := fileSum()
	for name, target := range map[string]func(*testing.T) copyTarget{"postgres": postgresTarget, "bbolt": boltTarget} {
		t.Run(name, func(t *testing.T) {
			to := target(t)
			var steps []CopyProgress
			rep, err := to.copy(filepath.Join(sh.dir, FileName), CopyOptions{Chunk: 7, Progress: func(p CopyProgress) { steps = append(steps, p) }})
			if err != nil {
				t.Fatal(err)
			}
			if !rep.Verified() || rep.Schema != schemaVersion || rep.Keys == 0 {
				t.Fatalf("report: verified %v, schema %d, %d keys", rep.Verified(), rep.Schema, rep.Keys)
			}
			if fileSum() != before {
				t.Error("the copy changed the file: going back to it would not find the shop as it was")
			}
			var labels []string
			for _, b := range rep.Buckets {
				labels = append(labels, bucketLabel([]byte(b.Name), []byte(b.Nested)))
			}
			for _, want := range []string{"meta", "orders", "stock", "stock/qb-10", "stock/steam-50", "ledger", "aftersale", "chat", "stats", "audit", "buyerlog"} {
				if !slices.Contains(labels, want) {
					t.Errorf("the report has no %s: %v", want, labels)
				}
			}
			if len(steps) < int(rep.Keys/7) || steps[len(steps)-1].Done != rep.Keys || steps[len(steps)-1].Total != rep.Keys {
				t.Errorf("%d progress steps, last %+v, for %d keys", len(steps), steps[len(steps)-1], rep.Keys)
			}
			for i := 1; i < len(steps); i++ {
				if steps[i].Done <= steps[i-1].Done {
					t.Fatalf("progress went from %d to %d", steps[i-1].Done, steps[i].Done)
				}
			}

			s := to.open(t)
			got := viewOf(t, s)
			if !reflect.DeepEqual(got, sh.view) {
				t.Fatalf("the copy reads differently:\n got %+v\nwant %+v", got, sh.view)
			}
			for _, o := range got.Orders {
				if len(o.Cards) == 0 {
					continue
				}
				cards, err := s.Vault().OpenAll(o.Cards)
				if err != nil || len(cards) != 1 || !slices.Contains(sh.cards[o.SKU], cards[0]) {
					t.Errorf("order %d's card does not open to one of %s's cards: %v", o.ID, o.SKU, err)
				}
			}
			next := newOrder("shop1", "after-the-move")
			var taken []SealedCard
			var claim Claim
			must(t, s.Update(func(tx *Tx) error {
				if err := tx.CreateOrder(next); err != nil {
					return err
				}
				var err error
				if taken, err = tx.TakeStock("steam-50", 1); err != nil {
					return err
				}
				claim = Claim{OrderID: next.ID, Storefront: "shop1", Reason: "other", Status: ClaimOpen, CreatedAt: copyAt}
				return tx.Claims().Create(&claim, "")
			}))
			if next.ID != sh.view.LastOrderID+1 || claim.ID != 3 {
				t.Errorf("new order %d and claim %d after the copy, want %d and 3", next.ID, claim.ID, sh.view.LastOrderID+1)
			}
			c, err := s.Vault().Open(taken[0])
			if err != nil || c != sh.cards["steam-50"][5] {
				t.Errorf("the next steam-50 card opens to %v (%v), want the sixth imported", c, err)
			}
			must(t, s.View(func(tx *Tx) error {
				if n := tx.StockLevel("steam-50"); n != sh.view.Levels["steam-50"]-1 {
					t.Errorf("steam-50 level %d after one taken from %d", n, sh.view.Levels["steam-50"])
				}
				return nil
			}))
		})
	}
}

// TestCopyVerificationFindsATargetThatDiffers: a row changed and a row
// removed in the target while the copy runs are found by the
// verification, bucket by bucket; the copy fails, and the target keeps its
// marker, so a store will not open on it.
func TestCopyVerificationFindsATargetThatDiffers(t *testing.T) {
	sh := newShop(t)
	url := pgURL(t)
	tampered := false
	rep, err := CopyFromBolt(context.Background(), sh.dir, url, testkit.MasterKey(), CopyOptions{Chunk: 50, Progress: func(p CopyProgress) {
		if p.Done < p.Total || tampered {
			return
		}
		tampered = true
		sql(t, url, `UPDATE orders SET v = v || '\x00'::bytea WHERE k = (SELECT k FROM orders ORDER BY k LIMIT 1)`)
		sql(t, url, `DELETE FROM stock WHERE sub = 'qb-10' AND k = (SELECT k FROM stock WHERE sub = 'qb-10' ORDER BY k LIMIT 1)`)
	}})
	if !tampered || !errors.Is(err, ErrCopyMismatch) || rep.Verified() {
		t.Fatalf("tampered %v: err %v, verified %v", tampered, err, rep.Verified())
	}
	var differ []string
	for _, b := range rep.Buckets {
		if !b.Match() {
			differ = append(differ, bucketLabel([]byte(b.Name), []byte(b.Nested)))
		}
	}
	if !slices.Equal(differ, []string{"orders", "stock/qb-10"}) {
		t.Errorf("buckets found to differ: %v, want orders and stock/qb-10", differ)
	}
	if s, err := OpenPostgres(context.Background(), url, testkit.MasterKey(), PostgresOptions{}); !errors.Is(err, ErrUnfinishedCopy) {
		if s != nil {
			_ = s.Close()
		}
		t.Fatalf("open after a failed verification: %v, want ErrUnfinishedCopy", err)
	}
}

// TestAnInterruptedCopyIsNeitherServedNorContinued: a copy whose context
// ends after its first chunk leaves a target that Open refuses and that a
// second copy refuses, both saying that the copy did not finish.
func TestAnInterruptedCopyIsNeitherServedNorContinued(t *testing.T) {
	sh := newShop(t)
	url := pgURL(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err := CopyFromBolt(ctx, sh.dir, url, testkit.MasterKey(), CopyOptions{Chunk: 10, Progress: func(CopyProgress) { cancel() }})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted copy: %v", err)
	}
	if n := count(t, url, "orders") + count(t, url, "meta"); n == 0 {
		t.Fatal("the interrupted copy wrote nothing: the test did not interrupt it midway")
	}
	_, err = CopyFromBolt(context.Background(), sh.dir, url, testkit.MasterKey(), CopyOptions{})
	if !errors.Is(err, ErrTargetNotEmpty) || !bytes.Contains([]byte(err.Error()), []byte("did not finish")) {
		t.Errorf("second copy: %v, want ErrTargetNotEmpty saying the first did not finish", err)
	}
	if s, err := OpenPostgres(context.Background(), url, testkit.MasterKey(), PostgresOptions{}); !errors.Is(err, ErrUnfinishedCopy) {
		if s != nil {
			_ = s.Close()
		}
		t.Fatalf("open after an interrupted copy: %v, want ErrUnfinishedCopy", err)
	}
}
