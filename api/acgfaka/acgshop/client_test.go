package acgshop

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"cardflow/api/acgfaka"
	"cardflow/internal/money"
)

const (
	appID  = "1024"
	appKey = "8F3A2C9D1E7B6A54"
)

func TestTheBodiesMatchThePublishedWireBodies(t *testing.T) {
	c := &Client{AppID: appID, AppKey: appKey}
	a3 := []acgfaka.Field{
		{Name: "shared_code", Value: "ABCDEF1234567890"}, {Name: "contact", Value: "buyer@example.com"}, {Name: "num", Value: "2"},
		{Name: "card_id", Value: "0"}, {Name: "device", Value: "0"}, {Name: "password", Value: ""}, {Name: "race", Value: "月卡"},
		{Name: "request_no", Value: "123456789012345678"}, {Name: "sku[区服]", Value: "亚服"}, {Name: "sku[版本]", Value: "标准"},
	}
	want := "shared_code=ABCDEF1234567890&contact=buyer%40example.com&num=2&card_id=0&device=0&password=&race=%E6%9C%88%E5%8D%A1&request_no=123456789012345678&sku%5B%E5%8C%BA%E6%9C%8D%5D=%E4%BA%9A%E6%9C%8D&sku%5B%E7%89%88%E6%9C%AC%5D=%E6%A0%87%E5%87%86&app_id=1024&app_key=8F3A2C9D1E7B6A54&sign=f7f8a9ce8e0ed44908af0afacb33c593"
	if got := c.Body(a3); got != want {
		t.Errorf("A3 body\n got %s\nwant %s", got, want)
	}
	a4 := []acgfaka.Field{
		{Name: "shared_code", Value: "1001"}, {Name: "contact", Value: "x"}, {Name: "num", Value: "1"}, {Name: "card_id", Value: "0"},
		{Name: "device", Value: "0"}, {Name: "password", Value: ""}, {Name: "race", Value: ""},
		{Name: "request_no", Value: "583920174628301745"}, {Name: "account", Value: "a b+c@x"},
	}
	want = "shared_code=1001&contact=x&num=1&card_id=0&device=0&password=&race=&request_no=583920174628301745&account=a+b%2Bc%40x&app_id=1024&app_key=8F3A2C9D1E7B6A54&sign=27b9ab8f512c261d6b2276fe0c9fba11"
	if got := c.Body(a4); got != want {
		t.Errorf("A4 body\n got %s\nwant %s", got, want)
	}
	if got := c.Body(nil); got != "app_id=1024&app_key=8F3A2C9D1E7B6A54&sign=07bf581b48cc04485a688ec49f481368" {
		t.Errorf("A1 body: %s", got)
	}
}

func TestBuildQueryEscapesAsPHPsURLEncode(t *testing.T) {
	got := BuildQuery([]acgfaka.Field{{Name: "a.b-c_d", Value: "~*' !\n/"}})
	if want := "a.b-c_d=%7E%2A%27+%21%0A%2F"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

// upstream is a tiny shared store on loopback, built on acgfaka, that
// records the bodies it receives.
type upstream struct {
	mu     sync.Mutex
	bodies []string
}

func (u *upstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := acgfaka.ReadBody(w, r)
	if err != nil {
		acgfaka.WriteError(w, err)
		return
	}
	u.mu.Lock()
	u.bodies = append(u.bodies, string(body))
	u.mu.Unlock()
	req, err := acgfaka.ParseRequest(r.URL.Path, body, func(id string) (string, bool) { return appKey, id == appID })
	if err != nil {
		acgfaka.WriteError(w, err)
		return
	}
	item := acgfaka.Item{ID: 1001, Code: "1001", Name: "Q币10元", Price: 950, UserPrice: 950, FactoryPrice: 950, Stock: 3,
		Widget: acgfaka.Widgets{{Label: "充值账号", Name: "account", Type: "text"}}}
	switch req.Path {
	case acgfaka.PathConnect:
		acgfaka.WriteReply(w, acgfaka.NewConnectReply("cardflow", 100000))
	case acgfaka.PathItems:
		acgfaka.WriteReply(w, []acgfaka.Group{{ID: 1, Name: "Q币", Children: []acgfaka.Item{item}}})
	case acgfaka.PathItem:
		q, err := req.Item()
		switch {
		case err != nil:
			acgfaka.WriteError(w, err)
		case q.Code != item.Code:
			acgfaka.WriteError(w, acgfaka.ErrNoItem)
		default:
			acgfaka.WriteReply(w, item)
		}
	case acgfaka.PathStock:
		q, err := req.Stock()
		if err != nil {
			acgfaka.WriteError(w, err)
			return
		}
		acgfaka.WriteReply(w, acgfaka.StockReply{Stock: 3 + len(q.SKU)})
	case acgfaka.PathValuation:
		q, err := req.Valuation()
		if err != nil {
			acgfaka.WriteError(w, err)
			return
		}
		acgfaka.WriteReply(w, acgfaka.ValuationReply{Price: 950 * money.Amount(q.Num)})
	case acgfaka.PathTrade:
		q, err := req.Trade()
		if err != nil {
			acgfaka.WriteError(w, err)
			return
		}
		if q.Num > 3 {
			acgfaka.WriteError(w, &acgfaka.Error{Msg: "<b>商品暂时缺货</b>，请稍后再试"})
			return
		}
		acct, _ := q.Widget("account")
		acgfaka.WriteReply(w, acgfaka.TradeReply{URL: "/o/12", Amount: 950 * money.Amount(q.Num), TradeNo: "12",
			Secret: strings.Repeat("KEY-"+acct+"\n", q.Num-1) + "KEY-" + acct, Stock: 3 - q.Num})
	default:
		acgfaka.WriteError(w, acgfaka.ErrUnknownPath)
	}
}

func (u *upstream) last() string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.bodies[len(u.bodies)-1]
}

func start(t *testing.T) (*upstream, *Client) {
	t.Helper()
	u := &upstream{}
	srv := httptest.NewServer(u)
	t.Cleanup(srv.Close)
	return u, New(srv.URL+"/", appID, appKey, 5*time.Second)
}

func TestAShopConnectsImportsAndBuysOverLoopback(t *testing.T) {
	u, c := start(t)
	ctx := context.Background()

	conn, err := c.Connect(ctx)
	if err != nil || conn.ShopName != "cardflow" || conn.Balance != "1000.00" {
		t.Fatalf("connect: %+v, %v", conn, err)
	}
	if !strings.Contains(u.last(), "app_key="+appKey) {
		t.Errorf("app_key not sent in clear: %s", u.last())
	}

	groups, err := c.Items(ctx)
	if err != nil || len(groups) != 1 || len(groups[0].Children) != 1 || groups[0].Children[0].Code != "1001" {
		t.Fatalf("items: %+v, %v", groups, err)
	}

	it, err := c.Sync(ctx, "1001")
	if err != nil || it.Name != "Q币10元" || it.Price != "9.50" || it.Stock != "3" {
		t.Fatalf("sync: %+v, %v", it, err)
	}
	if it.Widget != `[{"cn":"充值账号","name":"account","placeholder":"","type":"text","regex":"","error":"","dict":""}]` {
		t.Errorf("widget: %s", it.Widget)
	}

	sku := []acgfaka.Field{{Name: "区服", Value: "亚服"}}
	if n, err := c.Stock(ctx, "1001", "", sku); err != nil || n != "4" {
		t.Errorf("stock with one sku option: %q, %v", n, err)
	}
	if !strings.Contains(u.last(), "sku%5B%E5%8C%BA%E6%9C%8D%5D=%E4%BA%9A%E6%9C%8D") {
		t.Errorf("sku not nested on the wire: %s", u.last())
	}
	if p, err := c.Valuation(ctx, "1001", 2, "", nil); err != nil || p != "19.00" {
		t.Errorf("valuation: %q, %v", p, err)
	}

	tr, err := c.Trade(ctx, Order{Code: "1001", Contact: "x", Num: 2, RequestNo: "583920174628301745",
		Widgets: []acgfaka.Field{{Name: "account", Value: "a b+c@x"}}})
	if err != nil || tr.Secret != "KEY-a b+c@x\nKEY-a b+c@x" || tr.TradeNo != "12" || string(tr.Amount) != `"19.00"` || string(tr.Stock) != `"1"` {
		t.Fatalf("trade: %+v, %v", tr, err)
	}
	body := u.last()
	if !strings.HasPrefix(body, "shared_code=1001&contact=x&num=2&card_id=0&device=0&password=&race=&request_no=583920174628301745&account=a+b%2Bc%40x&app_id=1024&app_key=") {
		t.Errorf("trade body: %s", body)
	}
}

func TestThePluginsTradeSendsOnlyItsFields(t *testing.T) {
	u, c := start(t)
	tr, err := c.Trade(context.Background(), Order{Code: "1001", Num: 1, RequestNo: "2026010112000012345", Plugin: true,
		Widgets: []acgfaka.Field{{Name: "account", Value: "10001"}}})
	if err != nil || tr.Secret != "KEY-10001" {
		t.Fatalf("trade: %+v, %v", tr, err)
	}
	names := []string{}
	for _, f := range acgfaka.ParseForm([]byte(u.last())).Fields() {
		names = append(names, f.Name)
	}
	if want := []string{"shared_code", "num", "race", "request_no", "account", "app_id", "app_key", "sign"}; !slices.Equal(names, want) {
		t.Errorf("fields %v, want %v", names, want)
	}
}

func TestARefusalShowsTheUpstreamsMessageWithoutTags(t *testing.T) {
	_, c := start(t)
	ctx := context.Background()
	cases := []struct {
		name string
		call func() error
		want string
	}{
		{"out of stock", func() error { _, err := c.Trade(ctx, Order{Code: "1001", Num: 4, RequestNo: "1"}); return err }, "商品暂时缺货，请稍后再试"},
		{"unknown item", func() error { _, err := c.Item(ctx, "9"); return err }, "商品不存在"},
		{"unknown path", func() error { _, err := c.Call(ctx, "/shared/commodity/nothing", nil); return err }, "接口不存在"},
		{"wrong key", func() error { c2 := *c; c2.AppKey = "wrong"; _, err := c2.Connect(ctx); return err }, "密钥错误"},
		{"unknown app_id", func() error { c2 := *c; c2.AppID = "7"; _, err := c2.Connect(ctx); return err }, "商户ID不存在"},
	}
	for _, cs := range cases {
		t.Run(cs.name, func(t *testing.T) {
			var e *Error
			if err := cs.call(); !errors.As(err, &e) || e.Msg != cs.want {
				t.Errorf("got %v, want %q", err, cs.want)
			}
		})
	}
}

func TestASyncOfAThinItemFailsAsAcgFakasDoes(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		acgfaka.WriteReply(w, map[string]any{"id": 2, "code": "thin", "name": "thin", "contact_type": nil})
	}))
	t.Cleanup(srv.Close)
	c := New(srv.URL, appID, appKey, 0)
	var e *Error
	if _, err := c.Sync(context.Background(), "thin"); !errors.As(err, &e) || e.Msg != "Column 'contact_type' cannot be null" {
		t.Errorf("got %v", err)
	}
}

// TestAnAnswerTheShopCannotReadIsAConnectionFailure tries an HTML page, an
// empty 200, a JSON body without a code, a code as a string, a 500, a
// redirect and an answer slower than the timeout.
func TestAnAnswerTheShopCannotReadIsAConnectionFailure(t *testing.T) {
	release := make(chan struct{})
	redirected := make(chan struct{}, 1)
	mux := http.NewServeMux()
	mux.HandleFunc("/html/", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("<html>502</html>")) })
	mux.HandleFunc("/empty/", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("/nocode/", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(`{"msg":"x"}`)) })
	mux.HandleFunc("/strcode/", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"code":"200","data":{"shopName":"s","balance":1}}`))
	})
	mux.HandleFunc("/500/", func(w http.ResponseWriter, r *http.Request) { http.Error(w, `{"code":0,"msg":"x"}`, 500) })
	mux.HandleFunc("/redirect/", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/target/", http.StatusTemporaryRedirect)
	})
	mux.HandleFunc("/target/", func(w http.ResponseWriter, r *http.Request) { redirected <- struct{}{} })
	mux.HandleFunc("/slow/", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // the server notices a closed connection only once the body is read
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) }) // runs first: no handler outlives the test

	cases := []struct {
		prefix  string
		timeout time.Duration
		want    string
	}{
		{"/html", 0, MsgUnreadable},
		{"/empty", 0, MsgUnreadable},
		{"/nocode", 0, "x"},
		{"/500", 0, MsgUnreachable},
		{"/redirect", 0, MsgUnreadable},
		{"/slow", 100 * time.Millisecond, MsgUnreachable},
	}
	for _, cs := range cases {
		t.Run(cs.prefix, func(t *testing.T) {
			c := New(srv.URL+cs.prefix, appID, appKey, cs.timeout)
			var e *Error
			if _, err := c.Connect(context.Background()); !errors.As(err, &e) || e.Msg != cs.want {
				t.Errorf("got %v, want %q", err, cs.want)
			}
		})
	}
	select {
	case <-redirected:
		t.Error("the redirect was followed")
	default:
	}
	c := New(srv.URL+"/strcode", appID, appKey, 0)
	if conn, err := c.Connect(context.Background()); err != nil || conn.ShopName != "s" {
		t.Errorf(`code "200" is 200 to PHP's !=: %+v, %v`, conn, err)
	}
}
