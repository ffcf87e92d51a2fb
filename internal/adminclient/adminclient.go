// Package adminclient calls cardflow's admin API (docs/api.md). The stock
// import command and the demo use it.
package adminclient

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"cardflow/internal/outbound"
	"cardflow/internal/storefront"
)

// defaultHTTP serves clients built without an HTTP client. No timeout: an
// import of a big file or a backup takes as long as it takes.
var defaultHTTP = outbound.New(outbound.Options{})

// Client is an admin API client.
type Client struct {
	BaseURL string // http://127.0.0.1:8081
	Token   string
	Actor   string       // recorded in the audit log
	HTTP    *http.Client // nil: no timeout; redirects are never followed
}

// ImportResult is the answer to a stock import.
type ImportResult struct {
	Added      int    `json:"added"`
	Duplicates int    `json:"duplicates"`
	Batch      uint64 `json:"batch"`
	Invalid    int    `json:"invalid"`
	Errors     []struct {
		Line int    `json:"line"`
		Why  string `json:"why"`
	} `json:"errors"`
}

// ImportStock streams card lines to POST /v1/stock/{sku}.
func (c *Client) ImportStock(ctx context.Context, sku string, body io.Reader) (ImportResult, error) {
	var res ImportResult
	err := c.do(ctx, http.MethodPost, "/v1/stock/"+sku, body, &res)
	return res, err
}

// Level is one SKU's stock.
type Level struct {
	SKU   string `json:"sku"`
	Level int    `json:"level"`
}

// Stock lists stock levels.
func (c *Client) Stock(ctx context.Context) ([]Level, error) {
	var res struct {
		Stock []Level `json:"stock"`
	}
	err := c.do(ctx, http.MethodGet, "/v1/stock", nil, &res)
	return res.Stock, err
}

// CPUProfile records the service's CPU profile for the given time (the
// admin listener's /debug/pprof/profile) and writes it to w.
func (c *Client) CPUProfile(ctx context.Context, d time.Duration, w io.Writer) error {
	secs := max(1, int(d.Round(time.Second)/time.Second))
	return c.download(ctx, fmt.Sprintf("/debug/pprof/profile?seconds=%d", secs), w)
}

// AllocsProfile writes the service's allocation profile (everything
// allocated since it started) to w.
func (c *Client) AllocsProfile(ctx context.Context, w io.Writer) error {
	return c.download(ctx, "/debug/pprof/allocs", w)
}

func (c *Client) download(ctx context.Context, path string, w io.Writer) error {
	resp, err := c.send(ctx, http.MethodGet, path, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(w, resp.Body); err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	return nil
}

// Approve releases an order held for review (POST /v1/orders/{id}/approve)
// and returns its status after the action.
func (c *Client) Approve(ctx context.Context, id string) (string, error) {
	return c.act(ctx, id, "approve", "")
}

// Refund refunds an order (POST /v1/orders/{id}/refund) and returns its
// status after the action.
func (c *Client) Refund(ctx context.Context, id, reason string) (string, error) {
	return c.act(ctx, id, "refund", reason)
}

// act takes an operator action on an order; one the order's state refuses
// is an error carrying the API's 409 and what happened before.
func (c *Client) act(ctx context.Context, id, action, reason string) (string, error) {
	body, err := json.Marshal(struct {
		Reason string `json:"reason,omitempty"`
	}{reason})
	if err != nil {
		return "", fmt.Errorf("encode reason: %w", err)
	}
	var res struct {
		Order struct {
			Status string `json:"status"`
		} `json:"order"`
	}
	err = c.do(ctx, http.MethodPost, "/v1/orders/"+url.PathEscape(id)+"/"+action, bytes.NewReader(body), &res)
	return res.Order.Status, err
}

func (c *Client) do(ctx context.Context, method, path string, body io.Reader, out any) error {
	resp, err := c.send(ctx, method, path, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("read answer: %w", err)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("decode answer: %w", err)
	}
	return nil
}

// send makes an authorized request and turns an error status into an
// error that carries the API's code and message.
func (c *Client) send(ctx context.Context, method, path string, body io.Reader) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(c.BaseURL, "/")+path, body)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	if c.Actor != "" {
		req.Header.Set("X-Cardflow-Actor", c.Actor)
	}
	hc := outbound.Guard(c.HTTP)
	if hc == nil {
		hc = defaultHTTP
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode < 300 {
		return resp, nil
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var eb struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(data, &eb) == nil && eb.Error.Code != "" {
		return nil, fmt.Errorf("%s %s: %d %s: %s", method, path, resp.StatusCode, eb.Error.Code, eb.Error.Message)
	}
	return nil, fmt.Errorf("%s %s: %s", method, path, resp.Status)
}

// StorefrontBalance is one storefront of GET /v1/storefronts; a docking
// shop's balance and credit limit are amounts like "950.00".
type StorefrontBalance struct {
	ID          string `json:"id"`
	Protocol    string `json:"protocol"`
	Balance     string `json:"balance"`
	CreditLimit string `json:"credit_limit"`
}

// Storefronts lists every configured storefront with its balance.
func (c *Client) Storefronts(ctx context.Context) ([]StorefrontBalance, error) {
	var res struct {
		Storefronts []StorefrontBalance `json:"storefronts"`
	}
	err := c.do(ctx, http.MethodGet, "/v1/storefronts", nil, &res)
	return res.Storefronts, err
}

// AdjustBalance tops a docking shop's balance up by amount ("500.00"; a
// negative amount debits) and returns the new balance.
func (c *Client) AdjustBalance(ctx context.Context, id, amount, reason string) (string, error) {
	body, err := json.Marshal(map[string]string{"amount": amount, "reason": reason})
	if err != nil {
		return "", err
	}
	var res struct {
		Balance string `json:"balance"`
	}
	err = c.do(ctx, http.MethodPost, "/v1/storefronts/"+url.PathEscape(id)+"/balance", bytes.NewReader(body), &res)
	return res.Balance, err
}

// Claim is an after-sale claim as the admin API answers it: the same
// CLAIM object (docs/api.md) the storefront API answers.
type Claim = storefront.Claim

// ResolveClaim resolves an after-sale claim (POST /v1/claims/{id}/resolve)
// by action "reissue", "refund" or "reject", with an optional note. One
// resolved already is an error carrying the API's 409, which names who
// resolved it.
func (c *Client) ResolveClaim(ctx context.Context, id, action, note string) (Claim, error) {
	body, err := json.Marshal(map[string]string{"action": action, "note": note})
	if err != nil {
		return Claim{}, fmt.Errorf("encode resolution: %w", err)
	}
	var res struct {
		Claim Claim `json:"claim"`
	}
	err = c.do(ctx, http.MethodPost, "/v1/claims/"+url.PathEscape(id)+"/resolve", bytes.NewReader(body), &res)
	return res.Claim, err
}

// Claims lists claims in a status: "open" (oldest first), "reissued",
// "refunded", "rejected" or "all" (newest first).
func (c *Client) Claims(ctx context.Context, status string) ([]Claim, error) {
	var res struct {
		Claims []Claim `json:"claims"`
	}
	err := c.do(ctx, http.MethodGet, "/v1/claims?status="+url.QueryEscape(status), nil, &res)
	return res.Claims, err
}
