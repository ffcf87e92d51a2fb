// Package rules is cardflow's intake rule engine: expr-lang
// expressions over the order and the buyer's history, compiled and
// type-checked when loaded, evaluated in order for every new order; the
// first match decides. Operators can list, try, set and switch off rules
// from chat; those changes are stored and survive restarts and reloads.
package rules

import (
	"time"

	"cardflow/storage"
)

// Env is what an expression sees. Field names are a contract: rules in
// shops' configs and the README's Rules section name them.
type Env struct {
	Order OrderEnv `expr:"order"`
	Buyer BuyerEnv `expr:"buyer"`
	Now   NowEnv   `expr:"now"`
}

// OrderEnv is the order being screened.
type OrderEnv struct {
	SKU        string  `expr:"sku"`
	Quantity   int     `expr:"quantity"`
	Amount     float64 `expr:"amount"` // yuan
	Storefront string  `expr:"storefront"`
	Kind       string  `expr:"kind"`
}

// BuyerEnv is who pays and their history before this order.
type BuyerEnv struct {
	ID            string  `expr:"id"`
	Contact       string  `expr:"contact"`
	IP            string  `expr:"ip"`
	Account       string  `expr:"account"`
	Orders1h      int     `expr:"orders_1h"`
	Orders24h     int     `expr:"orders_24h"`
	Amount24h     float64 `expr:"amount_24h"` // yuan
	Refunds30d    int     `expr:"refunds_30d"`
	FirstSeenDays int     `expr:"first_seen_days"`
}

// NowEnv is the moment of intake in the shop's zone.
type NowEnv struct {
	Hour int `expr:"hour"`
}

// envOf builds the environment of an order with the features seen at its
// intake.
func envOf(o *storage.Order, f storage.Features) Env {
	return Env{
		Order: OrderEnv{SKU: o.SKU, Quantity: o.Quantity, Amount: o.Amount.Yuan(), Storefront: o.Storefront, Kind: o.Kind},
		Buyer: BuyerEnv{ID: o.Buyer.ID, Contact: o.Buyer.Contact, IP: o.Buyer.IP, Account: o.Account,
			Orders1h: f.Orders1h, Orders24h: f.Orders24h, Amount24h: f.Amount24h.Yuan(), Refunds30d: f.Refunds30d,
			FirstSeenDays: f.FirstSeenDays},
		Now: NowEnv{Hour: f.Hour},
	}
}

// dayOf numbers days in the shop's zone, for per-day hit counts.
func dayOf(t time.Time, loc *time.Location) int64 {
	y, m, d := t.In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
}
