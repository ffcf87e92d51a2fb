// Package view is an order as its storefront sees it: the ORDER object of
// the storefront API's answers and of callbacks (docs/api.md), rendered from
// a stored order, with its JSON written by hand.
package view

import (
	"strconv"
	"time"

	"cardflow/storage"
)

// Order is the ORDER object of the storefront API and callbacks
// (docs/api.md). Cards are only filled when delivered.
type Order struct {
	ID          string  `json:"id"`
	ExternalID  string  `json:"external_id"`
	Storefront  string  `json:"storefront"`
	SKU         string  `json:"sku"`
	Quantity    int     `json:"quantity"`
	Amount      string  `json:"amount"`
	Status      string  `json:"status"`
	Reason      string  `json:"reason"`
	CreatedAt   string  `json:"created_at"`
	UpdatedAt   string  `json:"updated_at"`
	DeliveredAt *string `json:"delivered_at"`
	Cards       []Card  `json:"cards"`
	// Claims are the order's after-sale claims in the storefront API's
	// answers ([] when none); callbacks carry none (nil: left out).
	Claims []Claim `json:"claims,omitzero"`
}

// Card is one delivered card key as the storefront sees it.
type Card struct {
	Number    string `json:"number"`
	Password  string `json:"password"`
	ExpiresAt string `json:"expires_at"`
}

// Callback is what a storefront's callback_url receives.
type Callback struct {
	EventID   string `json:"event_id"`
	Type      string `json:"type"`
	CreatedAt string `json:"created_at"`
	Order     Order  `json:"order"`
	// Claim is the claim a claim.resolved callback is about.
	Claim *Claim `json:"claim,omitempty"`
}

// Snapshot is the part of an order that changes over its life; a callback
// carries the snapshot of its moment.
type Snapshot struct {
	Status      storage.Status
	Reason      string
	UpdatedAt   time.Time
	DeliveredAt time.Time
	CardSet     int
}

// Current is the snapshot of an order as it stands.
func Current(o *storage.Order) Snapshot {
	return Snapshot{Status: o.Status, Reason: o.Reason, UpdatedAt: o.UpdatedAt, DeliveredAt: o.DeliveredAt, CardSet: o.CardSet()}
}

// Of renders an order at snapshot s, opening the cards of its card set
// with vault.
func Of(o *storage.Order, s Snapshot, vault *storage.Vault) (Order, error) {
	v := Order{
		ID: strconv.FormatUint(o.ID, 10), ExternalID: o.ExternalID, Storefront: o.Storefront, SKU: o.SKU,
		Quantity: o.Quantity, Amount: o.Amount.String(), Status: string(s.Status), Reason: s.Reason,
		CreatedAt: Stamp(o.CreatedAt), UpdatedAt: Stamp(s.UpdatedAt), Cards: []Card{},
	}
	if !s.DeliveredAt.IsZero() {
		d := Stamp(s.DeliveredAt)
		v.DeliveredAt = &d
	}
	if s.DeliveredAt.IsZero() {
		return v, nil // not delivered (yet, or no more once a reissue began)
	}
	cards, err := vault.OpenAll(o.SetOf(s.CardSet))
	if err != nil {
		return v, err
	}
	for _, c := range cards {
		v.Cards = append(v.Cards, Card{Number: c.Number, Password: c.Password, ExpiresAt: c.ExpiresAt})
	}
	return v, nil
}

// Stamp is how the storefront API writes a time: RFC 3339, in UTC.
func Stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }
