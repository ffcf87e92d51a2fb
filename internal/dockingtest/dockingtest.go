// Package dockingtest is what the docking protocols' tests share over a
// real engine: stocking a product, topping up a shop and reading its
// balance, as an operator would.
package dockingtest

import (
	"strings"
	"testing"

	"cardflow/internal/money"
	"cardflow/processor"
	"cardflow/storage"
)

// Operator is who stocks and tops up in these tests.
var Operator = storage.Actor{Name: "alice", Platform: "console"}

// Stock imports keys, one per line, into a SKU's own stock; each must be
// new.
func Stock(t testing.TB, e *processor.Engine, sku string, keys ...string) {
	t.Helper()
	res, err := e.ImportStock(Operator, sku, strings.NewReader(strings.Join(keys, "\n")))
	if err != nil || res.Added != len(keys) {
		t.Fatalf("import %s: %+v, %v", sku, res, err)
	}
}

// TopUp adds whole yuan to a docking shop's balance.
func TopUp(t testing.TB, e *processor.Engine, shop string, yuan money.Amount) {
	t.Helper()
	if _, err := e.AdjustBalance(Operator, shop, yuan*100, "top_up"); err != nil {
		t.Fatal(err)
	}
}

// Balance is a docking shop's balance now.
func Balance(t testing.TB, e *processor.Engine, shop string) money.Amount {
	t.Helper()
	all, err := e.Balances()
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range all {
		if b.Storefront == shop {
			return b.Balance
		}
	}
	t.Fatalf("no balance for %s", shop)
	return 0
}
