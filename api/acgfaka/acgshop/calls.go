package acgshop

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"cardflow/api/acgfaka"
)

// Connect is what saving the upstream in the shop's admin calls.
func (c *Client) Connect(ctx context.Context) (Connect, error) {
	var out Connect
	data, err := c.Call(ctx, acgfaka.PathConnect, nil)
	if err == nil {
		err = decode(data, &out, "connect")
	}
	return out, err
}

// Items lists what the upstream offers, as the shop's import picker does.
func (c *Client) Items(ctx context.Context) ([]Group, error) {
	var out []Group
	data, err := c.Call(ctx, acgfaka.PathItems, nil)
	if err == nil {
		err = decode(data, &out, "items")
	}
	return out, err
}

// Item fetches one item by code, as an import does.
func (c *Client) Item(ctx context.Context, code string) (Item, error) {
	var out Item
	data, err := c.Call(ctx, acgfaka.PathItem, []acgfaka.Field{{Name: "code", Value: code}})
	if err == nil {
		err = decode(data, &out, "item")
	}
	return out, err
}

// syncColumns are the keys acg-faka's 同步 copies into NOT NULL columns;
// the two seckill times may be null.
var syncColumns = []string{
	"contact_type", "password_status", "seckill_status", "seckill_start_time", "seckill_end_time",
	"draft_status", "draft_premium", "inventory_hidden", "only_user", "purchase_count", "minimum",
	"maximum", "widget", "config", "description", "cover", "price", "user_price", "stock",
}

// Sync fetches an item and fails as acg-faka's 同步 does when a column it
// copies is missing or null.
func (c *Client) Sync(ctx context.Context, code string) (Item, error) {
	it, err := c.Item(ctx, code)
	if err != nil {
		return it, err
	}
	for _, k := range syncColumns {
		v, ok := it.Raw[k]
		if nullable := k == "seckill_start_time" || k == "seckill_end_time"; !ok || !nullable && string(v) == "null" {
			return it, &Error{Msg: fmt.Sprintf("Column '%s' cannot be null", k)}
		}
	}
	return it, nil
}

// Stock asks how many units can be sold, as the shop does before every
// order; the count comes back as the text sent ("0" when absent).
func (c *Client) Stock(ctx context.Context, code, race string, sku []acgfaka.Field) (string, error) {
	fields := append([]acgfaka.Field{{Name: "code", Value: code}, {Name: "race", Value: race}}, skuFields(sku)...)
	data, err := c.Call(ctx, acgfaka.PathStock, fields)
	if err != nil {
		return "", err
	}
	var out struct {
		Stock json.RawMessage `json:"stock"`
	}
	if err := decode(data, &out, "stock"); err != nil {
		return "", err
	}
	if s := text(out.Stock); s != "" {
		return s, nil
	}
	return "0", nil
}

// Valuation asks what num units cost the shop. acg-faka falls back to its
// own cost on any failure; this client returns the failure.
func (c *Client) Valuation(ctx context.Context, code string, num int, race string, sku []acgfaka.Field) (string, error) {
	fields := []acgfaka.Field{{Name: "code", Value: code}, {Name: "num", Value: strconv.Itoa(num)}, {Name: "race", Value: race}}
	fields = append(fields, skuFields(sku)...)
	fields = append(fields, acgfaka.Field{Name: "card_id", Value: "0"})
	data, err := c.Call(ctx, acgfaka.PathValuation, fields)
	if err != nil {
		return "", err
	}
	var out struct {
		Price json.RawMessage `json:"price"`
	}
	if err := decode(data, &out, "valuation"); err != nil {
		return "", err
	}
	return text(out.Price), nil
}

// Order is a trade as the shop sends it once its buyer has paid.
type Order struct {
	Code      string // the item's code (shared_code)
	Contact   string
	Num       int
	Device    int
	Password  string
	Race      string
	RequestNo string          // the shop's own order number
	SKU       []acgfaka.Field // group → option, sent as sku[group]=option
	Widgets   []acgfaka.Field // the buyer's inputs by widget name
	// Plugin sends the trade as mcy-shop's V3 plugin does: only
	// shared_code, num, race, request_no and the widgets.
	Plugin bool
}

// Trade places an order; the shop keeps the answer's Secret as the
// buyer's delivery.
func (c *Client) Trade(ctx context.Context, o Order) (Trade, error) {
	var fields []acgfaka.Field
	add := func(name, value string) { fields = append(fields, acgfaka.Field{Name: name, Value: value}) }
	if o.Plugin {
		add("shared_code", o.Code)
		add("num", strconv.Itoa(o.Num))
		add("race", o.Race)
		add("request_no", o.RequestNo)
	} else {
		add("shared_code", o.Code)
		add("contact", o.Contact)
		add("num", strconv.Itoa(o.Num))
		add("card_id", "0")
		add("device", strconv.Itoa(o.Device))
		add("password", o.Password)
		add("race", o.Race)
		add("request_no", o.RequestNo)
		fields = append(fields, skuFields(o.SKU)...)
	}
	fields = append(fields, o.Widgets...)
	var out Trade
	data, err := c.Call(ctx, acgfaka.PathTrade, fields)
	if err == nil {
		err = decode(data, &out, "trade")
	}
	return out, err
}

func skuFields(sku []acgfaka.Field) []acgfaka.Field {
	out := make([]acgfaka.Field, len(sku))
	for i, f := range sku {
		out[i] = acgfaka.Field{Name: "sku[" + f.Name + "]", Value: f.Value}
	}
	return out
}
