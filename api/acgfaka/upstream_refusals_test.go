package acgfaka_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"cardflow/api/acgfaka"
)

// TestEveryBadCallGetsItsRefusalAsJSONAt200: each bad call, sent as bytes
// on the wire, is answered HTTP 200 with {"code":0,"msg":…}, the message
// the protocol gives it, and no key in it. Tried: a wrong signature, an
// unknown app_id, a body changed after signing, a body over 64 KiB, an
// unknown path under /shared/, the bare /shared, a GET, a num that is not
// a number, an unknown item code, a top-up's code, a request_no the order
// store does not take, a num over the product's limit, a pre-selected
// card.
func TestEveryBadCallGetsItsRefusalAsJSONAt200(t *testing.T) {
	r := newRig(t, nil)
	r.TopUp(t, shopID, 100)
	r.Stock(t, "qb-10", "QB-1")
	trade := func(replace ...string) string {
		fields := []acgfaka.Field{{Name: "shared_code", Value: codeQB}, {Name: "contact", Value: "x"}, {Name: "num", Value: "1"},
			{Name: "card_id", Value: "0"}, {Name: "device", Value: "0"}, {Name: "password", Value: ""}, {Name: "race", Value: ""},
			{Name: "request_no", Value: "202611251200009999"}}
		for i := 0; i < len(replace); i += 2 {
			for j := range fields {
				if fields[j].Name == replace[i] {
					fields[j].Value = replace[i+1]
				}
			}
		}
		return r.shop.Body(fields)
	}
	good := trade()
	cases := []struct {
		name, method, path, body string
		want                     *acgfaka.Error
	}{
		{"a wrong signature", "POST", acgfaka.PathTrade, good[:strings.LastIndex(good, "=")+1] + strings.Repeat("0", 32), acgfaka.ErrBadSign},
		{"an unknown app_id", "POST", acgfaka.PathConnect, "app_id=nobody&app_key=x&sign=0", acgfaka.ErrUnknownApp},
		{"no app_id", "POST", acgfaka.PathConnect, "", acgfaka.ErrUnknownApp},
		{"a body changed after signing", "POST", acgfaka.PathTrade, strings.Replace(good, "num=1", "num=9", 1), acgfaka.ErrBadSign},
		{"the other shop's key", "POST", acgfaka.PathConnect, strings.Replace(r.other.Body(nil), "app_id="+otherID, "app_id="+shopID, 1), acgfaka.ErrBadSign},
		{"a body over 64 KiB", "POST", acgfaka.PathTrade, good + "&pad=" + strings.Repeat("a", acgfaka.MaxBody), acgfaka.ErrTooLarge},
		{"an unknown path", "POST", "/shared/commodity/nothing", good, acgfaka.ErrUnknownPath},
		{"an unknown controller", "POST", "/shared/x/y/z", good, acgfaka.ErrUnknownPath},
		{"the bare prefix", "POST", "/shared", good, acgfaka.ErrUnknownPath},
		{"a GET", "GET", acgfaka.PathConnect, "", acgfaka.ErrUnknownPath},
		{"a draft", "POST", acgfaka.PathDraftCard, r.shop.Body([]acgfaka.Field{{Name: "code", Value: codeQB}}), acgfaka.ErrNoDraft},
		{"num x", "POST", acgfaka.PathTrade, trade("num", "x"), acgfaka.ErrBadNum},
		{"num 11, over max_quantity", "POST", acgfaka.PathTrade, trade("num", "11"), acgfaka.ErrBadNum},
		{"an unknown code", "POST", acgfaka.PathTrade, trade("shared_code", "4242"), acgfaka.ErrNoItem},
		{"a top-up's code", "POST", acgfaka.PathTrade, trade("shared_code", codeMobile), acgfaka.ErrNoItem},
		{"a SKU for a code", "POST", acgfaka.PathTrade, trade("shared_code", "qb-10"), acgfaka.ErrNoItem},
		{"a request_no with a slash", "POST", acgfaka.PathTrade, trade("request_no", "2026/11/25-1"), acgfaka.ErrBadOrderNo},
		{"a pre-selected card", "POST", acgfaka.PathTrade, trade("card_id", "7"), acgfaka.ErrNoDraft},
		{"no request_no", "POST", acgfaka.PathTrade, trade("request_no", ""), acgfaka.ErrNoOrderNo},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, err := http.NewRequest(c.method, r.API.URL+c.path, strings.NewReader(c.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			var got struct {
				Code *int   `json:"code"`
				Msg  string `json:"msg"`
			}
			if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") ||
				json.Unmarshal(body, &got) != nil || got.Code == nil || *got.Code != 0 || got.Msg != c.want.Msg {
				t.Errorf("%d %s %s, want 200 code 0 %q", resp.StatusCode, resp.Header.Get("Content-Type"), body, c.want.Msg)
			}
			if strings.Contains(string(body), shopKey) {
				t.Error("the answer shows the key")
			}
		})
	}
	if b := r.Balance(t, shopID); b != 10000 {
		t.Errorf("balance %s: a refused call was charged", b)
	}
	if levels, _ := r.Engine.StockLevels(); levels["qb-10"] != 1 {
		t.Errorf("stock %d: a refused call took a key", levels["qb-10"])
	}
}
