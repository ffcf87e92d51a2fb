package acgshop

import "encoding/json"

// What the shop reads from answers, decoded independently of cardflow's
// answer types. Amounts and counts keep the JSON text they came as, so a
// test sees whether a string or a number was sent.

// Connect is the connect answer.
type Connect struct {
	ShopName string      `json:"shopName"`
	Balance  json.Number `json:"balance"`
}

// Group is a node of the items tree.
type Group struct {
	ID       json.Number `json:"id"`
	Name     string      `json:"name"`
	Children []Item      `json:"children"`
}

// Item is an item as the shop imports it; Raw holds every key as sent.
type Item struct {
	ID           json.Number                `json:"id"`
	Code         string                     `json:"code"`
	Name         string                     `json:"name"`
	Price        json.Number                `json:"price"`
	UserPrice    json.Number                `json:"user_price"`
	FactoryPrice json.Number                `json:"factory_price"`
	Stock        json.Number                `json:"stock"`
	Widget       string                     `json:"widget"`
	Config       string                     `json:"config"`
	Raw          map[string]json.RawMessage `json:"-"`
}

// UnmarshalJSON keeps the raw keys beside the decoded fields.
func (it *Item) UnmarshalJSON(b []byte) error {
	type plain Item
	if err := json.Unmarshal(b, (*plain)(it)); err != nil {
		return err
	}
	return json.Unmarshal(b, &it.Raw)
}

// Trade is the trade answer; the shop keeps only Secret.
type Trade struct {
	URL          string          `json:"url"`
	Amount       json.RawMessage `json:"amount"`
	TradeNo      string          `json:"tradeNo"`
	Secret       string          `json:"secret"`
	LeaveMessage *string         `json:"leave_message"`
	Stock        json.RawMessage `json:"stock"`
}
