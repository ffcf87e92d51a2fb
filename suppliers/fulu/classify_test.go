package fulu_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"cardflow/internal/testkit"
	"cardflow/suppliers"
	"cardflow/suppliers/fulu"
)

const addResult = `{"order_id":"24010203040500000009","customer_order_no":"KM1","product_id":10000587,"product_name":"卡密测试商品","charge_account":"","buy_num":1,"order_type":3,"order_price":1.0,"order_state":"untreated","create_time":"2024-01-02 03:04:05","finish_time":null,"operator_serial_number":""}`

var cardOrder = suppliers.Order{No: "KM1", Item: "10000587", Kind: suppliers.KindCard, Quantity: 1}

func TestSubmitClassifiesEveryErrorCodeRow(t *testing.T) {
	type want struct {
		status suppliers.Status
		reason string
	}
	pending := want{suppliers.StatusPending, ""}
	unknown := want{suppliers.StatusUnknown, ""}
	failed := func(r string) want { return want{suppliers.StatusFailed, r} }
	cases := []struct {
		code    int
		message string
		want    want
	}{
		{0, "接口调用成功", pending},
		{4010, "客户订单号已存在", pending},
		{1000, "参数错误", failed(suppliers.ReasonRejected)},
		{1001, "", failed(suppliers.ReasonRejected)},
		{1002, "", failed(suppliers.ReasonRejected)},
		{1003, "", failed(suppliers.ReasonRejected)},
		{1005, "", failed(suppliers.ReasonRejected)},
		{1015, "", failed(suppliers.ReasonRejected)},
		{1017, "", failed(suppliers.ReasonRejected)},
		{1018, "", failed(suppliers.ReasonRejected)},
		{1004, "时间戳已过期", failed(suppliers.ReasonConfig)},
		{1016, "签名错误", failed(suppliers.ReasonConfig)},
		{1019, "IP不在白名单", failed(suppliers.ReasonConfig)},
		{2002, "商户不存在", failed(suppliers.ReasonConfig)},
		{2003, "商户配置错误", failed(suppliers.ReasonConfig)},
		{3001, "商品不存在", failed(suppliers.ReasonProductUnavailable)},
		{3002, "商品已下架", failed(suppliers.ReasonProductUnavailable)},
		{3003, "", failed(suppliers.ReasonProductUnavailable)},
		{3004, "商品维护中", failed(suppliers.ReasonProductUnavailable)},
		{3005, "库存不足", failed(suppliers.ReasonOutOfStock)},
		{3008, "商品类型不匹配", failed(suppliers.ReasonConfig)},
		{4000, "", failed(suppliers.ReasonRejected)},
		{4001, "", failed(suppliers.ReasonRejected)},
		{4002, "", failed(suppliers.ReasonRejected)},
		{4004, "账号已被拉黑", failed(suppliers.ReasonInvalidAccount)},
		{4008, "下单失败", unknown},
		{4009, "下单超时", unknown},
		{5000, "系统异常", unknown},
		{2001, "", unknown},
		{3006, "", unknown},
		{3009, "", unknown},
		{4003, "", unknown},
		{4011, "", unknown},
		{9999, "", unknown},
		{-1, "", unknown},
		{4008, "下单失败：账户余额不足", failed(suppliers.ReasonBalance)},
		{2001, "Insufficient balance", failed(suppliers.ReasonBalance)},
		{4009, "余额不足", unknown}, // 4009 and 5000 say "unknown" whatever the text
		{5000, "余额不足", unknown},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%d %s", tc.code, tc.message), func(t *testing.T) {
			result := ""
			if tc.code == 0 {
				result = addResult
			}
			c, reqs := answering(t, tc.code, tc.message, result, true)
			got := c.Submit(context.Background(), cardOrder)
			if got.Status != tc.want.status || got.Reason != tc.want.reason {
				t.Fatalf("Submit = %v/%q, want %v/%q (%s)", got.Status, got.Reason, tc.want.status, tc.want.reason, got.Detail)
			}
			if len(*reqs) != 1 {
				t.Errorf("%d requests, want 1", len(*reqs))
			}
			if !strings.Contains(got.Detail, fmt.Sprintf("code %d", tc.code)) {
				t.Errorf("Detail %q lacks the code", got.Detail)
			}
		})
	}
}

func TestSubmitAcceptedReadsOrderIDAndCost(t *testing.T) {
	c, _ := answering(t, 0, "", addResult, true)
	got := c.Submit(context.Background(), cardOrder)
	if got.Status != suppliers.StatusPending || got.SupplierOrderID != "24010203040500000009" || got.Cost != 100 {
		t.Fatalf("Submit = %+v", got)
	}
}

func TestSubmitWithoutTrustworthyAnswerIsUnknown(t *testing.T) {
	goodSigned := marshalAnswer(0, "", addResult, fulu.SignText(addResult, appSecret))
	cases := []struct {
		name   string
		status int
		body   string
		detail string
	}{
		{"bad response sign", 200, marshalAnswer(0, "", addResult, fulu.SignText(addResult+"x", appSecret)), "sign"},
		{"sign by another secret", 200, marshalAnswer(0, "", addResult, fulu.SignText(addResult, strings.Repeat("0", 32))), "sign"},
		{"garbled JSON", 200, goodSigned[:len(goodSigned)/2], "not a Fulu JSON"},
		{"HTML error page", 200, "<html>oops</html>", "not a Fulu JSON"},
		{"empty body", 200, "", "not a Fulu JSON"},
		{"no code", 200, `{"message":"x"}`, "no code"},
		{"code is not an integer", 200, `{"code":1.5}`, "not an integer"},
		{"result is an object", 200, `{"code":0,"result":{"order_id":"1"}}`, "not a JSON string"},
		{"result is not an order", 200, marshalAnswer(0, "", "[1,2]", fulu.SignText("[1,2]", appSecret)), "result"},
		{"answer about another order", 200, marshalAnswer(0, "", strings.Replace(addResult, `"KM1"`, `"KM2"`, 1),
			fulu.SignText(strings.Replace(addResult, `"KM1"`, `"KM2"`, 1), appSecret)), "another order"},
		{"http 502", 502, goodSigned, "http 502"},
		{"http 500 with a success body", 500, goodSigned, "http 500"},
		{"http 404", 404, "not found", "http 404"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := answeringRaw(t, tc.status, tc.body)
			got := c.Submit(context.Background(), cardOrder)
			if got.Status != suppliers.StatusUnknown {
				t.Fatalf("Submit = %v (%s), want unknown", got.Status, got.Detail)
			}
			if !strings.Contains(got.Detail, tc.detail) {
				t.Errorf("Detail %q does not mention %q", got.Detail, tc.detail)
			}
		})
	}
}

func TestRefusalWithAnOddResultIsStillARefusal(t *testing.T) {
	c, _ := answeringRaw(t, 200, `{"code":3005,"message":"库存不足","result":{"x":1},"sign":""}`)
	if got := c.Submit(context.Background(), cardOrder); got.Status != suppliers.StatusFailed || got.Reason != suppliers.ReasonOutOfStock {
		t.Fatalf("Submit = %v/%q (%s)", got.Status, got.Reason, got.Detail)
	}
}

// TestAnUnsignedSuccessIsUnknownOutsideTheSandbox: a code-0 answer without
// a sign (before: accepted with a warning, so anyone on the path could fake
// Fulu's "accepted" or "success") is an unknown outcome for an add, a query
// and a balance call; the query it leads to needs a signed answer.
func TestAnUnsignedSuccessIsUnknownOutsideTheSandbox(t *testing.T) {
	c, _ := answering(t, 0, "", addResult, false)
	if got := c.Submit(context.Background(), cardOrder); got.Status != suppliers.StatusUnknown || !strings.Contains(got.Detail, "sign") {
		t.Fatalf("Submit = %v (%s), want unknown for want of a sign", got.Status, got.Detail)
	}
	if got := c.Query(context.Background(), cardOrder.No); got.Status != suppliers.StatusUnknown {
		t.Fatalf("Query = %v (%s), want unknown", got.Status, got.Detail)
	}
	if _, err := c.Balance(context.Background()); err == nil {
		t.Fatal("Balance read from an unsigned answer")
	}
}

// TestTheSandboxMayAnswerUnsigned: a client whose base_url is Fulu's
// sandbox (pre.openapi.fulu.com) still takes an unsigned success, as the
// sandbox's answers may come without one; a wrong sign is refused there too.
func TestTheSandboxMayAnswerUnsigned(t *testing.T) {
	for _, tc := range []struct {
		sign string
		want suppliers.Status
	}{{"", suppliers.StatusPending}, {"0123456789abcdef0123456789abcdef", suppliers.StatusUnknown}} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(marshalAnswer(0, "", addResult, tc.sign)))
		}))
		// The sandbox's name, served by srv: every connection goes there.
		hc := srv.Client()
		tr := hc.Transport.(*http.Transport).Clone()
		tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, srv.Listener.Addr().String())
		}
		hc.Transport = tr
		c := newClient(t, "http://"+fulu.SandboxHost, hc, testkit.NewClock(epoch).Now)
		if got := c.Submit(context.Background(), cardOrder); got.Status != tc.want {
			t.Errorf("sign %q: Submit = %v (%s), want %v", tc.sign, got.Status, got.Detail, tc.want)
		}
		srv.Close()
	}
}

func TestSubmitRefusesOrdersItCannotSendWithoutARequest(t *testing.T) {
	cases := []struct {
		name   string
		order  suppliers.Order
		reason string
	}{
		{"item with letters", suppliers.Order{No: "A1", Item: "abc", Kind: suppliers.KindCard, Quantity: 1}, suppliers.ReasonConfig},
		{"item with a sign", suppliers.Order{No: "A1", Item: "-5", Kind: suppliers.KindCard, Quantity: 1}, suppliers.ReasonConfig},
		{"empty item", suppliers.Order{No: "A1", Item: "", Kind: suppliers.KindCard, Quantity: 1}, suppliers.ReasonConfig},
		{"item zero", suppliers.Order{No: "A1", Item: "0", Kind: suppliers.KindCard, Quantity: 1}, suppliers.ReasonConfig},
		{"item too long", suppliers.Order{No: "A1", Item: strings.Repeat("9", 30), Kind: suppliers.KindCard, Quantity: 1}, suppliers.ReasonConfig},
		{"unknown kind", suppliers.Order{No: "A1", Item: "1", Kind: "gift", Quantity: 1}, suppliers.ReasonConfig},
		{"negative max cost", suppliers.Order{No: "A1", Item: "1", Kind: suppliers.KindCard, Quantity: 1, MaxUnitCost: -1}, suppliers.ReasonConfig},
		{"zero quantity", suppliers.Order{No: "A1", Item: "1", Kind: suppliers.KindCard, Quantity: 0}, suppliers.ReasonRejected},
		{"empty order number", suppliers.Order{No: "", Item: "1", Kind: suppliers.KindCard, Quantity: 1}, suppliers.ReasonRejected},
		{"order number over 50", suppliers.Order{No: strings.Repeat("A", 51), Item: "1", Kind: suppliers.KindCard, Quantity: 1}, suppliers.ReasonRejected},
		{"direct without account", suppliers.Order{No: "A1", Item: "1", Kind: suppliers.KindDirect, Quantity: 1}, suppliers.ReasonInvalidAccount},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, reqs := answering(t, 0, "", addResult, true)
			got := c.Submit(context.Background(), tc.order)
			if got.Status != suppliers.StatusFailed || got.Reason != tc.reason {
				t.Fatalf("Submit = %v/%q (%s), want failed/%q", got.Status, got.Reason, got.Detail, tc.reason)
			}
			if len(*reqs) != 0 {
				t.Errorf("%d requests sent, want none", len(*reqs))
			}
		})
	}
}

func orderResult(state string, extra string) string {
	return `{"order_id":"O1","customer_order_no":"KM1","product_id":10000587,"buy_num":1,"order_type":3,"order_price":1.0,"order_state":"` +
		state + `","create_time":"2024-01-02 03:04:05","finish_time":null` + extra + `}`
}

func TestQueryClassifiesStatesAndCodes(t *testing.T) {
	cipher, _ := fulu.NewCardCipher(appSecret)
	card := func(num, pwd string) string {
		return `{"card_number":"` + cipher.Encrypt(num) + `","card_pwd":"` + cipher.Encrypt(pwd) + `","card_deadline":"2030-01-01 00:00:00","card_type":0}`
	}
	cases := []struct {
		name   string
		code   int
		result string
		status suppliers.Status
		reason string
		cards  int
		detail string
	}{
		{"untreated is pending", 0, orderResult("untreated", ""), suppliers.StatusPending, "", 0, "untreated"},
		{"processing is pending", 0, orderResult("processing", ""), suppliers.StatusPending, "", 0, "processing"},
		{"failed is a supplier failure", 0, orderResult("failed", ""), suppliers.StatusFailed, suppliers.ReasonSupplierFailed, 0, "failed"},
		{"success delivers decrypted cards", 0, orderResult("success", `,"cards":[`+card("N1", "P1")+`]`), suppliers.StatusSucceeded, "", 1, "success"},
		{"older CardNumber spelling", 0, orderResult("success", `,"cards":[{"CardNumber":"`+cipher.Encrypt("N1")+`","CardPwd":"`+cipher.Encrypt("P1")+`","CardDeadline":"2030-01-01"}]`),
			suppliers.StatusSucceeded, "", 1, "success"},
		{"direct success has no cards", 0, strings.Replace(orderResult("success", ""), `"order_type":3`, `"order_type":4`, 1), suppliers.StatusSucceeded, "", 0, "success"},
		{"a card that does not decrypt: none delivered", 0, orderResult("success", `,"cards":[`+card("N1", "P1")+`,{"card_number":"AAAAAAAAAAAAAAAAAAAAAA==","card_pwd":""}]`),
			suppliers.StatusUnknown, "", 0, "none delivered"},
		{"success without cards for a card order", 0, orderResult("success", ""), suppliers.StatusUnknown, "", 0, "none delivered"},
		{"fewer cards than buy_num", 0, strings.Replace(orderResult("success", `,"cards":[`+card("N1", "P1")+`]`), `"buy_num":1`, `"buy_num":2`, 1),
			suppliers.StatusUnknown, "", 0, "none delivered"},
		{"numbers sent as strings", 0, strings.NewReplacer(`"buy_num":1`, `"buy_num":"1"`, `"order_type":3`, `"order_type":"3"`, `"order_price":1.0`, `"order_price":"1.00"`).
			Replace(orderResult("success", `,"cards":[`+card("N1", "P1")+`]`)), suppliers.StatusSucceeded, "", 1, "success"},
		{"a card with neither number nor password", 0, orderResult("success", `,"cards":[{"card_number":"","card_pwd":null}]`), suppliers.StatusUnknown, "", 0, "neither"},
		{"unknown order_state", 0, orderResult("refunding", ""), suppliers.StatusUnknown, "", 0, "refunding"},
		{"answer about another order", 0, strings.Replace(orderResult("success", ""), `"KM1"`, `"KM9"`, 1), suppliers.StatusUnknown, "", 0, "another order"},
		{"bad order_price", 0, strings.Replace(orderResult("processing", ""), `1.0`, `-1.0`, 1), suppliers.StatusUnknown, "", 0, "order_price"},
		{"4011 is not found", 4011, "", suppliers.StatusNotFound, "", 0, "code 4011"},
		{"4012 is unknown", 4012, "", suppliers.StatusUnknown, "", 0, "code 4012"},
		{"5000 is unknown", 5000, "", suppliers.StatusUnknown, "", 0, "code 5000"},
		{"a refused query says nothing about the order", 1016, "", suppliers.StatusUnknown, "", 0, "config_error"},
		{"3005 on a query is not out of stock", 3005, "", suppliers.StatusUnknown, "", 0, "out_of_stock"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := answering(t, tc.code, "msg", tc.result, true)
			got := c.Query(context.Background(), "KM1")
			if got.Status != tc.status || got.Reason != tc.reason || len(got.Cards) != tc.cards {
				t.Fatalf("Query = %v/%q with %d cards (%s), want %v/%q with %d", got.Status, got.Reason, len(got.Cards), got.Detail, tc.status, tc.reason, tc.cards)
			}
			if !strings.Contains(got.Detail, tc.detail) {
				t.Errorf("Detail %q does not mention %q", got.Detail, tc.detail)
			}
			if tc.cards > 0 && (got.Cards[0].Number != "N1" || got.Cards[0].Password != "P1" || got.Cards[0].ExpiresAt == "") {
				t.Errorf("card = %+v", got.Cards[0])
			}
			for _, s := range []string{"N1", "P1"} {
				if strings.Contains(got.Detail, s) {
					t.Errorf("Detail %q holds card data", got.Detail)
				}
			}
		})
	}
}

// TestQueryVerifiesQ1AsReceived serves Fulu's published answer vector Q1
// with its published sign: "order_price":1.0 must verify, cards must decrypt.
func TestQueryVerifiesQ1AsReceived(t *testing.T) {
	c, _ := answeringRaw(t, 200, marshalAnswer(0, "接口调用成功", q1, signQ1))
	got := c.Query(context.Background(), "KM202401020001")
	if got.Status != suppliers.StatusSucceeded {
		t.Fatalf("Query = %v (%s)", got.Status, got.Detail)
	}
	if got.Cost != 100 || got.SupplierOrderID != "24010203040500000002" || len(got.Cards) != 1 {
		t.Fatalf("Query = %+v", got)
	}
	c0 := got.Cards[0]
	if c0.Number != "CD1000250201906121742434441" || c0.Password != "CP1000250201906121742434441" || c0.ExpiresAt != "2025-12-31 23:59:59" {
		t.Errorf("card = %q %q %q", c0.Number, c0.Password, c0.ExpiresAt)
	}
	// The same answer with the result re-serialised no longer verifies.
	reserialised := strings.Replace(q1, `"order_price":1.0`, `"order_price":1`, 1)
	c, _ = answeringRaw(t, 200, marshalAnswer(0, "", reserialised, signQ1))
	if got := c.Query(context.Background(), "KM202401020001"); got.Status != suppliers.StatusUnknown {
		t.Errorf("re-serialised Q1 = %v, want unknown", got.Status)
	}
}

func TestQueryDeliversPasswordOnlyCards(t *testing.T) {
	cipher, _ := fulu.NewCardCipher(appSecret)
	c, _ := answering(t, 0, "", orderResult("success", `,"cards":[{"card_number":"","card_pwd":"`+cipher.Encrypt("PWD-ONLY")+`"}]`), true)
	got := c.Query(context.Background(), "KM1")
	if got.Status != suppliers.StatusSucceeded || len(got.Cards) != 1 || got.Cards[0].Number != "" || got.Cards[0].Password != "PWD-ONLY" {
		t.Fatalf("Query = %v (%s)", got.Status, got.Detail)
	}
}
