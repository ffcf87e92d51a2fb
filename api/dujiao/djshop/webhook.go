package djshop

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"cardflow/api/dujiao"
)

// WebhookShop is a Dujiao-Next shop connected to an upstream by the generic
// webhook ("通用 WebHook"): it POSTs each order to one endpoint URL with a
// Bearer token and an Idempotency-Key, and learns of it only from callbacks
// carrying the same token, which ServeHTTP takes as a shop does. It keeps
// each procurement and every broken promise it sees.
type WebhookShop struct {
	Endpoint    string // the whole URL orders go to: the connection's base_url
	Token       string // the connection's api_key, sent as Bearer both ways
	CallbackURL string // sent with every order
	HTTP        *http.Client
	Now         func() time.Time

	book[WebhookReceived] // by the shop's order number
}

// NewWebhookShop returns a shop that posts to endpoint with token.
func NewWebhookShop(endpoint, token string) *WebhookShop {
	return &WebhookShop{Endpoint: endpoint, Token: token}
}

// WebhookPurchase is one order as the shop pushes it. ProductID, SKUID and
// SKUCode are the shop's own; Amount is its buyer's total.
type WebhookPurchase struct {
	OrderNo   string
	TraceID   string
	ProductID uint
	SKUID     uint
	SKUCode   string
	Quantity  int
	Amount    string
	Form      map[string]string
}

// webhookOrder is the order body in the shop's field order.
type webhookOrder struct {
	Event          string            `json:"event"`
	OrderNo        string            `json:"order_no"`
	TraceID        string            `json:"trace_id"`
	CallbackURL    string            `json:"callback_url"`
	ProductID      uint              `json:"product_id"`
	SKUID          uint              `json:"sku_id"`
	SKUCode        string            `json:"sku_code"`
	Quantity       int               `json:"quantity"`
	Amount         string            `json:"amount"`
	Currency       string            `json:"currency"`
	ManualFormData map[string]string `json:"manual_form_data,omitempty"`
	Timestamp      int64             `json:"timestamp"`
}

// WebhookError is an answer the shop does not take as accepted. Retry says
// whether the shop sends the order again with the same key (408, 429,
// 5xx); otherwise the procurement is rejected for good.
type WebhookError struct {
	Status  int
	Code    string
	Message string
	Retry   bool
}

func (e *WebhookError) Error() string {
	return fmt.Sprintf("webhook answered %d %s: %s", e.Status, e.Code, e.Message)
}

// OrderBody is the body the shop sends for p at now, byte for byte.
func (s *WebhookShop) OrderBody(p WebhookPurchase, now time.Time) []byte {
	b, _ := json.Marshal(webhookOrder{Event: dujiao.EventOrderCreated, OrderNo: p.OrderNo, TraceID: p.TraceID,
		CallbackURL: s.CallbackURL, ProductID: p.ProductID, SKUID: p.SKUID, SKUCode: p.SKUCode, Quantity: p.Quantity,
		Amount: p.Amount, Currency: "CNY", ManualFormData: p.Form, Timestamp: now.Unix()}) // plain fields: cannot fail
	return b
}

// Push sends an order and returns the upstream's order number, which may
// be empty: a shop takes any 2xx without ok:false as accepted. The
// procurement is tracked before it is sent, so a callback that overtakes
// the answer finds it.
func (s *WebhookShop) Push(ctx context.Context, p WebhookPurchase) (string, error) {
	s.Track(p.OrderNo)
	out, err := s.Post(ctx, s.OrderBody(p, clock(s.Now)), p.OrderNo)
	if err != nil {
		return "", err
	}
	var a struct {
		OrderNo string `json:"order_no"`
	}
	_ = json.Unmarshal(out, &a) // the answer's JSON is optional
	s.mu.Lock()
	defer s.mu.Unlock()
	pr := s.procs[p.OrderNo]
	if pr.OrderNo != "" && a.OrderNo != "" && pr.OrderNo != a.OrderNo {
		s.problems = append(s.problems, "order "+p.OrderNo+" accepted twice under different upstream numbers")
	}
	if a.OrderNo != "" {
		pr.OrderNo = strings.TrimSpace(a.OrderNo)
	}
	if pr.Status == "pending" {
		pr.Status = "accepted"
	}
	return a.OrderNo, nil
}

// Test is the shop's connection test: accepted unless it fails to reach
// the endpoint, gets a non-2xx, or ok:false.
func (s *WebhookShop) Test(ctx context.Context) error {
	body, _ := json.Marshal(map[string]any{"event": dujiao.EventConnectionTest, "timestamp": clock(s.Now).Unix()}) // cannot fail
	_, err := s.Post(ctx, body, "")
	return err
}

// Post sends body to the endpoint as the shop does, with key as
// Idempotency-Key when not empty, and returns a 2xx answer's body or a
// *WebhookError.
func (s *WebhookShop) Post(ctx context.Context, body []byte, key string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.Endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("build webhook request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+s.Token)
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set(dujiao.HeaderIdempotencyKey, key)
	}
	resp, err := client(s.HTTP).Do(req)
	if err != nil {
		return nil, fmt.Errorf("send webhook: %w", err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("read webhook answer: %w", err)
	}
	var env struct {
		OK           *bool  `json:"ok"`
		ErrorCode    string `json:"error_code"`
		ErrorMessage string `json:"error_message"`
		Message      string `json:"message"`
	}
	decoded := json.Unmarshal(out, &env) == nil
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		st := resp.StatusCode
		return nil, &WebhookError{Status: st, Code: env.ErrorCode, Message: cmp.Or(strings.TrimSpace(env.ErrorMessage), strings.TrimSpace(string(out))),
			Retry: st == http.StatusRequestTimeout || st == http.StatusTooManyRequests || st >= 500}
	}
	if decoded && env.OK != nil && !*env.OK {
		return nil, &WebhookError{Status: resp.StatusCode, Code: cmp.Or(strings.TrimSpace(env.ErrorCode), dujiao.CodeWebhookRejected),
			Message: cmp.Or(strings.TrimSpace(env.ErrorMessage), strings.TrimSpace(env.Message))}
	}
	return out, nil
}

// WebhookReceived is one callback as it reached the shop: its raw body,
// the decoded callback (zero if refused before decoding), and the answer.
type WebhookReceived struct {
	At       time.Time
	Body     []byte
	Callback WebhookCallback
	Status   int
	Code     string // "" when taken
}

// WebhookCallback is a callback body as the shop decodes it.
type WebhookCallback struct {
	Event       string       `json:"event"`
	OrderNo     string       `json:"order_no"`
	Status      string       `json:"status"`
	Fulfillment *Fulfillment `json:"fulfillment,omitempty"`
}

// ServeHTTP is the shop's webhook callback endpoint, at whatever path. It
// answers as a shop does: 401 unauthorized for another token; 400
// invalid_request, invalid_event, invalid_status or fulfillment_required;
// 404 order_not_found for an order it never sent; else 200 {"ok":true},
// applying a delivery once.
func (s *WebhookShop) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.down(w, WebhookReceived{At: clock(s.Now), Status: http.StatusServiceUnavailable, Code: "down"}) {
		return
	}
	rec := WebhookReceived{At: clock(s.Now)}
	token, ok := bearer(r.Header.Get("Authorization"))
	if !ok || token != s.Token {
		s.refuse(w, rec, http.StatusUnauthorized, "unauthorized")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxCallback))
	rec.Body = body
	if err != nil || json.Unmarshal(body, &rec.Callback) != nil {
		if err == nil {
			s.problem("a webhook callback the shop cannot decode: " + string(body))
		}
		s.refuse(w, rec, http.StatusBadRequest, "invalid_request")
		return
	}
	cb := &rec.Callback
	cb.Event, cb.OrderNo = strings.TrimSpace(cb.Event), strings.TrimSpace(cb.OrderNo)
	cb.Status = strings.ToLower(strings.TrimSpace(cb.Status))
	if cb.Status == "cancelled" {
		cb.Status = dujiao.StatusCanceled
	}
	delivery := cb.Status == "delivered" || cb.Status == "completed" || cb.Status == "fulfilled"
	switch {
	case cb.Event == "" || cb.OrderNo == "" || cb.Status == "":
		s.refuse(w, rec, http.StatusBadRequest, "invalid_request")
	case cb.Event != dujiao.EventFulfilled && cb.Event != dujiao.EventStatusChanged:
		s.refuse(w, rec, http.StatusBadRequest, "invalid_event")
	case !delivery && !slices.Contains([]string{"canceled", "refunded", "partially_refunded"}, cb.Status):
		s.refuse(w, rec, http.StatusBadRequest, "invalid_status")
	case delivery && cb.Fulfillment == nil:
		s.refuse(w, rec, http.StatusBadRequest, "fulfillment_required")
	default:
		s.take(w, rec)
	}
}

// take applies a checked callback to its order, or refuses one for an
// order the shop never sent.
func (s *WebhookShop) take(w http.ResponseWriter, rec WebhookReceived) {
	cb := rec.Callback
	s.mu.Lock()
	p, ok := s.procs[cb.OrderNo]
	if ok {
		if want := dujiao.EventFor(cb.Status); cb.Event != want {
			s.problems = append(s.problems, "callback for "+cb.OrderNo+" with status "+cb.Status+" has event "+cb.Event+", not "+want)
		}
		if f := cb.Fulfillment; f != nil && f.Type != dujiao.FulfillUpstream {
			s.problems = append(s.problems, "callback for "+cb.OrderNo+" has fulfillment type "+f.Type)
		}
		p.Callbacks++
		var payload *string
		if cb.Fulfillment != nil {
			payload = &cb.Fulfillment.Payload
		}
		if problem := settle(p, "a webhook callback", cb.Status, payload); problem != "" {
			s.problems = append(s.problems, problem)
		}
	}
	s.mu.Unlock()
	if !ok {
		s.refuse(w, rec, http.StatusNotFound, "order_not_found")
		return
	}
	rec.Status = http.StatusOK
	s.record(rec)
	writeJSON(w, http.StatusOK, map[string]any{"ok": true})
}

func (s *WebhookShop) refuse(w http.ResponseWriter, rec WebhookReceived, status int, code string) {
	rec.Status, rec.Code = status, code
	s.record(rec)
	writeJSON(w, status, map[string]any{"ok": false, "error_code": code, "error_message": code})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, _ := json.Marshal(v) // plain values: cannot fail
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// bearer reads the token as a shop does: two fields, the first Bearer.
func bearer(header string) (string, bool) {
	parts := strings.Fields(header)
	if len(parts) != 2 || !strings.EqualFold(parts[0], "Bearer") {
		return "", false
	}
	return parts[1], true
}
