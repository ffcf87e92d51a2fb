// Package djshop is a Dujiao-Next shop as cardflow sees it from outside,
// for tests: a client that calls an upstream the way a shop's own client
// does (signed headers, Content-Type only with a body, the path signed
// without its query, include_inactive=true and paging until total) and a
// callback endpoint that verifies, applies and records callbacks the way a
// shop does. It decodes into its own types, written from the shop's side.
package djshop

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"cardflow/api/dujiao"
	"cardflow/internal/outbound"
)

// APIError is an answer the shop does not take: a status other than 200,
// or 200 with ok:false.
type APIError struct {
	Status  int
	Code    string
	Message string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("upstream answered %d %s: %s", e.Status, e.Code, e.Message)
}

// Final says whether the shop gives up at once (200, ok:false and a
// non-retryable code) rather than retrying.
func (e *APIError) Final() bool { return e.Status == http.StatusOK && dujiao.NonRetryable(e.Code) }

// Do sends one signed request to pathAndQuery (from /api/v1/upstream on)
// and returns the status and body as received. body nil sends no body and
// no Content-Type.
func (s *Shop) Do(ctx context.Context, method, pathAndQuery string, body []byte) (int, []byte, error) {
	signPath, _, _ := strings.Cut(pathAndQuery, "?")
	req, err := dujiao.NewRequest(ctx, s.BaseURL, s.APIKey, s.Secret, method, pathAndQuery, clock(s.Now), body)
	if err != nil {
		return 0, nil, err
	}
	resp, err := client(s.HTTP).Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("send %s %s: %w", method, signPath, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return 0, nil, fmt.Errorf("read %s %s: %w", method, signPath, err)
	}
	return resp.StatusCode, out, nil
}

// call sends a request and decodes a 200 answer into v strictly by type.
func (s *Shop) call(ctx context.Context, method, pathAndQuery string, body []byte, v any) error {
	status, out, err := s.Do(ctx, method, pathAndQuery, body)
	if err != nil {
		return err
	}
	var env struct {
		OK           *bool  `json:"ok"`
		ErrorCode    string `json:"error_code"`
		ErrorMessage string `json:"error_message"`
	}
	_ = json.Unmarshal(out, &env) // a non-JSON answer is an error below either way
	if status != http.StatusOK || env.OK == nil || !*env.OK {
		return &APIError{Status: status, Code: env.ErrorCode, Message: env.ErrorMessage}
	}
	if err := json.Unmarshal(out, v); err != nil {
		return fmt.Errorf("decode %s %s: %w", method, pathAndQuery, err)
	}
	return nil
}

// Ping is the shop's connection test.
func (s *Shop) Ping(ctx context.Context) (Ping, error) {
	var p Ping
	err := s.call(ctx, http.MethodPost, dujiao.Prefix+"/ping", nil, &p)
	return p, err
}

// Categories lists the upstream's categories; supported is false when the
// upstream answers 404, which a shop takes as "no categories".
func (s *Shop) Categories(ctx context.Context) (cats []Category, supported bool, err error) {
	var a struct {
		Categories []Category `json:"categories"`
	}
	err = s.call(ctx, http.MethodGet, dujiao.Prefix+"/categories", nil, &a)
	if e, ok := err.(*APIError); ok && e.Status == http.StatusNotFound {
		return nil, false, nil
	}
	return a.Categories, err == nil, err
}

// Products is a full sync: every page of pageSize with include_inactive=true
// until it holds total products or a page comes back empty. complete says
// whether the upstream echoed includes_inactive on every page and the count
// reached total, the case in which a shop deletes mappings missing from it.
func (s *Shop) Products(ctx context.Context, pageSize int) (all []Product, complete bool, err error) {
	complete = true
	for page := 1; ; page++ {
		var p struct {
			Items            []Product `json:"items"`
			Total            int       `json:"total"`
			IncludesInactive bool      `json:"includes_inactive"`
		}
		q := "?page=" + strconv.Itoa(page) + "&page_size=" + strconv.Itoa(pageSize) + "&include_inactive=true"
		if err := s.call(ctx, http.MethodGet, dujiao.Prefix+"/products"+q, nil, &p); err != nil {
			return all, false, err
		}
		all = append(all, p.Items...)
		complete = complete && p.IncludesInactive
		if len(p.Items) == 0 || len(all) >= p.Total {
			return all, complete && len(all) >= p.Total, nil
		}
	}
}

// Product fetches one product, as import and the pre-order stock check do.
func (s *Shop) Product(ctx context.Context, id uint) (Product, error) {
	var a struct {
		Product Product `json:"product"`
	}
	err := s.call(ctx, http.MethodGet, dujiao.Prefix+"/products/"+strconv.FormatUint(uint64(id), 10), nil, &a)
	return a.Product, err
}

// Purchase is one procurement: one SKU of one of the shop's orders.
type Purchase struct {
	SKUID             uint
	Quantity          int
	Form              map[string]string // the buyer's manual form values
	DownstreamOrderNo string
	TraceID           string
}

// OrderBody is the body the shop sends for p, byte for byte.
func (s *Shop) OrderBody(p Purchase) []byte {
	b, _ := json.Marshal(orderRequest{SKUID: p.SKUID, Quantity: p.Quantity, ManualFormData: p.Form,
		DownstreamOrderNo: p.DownstreamOrderNo, TraceID: p.TraceID, CallbackURL: s.CallbackURL}) // plain fields: cannot fail
	return b
}

// Buy places a procurement with the shop's callback URL. The procurement is
// tracked before it is sent, as a shop writes its row first, so a callback
// that overtakes the answer finds it. A repeat of a downstream order number
// is sent again as it is, the way a shop retries.
func (s *Shop) Buy(ctx context.Context, p Purchase) (Accepted, error) {
	s.Track(p.DownstreamOrderNo)
	var a Accepted
	if err := s.call(ctx, http.MethodPost, dujiao.Prefix+"/orders", s.OrderBody(p), &a); err != nil {
		return a, err
	}
	if a.OrderID == 0 {
		return a, fmt.Errorf("upstream accepted %s with order_id 0, which cannot be polled", p.DownstreamOrderNo)
	}
	s.accepted(p.DownstreamOrderNo, a)
	return a, nil
}

// Order polls one order, and applies a delivery it reports as a callback
// would be applied.
func (s *Shop) Order(ctx context.Context, id uint) (Order, error) {
	var o Order
	if err := s.call(ctx, http.MethodGet, dujiao.Prefix+"/orders/"+strconv.FormatUint(uint64(id), 10), nil, &o); err != nil {
		return o, err
	}
	s.polled(o)
	return o, nil
}

// Cancel asks the upstream to cancel an order.
func (s *Shop) Cancel(ctx context.Context, id uint) error {
	var a struct {
		OrderID uint   `json:"order_id"`
		Status  string `json:"status"`
	}
	if err := s.call(ctx, http.MethodPost, dujiao.Prefix+"/orders/"+strconv.FormatUint(uint64(id), 10)+"/cancel", nil, &a); err != nil {
		return err
	}
	if a.Status != dujiao.StatusCanceled && a.Status != "cancelled" {
		return fmt.Errorf("cancel of %d answered status %q", id, a.Status)
	}
	return nil
}

// defaultHTTP serves shops built without an HTTP client: a shop's own
// client gives up after 30 s.
var defaultHTTP = outbound.New(outbound.Options{Timeout: 30 * time.Second})
