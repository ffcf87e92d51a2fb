package acgfaka

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"
)

// Paths of the endpoints a shop calls, all POST.
const (
	PathConnect        = "/shared/authentication/connect"
	PathItems          = "/shared/commodity/items"
	PathItem           = "/shared/commodity/item"
	PathStock          = "/shared/commodity/stock"
	PathValuation      = "/shared/commodity/valuation"
	PathTrade          = "/shared/commodity/trade"
	PathInventory      = "/shared/commodity/inventory"
	PathInventoryState = "/shared/commodity/inventoryState"
	PathQuery          = "/shared/commodity/query"
	// Pre-selecting a card is never offered (every item says
	// draft_status 0); these two answer ErrNoDraft.
	PathDraftCard = "/shared/commodity/draftCard"
	PathDraft     = "/shared/commodity/draft"
)

// Prefix is where the endpoints live; every path under it is answered in
// the protocol's JSON, an unknown one with ErrUnknownPath.
const Prefix = "/shared/"

// MaxBody is the largest body read.
const MaxBody = 64 << 10

// MaxNum is the largest quantity one request may name; a product's own
// limit is the caller's to apply.
const MaxNum = 10000

var known = map[string]bool{
	PathConnect: true, PathItems: true, PathItem: true, PathStock: true, PathValuation: true,
	PathTrade: true, PathInventory: true, PathInventoryState: true, PathQuery: true,
	PathDraftCard: true, PathDraft: true,
}

// ReadBody reads a request's body, refusing one over MaxBody.
func ReadBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return nil, ErrTooLarge
	case err != nil:
		return nil, ErrBadField
	}
	return body, nil
}

// Request is an authenticated call of one endpoint.
type Request struct {
	Path  string // one of the Path constants
	AppID string
	form  Form
}

// ParseRequest checks a call the way an acg-faka server does: the path,
// then the app_id, whose key keyOf returns, then the signature over every
// field received. The endpoint's own fields are read by the Request's
// method of that endpoint. Every error is an *Error.
func ParseRequest(path string, body []byte, keyOf func(appID string) (appKey string, ok bool)) (*Request, error) {
	if !known[path] {
		return nil, ErrUnknownPath
	}
	f := ParseForm(body)
	appID, ok := f.Value("app_id")
	if !ok || appID == "" {
		return nil, ErrUnknownApp
	}
	appKey, ok := keyOf(appID)
	if !ok {
		return nil, ErrUnknownApp
	}
	if !Verify(f, appKey) {
		return nil, ErrBadSign
	}
	if path == PathDraftCard || path == PathDraft {
		return nil, ErrNoDraft
	}
	return &Request{Path: path, AppID: appID, form: f}, nil
}

// Form returns the request's fields, app_key among them.
func (r *Request) Form() Form { return r.form }

// ItemRequest asks for one item: by code (acg-faka's current client), or
// by sharedCode (the mcy V3 plugin, older acg-faka), which expects the
// answer as a tree holding just that item.
type ItemRequest struct {
	Code string
	Tree bool
}

// Item reads an item request.
func (r *Request) Item() (ItemRequest, error) {
	if code, ok := r.form.Value("code"); ok && code != "" {
		c, err := checkCode(code)
		return ItemRequest{Code: c}, err
	}
	c, err := r.code("sharedCode")
	return ItemRequest{Code: c, Tree: true}, err
}

// StockRequest asks how many units of an item (and race and SKU options,
// when it has them) can be sold.
type StockRequest struct {
	Code string
	Race string  // "" when the item has no races
	SKU  []Field // sku[group]=option, named by group, in order
}

// Stock reads a stock request.
func (r *Request) Stock() (StockRequest, error) {
	code, err := r.code("code")
	if err != nil {
		return StockRequest{}, err
	}
	race, sku, err := r.variant()
	return StockRequest{Code: code, Race: race, SKU: sku}, err
}

// ValuationRequest asks what Num units cost the calling shop in total.
type ValuationRequest struct {
	Code string
	Num  int
	Race string
	SKU  []Field
}

// Valuation reads a valuation request.
func (r *Request) Valuation() (ValuationRequest, error) {
	code, err := r.code("code")
	if err != nil {
		return ValuationRequest{}, err
	}
	num, err := r.num()
	if err != nil {
		return ValuationRequest{}, err
	}
	if err := r.noCard(); err != nil {
		return ValuationRequest{}, err
	}
	race, sku, err := r.variant()
	return ValuationRequest{Code: code, Num: num, Race: race, SKU: sku}, err
}

// TradeRequest is an order: the shop's buyer has paid, and the answer must
// carry the keys.
type TradeRequest struct {
	Code      string // shared_code
	Num       int
	Race      string
	SKU       []Field
	RequestNo string // the shop's order number: one order per number and app_id
	Contact   string // the buyer's contact as the shop knows it; may be random
	// Widgets are the buyer's inputs, named by the item's widget names
	// (a top-up's "account"): every other flat field, empty ones kept.
	Widgets []Field
}

// Widget returns the buyer's input for a widget name.
func (t TradeRequest) Widget(name string) (string, bool) {
	for _, w := range t.Widgets {
		if w.Name == name {
			return w.Value, true
		}
	}
	return "", false
}

// tradeFields are the flat fields of a trade that are not widget values.
// device and password are signed and ignored: cardflow has no use for the
// buyer's device or the shop's order password.
var tradeFields = map[string]bool{
	"shared_code": true, "contact": true, "num": true, "card_id": true, "device": true,
	"password": true, "race": true, "request_no": true, "app_id": true, "app_key": true, "sign": true,
}

// maxWidgets is the most widget fields a trade may carry, as many as an
// acg-faka item may declare.
const maxWidgets = 32

// Trade reads a trade request.
func (r *Request) Trade() (TradeRequest, error) {
	var t TradeRequest
	var err error
	if t.Code, err = r.code("shared_code"); err != nil {
		return t, err
	}
	if t.Num, err = r.num(); err != nil {
		return t, err
	}
	if err = r.noCard(); err != nil {
		return t, err
	}
	if t.Race, t.SKU, err = r.variant(); err != nil {
		return t, err
	}
	if t.RequestNo, err = r.orderNo("request_no"); err != nil {
		return t, err
	}
	if t.Contact, err = r.text("contact", 255); err != nil {
		return t, err
	}
	for _, f := range r.form.fields {
		if _, flat := topName(f.Name); !flat || tradeFields[f.Name] {
			continue
		}
		if len(t.Widgets) == maxWidgets || len(f.Value) > 1024 || !utf8.ValidString(f.Name+f.Value) {
			return t, ErrBadField
		}
		t.Widgets = append(t.Widgets, f)
	}
	return t, nil
}

// InventoryRequest asks for an item's stock and prices at once (the mcy V3
// plugin, older acg-faka).
type InventoryRequest struct {
	Code string // sharedCode
	Race string
}

// Inventory reads an inventory request.
func (r *Request) Inventory() (InventoryRequest, error) {
	code, err := r.code("sharedCode")
	if err != nil {
		return InventoryRequest{}, err
	}
	race, err := r.text("race", 255)
	return InventoryRequest{Code: code, Race: race}, err
}

// InventoryStateRequest asks whether Num units can be sold; the answer is
// success or a refusal such as 库存不足.
type InventoryStateRequest struct {
	Code string // shared_code
	Num  int
	Race string
}

// InventoryState reads an inventoryState request.
func (r *Request) InventoryState() (InventoryStateRequest, error) {
	code, err := r.code("shared_code")
	if err != nil {
		return InventoryStateRequest{}, err
	}
	num, err := r.num()
	if err != nil {
		return InventoryStateRequest{}, err
	}
	if err := r.noCard(); err != nil {
		return InventoryStateRequest{}, err
	}
	race, err := r.text("race", 255)
	return InventoryStateRequest{Code: code, Num: num, Race: race}, err
}

// QueryRequest asks for an order by the number the trade answer gave.
type QueryRequest struct {
	TradeNo string
}

// Query reads a query request.
func (r *Request) Query() (QueryRequest, error) {
	no, err := r.orderNo("tradeNo")
	return QueryRequest{TradeNo: no}, err
}

// code reads an item code: present, and at most 64 characters without
// whitespace, as acg-faka's importer requires of every code.
func (r *Request) code(name string) (string, error) {
	code := r.form.Get(name)
	if code == "" {
		return "", ErrNoCode
	}
	return checkCode(code)
}

func checkCode(code string) (string, error) {
	if len(code) > 64 || !utf8.ValidString(code) || strings.ContainsFunc(code, isSpace) {
		return "", ErrNoItem
	}
	return code, nil
}

// num reads the quantity: decimal digits, 1 to MaxNum.
func (r *Request) num() (int, error) {
	s := r.form.Get("num")
	n, ok := atoi(s)
	if !ok || n < 1 || n > MaxNum {
		return 0, ErrBadNum
	}
	return n, nil
}

// noCard refuses a pre-selected card: card_id absent, empty or 0 is fine.
func (r *Request) noCard() error {
	s := r.form.Get("card_id")
	if s == "" {
		return nil
	}
	n, ok := atoi(s)
	switch {
	case !ok:
		return ErrBadField
	case n != 0:
		return ErrNoDraft
	}
	return nil
}

// variant reads the race and the sku[...] options.
func (r *Request) variant() (string, []Field, error) {
	race, err := r.text("race", 255)
	if err != nil {
		return "", nil, err
	}
	sku := r.form.Nested("sku")
	for _, f := range sku {
		if len(f.Name) > 255 || len(f.Value) > 255 || !utf8.ValidString(f.Name+f.Value) {
			return "", nil, ErrBadField
		}
	}
	return race, sku, nil
}

// text reads an optional flat field of at most max bytes of UTF-8.
func (r *Request) text(name string, max int) (string, error) {
	s := r.form.Get(name)
	if len(s) > max || !utf8.ValidString(s) {
		return "", ErrBadField
	}
	return s, nil
}

// orderNo reads an order number: 1–64 printable ASCII characters, no
// space (acg-faka sends 18 digits, the mcy V3 plugin 19 characters).
func (r *Request) orderNo(name string) (string, error) {
	s := r.form.Get(name)
	if s == "" {
		return "", ErrNoOrderNo
	}
	if len(s) > 64 {
		return "", ErrBadOrderNo
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return "", ErrBadOrderNo
		}
	}
	return s, nil
}

// atoi reads 1 to 9 decimal digits.
func atoi(s string) (int, bool) {
	if s == "" || len(s) > 9 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}
