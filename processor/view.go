package processor

import (
	"strconv"
	"time"

	"cardflow/storage"
)

// OrderView is the ORDER object of the storefront API and callbacks
// (docs/api.md). Cards are only filled when delivered.
type OrderView struct {
	ID          string     `json:"id"`
	ExternalID  string     `json:"external_id"`
	Storefront  string     `json:"storefront"`
	SKU         string     `json:"sku"`
	Quantity    int        `json:"quantity"`
	Amount      string     `json:"amount"`
	Status      string     `json:"status"`
	Reason      string     `json:"reason"`
	CreatedAt   string     `json:"created_at"`
	UpdatedAt   string     `json:"updated_at"`
	DeliveredAt *string    `json:"delivered_at"`
	Cards       []CardView `json:"cards"`
}

// CardView is one delivered card key as the storefront sees it.
type CardView struct {
	Number    string `json:"number"`
	Password  string `json:"password"`
	ExpiresAt string `json:"expires_at"`
}

// snapshot is the part of an order that changes over its life; a callback
// carries the snapshot of its moment.
type snapshot struct {
	status      storage.Status
	reason      string
	updatedAt   time.Time
	deliveredAt time.Time
	cardSet     int
}

func current(o *storage.Order) snapshot {
	return snapshot{status: o.Status, reason: o.Reason, updatedAt: o.UpdatedAt, deliveredAt: o.DeliveredAt, cardSet: o.CardSet()}
}

func (e *Engine) view(o *storage.Order, s snapshot) (OrderView, error) {
	v := OrderView{
		ID: strconv.FormatUint(o.ID, 10), ExternalID: o.ExternalID, Storefront: o.Storefront, SKU: o.SKU,
		Quantity: o.Quantity, Amount: o.Amount.String(), Status: string(s.status), Reason: s.reason,
		CreatedAt: stamp(o.CreatedAt), UpdatedAt: stamp(s.updatedAt), Cards: []CardView{},
	}
	if !s.deliveredAt.IsZero() {
		d := stamp(s.deliveredAt)
		v.DeliveredAt = &d
	}
	if s.deliveredAt.IsZero() {
		return v, nil // not delivered (yet, or no more once a reissue began)
	}
	cards, err := e.store.Vault().OpenAll(o.SetOf(s.cardSet))
	if err != nil {
		return v, err
	}
	for _, c := range cards {
		v.Cards = append(v.Cards, CardView{Number: c.Number, Password: c.Password, ExpiresAt: c.ExpiresAt})
	}
	return v, nil
}

// View renders an order's current state for the storefront API.
func (e *Engine) View(o *storage.Order) (OrderView, error) { return e.view(o, current(o)) }

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }
