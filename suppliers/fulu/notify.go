package fulu

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// NotifyReply is the literal body Fulu expects from a callback receiver.
var NotifyReply = []byte("success")

// ErrNotify is wrapped by every callback that is rejected.
var ErrNotify = errors.New("fulu notify")

// Notification is a Fulu callback. All its fields are strings. It is a hint
// only: it carries no card keys, and the engine confirms it with Query.
type Notification struct {
	OrderID              string `json:"order_id"`
	ChargeFinishTime     string `json:"charge_finish_time"`
	CustomerOrderNo      string `json:"customer_order_no"`
	OrderStatus          string `json:"order_status"`
	RechargeDescription  string `json:"recharge_description"`
	ProductID            string `json:"product_id"`
	Price                string `json:"price"`
	BuyNum               string `json:"buy_num"`
	OperatorSerialNumber string `json:"operator_serial_number"`
	Sign                 string `json:"sign,omitempty"`
}

// ParseNotify checks a callback's sign (over all its fields but sign, as
// received) and returns the order number it is about and the reply body
// Fulu expects. A bad sign or a garbled body is an error; the HTTP side then
// answers something other than "success" and Fulu retries.
func (c *Client) ParseNotify(_ http.Header, body []byte) (string, []byte, error) {
	fields, err := decodeObject(body)
	if err != nil {
		return "", nil, fmt.Errorf("%w: %w", ErrNotify, err)
	}
	sign, _ := fields["sign"].(string)
	if sign == "" {
		return "", nil, fmt.Errorf("%w: no sign", ErrNotify)
	}
	want, err := SignMap(fields, c.secret)
	if err != nil {
		return "", nil, fmt.Errorf("%w: %w", ErrNotify, err)
	}
	if !SignEqual(sign, want) {
		return "", nil, fmt.Errorf("%w: bad sign", ErrNotify)
	}
	no, _ := fields["customer_order_no"].(string)
	if no == "" {
		return "", nil, fmt.Errorf("%w: no customer_order_no", ErrNotify)
	}
	c.log.Debug().Str("customer_order_no", no).Str("order_status", fmt.Sprint(fields["order_status"])).Msg("fulu_notify")
	return no, NotifyReply, nil
}

// decodeObject reads one JSON object, numbers kept as their text, and
// nothing after it.
func decodeObject(body []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil || m == nil {
		return nil, errors.New("body is not a JSON object")
	}
	if rest := strings.TrimSpace(string(body[dec.InputOffset():])); rest != "" {
		return nil, errors.New("body has data after the JSON object")
	}
	return m, nil
}
