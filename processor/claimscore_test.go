package processor

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"cardflow/alert"
	"cardflow/config"
	"cardflow/internal/testkit"
	"cardflow/report"
	"cardflow/storage"
)

// claimOn opens a card_invalid claim on the cards at positions of an order.
func (f *fixture) claimOn(o *storage.Order, positions ...int) *storage.Claim {
	f.t.Helper()
	var numbers []string
	for _, p := range positions {
		numbers = append(numbers, f.number(o, p))
	}
	return f.openClaim(o.ID, ClaimRequest{Reason: ClaimCardInvalid, Cards: numbers})
}

func (f *fixture) resolve(cl *storage.Claim, action string) {
	f.t.Helper()
	if _, _, err := f.engine.ResolveClaim(alice, cl.ID, action, ""); err != nil {
		f.t.Fatalf("%s claim %d: %v", action, cl.ID, err)
	}
}

// supplierBadCards is a supplier's bad-card count as /suppliers shows it.
func (f *fixture) supplierBadCards(name string) int { return f.supplierState(name).BadCards }

func (f *fixture) supplierState(name string) SupplierState {
	f.t.Helper()
	states, err := f.engine.Suppliers()
	if err != nil {
		f.t.Fatal(err)
	}
	for _, s := range states {
		if s.Name == name {
			return s
		}
	}
	f.t.Fatalf("no supplier %s", name)
	return SupplierState{}
}

// deliveredFrom submits an order of sku and waits for its delivery.
func (f *fixture) deliveredFrom(ext, sku string, qty int) *storage.Order {
	f.t.Helper()
	o := f.submit(ext, sku, qty, 5000)
	return f.tickStatus(o.ID, storage.StatusDelivered)
}

// TestAnUpheldClaimIsABadCardOfItsSupplierAndARejectedOneIsNot: with
// adaptive routing, suppliers a and b each warmed up with twelve clean
// purchases. A rejected claim on a card of a changes nothing; a reissued
// claim on one card makes it one bad card of a (in /suppliers and in its
// scorecard) and lowers a's score; a refunded claim on two more of a's
// cards brings a far enough below b that the next order goes to b first.
func TestAnUpheldClaimIsABadCardOfItsSupplierAndARejectedOneIsNot(t *testing.T) {
	a, b := newScripted(), newScripted()
	f := remoteFixture(t, a, b, func(o *Options) {
		o.Routing = config.RoutingAdaptive
		o.Products = append(o.Products, config.Product{SKU: "steam-b50", Kind: config.KindCard, MaxQuantity: 20, BatchSize: 5,
			Sources: []config.Source{{Supplier: "b", Item: "B50", Units: 1}, {Supplier: "a", Item: "A50", Units: 1}}},
			config.Product{SKU: "steam-a50", Kind: config.KindCard, MaxQuantity: 20, BatchSize: 5,
				Sources: []config.Source{{Supplier: "a", Item: "A50", Units: 1}}})
	})
	for i := range scoreSample + 2 {
		f.deliveredFrom(fmt.Sprintf("wa-%d", i), "steam-50", 1)
		f.deliveredFrom(fmt.Sprintf("wb-%d", i), "steam-b50", 1)
	}
	f.refreshScores()
	before := f.scorecard("a")
	if before.BadCards != 0 || before.Answered() < scoreSample {
		t.Fatalf("a warmed up: %+v", before)
	}

	o := f.deliveredFrom("rejected", "steam-50", 1)
	if o.Attempts[0].Supplier != "a" {
		t.Fatalf("the order went to %s, want a", o.Attempts[0].Supplier)
	}
	cl := f.claimOn(o, 0)
	if !slices.Equal(cl.Sources, []string{"a"}) || cl.Batches != nil {
		t.Fatalf("claim sources %v, batches %v", cl.Sources, cl.Batches)
	}
	f.resolve(cl, ActionReject)
	f.refreshScores()
	if n, sc := f.supplierBadCards("a"), f.scorecard("a"); n != 0 || sc.BadCards != 0 {
		t.Fatalf("a rejected claim counted: %d bad cards, scorecard %+v", n, sc)
	}

	o = f.deliveredFrom("reissued", "steam-50", 1)
	f.resolve(f.claimOn(o, 0), ActionReissue)
	f.tickStatus(o.ID, storage.StatusDelivered)
	f.refreshScores()
	sc := f.scorecard("a")
	if n := f.supplierBadCards("a"); n != 1 || sc.BadCards != 1 || sc.Score >= before.Score {
		t.Fatalf("after a reissued claim: %d bad cards, scorecard %+v (score before %.3f)", n, sc, before.Score)
	}
	if n := f.supplierBadCards("b"); n != 0 {
		t.Fatalf("b has %d bad cards", n)
	}

	o = f.deliveredFrom("refunded", "steam-a50", 2)
	f.resolve(f.claimOn(o, 0, 1), ActionRefund)
	f.refreshScores()
	sa, sb := f.scorecard("a"), f.scorecard("b")
	if st := f.supplierState("a"); st.BadCards != 3 || st.ClaimCards != 3 || sa.BadCards != 3 || sa.Score >= sb.Score-0.05 {
		t.Fatalf("after a refunded claim on two cards: %+v, a %+v, b %+v", st, sa, sb)
	}
	if next := f.deliveredFrom("next", "steam-50", 1); next.Attempts[0].Supplier != "b" {
		t.Fatalf("adaptive routing still sent the next order to %s first", next.Attempts[0].Supplier)
	}
}

// TestUpheldClaimsSwitchSecondVerificationOnAsDuplicatesDo: three upheld
// claims on a's cards in the hour (a reissue and two refunds) switch
// second verification on for a, with its alert and audit entry, as three
// duplicate cards do; three rejected claims on b's cards do not.
func TestUpheldClaimsSwitchSecondVerificationOnAsDuplicatesDo(t *testing.T) {
	a, b := newScripted(), newScripted()
	f := remoteFixture(t, a, b, func(o *Options) {
		o.Products = append(o.Products, config.Product{SKU: "steam-b50", Kind: config.KindCard, MaxQuantity: 20, BatchSize: 5,
			Sources: []config.Source{{Supplier: "b", Item: "B50", Units: 1}}})
	})
	var ofA, ofB []*storage.Order
	for i := range verifyOnBad {
		ofA = append(ofA, f.deliveredFrom(fmt.Sprintf("a-%d", i), "steam-50", 1))
		ofB = append(ofB, f.deliveredFrom(fmt.Sprintf("b-%d", i), "steam-b50", 1))
	}
	for i, o := range ofB {
		f.resolve(f.claimOn(o, 0), ActionReject)
		action := ActionRefund
		if i == 0 {
			action = ActionReissue
		}
		f.resolve(f.claimOn(ofA[i], 0), action)
	}
	f.tickStatus(ofA[0].ID, storage.StatusDelivered)
	f.refreshScores()
	if sc := f.scorecard("a"); !sc.Verifying || sc.BadCards != verifyOnBad {
		t.Fatalf("after %d upheld claims: %+v", verifyOnBad, sc)
	}
	if sc := f.scorecard("b"); sc.Verifying || sc.BadCards != 0 {
		t.Fatalf("after %d rejected claims: %+v", verifyOnBad, sc)
	}
	testkit.Eventually(f.t, "verification alert", func() bool { return f.alerts.has(alert.SupplierVerifying, false, "a") })
	assertAudited(t, f, "verify.on", "a")
}

// TestAClaimOnOwnStockNamesItsImportBatch: each import answers its batch;
// a claim on a card of the first import names batch 1, on one of the
// second batch 2; upheld, each counts against its batch (newest batch
// first), a rejected one against none.
func TestAClaimOnOwnStockNamesItsImportBatch(t *testing.T) {
	f := claimFixture(t) // imports 40 cards of qb-10: batch 1
	if res := f.importCards("qb-10", "B2-", 5); res.Batch != 2 || res.Added != 5 {
		t.Fatalf("second import: %+v", res)
	}
	if res := f.importCards("qb-10", "B2-", 5); res.Batch != 3 || res.Added != 0 || res.Duplicates != 5 {
		t.Fatalf("an import of duplicates only: %+v", res)
	}
	first := f.delivered("OWN-1", 1)
	cl := f.claimOn(first, 0)
	if !slices.Equal(cl.Sources, []string{"own"}) || !slices.Equal(cl.Batches, []uint64{1}) {
		t.Fatalf("claim on a card of batch 1: sources %v, batches %v", cl.Sources, cl.Batches)
	}
	f.resolve(cl, ActionRefund)
	rejected := f.delivered("OWN-2", 1)
	f.resolve(f.claimOn(rejected, 0), ActionReject)

	for i := range 3 {
		f.delivered(fmt.Sprintf("DRAIN-%d", i), 10) // 8 of batch 1 left after these
	}
	rest := f.delivered("OWN-3", 10) // the last 8 of batch 1, then two of batch 2
	cl = f.claimOn(rest, 8, 0, 9)
	if !slices.Equal(cl.Batches, []uint64{2, 1, 2}) {
		t.Fatalf("claim across batches: batches %v", cl.Batches)
	}
	testkit.Eventually(t, "the prompt", func() bool { _, ok := f.claimAlert(cl.ID, false); return ok })
	if a, _ := f.claimAlert(cl.ID, false); !slices.Equal(a.Claim.Sources, []string{"own #2", "own #1", "own #2"}) {
		t.Fatalf("the prompt names the batches: %+v", a.Claim)
	}
	f.resolve(cl, ActionReissue)
	got, err := f.engine.BatchClaims("qb-10")
	if err != nil || !slices.Equal(got, []storage.BatchClaims{{Batch: 2, Upheld: 2}, {Batch: 1, Upheld: 2}}) {
		t.Fatalf("batch claims = %v, %v", got, err)
	}
	if st := f.supplierState("own"); st.BadCards != 0 || st.ClaimCards != 4 {
		t.Fatalf("own stock: %+v, want no bad cards (its claims count per batch) and 4 claimed cards", st)
	}
}

// TestClaimsAreCountedForTheReport: opened, resolved and upheld claims by
// SKU, their cards by supplier, and the time to resolve, as the daily
// report reads them.
func TestClaimsAreCountedForTheReport(t *testing.T) {
	f := claimFixture(t)
	o1, o2, o3 := f.delivered("R-1", 2), f.delivered("R-2", 1), f.delivered("R-3", 1)
	f.resolve(f.claimOn(o1, 0, 1), ActionReissue)
	f.resolve(f.claimOn(o2, 0), ActionReject)
	f.openClaim(o3.ID, ClaimRequest{Reason: ClaimNotReceived}) // left open, no card named
	fig, err := report.Read(f.store, f.clock.Now().Add(-24*time.Hour), f.clock.Now().Add(24*time.Hour), f.clock.Now().Location())
	if err != nil {
		t.Fatal(err)
	}
	c := fig.Claims
	if c.Opened != 3 || c.Resolved != 2 || c.Upheld != 1 || c.Time.Count() != 2 || c.UpheldShare() != 0.5 {
		t.Fatalf("claims %+v", c.ClaimCounts)
	}
	if sku := c.SKUs["qb-10"]; sku == nil || *sku != (report.ClaimCounts{Opened: 3, Resolved: 2, Upheld: 1}) {
		t.Fatalf("qb-10's claims %+v", sku)
	}
	if own := c.Suppliers["own"]; own == nil || *own != (report.ClaimCounts{Opened: 3, Resolved: 3, Upheld: 2}) {
		t.Fatalf("own stock's claimed cards %+v", own)
	}
	if name, n := report.Worst(c.SKUs); name != "qb-10" || n != 1 {
		t.Fatalf("worst SKU %s %d", name, n)
	}
}
