package fulufake_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"cardflow/internal/testkit"
	"cardflow/suppliers"
	"cardflow/suppliers/fulu"
	"cardflow/suppliers/fulu/fulufake"
)

// epoch is when the tests' clocks start.
var epoch = time.Date(2024, 1, 2, 3, 4, 5, 0, fulu.Beijing)

type env struct {
	gw    *fulufake.Gateway
	srv   *httptest.Server
	clock *testkit.Clock
}

func newEnv(t *testing.T, o fulufake.Options) *env {
	t.Helper()
	clk := testkit.NewClock(epoch)
	if o.Now == nil {
		o.Now = clk.Now
	}
	gw := fulufake.New(o)
	srv := httptest.NewServer(gw)
	t.Cleanup(srv.Close)
	t.Cleanup(gw.Close)
	return &env{gw: gw, srv: srv, clock: clk}
}

func (e *env) client(t *testing.T) *fulu.Client {
	t.Helper()
	c, err := fulu.New(fulu.Options{BaseURL: e.srv.URL, AppKey: fulufake.SandboxAppKey, AppSecret: fulufake.SandboxAppSecret,
		HTTP: e.srv.Client(), Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

type answer struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Result  string `json:"result"`
	Sign    string `json:"sign"`
}

// post sends a hand-made envelope. edit may change it after signing
// (resign=false) or before (resign=true).
func (e *env) post(t *testing.T, method, biz string, edit func(m map[string]any), resign bool) answer {
	t.Helper()
	m := map[string]any{"app_key": fulufake.SandboxAppKey, "method": method,
		"timestamp": e.clock.Now().In(fulu.Beijing).Format(fulu.TimestampLayout), "version": "2.0", "format": "json",
		"charset": "utf-8", "sign_type": "md5", "app_auth_token": "", "biz_content": biz}
	if edit != nil && resign {
		edit(m)
	}
	m["sign"], _ = fulu.SignMap(m, fulufake.SandboxAppSecret)
	if edit != nil && !resign {
		edit(m)
	}
	body, _ := fulu.CompactJSON(m)
	return e.postRaw(t, body)
}

func (e *env) postRaw(t *testing.T, body []byte) answer {
	t.Helper()
	resp, err := e.srv.Client().Post(e.srv.URL+fulu.Path, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var a answer
	if err := json.Unmarshal(raw, &a); err != nil {
		t.Fatalf("answer %q: %v", raw, err)
	}
	if a.Code == 0 && a.Sign != fulu.SignText(a.Result, fulufake.SandboxAppSecret) {
		t.Errorf("answer sign %s does not cover its result", a.Sign)
	}
	return a
}

func TestGatewayChecksTheEnvelope(t *testing.T) {
	del := func(k string) func(m map[string]any) { return func(m map[string]any) { delete(m, k) } }
	set := func(k string, v any) func(m map[string]any) { return func(m map[string]any) { m[k] = v } }
	cases := []struct {
		name   string
		method string
		biz    string
		edit   func(m map[string]any)
		resign bool
		code   int
	}{
		{"good request", fulu.MethodUserInfo, "{}", nil, false, 0},
		{"without app_auth_token (R1')", fulu.MethodUserInfo, "{}", del("app_auth_token"), true, 0},
		{"sign altered", fulu.MethodUserInfo, "{}", set("sign", "0123456789abcdef0123456789abcdef"), false, fulu.CodeBadSign},
		{"field changed after signing", fulu.MethodUserInfo, "{}", set("biz_content", `{"x":1}`), false, fulu.CodeBadSign},
		{"app_auth_token dropped after signing", fulu.MethodUserInfo, "{}", del("app_auth_token"), false, fulu.CodeBadSign},
		{"unknown app_key", fulu.MethodUserInfo, "{}", set("app_key", "someone"), true, fulu.CodeBadMerchant},
		{"timestamp 11 minutes old", fulu.MethodUserInfo, "{}", set("timestamp", "2024-01-02 02:53:05"), true, fulu.CodeTimestamp},
		{"timestamp 11 minutes ahead", fulu.MethodUserInfo, "{}", set("timestamp", "2024-01-02 03:15:05"), true, fulu.CodeTimestamp},
		{"timestamp 10 minutes old", fulu.MethodUserInfo, "{}", set("timestamp", "2024-01-02 02:54:05"), true, 0},
		{"timestamp in UTC is 8 hours off", fulu.MethodUserInfo, "{}", set("timestamp", "2024-01-01 19:04:05"), true, fulu.CodeTimestamp},
		{"missing method", fulu.MethodUserInfo, "{}", del("method"), true, 1001},
		{"numeric field", fulu.MethodUserInfo, "{}", set("version", 2), true, 1001},
		{"wrong version", fulu.MethodUserInfo, "{}", set("version", "1.0"), true, 1002},
		{"unknown method", "fulu.order.nothing", "{}", nil, false, 1003},
		{"biz_content not JSON", fulu.MethodUserInfo, "{", nil, false, 1005},
		{"card add without customer_order_no", fulu.MethodCardAdd, `{"product_id":10000587,"buy_num":1}`, nil, false, fulu.CodeNoOrderNo},
		{"card add without buy_num", fulu.MethodCardAdd, `{"product_id":10000587,"customer_order_no":"A"}`, nil, false, fulu.CodeNoBuyNum},
		{"card add with buy_num 0", fulu.MethodCardAdd, `{"product_id":10000587,"buy_num":0,"customer_order_no":"A"}`, nil, false, fulu.CodeNoBuyNum},
		{"card add with string product_id", fulu.MethodCardAdd, `{"product_id":"10000587","buy_num":1,"customer_order_no":"A"}`, nil, false, 1005},
		{"order number over 50", fulu.MethodCardAdd, `{"product_id":10000587,"buy_num":1,"customer_order_no":"` + string(bytes.Repeat([]byte("A"), 51)) + `"}`, nil, false, 1005},
		{"unknown product", fulu.MethodCardAdd, `{"product_id":1,"buy_num":1,"customer_order_no":"A"}`, nil, false, fulu.CodeProductMissing},
		{"card add of a direct product", fulu.MethodCardAdd, `{"product_id":10000585,"buy_num":1,"customer_order_no":"A"}`, nil, false, fulu.CodeProductType},
		{"direct add without account", fulu.MethodDirectAdd, `{"product_id":10000585,"buy_num":1,"customer_order_no":"A"}`, nil, false, fulu.CodeNoAccount},
		{"direct add of a blacklisted account", fulu.MethodDirectAdd, `{"product_id":10000585,"buy_num":1,"customer_order_no":"A","charge_account":"bad1"}`, nil, false, fulu.CodeAccountBlacklist},
		{"query without customer_order_no", fulu.MethodOrderInfo, `{}`, nil, false, fulu.CodeNoOrderNo},
		{"query of an unknown order", fulu.MethodOrderInfo, `{"customer_order_no":"nope"}`, nil, false, fulu.CodeOrderNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, fulufake.Options{})
			a := e.post(t, tc.method, tc.biz, tc.edit, tc.resign)
			if a.Code != tc.code {
				t.Fatalf("code %d (%s), want %d", a.Code, a.Message, tc.code)
			}
			if tc.code != 0 && len(e.gw.Orders()) != 0 {
				t.Error("a refused call created an order")
			}
		})
	}
}

func TestGatewayRefusesOtherHTTPShapes(t *testing.T) {
	e := newEnv(t, fulufake.Options{})
	resp, err := e.srv.Client().Get(e.srv.URL + fulu.Path)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET = %d", resp.StatusCode)
	}
	resp, err = e.srv.Client().Post(e.srv.URL+"/api/gateway", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("wrong path = %d", resp.StatusCode)
	}
	if a := e.postRaw(t, []byte("not json")); a.Code != 1000 {
		t.Errorf("garbage body code = %d", a.Code)
	}
}

func TestDuplicateAddsNeverCreateASecondOrder(t *testing.T) {
	e := newEnv(t, fulufake.Options{})
	c := e.client(t)
	const n = 20
	var wg sync.WaitGroup
	results := make(chan suppliers.Result, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results <- c.Submit(context.Background(), suppliers.Order{No: "SAME", Item: "10000587", Kind: suppliers.KindCard, Quantity: 1})
		}()
	}
	wg.Wait()
	close(results)
	dup := 0
	for r := range results {
		if r.Status != suppliers.StatusPending {
			t.Errorf("Submit = %+v", r)
		}
		if bytes.Contains([]byte(r.Detail), []byte("4010")) {
			dup++
		}
	}
	orders := e.gw.Orders()
	if len(orders) != 1 || orders[0].AddCalls != n || dup != n-1 {
		t.Fatalf("%d orders, add calls %d, %d answered 4010", len(orders), orders[0].AddCalls, dup)
	}
	if b := e.gw.Balance(); b != fulufake.DefaultBalance-100 {
		t.Errorf("balance = %v, charged more than once", b)
	}
}

func TestAddAnswerHasNoCardsButQueryHasThem(t *testing.T) {
	e := newEnv(t, fulufake.Options{})
	biz := `{"product_id":10000587,"buy_num":2,"customer_order_no":"KM1"}`
	add := e.post(t, fulu.MethodCardAdd, biz, nil, false)
	if add.Code != 0 || bytes.Contains([]byte(add.Result), []byte("card_number")) {
		t.Fatalf("add = %+v", add)
	}
	info := e.post(t, fulu.MethodOrderInfo, `{"customer_order_no":"KM1"}`, nil, false)
	var o struct {
		State      string      `json:"order_state"`
		OrderType  int         `json:"order_type"`
		OrderPrice json.Number `json:"order_price"`
		Cards      []struct {
			Number string `json:"card_number"`
			Pwd    string `json:"card_pwd"`
		} `json:"cards"`
	}
	if err := json.Unmarshal([]byte(info.Result), &o); err != nil {
		t.Fatal(err)
	}
	if o.State != fulu.StateSuccess || o.OrderType != fulu.OrderTypeCard || o.OrderPrice != "2.0" || len(o.Cards) != 2 {
		t.Fatalf("info = %s", info.Result)
	}
	cipher, _ := fulu.NewCardCipher(fulufake.SandboxAppSecret)
	rec, _ := e.gw.Order("KM1")
	for i, c := range o.Cards {
		num, err1 := cipher.Decrypt(c.Number)
		pwd, err2 := cipher.Decrypt(c.Pwd)
		if err1 != nil || err2 != nil || num != rec.Cards[i].Number || pwd != rec.Cards[i].Password {
			t.Errorf("card %d does not decrypt to what was issued", i)
		}
	}
}

func TestCardsAreUniqueAcrossTheGatewayAndAcrossGateways(t *testing.T) {
	seen := map[string]bool{}
	for g := range 2 {
		e := newEnv(t, fulufake.Options{})
		c := e.client(t)
		var wg sync.WaitGroup
		for i := range 30 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c.Submit(context.Background(), suppliers.Order{No: fmt.Sprintf("U%d", i), Item: "10000587", Kind: suppliers.KindCard, Quantity: 3})
			}()
		}
		wg.Wait()
		for _, o := range e.gw.Orders() {
			for _, card := range o.Cards {
				if seen[card.Number] {
					t.Fatalf("gateway %d issued %v twice", g, card)
				}
				seen[card.Number] = true
			}
		}
	}
	if len(seen) != 2*30*3 {
		t.Errorf("%d cards, want %d", len(seen), 2*30*3)
	}
}

func TestFailedDirectOrderRefundsBalanceAndStock(t *testing.T) {
	e := newEnv(t, fulufake.Options{SuccessAfter: time.Second})
	e.gw.SetStock(fulufake.ProductDirect, 5)
	c := e.client(t)
	c.Submit(context.Background(), suppliers.Order{No: "D1", Item: "10000585", Kind: suppliers.KindDirect, Quantity: 2, Account: "123"})
	if e.gw.Balance() != fulufake.DefaultBalance-200 || e.gw.Stock(fulufake.ProductDirect) != 3 {
		t.Fatalf("after add: balance %v stock %d", e.gw.Balance(), e.gw.Stock(fulufake.ProductDirect))
	}
	e.clock.Advance(time.Second)
	e.gw.Settle()
	rec, _ := e.gw.Order("D1")
	if rec.State != fulu.StateFailed || rec.Finished.IsZero() {
		t.Fatalf("order = %+v", rec)
	}
	if e.gw.Balance() != fulufake.DefaultBalance || e.gw.Stock(fulufake.ProductDirect) != 5 {
		t.Errorf("after failure: balance %v stock %d", e.gw.Balance(), e.gw.Stock(fulufake.ProductDirect))
	}
}

func TestAddOverTheBalanceIsRefusedAndCounted(t *testing.T) {
	e := newEnv(t, fulufake.Options{})
	e.gw.SetBalance(150)
	c := e.client(t)
	got := c.Submit(context.Background(), suppliers.Order{No: "P1", Item: "10000587", Kind: suppliers.KindCard, Quantity: 2})
	if got.Status != suppliers.StatusFailed || got.Reason != suppliers.ReasonBalance {
		t.Fatalf("2 × 1.00 on a balance of 1.50: %+v, want refused for balance", got)
	}
	if _, ok := e.gw.Order("P1"); ok || e.gw.BalanceRefusals() != 1 || e.gw.Balance() != 150 {
		t.Fatalf("order created %v, %d refusals, balance %v; want none, 1, 1.50", ok, e.gw.BalanceRefusals(), e.gw.Balance())
	}
	if got := c.Submit(context.Background(), suppliers.Order{No: "P2", Item: "10000587", Kind: suppliers.KindCard, Quantity: 1}); got.Status == suppliers.StatusFailed {
		t.Fatalf("1 × 1.00 on a balance of 1.50 refused: %+v", got)
	}
	if e.gw.BalanceRefusals() != 1 {
		t.Errorf("%d refusals after a purchase the balance covers, want still 1", e.gw.BalanceRefusals())
	}
}

func TestRealClockTimerSettlesAndCallsBack(t *testing.T) {
	got := make(chan []byte, 4)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- b
		_, _ = io.WriteString(w, "success")
	}))
	defer recv.Close()
	gw := fulufake.New(fulufake.Options{SuccessAfter: 20 * time.Millisecond, NotifyURL: recv.URL})
	srv := httptest.NewServer(gw)
	defer srv.Close()
	defer gw.Close()
	c, _ := fulu.New(fulu.Options{BaseURL: srv.URL, AppKey: fulufake.SandboxAppKey, AppSecret: fulufake.SandboxAppSecret, HTTP: srv.Client()})
	if r := c.Submit(context.Background(), suppliers.Order{No: "T1", Item: "10000587", Kind: suppliers.KindCard, Quantity: 1}); r.Status != suppliers.StatusPending {
		t.Fatalf("Submit = %+v", r)
	}
	select {
	case body := <-got:
		no, reply, err := c.ParseNotify(nil, body)
		if err != nil || no != "T1" || string(reply) != "success" {
			t.Fatalf("ParseNotify = %q %q %v", no, reply, err)
		}
		var n fulu.Notification
		_ = json.Unmarshal(body, &n)
		if n.OrderStatus != "success" || n.Price != "1.0000" || n.BuyNum != "1" || n.ProductID != "10000587" {
			t.Errorf("callback = %+v", n)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no callback")
	}
}

func TestCallbackIsRetriedUntilTheReplyIsSuccess(t *testing.T) {
	var mu sync.Mutex
	calls := 0
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		n := calls
		mu.Unlock()
		switch n {
		case 1:
			_, _ = io.WriteString(w, "fail")
		case 2:
			_, _ = io.WriteString(w, "success\n") // not the literal body
		default:
			_, _ = io.WriteString(w, "success")
		}
	}))
	defer recv.Close()
	e := newEnv(t, fulufake.Options{NotifyURL: recv.URL})
	e.client(t).Submit(context.Background(), suppliers.Order{No: "R1", Item: "10000587", Kind: suppliers.KindCard, Quantity: 1})
	testkit.Eventually(t, "three callbacks", func() bool { return len(e.gw.Callbacks()) >= 3 })
	if cbs := e.gw.Callbacks(); len(cbs) != 3 || cbs[0].Accepted || cbs[1].Accepted || !cbs[2].Accepted || cbs[2].Attempt != 3 {
		t.Fatalf("callbacks = %+v, want two refused and the third accepted", cbs)
	}
}

func TestInjectedFaultsAreConsumedInOrderByMatchingCalls(t *testing.T) {
	e := newEnv(t, fulufake.Options{})
	e.gw.Inject(fulu.MethodDirectAdd, fulufake.Fault{Kind: fulufake.Fault4008})
	e.gw.Inject("", fulufake.Fault{Kind: fulufake.Fault4009NotCreated}) // add-only: skips the query
	e.gw.Inject(fulu.MethodOrderInfo, fulufake.Fault{Kind: fulufake.Fault5000NotCreated})
	card := `{"product_id":10000587,"buy_num":1,"customer_order_no":"F1"}`
	steps := []struct {
		method, biz string
		code        int
	}{
		{fulu.MethodOrderInfo, `{"customer_order_no":"F1"}`, 5000},
		{fulu.MethodOrderInfo, `{"customer_order_no":"F1"}`, fulu.CodeOrderNotFound},
		{fulu.MethodCardAdd, card, 4009},
		{fulu.MethodCardAdd, card, 0},
		{fulu.MethodDirectAdd, `{"product_id":10000585,"buy_num":1,"customer_order_no":"F2","charge_account":"888888"}`, 4008},
		{fulu.MethodDirectAdd, `{"product_id":10000585,"buy_num":1,"customer_order_no":"F2","charge_account":"888888"}`, 0},
	}
	for i, s := range steps {
		if a := e.post(t, s.method, s.biz, nil, false); a.Code != s.code {
			t.Fatalf("step %d %s: code %d, want %d", i, s.method, a.Code, s.code)
		}
	}
	want := map[fulufake.FaultKind]int{fulufake.Fault4008: 1, fulufake.Fault4009NotCreated: 1, fulufake.Fault5000NotCreated: 1}
	if got := e.gw.Faults(); !maps.Equal(got, want) {
		t.Errorf("faults counted %v, want %v", got, want)
	}
}

func TestCloseReleasesSlowAnswers(t *testing.T) {
	gw := fulufake.New(fulufake.Options{})
	srv := httptest.NewServer(gw)
	defer srv.Close()
	gw.Inject(fulu.MethodCardAdd, fulufake.Fault{Kind: fulufake.FaultSlow, Delay: time.Hour})
	c, _ := fulu.New(fulu.Options{BaseURL: srv.URL, AppKey: fulufake.SandboxAppKey, AppSecret: fulufake.SandboxAppSecret, HTTP: srv.Client()})
	done := make(chan suppliers.Result)
	go func() {
		done <- c.Submit(context.Background(), suppliers.Order{No: "S1", Item: "10000587", Kind: suppliers.KindCard, Quantity: 1})
	}()
	// The add is counted just before its fault is taken: once counted, the
	// answer is (about to be) waiting on the slow fault.
	testkit.Eventually(t, "the add", func() bool { return gw.AddCalls() > 0 })
	gw.Close()
	select {
	case r := <-done:
		if r.Status != suppliers.StatusUnknown {
			t.Fatalf("Submit = %+v", r)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("slow answer not released by Close")
	}
	if len(gw.Orders()) != 1 {
		t.Error("the slow add did not create its order")
	}
}
