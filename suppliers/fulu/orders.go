package fulu

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"cardflow/internal/money"
	"cardflow/suppliers"
)

// Order states in Fulu's order object.
const (
	StateUntreated  = "untreated"
	StateProcessing = "processing"
	StateSuccess    = "success"
	StateFailed     = "failed"
)

// Order types in Fulu's order object.
const (
	OrderTypeCard   = 3
	OrderTypeDirect = 4
)

// maxOrderNo is Fulu's limit on customer_order_no.
const maxOrderNo = 50

// directAdd is fulu.order.direct.add's biz_content, fields in the order of
// Fulu's docs. Optional fields are sent only when the order has them.
type directAdd struct {
	ProductID     int64       `json:"product_id"`
	CustomerNo    string      `json:"customer_order_no"`
	ChargeAccount string      `json:"charge_account"`
	BuyNum        int         `json:"buy_num"`
	GameName      string      `json:"charge_game_name,omitempty"`   // Extra["game"]
	GameRegion    string      `json:"charge_game_region,omitempty"` // Extra["region"]
	GameServer    string      `json:"charge_game_srv,omitempty"`    // Extra["server"]
	ChargeType    string      `json:"charge_type,omitempty"`
	ChargePwd     string      `json:"charge_password,omitempty"`
	ChargeIP      string      `json:"charge_ip,omitempty"`
	ContactQQ     string      `json:"contact_qq,omitempty"`
	ContactTel    string      `json:"contact_tel,omitempty"`
	CustomerPrice json.Number `json:"customer_price,omitempty"`
}

// cardAdd is fulu.order.card.add's biz_content.
type cardAdd struct {
	ProductID     int64       `json:"product_id"`
	BuyNum        int         `json:"buy_num"`
	CustomerNo    string      `json:"customer_order_no"`
	CustomerPrice json.Number `json:"customer_price,omitempty"`
}

// order is Fulu's order object, as much of it as we read.
type order struct {
	OrderID    string            `json:"order_id"`
	CustomerNo string            `json:"customer_order_no"`
	BuyNum     number            `json:"buy_num"`
	OrderType  number            `json:"order_type"`
	OrderPrice number            `json:"order_price"`
	OrderState string            `json:"order_state"`
	Cards      []json.RawMessage `json:"cards"`
}

// number is the text of a JSON number that Fulu may also send as a string,
// empty or null; it is checked where it is used.
type number string

func (n *number) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*n = number(strings.TrimSpace(s))
		return nil
	}
	if string(b) != "null" {
		*n = number(b)
	}
	return nil
}

func (n number) int() (int64, bool) {
	v, err := strconv.ParseInt(string(n), 10, 64)
	return v, err == nil
}

// Submit places a card or direct order under o.No. Fulu dedupes on
// customer_order_no, so submitting the same number again is safe: it
// answers 4010 and the order is polled.
func (c *Client) Submit(ctx context.Context, o suppliers.Order) suppliers.Result {
	method, biz, res, ok := c.addRequest(o)
	if !ok {
		return res
	}
	a, err := c.call(ctx, method, biz)
	if err != nil {
		return c.unknown(err)
	}
	st, reason := classifyAdd(a.Code, a.Message)
	res = suppliers.Result{Status: st, Reason: reason, Detail: c.detail(method, a.Code, a.Message)}
	if a.Code != CodeOK {
		return res
	}
	ord, err := decodeOrder(a.Result)
	if err != nil {
		return c.unknown(&callError{method: method, what: "result", err: err})
	}
	if ord.CustomerNo != "" && ord.CustomerNo != o.No {
		return c.unknown(&callError{method: method, what: fmt.Sprintf("answer is about another order (%q)", ord.CustomerNo)})
	}
	res.SupplierOrderID = ord.OrderID
	if ord.OrderPrice != "" {
		if res.Cost, err = parseYuan(string(ord.OrderPrice)); err != nil {
			res.Cost = 0 // informational on add; Query reports it again
		}
	}
	return res
}

// addRequest checks the order and builds its method and biz_content. An
// order we cannot send is a definite failure: nothing reached Fulu.
func (c *Client) addRequest(o suppliers.Order) (string, any, suppliers.Result, bool) {
	fail := func(reason, why string) (string, any, suppliers.Result, bool) {
		return "", nil, suppliers.Result{Status: suppliers.StatusFailed, Reason: reason, Detail: "fulu: not sent: " + why}, false
	}
	if !allDigits(o.Item) || len(o.Item) > 18 {
		return fail(suppliers.ReasonConfig, fmt.Sprintf("item %q is not a decimal Fulu product_id", o.Item))
	}
	productID, err := strconv.ParseInt(o.Item, 10, 64)
	if err != nil || productID <= 0 {
		return fail(suppliers.ReasonConfig, fmt.Sprintf("item %q is not a positive Fulu product_id", o.Item))
	}
	if o.No == "" || len(o.No) > maxOrderNo {
		return fail(suppliers.ReasonRejected, fmt.Sprintf("customer_order_no must be 1 to %d characters", maxOrderNo))
	}
	if o.Quantity < 1 {
		return fail(suppliers.ReasonRejected, fmt.Sprintf("quantity %d is not positive", o.Quantity))
	}
	if o.MaxUnitCost < 0 {
		return fail(suppliers.ReasonConfig, "max unit cost is negative")
	}
	var price json.Number
	if o.MaxUnitCost > 0 {
		price = yuanNumber(o.MaxUnitCost)
	}
	switch o.Kind {
	case suppliers.KindCard:
		return MethodCardAdd, cardAdd{ProductID: productID, BuyNum: o.Quantity, CustomerNo: o.No, CustomerPrice: price}, suppliers.Result{}, true
	case suppliers.KindDirect:
		if o.Account == "" {
			return fail(suppliers.ReasonInvalidAccount, "direct order without an account")
		}
		x := o.Extra // unknown keys are ignored
		biz := directAdd{
			ProductID: productID, CustomerNo: o.No, ChargeAccount: o.Account, BuyNum: o.Quantity,
			GameName: x["game"], GameRegion: x["region"], GameServer: x["server"],
			ChargeType: x["charge_type"], ChargePwd: x["charge_password"], ChargeIP: x["charge_ip"],
			ContactQQ: x["contact_qq"], ContactTel: x["contact_tel"], CustomerPrice: price,
		}
		return MethodDirectAdd, biz, suppliers.Result{}, true
	}
	return fail(suppliers.ReasonConfig, fmt.Sprintf("kind %q is neither card nor direct", o.Kind))
}

// Query asks for an order by our number. Only code 0 with a known state or
// 4011 (not found) is definite; anything else, including a definite reject
// of the query itself (bad sign, IP whitelist), says nothing about the order
// and is StatusUnknown with the class in Detail.
func (c *Client) Query(ctx context.Context, no string) suppliers.Result {
	a, err := c.call(ctx, MethodOrderInfo, map[string]string{"customer_order_no": no})
	if err != nil {
		return c.unknown(err)
	}
	detail := c.detail(MethodOrderInfo, a.Code, a.Message)
	switch a.Code {
	case CodeOK:
	case CodeOrderNotFound:
		return suppliers.Result{Status: suppliers.StatusNotFound, Detail: detail}
	default:
		// Not classifyAdd: a refused query must never read as a failed order.
		return suppliers.Result{Status: suppliers.StatusUnknown, Detail: detail + " (" + codeClass(a.Code) + ")"}
	}
	ord, err := decodeOrder(a.Result)
	if err != nil {
		return c.unknown(&callError{method: MethodOrderInfo, what: "result", err: err})
	}
	if ord.CustomerNo != no {
		return c.unknown(&callError{method: MethodOrderInfo, what: fmt.Sprintf("answer is about another order (%q)", ord.CustomerNo)})
	}
	res := suppliers.Result{SupplierOrderID: ord.OrderID, Detail: detail + ": order_state " + ord.OrderState}
	if ord.OrderPrice != "" {
		if res.Cost, err = parseYuan(string(ord.OrderPrice)); err != nil || res.Cost < 0 {
			return c.unknown(&callError{method: MethodOrderInfo, what: fmt.Sprintf("order_price %q", string(ord.OrderPrice))})
		}
	}
	switch ord.OrderState {
	case StateUntreated, StateProcessing:
		res.Status = suppliers.StatusPending
	case StateFailed:
		res.Status, res.Reason = suppliers.StatusFailed, suppliers.ReasonSupplierFailed
	case StateSuccess:
		return c.succeeded(res, ord)
	default:
		res.Status = suppliers.StatusUnknown
		res.Detail = detail + fmt.Sprintf(": unknown order_state %q", ord.OrderState)
	}
	return res
}

// succeeded fills the cards of a successful order: all of them or none.
func (c *Client) succeeded(res suppliers.Result, ord order) suppliers.Result {
	typ, _ := ord.OrderType.int()
	if typ == OrderTypeDirect || (typ != OrderTypeCard && len(ord.Cards) == 0) {
		res.Status = suppliers.StatusSucceeded // a top-up: nothing to deliver
		return res
	}
	cards, err := c.cards.decodeCards(ord.Cards)
	if err != nil {
		res.Status = suppliers.StatusUnknown
		res.Detail += ": cards could not be read, none delivered: " + err.Error()
		return res
	}
	if n, ok := ord.BuyNum.int(); len(cards) == 0 || (ok && n > 0 && int64(len(cards)) != n) {
		res.Status = suppliers.StatusUnknown
		res.Detail += fmt.Sprintf(": success with %d cards for buy_num %s, none delivered", len(cards), ord.BuyNum)
		return res
	}
	res.Status, res.Cards = suppliers.StatusSucceeded, cards
	return res
}

// Balance returns our prepaid balance at Fulu.
func (c *Client) Balance(ctx context.Context) (money.Amount, error) {
	a, err := c.call(ctx, MethodUserInfo, struct{}{})
	if err != nil {
		return 0, fmt.Errorf("fulu balance: %w", c.redactErr(err))
	}
	if a.Code != CodeOK {
		return 0, fmt.Errorf("fulu balance: %s", c.detail(MethodUserInfo, a.Code, a.Message))
	}
	var info struct {
		Balance number `json:"balance"`
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(a.Result)))
	dec.UseNumber()
	if err := dec.Decode(&info); err != nil || info.Balance == "" {
		return 0, errors.New("fulu balance: result has no balance number")
	}
	bal, err := parseYuan(string(info.Balance))
	if err != nil {
		return 0, fmt.Errorf("fulu balance: %w", err)
	}
	return bal, nil
}

func decodeOrder(result string) (order, error) {
	var o order
	dec := json.NewDecoder(bytes.NewReader([]byte(result)))
	dec.UseNumber()
	if err := dec.Decode(&o); err != nil {
		return order{}, errors.New("result is not an order object")
	}
	return o, nil
}

// unknown is the answer to a call that got no trustworthy reply.
func (c *Client) unknown(err error) suppliers.Result {
	return suppliers.Result{Status: suppliers.StatusUnknown, Detail: c.redact(err.Error())}
}

// detail is "method: code N: message", redacted and bounded.
func (c *Client) detail(method string, code int, message string) string {
	const maxMessage = 200
	if utf8.RuneCountInString(message) > maxMessage {
		message = string([]rune(message)[:maxMessage]) + "…"
	}
	return c.redact(fmt.Sprintf("%s: code %d: %s", method, code, message))
}
