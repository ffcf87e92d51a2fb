// Package dockingtest is what the docking protocols' tests share: one
// running cardflow over a real store and engine with a protocol's tree
// mounted, the catalogue it sells, and stocking a product, topping up a
// shop and reading its balance, as an operator would.
package dockingtest

import (
	"time"

	"cardflow/config"
	"cardflow/rules"
	"cardflow/storage"
)

// Operator is who stocks, tops up, approves and refunds in these tests.
var Operator = storage.Actor{Name: "alice", Platform: "console"}

// Catalogue is what the docking tests sell: four docked products (two on
// own stock only, one on own stock then the simulator, one direct top-up
// through the simulator) and one that is not docked.
func Catalogue() []config.Product {
	return []config.Product{
		{SKU: "qb-10", Name: "Q币 10元", Kind: config.KindCard, MaxQuantity: 10, BatchSize: 5,
			Sources: []config.Source{{Supplier: "own", Units: 1}}, ID: 1001, Price: 950, Category: "Q币"},
		{SKU: "jd-50", Name: "京东E卡 50元", Kind: config.KindCard, MaxQuantity: 5, BatchSize: 5,
			Sources: []config.Source{{Supplier: "own", Units: 1}}, ID: 1002, Price: 4800, Category: "购物卡",
			Description: "仅限<自营>商品"},
		{SKU: "steam-20", Name: "Steam 20", Kind: config.KindCard, MaxQuantity: 20, BatchSize: 5,
			Sources: []config.Source{{Supplier: "own", Units: 1}, {Supplier: "sim", Item: "steam", Units: 1}}, ID: 1003, Price: 1900},
		{SKU: "mobile-100", Name: "话费 100元", Kind: config.KindDirect, MaxQuantity: 1, BatchSize: 1,
			Sources: []config.Source{{Supplier: "sim", Item: "mobile", Units: 1}}, ID: 2001, Price: 9800,
			Category: "话费", AccountLabel: "手机号"},
		{SKU: "house-only", Name: "不对接", Kind: config.KindCard, MaxQuantity: 1, BatchSize: 1,
			Sources: []config.Source{{Supplier: "own", Units: 1}}},
	}
}

// Suppliers are the catalogue's sources: own stock, and the simulator.
func Suppliers() []config.Supplier {
	return []config.Supplier{{Name: "own", Type: config.SupplierStock},
		{Name: "sim", Type: config.SupplierSim, Timeout: config.Duration(time.Second), Grace: config.Duration(10 * time.Minute)}}
}

// ReviewFrom holds orders of at least n units for review.
type ReviewFrom int

// Screen is the rule.
func (n ReviewFrom) Screen(_ *storage.Tx, o *storage.Order) (rules.Decision, error) {
	if o.Quantity >= int(n) {
		return rules.Decision{Action: config.ActionReview, Reason: "rule:many-units"}, nil
	}
	return rules.Decision{Action: config.ActionAllow}, nil
}
