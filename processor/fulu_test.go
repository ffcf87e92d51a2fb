package processor

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"cardflow/alert"
	"cardflow/config"
	"cardflow/internal/testkit"
	"cardflow/processor/view"
	"cardflow/storage"
	"cardflow/suppliers"
	"cardflow/suppliers/fulu"
	"cardflow/suppliers/fulu/fulufake"
)

// fuluFixture runs the engine against the real Fulu client and the fake
// gateway over loopback HTTP.
func fuluFixture(t *testing.T, tweak func(*Options)) (*fixture, *fulufake.Gateway) {
	gw := fulufake.New(fulufake.Options{})
	t.Cleanup(gw.Close)
	srv := httptest.NewServer(gw)
	t.Cleanup(srv.Close)
	client, err := fulu.New(fulu.Options{BaseURL: srv.URL, AppKey: fulufake.SandboxAppKey, AppSecret: fulufake.SandboxAppSecret})
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, func(o *Options) {
		o.Suppliers = []config.Supplier{{Name: "own", Type: config.SupplierStock},
			{Name: "fulu", Type: config.SupplierFulu, Timeout: config.Duration(5 * time.Second), Grace: config.Duration(10 * time.Minute),
				BalanceLow: 100_00}}
		o.Sources = map[string]suppliers.Supplier{"fulu": client}
		o.Products = append(testProducts,
			config.Product{SKU: "fl-card", Kind: config.KindCard, MaxQuantity: 10, BatchSize: 5,
				Sources: []config.Source{{Supplier: "fulu", Item: "10000587", Units: 1}}},
			config.Product{SKU: "fl-direct", Kind: config.KindDirect, MaxQuantity: 10, BatchSize: 10,
				Sources: []config.Source{{Supplier: "fulu", Item: "10000585", Units: 1}}})
		if tweak != nil {
			tweak(o)
		}
	})
	return f, gw
}

func TestFuluCardOrderEndToEnd(t *testing.T) {
	f, gw := fuluFixture(t, nil)
	o := f.submit("FC-1", "fl-card", 2, 200)
	f.tickUntil("delivered", time.Second, func() bool { return f.order(o.ID).Status == storage.StatusDelivered })
	got := f.order(o.ID)
	rec, ok := gw.Order(got.Attempts[0].No)
	if !ok || rec.BuyNum != 2 || len(rec.Cards) != 2 {
		t.Fatalf("gateway order %+v", rec)
	}
	v, _ := view.Of(got, view.Current(got), f.store.Vault())
	if v.Cards[0].Number != rec.Cards[0].Number && v.Cards[0].Number != rec.Cards[1].Number {
		t.Fatalf("delivered %q, gateway issued %q", v.Cards[0].Number, rec.Cards[0].Number)
	}
	if got.Attempts[0].Cost <= 0 || got.Attempts[0].SupplierID == "" {
		t.Errorf("attempt lacks cost or Fulu order id: %+v", got.Attempts[0])
	}
}

func TestFuluDirectTopUpEndToEnd(t *testing.T) {
	for _, tc := range []struct {
		name, account string
		want          storage.Status
		reason        string
	}{
		{"sandbox account", "888888", storage.StatusDelivered, ""},
		{"blacklisted account", "bad-42", storage.StatusRefunded, suppliers.ReasonInvalidAccount},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, gw := fuluFixture(t, func(o *Options) { o.AutoRefund = []string{suppliers.ReasonInvalidAccount} })
			o, _, err := f.engine.Submit(Request{Storefront: "shop", ExternalID: "FD-1", SKU: "fl-direct", Quantity: 1,
				Amount: 100, Account: tc.account, Extra: map[string]string{"game": "三国群英传", "region": "电信一区"}})
			if err != nil {
				t.Fatal(err)
			}
			f.tickUntil("settled", time.Second, func() bool { return f.order(o.ID).Status == tc.want })
			got := f.order(o.ID)
			if got.Reason != tc.reason || len(got.Cards) != 0 {
				t.Fatalf("order %s reason %q cards %d", got.Status, got.Reason, len(got.Cards))
			}
			if tc.want == storage.StatusDelivered {
				rec, _ := gw.Order(got.Attempts[0].No)
				if rec.Account != "888888" || rec.Fields["charge_game_region"] != "电信一区" || rec.Fields["charge_game_name"] != "三国群英传" {
					t.Fatalf("gateway got %+v", rec)
				}
			}
		})
	}
}

func TestLowSupplierBalanceRaisesAndResolvesAnAlert(t *testing.T) {
	f, gw := fuluFixture(t, nil)
	gw.SetBalance(50_00)
	f.engine.health.CheckBalances(context.Background())
	testkit.Eventually(f.t, "low balance alert", func() bool { return f.alerts.has(alert.BalanceLow, false, "fulu") })
	if b, ok := f.engine.health.Balance("fulu"); !ok || b != 50_00 {
		t.Fatalf("balance = %s %v", b, ok)
	}
	gw.SetBalance(5000_00)
	f.engine.health.CheckBalances(context.Background())
	testkit.Eventually(f.t, "balance alert resolved", func() bool { return f.alerts.has(alert.BalanceLow, true, "fulu") })
}
