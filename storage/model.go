package storage

import (
	"encoding/base64"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"cardflow/alert"
	"cardflow/internal/money"
)

// Status is an order's lifecycle state (docs/lifecycle.md).
type Status string

// The order states. Their strings are part of every API.
const (
	StatusPending    Status = "pending"
	StatusReview     Status = "review"
	StatusProcessing Status = "processing"
	StatusDelivered  Status = "delivered"
	StatusFailed     Status = "failed"
	StatusRefunded   Status = "refunded"
)

// Terminal reports whether nothing happens to the order without a person.
func (s Status) Terminal() bool { return s == StatusDelivered || s == StatusRefunded }

// open statuses are kept in the open-order index, the engine's work list.
func (s Status) open() bool { return !s.Terminal() }

// code is the one-byte prefix of the open-order index.
func (s Status) code() byte {
	switch s {
	case StatusPending:
		return 'p'
	case StatusReview:
		return 'r'
	case StatusProcessing:
		return 'x'
	case StatusFailed:
		return 'f'
	}
	return 0
}

// Buyer is who paid, as the storefront tells it.
type Buyer struct {
	ID      string `json:"id,omitempty"`
	Contact string `json:"contact,omitempty"`
	IP      string `json:"ip,omitempty"`
}

// Actor is who caused a transition: "system", an operator, or a storefront.
type Actor struct {
	Name     string `json:"name"`
	Platform string `json:"platform,omitempty"` // telegram | qq | console | admin-api | system
}

// System is the actor of automatic transitions.
var System = Actor{Name: "system", Platform: "system"}

// String is how an actor appears in reasons and chat: "alice" or "alice@telegram".
func (a Actor) String() string { return a.Name }

// Transition is one entry of an order's history.
type Transition struct {
	At     time.Time `json:"at"`
	From   Status    `json:"from,omitempty"`
	To     Status    `json:"to"`
	Reason string    `json:"reason,omitempty"`
	Actor  Actor     `json:"actor"`
}

// Order is the durable record of one storefront order.
type Order struct {
	ID         uint64       `json:"id"`
	ExternalID string       `json:"external_id"`
	Storefront string       `json:"storefront"`
	SKU        string       `json:"sku"`
	Kind       string       `json:"kind"`
	Quantity   int          `json:"quantity"`
	Amount     money.Amount `json:"amount"`
	// Charged is what the order took from its docking shop's balance, given
	// back when it is refunded.
	Charged     money.Amount      `json:"charged,omitempty"`
	Buyer       Buyer             `json:"buyer"`
	Account     string            `json:"account,omitempty"`
	Extra       map[string]string `json:"extra,omitempty"`
	RequestHash []byte            `json:"request_hash"` // identifies the storefront's body for idempotency

	Status      Status    `json:"status"`
	Reason      string    `json:"reason,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	DeliveredAt time.Time `json:"delivered_at,omitzero"`
	// WaitUntil is when an order waiting for stock gives up (failed).
	WaitUntil time.Time `json:"wait_until,omitzero"`
	// DelayCauses are the causes the storefront was told of by an
	// order.delayed callback since the order was last delivered, failed or
	// refunded: each is told once, however often the order is looked at.
	DelayCauses []string `json:"delay_causes,omitempty"`

	// Cards are the delivered card keys, sealed. Replaced holds earlier sets
	// taken back by a reissue; their fingerprints stay delivered forever.
	Cards    []SealedCard   `json:"cards,omitempty"`
	Replaced [][]SealedCard `json:"replaced,omitempty"`

	History []Transition `json:"history"`

	// Features are the buyer-history values the rules saw at intake, kept so
	// that "/rules test" can replay the last days' orders.
	Features *Features `json:"features,omitempty"`

	// Attempts are the purchases from suppliers made for this order, in
	// the order they were made. Each is written before its request is sent.
	Attempts []Attempt `json:"attempts,omitempty"`

	// Owner is the process that works on the order (pending, processing)
	// when several share a PostgreSQL store (the cluster member's id);
	// "" on a bbolt file, whose one process works on every order.
	Owner string `json:"-"`

	stored Status // status as last read from the store, for index upkeep
}

// AttemptState is where a supplier purchase stands.
type AttemptState string

// Attempt states. Sending, pending and unknown are in flight: the engine
// queries them until they end. Only failed and lost (proven never created)
// let the order buy that batch elsewhere.
const (
	AttemptSending   AttemptState = "sending"   // stored, request about to go out (or its answer lost in a crash)
	AttemptPending   AttemptState = "pending"   // the supplier has it and is working on it
	AttemptUnknown   AttemptState = "unknown"   // no definite answer yet: query, never buy again
	AttemptSucceeded AttemptState = "succeeded" // goods received (cards sealed in Cards)
	AttemptFailed    AttemptState = "failed"    // definite failure; Reason says why
	AttemptLost      AttemptState = "lost"      // not found past the supplier's grace: never created
	AttemptBad       AttemptState = "bad"       // succeeded with a card already known: never delivered
	// AttemptVerifying holds goods from a supplier under second
	// verification until a second query confirms the same cards.
	AttemptVerifying AttemptState = "verifying"
)

// InFlight reports whether the attempt still waits for an answer.
func (s AttemptState) InFlight() bool {
	return s == AttemptSending || s == AttemptPending || s == AttemptUnknown || s == AttemptVerifying
}

// Attempt is one purchase from a supplier for one batch of an order.
type Attempt struct {
	No         string       `json:"no"` // our idempotency key at the supplier (customer_order_no)
	Supplier   string       `json:"supplier"`
	Item       string       `json:"item"`
	Batch      int          `json:"batch"`    // which batch of the order
	Quantity   int          `json:"quantity"` // product units this batch covers
	Units      int          `json:"units"`    // supplier units bought
	State      AttemptState `json:"state"`
	Reason     string       `json:"reason,omitempty"`
	Detail     string       `json:"detail,omitempty"` // the supplier's last code and message
	SentAt     time.Time    `json:"sent_at"`
	NextAt     time.Time    `json:"next_at,omitzero"` // next query
	Queries    int          `json:"queries,omitempty"`
	Resubmits  int          `json:"resubmits,omitempty"`
	Cost       money.Amount `json:"cost,omitempty"`
	SupplierID string       `json:"supplier_id,omitempty"` // the supplier's own order number
	Cards      []SealedCard `json:"cards,omitempty"`
	EndedAt    time.Time    `json:"ended_at,omitzero"`
	// Archived attempts no longer count for routing: an operator's retry
	// archives the failures, a reissue archives the delivered purchases.
	Archived bool `json:"archived,omitempty"`
}

// CardSet is the number of the current card set: 0 before any delivery, 1
// after the first, 2 after a reissue. Callbacks name the set they carry.
func (o *Order) CardSet() int {
	if len(o.Cards) == 0 {
		return len(o.Replaced)
	}
	return len(o.Replaced) + 1
}

// SetOf returns the sealed cards of card set n (see CardSet).
func (o *Order) SetOf(n int) []SealedCard {
	switch {
	case n <= 0:
		return nil
	case n <= len(o.Replaced):
		return o.Replaced[n-1]
	default:
		return o.Cards
	}
}

// Move changes the status and records the transition. It does not check that
// the move is allowed; the engine does.
func (o *Order) Move(to Status, reason string, actor Actor, at time.Time) {
	o.History = append(o.History, Transition{At: at, From: o.Status, To: to, Reason: reason, Actor: actor})
	o.Status, o.Reason, o.UpdatedAt = to, reason, at
}

// Last returns the latest transition into status s, if any.
func (o *Order) Last(s Status) (Transition, bool) {
	for i := len(o.History) - 1; i >= 0; i-- {
		if o.History[i].To == s {
			return o.History[i], true
		}
	}
	return Transition{}, false
}

// MarshalZerologObject logs an order without buyer data or card keys.
func (o *Order) MarshalZerologObject(e *zerolog.Event) {
	e.Uint64("order_id", o.ID).Str("storefront", o.Storefront).Str("sku", o.SKU).
		Int("quantity", o.Quantity).Str("status", string(o.Status)).Str("reason", o.Reason)
}

// MarshalText encodes a fingerprint compactly in records.
func (f Fingerprint) MarshalText() ([]byte, error) {
	return []byte(base64.RawStdEncoding.EncodeToString(f[:])), nil
}

// UnmarshalText decodes MarshalText's form.
func (f *Fingerprint) UnmarshalText(b []byte) error {
	n, err := base64.RawStdEncoding.Decode(f[:], b)
	if err != nil || n != len(f) {
		return fmt.Errorf("decode fingerprint: bad length or encoding")
	}
	return nil
}

// AuditEntry is one operator action in the append-only audit log.
type AuditEntry struct {
	Seq     uint64    `json:"seq"`
	At      time.Time `json:"at"`
	Actor   Actor     `json:"actor"`
	Action  string    `json:"action"`           // approve, refund, stock.import, ...
	Target  string    `json:"target,omitempty"` // order id, sku, supplier
	Outcome string    `json:"outcome"`          // ok, refused, noop, error
	Detail  string    `json:"detail,omitempty"` // never a secret
}

// Event is one outbox entry: a side effect that must reach its receiver at
// least once. Callbacks carry a snapshot of the fields that changed, so a
// retried "delayed" callback never shows a later state.
type Event struct {
	Seq       uint64    `json:"seq"`
	ID        string    `json:"event_id"`
	Kind      string    `json:"kind"` // callback
	Type      string    `json:"type"` // order.delivered, order.delayed, ...
	OrderID   uint64    `json:"order_id,omitempty"`
	Target    string    `json:"target,omitempty"` // callbacks: the storefront id
	CreatedAt time.Time `json:"created_at"`

	Status      Status    `json:"status,omitempty"`
	Reason      string    `json:"reason,omitempty"`
	UpdatedAt   time.Time `json:"updated_at,omitzero"`
	DeliveredAt time.Time `json:"delivered_at,omitzero"`
	CardSet     int       `json:"card_set,omitempty"`
	// ClaimID is the after-sale claim a claim.resolved callback is about.
	ClaimID uint64 `json:"claim_id,omitempty"`

	Alert *Alert `json:"alert,omitempty"`

	Attempts  int       `json:"attempts"`
	NextAt    time.Time `json:"next_at"`
	LastError string    `json:"last_error,omitempty"`
	Alerted   bool      `json:"alerted,omitempty"`

	// Owner is the process that carries the event out when several share a
	// PostgreSQL store; "" on a bbolt file (see Order.Owner).
	Owner string `json:"owner,omitempty"`

	// Written is, in memory only, the record of the event's order as the
	// write that stored the event left it: the first attempt to deliver the
	// event reads the order from it rather than from the store. Nil once
	// the event was tried, and for an event read back from the store.
	Written OrderRecord `json:"-"`
}

// Alert is what an operator should hear about. The operator layer renders it
// in the operators' language; Key deduplicates one problem across repeats.
type Alert struct {
	Key      string     `json:"key"`                // e.g. out_of_stock:qb-100
	Type     alert.Kind `json:"type"`               // out_of_stock, order_failed, callback_failing, ...
	Resolved bool       `json:"resolved,omitempty"` // closes the problem named by Key
	OrderID  uint64     `json:"order_id,omitempty"`
	SKU      string     `json:"sku,omitempty"`
	Target   string     `json:"target,omitempty"` // storefront or supplier name
	Count    int        `json:"count,omitempty"`
	Detail   string     `json:"detail,omitempty"` // never a secret
	// Claim is what an after-sale claim's prompt shows (type claim).
	Claim *ClaimPrompt `json:"claim,omitempty"`
}

// ClaimPrompt is an after-sale claim as its operator prompt shows it: what
// an operator needs to decide without opening the order. Message is the
// buyer's text, shown inert; no card key is in it.
type ClaimPrompt struct {
	ID       uint64   `json:"id"`
	Reason   string   `json:"reason"`
	Quantity int      `json:"quantity"`
	Cards    int      `json:"cards"`             // how many cards the buyer named
	Message  string   `json:"message,omitempty"` // the buyer's words
	Sources  []string `json:"sources,omitempty"` // the supplier of each named card (of every card when none is)
	History  int      `json:"history"`           // the buyer's earlier claims
}
