package acgfaka

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"

	"cardflow/internal/money"
)

// Answers are JSON at HTTP 200, success or not: a shop shows any other
// status, and any body that is not JSON, as a connection failure.

// envelope is every answer: code 200 with msg "success" and data, or code
// 0 with a message.
type envelope struct {
	Code int    `json:"code"`
	Msg  string `json:"msg"`
	Data any    `json:"data,omitempty"`
}

// EncodeReply returns the success answer carrying data. A trade's answer
// is kept as these bytes: a repeated request_no gets them again, byte for
// byte.
func EncodeReply(data any) ([]byte, error) {
	return encode(envelope{Code: 200, Msg: "success", Data: data})
}

// EncodeError returns the refusal for err: its message when err is an
// *Error, ErrInternal's otherwise (the detail is the caller's to log).
func EncodeError(err error) []byte {
	var e *Error
	if !errors.As(err, &e) {
		e = ErrInternal
	}
	b, _ := encode(envelope{Code: 0, Msg: e.Msg}) // a string always encodes
	return b
}

func encode(v envelope) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // keys with '&' or '<' stay readable in the shop's order
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// Write sends an encoded answer with status 200.
func Write(w http.ResponseWriter, body []byte) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// WriteReply sends the success answer carrying data.
func WriteReply(w http.ResponseWriter, data any) {
	b, err := EncodeReply(data)
	if err != nil {
		b = EncodeError(err)
	}
	Write(w, b)
}

// WriteError sends the refusal for err (see EncodeError).
func WriteError(w http.ResponseWriter, err error) {
	Write(w, EncodeError(err))
}

// writeInternal answers ErrInternal, a handler's panic among others.
func writeInternal(w http.ResponseWriter) { WriteError(w, ErrInternal) }

// Unlimited is the stock reported for what has no count: a shop refuses
// to sell when stock is 0 or below the quantity.
const Unlimited = 999999

// Yuan is an amount written as a JSON number with two decimals (9.50),
// where shops read a number.
type Yuan money.Amount

// MarshalJSON writes the amount as a number.
func (y Yuan) MarshalJSON() ([]byte, error) { return []byte(money.Amount(y).String()), nil }

// ConnectReply answers connect: the name the shop lists its upstream under
// and the caller's balance.
type ConnectReply struct {
	ShopName string `json:"shopName"` // 1–128 characters
	Balance  Yuan   `json:"balance"`
}

// NewConnectReply builds a connect answer. A balance below zero (a shop
// buying on credit) is reported as 0: acg-faka refuses to save an
// upstream whose balance is negative.
func NewConnectReply(shopName string, balance money.Amount) ConnectReply {
	return ConnectReply{ShopName: shopName, Balance: Yuan(max(balance, 0))}
}

// StockReply answers stock, the count as a string.
type StockReply struct {
	Stock int `json:"stock,string"`
}

// ValuationReply answers valuation: the total for the quantity at the
// caller's price, as a string.
type ValuationReply struct {
	Price money.Amount `json:"price"`
}

// TradeReply answers a trade. The shop keeps only Secret, as the buyer's
// delivery, and never asks again.
type TradeReply struct {
	URL          string       `json:"url"`
	Amount       money.Amount `json:"amount"`  // what the shop was charged, as a string
	TradeNo      string       `json:"tradeNo"` // cardflow's order id
	Secret       string       `json:"secret"`  // the card keys, one per line
	LeaveMessage *string      `json:"leave_message"`
	Stock        int          `json:"stock,string"` // left after this order
}

// InventoryReply answers inventory.
type InventoryReply struct {
	Count        int    `json:"count"`
	DeliveryWay  int    `json:"delivery_way"` // 0: automatic
	DraftStatus  int    `json:"draft_status"`
	Price        Yuan   `json:"price"`
	UserPrice    Yuan   `json:"user_price"`
	Config       string `json:"config"`
	FactoryPrice Yuan   `json:"factory_price"`
	IsCategory   bool   `json:"is_category"` // whether Config lists races
}

// InventoryStateReply is the data of a successful inventoryState answer:
// an empty array.
var InventoryStateReply = []struct{}{}

// QueryReply answers query, which no acg-faka client calls today.
type QueryReply struct {
	Secret string                 `json:"secret"`
	Widget map[string]QueryWidget `json:"widget"` // the buyer's inputs by widget name; null when none
	Status int                    `json:"status"` // acg-faka's order status: 1 paid
}

// QueryWidget is one input of the buyer, as acg-faka keeps it on an order.
type QueryWidget struct {
	Value string `json:"value"`
	Label string `json:"cn"`
}
