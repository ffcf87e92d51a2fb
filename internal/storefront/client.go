// Package storefront is a storefront as cardflow sees it from outside: a
// client that signs order requests and a callback receiver that verifies
// signatures and checks the delivery invariants. The demo, the load tools
// and the end-to-end tests use it; it speaks only the HTTP contract
// (docs/api.md), never cardflow's Go types.
package storefront

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	// A drop-in for encoding/json that decodes a callback in a quarter of
	// the time: `cardflow bench` runs this storefront on the cores it
	// measures cardflow on, so its own CPU per order is kept low.
	json "github.com/segmentio/encoding/json"

	"cardflow/internal/outbound"
	"cardflow/internal/signing"
)

// Order is the ORDER object of the API, decoded independently of cardflow.
type Order struct {
	ID          string  `json:"id"`
	ExternalID  string  `json:"external_id"`
	Storefront  string  `json:"storefront"`
	SKU         string  `json:"sku"`
	Quantity    int     `json:"quantity"`
	Amount      string  `json:"amount"`
	Status      string  `json:"status"`
	Reason      string  `json:"reason"`
	CreatedAt   string  `json:"created_at"`
	UpdatedAt   string  `json:"updated_at"`
	DeliveredAt *string `json:"delivered_at"`
	Cards       []Card  `json:"cards"`
	// Claims are the order's after-sale claims; in the API's answers
	// only, callbacks leave them out.
	Claims []Claim `json:"claims"`
}

// Claim is the CLAIM object of the API: an after-sale claim.
type Claim struct {
	ID         string   `json:"id"`
	OrderID    string   `json:"order_id"`
	Reason     string   `json:"reason"`
	Message    string   `json:"message"`
	Cards      []string `json:"cards"`
	Status     string   `json:"status"`
	Note       string   `json:"note"`
	CreatedAt  string   `json:"created_at"`
	ResolvedAt *string  `json:"resolved_at"`
	ResolvedBy *string  `json:"resolved_by"`
}

// NewClaim is the body of POST /v1/orders/{id}/claims.
type NewClaim struct {
	Reason  string   `json:"reason"`
	Message string   `json:"message,omitempty"`
	Cards   []string `json:"cards,omitempty"`
	ClaimID string   `json:"claim_id,omitempty"`
}

// Card is a delivered card key.
type Card struct {
	Number    string `json:"number"`
	Password  string `json:"password"`
	ExpiresAt string `json:"expires_at"`
}

// NewOrder is the body of POST /v1/orders.
type NewOrder struct {
	ExternalID string            `json:"external_id"`
	SKU        string            `json:"sku"`
	Quantity   int               `json:"quantity"`
	Amount     string            `json:"amount"`
	Buyer      Buyer             `json:"buyer"`
	Account    string            `json:"account,omitempty"`
	Extra      map[string]string `json:"extra,omitempty"`
}

// Buyer is who pays.
type Buyer struct {
	ID      string `json:"id,omitempty"`
	Contact string `json:"contact,omitempty"`
	IP      string `json:"ip,omitempty"`
}

// APIError is a non-2xx answer.
type APIError struct {
	Status  int
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field"`
}

func (e *APIError) Error() string {
	return fmt.Sprintf("%d %s: %s (field %q)", e.Status, e.Code, e.Message, e.Field)
}

// defaultHTTP serves clients built without an HTTP client.
var defaultHTTP = outbound.New(outbound.Options{Timeout: 30 * time.Second})

// Client calls cardflow's storefront API as one storefront.
type Client struct {
	BaseURL string // http://127.0.0.1:8080
	ID      string
	Secret  []byte
	HTTP    *http.Client
	Now     func() time.Time
}

// Create submits an order. It returns the order and the HTTP status (201 new,
// 200 repeat).
func (c *Client) Create(ctx context.Context, o NewOrder) (Order, int, error) {
	body, err := json.Marshal(o)
	if err != nil {
		return Order{}, 0, fmt.Errorf("encode order: %w", err)
	}
	return c.Do(ctx, http.MethodPost, "/v1/orders", body)
}

// Get reads an order by cardflow id.
func (c *Client) Get(ctx context.Context, id string) (Order, int, error) {
	return c.Do(ctx, http.MethodGet, "/v1/orders/"+id, nil)
}

// Claim opens an after-sale claim on an order. It returns the claim and
// the HTTP status (201 new, 200 a repeat of the same claim_id).
func (c *Client) Claim(ctx context.Context, orderID string, cl NewClaim) (Claim, int, error) {
	body, err := json.Marshal(cl)
	if err != nil {
		return Claim{}, 0, fmt.Errorf("encode claim: %w", err)
	}
	var cb struct {
		Claim Claim `json:"claim"`
	}
	status, err := c.send(ctx, http.MethodPost, "/v1/orders/"+orderID+"/claims", body, &cb)
	return cb.Claim, status, err
}

// Place submits an order and returns only its cardflow id: what a load
// generator needs, where decoding the whole answer cost a good share of its
// CPU.
func (c *Client) Place(ctx context.Context, o NewOrder) (string, error) {
	body, err := json.Marshal(o)
	if err != nil {
		return "", fmt.Errorf("encode order: %w", err)
	}
	var ob struct {
		Order struct {
			ID string `json:"id"`
		} `json:"order"`
	}
	_, err = c.send(ctx, http.MethodPost, "/v1/orders", body, &ob)
	return ob.Order.ID, err
}

// Do sends one signed request and decodes {"order": ...} or the error.
func (c *Client) Do(ctx context.Context, method, path string, body []byte) (Order, int, error) {
	var ob struct {
		Order Order `json:"order"`
	}
	status, err := c.send(ctx, method, path, body, &ob)
	return ob.Order, status, err
}

// send sends one signed request and decodes a 2xx answer into out, or
// returns the error answer as an *APIError.
func (c *Client) send(ctx context.Context, method, path string, body []byte, out any) (int, error) {
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(c.BaseURL, "/")+path, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	signing.Apply(req, c.ID, c.Secret, now(), body)
	hc := outbound.Guard(c.HTTP)
	if hc == nil {
		hc = defaultHTTP
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return resp.StatusCode, fmt.Errorf("read answer: %w", err)
	}
	if resp.StatusCode >= 300 {
		var eb struct {
			Error APIError `json:"error"`
		}
		_ = json.Unmarshal(data, &eb)
		eb.Error.Status = resp.StatusCode
		return resp.StatusCode, &eb.Error
	}
	if err := json.Unmarshal(data, out); err != nil {
		return resp.StatusCode, fmt.Errorf("decode answer: %w", err)
	}
	return resp.StatusCode, nil
}
