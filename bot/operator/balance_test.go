package operator

import (
	"testing"

	"cardflow/storage"
)

// dockingShop is the fixture's docking shop, with 5.00 of credit.
const dockingShop = "cardflow-dj1"

// TestBalanceAndCreditForViewersAndAdmins: an admin tops up and debits a
// docking shop's balance; everyone reads it with /balance; an operator
// may not /credit. Inputs tried: no amount, "abc", "0", three decimals,
// an unknown shop, a cardflow storefront, a shop named in another case.
func TestBalanceAndCreditForViewersAndAdmins(t *testing.T) {
	f := newFixture(t)
	for _, lg := range langs {
		t.Run(lg.name, func(t *testing.T) {
			b := f.bot(lg.lang)
			r := f.send(b, adminID, "/credit "+dockingShop+" 100.00 bank transfer")
			containsAll(t, "/credit", r.Text, dockingShop, "+100.00", "bank transfer", "carol")
			r = f.send(b, adminID, "/credit "+dockingShop+" -30")
			containsAll(t, "/credit -30", r.Text, "-30.00")
			r = f.send(b, viewerID, "/balance")
			containsAll(t, "/balance", r.Text, dockingShop, "5.00")
			r = f.send(b, viewerID, "/balance CARDFLOW-DJ1")
			containsAll(t, "/balance one shop", r.Text, dockingShop)
			r = f.send(b, aliceID, "/credit "+dockingShop+" 100")
			containsAll(t, "/credit by an operator", r.Text, "/credit")
			containsNone(t, "/credit by an operator", r.Text, "✅")
			for _, bad := range []string{"/credit " + dockingShop, "/credit " + dockingShop + " abc", "/credit " + dockingShop + " 0",
				"/credit " + dockingShop + " 1.001"} {
				r = f.send(b, adminID, bad)
				containsNone(t, bad, r.Text, "✅")
			}
			for _, shop := range []string{"nobody", storefront} {
				r = f.send(b, adminID, "/credit "+shop+" 10")
				containsAll(t, "/credit "+shop, r.Text, shop, "/balance")
			}
		})
	}
	balances, err := f.engine.Balances()
	if err != nil || len(balances) != 1 || balances[0].Balance != 2*(10000-3000) {
		t.Fatalf("balances after both languages' top-ups and debits = %+v, %v", balances, err)
	}
	log, _ := f.engine.AuditLog(10)
	adjusted := 0
	for _, e := range log {
		if e.Action == "balance.adjust" && e.Actor.Name != "" {
			adjusted++
		}
	}
	if adjusted != 4 {
		t.Fatalf("%d balance adjustments audited, want 4", adjusted)
	}
}

// TestTheReportShowsEachDockingShopsOrdersSpendAndBalance: a shop that
// bought nothing today still has its line, with its balance.
func TestTheReportShowsEachDockingShopsOrdersSpendAndBalance(t *testing.T) {
	f := newFixture(t)
	if _, err := f.engine.AdjustBalance(storage.Actor{Name: "carol"}, dockingShop, 12345, "top_up"); err != nil {
		t.Fatal(err)
	}
	for _, lg := range langs {
		r := f.send(f.bot(lg.lang), viewerID, "/report today")
		containsAll(t, "/report", r.Text, tr(lg.lang, "🏪 对接商城", "🏪 Docking shops"),
			tr(lg.lang, dockingShop+"：0 单，消费 0.00 元，余额 123.45 元", dockingShop+": 0 orders, spent 0.00 yuan, balance 123.45 yuan"))
	}
}
