package fulufake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"cardflow/card"
	"cardflow/internal/money"
	"cardflow/suppliers"
	"cardflow/suppliers/fulu"
)

// Codes the fake uses for envelope problems, within the range Fulu gives
// for bad parameters (1000–1003, 1005–1015, 1017, 1018).
const (
	codeNotJSON       = 1000
	codeMissingField  = 1001
	codeBadEnvelope   = 1002
	codeUnknownMethod = 1003
	codeBadBiz        = 1005
)

// request is a checked envelope.
type request struct {
	method string
	biz    map[string]any
}

// order is the gateway's state for one customer_order_no.
type order struct {
	rec   OrderRecord
	name  string
	due   time.Time
	fault struct{ earlyCallback, dupCallback, dupCard bool }
}

func fail(code int, format string, args ...any) reply {
	return reply{code: code, message: fmt.Sprintf(format, args...)}
}

// parseEnvelope checks the nine fields, app_key, timestamp window and sign.
func (g *Gateway) parseEnvelope(body []byte) (request, reply) {
	env, err := decodeObject(body)
	if err != nil {
		return request{}, fail(codeNotJSON, "请求参数不是JSON")
	}
	fields := map[string]string{}
	for _, k := range []string{"app_key", "method", "timestamp", "version", "format", "charset", "sign_type", "biz_content", "sign"} {
		s, ok := env[k].(string)
		if !ok {
			return request{}, fail(codeMissingField, "缺少参数或类型错误: %s", k)
		}
		fields[k] = s
	}
	if v, ok := env["app_auth_token"]; ok {
		if _, isString := v.(string); !isString {
			return request{}, fail(codeMissingField, "参数类型错误: app_auth_token")
		}
	}
	if fields["version"] != fulu.Version || fields["format"] != "json" || fields["charset"] != "utf-8" || fields["sign_type"] != "md5" {
		return request{}, fail(codeBadEnvelope, "version/format/charset/sign_type 不支持")
	}
	if fields["app_key"] != g.appKey {
		return request{}, fail(fulu.CodeBadMerchant, "商户不存在")
	}
	ts, err := time.ParseInLocation(fulu.TimestampLayout, fields["timestamp"], fulu.Beijing)
	if err != nil {
		return request{}, fail(codeBadBiz, "timestamp 格式错误")
	}
	if d := g.now().Sub(ts); d > Window || d < -Window {
		return request{}, fail(fulu.CodeTimestamp, "时间戳已过期")
	}
	want, err := fulu.SignMap(env, g.secret)
	if err != nil || !fulu.SignEqual(fields["sign"], want) {
		return request{}, fail(fulu.CodeBadSign, "签名错误")
	}
	biz, err := decodeObject([]byte(fields["biz_content"]))
	if err != nil {
		return request{}, fail(codeBadBiz, "biz_content 不是JSON对象")
	}
	switch fields["method"] {
	case fulu.MethodCardAdd, fulu.MethodDirectAdd, fulu.MethodOrderInfo, fulu.MethodUserInfo:
	default:
		return request{}, fail(codeUnknownMethod, "不支持的接口: %s", fields["method"])
	}
	return request{method: fields["method"], biz: biz}, reply{}
}

// countAdd counts an add call, whatever becomes of it.
func (g *Gateway) countAdd(req request) {
	if !isAdd(req.method) {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.addCalls++
	if no, ok := req.biz["customer_order_no"].(string); ok && no != "" {
		g.addByNo[no]++
	}
}

// dispatch runs a checked request. It returns the answer and the callbacks
// an early-callback fault wants delivered before that answer.
func (g *Gateway) dispatch(req request, f Fault) (reply, []note) {
	g.mu.Lock()
	defer g.mu.Unlock()
	switch req.method {
	case fulu.MethodCardAdd:
		return g.addLocked(req.biz, suppliers.KindCard, f)
	case fulu.MethodDirectAdd:
		return g.addLocked(req.biz, suppliers.KindDirect, f)
	case fulu.MethodOrderInfo:
		return g.infoLocked(req.biz), nil
	}
	return g.userLocked(), nil
}

func (g *Gateway) addLocked(biz map[string]any, kind string, f Fault) (reply, []note) {
	no, ok := biz["customer_order_no"].(string)
	if _, present := biz["customer_order_no"]; !present || (ok && no == "") {
		return fail(fulu.CodeNoOrderNo, "customer_order_no 不能为空"), nil
	}
	if !ok || len(no) > 50 {
		return fail(codeBadBiz, "customer_order_no 格式错误"), nil
	}
	buyNum, ok := intField(biz, "buy_num")
	if !ok || buyNum < 1 || buyNum > 10000 {
		return fail(fulu.CodeNoBuyNum, "buy_num 错误"), nil
	}
	productID, ok := intField(biz, "product_id")
	if !ok {
		return fail(codeBadBiz, "product_id 错误"), nil
	}
	account, _ := biz["charge_account"].(string)
	if kind == suppliers.KindDirect && account == "" {
		return fail(fulu.CodeNoAccount, "charge_account 不能为空"), nil
	}
	if _, exists := g.orders[no]; exists {
		return fail(fulu.CodeOrderExists, "客户订单号已存在"), nil
	}
	p := g.products[productID]
	switch {
	case p == nil:
		return fail(fulu.CodeProductMissing, "商品不存在"), nil
	case p.Kind != kind:
		return fail(fulu.CodeProductType, "商品类型不匹配"), nil
	case kind == suppliers.KindDirect && strings.HasPrefix(account, "bad"):
		return fail(fulu.CodeAccountBlacklist, "充值账号已被拉黑"), nil
	}
	if v, present := biz["customer_price"]; present {
		n, isNum := v.(json.Number)
		limit, err := money.Parse(string(n))
		if !isNum || err != nil {
			return fail(codeBadBiz, "customer_price 格式错误"), nil
		}
		if p.Price > limit {
			return fail(codeBadBiz, "customer_price 低于商品进价"), nil
		}
	}
	if p.Stock != Unlimited && p.Stock < int(buyNum) {
		return fail(fulu.CodeOutOfStock, "库存不足"), nil
	}
	cost := p.Price * money.Amount(buyNum)
	if g.balance < cost {
		g.poor++
		return fail(fulu.CodeAddFailed, "账户余额不足"), nil
	}
	if p.Stock != Unlimited {
		p.Stock -= int(buyNum)
	}
	g.balance -= cost
	now := g.now()
	g.orderSeq++
	o := &order{
		name: p.Name,
		due:  now.Add(g.successAfter),
		rec: OrderRecord{
			No:        no,
			OrderID:   fmt.Sprintf("%s%08d", now.In(fulu.Beijing).Format("060102150405"), g.orderSeq),
			ProductID: productID,
			Kind:      kind,
			BuyNum:    int(buyNum),
			Account:   account,
			State:     fulu.StateProcessing,
			Created:   now,
			Price:     cost,
			Fields:    textFields(biz),
		},
	}
	o.fault.earlyCallback = f.Kind == FaultEarlyCallback
	o.fault.dupCallback = f.Kind == FaultDuplicateCallback
	o.fault.dupCard = f.Kind == FaultDuplicateCard
	g.orders[no] = o
	g.list = append(g.list, o)
	answer := reply{result: g.orderJSON(o, false)} // the add answer never has cards
	var early []note
	if o.fault.earlyCallback {
		early = g.finishLocked(o, now)
	} else {
		g.pending = append(g.pending, o)
		if g.realClock && g.successAfter > 0 && !g.closed {
			// Settles this order (and any other due) on time; after Close
			// it changes state only, as notifyAsync sends nothing then.
			time.AfterFunc(g.successAfter, g.Settle)
		}
	}
	return answer, early
}

func (g *Gateway) infoLocked(biz map[string]any) reply {
	no, _ := biz["customer_order_no"].(string)
	if no == "" {
		return fail(fulu.CodeNoOrderNo, "customer_order_no 不能为空")
	}
	o := g.orders[no]
	if o == nil {
		return fail(fulu.CodeOrderNotFound, "订单不存在")
	}
	return reply{result: g.orderJSON(o, true)}
}

func (g *Gateway) userLocked() reply {
	b, _ := fulu.CompactJSON(struct {
		Name    string      `json:"name"`
		Balance json.Number `json:"balance"`
		IsOpen  int         `json:"is_open"`
	}{"fulufake 测试商户", json.Number(yuanText(g.balance)), 1})
	return reply{result: string(b)}
}

// settleLocked finishes the pending orders that are due.
func (g *Gateway) settleLocked(now time.Time) []note {
	var notes []note
	kept := g.pending[:0]
	for _, o := range g.pending {
		switch {
		case o.rec.State != fulu.StateProcessing:
		case now.Before(o.due):
			kept = append(kept, o)
		default:
			notes = append(notes, g.finishLocked(o, now)...)
		}
	}
	clear(g.pending[len(kept):])
	g.pending = kept
	return notes
}

// finishLocked moves an order to its final state once and returns the
// callbacks to send.
func (g *Gateway) finishLocked(o *order, now time.Time) []note {
	o.rec.Finished = now
	if o.rec.Kind == suppliers.KindDirect && !g.validAccounts[o.rec.Account] {
		o.rec.State = fulu.StateFailed
		g.balance += o.rec.Price
		if p := g.products[o.rec.ProductID]; p != nil && p.Stock != Unlimited {
			p.Stock += o.rec.BuyNum
		}
	} else {
		o.rec.State = fulu.StateSuccess
	}
	if o.rec.Kind == suppliers.KindCard && o.rec.State == fulu.StateSuccess {
		previous := g.lastCard
		cards := make([]card.Card, o.rec.BuyNum)
		for i := range cards {
			cards[i] = g.newCardLocked(now)
		}
		if o.fault.dupCard {
			switch {
			case previous != "":
				cards[0].Number = previous
			case len(cards) > 1:
				cards[1].Number = cards[0].Number
			}
		}
		g.lastCard = cards[len(cards)-1].Number
		o.rec.Cards = cards
	}
	if g.notifyURL == "" {
		return nil
	}
	n := note{no: o.rec.No, body: g.callbackLocked(o)}
	if o.fault.dupCallback {
		return []note{n, n}
	}
	return []note{n}
}

// orderJSON is the result string of an order: the order object, and on
// info.get of a successful card order its encrypted cards.
func (g *Gateway) orderJSON(o *order, withCards bool) string {
	type cardOut struct {
		Number   string `json:"card_number"`
		Pwd      string `json:"card_pwd"`
		Deadline string `json:"card_deadline"`
		Type     int    `json:"card_type"`
	}
	out := struct {
		OrderID        string      `json:"order_id"`
		CustomerNo     string      `json:"customer_order_no"`
		ProductID      int64       `json:"product_id"`
		ProductName    string      `json:"product_name"`
		ChargeAccount  string      `json:"charge_account"`
		BuyNum         int         `json:"buy_num"`
		OrderType      int         `json:"order_type"`
		OrderPrice     json.Number `json:"order_price"`
		OrderState     string      `json:"order_state"`
		CreateTime     string      `json:"create_time"`
		FinishTime     *string     `json:"finish_time"`
		Area           string      `json:"area"`
		Server         string      `json:"server"`
		Type           string      `json:"type"`
		OperatorSerial string      `json:"operator_serial_number"`
		Cards          []cardOut   `json:"cards,omitempty"`
	}{
		OrderID:       o.rec.OrderID,
		CustomerNo:    o.rec.No,
		ProductID:     o.rec.ProductID,
		ProductName:   o.name,
		ChargeAccount: o.rec.Account,
		BuyNum:        o.rec.BuyNum,
		OrderType:     fulu.OrderTypeCard,
		OrderPrice:    json.Number(yuanText(o.rec.Price)),
		OrderState:    o.rec.State,
		CreateTime:    o.rec.Created.In(fulu.Beijing).Format(fulu.TimestampLayout),
		Area:          o.rec.Fields["charge_game_region"],
		Server:        o.rec.Fields["charge_game_srv"],
	}
	if o.rec.Kind == suppliers.KindDirect {
		out.OrderType = fulu.OrderTypeDirect
	}
	if !o.rec.Finished.IsZero() {
		s := o.rec.Finished.In(fulu.Beijing).Format(fulu.TimestampLayout)
		out.FinishTime = &s
	}
	if withCards {
		for _, c := range o.rec.Cards {
			out.Cards = append(out.Cards, cardOut{
				Number:   g.cards.Encrypt(c.Number),
				Pwd:      g.cards.Encrypt(c.Password),
				Deadline: c.ExpiresAt,
			})
		}
	}
	b, _ := fulu.CompactJSON(out)
	return string(b)
}

// yuanText writes fen the way Fulu's servers write decimals: at least one
// decimal, trailing zeros dropped (100 → "1.0", 150 → "1.5", 123 → "1.23").
func yuanText(a money.Amount) string {
	s := strings.TrimRight(a.String(), "0")
	if strings.HasSuffix(s, ".") {
		s += "0"
	}
	return s
}

// intField reads an integer JSON number.
func intField(m map[string]any, k string) (int64, bool) {
	n, ok := m[k].(json.Number)
	if !ok {
		return 0, false
	}
	v, err := n.Int64()
	return v, err == nil
}

// textFields writes biz_content values as text for introspection.
func textFields(m map[string]any) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		switch v := v.(type) {
		case string:
			out[k] = v
		case json.Number:
			out[k] = v.String()
		default:
			b, _ := json.Marshal(v)
			out[k] = string(b)
		}
	}
	return out
}

// decodeObject reads exactly one JSON object, numbers as text.
func decodeObject(body []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, fmt.Errorf("not an object")
	}
	if dec.More() {
		return nil, fmt.Errorf("data after the object")
	}
	return m, nil
}
