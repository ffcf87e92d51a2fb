package acgfaka

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// keys knows one shop, the vectors' app_id.
func keys(appID string) (string, bool) {
	if appID == vectorAppID {
		return vectorAppKey, true
	}
	return "", false
}

// signed builds a signed body from fields in send order, credentials
// appended as acg-faka's client does. Values are escaped with
// url.QueryEscape, which differs from PHP's encoder only in '~' and '*'.
func signed(fields ...Field) []byte {
	fields = append(fields, Field{"app_id", vectorAppID}, Field{"app_key", vectorAppKey})
	fields = append(fields, Field{"sign", Sign(fields, vectorAppKey)})
	var b strings.Builder
	for i, f := range fields {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(f.Name) + "=" + url.QueryEscape(f.Value))
	}
	return []byte(b.String())
}

func TestTheA3AndA4WireBodiesParseAsTrades(t *testing.T) {
	r, err := ParseRequest(PathTrade, []byte(vectors[2].wire), keys)
	if err != nil {
		t.Fatal(err)
	}
	a3, err := r.Trade()
	if err != nil {
		t.Fatal(err)
	}
	want := TradeRequest{
		Code: "ABCDEF1234567890", Num: 2, Race: "月卡", SKU: []Field{{"区服", "亚服"}, {"版本", "标准"}},
		RequestNo: "123456789012345678", Contact: "buyer@example.com",
	}
	if !equalTrade(a3, want) || r.AppID != vectorAppID {
		t.Errorf("A3 parsed as %+v (app %s), want %+v", a3, r.AppID, want)
	}

	r, err = ParseRequest(PathTrade, []byte(vectors[3].wire), keys)
	if err != nil {
		t.Fatal(err)
	}
	a4, err := r.Trade()
	if err != nil {
		t.Fatal(err)
	}
	want = TradeRequest{Code: "1001", Num: 1, RequestNo: "583920174628301745", Contact: "x", Widgets: []Field{{"account", "a b+c@x"}}}
	if !equalTrade(a4, want) {
		t.Errorf("A4 parsed as %+v, want %+v", a4, want)
	}
	if acct, ok := a4.Widget("account"); !ok || acct != "a b+c@x" {
		t.Errorf("Widget(account) = %q, %v", acct, ok)
	}
}

func equalTrade(a, b TradeRequest) bool {
	return a.Code == b.Code && a.Num == b.Num && a.Race == b.Race && a.RequestNo == b.RequestNo &&
		a.Contact == b.Contact && slices.Equal(a.SKU, b.SKU) && slices.Equal(a.Widgets, b.Widgets)
}

func TestTheMcyV3PluginsTradeParses(t *testing.T) {
	// It sends no contact, card_id, device or password.
	body := signed(Field{"shared_code", "1001"}, Field{"num", "3"}, Field{"race", ""}, Field{"request_no", "2026010112000012345"}, Field{"account", "10001"})
	r, err := ParseRequest(PathTrade, body, keys)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := r.Trade()
	if err != nil {
		t.Fatal(err)
	}
	if tr.Code != "1001" || tr.Num != 3 || tr.RequestNo != "2026010112000012345" || !slices.Equal(tr.Widgets, []Field{{"account", "10001"}}) {
		t.Errorf("parsed as %+v", tr)
	}
}

// TestEveryEndpointReadsItsFields parses one signed call of each endpoint.
func TestEveryEndpointReadsItsFields(t *testing.T) {
	sku := []Field{{"sku[区服]", "亚服"}}
	t.Run("connect and items carry nothing", func(t *testing.T) {
		for _, p := range []string{PathConnect, PathItems} {
			r, err := ParseRequest(p, signed(), keys)
			if err != nil || r.Path != p || r.AppID != vectorAppID {
				t.Errorf("%s: %+v, %v", p, r, err)
			}
		}
	})
	t.Run("item by code", func(t *testing.T) {
		r := mustParse(t, PathItem, signed(Field{"code", "1001"}))
		if it, err := r.Item(); err != nil || it != (ItemRequest{Code: "1001"}) {
			t.Errorf("%+v, %v", it, err)
		}
	})
	t.Run("item by sharedCode asks for a tree", func(t *testing.T) {
		r := mustParse(t, PathItem, signed(Field{"sharedCode", "1001"}))
		if it, err := r.Item(); err != nil || it != (ItemRequest{Code: "1001", Tree: true}) {
			t.Errorf("%+v, %v", it, err)
		}
	})
	t.Run("stock", func(t *testing.T) {
		r := mustParse(t, PathStock, signed(append([]Field{{"code", "1001"}, {"race", "月卡"}}, sku...)...))
		s, err := r.Stock()
		if err != nil || s.Code != "1001" || s.Race != "月卡" || !slices.Equal(s.SKU, []Field{{"区服", "亚服"}}) {
			t.Errorf("%+v, %v", s, err)
		}
	})
	t.Run("valuation", func(t *testing.T) {
		r := mustParse(t, PathValuation, signed(append([]Field{{"code", "1001"}, {"num", "5"}, {"race", ""}}, append(sku, Field{"card_id", "0"})...)...))
		v, err := r.Valuation()
		if err != nil || v.Code != "1001" || v.Num != 5 || v.Race != "" || len(v.SKU) != 1 {
			t.Errorf("%+v, %v", v, err)
		}
	})
	t.Run("inventory", func(t *testing.T) {
		r := mustParse(t, PathInventory, signed(Field{"sharedCode", "1001"}, Field{"race", "月卡"}))
		if v, err := r.Inventory(); err != nil || v != (InventoryRequest{Code: "1001", Race: "月卡"}) {
			t.Errorf("%+v, %v", v, err)
		}
	})
	t.Run("inventoryState", func(t *testing.T) {
		r := mustParse(t, PathInventoryState, signed(Field{"shared_code", "1001"}, Field{"race", ""}, Field{"num", "2"}))
		if v, err := r.InventoryState(); err != nil || v != (InventoryStateRequest{Code: "1001", Num: 2}) {
			t.Errorf("%+v, %v", v, err)
		}
	})
	t.Run("query", func(t *testing.T) {
		r := mustParse(t, PathQuery, signed(Field{"tradeNo", "12"}))
		if v, err := r.Query(); err != nil || v != (QueryRequest{TradeNo: "12"}) {
			t.Errorf("%+v, %v", v, err)
		}
	})
}

func mustParse(t *testing.T, path string, body []byte) *Request {
	t.Helper()
	r, err := ParseRequest(path, body, keys)
	if err != nil {
		t.Fatalf("ParseRequest(%s): %v", path, err)
	}
	return r
}

// TestBadCallsGetTheProtocolsRefusal lists every bad input tried and the
// refusal it gets.
func TestBadCallsGetTheProtocolsRefusal(t *testing.T) {
	long := strings.Repeat("9", 65)
	cases := []struct {
		name string
		path string
		body []byte
		call func(*Request) error
		want *Error
	}{
		{"unknown path", "/shared/commodity/nothing", signed(), nil, ErrUnknownPath},
		{"path outside the prefix", "/shared", signed(), nil, ErrUnknownPath},
		{"no app_id", PathConnect, []byte("app_key=x&sign=y"), nil, ErrUnknownApp},
		{"app_id as an array", PathConnect, []byte("app_id%5B%5D=1024&sign=y"), nil, ErrUnknownApp},
		{"unknown app_id", PathConnect, []byte("app_id=1025&app_key=x&sign=y"), nil, ErrUnknownApp},
		{"empty body", PathConnect, nil, nil, ErrUnknownApp},
		{"JSON body", PathConnect, []byte(`{"app_id":"1024"}`), nil, ErrUnknownApp},
		{"bad sign", PathConnect, []byte("app_id=1024&app_key=8F3A2C9D1E7B6A54&sign=0"), nil, ErrBadSign},
		{"no sign", PathConnect, []byte("app_id=1024&app_key=8F3A2C9D1E7B6A54"), nil, ErrBadSign},
		{"draftCard", PathDraftCard, signed(Field{"code", "1"}), nil, ErrNoDraft},
		{"draft", PathDraft, signed(Field{"code", "1"}, Field{"card_id", "3"}), nil, ErrNoDraft},
		{"item without a code", PathItem, signed(), item, ErrNoCode},
		{"item with an empty code", PathItem, signed(Field{"code", ""}), item, ErrNoCode},
		{"item code with a space", PathItem, signed(Field{"code", "10 01"}), item, ErrNoItem},
		{"item code of 65 characters", PathItem, signed(Field{"sharedCode", long}), item, ErrNoItem},
		{"stock without a code", PathStock, signed(Field{"race", "x"}), stock, ErrNoCode},
		{"stock race not UTF-8", PathStock, signed(Field{"code", "1"}, Field{"race", "\xff"}), stock, ErrBadField},
		{"stock sku option of 256 bytes", PathStock, signed(Field{"code", "1"}, Field{"sku[a]", strings.Repeat("x", 256)}), stock, ErrBadField},
		{"valuation without num", PathValuation, signed(Field{"code", "1"}), valuation, ErrBadNum},
		{"valuation num 0", PathValuation, signed(Field{"code", "1"}, Field{"num", "0"}), valuation, ErrBadNum},
		{"valuation card_id 7", PathValuation, signed(Field{"code", "1"}, Field{"num", "1"}, Field{"card_id", "7"}), valuation, ErrNoDraft},
		{"valuation card_id x", PathValuation, signed(Field{"code", "1"}, Field{"num", "1"}, Field{"card_id", "x"}), valuation, ErrBadField},
		{"trade num -1", PathTrade, tradeWith("num", "-1"), trade, ErrBadNum},
		{"trade num 1.5", PathTrade, tradeWith("num", "1.5"), trade, ErrBadNum},
		{"trade num 10001", PathTrade, tradeWith("num", "10001"), trade, ErrBadNum},
		{"trade num 9999999999", PathTrade, tradeWith("num", "9999999999"), trade, ErrBadNum},
		{"trade without shared_code", PathTrade, tradeWith("shared_code", ""), trade, ErrNoCode},
		{"trade without request_no", PathTrade, tradeWith("request_no", ""), trade, ErrNoOrderNo},
		{"trade request_no with a space", PathTrade, tradeWith("request_no", "12 34"), trade, ErrBadOrderNo},
		{"trade request_no of 65 characters", PathTrade, tradeWith("request_no", long), trade, ErrBadOrderNo},
		{"trade request_no not ASCII", PathTrade, tradeWith("request_no", "单号"), trade, ErrBadOrderNo},
		{"trade card_id 1", PathTrade, tradeWith("card_id", "1"), trade, ErrNoDraft},
		{"trade contact of 256 bytes", PathTrade, tradeWith("contact", strings.Repeat("c", 256)), trade, ErrBadField},
		{"trade widget of 1025 bytes", PathTrade, tradeWith("account", strings.Repeat("a", 1025)), trade, ErrBadField},
		{"trade widget not UTF-8", PathTrade, tradeWith("account", "\xc3"), trade, ErrBadField},
		{"trade with 33 widgets", PathTrade, tradeWidgets(33), trade, ErrBadField},
		{"inventory without sharedCode", PathInventory, signed(Field{"code", "1"}), inventory, ErrNoCode},
		{"inventoryState num x", PathInventoryState, signed(Field{"shared_code", "1"}, Field{"num", "x"}), inventoryState, ErrBadNum},
		{"query without tradeNo", PathQuery, signed(), query, ErrNoOrderNo},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := ParseRequest(c.path, c.body, keys)
			if err == nil && c.call != nil {
				err = c.call(r)
			}
			if !errors.Is(err, c.want) {
				t.Errorf("got %v, want %v", err, c.want)
			}
		})
	}
}

func item(r *Request) error           { _, err := r.Item(); return err }
func stock(r *Request) error          { _, err := r.Stock(); return err }
func valuation(r *Request) error      { _, err := r.Valuation(); return err }
func trade(r *Request) error          { _, err := r.Trade(); return err }
func inventory(r *Request) error      { _, err := r.Inventory(); return err }
func inventoryState(r *Request) error { _, err := r.InventoryState(); return err }
func query(r *Request) error          { _, err := r.Query(); return err }

// tradeWith is a good trade with one field set to value.
func tradeWith(name, value string) []byte {
	fields := []Field{{"shared_code", "1001"}, {"contact", "x"}, {"num", "1"}, {"card_id", "0"}, {"request_no", "583920174628301745"}}
	for i := range fields {
		if fields[i].Name == name {
			fields[i].Value = value
			return signed(fields...)
		}
	}
	return signed(append(fields, Field{name, value})...)
}

func tradeWidgets(n int) []byte {
	fields := []Field{{"shared_code", "1001"}, {"num", "1"}, {"request_no", "1"}}
	for i := range n {
		fields = append(fields, Field{"w" + strings.Repeat("x", i), "v"})
	}
	return signed(fields...)
}

func TestNoRefusalShowsTheKey(t *testing.T) {
	for _, body := range [][]byte{
		[]byte("app_id=1024&app_key=8F3A2C9D1E7B6A54&sign=0"),
		tradeWith("num", "x"),
		tradeWith("request_no", vectorAppKey+" "),
	} {
		_, err := ParseRequest(PathTrade, body, keys)
		if err == nil {
			r, _ := ParseRequest(PathTrade, body, keys)
			_, err = r.Trade()
		}
		if err == nil || strings.Contains(err.Error(), vectorAppKey) || bytes.Contains(EncodeError(err), []byte(vectorAppKey)) {
			t.Errorf("refusal %v shows the key or is missing", err)
		}
	}
}

func TestABodyOverTheLimitIsRefused(t *testing.T) {
	for _, n := range []int{MaxBody, MaxBody + 1} {
		req := httptest.NewRequest(http.MethodPost, PathTrade, bytes.NewReader(bytes.Repeat([]byte("a"), n)))
		body, err := ReadBody(httptest.NewRecorder(), req)
		switch {
		case n == MaxBody && (err != nil || len(body) != n):
			t.Errorf("%d bytes: %d read, %v", n, len(body), err)
		case n > MaxBody && !errors.Is(err, ErrTooLarge):
			t.Errorf("%d bytes: %v, want ErrTooLarge", n, err)
		}
	}
}
