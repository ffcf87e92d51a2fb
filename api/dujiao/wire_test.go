package dujiao_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"cardflow/api/dujiao"
	"cardflow/internal/money"
)

func okJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := dujiao.MarshalOK(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func yuan(t *testing.T, s string) money.Amount {
	t.Helper()
	a, err := money.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

var deliveredAt = time.Date(2026, 3, 1, 20, 1, 0, 0, time.FixedZone("CST", 8*3600))

func TestAnswersAreWrittenByteForByteAsAShopReadsThem(t *testing.T) {
	cases := []struct {
		name string
		v    any
		want string
	}{
		{"ping", dujiao.Ping{SiteName: "cardflow", ProtocolVersion: dujiao.ProtocolVersion, UserID: 42,
			Balance: yuan(t, "1000"), Currency: dujiao.Currency},
			`{"ok":true,"site_name":"cardflow","protocol_version":"1.0","user_id":42,"balance":"1000.00","currency":"CNY","member_level":null}`},
		{"ping with a balance below zero", dujiao.Ping{SiteName: "cardflow", ProtocolVersion: "1.0", UserID: 1,
			Balance: -yuan(t, "12.5"), Currency: "CNY"},
			`{"ok":true,"site_name":"cardflow","protocol_version":"1.0","user_id":1,"balance":"-12.50","currency":"CNY","member_level":null}`},
		{"order accepted", dujiao.Accepted{OrderID: 101, OrderNo: "CF20260301120000001", Status: dujiao.StatusPaid,
			Amount: yuan(t, "19.8"), Currency: "CNY"},
			`{"ok":true,"order_id":101,"order_no":"CF20260301120000001","status":"paid","amount":"19.80","currency":"CNY"}`},
		{"order delivered", dujiao.Order{OrderID: 101, OrderNo: "CF20260301120000001", Status: dujiao.StatusDelivered,
			Amount: yuan(t, "19.80"), Currency: "CNY",
			Items: []dujiao.Item{{ProductID: 7, SKUID: 12, Title: dujiao.Text{"zh-CN": "Q币"}, Quantity: 2,
				UnitPrice: yuan(t, "9.90"), TotalPrice: yuan(t, "19.80"), FulfillmentType: dujiao.FulfillAuto}},
			Fulfillment: dujiao.Delivered(dujiao.FulfillAuto, []string{"KEY-1", "KEY-2"}, dujiao.At(deliveredAt))},
			`{"ok":true,"order_id":101,"order_no":"CF20260301120000001","status":"delivered","amount":"19.80","refunded_amount":"0.00","currency":"CNY",` +
				`"items":[{"product_id":7,"sku_id":12,"title":{"zh-CN":"Q币"},"quantity":2,"unit_price":"9.90","total_price":"19.80","fulfillment_type":"auto"}],` +
				`"fulfillment":{"type":"auto","status":"delivered","payload":"KEY-1\nKEY-2","delivery_data":null,"delivered_at":"2026-03-01T12:01:00Z"},"refund_records":[]}`},
		{"order still paid", dujiao.Order{OrderID: 7, OrderNo: "7", Status: dujiao.StatusPaid, Amount: yuan(t, "1"), Currency: "CNY"},
			`{"ok":true,"order_id":7,"order_no":"7","status":"paid","amount":"1.00","refunded_amount":"0.00","currency":"CNY","items":[],"fulfillment":null,"refund_records":[]}`},
		{"order canceled", dujiao.Canceled{OrderID: 101, OrderNo: "CF1", Status: dujiao.StatusCanceled},
			`{"ok":true,"order_id":101,"order_no":"CF1","status":"canceled"}`},
		{"no categories", dujiao.Categories{}, `{"ok":true,"categories":[]}`},
		{"empty products page", dujiao.ProductsPage{Page: 3, PageSize: 50, IncludesInactive: true},
			`{"ok":true,"items":[],"total":0,"page":3,"page_size":50,"includes_inactive":true}`},
		{"nothing", nil, `{"ok":true}`},
		{"empty struct", struct{}{}, `{"ok":true}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := okJSON(t, c.v); got != c.want {
				t.Errorf("got  %s\nwant %s", got, c.want)
			}
		})
	}
}

func TestAProductCarriesItsSKUsAndTheTopUpForm(t *testing.T) {
	created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	p := dujiao.Product{ID: 1001, Slug: "qq-coin-10", Title: dujiao.Text{"zh-CN": "Q币 10"},
		Description: dujiao.Text{"zh-CN": "直充"}, PriceAmount: yuan(t, "9.5"), Currency: "CNY",
		FulfillmentType: dujiao.FulfillManual,
		ManualFormSchema: &dujiao.FormSchema{Fields: []dujiao.FormField{{Key: "account", Type: "text",
			Label: dujiao.Text{"zh-CN": "充值账号"}, Required: true, MaxLen: 64}}},
		IsActive: true, CategoryID: 3,
		SKUs: []dujiao.SKU{{ID: 1001, SKUCode: "qb-10", PriceAmount: yuan(t, "9.5"),
			StockStatus: dujiao.StockStatus(dujiao.Unlimited), StockQuantity: dujiao.Unlimited, IsActive: true}},
		CreatedAt: dujiao.At(created), UpdatedAt: dujiao.At(created)}
	want := `{"ok":true,"product":{"id":1001,"slug":"qq-coin-10","title":{"zh-CN":"Q币 10"},"description":{"zh-CN":"直充"},` +
		`"content":null,"seo_meta":null,"images":[],"tags":[],"price_amount":"9.50","currency":"CNY","fulfillment_type":"manual",` +
		`"manual_form_schema":{"fields":[{"key":"account","type":"text","label":{"zh-CN":"充值账号"},"required":true,"max_len":64}]},` +
		`"is_active":true,"category_id":3,"skus":[{"id":1001,"sku_code":"qb-10","spec_values":null,"price_amount":"9.50",` +
		`"stock_status":"unlimited","stock_quantity":-1,"is_active":true}],"created_at":"2026-01-02T03:04:05Z","updated_at":"2026-01-02T03:04:05Z"}}`
	if got := okJSON(t, dujiao.ProductAnswer{Product: p}); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	p.ManualFormSchema = nil
	var back map[string]any
	if err := json.Unmarshal([]byte(okJSON(t, p)), &back); err != nil || back["manual_form_schema"] != nil {
		t.Errorf("a card product's schema must be null: %v %v", back["manual_form_schema"], err)
	}
}

func TestTheCallbackIsTheBodyOfVectorD5(t *testing.T) {
	cb := dujiao.NewCallback(101, "CF20260301120000001", "DJ20260301120000ABCD", dujiao.StatusDelivered,
		dujiao.Delivered(dujiao.FulfillAuto, []string{"ABCD-EFGH-1234-5678", "IJKL-MNOP-9012-3456"}, dujiao.At(deliveredAt)),
		time.Unix(1709625600, 0))
	got, err := json.Marshal(cb)
	if err != nil {
		t.Fatal(err)
	}
	if want := readFile(t, "testdata/callback-d5.json"); string(got) != string(want) {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func TestTheEventFollowsTheStatus(t *testing.T) {
	for status, want := range map[string]string{
		"delivered": "order.fulfilled", "completed": "order.fulfilled", "fulfilled": "order.fulfilled",
		"canceled": "order.status_changed", "refunded": "order.status_changed", "paid": "order.status_changed",
	} {
		if got := dujiao.EventFor(status); got != want {
			t.Errorf("EventFor(%s) = %s, want %s", status, got, want)
		}
	}
	cb := dujiao.NewCallback(5, "5", "DJ-5", dujiao.StatusCanceled, nil, time.Unix(1, 0))
	b, err := json.Marshal(cb)
	if err != nil || string(b) != `{"event":"order.status_changed","order_id":5,"order_no":"5","downstream_order_no":"DJ-5","status":"canceled","fulfillment":null,"timestamp":1}` {
		t.Errorf("canceled callback: %s %v", b, err)
	}
}

func TestADeliveredStatusWithoutKeysIsNeverWritten(t *testing.T) {
	for _, f := range []*dujiao.Fulfillment{nil, dujiao.Delivered(dujiao.FulfillAuto, nil, dujiao.Time{}),
		dujiao.Delivered(dujiao.FulfillAuto, []string{" "}, dujiao.Time{})} {
		if _, err := json.Marshal(dujiao.NewCallback(1, "1", "DJ1", dujiao.StatusDelivered, f, time.Unix(1, 0))); err == nil {
			t.Errorf("a delivered callback with fulfillment %+v was written", f)
		}
		rec := httptest.NewRecorder()
		if err := dujiao.WriteOK(rec, dujiao.Order{OrderID: 1, Status: "completed", Fulfillment: f}); err == nil {
			t.Errorf("a delivered order with fulfillment %+v was written", f)
		}
		if rec.Code != 500 || rec.Body.String() != `{"ok":false,"error_code":"internal_error","error_message":"internal error, try again"}` {
			t.Errorf("answer %d %s", rec.Code, rec.Body)
		}
	}
}

func TestPayloadPutsOneKeyOnEachLine(t *testing.T) {
	if got := dujiao.Delivered(dujiao.FulfillAuto, []string{"A----1", "B\r\nC", "D\nE"}, dujiao.Time{}).Payload; got != "A----1\nB C\nD E" {
		t.Errorf("Payload = %q", got)
	}
	f := dujiao.Delivered(dujiao.FulfillManual, []string{"ok"}, dujiao.Time{})
	if b, err := json.Marshal(f); err != nil || string(b) != `{"type":"manual","status":"delivered","payload":"ok","delivery_data":null,"delivered_at":null}` {
		t.Errorf("a delivery without time: %s %v", b, err)
	}
}

func TestWriteErrorAnswersTheEnvelopeWithTheErrorsStatus(t *testing.T) {
	cases := []struct {
		err    error
		status int
		body   string
	}{
		{dujiao.ErrInvalidAPIKey, 403, `{"ok":false,"error_code":"invalid_api_key","error_message":"unknown api key"}`},
		{dujiao.Refused(dujiao.CodeInsufficientBalance, "balance too low"), 200, `{"ok":false,"error_code":"insufficient_balance","error_message":"balance too low"}`},
		{dujiao.BadRequest(`quantity <1>`), 400, `{"ok":false,"error_code":"bad_request","error_message":"quantity \u003c1\u003e"}`},
		{dujiao.NotFound(dujiao.CodeOrderNotFound, "no such order"), 404, `{"ok":false,"error_code":"order_not_found","error_message":"no such order"}`},
		{dujiao.ErrCancelNotAllowed, 409, `{"ok":false,"error_code":"cancel_not_allowed","error_message":"the order can no longer be cancelled"}`},
		{errors.New("disk full at /var/lib/cardflow"), 500, `{"ok":false,"error_code":"internal_error","error_message":"internal error, try again"}`},
	}
	for _, c := range cases {
		rec := httptest.NewRecorder()
		dujiao.WriteError(rec, c.err)
		if rec.Code != c.status || rec.Body.String() != c.body || rec.Header().Get("Content-Type") != "application/json; charset=utf-8" {
			t.Errorf("%v: %d %s %q", c.err, rec.Code, rec.Body, rec.Header().Get("Content-Type"))
		}
	}
}

func TestOnlyTheShopsFinalCodesAreNonRetryable(t *testing.T) {
	for _, c := range []string{"insufficient_balance", "payment_failed", "product_unavailable", "sku_unavailable",
		"invalid_request", "unauthorized", "forbidden", "duplicate_order", "product_out_of_stock", "webhook_rejected"} {
		if !dujiao.NonRetryable(c) {
			t.Errorf("%s should be final", c)
		}
	}
	for _, c := range []string{"insufficient_stock", "internal_error", "bad_request", "invalid_callback_url", "order_not_found", ""} {
		if dujiao.NonRetryable(c) {
			t.Errorf("%s should be retried by a shop", c)
		}
	}
}

func TestStockStatusFollowsTheQuantity(t *testing.T) {
	for q, want := range map[int]string{-1: "unlimited", 0: "out_of_stock", 1: "low_stock", 20: "low_stock", 21: "in_stock"} {
		if got := dujiao.StockStatus(q); got != want {
			t.Errorf("StockStatus(%d) = %s, want %s", q, got, want)
		}
	}
}

func TestParsePageQueryClampsAndReadsAnUnescapedOffset(t *testing.T) {
	cases := []struct {
		query string
		want  dujiao.PageQuery
	}{
		{"", dujiao.PageQuery{Page: 1, PageSize: 20}},
		{"page=2&page_size=50&include_inactive=true", dujiao.PageQuery{Page: 2, PageSize: 50, IncludeInactive: true}},
		{"page=0&page_size=1000", dujiao.PageQuery{Page: 1, PageSize: 200}},
		{"page=-3&page_size=x", dujiao.PageQuery{Page: 1, PageSize: 20}},
		{"updated_after=2026-03-01T12:00:00+08:00", dujiao.PageQuery{Page: 1, PageSize: 20,
			UpdatedAfter: time.Date(2026, 3, 1, 4, 0, 0, 0, time.UTC)}},
		{"updated_after=yesterday", dujiao.PageQuery{Page: 1, PageSize: 20}},
	}
	for _, c := range cases {
		q, err := url.ParseQuery(c.query)
		if err != nil {
			t.Fatal(err)
		}
		got := dujiao.ParsePageQuery(q)
		if got.Page != c.want.Page || got.PageSize != c.want.PageSize || got.IncludeInactive != c.want.IncludeInactive || !got.UpdatedAfter.Equal(c.want.UpdatedAfter) {
			t.Errorf("%q: %+v, want %+v", c.query, got, c.want)
		}
	}
}

func TestParseIDTakesOnlyACanonicalPositiveNumber(t *testing.T) {
	if n, ok := dujiao.ParseID("101"); !ok || n != 101 {
		t.Errorf("101: %d %v", n, ok)
	}
	for _, s := range []string{"", "0", "-1", "+1", "01", "1.0", "1e3", "abc", "18446744073709551616"} {
		if _, ok := dujiao.ParseID(s); ok {
			t.Errorf("%q taken", s)
		}
	}
}

func TestCallbackAcceptedOnlyOn200WithOKTrue(t *testing.T) {
	cases := []struct {
		status int
		body   string
		want   bool
	}{
		{200, `{"ok":true,"message":"received"}`, true},
		{200, ` {"ok":true} `, true},
		{200, `{"ok":false,"message":"procurement order not found"}`, false},
		{200, ``, false},
		{200, `<html>ok</html>`, false},
		{204, ``, false},
		{500, `{"ok":true}`, false},
		{http.StatusOK, `{"ok":"true"}`, false},
	}
	for _, c := range cases {
		if got := dujiao.CallbackAccepted(c.status, []byte(c.body)); got != c.want {
			t.Errorf("%d %q: %v", c.status, c.body, got)
		}
	}
}
