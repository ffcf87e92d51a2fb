package acgfaka

import (
	"encoding/json"
	"errors"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"cardflow/internal/money"
)

func mustReply(t *testing.T, data any) string {
	t.Helper()
	b, err := EncodeReply(data)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestEveryReplyHasItsExactJSON(t *testing.T) {
	leave := "留言"
	cases := []struct {
		name string
		data any
		want string
	}{
		{"connect", NewConnectReply("cardflow", 100000), `{"code":200,"msg":"success","data":{"shopName":"cardflow","balance":1000.00}}`},
		{"connect on credit shows 0", NewConnectReply("cardflow", -150), `{"code":200,"msg":"success","data":{"shopName":"cardflow","balance":0.00}}`},
		{"stock", StockReply{Stock: 12}, `{"code":200,"msg":"success","data":{"stock":"12"}}`},
		{"stock unlimited", StockReply{Stock: Unlimited}, `{"code":200,"msg":"success","data":{"stock":"999999"}}`},
		{"valuation", ValuationReply{Price: 1700}, `{"code":200,"msg":"success","data":{"price":"17.00"}}`},
		{
			"trade",
			TradeReply{URL: "https://cf.example.com/o/12", Amount: 1700, TradeNo: "12", Secret: "KEY-1\nKEY-2", Stock: 10},
			`{"code":200,"msg":"success","data":{"url":"https://cf.example.com/o/12","amount":"17.00","tradeNo":"12","secret":"KEY-1\nKEY-2","leave_message":null,"stock":"10"}}`,
		},
		{
			"trade with a message and a key holding & and <",
			TradeReply{TradeNo: "13", Secret: "A&B<C", LeaveMessage: &leave},
			`{"code":200,"msg":"success","data":{"url":"","amount":"0.00","tradeNo":"13","secret":"A&B<C","leave_message":"留言","stock":"0"}}`,
		},
		{
			"inventory",
			InventoryReply{Count: 5, Price: 950, UserPrice: 950, FactoryPrice: 950},
			`{"code":200,"msg":"success","data":{"count":5,"delivery_way":0,"draft_status":0,"price":9.50,"user_price":9.50,"config":"","factory_price":9.50,"is_category":false}}`,
		},
		{"inventoryState", InventoryStateReply, `{"code":200,"msg":"success","data":[]}`},
		{
			"query",
			QueryReply{Secret: "K", Widget: map[string]QueryWidget{"account": {Value: "10001", Label: "充值账号"}}, Status: 1},
			`{"code":200,"msg":"success","data":{"secret":"K","widget":{"account":{"value":"10001","cn":"充值账号"}},"status":1}}`,
		},
		{"query without widgets", QueryReply{Secret: "K", Status: 1}, `{"code":200,"msg":"success","data":{"secret":"K","widget":null,"status":1}}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := mustReply(t, c.data); got != c.want {
				t.Errorf("\n got %s\nwant %s", got, c.want)
			}
		})
	}
}

// itemFields are the keys every item carries: what acg-faka's importer
// reads and its 同步 copies into NOT NULL columns, and what older
// acg-faka's import reads besides (delivery_way, sort).
var itemFields = []string{
	"code", "config", "contact_type", "cover", "delivery_way", "description", "draft_premium", "draft_status",
	"factory_price", "id", "inventory_hidden", "maximum", "minimum", "name", "only_user", "password_status",
	"price", "purchase_count", "seckill_end_time", "seckill_start_time", "seckill_status", "sort", "stock",
	"user_price", "widget",
}

func TestAnItemCarriesEveryFieldASyncCopies(t *testing.T) {
	it := Item{ID: 1001, Code: "1001", Name: "Q币10元", Price: 950, UserPrice: 950, FactoryPrice: 950, Stock: 7}
	var got map[string]json.RawMessage
	if err := json.Unmarshal([]byte(mustReply(t, it)), &struct {
		Data *map[string]json.RawMessage `json:"data"`
	}{&got}); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range got {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if !slices.Equal(keys, itemFields) {
		t.Errorf("item keys\n got %v\nwant %v", keys, itemFields)
	}
	want := map[string]string{
		"id": `1001`, "code": `"1001"`, "price": `9.50`, "factory_price": `9.50`, "stock": `7`, "widget": `"[]"`,
		"config": `""`, "contact_type": `0`, "seckill_start_time": `null`, "seckill_end_time": `null`, "draft_premium": `0`,
	}
	for k, v := range want {
		if string(got[k]) != v {
			t.Errorf("%s = %s, want %s", k, got[k], v)
		}
	}
}

func TestWidgetsAreAJSONStringHoldingTheArray(t *testing.T) {
	it := Item{Widget: Widgets{{Label: "充值账号", Name: "account", Type: "text", Regex: `^\d{5,11}$`}}}
	b, err := json.Marshal(it)
	if err != nil {
		t.Fatal(err)
	}
	var outer struct {
		Widget string `json:"widget"`
	}
	if err := json.Unmarshal(b, &outer); err != nil {
		t.Fatal(err)
	}
	want := `[{"cn":"充值账号","name":"account","placeholder":"","type":"text","regex":"^\\d{5,11}$","error":"","dict":""}]`
	if outer.Widget != want {
		t.Errorf("widget string\n got %s\nwant %s", outer.Widget, want)
	}
}

func TestTheItemsTreeNestsItemsUnderGroups(t *testing.T) {
	tree := []Group{{ID: 1, Name: "Q币", Children: []Item{{ID: 1001, Code: "1001", Name: "Q币10元"}}}}
	got := mustReply(t, tree)
	if !strings.HasPrefix(got, `{"code":200,"msg":"success","data":[{"id":1,"name":"Q币","children":[{"id":1001,"code":"1001","name":"Q币10元",`) {
		t.Errorf("tree: %s", got)
	}
}

func TestARefusalIsCodeZeroWithItsMessage(t *testing.T) {
	cases := []struct {
		err  error
		want string
	}{
		{ErrBadSign, `{"code":0,"msg":"密钥错误"}`},
		{&Error{Msg: "商品暂时缺货，请稍后再试"}, `{"code":0,"msg":"商品暂时缺货，请稍后再试"}`},
		{errors.New("bbolt: disk full at /var/lib/cardflow"), `{"code":0,"msg":"系统繁忙，请稍后再试"}`},
	}
	for _, c := range cases {
		if got := string(EncodeError(c.err)); got != c.want {
			t.Errorf("EncodeError(%v) = %s, want %s", c.err, got, c.want)
		}
	}
}

func TestWriteAnswersJSONWithStatus200(t *testing.T) {
	w := httptest.NewRecorder()
	WriteError(w, ErrUnknownPath)
	if w.Code != 200 || w.Header().Get("Content-Type") != "application/json; charset=utf-8" || w.Body.String() != `{"code":0,"msg":"接口不存在"}` {
		t.Errorf("%d %q %s", w.Code, w.Header().Get("Content-Type"), w.Body)
	}
	w = httptest.NewRecorder()
	WriteReply(w, StockReply{Stock: 1})
	if w.Code != 200 || w.Body.String() != `{"code":200,"msg":"success","data":{"stock":"1"}}` {
		t.Errorf("%d %s", w.Code, w.Body)
	}
}

func TestItemCheckRefusesWhatAShopWouldSkip(t *testing.T) {
	good := Item{ID: 1001, Code: "1001", Name: "Q币", Widget: Widgets{{Name: "account"}}}
	if err := good.Check(); err != nil {
		t.Fatalf("good item refused: %v", err)
	}
	cases := map[string]func(*Item){
		"id 0":                  func(it *Item) { it.ID = 0 },
		"id 4294967296":         func(it *Item) { it.ID = 4294967296 },
		"empty code":            func(it *Item) { it.Code = "" },
		"code with a space":     func(it *Item) { it.Code = "10 01" },
		"code of 65 characters": func(it *Item) { it.Code = strings.Repeat("1", 65) },
		"empty name":            func(it *Item) { it.Name = "" },
		"name of 256 runes":     func(it *Item) { it.Name = strings.Repeat("币", 256) },
		"negative price":        func(it *Item) { it.Price = -1 },
		"negative stock":        func(it *Item) { it.Stock = -1 },
		"cover of 2049 bytes":   func(it *Item) { it.Cover = strings.Repeat("x", 2049) },
		"widget name with '-'":  func(it *Item) { it.Widget = Widgets{{Name: "acc-ount"}} },
		"widget name a digit":   func(it *Item) { it.Widget = Widgets{{Name: "1a"}} },
		"widget named num":      func(it *Item) { it.Widget = Widgets{{Name: "num"}} },
		"two widgets one name":  func(it *Item) { it.Widget = Widgets{{Name: "a"}, {Name: "a"}} },
		"33 widgets":            func(it *Item) { it.Widget = make(Widgets, 33) },
	}
	for name, change := range cases {
		it := good
		change(&it)
		if err := it.Check(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestYuanIsANumberWithTwoDecimals(t *testing.T) {
	for a, want := range map[money.Amount]string{0: "0.00", 5: "0.05", 950: "9.50", 99_999_999_999: "999999999.99"} {
		b, err := json.Marshal(Yuan(a))
		if err != nil || string(b) != want {
			t.Errorf("Yuan(%d) = %s, %v; want %s", a, b, err, want)
		}
	}
}
