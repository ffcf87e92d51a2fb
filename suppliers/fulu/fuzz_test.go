package fulu_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"cardflow/card"
	"cardflow/internal/money"
	"cardflow/internal/testkit"
	"cardflow/suppliers"
	"cardflow/suppliers/fulu"
)

// fuzzNo is the customer_order_no every fuzzed query asks about.
const fuzzNo = "KM202401020001"

// q1Result is Fulu's published answer vector Q1, signed 69f3197e….
const q1Result = `{"order_id":"24010203040500000002","customer_order_no":"KM202401020001","product_id":10000587,` +
	`"product_name":"卡密测试商品","charge_account":"","buy_num":1,"order_type":3,"order_price":1.0,"order_state":"success",` +
	`"create_time":"2024-01-02 03:04:05","finish_time":"2024-01-02 03:04:07","area":"","server":"","type":"",` +
	`"operator_serial_number":"","cards":[{"card_number":"12nCp6X/nALmrvr1erxK+D4L8n/kqz/RItKWUfvZrCU=",` +
	`"card_pwd":"9HeOgdv+NpLihh2+5Gm0Mj4L8n/kqz/RItKWUfvZrCU=","card_deadline":"2025-12-31 23:59:59","card_type":0}]}`

// cb2Body is Fulu's published callback vector CB2 with its sign.
const cb2Body = `{"order_id":"24010203040500000001","charge_finish_time":"2024-01-02 03:05:00",` +
	`"customer_order_no":"ZC202401020001","order_status":"failed","recharge_description":"充值失败",` +
	`"product_id":"10000585","price":"1.0000","buy_num":"1","operator_serial_number":"",` +
	`"sign":"c79c4997e92409464a6e494f89e0c4d3"}`

// fixedAnswer answers every request with one HTTP status and body, in
// memory: the fuzzers exercise the client's decoding, not a network.
type fixedAnswer struct {
	status int
	body   []byte
}

func (a fixedAnswer) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		_ = r.Body.Close()
	}
	return &http.Response{StatusCode: a.status, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(bytes.NewReader(a.body)), Request: r}, nil
}

func answeringBody(t *testing.T, body []byte) *fulu.Client {
	t.Helper()
	c, err := fulu.New(fulu.Options{BaseURL: "http://fulu.test", AppKey: appKey, AppSecret: appSecret,
		HTTP: &http.Client{Transport: fixedAnswer{http.StatusOK, body}}, Now: testkit.NewClock(epoch).Now})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// envelopeOf is the response envelope as a Go client of the protocol reads it:
// code, raw result, sign. ok is false when the body is not a response at all.
func envelopeOf(body []byte) (code int64, result string, sign string, ok bool) {
	var r struct {
		Code   *json.Number    `json:"code"`
		Result json.RawMessage `json:"result"`
		Sign   string          `json:"sign"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if dec.Decode(&r) != nil || r.Code == nil {
		return 0, "", "", false
	}
	code, err := r.Code.Int64()
	if err != nil {
		return 0, "", "", false
	}
	if len(r.Result) > 0 && r.Result[0] == '"' && json.Unmarshal(r.Result, &result) != nil {
		return 0, "", "", false
	}
	return code, result, r.Sign, true
}

// FuzzFuluAnswer feeds the client arbitrary gateway bodies for a query, a
// card add, a direct add and a balance call. Properties: no panic; an
// answer that is not a response, or a code-0 answer whose sign is missing
// or does not match its result, is unknown (never success, pending, failed
// or not found); an add is never a success; a failure of an add comes only
// from Fulu's definite codes (docs/suppliers.md) and a failure of a query
// only from a signed "failed" order; no Detail carries the AppKey or
// AppSecret.
func FuzzFuluAnswer(f *testing.F) {
	q1 := marshalAnswer(0, "成功", q1Result, "69f3197ef46314c2fba5e6f7bd0de912")
	for _, body := range []string{
		q1,
		marshalAnswer(0, "成功", q1Result, "69F3197EF46314C2FBA5E6F7BD0DE912"),
		marshalAnswer(0, "成功", q1Result, "925bc8b5000000000000000000000000"),
		marshalAnswer(0, "成功", q1Result, ""),
		strings.Replace(q1, `\"order_price\":1.0`, `\"order_price\":1`, 1),
		marshalAnswer(4011, "订单不存在", "", ""),
		marshalAnswer(3005, "库存不足", "", ""),
		marshalAnswer(4008, "余额不足", "", ""),
		marshalAnswer(5000, "系统错误", "", ""),
		marshalAnswer(0, "", `{"name":"test","balance":1234.5678,"is_open":1}`, fulu.SignText(`{"name":"test","balance":1234.5678,"is_open":1}`, appSecret)),
		`{"code":0,"message":"","result":{"order_state":"success"},"sign":""}`,
		`{"code":"0","result":null}`,
		`{"code":1e3}`,
		`<html>502 Bad Gateway</html>`,
		``,
		`{"code":0,"message":"` + appSecret + `","result":"{}","sign":""}`,
	} {
		f.Add([]byte(body))
	}

	f.Fuzz(func(t *testing.T, body []byte) {
		c := answeringBody(t, body)
		ctx := context.Background()
		code, result, sign, parsed := envelopeOf(body)
		// Outside Fulu's sandbox a success must carry its sign.
		trusted := parsed && (code != 0 || sign != "" && strings.EqualFold(sign, fulu.SignText(result, appSecret)))

		q := c.Query(ctx, fuzzNo)
		card := c.Submit(ctx, suppliers.Order{No: fuzzNo, Item: "10000587", Kind: suppliers.KindCard, Quantity: 1})
		direct := c.Submit(ctx, suppliers.Order{No: fuzzNo, Item: "10000585", Kind: suppliers.KindDirect, Quantity: 1,
			Account: "888888", Extra: map[string]string{"region": "电信一区"}})
		_, balErr := c.Balance(ctx)

		for name, res := range map[string]suppliers.Result{"query": q, "card add": card, "direct add": direct} {
			if !trusted && res.Status != suppliers.StatusUnknown {
				t.Fatalf("%s of an untrustworthy answer is %s, want unknown: %s", name, res.Status, body)
			}
			if strings.Contains(res.Detail, appSecret) || strings.Contains(res.Detail, appKey) {
				t.Fatalf("%s detail carries a credential: %q", name, res.Detail)
			}
			if res.Status == suppliers.StatusSucceeded && name != "query" {
				t.Fatalf("%s answered success; adds never carry the goods: %s", name, body)
			}
		}
		if !trusted && balErr == nil {
			t.Fatalf("balance read from an untrustworthy answer: %s", body)
		}
		if balErr != nil && (strings.Contains(balErr.Error(), appSecret) || strings.Contains(balErr.Error(), appKey)) {
			t.Fatalf("balance error carries a credential: %v", balErr)
		}
		definite := code >= 1000 && code <= 4004 || code == fulu.CodeAddFailed
		for name, res := range map[string]suppliers.Result{"card add": card, "direct add": direct} {
			switch res.Status {
			case suppliers.StatusPending:
				if code != fulu.CodeOK && code != fulu.CodeOrderExists {
					t.Fatalf("%s pending on code %d", name, code)
				}
			case suppliers.StatusFailed:
				if !definite {
					t.Fatalf("%s failed (%s) on code %d, which is not definite", name, res.Reason, code)
				}
			case suppliers.StatusNotFound:
				t.Fatalf("%s answered not found", name)
			}
		}
		switch q.Status {
		case suppliers.StatusNotFound:
			if code != fulu.CodeOrderNotFound {
				t.Fatalf("query not found on code %d", code)
			}
		case suppliers.StatusFailed, suppliers.StatusSucceeded, suppliers.StatusPending:
			var o struct {
				No    string `json:"customer_order_no"`
				State string `json:"order_state"`
			}
			// Decoder, not Unmarshal: like the client, read the first value.
			if code != fulu.CodeOK || json.NewDecoder(strings.NewReader(result)).Decode(&o) != nil || o.No != fuzzNo {
				t.Fatalf("query is %s without a signed order %s in the answer: %s", q.Status, fuzzNo, body)
			}
			want := map[suppliers.Status][]string{
				suppliers.StatusFailed:    {fulu.StateFailed},
				suppliers.StatusSucceeded: {fulu.StateSuccess},
				suppliers.StatusPending:   {fulu.StateUntreated, fulu.StateProcessing},
			}[q.Status]
			if !slices.Contains(want, o.State) {
				t.Fatalf("query is %s for order_state %q", q.Status, o.State)
			}
		}
		for i, card := range q.Cards {
			if strings.TrimSpace(card.Number) == "" && strings.TrimSpace(card.Password) == "" {
				t.Fatalf("card %d of a success has neither number nor password", i+1)
			}
		}
	})
}

// FuzzFuluSignedQuery builds a correctly signed fulu.order.info.get answer
// from fuzzed order fields and cards, and checks that the client reads back
// exactly what was sent; then it changes one character of the signed
// result, or of the sign, and checks that the answer is unknown.
func FuzzFuluSignedQuery(f *testing.F) {
	f.Add("24010203040500000002", "success", int64(3), int64(100), "CD1000250201906121742434441", "CP1000250201906121742434441", "2025-12-31 23:59:59", uint(0), int32(1), false)
	f.Add("1", "processing", int64(3), int64(0), "", "", "", uint(5), int32(0x20), true)
	f.Add("2", "failed", int64(4), int64(5000), "", "", "", uint(7), int32(1), false)
	f.Add("3", "success", int64(4), int64(1), "", "", "", uint(9), int32(2), false)
	f.Add("4", "success", int64(3), int64(99_999_999_999), "卡号-中文 ", " ", "", uint(11), int32(3), true)
	f.Add("5", "success", int64(3), int64(100_000_000_000), "x", "y", "", uint(1), int32(1), false)
	f.Add("6", "refunded", int64(3), int64(1), "x", "y", "", uint(1), int32(1), false)
	f.Add("7", "success", int64(3), int64(1), "   ", "\t", "", uint(1), int32(1), false)
	f.Add("8", "success", int64(3), int64(1), "a<b>&c/\"\\", "\x00\x1f", "", uint(1), int32(1), false)

	f.Fuzz(func(t *testing.T, orderID, state string, orderType, priceFen int64, number, pwd, deadline string, pos uint, delta int32, tamperSign bool) {
		cipher, err := fulu.NewCardCipher(appSecret)
		if err != nil {
			t.Fatal(err)
		}
		if priceFen < 0 {
			priceFen = -priceFen
		}
		if priceFen < 0 {
			priceFen = 0 // math.MinInt64
		}
		type fuluCard struct {
			Number   string `json:"card_number"`
			Pwd      string `json:"card_pwd"`
			Deadline string `json:"card_deadline"`
			Type     int    `json:"card_type"`
		}
		ord := struct {
			OrderID    string      `json:"order_id"`
			No         string      `json:"customer_order_no"`
			ProductID  int         `json:"product_id"`
			BuyNum     int         `json:"buy_num"`
			OrderType  int64       `json:"order_type"`
			OrderPrice json.Number `json:"order_price"`
			OrderState string      `json:"order_state"`
			Cards      []fuluCard  `json:"cards"`
		}{OrderID: orderID, No: fuzzNo, ProductID: 10000587, BuyNum: 1, OrderType: orderType,
			// Fulu writes prices with up to four decimals: 1.0000.
			OrderPrice: json.Number(strconv.FormatInt(priceFen/100, 10) + "." + fmt2(priceFen%100) + "00"),
			OrderState: state}
		if orderType == fulu.OrderTypeCard {
			ord.Cards = []fuluCard{{Number: cipher.Encrypt(number), Pwd: cipher.Encrypt(pwd), Deadline: deadline}}
		}
		resultBytes, err := fulu.CompactJSON(ord)
		if err != nil {
			t.Fatal(err)
		}
		result := string(resultBytes)
		sign := fulu.SignText(result, appSecret)

		got := answeringBody(t, []byte(marshalAnswer(0, "成功", result, sign))).Query(context.Background(), fuzzNo)
		want := expectQuery(state, orderType, priceFen, number, pwd, deadline)
		if got.Status != want.Status || got.Reason != want.Reason || !slices.Equal(got.Cards, want.Cards) {
			t.Fatalf("signed answer read as %s %q %q, want %s %q %q (detail %q)", got.Status, got.Reason, got.Cards,
				want.Status, want.Reason, want.Cards, got.Detail)
		}
		if got.Status != suppliers.StatusUnknown && (got.SupplierOrderID != asJSONText(orderID) || got.Cost != money.Amount(priceFen)) {
			t.Fatalf("signed answer read with order id %q and cost %d, want %q and %d", got.SupplierOrderID, got.Cost, orderID, priceFen)
		}

		// One character changed after signing.
		if delta == 0 {
			delta = 1
		}
		if tamperSign {
			b := []byte(sign)
			i := pos % uint(len(b))
			b[i] = "0123456789abcdef"[(strings.IndexByte("0123456789abcdef", b[i])+int(delta&15|1))%16]
			sign = string(b)
		} else {
			r := []rune(result)
			i := pos % uint(len(r))
			c := r[i] ^ delta
			if c == r[i] || !utf8.ValidRune(c) {
				return
			}
			r[i] = c
			result = string(r)
		}
		tampered := answeringBody(t, []byte(marshalAnswer(0, "成功", result, sign))).Query(context.Background(), fuzzNo)
		if tampered.Status != suppliers.StatusUnknown {
			t.Fatalf("answer changed after signing read as %s (%q), want unknown", tampered.Status, tampered.Detail)
		}
	})
}

// asJSONText is s as it reads back from JSON: encoding/json writes each
// byte that is not UTF-8 as U+FFFD, as a conversion to runes does.
func asJSONText(s string) string { return string([]rune(s)) }

// fmt2 writes 0–99 with two digits.
func fmt2(n int64) string { return string([]byte{byte('0' + n/10), byte('0' + n%10)}) }

// expectQuery is what a signed order object means (docs/suppliers.md).
func expectQuery(state string, orderType, priceFen int64, number, pwd, deadline string) suppliers.Result {
	if priceFen > int64(money.Max) {
		return suppliers.Result{Status: suppliers.StatusUnknown}
	}
	switch state {
	case fulu.StateUntreated, fulu.StateProcessing:
		return suppliers.Result{Status: suppliers.StatusPending}
	case fulu.StateFailed:
		return suppliers.Result{Status: suppliers.StatusFailed, Reason: suppliers.ReasonSupplierFailed}
	case fulu.StateSuccess:
	default:
		return suppliers.Result{Status: suppliers.StatusUnknown}
	}
	if orderType != fulu.OrderTypeCard {
		return suppliers.Result{Status: suppliers.StatusSucceeded}
	}
	// A card must decrypt to text and have something to deliver.
	if !utf8.ValidString(number) || !utf8.ValidString(pwd) ||
		strings.TrimSpace(number) == "" && strings.TrimSpace(pwd) == "" {
		return suppliers.Result{Status: suppliers.StatusUnknown}
	}
	return suppliers.Result{Status: suppliers.StatusSucceeded,
		Cards: []card.Card{{Number: number, Password: pwd, ExpiresAt: asJSONText(deadline)}}}
}

// FuzzFuluNotify feeds ParseNotify arbitrary callback bodies, and bodies
// re-signed correctly. Properties: no panic; a callback is accepted only
// with a sign that matches its other fields and a customer_order_no, whose
// number it returns with the reply "success"; a correctly signed callback
// is accepted; one changed byte in a signed callback is refused unless it
// leaves every field as it was (a sign's hex letter case).
func FuzzFuluNotify(f *testing.F) {
	for _, s := range []struct {
		body   string
		resign bool
	}{
		{cb2Body, false},
		{strings.Replace(cb2Body, `"failed"`, `"success"`, 1), false},
		{strings.Replace(cb2Body, `c79c4997`, `C79C4997`, 1), false},
		{cb2Body, true},
		{`{"customer_order_no":"KM1","order_status":"success","price":1.5,"buy_num":1}`, true},
		{`{"customer_order_no":"","order_status":"success"}`, true},
		{`{"customer_order_no":123,"sign":"x"}`, true},
		{`{"sign":""}`, false},
		{`[]`, false},
		{`{"customer_order_no":"KM1"} {}`, false},
		{`null`, false},
	} {
		f.Add([]byte(s.body), s.resign, uint(0), byte(1))
	}

	f.Fuzz(func(t *testing.T, body []byte, resign bool, pos uint, delta byte) {
		c := answeringBody(t, nil)
		if !resign {
			no, reply, err := c.ParseNotify(nil, body)
			if err != nil {
				return
			}
			m, ok := decodeFields(body)
			if !ok {
				t.Fatalf("accepted a callback that is not one JSON object: %q", body)
			}
			sign, _ := m["sign"].(string)
			want, err := fulu.SignMap(m, appSecret)
			if err != nil || !strings.EqualFold(sign, want) {
				t.Fatalf("accepted a callback with sign %q, want %q", sign, want)
			}
			if n, _ := m["customer_order_no"].(string); n == "" || n != no || string(reply) != "success" {
				t.Fatalf("accepted callback returned %q %q for customer_order_no %v", no, reply, m["customer_order_no"])
			}
			return
		}

		m, ok := decodeFields(body)
		if !ok {
			return
		}
		delete(m, "sign")
		sign, err := fulu.SignMap(m, appSecret)
		if err != nil {
			t.Fatal(err)
		}
		m["sign"] = sign
		signed, err := fulu.CompactJSON(m)
		if err != nil {
			t.Fatal(err)
		}
		no, _, err := c.ParseNotify(nil, signed)
		wantNo, _ := m["customer_order_no"].(string)
		if wantNo != "" && (err != nil || no != wantNo) {
			t.Fatalf("correctly signed callback refused (%v) or about %q, want %q: %s", err, no, wantNo, signed)
		}
		if wantNo == "" && err == nil {
			t.Fatalf("callback without a customer_order_no accepted: %s", signed)
		}

		if delta == 0 {
			delta = 1
		}
		changed := bytes.Clone(signed)
		changed[pos%uint(len(changed))] ^= delta
		if _, _, err := c.ParseNotify(nil, changed); err == nil && wantNo != "" {
			after, ok := decodeFields(changed)
			if !ok {
				t.Fatalf("accepted a changed callback that is not one JSON object: %q", changed)
			}
			afterSign, _ := after["sign"].(string)
			delete(after, "sign")
			delete(m, "sign")
			a, _ := fulu.CompactJSON(after)
			b, _ := fulu.CompactJSON(m)
			if !bytes.Equal(a, b) || !strings.EqualFold(afterSign, sign) {
				t.Fatalf("callback changed after signing accepted:\nsigned  %s\nchanged %s", signed, changed)
			}
		}
	})
}

// decodeFields reads one JSON object with numbers kept as text, and nothing
// after it but white space.
func decodeFields(body []byte) (map[string]any, bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var m map[string]any
	if dec.Decode(&m) != nil || m == nil {
		return nil, false
	}
	if len(bytes.TrimSpace(body[dec.InputOffset():])) != 0 {
		return nil, false
	}
	return m, true
}

// FuzzCardCipher decrypts arbitrary card fields and round-trips arbitrary
// card keys. Properties: no panic; whatever decrypts is UTF-8 and encrypts
// back to a field that decrypts to it; a UTF-8 key round-trips exactly and a
// key that is not UTF-8 is refused.
func FuzzCardCipher(f *testing.F) {
	f.Add("12nCp6X/nALmrvr1erxK+D4L8n/kqz/RItKWUfvZrCU=", "CD1000250201906121742434441")
	f.Add("9HeOgdv+NpLihh2+5Gm0Mj4L8n/kqz/RItKWUfvZrCU=", "")
	f.Add(" 12nCp6X/nALmrvr1erxK+D4L8n/kqz/RItKWUfvZrCU=\n", "卡密-中文")
	f.Add("AAAA", strings.Repeat("x", 16))
	f.Add("***", "\xff\xfe")
	f.Add("", "\x10\x10\x10")

	f.Fuzz(func(t *testing.T, field, key string) {
		c, err := fulu.NewCardCipher(appSecret)
		if err != nil {
			t.Fatal(err)
		}
		if plain, err := c.Decrypt(field); err == nil {
			if !utf8.ValidString(plain) {
				t.Fatalf("Decrypt gave text that is not UTF-8: %q", plain)
			}
			if again, err := c.Decrypt(c.Encrypt(plain)); err != nil || again != plain {
				t.Fatalf("re-encrypted %q decrypts to %q, %v", plain, again, err)
			}
		}
		got, err := c.Decrypt(c.Encrypt(key))
		switch {
		case utf8.ValidString(key) && (err != nil || got != key):
			t.Fatalf("round trip of %q = %q, %v", key, got, err)
		case !utf8.ValidString(key) && err == nil:
			t.Fatalf("a key that is not UTF-8 decrypted to %q", got)
		}
	})
}
