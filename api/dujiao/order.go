package dujiao

import (
	"encoding/json"
	"errors"
	"strings"

	"cardflow/api/docking"
	"cardflow/internal/money"
)

// Order statuses cardflow answers with. A shop keeps polling on paid and
// fulfilling, delivers on delivered, rolls its order back on canceled, and
// records refunded and partially_refunded.
const (
	StatusPaid              = "paid"
	StatusFulfilling        = "fulfilling"
	StatusDelivered         = "delivered"
	StatusCanceled          = "canceled"
	StatusRefunded          = "refunded"
	StatusPartiallyRefunded = "partially_refunded"
)

// isDelivered says whether a shop takes status as delivered: it then needs
// fulfillment with the keys, or loses them for good.
func isDelivered(status string) bool {
	switch status {
	case StatusDelivered, "completed", "fulfilled":
		return true
	}
	return false
}

// errNoKeys refuses to write a delivered status without its keys.
var errNoKeys = errors.New("dujiao: a delivered order must carry its fulfillment with the keys")

// Accepted is the answer to POST /orders, for a new order and for a repeat
// of one (same api key and downstream_order_no). OrderID must not be 0: a
// shop polls GET /orders/{order_id} and does not poll id 0.
type Accepted struct {
	OrderID  uint64       `json:"order_id"`
	OrderNo  string       `json:"order_no"`
	Status   string       `json:"status"`
	Amount   money.Amount `json:"amount"`
	Currency string       `json:"currency"`
}

// Order is the answer to GET /orders/{id}. A delivered order carries
// Fulfillment; MarshalJSON refuses one that does not.
type Order struct {
	OrderID        uint64                 `json:"order_id"`
	OrderNo        string                 `json:"order_no"`
	Status         string                 `json:"status"`
	Amount         money.Amount           `json:"amount"`
	RefundedAmount money.Amount           `json:"refunded_amount"`
	Currency       string                 `json:"currency"`
	Items          Array[Item]            `json:"items"`
	Fulfillment    *Fulfillment           `json:"fulfillment"`
	RefundRecords  Array[json.RawMessage] `json:"refund_records"`
}

// MarshalJSON writes the order, or fails for a delivered one without keys.
func (o Order) MarshalJSON() ([]byte, error) {
	if isDelivered(o.Status) && !o.Fulfillment.hasKeys() {
		return nil, errNoKeys
	}
	type plain Order
	return json.Marshal(plain(o))
}

// Item is the one line of an order: a shop buys one SKU per order.
type Item struct {
	ProductID       uint64       `json:"product_id"`
	SKUID           uint64       `json:"sku_id"`
	Title           Text         `json:"title"`
	Quantity        int          `json:"quantity"`
	UnitPrice       money.Amount `json:"unit_price"`
	TotalPrice      money.Amount `json:"total_price"`
	FulfillmentType string       `json:"fulfillment_type"`
}

// Fulfillment is a delivery: Payload holds the keys (or a top-up's receipt),
// one per line, which the shop shows its buyer as they are.
type Fulfillment struct {
	Type         string `json:"type"`
	Status       string `json:"status"`
	Payload      string `json:"payload"`
	DeliveryData Text   `json:"delivery_data"`
	DeliveredAt  Time   `json:"delivered_at"`
}

// Delivered is the fulfillment of a delivery of lines (card keys or a
// receipt) at a time, of type FulfillAuto or FulfillManual.
func Delivered(kind string, lines []string, at Time) *Fulfillment {
	return &Fulfillment{Type: kind, Status: StatusDelivered, Payload: docking.JoinLines(lines), DeliveredAt: at}
}

func (f *Fulfillment) hasKeys() bool { return f != nil && strings.TrimSpace(f.Payload) != "" }

// Canceled is the answer to POST /orders/{id}/cancel when cardflow cancels.
type Canceled struct {
	OrderID uint64 `json:"order_id"`
	OrderNo string `json:"order_no"`
	Status  string `json:"status"`
}
