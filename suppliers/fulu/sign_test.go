package fulu_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"cardflow/suppliers"
	"cardflow/suppliers/fulu"
)

// Vectors signed with Fulu's published sandbox AppSecret: requests R1–R5,
// the answer Q1 and the callback CB2 (docs/suppliers.md).
const (
	bizR2 = `{"product_id":10000587,"buy_num":1,"customer_order_no":"KM202401020001"}`
	bizR3 = `{"product_id":10000585,"customer_order_no":"ZC202401020001","charge_account":"888888","buy_num":1,"charge_game_name":"三国群英传","charge_game_region":"电信一区"}`
	bizR4 = `{"customer_order_no":"KM202401020001"}`
	bizR5 = `{"product_id":10000585,"customer_order_no":"ZC-A&B/1","charge_account":"a<b>c","buy_num":1}`

	cb2 = `{"order_id":"24010203040500000001","charge_finish_time":"2024-01-02 03:05:00","customer_order_no":"ZC202401020001","order_status":"failed","recharge_description":"充值失败","product_id":"10000585","price":"1.0000","buy_num":"1","operator_serial_number":""}`
	q1  = `{"order_id":"24010203040500000002","customer_order_no":"KM202401020001","product_id":10000587,"product_name":"卡密测试商品","charge_account":"","buy_num":1,"order_type":3,"order_price":1.0,"order_state":"success","create_time":"2024-01-02 03:04:05","finish_time":"2024-01-02 03:04:07","area":"","server":"","type":"","operator_serial_number":"","cards":[{"card_number":"12nCp6X/nALmrvr1erxK+D4L8n/kqz/RItKWUfvZrCU=","card_pwd":"9HeOgdv+NpLihh2+5Gm0Mj4L8n/kqz/RItKWUfvZrCU=","card_deadline":"2025-12-31 23:59:59","card_type":0}]}`

	signCB2 = "c79c4997e92409464a6e494f89e0c4d3"
	signQ1  = "69f3197ef46314c2fba5e6f7bd0de912"
)

func envelopeFields(method, ts, biz string, withToken bool) map[string]string {
	m := map[string]string{"app_key": appKey, "method": method, "timestamp": ts, "version": "2.0",
		"format": "json", "charset": "utf-8", "sign_type": "md5", "biz_content": biz}
	if withToken {
		m["app_auth_token"] = ""
	}
	return m
}

func TestSignMatchesSpecRequestVectors(t *testing.T) {
	cases := []struct {
		name, method, ts, biz string
		withToken             bool
		want                  string
	}{
		{"R1 user.info.get", fulu.MethodUserInfo, "2019-08-28 10:00:00", "{}", true, "df2c90c2759249bdebfef25b1c50818b"},
		{"R1' without app_auth_token", fulu.MethodUserInfo, "2019-08-28 10:00:00", "{}", false, "e920fb38ed3ddb0eb9dd88c9f3f9e025"},
		{"R2 card.add", fulu.MethodCardAdd, "2024-01-02 03:04:05", bizR2, true, "218d326c1072cc804ec6833a66232e52"},
		{"R3 direct.add with Chinese", fulu.MethodDirectAdd, "2024-01-02 03:04:05", bizR3, true, "8182d06978c9e849320c92c59c09915a"},
		{"R4 order.info.get", fulu.MethodOrderInfo, "2024-01-02 03:04:10", bizR4, true, "c3653d13ba20183190948ca101fc5e8e"},
		{"R5 & < > / written literally", fulu.MethodDirectAdd, "2024-01-02 03:04:05", bizR5, true, "b11a34d71ad607534858f0917f0ee147"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := fulu.Sign(envelopeFields(tc.method, tc.ts, tc.biz, tc.withToken), appSecret)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("sign = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestSignOfHTMLEscapedJSONIsTheWrongR5Sign(t *testing.T) {
	escaped, err := json.Marshal(envelopeFields(fulu.MethodDirectAdd, "2024-01-02 03:04:05", bizR5, true))
	if err != nil {
		t.Fatal(err)
	}
	if got := fulu.SignText(string(escaped), appSecret); !strings.HasPrefix(got, "d1e2c41f") {
		t.Errorf("json.Marshal sign = %s, the vector says it starts d1e2c41f", got)
	}
	compact, _ := fulu.CompactJSON(map[string]string{"a": "<&>/中"})
	if string(compact) != `{"a":"<&>/中"}` {
		t.Errorf("CompactJSON = %s", compact)
	}
}

func TestCallbackSignMatchesCB2(t *testing.T) {
	if got := fulu.SignText(cb2, appSecret); got != signCB2 {
		t.Errorf("SignText(CB2) = %s", got)
	}
	var n fulu.Notification
	if err := json.Unmarshal([]byte(cb2), &n); err != nil {
		t.Fatal(err)
	}
	if got, _ := fulu.Sign(n, appSecret); got != signCB2 {
		t.Errorf("Sign(Notification) = %s, want %s", got, signCB2)
	}
}

func TestResponseSignCoversRawResultQ1(t *testing.T) {
	if got := fulu.SignText(q1, appSecret); got != signQ1 {
		t.Errorf("SignText(Q1) = %s, want %s", got, signQ1)
	}
	reserialised := strings.Replace(q1, `"order_price":1.0`, `"order_price":1`, 1)
	if got := fulu.SignText(reserialised, appSecret); !strings.HasPrefix(got, "925bc8b5") {
		t.Errorf("re-serialised sign = %s, the vector says 925bc8b5…", got)
	}
}

// TestClientRequestsCarrySpecSigns checks the client's real envelopes
// against the vectors: the biz_content text, all nine string fields, the
// Beijing timestamp and the sign.
func TestClientRequestsCarrySpecSigns(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name   string
		at     time.Time
		call   func(c *fulu.Client)
		method string
		biz    string
		sign   string
	}{
		{"R1 balance", time.Date(2019, 8, 28, 2, 0, 0, 0, time.UTC), func(c *fulu.Client) { _, _ = c.Balance(ctx) },
			fulu.MethodUserInfo, "{}", "df2c90c2759249bdebfef25b1c50818b"},
		{"R2 card order", time.Date(2024, 1, 1, 19, 4, 5, 0, time.UTC), func(c *fulu.Client) {
			c.Submit(ctx, suppliers.Order{No: "KM202401020001", Item: "10000587", Kind: suppliers.KindCard, Quantity: 1})
		}, fulu.MethodCardAdd, bizR2, "218d326c1072cc804ec6833a66232e52"},
		{"R3 direct order with game and region", time.Date(2024, 1, 2, 3, 4, 5, 0, fulu.Beijing), func(c *fulu.Client) {
			c.Submit(ctx, suppliers.Order{No: "ZC202401020001", Item: "10000585", Kind: suppliers.KindDirect, Quantity: 1,
				Account: "888888", Extra: map[string]string{"game": "三国群英传", "region": "电信一区"}})
		}, fulu.MethodDirectAdd, bizR3, "8182d06978c9e849320c92c59c09915a"},
		{"R4 query", time.Date(2024, 1, 2, 3, 4, 10, 0, fulu.Beijing), func(c *fulu.Client) { c.Query(ctx, "KM202401020001") },
			fulu.MethodOrderInfo, bizR4, "c3653d13ba20183190948ca101fc5e8e"},
		{"R5 direct order with & < > /", time.Date(2024, 1, 2, 3, 4, 5, 0, fulu.Beijing), func(c *fulu.Client) {
			c.Submit(ctx, suppliers.Order{No: "ZC-A&B/1", Item: "10000585", Kind: suppliers.KindDirect, Quantity: 1, Account: "a<b>c"})
		}, fulu.MethodDirectAdd, bizR5, "b11a34d71ad607534858f0917f0ee147"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			client, reqs := answeringRawAt(t, 200, marshalAnswer(5000, "x", "", ""), func() time.Time { return tc.at })
			tc.call(client)
			if len(*reqs) != 1 {
				t.Fatalf("%d requests, want 1", len(*reqs))
			}
			var env map[string]any
			if err := json.Unmarshal((*reqs)[0], &env); err != nil {
				t.Fatal(err)
			}
			if len(env) != 10 {
				t.Errorf("envelope has %d fields, want the nine and sign: %v", len(env), env)
			}
			for k, v := range env {
				if _, ok := v.(string); !ok {
					t.Errorf("field %s is %T, want a string", k, v)
				}
			}
			if env["method"] != tc.method || env["app_auth_token"] != "" || env["version"] != "2.0" {
				t.Errorf("envelope = %v", env)
			}
			if env["biz_content"] != tc.biz {
				t.Errorf("biz_content = %s\nwant         %s", env["biz_content"], tc.biz)
			}
			if env["sign"] != tc.sign {
				t.Errorf("sign = %s, want %s", env["sign"], tc.sign)
			}
			if strings.Contains(string((*reqs)[0]), `\u003c`) || strings.Contains(string((*reqs)[0]), `\u0026`) {
				t.Errorf("body has HTML escapes: %s", (*reqs)[0])
			}
		})
	}
}
