// Package suppliers defines what cardflow needs from a source of goods, and
// holds the adapters: stock (own inventory), fulu (福禄开放平台 2.0) and sim
// (a simulator). The interface is the common shape of Chinese supplier
// APIs: submit an order under our own order number, query it by that
// number, and optionally receive a callback that hints it is done.
package suppliers

import (
	"context"
	"net/http"
	"time"

	"cardflow/card"
	"cardflow/internal/money"
)

// Kinds of goods.
const (
	KindCard   = "card"   // card keys are delivered
	KindDirect = "direct" // the buyer's account is topped up
)

// Order is one purchase from a supplier.
type Order struct {
	// No is our idempotency key for this purchase (Fulu's customer_order_no):
	// ASCII letters, digits, '-' and '_', at most 50 characters. It is stored
	// durably before Submit is called and reused for every query.
	No       string
	Item     string // the supplier's product id
	Kind     string // KindCard or KindDirect
	Quantity int    // supplier units
	Account  string // direct: the account to top up
	// Extra carries direct top-up fields the storefront passed through
	// (e.g. "region", "server", "game", "charge_type").
	Extra map[string]string
	// MaxUnitCost, if not 0, is the most we pay per supplier unit; adapters
	// send it where the protocol can enforce it.
	MaxUnitCost money.Amount
}

// Status classifies a supplier's answer.
type Status int

// Answers. Only StatusFailed is definite enough to buy elsewhere.
const (
	// StatusUnknown: no definite answer (timeout, 5xx, garbled body, bad
	// signature, an unknown code). The order may or may not exist: query
	// it, never buy again under a new number.
	StatusUnknown Status = iota
	// StatusPending: the supplier has the order and is working on it.
	StatusPending
	// StatusSucceeded: done; Cards is filled for card orders.
	StatusSucceeded
	// StatusFailed: the order definitely failed or was never created;
	// Reason says why.
	StatusFailed
	// StatusNotFound: a query found no order under that number (yet).
	// Final only once it persists past the supplier's grace window.
	StatusNotFound
)

func (s Status) String() string {
	switch s {
	case StatusPending:
		return "pending"
	case StatusSucceeded:
		return "succeeded"
	case StatusFailed:
		return "failed"
	case StatusNotFound:
		return "not_found"
	}
	return "unknown"
}

// Reasons for StatusFailed, also used as order reasons.
const (
	ReasonOutOfStock         = "out_of_stock"
	ReasonInvalidAccount     = "invalid_account"
	ReasonProductUnavailable = "product_unavailable"
	ReasonConfig             = "config_error"    // our side is misconfigured (sign, IP whitelist, product type)
	ReasonRejected           = "rejected"        // a malformed request the supplier refused
	ReasonOverCost           = "over_max_cost"   // the price is above max_cost
	ReasonSupplierFailed     = "supplier_failed" // the supplier accepted, then failed the order
	ReasonBalance            = "balance_too_low" // our account at the supplier needs money
)

// Result is a supplier's answer to Submit or Query.
type Result struct {
	Status Status
	Reason string      // StatusFailed: one of the Reason constants
	Cards  []card.Card // StatusSucceeded, card orders
	// Cost is what the supplier charged for the whole order, when it says.
	Cost money.Amount
	// SupplierOrderID is the supplier's own order number, for operators.
	SupplierOrderID string
	// Detail explains the answer for logs and alerts (a code and message).
	// It never holds a card key or a secret.
	Detail string
}

// Supplier is a source of goods bought over the network.
type Supplier interface {
	// Submit places an order. A definite refusal is StatusFailed; anything
	// that leaves the order's existence in doubt is StatusUnknown.
	Submit(ctx context.Context, o Order) Result
	// Query looks an order up by our number.
	Query(ctx context.Context, no string) Result
}

// Balancer is a supplier that can report our account balance.
type Balancer interface {
	Balance(ctx context.Context) (money.Amount, error)
}

// Notifier is a supplier that calls us back when an order reaches a final
// state. A callback is only a hint: the engine confirms it with Query.
type Notifier interface {
	// ParseNotify checks a callback's signature and returns the order
	// number it is about and the exact body to answer with.
	ParseNotify(header http.Header, body []byte) (no string, reply []byte, err error)
}

// Pacer is a supplier that suggests how soon to ask again about an order
// it is working on (Fulu suggests every 1–3 s). n is the number of queries
// made so far.
type Pacer interface {
	QueryBackoff(n int) time.Duration
}
