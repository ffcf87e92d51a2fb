package dujiao

import (
	"crypto/subtle"
	"encoding/json"
	"strings"
	"time"

	"cardflow/api/docking"
	"cardflow/internal/money"
)

// The generic webhook ("通用 WebHook") is Dujiao-Next's smaller protocol: a
// shop binds its own products to an endpoint and POSTs each paid order there
// with a static Bearer token; the upstream answers at once and delivers by a
// callback carrying the same token. There is no catalogue, no polling and
// no cancel, so the callback is the only way keys reach the shop.

// Webhook header and events.
const (
	HeaderIdempotencyKey = "Idempotency-Key"
	EventOrderCreated    = "order.created"
	EventConnectionTest  = "connection.test"
	// FulfillUpstream is the fulfillment type of a webhook delivery.
	FulfillUpstream = "upstream"
)

// BearerToken reads "Bearer <token>" from an Authorization header.
func BearerToken(authorization string) (string, bool) {
	scheme, token, ok := strings.Cut(authorization, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" || strings.ContainsAny(token, " \t") {
		return "", false
	}
	return token, true
}

// MatchBearer returns the id whose token the Authorization header carries,
// comparing it with every token in constant time, so neither the match nor
// the position of a near miss shows in the time taken.
func MatchBearer(authorization string, tokens map[string][]byte) (string, bool) {
	token, ok := BearerToken(authorization)
	if !ok {
		return "", false
	}
	found := ""
	for id, want := range tokens {
		if subtle.ConstantTimeCompare([]byte(token), want) == 1 {
			found = id
		}
	}
	return found, found != ""
}

// WebhookOrder is a decoded and checked webhook body. For EventConnectionTest
// only Event and Timestamp are set. ProductID, SKUID and SKUCode are the
// shop's own ids, which cardflow maps to its products per shop; Amount is
// the shop's sale total, not what cardflow charges.
type WebhookOrder struct {
	Event       string
	OrderNo     string // the shop's order number: the idempotency key
	TraceID     string
	CallbackURL string
	ProductID   uint64
	SKUID       uint64
	SKUCode     string
	Quantity    int
	Amount      money.Amount
	Currency    string
	Form        map[string]string
	Timestamp   int64
}

type webhookBody struct {
	Event          string                     `json:"event"`
	OrderNo        string                     `json:"order_no"`
	TraceID        string                     `json:"trace_id"`
	CallbackURL    string                     `json:"callback_url"`
	ProductID      json.RawMessage            `json:"product_id"`
	SKUID          json.RawMessage            `json:"sku_id"`
	SKUCode        string                     `json:"sku_code"`
	Quantity       json.RawMessage            `json:"quantity"`
	Amount         string                     `json:"amount"`
	Currency       string                     `json:"currency"`
	ManualFormData map[string]json.RawMessage `json:"manual_form_data"`
	Timestamp      int64                      `json:"timestamp"`
}

// DecodeWebhook reads a webhook body. idempotencyKey is the header as
// received: a shop sets it to its order number, so one that names another
// order is refused. The checks are those of DecodeCreateOrder, plus a
// product_id above 0, an amount like "19.90" and a known event.
func DecodeWebhook(body []byte, idempotencyKey string, maxQuantity int) (WebhookOrder, error) {
	var b webhookBody
	if err := decodeObject(body, &b); err != nil {
		return WebhookOrder{}, err
	}
	switch b.Event {
	case EventConnectionTest:
		return WebhookOrder{Event: b.Event, Timestamp: b.Timestamp}, nil
	case EventOrderCreated:
	default:
		return WebhookOrder{}, BadRequest("event must be order.created or connection.test")
	}
	o := WebhookOrder{Event: b.Event, TraceID: b.TraceID, SKUCode: b.SKUCode, Currency: b.Currency, Timestamp: b.Timestamp}
	if err := checkText("order_no", b.OrderNo, 1, maxOrderNo); err != nil {
		return WebhookOrder{}, err
	}
	if idempotencyKey != "" && idempotencyKey != b.OrderNo {
		return WebhookOrder{}, BadRequest("the Idempotency-Key header must be the order_no")
	}
	o.OrderNo = b.OrderNo
	for _, f := range []struct {
		name string
		text string
		most int
	}{{"trace_id", b.TraceID, maxTraceID}, {"sku_code", b.SKUCode, 128}, {"currency", b.Currency, 8}} {
		if err := checkText(f.name, f.text, 0, f.most); err != nil {
			return WebhookOrder{}, err
		}
	}
	var err error
	if o.ProductID, err = wholeNumber("product_id", b.ProductID, 1<<53); err != nil {
		return WebhookOrder{}, err
	}
	if o.SKUID, err = wholeNumber("sku_id", b.SKUID, 1<<53); err != nil {
		return WebhookOrder{}, err
	}
	q, err := wholeNumber("quantity", b.Quantity, uint64(maxQuantity))
	if err != nil {
		return WebhookOrder{}, err
	}
	o.Quantity = int(q)
	if b.Amount != "" {
		if o.Amount, err = money.Parse(b.Amount); err != nil {
			return WebhookOrder{}, BadRequest(`amount must be a decimal like "19.90"`)
		}
	}
	if _, err := CallbackOrigin(b.CallbackURL); err != nil {
		return WebhookOrder{}, err
	}
	o.CallbackURL = b.CallbackURL
	if o.Form, err = formData(b.ManualFormData); err != nil {
		return WebhookOrder{}, err
	}
	return o, nil
}

// WebhookAccepted is the answer to an accepted webhook order; the shop keeps
// OrderNo, cardflow's order number, beside its own.
type WebhookAccepted struct {
	OrderNo string `json:"order_no"`
}

// WebhookCallback is the body cardflow POSTs to a webhook order's
// callback_url, with the shop's token as Bearer. OrderNo is the shop's order
// number. Build it with NewWebhookCallback.
type WebhookCallback struct {
	Event       string              `json:"event"`
	OrderNo     string              `json:"order_no"`
	Status      string              `json:"status"`
	Fulfillment *WebhookFulfillment `json:"fulfillment"`
}

// WebhookFulfillment is a webhook delivery: the keys one per line.
type WebhookFulfillment struct {
	Type         string `json:"type"`
	Payload      string `json:"payload"`
	DeliveryData Text   `json:"delivery_data"`
	DeliveredAt  Time   `json:"delivered_at"`
}

// NewWebhookCallback reports a shop's order at a status; a delivered one
// carries lines (the keys or a receipt) delivered at at. A shop accepts
// delivered, canceled, refunded and partially_refunded.
func NewWebhookCallback(orderNo, status string, lines []string, at time.Time) WebhookCallback {
	cb := WebhookCallback{Event: EventFor(status), OrderNo: orderNo, Status: status}
	if isDelivered(status) {
		cb.Fulfillment = &WebhookFulfillment{Type: FulfillUpstream, Payload: docking.JoinLines(lines), DeliveredAt: At(at)}
	}
	return cb
}

// MarshalJSON writes the callback, or fails for a delivered one without
// keys: a shop refuses it, and would never ask again.
func (c WebhookCallback) MarshalJSON() ([]byte, error) {
	if isDelivered(c.Status) && (c.Fulfillment == nil || strings.TrimSpace(c.Fulfillment.Payload) == "") {
		return nil, errNoKeys
	}
	type plain WebhookCallback
	return json.Marshal(plain(c))
}
